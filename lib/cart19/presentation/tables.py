"""The paper's tables, laid out from claim-shaped values (Zhang et al. 2020, Tables 1-5).

Every function takes a frame with an ``id`` column and the numeric fields of claims.csv (n, N,
percent, mean, dispersion, median, min, max, hr, ci_low, ci_high, p, p_cmp) - either the published
record or :func:`cart19.comparison.reproduce.reproduce_all`'s output - and returns the table in the paper's
layout. The same function renders both, so the published and reproduced tables line up cell by cell.
"""
from __future__ import annotations

import numpy as np
import pandas as pd



def _get(values: pd.DataFrame, cid: str) -> pd.Series | None:
    idx = values.set_index("id") if "id" in values.columns else values
    return idx.loc[cid] if cid in idx.index else None


def _nan(x) -> bool:
    if isinstance(x, str):
        return not x
    return x is None or bool(pd.isna(x))


def _num(x, decimals=1) -> str:
    return "" if _nan(x) else f"{float(x):.{decimals}f}"


def _int(x) -> str:
    return "" if _nan(x) else f"{int(round(float(x)))}"


def fmt_p(p, cmp="=") -> str:
    """P in the journal's style: '.052', '<.001', '1'."""
    if _nan(p):
        return ""
    p = float(p)
    if isinstance(cmp, str) and cmp == "<":
        return f"<{p:.4f}".replace("0.", ".").rstrip("0")
    if p < 0.001:
        return "<.001"
    if p >= 0.9995:
        return "1"
    return f"{p:.3f}".replace("0.", ".", 1)


def cell(values: pd.DataFrame, cid: str, style: str) -> str:
    """Format one claim-shaped value. style: n, n/N (%), median (range), mean ± se, hr (ci), p."""
    r = _get(values, cid)
    if r is None:
        return ""
    if style == "n":
        return _int(r.get("n"))
    if style == "n (%)":
        return f"{_int(r.get('n'))} ({_num(r.get('percent'), 0)})" if not _nan(r.get("n")) else ""
    if style == "n/N (%)":
        if _nan(r.get("n")):
            return ""
        return f"{_int(r.get('n'))}/{_int(r.get('N'))} ({_num(r.get('percent'), 1)})"
    if style == "median (range)":
        if _nan(r.get("median")):
            return ""
        return f"{float(r['median']):g} ({float(r['min']):g}-{float(r['max']):g})"
    if style == "mean ± se":
        if _nan(r.get("mean")):
            return ""
        return f"{float(r['mean']):.2f} ± {float(r['dispersion']):.2f}"
    if style == "hr (ci)":
        if _nan(r.get("hr")):
            return ""
        return f"{float(r['hr']):.3f} ({float(r['ci_low']):.3f}-{float(r['ci_high']):.3f})"
    if style == "p":
        return fmt_p(r.get("p"), r.get("p_cmp", "="))
    raise ValueError(f"unknown cell style {style!r}")


# ------------------------------------------------------------------------------------------
TABLE1_ROWS = (
    ("Sex, male", "table1.sex.male", "n"), ("Sex, female", "table1.sex.female", "n"),
    ("Age, y", "table1.age", "median (range)"), ("Age 2-14", "table1.age.2_14", "n"),
    ("Age 15-61", "table1.age.15_61", "n"),
    ("BM blasts, %", "table1.bm_blasts", "median (range)"),
    ("BM blasts <5", "table1.bm_blasts.lt5", "n"), ("BM blasts 5 to <=20", "table1.bm_blasts.5_20", "n"),
    ("BM blasts >20", "table1.bm_blasts.gt20", "n"),
    ("CNS leukemia", "table1.emd.cns", "n"), ("CNS-2", "table1.emd.cns2", "n"),
    ("CNS-3", "table1.emd.cns3", "n"), ("Testicular leukemia", "table1.emd.testicular", "n"),
    ("Diffuse EMD", "table1.emd.diffuse", "n"), ("Single-site EMD", "table1.emd.single_site", "n"),
    ("Complex cytogenetics", "table1.complex_karyotype", "n"),
    ("BCR-ABL", "table1.fusion.bcr_abl", "n"), ("TEL-AML1", "table1.fusion.tel_aml1", "n"),
    ("E2A-PBX1", "table1.fusion.e2a_pbx1", "n"), ("E2A-HLF", "table1.fusion.e2a_hlf", "n"),
    ("IKZF1", "table1.mutation.ikzf1", "n"), ("TP53", "table1.mutation.tp53", "n"),
    ("Other mutation", "table1.mutation.other", "n"),
    ("Refractory", "table1.status.refractory", "n"), ("Relapsed", "table1.status.relapsed", "n"),
    ("Posttransplant relapse", "table1.transplant.post", "n"),
    ("No previous transplant", "table1.transplant.none", "n"),
)

