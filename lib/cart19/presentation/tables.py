"""The paper's tables, laid out from claim-shaped values (Zhang et al. 2020, Tables 1-5).

Every function takes a frame with an ``id`` column and the numeric fields of claims.csv (n, N,
percent, mean, dispersion, median, min, max, hr, ci_low, ci_high, p, p_cmp) - either the published
record or :func:`cart19.comparison.reproduce.reproduce_all`'s output - and returns the table in the paper's
layout. The same function renders both, so the published and reproduced tables line up cell by cell.
"""
from __future__ import annotations

import re
from typing import Sequence

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
    """P in the compact style of the layout frames: '.052', '<.001', '1' (the book's tables use
    :func:`cart19.presentation.journal.fmt_p`, which spaces the bound: '< .001')."""
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


# ------------------------------------------------------------------------------------------
# The paper's Tables 1-5 in the book's style (cart19.presentation.journal), published beside
# reproduced. Each takes a chapter-like object with ``published`` and ``reproduced`` (claim-shaped
# frames) and ``card`` (their scorecard rows): a reproduced cell whose claim the scorecard calls
# "differs" is marked, and every reproduced cell carries its claim's status and basis as a tooltip.
# Published cells are the paper's printed text (claims.csv ``printed``), so they keep its digits.
# ------------------------------------------------------------------------------------------
from cart19.presentation import journal as J  # noqa: E402

PUBLISHED, REPRODUCED = "Published", "Reproduced"
_SIG_NOTE = "*P < .05. †P < .01 (on the reproduced values too)."
_CELL_NOTE = ("A reproduced value in <span style=\"{}\">red</span> differs from the paper (the "
              "scorecard's verdict); the pointer on a reproduced value shows its status and basis."
              ).format(J.DIFFERS_STYLE)


class _Values:
    """Published text, reproduced numbers and scorecard rows of one chapter, by claim id."""

    def __init__(self, ch):
        self.pub = ch.published.set_index("id")
        self.rep = ch.reproduced.set_index("id") if "id" in ch.reproduced.columns else ch.reproduced
        self.card = ch.card.set_index("id")

    def printed(self, cid: str, part: int | None = None) -> str:
        if cid not in self.pub.index:
            return ""
        text = str(self.pub.at[cid, "printed"] or "")
        if part is not None:
            bits = [b.strip() for b in text.split("|")]
            text = bits[part] if part < len(bits) else ""
        return J.esc(text)

    def field(self, cid: str, name: str, which: str = "rep"):
        frame = self.rep if which == "rep" else self.pub
        if cid not in frame.index or name not in frame.columns:
            return None
        v = frame.at[cid, name]
        return None if J._missing(v) else v

    def status(self, cid: str) -> tuple[str, str]:
        if cid not in self.card.index:
            return "", ""
        r = self.card.loc[cid]
        return str(r.get("status", "")), str(r.get("basis", ""))

    def reproduced(self, cid: str, text: str) -> str:
        """A reproduced cell: marked if its claim differs, with status and basis as tooltip."""
        status, basis = self.status(cid)
        body = J.esc(text)
        if not status:
            return body
        return J.tip(J.mark(body, status == "differs"), f"{status}; basis: {basis}; claim {cid}")


def _decimals(text: str) -> int:
    """Decimals of the first number in ``text`` ("27.12" -> 2, ".837" -> 3, "14" -> 0)."""
    m = re.search(r"\d*\.(\d+)|\d+", text or "")
    return len(m.group(1)) if m and m.group(1) else 0


def _p_rep(v: _Values, cid: str) -> str:
    """A reproduced P at the precision the paper prints that P (like for like), with the
    paper's significance marks."""
    p = v.field(cid, "p")
    if p is None:
        return ""
    printed = re.sub(r"[^0-9.]", "", v.printed(cid).split("|")[-1])
    decimals = max(_decimals(printed), 2) if printed and "<" not in v.printed(cid) else 3
    text = J.fmt_p(p, decimals=decimals)
    return text + ("†" if p < 0.01 else "*" if p < 0.05 else "")


def _count_rep(v: _Values, cid: str, decimals: int = 1) -> str:
    return J.fmt_count(v.field(cid, "n"), v.field(cid, "N"), v.field(cid, "percent"), decimals)


def _median_rep(v: _Values, cid: str) -> str:
    med = v.field(cid, "median")
    if med is None:
        return ""
    lo, hi = v.field(cid, "min"), v.field(cid, "max")
    rng = f" ({J.fmt_num(lo)}-{J.fmt_num(hi)})" if lo is not None and hi is not None else ""
    return f"{J.fmt_num(med)}{rng}"


def _mean_rep(v: _Values, cid: str) -> str:
    mean, disp = v.field(cid, "mean"), v.field(cid, "dispersion")
    if mean is None:
        return ""
    printed = v.printed(cid)
    dm, dd = (printed.split("±") + [""])[:2] if "±" in printed else ("00.00", "0.000")
    return f"{J.fmt_num(mean, _decimals(dm))} ± {J.fmt_num(disp, max(_decimals(dd), 1))}"