TABLE2_ROWS = (
    ("Time to relapse >=18 mo", "table2.relapse_time.ge18", "n (%)"),
    ("Time to relapse <18 mo", "table2.relapse_time.lt18", "n (%)"),
    ("Best response before: CR1", "table2.best_response.cr1", "n (%)"),
    ("Best response before: CR2", "table2.best_response.cr2", "n (%)"),
    ("Best response before: NR", "table2.best_response.nr", "n (%)"),
    ("CR after CAR T: CR1 group", "table2.response_after.cr1", "n/N (%)"),
    ("CR after CAR T: CR2 group", "table2.response_after.cr2", "n/N (%)"),
    ("CR after CAR T: NR group", "table2.response_after.nr", "n/N (%)"),
)

T3_ROWS = (
    ("Age, y", "age", (("2-14", "2_14"), ("15-61", "15_61"))),
    ("Sex", "sex", (("Female", "female"), ("Male", "male"))),
    ("BCR-ABL", "bcr_abl", (("BCR-ABL+", "pos"), ("BCR-ABL-", "neg"))),
    ("TP53 mutation (labels as printed)", "tp53", (("TP53+", "pos"), ("TP53-", "neg"))),
    ("EMD", "emd", (("Without", "without"), ("With", "with"))),
    ("BM blasts <=20% vs >20%", "blasts20", (("<=20", "le20"), (">20", "gt20"))),
    ("BM blasts <5% vs >=5%", "blasts5", (("<5", "lt5"), (">=5", "ge5"))),
    ("Costimulatory domain", "costim", (("CD28", "cd28"), ("4-1BB", "41bb"))),
    ("Previous transplant (labels as printed)", "prior_hsct",
     (("No previous transplant", "none"), ("Posttransplant relapse", "post"))),
    ("CAR T-cell dose", "dose", (("<3 x 10^5/kg", "lt3"), (">=3 x 10^5/kg", "ge3"))),
)


def _layout(values: pd.DataFrame, rows) -> pd.DataFrame:
    return pd.DataFrame([{"Characteristic": label, "Value": cell(values, cid, style)}
                         for label, cid, style in rows])


def table1(values: pd.DataFrame) -> pd.DataFrame:
    """Table 1: patient characteristics (N = 110)."""
    return _layout(values, TABLE1_ROWS)


def table2(values: pd.DataFrame) -> pd.DataFrame:
    """Table 2: the 71 paediatric patients."""
    return _layout(values, TABLE2_ROWS)


def table3(values: pd.DataFrame) -> pd.DataFrame:
    """Table 3: CR, grade 3-4 CRS, grade 2-3 neurotoxicity and CAR T-cell peak by subgroup."""
    out = []
    for title, factor, levels in T3_ROWS:
        row = {"Subgroup": title}
        for o, name in (("cr", "CR"), ("crs34", "CRS 3-4"), ("neuro23", "Neurotox 2-3"),
                        ("carpeak", "CAR peak")):
            row[name] = ""
            row[f"{name} P"] = cell(values, f"table3.{o}.{factor}.p", "p")
        out.append(row)
        for label, lv in levels:
            row = {"Subgroup": f"    {label}"}
            for o, name, style in (("cr", "CR", "n/N (%)"), ("crs34", "CRS 3-4", "n/N (%)"),
                                   ("neuro23", "Neurotox 2-3", "n/N (%)"),
                                   ("carpeak", "CAR peak", "mean ± se")):
                row[name] = cell(values, f"table3.{o}.{factor}.{lv}", style)
                row[f"{name} P"] = ""
            out.append(row)
    return pd.DataFrame(out)