def _side_by_side(rows: list[dict], value_cols: list[tuple[str, str]], name: str, *,
                  stub_label: str, notes=(), groups: bool = False) -> J.JournalTable:
    """rows: dicts with 'label', 'indent', 'bold', optional 'group', and for every value column key
    'pub:<key>' and 'rep:<key>' (HTML). value_cols: (key, heading)."""
    cols = {"label": [r["label"] for r in rows]}
    if groups:
        cols["group"] = [r.get("group", "") for r in rows]
    labels = {}
    for side in ("pub", "rep"):
        for key, heading in value_cols:
            cols[f"{side}:{key}"] = [r.get(f"{side}:{key}", "") for r in rows]
            labels[f"{side}:{key}"] = heading
    frame = pd.DataFrame(cols)
    spanners = [(PUBLISHED, [f"pub:{k}" for k, _ in value_cols]),
                (REPRODUCED, [f"rep:{k}" for k, _ in value_cols])]
    indent = {i: r["indent"] for i, r in enumerate(rows) if r.get("indent")}
    bold = [i for i, r in enumerate(rows) if r.get("bold")]
    data = frame.apply(lambda c: c.map(J.plain))
    data.columns = ([stub_label] + (["Group"] if groups else []) +
                    [f"{PUBLISHED}: {J.plain(h)}" for _, h in value_cols] +
                    [f"{REPRODUCED}: {J.plain(h)}" for _, h in value_cols])
    return J.table(frame, name, stub="label", groups="group" if groups else None, labels=labels,
                   spanners=spanners, align={c: "right" for c in frame.columns if ":" in c},
                   indent=indent, bold_rows=bold, notes=list(notes), stubhead=stub_label,
                   data=data)


def _sub_rows(blocks: list[dict], value_cols: list[tuple[str, str]], name: str, *,
              stub_label: str, spanners, notes=()) -> J.JournalTable:
    """Tables 3 and 4: the paper's columns, each printed row followed by the reproduced row.

    blocks: dicts with 'label', 'indent', 'bold', 'pub' and 'rep' (dicts key -> HTML)."""
    labels_col, source_col, rows, indent, bold, rep_rows = [], [], [], {}, [], []
    for b in blocks:
        for side, who in (("pub", PUBLISHED), ("rep", REPRODUCED)):
            i = len(rows)
            labels_col.append(b["label"] if side == "pub" else "")
            source_col.append(J.small(who) if side == "pub" else
                              f'<span style="font-size:11px;color:#31587a">{who}</span>')
            rows.append({k: b[side].get(k, "") for k, _ in value_cols})
            if b.get("indent"):
                indent[i] = b["indent"]
            if b.get("bold") and side == "pub":
                bold.append(i)
            if side == "rep":
                rep_rows.append(i)
    frame = pd.DataFrame(rows, columns=[k for k, _ in value_cols])
    frame.insert(0, "source", source_col)
    frame.insert(0, "label", labels_col)
    # the reproduced row in the reconstruction's colour, so each pair reads as one
    for i in rep_rows:
        for k, _ in value_cols:
            cell = frame.at[i, k]
            if cell and "cart19-differs" not in cell:
                frame.at[i, k] = f'<span style="color:#31587a">{cell}</span>'
    data = frame.apply(lambda c: c.map(J.plain))
    data["label"] = [J.plain(blocks[i // 2]["label"]) for i in range(len(data))]
    over = {c: J.plain(sp[0]) for sp in spanners if sp[1] for c in sp[1]}
    data.columns = [stub_label, "Source"] + [
        f"{over[k]}: {J.plain(h)}" if k in over else J.plain(h) for k, h in value_cols]
    labels = {k: h for k, h in value_cols}
    labels["source"] = ""
    return J.table(frame, name, stub="label", labels=labels, spanners=spanners,
                   align={k: "right" for k, _ in value_cols}, indent=indent, bold_rows=bold,
                   notes=list(notes), stubhead=stub_label, data=data)


# Table 1 in the paper's nesting: (label HTML, indent, claim id or None, style)
PAPER_TABLE1 = (
    ("Sex", 0, None, None), ("Male", 1, "table1.sex.male", "n"),
    ("Female", 1, "table1.sex.female", "n"),
    ("Age, y", 0, "table1.age", "median"), ("2-14", 1, "table1.age.2_14", "n"),
    ("15-61", 1, "table1.age.15_61", "n"),
    ("Pretreatment disease burden", 0, None, None),
    ("Percent blasts in BM by morphology", 1, "table1.bm_blasts", "median"),
    ("&lt;5", 2, "table1.bm_blasts.lt5", "n"), ("5 to ≤20", 2, "table1.bm_blasts.5_20", "n"),
    ("&gt;20", 2, "table1.bm_blasts.gt20", "n"),
    ("With EMD", 0, None, None), ("CNS leukemia", 1, "table1.emd.cns", "n"),
    ("CNS-2", 2, "table1.emd.cns2", "n"), ("CNS-3", 2, "table1.emd.cns3", "n"),
    ("Testicular leukemia", 1, "table1.emd.testicular", "n"),
    ("Diffuse EMD", 1, "table1.emd.diffuse", "n"),
    ("Single-site EMD", 1, "table1.emd.single_site", "n"),
    ("Complex cytogenetics", 0, "table1.complex_karyotype", "n"),
    ("With fusion gene", 0, None, None), ("<i>BCR-ABL</i>", 1, "table1.fusion.bcr_abl", "n"),
    ("<i>TEL-AML1</i>", 1, "table1.fusion.tel_aml1", "n"),
    ("<i>E2A-PBX1</i>", 1, "table1.fusion.e2a_pbx1", "n"),
    ("<i>E2A-HLF</i>", 1, "table1.fusion.e2a_hlf", "n"),
    ("With gene mutation", 0, None, None), ("<i>IKZF1</i>", 1, "table1.mutation.ikzf1", "n"),
    ("<i>TP53</i>", 1, "table1.mutation.tp53", "n"), ("Other", 1, "table1.mutation.other", "n"),
    ("Disease status", 0, None, None),
    ("Refractory (median of 3 cycles of chemotherapy)", 1, "table1.status.refractory", "n"),
    ("Relapsed (median of 10 cycles of chemotherapy)", 1, "table1.status.relapsed", "n"),
    ("Transplant status", 0, None, None),
    ("Posttransplant relapse", 1, "table1.transplant.post", "n"),
    ("No previous transplant", 1, "table1.transplant.none", "n"),
)


def paper_table1(ch) -> J.JournalTable:
    """The paper's Table 1 (patient characteristics, N = 110), published beside reproduced."""
    v = _Values(ch)
    rows = []
    for label, ind, cid, style in PAPER_TABLE1:
        r = {"label": label, "indent": ind, "bold": ind == 0}
        if cid and style == "n":
            r["pub:n"] = v.printed(cid)
            r["rep:n"] = v.reproduced(cid, J.fmt_count(v.field(cid, "n")))
        elif cid:
            r["pub:med"] = v.printed(cid)
            r["rep:med"] = v.reproduced(cid, _median_rep(v, cid))
        rows.append(r)
    return _side_by_side(rows, [("n", "No."), ("med", "Median (range)")], "table1",
                         stub_label="Characteristic", notes=[_CELL_NOTE])


PAPER_TABLE2 = (
    ("Time to relapse before CAR T-cell therapy, mo", 0, None),
    ("≥18", 1, "table2.relapse_time.ge18"), ("&lt;18", 1, "table2.relapse_time.lt18"),
    ("Best response before CAR T-cell therapy", 0, None),
    ("CR1", 1, "table2.best_response.cr1"), ("CR2", 1, "table2.best_response.cr2"),
    ("NR", 1, "table2.best_response.nr"),
    ("Response after CAR T-cell therapy", 0, None),
    ("CR1", 1, "table2.response_after.cr1"), ("CR2", 1, "table2.response_after.cr2"),
    ("NR", 1, "table2.response_after.nr"),
)


def paper_table2(ch) -> J.JournalTable:
    """The paper's Table 2 (the 71 paediatric patients), published beside reproduced."""
    v = _Values(ch)
    rows = []
    for label, ind, cid in PAPER_TABLE2:
        r = {"label": label, "indent": ind, "bold": ind == 0}
        if cid:
            r["pub:n"], r["pub:pct"] = v.printed(cid, 0), v.printed(cid, 1)
            n, N = v.field(cid, "n"), v.field(cid, "N")
            with_n = "/" in v.printed(cid, 0)
            r["rep:n"] = v.reproduced(cid, f"{int(n)}/{int(N)}" if with_n and N else
                                      J.fmt_count(n))
            r["rep:pct"] = v.reproduced(cid, J.fmt_num(v.field(cid, "percent"),
                                                       _decimals(v.printed(cid, 1))))
        rows.append(r)
    return _side_by_side(rows, [("n", "n/N"), ("pct", "%")], "table2",
                         stub_label="Characteristic",
                         notes=["CR2, second complete remission; NR, no response.", _CELL_NOTE])


#: Table 3 factors with the row labels as printed (HTML)
PAPER_TABLE3 = (
    ("Age, y", "age", (("2-14", "2_14"), ("15-61", "15_61"))),
    ("Sex", "sex", (("Female", "female"), ("Male", "male"))),
    ("<i>BCR-ABL</i> fusion gene", "bcr_abl", (("<i>BCR-ABL</i><sup>+</sup>", "pos"),
                                                ("<i>BCR-ABL</i><sup>−</sup>", "neg"))),
    ("<i>TP53</i> mutation", "tp53", (("<i>TP53</i><sup>+</sup>", "pos"),
                                      ("<i>TP53</i><sup>−</sup>", "neg"))),
    ("EMD", "emd", (("Without", "without"), ("With", "with"))),
    ("BM blasts ≤20% vs &gt;20%, %", "blasts20", (("≤20", "le20"), ("&gt;20", "gt20"))),
    ("BM blasts &lt;5% vs ≥5%, %", "blasts5", (("&lt;5", "lt5"), ("≥5", "ge5"))),
    ("Costimulatory domain", "costim", (("CD28", "cd28"), ("4-1BB", "41bb"))),
    ("With or without previous transplant", "prior_hsct",
     (("No previous transplant", "none"), ("Posttransplant relapse", "post"))),
    ("CAR T-cell dose", "dose", (("&lt;3 × 10<sup>5</sup> cells per kg", "lt3"),
                                 ("≥3 × 10<sup>5</sup> cells per kg", "ge3"))),
)
T3_OUTCOMES = (("cr", "CR rate"), ("crs34", "Grade 3 to 4 CRS"),
               ("neuro23", "Grade 2 to 3 neurotoxicity"), ("carpeak", "CAR T-cell peak"))


def paper_table3_ids(claims: pd.DataFrame) -> list[str]:
    """Every claim id of the paper's Table 3 (for ``chapter.load(..., ids=...)``)."""
    return [i for i in claims["id"] if str(i).startswith("table3.")]


def paper_table3(ch) -> J.JournalTable:
    """The paper's Table 3 whole: CR rate, grade 3-4 CRS, grade 2-3 neurotoxicity and CAR T-cell
    peak by subgroup, each printed row followed by the reproduced one."""
    v = _Values(ch)
    cols = []
    for o, _ in T3_OUTCOMES:
        cols += [(f"{o}", "% ± SD" if o == "carpeak" else "n/N (%)"), (f"{o}.p", "<i>P</i>")]
    blocks = []
    for title, factor, levels in PAPER_TABLE3:
        pub = {f"{o}.p": v.printed(f"table3.{o}.{factor}.p") for o, _ in T3_OUTCOMES}
        rep = {f"{o}.p": v.reproduced(f"table3.{o}.{factor}.p", _p_rep(v, f"table3.{o}.{factor}.p"))
               for o, _ in T3_OUTCOMES}
        blocks.append({"label": title, "indent": 0, "bold": True, "pub": pub, "rep": rep})
        for label, lv in levels:
            pub, rep = {}, {}
            for o, _ in T3_OUTCOMES:
                cid = f"table3.{o}.{factor}.{lv}"
                pub[o] = v.printed(cid)
                rep[o] = v.reproduced(cid, _mean_rep(v, cid) if o == "carpeak" else
                                      _count_rep(v, cid))
            blocks.append({"label": label, "indent": 1, "pub": pub, "rep": rep})
    spanners = [(h, [o, f"{o}.p"]) for o, h in T3_OUTCOMES]
    notes = ["SD, standard deviation (as printed; the audit finds that the values behave as "
             "standard errors). Row labels as printed: the audit reads the <i>TP53</i> and "
             "previous-transplant labels as swapped.", _SIG_NOTE, _CELL_NOTE]
    return _sub_rows(blocks, cols, "table3", stub_label="Subgroup", spanners=spanners, notes=notes)


PAPER_TABLE4 = (
    ("Sex", "sex", (("Male", "male"), ("Female", "female"))),
    ("Age, y", "age", (("2-14", "2_14"), ("15-61", "15_61"))),
    ("Disease status", "status", (("Relapsed after HSCT", "post_hsct"),
                                  ("Relapsed after chemotherapy", "relapsed_chemo"),
                                  ("Primary refractory", "refractory"))),
    ("Complex karyotypes", "complex_karyotype", (("Yes", "yes"), ("No", "no"),
                                                 ("Unknown", "unknown"))),
    ("Fusion gene", "bcr_abl", (("<i>BCR-ABL1</i><sup>+</sup>", "pos"),
                                ("<i>BCR-ABL1</i><sup>−</sup>", "neg"))),
    ("<i>TP53</i> mutation", "tp53", (("<i>TP53</i><sup>+</sup>", "pos"),
                                      ("<i>TP53</i><sup>−</sup>", "neg"))),
    ("BM blasts, %", "bm_blasts", (("≤20", "le20"), ("&gt;20", "gt20"))),
    ("Response after CAR T-cell therapy", "response", (("CR", "cr"), ("CRi", "cri"))),
    ("CRS grade", "crs", (("0-2", "0_2"), ("3-4", "3_4"))),
    ("MRD status before allo-HSCT", "mrd_pre_hsct", (("MRD-negative", "neg"),
                                                     ("MRD-positive", "pos"))),
    ("Disease status before allo-HSCT", "status_pre_hsct", (("CR1", "cr1"), ("CR2", "cr2"))),
    ("Donor type", "donor", (("Matched unrelated", "mud"), ("HLA-identical sibling", "sibling"),
                             ("Haploidentical", "haplo"))),
    ("HSCT conditioning regimen", "conditioning", (("Total body irradiation-based", "tbi"),
                                                   ("Busulfan-based", "bu"))),
)


def paper_table4(ch) -> J.JournalTable:
    """The paper's Table 4: responders bridged into allo-HSCT (Yes) or not (No), each printed row
    followed by the reproduced one."""
    v = _Values(ch)
    cols = [("hsct.n", "No."), ("hsct.pct", "%"), ("no_hsct.n", "No."), ("no_hsct.pct", "%"),
            ("p", "<i>P</i>")]
    blocks = []
    for title, char, levels in PAPER_TABLE4:
        pcid = f"table4.{char}.p"
        p_on_level = char == "crs"  # the paper prints this P on the "0-2" row
        head = {"label": title, "indent": 0, "bold": True, "pub": {}, "rep": {}}
        if pcid in v.pub.index and not p_on_level:
            head["pub"]["p"] = v.printed(pcid)
            head["rep"]["p"] = v.reproduced(pcid, _p_rep(v, pcid))
        blocks.append(head)
        for k, (label, lv) in enumerate(levels):
            pub, rep = {}, {}
            for arm in ("hsct", "no_hsct"):
                cid = f"table4.{char}.{lv}.{arm}"
                if cid not in v.pub.index:
                    continue
                pub[f"{arm}.n"], pub[f"{arm}.pct"] = v.printed(cid, 0), v.printed(cid, 1)
                rep[f"{arm}.n"] = v.reproduced(cid, J.fmt_count(v.field(cid, "n")))
                rep[f"{arm}.pct"] = v.reproduced(cid, J.fmt_num(v.field(cid, "percent"),
                                                                _decimals(v.printed(cid, 1))))
            if p_on_level and k == 0 and pcid in v.pub.index:
                pub["p"], rep["p"] = v.printed(pcid), v.reproduced(pcid, _p_rep(v, pcid))
            blocks.append({"label": label, "indent": 1, "pub": pub, "rep": rep})
    cid = "table4.hsct_day"
    blocks.append({"label": "Median days to bridge into allo-HSCT (range)", "indent": 0,
                   "bold": True,
                   "pub": {"hsct.n": v.printed(cid, 0), "hsct.pct": v.printed(cid, 1)},
                   "rep": {"hsct.n": v.reproduced(cid, J.fmt_num(v.field(cid, "median"))),
                           "hsct.pct": v.reproduced(cid, "({}-{})".format(
                               J.fmt_num(v.field(cid, "min")), J.fmt_num(v.field(cid, "max"))))}})
    spanners = [("Yes", ["hsct.n", "hsct.pct"]), ("No", ["no_hsct.n", "no_hsct.pct"]),
                ("CAR T-cell therapy followed by allo-HSCT", None, ["Yes", "No"])]
    notes = ["Among the 102 patients in CR or CRi on day 30.", _SIG_NOTE, _CELL_NOTE]
    return _sub_rows(blocks, cols, "table4", stub_label="Characteristic", spanners=spanners,
                     notes=notes)


def _label_text(text: str) -> str:
    """A design label as the book prints it (<= -> ≤, >= -> ≥, a minus sign)."""
    return J.esc(text).replace("&lt;=", "≤").replace("&gt;=", "≥")


def paper_table5(ch, note: str | None = None) -> J.JournalTable:
    """The paper's Table 5 (multivariable Cox models of OS and LFS), published beside reproduced,
    every row in one direction: the hazard of the higher-risk level relative to the other
    (``data/published/design.yml``: ``exposed`` vs ``reference``, as
    :func:`cart19.comparison.hazard.table5_display` reads it). Where the paper prints a row the
    other way round, both the printed and the reproduced values are turned (1/HR, 1/upper,
    1/lower) and a lettered footnote quotes the printed row. ``note``: how the reproduced hazard
    ratios were fitted (a footnote)."""
    from cart19.comparison.hazard import turn
    from cart19.record import design

    t5 = design.load().table5
    v = _Values(ch)
    rows, turned_notes = [], []
    for ep, name in (("os", "OS"), ("lfs", "LFS")):
        for factor, cov in t5.covariates.items():
            cid = f"table5.{ep}.{factor}"
            flip = t5.printed_hr_of(factor, ep) != "exposed"
            label = f"{_label_text(cov.exposed.label)} vs {_label_text(cov.reference.label)}"
            pub = [v.field(cid, f, "pub") for f in ("hr", "ci_low", "ci_high")]
            rep = [v.field(cid, f) for f in ("hr", "ci_low", "ci_high")]
            dec = max(_decimals(v.printed(cid, 0)), 2)
            if flip:
                pub = list(turn(*map(float, pub))) if None not in pub else pub
                rep = list(turn(*map(float, rep))) if None not in rep else rep
                letter = "abcdefghijklmnop"[len(turned_notes)]
                turned_notes.append(
                    f"<sup>{letter}</sup> Printed as '{J.esc(cov.labels[ep])}' "
                    f"{J.esc(v.printed(cid, 0))} ({J.esc(v.printed(cid, 1))}), the hazard of "
                    f"{_label_text(cov.reference.label)} relative to "
                    f"{_label_text(cov.exposed.label)}: turned here.")
                label += f"<sup>{letter}</sup>"

            def hr_text(x, lo, hi):
                if x is None or lo is None:
                    return "", ""
                return J.fmt_num(x, dec), f"{J.fmt_num(lo, dec)}-{J.fmt_num(hi, dec)}"

            pub_hr, pub_ci = hr_text(*pub)
            rep_hr, rep_ci = hr_text(*rep)
            rows.append({"label": label, "group": name,
                         "pub:hr": J.esc(pub_hr), "pub:ci": J.esc(pub_ci),
                         "pub:p": v.printed(cid, 2),
                         "rep:hr": v.reproduced(cid, rep_hr), "rep:ci": v.reproduced(cid, rep_ci),
                         "rep:p": v.reproduced(cid, _p_rep(v, cid))})
    notes = ["Every row is the hazard of the first-named level relative to the second (the "
             "higher-risk level first); the scorecard compares each row in the orientation the "
             "paper prints it, on the log scale."] + turned_notes
    notes += [n for n in (note, _SIG_NOTE, _CELL_NOTE) if n]
    return _side_by_side(rows, [("hr", "HR"), ("ci", "95% CI"), ("p", "<i>P</i>")], "table5",
                         stub_label="Subgroup", notes=notes, groups=True)


# ------------------------------------------------------------------------------------------
# Claim-by-claim comparisons ("every number of this chapter")
# ------------------------------------------------------------------------------------------
#: how a claim's source is named in the book
SOURCE_NAMES = {"title": "Title", "abstract": "Abstract", "key_points": "Key points",
                "intro": "Introduction", "methods": "Methods", "results": "Results",
                "discussion": "Discussion", **{f"table{k}": f"Table {k}" for k in range(1, 6)},
                **{f"fig{k}": f"Figure {k} caption" for k in range(1, 8)}}
COMPARISON_COLUMNS = ["id", "quantity", "published", "reproduced", "difference", "status", "basis",
                      "printed", "field", "note"]


def comparison(card: pd.DataFrame, chapter: str | None = None, prefix: str | None = None,
               exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The scorecard rows of one chapter (or id prefix), comparison columns first.

    Values stay numbers (missing: NaN); :func:`comparison_table` formats them. Columns the
    scorecard may add beyond :data:`COMPARISON_COLUMNS` are kept, after them. ``exclude``: id
    prefixes to leave out (shown in a table of their own elsewhere on the page).
    """
    sel = card
    if chapter is not None:
        sel = sel[sel["chapter"] == chapter]
    if prefix is not None:
        sel = sel[sel["id"].str.startswith(prefix)]
    for pre in exclude:
        sel = sel[~sel["id"].str.startswith(pre)]
    cols = [c for c in COMPARISON_COLUMNS if c in sel.columns]
    cols += [c for c in sel.columns if c not in cols]
    out = sel[cols].reset_index(drop=True)
    out.attrs["cart19"] = "comparison"
    return out


def _unit(row) -> str:
    """The unit a difference is written in."""
    field_, kind = row.get("field"), row.get("kind")
    unit = row.get("unit")
    if field_ in ("percent",) or kind in ("percent", "km_landmark"):
        return "pp"
    if isinstance(unit, str) and unit.strip() and field_ not in ("n", "N", "p"):
        u = unit.strip()
        return {"days": "d", "years": "y", "months": "mo", "% of PB lymphocytes": "pp"}.get(u, u)
    q = str(row.get("quantity", "")).lower()
    if field_ in ("mean", "median", "min", "max") and "%" in q:
        return "pp"
    if field_ in ("median", "min", "max", "value") and "day" in q:
        return "d"
    return ""


def _value_text(x, row) -> str:
    field_ = row.get("field")
    if J._missing(x):
        return ""
    if field_ == "p":
        printed = str(row.get("printed") or "")
        bound = "<" if "<" in printed else ">" if ">" in printed else "="
        return J.fmt_p(x, bound if row.get("published") == x else "=")
    if field_ in ("n", "N"):
        return J.fmt_num(x, 0)
    if field_ == "percent":
        return J.fmt_num(x, 1) + "%"
    if field_ in ("hr", "ci_low", "ci_high"):
        return J.fmt_num(x, sig=3)
    return J.fmt_num(x, sig=4) if abs(float(x)) < 1e5 else J.fmt_num(x, 0)


def _difference_text(row) -> str:
    """Signed difference with its unit; hazard ratios as a ratio (like for like, log scale);
    none for P values, which are compared at the printed precision."""
    field_ = row.get("field")
    pub, rep = row.get("published"), row.get("reproduced")
    if J._missing(pub) or J._missing(rep):
        return ""
    if field_ == "p":
        return ""
    if field_ in ("hr", "ci_low", "ci_high"):
        if float(pub) <= 0 or float(rep) <= 0:
            return ""
        return f"×{J.fmt_num(float(rep) / float(pub), sig=3)}"
    diff = row.get("difference")
    diff = float(rep) - float(pub) if J._missing(diff) else float(diff)
    if field_ in ("n", "N"):
        return J.fmt_signed(diff, decimals=0)
    unit = _unit(row)
    if unit == "pp":
        return J.fmt_signed(diff, unit, decimals=1 if abs(diff) >= 0.1 else 2)
    return J.fmt_signed(diff, unit, sig=3 if abs(diff) >= 0.01 else 2)


_STATUS_STYLE = {"differs": J.DIFFERS_STYLE, "not reproducible": J.MUTED_STYLE}


def comparison_table(frame: pd.DataFrame, name: str = "comparison",
                     groups: bool = True) -> J.JournalTable:
    """A :func:`comparison` frame as a journal table: what the number is, the paper's and our
    value, the signed difference with its unit, status (with its note) and basis; the claim id in
    a last, small column. Rows grouped by the part of the paper that prints them."""
    rows = []
    for _, r in frame.iterrows():
        r = r.to_dict()
        status = str(r.get("status", ""))
        note = r.get("note")
        status_html = J.esc(status)
        if status in _STATUS_STYLE:
            status_html = f'<span style="{_STATUS_STYLE[status]}">{status_html}</span>'
        if not J._missing(note):
            status_html += "<br>" + J.small(J.esc(note))
        quantity = str(r.get("quantity", ""))  # claims.csv writes gene names in <i>...</i>
        printed = r.get("printed")
        rows.append({
            "group": SOURCE_NAMES.get(str(r.get("source", "")), str(r.get("source", "")).title())
            if "source" in r else "",
            "quantity": quantity if "<" in quantity else J.esc(quantity),
            "published": J.tip(J.esc(_value_text(r.get("published"), r)),
                               f"printed: {printed}" if not J._missing(printed) else None),
            "reproduced": J.mark(J.esc(_value_text(r.get("reproduced"), r)), status == "differs"),
            "difference": J.esc(_difference_text(r)).replace(" ", "\u00a0"),
            "status": status_html,
            "basis": J.esc(r.get("basis", "")),
            "id": J.small(J.esc(r.get("id", "")).replace(".", ".<wbr>")),
        })
    cells = pd.DataFrame(rows, columns=["group", "quantity", "published", "reproduced",
                                        "difference", "status", "basis", "id"])
    use_groups = groups and "source" in frame.columns and cells["group"].nunique() > 0
    if not use_groups:
        cells = cells.drop(columns="group")
    data = frame.drop(columns=[c for c in frame.columns if c.startswith("_")]).copy()
    labels = {"quantity": "Quantity", "published": "Paper", "reproduced": "Reproduced",
              "difference": "Difference", "status": "Status", "basis": "Basis",
              "id": '<span style="font-size:11px">Claim</span>'}
    notes = ["Paper: the value printed (the pointer shows the paper's words). Difference: "
             "reproduced minus published, in percentage points (pp) for percentages; hazard "
             "ratios as the ratio reproduced / published; P values are compared at the printed "
             "precision. Basis: <i>fitted</i>, a target of the reconstruction; <i>derived</i>, "
             "follows from fitted counts; <i>emergent</i>, not targeted."]
    return J.table(cells, name, groups="group" if use_groups else None, labels=labels,
                   align={"published": "right", "reproduced": "right", "difference": "right"},
                   notes=notes, wide=True, data=data)


def _auto_name(frame: pd.DataFrame) -> str:
    """A file/HTML name for a comparison table: 'numbers-<common id prefix or chapter>', so two
    comparison tables of one page get distinct names."""
    ids = [str(i) for i in frame.get("id", [])]
    parts = [i.split(".") for i in ids]
    common = []
    for bits in zip(*parts) if parts else ():
        if len(set(bits)) != 1:
            break
        common.append(bits[0])
    if common:
        return "numbers-" + "-".join(common)
    chapters = sorted({str(c) for c in frame.get("chapter", []) if str(c)})
    return "numbers-" + ("-".join(chapters) if len(chapters) == 1 else "all")


def show(df: pd.DataFrame, name: str | None = None, **kw):
    """A table as the book shows it: a comparison frame (from :func:`comparison`) as
    :func:`comparison_table`, any other frame through :func:`journal.frame_table`."""
    if df.attrs.get("cart19") == "comparison":
        return comparison_table(df, name or _auto_name(df), **kw)
    return J.frame_table(df, name or "table", **kw)


def summary_table(summary: pd.DataFrame, by: str, name: str) -> J.JournalTable:
    """A status-count summary (:func:`cart19.comparison.scorecard.summarise`) as a journal table,
    parts of the paper by their printed names, in the paper's order; a total row at the foot."""
    frame = summary.reset_index()
    if by == "source":
        order = {k: i for i, k in enumerate(SOURCE_NAMES)}
        frame = frame.sort_values(by, key=lambda s: s.map(lambda x: order.get(x, len(order))),
                                  kind="mergesort")
        frame[by] = frame[by].map(lambda x: SOURCE_NAMES.get(x, str(x)))
    total = frame.drop(columns=[by]).sum(numeric_only=True)
    frame = pd.concat([frame, pd.DataFrame([{by: "All", **total.to_dict()}])], ignore_index=True)
    labels = {c: str(c)[:1].upper() + str(c)[1:] for c in frame.columns}
    labels[by] = {"source": "Part of the paper", "basis": "Basis"}.get(by, by)
    out = J.frame_table(frame, name, labels=labels, wide=False,
                        formats={c: "{:.0f}" for c in frame.columns if c != by})
    out.gt = out.gt.tab_style(_bold_text(), _body_rows([len(frame) - 1]))
    return out


def _bold_text():
    from great_tables import style
    return style.text(weight="bold")


def _body_rows(rows):
    from great_tables import loc
    return loc.body(rows=list(rows))


#: the audit's candidate tests, as a reader names them (keys of cart19.record.audit.tests_used)
TEST_NAMES = {"pearson": "Pearson chi-square", "yates": "Chi-square with Yates' correction",
              "fisher": "Fisher's exact test", "likelihood_ratio": "Likelihood-ratio (G) test",
              "linear_by_linear": "Linear-by-linear association",
              "se_student": "Student's t (dispersion read as SE)",
              "se_welch": "Welch's t (dispersion read as SE)"}


def audit_tests_table(used: pd.DataFrame) -> J.JournalTable:
    """:func:`cart19.record.audit.tests_used` turned so that it fits a page: one row per candidate
    test, and for each group of printed P values (the table spanners) how many that test gives
    ("gives it") and how many only that test gives ("only it")."""
    groups = list(used["table"])
    tests = [t for t in TEST_NAMES if f"by {t}" in used.columns or f"only {t}" in used.columns]
    rows = [{"test": "Printed P values", **{f"{g}|by": int(r["p_values"]) for g, (_, r) in
                                             zip(groups, used.iterrows())}},
            {"test": "reproduced by some test", **{f"{g}|by": int(r["reproduced"]) for g, (_, r)
                                                    in zip(groups, used.iterrows())}}]
    for t in tests:
        row = {"test": TEST_NAMES[t]}
        for g, (_, r) in zip(groups, used.iterrows()):
            row[f"{g}|by"] = int(r.get(f"by {t}", 0) or 0)
            row[f"{g}|only"] = int(r.get(f"only {t}", 0) or 0)
        rows.append(row)
    frame = pd.DataFrame(rows)
    cells = frame.apply(lambda c: c.map(lambda v: "" if J._missing(v) else J.esc(
        v if isinstance(v, str) else f"{int(v)}")))
    labels = {c: ("gives it" if c.endswith("|by") else "only it") for c in frame.columns if "|" in c}
    spanners = [(J.esc(g), [c for c in (f"{g}|by", f"{g}|only") if c in frame.columns])
                for g in groups]
    data = frame.rename(columns=lambda c: c.replace("|by", ": gives it").replace("|only", ": only it"))
    return J.table(cells, "audit-tests", stub="test", labels=labels, spanners=spanners,
                   align={c: "right" for c in frame.columns if "|" in c}, bold_rows=[0, 1],
                   stubhead="Test", data=data,
                   notes=["A test <i>gives</i> a printed P when it reproduces it at the printed "
                          "precision; <i>only it</i>: no other candidate does."])


_AUDIT_TEST_KEYS = {"Pearson": "pearson", "Yates": "yates", "likelihood-ratio": "likelihood_ratio",
                    "Fisher": "fisher", "linear-by-linear": "linear_by_linear",
                    "sd student": "sd_student", "sd welch": "sd_welch",
                    "se student": "se_student", "se welch": "se_welch"}
_AUDIT_TEST_HEAD = {"pearson": "Pearson", "yates": "Yates", "likelihood_ratio": "G",
                    "fisher": "Fisher", "linear_by_linear": "Linear", "sd_student": "Student",
                    "sd_welch": "Welch", "se_student": "Student", "se_welch": "Welch"}


def audit_p_table(pvals: pd.DataFrame, name: str) -> J.JournalTable:
    """The audit's recomputed P values (checks of one category) with one column per candidate
    test: the printed comparison, the printed P, each test's P (in bold where it gives the
    printed value) and the verdict."""
    rows, data, keys = [], [], []
    for r in pvals.to_dict("records"):
        printed = str(r["published"])
        m = re.match(r"^(.*?)[:,] P = (.+)$", printed)
        comparison, p_printed = (m.group(1), m.group(2)) if m else (printed, "")
        values = {}
        for part in str(r["recomputed"]).split("; "):
            label, _, value = part.rpartition(" ")
            key = _AUDIT_TEST_KEYS.get(label, label)
            values[key] = float(value)
            if key not in keys:
                keys.append(key)
        gives = set(str(r.get("tests") or "").split(","))
        row = {"comparison": J.esc(comparison), "printed": J.esc(p_printed.replace("P ", "")),
               "verdict": J.mark(J.esc(r["verdict"]), r["verdict"] in ("inconsistent",
                                                                        "not reproduced")),
               "check": J._id_cell(r["check_id"])}
        for key, value in values.items():
            text = J.esc(J.fmt_num(value, 4) if value >= 0.0001 else f"{value:.1e}")
            row[key] = f"<b>{text}</b>" if key in gives else text
        rows.append(row)
        data.append({"comparison": comparison, "printed_p": p_printed, **values,
                     "tests_giving_it": r.get("tests"), "verdict": r["verdict"],
                     "check_id": r["check_id"]})
    cols = ["comparison", "printed"] + keys + ["verdict", "check"]
    cells = pd.DataFrame(rows).reindex(columns=cols).fillna("")
    labels = {"comparison": "Comparison", "printed": "Printed <i>P</i>", "verdict": "Verdict",
              "check": '<span style="font-size:11px">Check</span>',
              **{k: _AUDIT_TEST_HEAD.get(k, k) for k in keys}}
    spanners = []
    if any(k.startswith("sd_") for k in keys):
        spanners = [("Dispersion read as SD", [k for k in keys if k.startswith("sd_")]),
                    ("Dispersion read as SE", [k for k in keys if k.startswith("se_")])]
    else:
        spanners = [("<i>P</i> by each candidate test", keys)]
    notes = ["In bold: the tests that give the printed <i>P</i> at its printed precision. "
             + ("G: likelihood-ratio test; Linear: linear-by-linear association; Yates: "
                "chi-square with continuity correction." if "pearson" in keys else
                "Student's and Welch's t-tests from the printed means, dispersions and group "
                "sizes.")]
    return J.table(cells, name, labels=labels, spanners=spanners,
                   align={k: "right" for k in keys + ["printed"]}, notes=notes,
                   data=pd.DataFrame(data), wide=True)