T4_ROWS = (
    ("Sex", "sex", (("Male", "male"), ("Female", "female"))),
    ("Age, y", "age", (("2-14", "2_14"), ("15-61", "15_61"))),
    ("Disease status", "status", (("Relapsed after HSCT", "post_hsct"),
                                  ("Relapsed after chemotherapy", "relapsed_chemo"),
                                  ("Primary refractory", "refractory"))),
    ("Complex karyotype", "complex_karyotype", (("Yes", "yes"), ("No", "no"), ("Unknown", "unknown"))),
    ("BCR-ABL1", "bcr_abl", (("+", "pos"), ("-", "neg"))),
    ("TP53 mutation", "tp53", (("+", "pos"), ("-", "neg"))),
    ("BM blasts, %", "bm_blasts", (("<=20", "le20"), (">20", "gt20"))),
    ("Response after CAR T", "response", (("CR", "cr"), ("CRi", "cri"))),
    ("CRS grade", "crs", (("0-2", "0_2"), ("3-4", "3_4"))),
    ("MRD before allo-HSCT", "mrd_pre_hsct", (("Negative", "neg"), ("Positive", "pos"))),
    ("Disease status before allo-HSCT", "status_pre_hsct", (("CR1", "cr1"), ("CR2", "cr2"))),
    ("Donor", "donor", (("Matched unrelated", "mud"), ("HLA-identical sibling", "sibling"),
                        ("Haploidentical", "haplo"))),
    ("Conditioning", "conditioning", (("TBI-based", "tbi"), ("Busulfan-based", "bu"))),
)


def table4(values: pd.DataFrame) -> pd.DataFrame:
    """Table 4: patients bridged into allo-HSCT (n = 75) vs not (n = 27), among the 102 in CR."""
    out = []
    for title, ch, levels in T4_ROWS:
        out.append({"Characteristic": title, "HSCT: n (%)": "", "No HSCT: n (%)": "",
                    "P": cell(values, f"table4.{ch}.p", "p")})
        for label, lv in levels:
            out.append({"Characteristic": f"    {label}",
                        "HSCT: n (%)": cell(values, f"table4.{ch}.{lv}.hsct", "n (%)"),
                        "No HSCT: n (%)": cell(values, f"table4.{ch}.{lv}.no_hsct", "n (%)"),
                        "P": ""})
    out.append({"Characteristic": "Days to allo-HSCT, median (range)",
                "HSCT: n (%)": cell(values, "table4.hsct_day", "median (range)"),
                "No HSCT: n (%)": "", "P": ""})
    return pd.DataFrame(out)


T5_ROWS = (
    ("CD28 vs 4-1BB", "costim"), ("EMD (with vs without; LFS: without vs with)", "emd"),
    ("No previous transplant vs posttransplant relapse", "prior_hsct"),
    ("BM blasts <=20% vs >20%", "blasts20"), ("TP53+ vs TP53-", "tp53"),
    ("Bridged into allo-HSCT vs CAR T alone", "hsct"),
)


def table5(values: pd.DataFrame) -> pd.DataFrame:
    """Table 5: multivariable Cox models of OS and LFS."""
    out = []
    for ep in ("os", "lfs"):
        for label, cov in T5_ROWS:
            out.append({"Endpoint": ep.upper(), "Covariate": label,
                        "HR (95% CI)": cell(values, f"table5.{ep}.{cov}", "hr (ci)"),
                        "P": cell(values, f"table5.{ep}.{cov}", "p")})
    return pd.DataFrame(out)


def side_by_side(published: pd.DataFrame, reproduced: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Interleave a published and a reproduced layout of the same table, column by column."""
    out = published[keys].copy()
    for col in [c for c in published.columns if c not in keys]:
        out[f"{col} (published)"] = published[col]
        out[f"{col} (reproduced)"] = reproduced[col]
    return out


def comparison(card: pd.DataFrame, chapter: str | None = None, prefix: str | None = None
               ) -> pd.DataFrame:
    """The scorecard rows of one chapter (or id prefix): published, reproduced, difference, basis."""
    sel = card
    if chapter is not None:
        sel = sel[sel["chapter"] == chapter]
    if prefix is not None:
        sel = sel[sel["id"].str.startswith(prefix)]
    # the comparison first (it must be visible without scrolling a wide table), then the
    # printed wording and the field it was read into
    cols = ["id", "quantity", "published", "reproduced", "difference", "status", "basis",
            "printed", "field", "note"]
    out = sel[cols].copy()
    for c in ("published", "reproduced", "difference"):
        out[c] = out[c].map(lambda x: "" if x is None or (isinstance(x, float) and np.isnan(x))
                            else f"{x:.4g}")
    return out.reset_index(drop=True)


def show(df: pd.DataFrame):
    """A table as the book shows it: no row index, blanks for missing cells."""
    return df.style.hide(axis="index").format(na_rep="")
