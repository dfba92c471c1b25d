"""Automated consistency audit of the numbers published in Zhang et al., Blood Adv 2020.

``run_audit(claims)`` takes the published record (``data/published/claims.csv``, read by
:func:`cart19.record.claims.load_claims`) and returns one row per check:

========== ============================================================================
column     meaning
========== ============================================================================
check_id   stable id (pinned in ``tests/fixtures/audit_verdicts.json``)
category   one of :data:`CATEGORIES`
claims     the claim ids involved, ``;``-separated
published  what the paper prints (compact)
recomputed what we compute from other printed numbers
verdict    one of :data:`VERDICTS`
explanation plain English; for an inconsistency, what the likely reading is
========== ============================================================================

Verdicts: ``consistent`` (reproduced at the printed precision), ``minor rounding`` (off by
at most one unit of the last printed digit, or reproduced only by truncation / within the
rounding of the inputs), ``inconsistent`` (two printed numbers contradict each other),
``not reproduced`` (a P value that none of the candidate tests gives), ``not checkable``
(the claims needed are missing or the check has no determinate answer).

The checks serve Tables 1-5, the captions of Figures 2-7, the Abstract, Results and
Discussion. ``adopted_readings()`` loads ``data/published/readings.csv``: which reading the
reconstruction adopts wherever the paper contradicts itself.

CLI: ``python -m cart19 audit [--json] [--claims PATH] [--readings PATH]``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cart19 import paths
from cart19.stats import printed as S
from cart19.errors import InputError
from cart19.record import readings

VERDICTS = ("consistent", "minor rounding", "inconsistent", "not reproduced", "not checkable")

CATEGORIES = {
    "percent": "percent rounding of n/N (%)",
    "sums": "subgroups summing to totals",
    "same_count": "the same count across sources",
    "bounds": "bounds, medians and derived counts",
    "labels": "table labels",
    "p_contingency": "P values of 2x2 / r x c comparisons",
    "p_ttest": "CAR T-cell peak t-tests",
    "carpeak": "CAR T-cell peak summary statistics",
    "hr": "hazard ratios and confidence intervals",
    "text_vs_source": "the same quantity in text, tables and captions",
    "markers": "significance markers",
}

COLUMNS = ["check_id", "category", "claims", "published", "recomputed", "verdict", "explanation"]

TEST_NAMES = {"pearson": "Pearson", "yates": "Yates", "likelihood_ratio": "likelihood-ratio",
              "fisher": "Fisher", "linear_by_linear": "linear-by-linear"}

#: Table 3 factors and their two levels as printed (ID_CONVENTIONS)
T3_FACTORS = {
    "age": ("2_14", "15_61"), "sex": ("female", "male"), "bcr_abl": ("pos", "neg"),
    "tp53": ("pos", "neg"), "emd": ("without", "with"), "blasts20": ("le20", "gt20"),
    "blasts5": ("lt5", "ge5"), "costim": ("cd28", "41bb"), "prior_hsct": ("none", "post"),
    "dose": ("lt3", "ge3"),
}
T3_OUTCOMES = {"cr": "CR", "crs34": "grade 3-4 CRS", "neuro23": "grade 2-3 neurotoxicity"}
#: overall totals of the Table 3 outcomes, from the text
T3_TOTALS = {"cr": "results.cr_day30", "crs34": "results.crs.grade34",
             "neuro23": "results.neuro.grade23"}

#: Table 4 characteristics and levels (ID_CONVENTIONS); the first 9 have both arms
T4_CHARS = {
    "sex": ("male", "female"), "age": ("2_14", "15_61"),
    "status": ("post_hsct", "relapsed_chemo", "refractory"),
    "complex_karyotype": ("yes", "no", "unknown"), "bcr_abl": ("pos", "neg"),
    "tp53": ("pos", "neg"), "bm_blasts": ("le20", "gt20"), "response": ("cr", "cri"),
    "crs": ("0_2", "3_4"),
    "mrd_pre_hsct": ("neg", "pos"), "status_pre_hsct": ("cr1", "cr2"),
    "donor": ("mud", "sibling", "haplo"), "conditioning": ("tbi", "bu"),
}
T4_BOTH_ARMS = ("sex", "age", "status", "complex_karyotype", "bcr_abl", "tp53", "bm_blasts",
                "response", "crs")

#: Kaplan-Meier figures: (group printed first, group printed second, landmark)
FIG_GROUPS = {3: ("hsct", "no_hsct", "1y"), 4: ("cr", "cri", "1y"), 5: ("mrd_neg", "mrd_pos", "1y"),
              6: ("tp53_pos", "tp53_neg", "6m"), 7: ("post_hsct", "no_prior_hsct", "1y")}
GROUP_WORDS = {"hsct": "bridged to allo-HSCT", "no_hsct": "CAR T alone", "cr": "CR",
               "cri": "CRi", "mrd_neg": "MRD-negative CR", "mrd_pos": "MRD-positive CR",
               "tp53_pos": "TP53-mutated", "tp53_neg": "TP53 wild type",
               "post_hsct": "post-transplant relapse", "no_prior_hsct": "no previous transplant"}

_NUM = re.compile(r"(?<![\d.])(\d+\.\d+|\.\d+|\d+)(?!\d)")


# =========================================================================== helpers

class _Claims:
    """Lookup of the published record by id."""

    def __init__(self, claims: pd.DataFrame):
        missing = [c for c in ("id", "printed", "n", "N", "percent", "p", "p_cmp", "hr",
                               "ci_low", "ci_high") if c not in claims.columns]
        if missing:
            raise InputError(paths.CLAIMS_CSV, f"claims table lacks column(s) {missing}",
                             column=missing[0])
        self.df = claims.set_index("id", drop=False)

    def has(self, *ids) -> bool:
        return all(i in self.df.index for i in ids)

    def missing(self, ids) -> list[str]:
        return [i for i in ids if i not in self.df.index]

    def row(self, cid: str) -> pd.Series:
        return self.df.loc[cid]

    def val(self, cid: str, fld: str):
        v = self.df.at[cid, fld]
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        return v

    def int(self, cid: str, fld: str = "n") -> int | None:
        v = self.val(cid, fld)
        return None if v is None else int(v)

    def text(self, cid: str, fld: str) -> str | None:
        """The printed token of a numeric field ("0.830", "7.0", ".015"), for its decimals."""
        v = self.val(cid, fld)
        if v is None:
            return None
        for tok in _NUM.findall(str(self.df.at[cid, "printed"])):
            if abs(float(tok) - float(v)) <= 1e-9 * max(1.0, abs(float(v))):
                return tok
        return _fmt_num(float(v))

    def p_text(self, cid: str) -> tuple[str, str] | None:
        """(printed P token, comparator) of a P claim or of the P of an HR row."""
        if self.val(cid, "p") is None:
            return None
        return self.text(cid, "p"), self.val(cid, "p_cmp") or "="


def _fmt_num(x: float) -> str:
    s = repr(float(x))
    return s[:-2] if s.endswith(".0") else s


def fp(p: float) -> str:
    """A P value for explanations: 4 decimals, or scientific below .0001."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.1e}" if p < 1e-4 else f"{p:.4f}"


@dataclass
class _Out:
    rows: list = field(default_factory=list)

    def add(self, check_id, category, claims, published, recomputed, verdict, explanation):
        assert verdict in VERDICTS, verdict
        assert category in CATEGORIES, category
        self.rows.append(dict(check_id=check_id, category=category,
                              claims=";".join(dict.fromkeys(claims)),
                              published=str(published), recomputed=str(recomputed),
                              verdict=verdict, explanation=explanation))

    def missing(self, check_id, category, ids, c: _Claims):
        gone = c.missing(ids)
        self.add(check_id, category, [i for i in ids], "", "", "not checkable",
                 "needed claim(s) not in the record: " + ", ".join(gone))


def _need(out: _Out, c: _Claims, check_id: str, category: str, ids) -> bool:
    if c.has(*ids):
        return True
    out.missing(check_id, category, list(ids), c)
    return False


def _simplest_fraction(printed: str, near: int = 30) -> str | None:
    """The n/d with d closest to ``near`` (smaller first) whose percentage rounds to the text.

    Used to say what a wrong printed percentage would fit (e.g. 76% of 27 is not 19/27 but
    19/25).
    """
    dec = S.decimals_of(printed)
    target = S.to_decimal(printed)
    order = sorted(range(1, 2 * near + 1), key=lambda d: (abs(d - near), d > near))
    for d in order:
        for n in range(0, d + 1):
            if S.round_decimal(S.exact_percent(n, d), dec) == target:
                return f"{n}/{d}"
    return None


# =========================================================================== percentages

def _percent_checks(c: _Claims, out: _Out) -> None:
    """Every printed n/N (%) in tables and text: does n/N round to the percent?"""
    df = c.df
    rows = df[df["n"].notna() & df["N"].notna() & df["percent"].notna()]
    for cid, r in rows.iterrows():
        n, N = int(r["n"]), int(r["N"])
        ptxt = c.text(cid, "percent")
        res = S.percent_rounding(n, N, ptxt)
        exact = f"{res['exact']:.3f}%"
        if res["verdict"] == "consistent":
            expl = f"{n}/{N} = {exact} rounds to the printed {ptxt}%."
        elif res["verdict"] == "minor rounding":
            how = ("only truncation (not rounding) gives it" if res["modes"] == ["truncate"]
                   else f"it is {res['units_off']:.2f} units of the last digit away")
            expl = (f"{n}/{N} = {exact} should print as "
                    f"{S.round_decimal(S.exact_percent(n, N), res['decimals'])}; {how}. "
                    "Reading: the count is right, the percentage slightly mis-rounded.")
        else:
            frac = _simplest_fraction(ptxt, N)
            expl = (f"{n}/{N} = {exact}, not {ptxt}%"
                    + (f" (the printed value is what {frac} gives)" if frac else "")
                    + ". Reading: the counts are kept, the printed percentage is a misprint.")
        out.add(f"pct.{cid}", "percent", [cid], f"{n}/{N} ({ptxt}%)", exact, res["verdict"],
                expl)


# =========================================================================== sums

def _sum_check(c, out, check_id, parts, total, what, total_value=None, fld_parts="n",
               fld_total="n", reading=""):
    ids = list(parts) + ([total] if total else [])
    if not _need(out, c, check_id, "sums", ids):
        return
    vals = [c.int(p, fld_parts) for p in parts]
    if any(v is None for v in vals):
        out.add(check_id, "sums", ids, "", "", "not checkable", "a part has no count")
        return
    tot = total_value if total is None else c.int(total, fld_total)
    s = sum(vals)
    pub = " + ".join(map(str, vals)) + f" vs {tot}"
    if s == tot:
        out.add(check_id, "sums", ids, pub, str(s), "consistent",
                f"{what}: the parts add up to {tot}.")
    else:
        out.add(check_id, "sums", ids, pub, str(s), "inconsistent",
                f"{what}: the parts add up to {s}, not {tot}. {reading}".strip())


def _bm_reading(c: _Claims) -> str:
    """Table 1's BM-blast 5-20% row from the other margins and Table 3's splits."""
    ids = ["table1.n", "table1.bm_blasts.lt5", "table1.bm_blasts.gt20", "table1.bm_blasts.5_20",
           "table3.cr.blasts20.le20", "table3.cr.blasts5.ge5"]
    if not c.has(*ids):
        return ""
    n, lt5, gt20, mid = (c.int(i) for i in ids[:4])
    le20, ge5 = c.int(ids[4], "N"), c.int(ids[5], "N")
    a, b, d = n - lt5 - gt20, le20 - lt5, ge5 - gt20
    if a == b == d != mid:
        return (f"Reading: the 5-20% row should be {a}, not {mid} ({n} - {lt5} - {gt20} = {a}; "
                f"Table 3 gives <=20%: {le20} - {lt5} = {b} and >=5%: {ge5} - {gt20} = {d}).")
    return ""


def _table3_n_check(c, out, cid, f, levels, ids) -> None:
    """Table 3 group sizes: equal across the three columns, summing to N."""
    if _need(out, c, cid, "sums", ids + ["table3.n"]):
        Ns = {lv: {c.int(f"table3.{o}.{f}.{lv}", "N") for o in T3_OUTCOMES} for lv in levels}
        if any(None in v for v in Ns.values()):
            out.add(cid, "sums", ids + ["table3.n"], "", "", "not checkable",
                    "a group size is not in the record")
            return
        same = all(len(v) == 1 for v in Ns.values())
        tot = sum(min(v) for v in Ns.values())
        ok = same and tot == c.int("table3.n")
        out.add(cid, "sums", ids + ["table3.n"],
                " + ".join(str(sorted(v)[0]) for v in Ns.values()) + f" vs {c.int('table3.n')}",
                str(tot), "consistent" if ok else "inconsistent",
                f"Table 3 {f}: the group sizes are the same in the three columns and add up "
                f"to {tot}" if ok else f"Table 3 {f}: group sizes {Ns} do not add up to "
                f"{c.int('table3.n')} or differ between columns.")


def _sum_checks(c: _Claims, out: _Out) -> None:
    # ---- Table 1 margins
    for key, parts, reading in [
        ("sex", ["table1.sex.male", "table1.sex.female"], ""),
        ("age", ["table1.age.2_14", "table1.age.15_61"], ""),
        ("bm_blasts", ["table1.bm_blasts.lt5", "table1.bm_blasts.5_20", "table1.bm_blasts.gt20"],
         _bm_reading(c)),
        ("status", ["table1.status.refractory", "table1.status.relapsed"], ""),
        ("transplant", ["table1.transplant.post", "table1.transplant.none"], ""),
    ]:
        _sum_check(c, out, f"sum.table1.{key}", parts, "table1.n", f"Table 1 {key}",
                   reading=reading)
    # ---- Table 2
    _sum_check(c, out, "sum.table2.relapse_time",
               ["table2.relapse_time.ge18", "table2.relapse_time.lt18"], "table2.n",
               "Table 2 time to relapse")
    _sum_check(c, out, "sum.table2.best_response",
               [f"table2.best_response.{k}" for k in ("cr1", "cr2", "nr")], "table2.n",
               "Table 2 best response before CAR T")
    _sum_check(c, out, "sum.table2.response_after",
               [f"table2.response_after.{k}" for k in ("cr1", "cr2", "nr")], "table3.cr.age.2_14",
               "Table 2 responders after CAR T vs Table 3 CR among ages 2-14")
    for k in ("cr1", "cr2", "nr"):
        a, b = f"table2.response_after.{k}", f"table2.best_response.{k}"
        if _need(out, c, f"sum.table2.denominator.{k}", "sums", [a, b]):
            na, nb = c.int(a, "N"), c.int(b)
            out.add(f"sum.table2.denominator.{k}", "sums", [a, b], f"N={na} vs {nb}", str(nb),
                    "consistent" if na == nb else "inconsistent",
                    f"Table 2: the denominator of the response after CAR T ({na}) "
                    f"{'equals' if na == nb else 'differs from'} the group size before ({nb}).")
    # ---- Table 3: N's per factor sum to 110 and match across columns; outcome counts
    for f, levels in T3_FACTORS.items():
        ids = [f"table3.{o}.{f}.{lv}" for o in T3_OUTCOMES for lv in levels]
        cid = f"sum.table3.n.{f}"
        _table3_n_check(c, out, cid, f, levels, ids)
        for o in T3_OUTCOMES:
            _sum_check(c, out, f"sum.table3.{o}.{f}", [f"table3.{o}.{f}.{lv}" for lv in levels],
                       T3_TOTALS[o], f"Table 3 {T3_OUTCOMES[o]} by {f} vs the total in the text")
    # ---- Table 4 arms sum to 75 / 27
    for ch, levels in T4_CHARS.items():
        arms = ("hsct", "no_hsct") if ch in T4_BOTH_ARMS else ("hsct",)
        for arm in arms:
            total = "results.hsct.n" if arm == "hsct" else "results.no_hsct.n"
            reading = ""
            if ch == "complex_karyotype" and arm == "no_hsct" and c.has(
                    total, *[f"table4.{ch}.{lv}.{arm}" for lv in levels]):
                t = c.int(total)
                y, no = c.int(f"table4.{ch}.yes.{arm}"), c.int(f"table4.{ch}.no.{arm}")
                u = t - y - no
                reading = (f"Reading: the 'Unknown' cell of the not-bridged arm should be "
                           f"{t} - {y} - {no} = {u} ({S.round_decimal(S.exact_percent(u, t), 0)}%)"
                           f", not the printed {c.int(f'table4.{ch}.unknown.{arm}')} "
                           f"({c.text(f'table4.{ch}.unknown.{arm}', 'percent')}%).")
            if ch == "response" and c.has("fig4.cri"):
                k, N = c.int("fig4.cri"), c.int("fig4.cri", "N")
                reading = (f"Reading: Figure 4 gives {k} CRi of {N} "
                           f"({100 * k / N:.1f}%, the Results' '60%'); Table 4's CR/CRi split "
                           "is off by one patient.")
            _sum_check(c, out, f"sum.table4.{ch}.{arm}",
                       [f"table4.{ch}.{lv}.{arm}" for lv in levels], total,
                       f"Table 4 {ch}, {'bridged' if arm == 'hsct' else 'not bridged'} arm",
                       reading=reading if reading and True else "")
    # ---- text sums
    text_sums = [
        ("relapse_cd19", ["results.relapse.cd19_neg", "results.relapse.cd19_pos"],
         "results.relapse.total", "relapses by CD19 status"),
        ("relapse_arms", ["results.hsct.relapse", "results.no_hsct.relapse"],
         "results.relapse.total", "relapses in the bridged and not-bridged arms"),
        ("hsct_relapse_site", ["results.hsct.relapse.bm", "results.hsct.relapse.emd"],
         "results.hsct.relapse", "relapses after HSCT by site"),
        ("hsct_relapse_mrd", ["results.hsct.relapse.mrd_neg", "results.hsct.relapse.mrd_pos"],
         "results.hsct.relapse", "relapses after HSCT by MRD status"),
        ("hsct_mrd", ["results.hsct.mrd_neg", "results.hsct.mrd_pos"], "results.hsct.n",
         "bridged patients by MRD status"),
        ("hsct_deaths", ["results.hsct.deaths.sepsis", "results.hsct.deaths.gvhd",
                         "results.hsct.deaths.relapse"], "results.hsct.deaths",
         "deaths after HSCT by cause"),
        ("tp53_deaths", ["results.tp53.deaths.gvhd", "results.tp53.deaths.infection",
                         "results.tp53.deaths.relapse"], "results.tp53.deaths",
         "deaths among TP53-mutated patients by cause"),
        ("no_hsct_prior", ["results.no_hsct.prior_hsct.early_relapse",
                           "results.no_hsct.prior_hsct.early_death",
                           "results.no_hsct.prior_hsct.other"], "results.no_hsct.prior_hsct.n",
         "reasons for no HSCT, previously transplanted"),
        ("no_hsct_no_prior", ["results.no_hsct.no_prior_hsct.early_relapse",
                              "results.no_hsct.no_prior_hsct.short_followup",
                              "results.no_hsct.no_prior_hsct.other"],
         "results.no_hsct.no_prior_hsct.n", "reasons for no HSCT, not previously transplanted"),
        ("no_hsct_groups", ["results.no_hsct.prior_hsct.n", "results.no_hsct.no_prior_hsct.n"],
         "results.no_hsct.n", "not-bridged patients with and without a previous transplant"),
        ("arms", ["results.hsct.n", "results.no_hsct.n"], "results.cr_day30",
         "bridged + not-bridged vs CR patients"),
        ("mrd", ["results.mrd_neg_cr", "results.mrd_pos_cr"], "results.cr_day30",
         "MRD-negative + MRD-positive CR vs CR"),
        ("crs_grades", ["results.crs.grade12", "results.crs.grade34"], "results.crs.any",
         "CRS grade 1-2 + grade 3-4 vs any CRS"),
        ("crs34", ["results.crs.grade3", "results.crs.grade4"], "results.crs.grade34",
         "grade 3 + grade 4 CRS"),
        ("neuro", ["results.neuro.grade23", "results.neuro.grade1"], "results.neuro.any",
         "neurotoxicity grade 2-3 + grade 1"),
        ("bridging", ["methods.bridging.low", "methods.bridging.intensive"], "methods.bridging",
         "bridging chemotherapy by intensity"),
        ("pbmc_post", ["methods.pbmc.post_hsct.autologous", "methods.pbmc.post_hsct.donor"],
         "table1.transplant.post", "PBMC source after transplant vs Table 1"),
        ("pbmc_all", ["methods.pbmc.no_prior_hsct", "table1.transplant.post"], "table1.n",
         "PBMC sources vs infused"),
        ("bcr_abl_type", ["results.bcr_abl.p190", "results.bcr_abl.p210"], "results.bcr_abl.n",
         "BCR-ABL P190 + P210"),
        ("no_hsct_cd19", ["results.no_hsct.relapse.cd19_pos", "results.no_hsct.relapse.cd19_neg"],
         "results.no_hsct.relapse", "CD19+ and CD19- relapses without HSCT"),
        ("cns_trio", ["results.cns.neuro.cns3", "results.cns.neuro.cns1"], "results.cns.neuro",
         "neurotoxicity among CNS-leukemia patients by CNS status"),
    ]
    for key, parts, total, what in text_sums:
        _sum_check(c, out, f"sum.text.{key}", parts, total, what)
    # enrolment by costimulatory domain: 21 + 21 + 68
    ids = ["methods.costim.initial", "methods.costim.later_41bb", "results.enrolled",
           "results.infused", "table3.cr.costim.cd28", "table3.cr.costim.41bb"]
    if _need(out, c, "sum.text.costim_enrolment", "sums", ids):
        a, b = c.int("methods.costim.initial"), c.int("methods.costim.later_41bb")
        enr, inf = c.int("results.enrolled"), c.int("results.infused")
        cd28, bb = c.int("table3.cr.costim.cd28", "N"), c.int("table3.cr.costim.41bb", "N")
        tot = 2 * a + b
        ok_inf = tot == inf and a == cd28 and a + b == bb
        out.add("sum.text.costim_enrolment", "sums", ids,
                f"{a} + {a} + {b} 'enrolled' vs {enr} enrolled", str(tot),
                "inconsistent" if tot != enr else "consistent",
                f"The Methods' {a} CD28 + {a} 4-1BB + {b} later 4-1BB = {tot} patients called "
                f"'enrolled', but {enr} were enrolled and {inf} infused. "
                + (f"Reading: the counts are of infused patients - they match Table 3 "
                   f"(CD28 {cd28}, 4-1BB {bb} = {a} + {b})." if ok_inf else ""))


# =========================================================================== same counts

def _same_count(c, out, check_id, items, what, reading=""):
    """items: list of (label, [ids], field) whose summed field must be equal."""
    ids = [i for _, group, _ in items for i in group]
    if not _need(out, c, check_id, "same_count", ids):
        return
    vals = []
    for label, group, fld in items:
        v = [c.int(i, fld) for i in group]
        vals.append((label, None if any(x is None for x in v) else sum(v)))
    got = [v for _, v in vals if v is not None]
    pub = "; ".join(f"{lab} {v}" for lab, v in vals)
    if len(got) < 2:
        out.add(check_id, "same_count", ids, pub, "", "not checkable",
                f"{what}: fewer than two sources carry a value.")
        return
    if len(set(got)) == 1:
        out.add(check_id, "same_count", ids, pub, str(got[0]), "consistent",
                f"{what}: every source gives {got[0]}.")
    else:
        modes = pd.Series(got).mode()
        if len(modes) > 1:
            out.add(check_id, "same_count", ids, pub, "no majority", "inconsistent",
                    f"{what}: the sources disagree (" + ", ".join(f"{lab} {v}" for lab, v in vals)
                    + "). " + reading)
            return
        maj = modes.iloc[0]
        odd = [f"{lab} ({v})" for lab, v in vals if v != maj]
        out.add(check_id, "same_count", ids, pub, f"majority {maj}", "inconsistent",
                f"{what}: most sources give {maj}, but " + ", ".join(odd) + " differ. "
                + (reading or f"Reading: {maj}."))


def _same_count_checks(c: _Claims, out: _Out) -> None:
    n = lambda *ids: [(i, [i], "n") for i in ids]  # noqa: E731
    N = lambda *ids: [(i + " (N)", [i], "N") for i in ids]  # noqa: E731
    S_ = lambda label, ids, fld="n": [(label, list(ids), fld)]  # noqa: E731
    t4 = lambda ch, lv: S_(f"table4.{ch}.{lv} (both arms)",  # noqa: E731
                           [f"table4.{ch}.{lv}.hsct", f"table4.{ch}.{lv}.no_hsct"])
    groups = [
        ("infused", "patients infused", n("title.n_patients", "abstract.infused", "results.infused",
                                          "table1.n", "table3.n", "fig2.n_total",
                                          "results.fig2.n_total", "abstract.os.all.n",
                                          "methods.manufactured")),
        ("enrolled", "patients enrolled", n("abstract.enrolled", "results.enrolled", "methods.ld.n")
         + N("methods.bridging", "methods.manufactured")),
        ("cr", "patients in CR on day 30",
         n("results.cr_day30", "fig2.cr", "fig2.n_cr", "fig2.title.n_cr", "fig4.n_cr",
           "fig4.title.n", "fig5.title.n", "fig6.n", "fig7.n_cr", "discussion.n_cr",
           "results.fig2.n_cr")
         + N("fig3.hsct.n", "results.hsct.n", "results.relapse.total", "results.mrd_pos_cr",
             "fig4.cri", "fig5.mrd_neg")),
        ("age_2_14", "patients aged 2-14", n("table1.age.2_14", "table2.n", "results.age.2_14",
                                             "results.peds.n") + N("table3.cr.age.2_14")),
        ("age_15_61", "patients aged 15-61", n("table1.age.15_61") + N("table3.cr.age.15_61")),
        ("male", "male patients", n("table1.sex.male") + N("table3.cr.sex.male")),
        ("female", "female patients", n("table1.sex.female") + N("table3.cr.sex.female")),
        ("bcr_abl", "BCR-ABL+ patients",
         n("table1.fusion.bcr_abl", "results.bcr_abl.n", "discussion.bcr_abl.n")
         + N("table3.cr.bcr_abl.pos", "results.bcr_abl.mrd_neg",
             "results.bcr_abl.molecular_neg.d30", "results.bcr_abl.molecular_neg.d60",
             "results.bcr_abl.relapse")),
        ("bcr_abl_cml", "BCR-ABL+ from CML blast crisis",
         n("results.bcr_abl.cml_bc", "discussion.bcr_abl.cml_bc")),
        ("tp53", "TP53-mutated patients", n("table1.mutation.tp53", "results.tp53.n",
                                            "discussion.tp53.n") + N("results.tp53.cr")),
        ("emd", "patients with EMD", n("results.emd.n", "discussion.emd.n")
         + N("table3.cr.emd.with", "discussion.cns.n")),
        ("no_emd", "patients without EMD", n("results.no_emd.n") + N("table3.cr.emd.without")),
        ("cns", "patients with CNS leukemia", n("table1.emd.cns", "discussion.cns.n")
         + N("results.cns.cns3", "results.cns.neuro")),
        ("cns3", "CNS-3 patients", n("table1.emd.cns3", "results.cns.cns3", "discussion.cns.cns3")),
        ("prior_hsct", "patients relapsed after allo-HSCT",
         n("table1.transplant.post", "results.prior_hsct.n", "discussion.prior_hsct.n")
         + N("results.prior_hsct.cr", "discussion.prior_hsct.cr", "results.prior_hsct.dli",
             "methods.pbmc.post_hsct.autologous")),
        ("no_prior_hsct", "patients without previous transplant",
         n("table1.transplant.none", "methods.pbmc.no_prior_hsct")),
        ("blasts_gt20", "patients with BM blasts >20%",
         n("table1.bm_blasts.gt20", "results.blasts20.gt20.n") + N("table3.cr.blasts20.gt20")),
        ("blasts_lt5", "patients with BM blasts <5%", n("table1.bm_blasts.lt5")
         + N("table3.cr.blasts5.lt5")),
        ("blasts_le20", "patients with BM blasts <=20%",
         S_("table1 <5 + 5-20", ["table1.bm_blasts.lt5", "table1.bm_blasts.5_20"])
         + N("table3.cr.blasts20.le20")),
        ("blasts_ge5", "patients with BM blasts >=5%",
         S_("table1 5-20 + >20", ["table1.bm_blasts.5_20", "table1.bm_blasts.gt20"])
         + N("table3.cr.blasts5.ge5")),
        ("cd28", "CD28 patients", n("methods.costim.initial") + N("table3.cr.costim.cd28")),
        ("41bb", "4-1BB patients", S_("methods 21 + 68", ["methods.costim.initial",
                                                         "methods.costim.later_41bb"])
         + N("table3.cr.costim.41bb")),
        ("hsct", "patients bridged to HSCT",
         n("results.hsct.n", "fig3.hsct.n", "abstract.hsct.n")
         + N("results.hsct.relapse", "discussion.hsct.relapse", "discussion.hsct.trm")),
        ("no_hsct", "patients not bridged", n("results.no_hsct.n", "fig3.no_hsct.n",
                                              "discussion.no_hsct.n")
         + N("results.no_hsct.relapse", "discussion.no_hsct.relapse")),
        ("mrd_neg_cr", "MRD-negative CR", n("results.mrd_neg_cr", "fig5.mrd_neg")),
        ("mrd_pos_cr", "MRD-positive CR",
         n("results.mrd_pos_cr", "results.fig5.mrd_pos.n", "fig5.mrd_pos.n", "results.hsct.mrd_pos",
           "table4.mrd_pre_hsct.pos.hsct")
         + N("results.cns.mrd_pos", "results.hsct.relapse.mrd_pos")),
        ("hsct_mrd_neg", "bridged MRD-negative", n("results.hsct.mrd_neg",
                                                   "table4.mrd_pre_hsct.neg.hsct")
         + N("results.hsct.relapse.mrd_neg")),
        ("relapse", "relapses among CR patients", n("results.relapse.total")),
        ("hsct_relapse", "relapses after HSCT", n("results.hsct.relapse", "discussion.hsct.relapse")),
        ("no_hsct_relapse", "relapses without HSCT", n("results.no_hsct.relapse",
                                                       "discussion.no_hsct.relapse")),
        ("prior_hsct_cr", "CR among previously transplanted",
         n("results.prior_hsct.cr", "discussion.prior_hsct.cr") + N("results.prior_hsct.mrd_neg_cr")
         + t4("status", "post_hsct")),
        ("second_hsct", "second allo-HSCT", n("results.prior_hsct.second_hsct",
                                              "discussion.prior_hsct.second_hsct",
                                              "table4.status.post_hsct.hsct")),
        ("no_hsct_prior_hsct", "not bridged after previous HSCT",
         n("results.no_hsct.prior_hsct.n", "table4.status.post_hsct.no_hsct")),
        ("tp53_cr", "CR among TP53-mutated", n("results.tp53.cr") + N("results.tp53.relapse")
         + t4("tp53", "pos")),
        ("bcr_abl_cr", "CR among BCR-ABL+", n("table3.cr.bcr_abl.pos") + t4("bcr_abl", "pos")),
        ("bcr_abl_neg_cr", "CR among BCR-ABL-", n("table3.cr.bcr_abl.neg") + t4("bcr_abl", "neg")),
        ("male_cr", "CR among males", n("table3.cr.sex.male") + t4("sex", "male")),
        ("female_cr", "CR among females", n("table3.cr.sex.female") + t4("sex", "female")),
        ("age_2_14_cr", "CR among ages 2-14", n("table3.cr.age.2_14") + t4("age", "2_14")),
        ("age_15_61_cr", "CR among ages 15-61", n("table3.cr.age.15_61") + t4("age", "15_61")),
        ("blasts_le20_cr", "CR with BM blasts <=20%", n("table3.cr.blasts20.le20")
         + t4("bm_blasts", "le20")),
        ("blasts_gt20_cr", "CR with BM blasts >20%", n("table3.cr.blasts20.gt20")
         + t4("bm_blasts", "gt20")),
        ("cri", "CRi among CR patients", n("fig4.cri") + t4("response", "cri")),
        ("crs34", "grade 3-4 CRS", n("results.crs.grade34")),
        ("neuro23", "grade 2-3 neurotoxicity", n("results.neuro.grade23")),
        ("haplo", "haploidentical donors", n("table4.donor.haplo.hsct")),
    ]
    readings = {
        "blasts_le20": "Reading: Table 1's 5-20% row is a misprint for 24 (then 42 + 24 = 66).",
        "blasts_ge5": "Reading: Table 1's 5-20% row is a misprint for 24 (then 24 + 44 = 68).",
        "cri": ("Reading: the Figure 4 caption's count; the Results' rounded '60%' fits it "
                "(see text.pct.results.cri) and not Table 4's total (see "
                "text.pct.results.cri.table4)."),
        "enrolled": "",
    }
    for key, what, items in groups:
        if len(items) < 2:
            continue
        _same_count(c, out, f"same.{key}", items, what, readings.get(key, ""))


# =========================================================================== labels

def _label_checks(c: _Claims, out: _Out) -> None:
    for f, ref, lvl_true, lvl_other, words in [
        ("tp53", "table1.mutation.tp53", "pos", "neg", ("TP53+", "TP53-")),
        ("prior_hsct", "table1.transplant.post", "post", "none",
         ("Posttransplant relapse", "No previous transplant")),
    ]:
        a, b = f"table3.cr.{f}.{lvl_true}", f"table3.cr.{f}.{lvl_other}"
        cid = f"labels.table3.{f}"
        if not _need(out, c, cid, "labels", [a, b, ref]):
            continue
        k = c.int(ref)
        na, nb = c.int(a, "N"), c.int(b, "N")
        if na == k:
            out.add(cid, "labels", [a, b, ref], f"{words[0]} N={na}", f"Table 1: {k}",
                    "consistent", f"The row labelled {words[0]} has N = {k} as in Table 1.")
        elif nb == k:
            out.add(cid, "labels", [a, b, ref], f"{words[0]} N={na}; {words[1]} N={nb}",
                    f"Table 1: {words[0]} = {k}", "inconsistent",
                    f"Table 1 counts {k} {words[0]} patients, but in Table 3 N = {k} sits on "
                    f"the row labelled {words[1]}. Reading: the two Table 3 row labels are "
                    f"swapped (all four columns of these rows belong to the other group); the "
                    f"Results and Table 4 agree with the swapped reading.")
        else:
            out.add(cid, "labels", [a, b, ref], f"N={na}, {nb}", str(k), "inconsistent",
                    f"Neither Table 3 row matches Table 1's {k}.")
    # the swap is confirmed by the CR counts of Table 4 / Results
    for cid, t3, t4ids, what in [
        ("labels.table3.tp53.table4", "table3.cr.tp53.neg",
         ["table4.tp53.pos.hsct", "table4.tp53.pos.no_hsct"], "TP53+ CR"),
        ("labels.table3.prior_hsct.table4", "table3.cr.prior_hsct.none",
         ["table4.status.post_hsct.hsct", "table4.status.post_hsct.no_hsct"],
         "post-transplant CR"),
    ]:
        if not _need(out, c, cid, "labels", [t3] + t4ids):
            continue
        k3, k4 = c.int(t3), sum(c.int(i) for i in t4ids)
        out.add(cid, "labels", [t3] + t4ids, f"Table 3 row {t3.split('.')[-1]}: {k3} CR",
                f"Table 4: {k4}", "inconsistent" if k3 == k4 else "not checkable",
                f"Table 4 counts {k4} {what} patients; the Table 3 row printed under the "
                f"opposite label has {k3} CR: " + ("this confirms the swapped Table 3 labels."
                                                   if k3 == k4 else "no confirmation."))
    # Table 5: EMD comparison printed in opposite orders for OS and LFS
    ids = ["table5.os.emd", "table5.lfs.emd"]
    if _need(out, c, "labels.table5.emd", "labels", ids):
        g = [str(c.val(i, "group") or c.val(i, "location")) for i in ids]
        same = g[0].lower() == g[1].lower()
        out.add("labels.table5.emd", "labels", ids, f"OS: {g[0]}; LFS: {g[1]}", "",
                "consistent" if same else "inconsistent",
                "Table 5 names the EMD comparison the same way for OS and LFS." if same else
                "Table 5 prints the EMD comparison as 'With vs without' for OS and 'Without vs "
                "with' for LFS. Reading: one label is reversed; as both HRs are far from "
                "significance the orientation cannot be settled from the paper.")


# =========================================================================== P values

def _p_contingency(c, out, check_id, ids, table, p_id, label, extra="", alt=None):
    """Recompute one P from counts with all tests; verdict by reproduction."""
    pt = c.p_text(p_id)
    if pt is None:
        out.add(check_id, "p_contingency", ids + [p_id], "", "", "not checkable", "no P printed")
        return
    ptxt, cmp = pt
    res = S.contingency_tests(table)
    repro = S.reproducing_tests(res, ptxt, cmp)
    printed = f"{label}: P {'=' if cmp == '=' else cmp} {ptxt}"
    rec = "; ".join(f"{TEST_NAMES[k]} {fp(v)}" for k, v in res.items() if np.isfinite(v))
    if repro:
        expl = (f"Reproduced by {', '.join(TEST_NAMES[k] for k in repro)} "
                f"({rec}).")
        verdict = "consistent"
    else:
        expl = f"None of the SPSS crosstab tests gives {cmp if cmp != '=' else ''}{ptxt} ({rec})."
        verdict = "not reproduced"
        if alt is not None:
            alt_table, alt_label = alt
            r2 = S.contingency_tests(alt_table)
            rep2 = S.reproducing_tests(r2, ptxt, cmp)
            expl += (f" Under the alternative reading {alt_label}: "
                     + "; ".join(f"{TEST_NAMES[k]} {fp(v)}" for k, v in r2.items()
                                 if np.isfinite(v))
                     + (f" - reproduced by {', '.join(TEST_NAMES[k] for k in rep2)}." if rep2
                        else " - still not reproduced."))
    out.add(check_id, "p_contingency", ids + [p_id], printed, rec, verdict,
            (expl + " " + extra).strip())
    out.rows[-1]["tests"] = ",".join(repro)


def _p_checks(c: _Claims, out: _Out) -> None:
    # ---- Table 3
    for o in T3_OUTCOMES:
        for f, (l1, l2) in T3_FACTORS.items():
            a, b, p = f"table3.{o}.{f}.{l1}", f"table3.{o}.{f}.{l2}", f"table3.{o}.{f}.p"
            cid = f"p.table3.{o}.{f}"
            if not _need(out, c, cid, "p_contingency", [a, b, p]):
                continue
            k1, n1, k2, n2 = c.int(a), c.int(a, "N"), c.int(b), c.int(b, "N")
            if None in (k1, n1, k2, n2):
                out.add(cid, "p_contingency", [a, b, p], "", "", "not checkable",
                        "a count or denominator of the comparison is not in the record")
                continue
            _p_contingency(c, out, cid, [a, b], S.table_from_counts(k1, n1, k2, n2), p,
                           f"{T3_OUTCOMES[o]} {k1}/{n1} vs {k2}/{n2}")
    # ---- the same comparisons printed in the text
    text = [
        ("p.text.results.cr.blasts20", "results.cr.blasts20.p", "cr", "blasts20"),
        ("p.text.discussion.cr.blasts20", "discussion.cr.blasts20.p", "cr", "blasts20"),
        ("p.text.results.cr.blasts5", "results.cr.blasts5.p", "cr", "blasts5"),
        ("p.text.discussion.crs34.costim", "discussion.crs34.costim.p", "crs34", "costim"),
        ("p.text.discussion.neuro23.costim", "discussion.neuro23.costim.p", "neuro23", "costim"),
    ]
    for cid, pid, o, f in text:
        l1, l2 = T3_FACTORS[f]
        a, b = f"table3.{o}.{f}.{l1}", f"table3.{o}.{f}.{l2}"
        if not _need(out, c, cid, "p_contingency", [a, b, pid]):
            continue
        k1, n1, k2, n2 = c.int(a), c.int(a, "N"), c.int(b), c.int(b, "N")
        if None in (k1, n1, k2, n2):
            out.add(cid, "p_contingency", [a, b, pid], "", "", "not checkable",
                    "a count or denominator of the comparison is not in the record")
            continue
        _p_contingency(c, out, cid, [a, b], S.table_from_counts(k1, n1, k2, n2), pid,
                       f"{T3_OUTCOMES[o]} {k1}/{n1} vs {k2}/{n2} (text)")
    # CNS leukemia: counts derived from the printed rates (13/17 and 89/93)
    for cid, pid in (("p.text.results.cns_cr", "results.cns.cr_rate.p"),
                     ("p.text.discussion.cns_cr", "discussion.cns.cr_rate.p")):
        ids = ["table1.emd.cns", "results.cns.cr_rate", "results.cr_day30", "table1.n", pid]
        if not _need(out, c, cid, "p_contingency", ids):
            continue
        k_cns = _implied_count(c.text("results.cns.cr_rate", "percent"), c.int("table1.emd.cns"))
        if k_cns is None:
            out.add(cid, "p_contingency", ids, "", "", "not checkable",
                    "no count reproduces the printed CNS CR rate")
            continue
        n_cns, cr, tot = c.int("table1.emd.cns"), c.int("results.cr_day30"), c.int("table1.n")
        _p_contingency(c, out, cid, ids[:-1],
                       S.table_from_counts(k_cns, n_cns, cr - k_cns, tot - n_cns), pid,
                       f"CR with vs without CNS leukemia {k_cns}/{n_cns} vs "
                       f"{cr - k_cns}/{tot - n_cns} (derived)",
                       extra="Counts derived: the only count of 17 giving 76.5% is 13; the "
                             "rest of the 102 CR among the other 93 patients.")
    # ---- Table 4
    for ch in T4_BOTH_ARMS:
        levels = T4_CHARS[ch]
        ids = [f"table4.{ch}.{lv}.{arm}" for lv in levels for arm in ("hsct", "no_hsct")]
        pid = f"table4.{ch}.p"
        cid = f"p.table4.{ch}"
        if not _need(out, c, cid, "p_contingency", ids + [pid]):
            continue
        cells = [[c.int(f"table4.{ch}.{lv}.hsct"), c.int(f"table4.{ch}.{lv}.no_hsct")]
                 for lv in levels]
        if any(x is None for r in cells for x in r):
            out.add(cid, "p_contingency", ids + [pid], "", "", "not checkable",
                    "a cell of the table is not in the record")
            continue
        table = np.array(cells)
        label = f"Table 4 {ch} " + ", ".join(f"{lv} {r[0]}/{r[1]}" for lv, r in
                                             zip(levels, table))
        alt = None
        if ch == "complex_karyotype":
            t2 = table.copy()
            t2[2, 1] = 27 - t2[0, 1] - t2[1, 1]
            alt = (t2, f"unknown = {t2[2, 1]} in the not-bridged arm")
        if ch == "response":
            alt = (np.array([[31, 10], [44, 17]]), "bridged arm 31 CR / 44 CRi (61 CRi in all)")
        if ch == "crs":
            alt = (np.array([[67, 23], [8, 4]]).T, "arms as rows (same table)")
        _p_contingency(c, out, cid, ids, table, pid, label, alt=alt)
        if ch == "response" and out.rows[-1]["verdict"] == "consistent":
            r2 = S.contingency_tests([[31, 10], [44, 17]])
            out.rows[-1]["explanation"] += (
                f" Note: the printed '.7' is also what Pearson gives ({fp(r2['pearson'])}) if the "
                "bridged arm were 31 CR / 44 CRi, which would make 61 CRi in all as in Figure 4.")


def _implied_count(ptxt: str, N: int) -> int | None:
    dec = S.decimals_of(ptxt)
    hits = [k for k in range(N + 1)
            if S.round_decimal(S.exact_percent(k, N), dec) == S.to_decimal(ptxt)]
    return hits[0] if len(hits) == 1 else None


# =========================================================================== CAR T-cell peak

def _carpeak(c, f, lv):
    cid = f"table3.carpeak.{f}.{lv}"
    return (c.val(cid, "mean"), c.val(cid, "dispersion"), c.int(f"table3.cr.{f}.{lv}", "N"),
            c.text(cid, "mean"), c.text(cid, "dispersion"))


def _ttest_box(m1t, s1t, n1, m2t, s2t, n2, reading):
    """Range of the P over every mean/dispersion that rounds to the printed text."""
    boxes = [S._rounding_box(t) for t in (m1t, s1t, m2t, s2t)]
    ps = []
    for m1 in boxes[0]:
        for s1 in boxes[1]:
            for m2 in boxes[2]:
                for s2 in boxes[3]:
                    disp, ev = reading.split("_")
                    ps.append(S.ttest_from_summary(m1, s1, n1, m2, s2, n2, disp,
                                                   ev == "student"))
    return min(ps), max(ps)


def _ttest_checks(c: _Claims, out: _Out) -> None:
    pooled = {}
    for f, (l1, l2) in T3_FACTORS.items():
        ids = [f"table3.carpeak.{f}.{l1}", f"table3.carpeak.{f}.{l2}", f"table3.carpeak.{f}.p",
               f"table3.cr.{f}.{l1}", f"table3.cr.{f}.{l2}"]
        cid = f"p.table3.carpeak.{f}"
        if not _need(out, c, cid, "p_ttest", ids):
            continue
        m1, s1, n1, m1t, s1t = _carpeak(c, f, l1)
        m2, s2, n2, m2t, s2t = _carpeak(c, f, l2)
        if None in (m1, s1, n1, m2, s2, n2) or c.p_text(ids[2]) is None:
            out.add(cid, "p_ttest", ids, "", "", "not checkable",
                    "a mean, dispersion, group size or P is not in the record")
            continue
        ptxt, cmp = c.p_text(ids[2])
        res = S.ttest_readings(m1, s1, n1, m2, s2, n2)
        repro = [k for k, v in res.items() if S.p_matches(v, ptxt, cmp)]
        rec = "; ".join(f"{k.replace('_', ' ')} {fp(v)}" for k, v in res.items())
        pub = f"{m1t} ± {s1t} (n={n1}) vs {m2t} ± {s2t} (n={n2}), P = {ptxt}"
        if repro:
            verdict = "consistent"
            expl = (f"Reproduced by: {', '.join(r.replace('_', ' + ') for r in repro)} ({rec}). "
                    "Read as SD the difference would be overwhelmingly significant, so the "
                    "printed '± SD' is a standard error.")
        else:
            inbox = [r for r in res if S.intervals_overlap(_ttest_box(m1t, s1t, n1, m2t, s2t, n2, r),
                                                           S.p_interval(ptxt, cmp))]
            if inbox:
                verdict = "minor rounding"
                expl = (f"No reading reproduces {ptxt} from the printed values exactly ({rec}), "
                        f"but {', '.join(r.replace('_', ' + ') for r in inbox)} does within the "
                        "rounding of the printed means and dispersions.")
            else:
                verdict = "not reproduced"
                expl = f"No reading reproduces {ptxt} ({rec})."
        out.add(cid, "p_ttest", ids, pub, rec, verdict, expl)
        out.rows[-1]["tests"] = ",".join(repro)
        sd1, sd2 = S.sd_from_se(s1, n1), S.sd_from_se(s2, n2)
        pooled[f] = (S.pooled_mean_sd([(n1, m1, sd1), (n2, m2, sd2)]),
                     S.pooled_mean_sd([(n1, m1, s1), (n2, m2, s2)]), ids[:2])
    if not pooled:
        return
    # every factor splits the same 110 patients: the overall mean must agree
    means = pd.Series({f: v[0][0] for f, v in pooled.items()})
    consensus = float(means.median())
    for f, ((m, sd), _, ids) in pooled.items():
        d = m - consensus
        ok = abs(d) <= 0.01   # each factor's overall mean carries +/-.005 from rounding
        out.add(f"carpeak.overall_mean.{f}", "carpeak", ids, f"overall mean via {f}: {m:.3f}",
                f"median over factors {consensus:.3f}", "consistent" if ok else "inconsistent",
                f"Weighting the two {f} group means by their sizes gives an overall CAR T-cell "
                f"peak mean of {m:.3f}%, {'within rounding of' if ok else f'{abs(d):.3f} points from'}"
                f" the {consensus:.3f}% that the other factors give."
                + ("" if ok else " Reading: the group means or sizes of this row are not those "
                   "of the 110 patients (e.g. a few missing peak values); a small discrepancy."))
    sds = pd.Series({f: v[0][1] for f, v in pooled.items()})
    sds_sd = pd.Series({f: v[1][1] for f, v in pooled.items()})
    ids = [i for v in pooled.values() for i in v[2]]
    out.add("carpeak.dispersion_label", "carpeak", ids, "'% ± SD' (Table 3 header)",
            f"SE reading: overall SD {sds.min():.2f}-{sds.max():.2f}; SD reading: "
            f"{sds_sd.min():.2f}-{sds_sd.max():.2f}", "inconsistent",
            f"Table 3 labels the dispersion SD, but read as SD the ten splits of the same 110 "
            f"patients imply overall SDs from {sds_sd.min():.2f} to {sds_sd.max():.2f} (and the "
            f"t-tests would give P far below the printed values), whereas read as standard errors "
            f"every split implies an overall SD of {sds.min():.2f}-{sds.max():.2f}, plausible for "
            f"a peak ranging 0.1-90.6% with median 23.9%. Reading: '± SD' is '± SE'.")
    # text means vs table
    for f, lv in (("blasts5", "ge5"), ("blasts5", "lt5"), ("costim", "41bb"), ("costim", "cd28"),
                  ("emd", "with"), ("emd", "without")):
        t, r = f"table3.carpeak.{f}.{lv}", f"results.carpeak.{f}.{lv}"
        cid = f"text.carpeak.{f}.{lv}"
        if not _need(out, c, cid, "text_vs_source", [t, r]):
            continue
        if None in [c.val(i, k) for i in (t, r) for k in ("mean", "dispersion")]:
            out.add(cid, "text_vs_source", [t, r], "", "", "not checkable",
                    "a mean or dispersion is not in the record")
            continue
        ok = all(S.round_decimal(S.to_decimal(c.text(t, k)), S.decimals_of(c.text(r, k)))
                 == S.to_decimal(c.text(r, k)) for k in ("mean", "dispersion"))
        out.add(cid, "text_vs_source", [t, r], f"text {c.text(r, 'mean')} ± {c.text(r, 'dispersion')}",
                f"Table 3 {c.text(t, 'mean')} ± {c.text(t, 'dispersion')}",
                "consistent" if ok else "inconsistent",
                "The Results round Table 3's mean and dispersion correctly." if ok else
                "The Results do not round Table 3's values.")


# =========================================================================== hazard ratios

def _fig_p_id(cid: str) -> str | None:
    m = re.match(r"^(?:results\.)?fig(\d)\.(os|lfs)\.(?:hr|ci)$", cid)
    if m:
        return f"fig{m.group(1)}.{m.group(2)}.p"
    m = re.match(r"^abstract\.(os|lfs)\.ci$", cid)
    if m:
        return f"abstract.{m.group(1)}.p"
    return None


def _hr_checks(c: _Claims, out: _Out) -> None:
    df = c.df
    hr_rows = df[(df["kind"] == "hr") & df["hr"].notna() & df["ci_low"].notna()]
    for cid in hr_rows.index:
        hr, lo, hi = (float(c.val(cid, k)) for k in ("hr", "ci_low", "ci_high"))
        ht, lt, ut = c.text(cid, "hr"), c.text(cid, "ci_low"), c.text(cid, "ci_high")
        # log-symmetry
        gm = S.ci_geometric_mean(lo, hi)
        g_lo, g_hi = S.gm_range(lt, ut)
        h_lo, h_hi = S._rounding_box(ht)
        rel = abs(hr / gm - 1)
        if S.intervals_overlap((g_lo, g_hi), (h_lo, h_hi)):
            v, e = "consistent", (f"sqrt({lt} x {ut}) = {gm:.4g}, which rounds to the printed HR "
                                  f"{ht}: the CI is symmetric on the log scale.")
        elif rel < 0.01:
            v, e = "minor rounding", (f"sqrt({lt} x {ut}) = {gm:.4g} vs HR {ht} ({rel:.2%} apart, "
                                      "more than the printed digits allow). Reading: a small "
                                      "transcription error in one limit (for a CI centred on "
                                      f"{ht} with lower limit {lt} the upper limit would be "
                                      f"{hr ** 2 / lo:.4g}).")
        else:
            v, e = "inconsistent", (f"sqrt({lt} x {ut}) = {gm:.4g}, far from the HR {ht}: the "
                                    "CI does not belong to this HR.")
        out.add(f"hr.symmetry.{cid}", "hr", [cid], f"HR {ht} ({lt}-{ut})", f"centre {gm:.4g}", v, e)
        # implied P vs printed P
        pid = cid if c.val(cid, "p") is not None else _fig_p_id(cid)
        if pid is None or not c.has(pid):
            if cid.startswith("abstract.mv"):
                out.add(f"hr.p.{cid}", "hr", [cid], f"HR {ht} ({lt}-{ut})",
                        f"implied P {fp(S.p_from_ci(lo, hi, hr))}", "not checkable",
                        "No P is printed with this HR.")
            continue
        ptxt, cmp = c.p_text(pid)
        pr = S.p_range_from_ci(lt, ut, ht)
        ok = S.intervals_overlap(pr, S.p_interval(ptxt, cmp))
        sig_ci, sig_p = S.ci_excludes_one(lo, hi), S.p_interval(ptxt, cmp)[1] <= 0.05
        extra = ""
        if sig_ci != sig_p:
            extra = (f" The CI {'excludes' if sig_ci else 'includes'} 1 while P "
                     f"{'<' if sig_p else '>'} .05.")
        out.add(f"hr.p.{cid}", "hr", sorted({cid, pid}), f"HR {ht} ({lt}-{ut}), P {cmp} {ptxt}",
                f"implied P {fp(pr[0])}-{fp(pr[1])}", "consistent" if ok else "inconsistent",
                (f"The Wald P implied by the CI (z = ln HR / SE, SE = (ln {ut} - ln {lt})/3.92) is "
                 f"{fp(pr[0])}-{fp(pr[1])} over the rounding of the printed numbers"
                 + (", matching the printed P." if ok else f", not {ptxt}.") + extra
                 + ("" if ok else " Reading: the printed log-rank/Wald P is kept; this HR and CI "
                    "cannot both belong to it.")).strip())
    # CIs printed without their HR (Abstract, Results)
    ci_rows = df[(df["kind"] == "ci") & df["ci_low"].notna()]
    for cid in ci_rows.index:
        lo, hi = float(c.val(cid, "ci_low")), float(c.val(cid, "ci_high"))
        lt, ut = c.text(cid, "ci_low"), c.text(cid, "ci_high")
        pid = _fig_p_id(cid)
        m = re.search(r"fig(\d)\.(os|lfs)", cid)
        cap = f"fig{m.group(1)}.{m.group(2)}.hr" if m else (
            "fig3." + cid.split(".")[1] + ".hr" if cid.startswith("abstract.") else None)
        if cap and c.has(cap):
            clt, cut = c.text(cap, "ci_low"), c.text(cap, "ci_high")
            same = all(_same_printed(a, b) for a, b in ((lt, clt), (ut, cut)))
            recip = all(_same_printed(a, _fmt_num(round(1 / float(b), 4))) for a, b in
                        ((lt, cut), (ut, clt)))
            where = "The Abstract" if cid.startswith("abstract.") else "The Results text"
            expl = (f"{where} prints {lt}-{ut}; the Figure caption {clt}-{cut} "
                    f"(HR {c.text(cap, 'hr')})")
            units = [abs(float(S.to_decimal(a)) - float(S.to_decimal(b)))
                     / 10 ** -max(S.decimals_of(a), S.decimals_of(b))
                     for a, b in ((lt, clt), (ut, cut))]
            if same:
                v, expl = "consistent", expl + ": the same interval at the printed precision."
            elif max(units) <= 1 + 1e-9:
                v, expl = "minor rounding", expl + (": one limit differs by one unit of the last "
                                                   "digit. Reading: the caption's limits.")
            else:
                v = "inconsistent"
                gm = S.ci_geometric_mean(lo, hi)
                expl += (f": different intervals (this one is centred on {gm:.3g}"
                         + (", the reciprocal of the caption's" if recip else "") + "). "
                         "Reading: the caption's HR and CI are adopted, since they belong together "
                         "(see hr.symmetry of the caption); this interval is not used.")
            out.add(f"hr.text_vs_caption.{cid}", "hr", [cid, cap], f"{lt}-{ut}", f"{clt}-{cut}",
                    v, expl)
        if pid and c.has(pid):
            ptxt, cmp = c.p_text(pid)
            pr = S.p_range_from_ci(lt, ut)
            ok = S.intervals_overlap(pr, S.p_interval(ptxt, cmp))
            sig_ci, sig_p = S.ci_excludes_one(lo, hi), S.p_interval(ptxt, cmp)[1] <= 0.05
            out.add(f"hr.p.{cid}", "hr", [cid, pid], f"CI {lt}-{ut}, P {cmp} {ptxt}",
                    f"implied P {fp(pr[0])}-{fp(pr[1])}", "consistent" if ok else "inconsistent",
                    f"Centring the CI on its log-midpoint, the implied Wald P is "
                    f"{fp(pr[0])}-{fp(pr[1])}" + (", matching the printed P." if ok else
                                                  f", not {ptxt}.")
                    + ("" if sig_ci == sig_p else
                       f" The CI {'excludes' if sig_ci else 'includes'} 1 while P "
                       f"{'<' if sig_p else '>'} .05, which cannot both hold."))
    _hr_direction_checks(c, out)


def _same_printed(a: str, b: str) -> bool:
    """Two printed numbers agree if the more precise rounds to the less precise."""
    da, db = S.decimals_of(a), S.decimals_of(b)
    if da == db:
        return S.to_decimal(a) == S.to_decimal(b)
    hi, lo = (a, b) if da > db else (b, a)
    return S.round_decimal(S.to_decimal(hi), S.decimals_of(lo)) == S.to_decimal(lo)


def _hr_direction_checks(c: _Claims, out: _Out) -> None:
    # Figures 3-7: orientation of each HR against its landmarks
    for k, (g1, g2, t) in FIG_GROUPS.items():
        orient = {}
        for ep in ("os", "lfs"):
            hid, a, b = f"fig{k}.{ep}.hr", f"fig{k}.{ep}.{g1}.{t}", f"fig{k}.{ep}.{g2}.{t}"
            cid = f"hr.direction.fig{k}.{ep}"
            if not _need(out, c, cid, "hr", [hid, a, b]):
                continue
            hr = float(c.val(hid, "hr"))
            s1, s2 = c.val(a, "percent") / 100, c.val(b, "percent") / 100
            better_first = s1 > s2
            expected = "< 1" if better_first else "> 1"
            matches = (hr < 1) == better_first
            orient[ep] = matches
            lm = S.landmark_hr(s1, s2)
            if matches:
                v = "consistent"
                e = (f"{GROUP_WORDS[g1]} ({s1:.1%}) vs {GROUP_WORDS[g2]} ({s2:.1%}): an HR of the "
                     f"first vs the second group should be {expected}; it is {c.text(hid, 'hr')}.")
            else:
                v = "inconsistent"
                rh, rl, rhh = S.reciprocal(hr, float(c.val(hid, "ci_low")),
                                           float(c.val(hid, "ci_high")))
                e = (f"{GROUP_WORDS[g1]} ({s1:.1%}) vs {GROUP_WORDS[g2]} ({s2:.1%}) is printed "
                     f"first, so its HR should be {expected}, but it is {c.text(hid, 'hr')}. "
                     f"Reading: this HR is {GROUP_WORDS[g2]} vs {GROUP_WORDS[g1]}; in the "
                     f"caption's order it is {rh:.3g} ({rl:.3g}-{rhh:.3g}).")
            e += (f" For scale: under proportional hazards the landmarks alone imply an HR of "
                  f"about {lm:.2f} (first vs second); Prism's Mantel-Haenszel HR can be more "
                  "extreme with small groups.")
            out.add(cid, "hr", [hid, a, b], f"HR {c.text(hid, 'hr')}", f"expected {expected}",
                    v, e)
        if len(orient) == 2:
            same = orient["os"] == orient["lfs"]
            ids = [f"fig{k}.os.hr", f"fig{k}.lfs.hr"]
            out.add(f"hr.orientation.fig{k}", "hr", ids,
                    f"OS HR {c.text(ids[0], 'hr')}, LFS HR {c.text(ids[1], 'hr')}", "",
                    "consistent" if same else "inconsistent",
                    f"Figure {k}: OS and LFS favour the same group and the two HRs "
                    + ("point the same way." if same else
                       "point in opposite directions: the two HRs of one caption compare the "
                       "groups in opposite orders. Reading: both are reported in the caption's "
                       "order (first vs second group) after inverting the reversed one."))
    # Table 5 (and abstract): HR orientation vs the text's statements
    stated = [
        ("table5.os.tp53", "TP53 mutation is reported as harmful (inferior OS)", True),
        ("table5.lfs.tp53", "TP53 mutation is reported as harmful (inferior LFS)", True),
        ("table5.os.hsct", "bridging to HSCT is reported as beneficial", False),
        ("table5.lfs.hsct", "bridging to HSCT is reported as beneficial", False),
        ("table5.os.blasts20", "BM blasts <=20% had the higher OS", False),
        ("table5.os.prior_hsct", "a previous transplant carries the worse OS (Figure 7)", False),
        ("table5.lfs.prior_hsct", "a previous transplant carries the worse LFS (Figure 7)", False),
        ("abstract.mv.tp53.hr", "TP53 mutation is called a variable correlated with worse "
                                "outcomes", True),
        ("abstract.mv.hsct.hr", "bridging to HSCT is reported as beneficial", False),
    ]
    for cid, why, first_worse in stated:
        ck = f"hr.direction.{cid}"
        if not _need(out, c, ck, "hr", [cid]):
            continue
        hr = float(c.val(cid, "hr"))
        label = c.val(cid, "group") or {"abstract.mv.tp53.hr": "TP53 mutation (Abstract)",
                                        "abstract.mv.hsct.hr": "allo-HSCT after CAR T "
                                                               "(Abstract)"}.get(cid, cid)
        expected = "> 1" if first_worse else "< 1"
        ok = (hr > 1) == first_worse
        rh, rl, rhh = S.reciprocal(hr, float(c.val(cid, "ci_low")), float(c.val(cid, "ci_high")))
        out.add(ck, "hr", [cid], f"{label}: HR {c.text(cid, 'hr')}", f"expected {expected}",
                "consistent" if ok else "inconsistent",
                f"{why}, so the HR for '{label}' should be {expected}; it is {c.text(cid, 'hr')}."
                + ("" if ok else f" Reading: the HR is the second-named group vs the first "
                   f"(in the printed order {rh:.3g}, {rl:.3g}-{rhh:.3g})."))
    for ck, ab, t5 in (("hr.abstract_vs_table5.hsct", "abstract.mv.hsct.hr",
                        ["table5.os.hsct", "table5.lfs.hsct"]),
                       ("hr.abstract_vs_table5.tp53", "abstract.mv.tp53.hr",
                        ["table5.os.tp53", "table5.lfs.tp53"])):
        if not _need(out, c, ck, "hr", [ab] + t5):
            continue
        a = c.text(ab, "hr")
        tv = [c.text(i, "hr") for i in t5]
        ok = any(_same_printed(a, t) for t in tv)
        out.add(ck, "hr", [ab] + t5, f"abstract HR {a}", f"Table 5: OS {tv[0]}, LFS {tv[1]}",
                "consistent" if ok else "inconsistent",
                f"The Abstract's multivariable HR {a} ({c.text(ab, 'ci_low')}-"
                f"{c.text(ab, 'ci_high')}) "
                + ("matches Table 5." if ok else
                   f"is neither Table 5's OS HR ({tv[0]}) nor its LFS HR ({tv[1]}). Reading: "
                   "Table 5 is adopted; the Abstract seems to quote another model."))


# =========================================================================== text vs source

def _same_value_check(c, out, check_id, ids, what, fld="percent", reading=""):
    if not _need(out, c, check_id, "text_vs_source", ids):
        return
    toks = [(i, c.text(i, fld)) for i in ids]
    ref_id, ref = max(toks, key=lambda t: S.decimals_of(t[1]))
    bad = [(i, t) for i, t in toks if not _same_printed(ref, t)]
    pub = "; ".join(f"{i}: {t}" for i, t in toks)
    if not bad:
        out.add(check_id, "text_vs_source", ids, pub, ref, "consistent",
                f"{what}: all sources agree at their printed precision ({ref}).")
        return
    minor = all(abs(float(S.to_decimal(t)) - float(S.to_decimal(ref)))
                <= 10 ** -S.decimals_of(t) + 1e-12 for _, t in bad)
    out.add(check_id, "text_vs_source", ids, pub, ref, "inconsistent" if not minor else
            "minor rounding",
            f"{what}: " + ", ".join(f"{i} prints {t}" for i, t in bad)
            + f" where {ref_id} prints {ref}. " + (reading or f"Reading: {ref}."))


def _text_checks(c: _Claims, out: _Out) -> None:
    L = lambda k, ep, g, t: [f"fig{k}.{ep}.{g}.{t}", f"results.fig{k}.{ep}.{g}.{t}"]  # noqa: E731
    same = [
        ("os_all", ["results.fig2.os.all.1y", "abstract.os.all.1y"], "1-year OS, all 110"),
        ("lfs_all", ["results.fig2.lfs.all.1y", "abstract.lfs.all.1y"], "1-year LFS, all"),
        ("os_cr", ["results.fig2.os.cr.1y", "discussion.os.cr.1y"], "1-year OS, CR patients"),
        ("lfs_cr", ["results.fig2.lfs.cr.1y", "discussion.lfs.cr.1y"], "1-year LFS, CR patients"),
        ("fig3.os.hsct", L(3, "os", "hsct", "1y") + ["results.fig3.os.hsct.1y.rep2",
                                                     "abstract.os.hsct.1y", "discussion.os.hsct.1y"],
         "1-year OS, bridged to HSCT"),
        ("fig3.lfs.hsct", L(3, "lfs", "hsct", "1y") + ["results.fig3.lfs.hsct.1y.rep2",
                                                       "abstract.lfs.hsct.1y",
                                                       "discussion.lfs.hsct.1y"],
         "1-year LFS, bridged to HSCT"),
        ("fig3.os.no_hsct", L(3, "os", "no_hsct", "1y") + ["results.fig3.os.no_hsct.1y.rep2",
                                                           "abstract.os.no_hsct.1y",
                                                           "discussion.os.no_hsct.1y"],
         "1-year OS, CAR T alone"),
        ("fig3.lfs.no_hsct", L(3, "lfs", "no_hsct", "1y") + ["results.fig3.lfs.no_hsct.1y.rep2",
                                                             "abstract.lfs.no_hsct.1y",
                                                             "discussion.lfs.no_hsct.1y"],
         "1-year LFS, CAR T alone"),
    ]
    for k, (g1, g2, t) in FIG_GROUPS.items():
        if k == 3:
            continue
        for ep in ("os", "lfs"):
            for g in (g1, g2):
                same.append((f"fig{k}.{ep}.{g}", L(k, ep, g, t), f"Figure {k} {ep.upper()} {g}"))
    for key, ids, what in same:
        _same_value_check(c, out, f"text.{key}", ids, what)
    # P values printed twice
    for k in FIG_GROUPS:
        for ep in ("os", "lfs"):
            ids = [f"fig{k}.{ep}.p", f"results.fig{k}.{ep}.p"] + (
                [f"abstract.{ep}.p"] if k == 3 else [])
            _same_value_check(c, out, f"text.p.fig{k}.{ep}", ids, f"Figure {k} {ep.upper()} P",
                              fld="p")
    for key, ids in [("cr.blasts20", ["table3.cr.blasts20.p", "results.cr.blasts20.p",
                                      "discussion.cr.blasts20.p"]),
                     ("cr.blasts5", ["table3.cr.blasts5.p", "results.cr.blasts5.p"]),
                     ("crs34.costim", ["table3.crs34.costim.p", "discussion.crs34.costim.p"]),
                     ("neuro23.costim", ["table3.neuro23.costim.p", "discussion.neuro23.costim.p"]),
                     ("carpeak.emd", ["table3.carpeak.emd.p", "results.carpeak.emd.p"]),
                     ("carpeak.blasts5", ["table3.carpeak.blasts5.p", "results.carpeak.blasts5.p"]),
                     ("carpeak.costim", ["table3.carpeak.costim.p", "results.carpeak.costim.p"]),
                     ("cns", ["results.cns.cr_rate.p", "discussion.cns.cr_rate.p"])]:
        reading = ""
        if "costim" in key and not key.startswith("carpeak"):
            o = key.split(".")[0]
            ids_t = [f"table3.{o}.costim.cd28", f"table3.{o}.costim.41bb"]
            reading = "Reading: Table 3 is the primary source."
            if c.has(*ids_t):
                r = S.two_by_two_tests(c.int(ids_t[0]), c.int(ids_t[0], "N"), c.int(ids_t[1]),
                                       c.int(ids_t[1], "N"))
                reading += (f" From the counts: Pearson {fp(r['pearson'])}, Yates "
                            f"{fp(r['yates'])}, Fisher {fp(r['fisher'])}.")
        _p_same(c, out, f"text.p.{key}", ids, reading)
    # percentages in text vs the counts they describe
    pct = [
        ("results.cr.blasts20.gt20", "table3.cr.blasts20.gt20"),
        ("results.cr.blasts20.le20", "table3.cr.blasts20.le20"),
        ("results.cr.blasts5.ge5", "table3.cr.blasts5.ge5"),
        ("results.cr.blasts5.lt5", "table3.cr.blasts5.lt5"),
        ("discussion.cr.blasts20.le20", "table3.cr.blasts20.le20"),
        ("discussion.cr.blasts20.gt20", "table3.cr.blasts20.gt20"),
        ("discussion.emd.cr", "table3.cr.emd.with"),
        ("discussion.tp53.cr", "results.tp53.cr"),
        ("discussion.bcr_abl.cr", "table3.cr.bcr_abl.pos"),
        ("discussion.bcr_abl.molecular_neg.d30", "results.bcr_abl.molecular_neg.d30"),
        ("discussion.bcr_abl.molecular_neg.d60", "results.bcr_abl.molecular_neg.d60"),
        ("discussion.crs34.costim.cd28", "table3.crs34.costim.cd28"),
        ("discussion.crs34.costim.41bb", "table3.crs34.costim.41bb"),
        ("discussion.neuro23.costim.cd28", "table3.neuro23.costim.cd28"),
        ("discussion.neuro23.costim.41bb", "table3.neuro23.costim.41bb"),
        ("discussion.crs.grade34", "results.crs.grade34"),
        ("discussion.cr", "results.cr_day30"),
        ("abstract.cr", "results.cr_day30"),
        ("abstract.mrd_neg", "results.mrd_neg_cr"),
        ("discussion.mrd_neg_cr", "results.mrd_neg_cr"),
        ("results.cri", "fig4.cri"),
        ("discussion.donor.haplo", "table4.donor.haplo.hsct"),
        ("discussion.prior_hsct.cr", "results.prior_hsct.cr"),
    ]
    for tid, src in pct:
        _pct_vs_counts(c, out, f"text.pct.{tid}", tid, src)
    ids = ["results.cri", "table4.response.cri.hsct", "table4.response.cri.no_hsct",
           "results.cr_day30"]
    if _need(out, c, "text.pct.results.cri.table4", "text_vs_source", ids):
        k = c.int(ids[1]) + c.int(ids[2])
        N = c.int(ids[3])
        ptxt = c.text(ids[0], "percent")
        res = S.percent_rounding(k, N, ptxt)
        out.add("text.pct.results.cri.table4", "text_vs_source", ids, f"{ptxt}%",
                f"Table 4: {k}/{N} = {res['exact']:.2f}%", res["verdict"],
                f"Table 4's CRi total {k} of {N} is {res['exact']:.2f}%, "
                + ("which rounds to the Results' " if res["verdict"] == "consistent" else
                   "which does not round to the Results' ") + f"{ptxt}%.")
    _special_text_checks(c, out)


def _p_same(c, out, check_id, ids, reading=""):
    if not _need(out, c, check_id, "text_vs_source", ids):
        return
    pts = [(i,) + c.p_text(i) for i in ids]
    ref = pts[0]
    bad = [p for p in pts[1:] if (p[2], S.to_decimal(p[1])) != (ref[2], S.to_decimal(ref[1]))]
    pub = "; ".join(f"{i}: P {cmp} {t}" for i, t, cmp in pts)
    if not bad:
        out.add(check_id, "text_vs_source", ids, pub, f"P {ref[2]} {ref[1]}", "consistent",
                "The same P is printed in every place.")
    else:
        out.add(check_id, "text_vs_source", ids, pub, f"P {ref[2]} {ref[1]}", "inconsistent",
                f"{ref[0]} prints P {ref[2]} {ref[1]} but "
                + ", ".join(f"{i} prints P {cmp} {t}" for i, t, cmp in bad) + ". "
                + (reading or f"Reading: {ref[0]}."))


def _pct_vs_counts(c, out, check_id, tid, src, N_override=None):
    if not _need(out, c, check_id, "text_vs_source", [tid, src]):
        return
    n, N = c.int(src), N_override or c.int(src, "N")
    ptxt = c.text(tid, "percent")
    res = S.percent_rounding(n, N, ptxt)
    if res["verdict"] == "inconsistent":
        frac = _simplest_fraction(ptxt, N)
        e = (f"{tid} prints {ptxt}% but {src} gives {n}/{N} = {res['exact']:.2f}%"
             + (f" ({ptxt}% is what {frac} gives)" if frac else "")
             + f". Reading: {n}/{N} = {S.round_decimal(S.exact_percent(n, N), res['decimals'])}%.")
    elif res["verdict"] == "minor rounding":
        e = (f"{tid} prints {ptxt}% for {n}/{N} = {res['exact']:.3f}%, which rounds to "
             f"{S.round_decimal(S.exact_percent(n, N), res['decimals'])}"
             + (" (truncated, not rounded)" if res["modes"] == ["truncate"] else "") + ".")
    else:
        e = f"{ptxt}% is {n}/{N} = {res['exact']:.2f}% rounded."
    out.add(check_id, "text_vs_source", [tid, src], f"{ptxt}%", f"{n}/{N} = {res['exact']:.2f}%",
            res["verdict"], e)


def _special_text_checks(c: _Claims, out: _Out) -> None:
    # abstract "Seventy-five ... (73.5%)": which denominator?
    ids = ["abstract.hsct.n", "results.cr_day30", "results.infused"]
    if _need(out, c, "text.abstract_hsct_denominator", "text_vs_source", ids):
        ptxt = c.text("abstract.hsct.n", "percent")
        n = c.int("abstract.hsct.n")
        fits = [d for d in (c.int("results.cr_day30"), c.int("results.infused"))
                if S.percent_rounding(n, d, ptxt)["verdict"] == "consistent"]
        out.add("text.abstract_hsct_denominator", "text_vs_source", ids, f"{n} ({ptxt}%)",
                ", ".join(f"{n}/{d} = {100 * n / d:.1f}%" for d in (102, 110)),
                "consistent" if fits == [c.int("results.cr_day30")] else "inconsistent",
                f"The Abstract's {ptxt}% is {n} of the {c.int('results.cr_day30')} CR patients "
                f"(not of the {c.int('results.infused')} infused, which would be "
                f"{100 * n / c.int('results.infused'):.1f}%); the sentence does not name the "
                "denominator, but the arithmetic fixes it.")
    # CD19 split of the not-bridged relapses
    for lv in ("cd19_pos", "cd19_neg"):
        tid = f"results.no_hsct.relapse.{lv}"
        cid = f"text.pct.{tid}"
        if _need(out, c, cid, "text_vs_source", [tid, "results.no_hsct.relapse"]):
            n, N = c.int(tid), c.int("results.no_hsct.relapse")
            ptxt = c.text(tid, "percent")
            res = S.percent_rounding(n, N, ptxt)
            out.add(cid, "text_vs_source", [tid, "results.no_hsct.relapse"], f"{n} ({ptxt}%)",
                    f"{n}/{N} = {res['exact']:.1f}%", res["verdict"],
                    f"{n} of the {N} relapses without HSCT is {res['exact']:.1f}%, not {ptxt}% "
                    f"({ptxt}% is {_simplest_fraction(ptxt, N)}). The counts agree with the totals "
                    "(see bounds.cd19_split). Reading: the counts are kept, the percentages are "
                    "wrong." if res["verdict"] != "consistent" else
                    f"{n}/{N} rounds to {ptxt}%.")
    # CNS leukemia CR rates: derive the counts
    ids = ["results.cns.cr_rate", "results.no_cns.cr_rate", "table1.emd.cns", "results.cr_day30",
           "table1.n"]
    if _need(out, c, "text.cns_cr_counts", "text_vs_source", ids):
        n_cns = c.int("table1.emd.cns")
        k = _implied_count(c.text("results.cns.cr_rate", "percent"), n_cns)
        cr, tot = c.int("results.cr_day30"), c.int("table1.n")
        if k is None:
            out.add("text.cns_cr_counts", "text_vs_source", ids, "", "", "inconsistent",
                    "No count of 17 gives the printed CNS CR rate.")
        else:
            rest = S.percent_rounding(cr - k, tot - n_cns, c.text("results.no_cns.cr_rate",
                                                                  "percent"))
            out.add("text.cns_cr_counts", "text_vs_source", ids,
                    f"{c.text(ids[0], 'percent')}% vs {c.text(ids[1], 'percent')}%",
                    f"{k}/{n_cns} vs {cr - k}/{tot - n_cns}", rest["verdict"],
                    f"Only {k}/{n_cns} gives {c.text(ids[0], 'percent')}%; the remaining "
                    f"{cr - k} CR among the other {tot - n_cns} patients give "
                    f"{rest['exact']:.2f}%, which "
                    + ("matches the printed rate." if rest["verdict"] == "consistent" else
                       "does not match the printed rate."))
    # the Discussion's 87%-100% CR range of high-risk subgroups
    ids = ["discussion.subgroup_cr.range", "table3.cr.bcr_abl.pos", "results.tp53.cr",
           "table3.cr.emd.with", "results.cns.cr_rate", "results.prior_hsct.cr"]
    if _need(out, c, "text.subgroup_cr_range", "text_vs_source", ids):
        lo, hi = c.val(ids[0], "min"), c.val(ids[0], "max")
        rates = {"BCR-ABL+": 100 * c.int(ids[1]) / c.int(ids[1], "N"),
                 "TP53": 100 * c.int(ids[2]) / c.int(ids[2], "N"),
                 "EMD": 100 * c.int(ids[3]) / c.int(ids[3], "N"),
                 "CNS leukemia": c.val(ids[4], "percent"),
                 "post-transplant": 100 * c.int(ids[5]) / c.int(ids[5], "N")}
        outside = {k: v for k, v in rates.items() if not lo - 0.5 <= v <= hi + 0.5}
        out.add("text.subgroup_cr_range", "text_vs_source", ids, f"{lo:g}% to {hi:g}%",
                ", ".join(f"{k} {v:.1f}%" for k, v in rates.items()),
                "consistent" if not outside else "inconsistent",
                "The Discussion says every high-risk subgroup (BCR-ABL+, TP53, EMD, CNS leukemia, "
                f"post-transplant relapse) had a CR rate of {lo:g}%-{hi:g}%; "
                + ("all do." if not outside else
                   ", ".join(f"{k} had {v:.1f}%" for k, v in outside.items())
                   + ". Reading: the range holds for the other subgroups only."))
    # LFS is defined from the date of CR, yet a 1-year LFS is printed for all 110 patients
    ids = ["results.fig2.lfs.all.1y", "results.fig2.lfs.cr.1y", "results.cr_day30", "table1.n"]
    if _need(out, c, "text.lfs_all_definition", "text_vs_source", ids):
        s_cr = c.val(ids[1], "percent")
        cr, tot = c.int(ids[2]), c.int(ids[3])
        implied = s_cr * cr / tot
        out.add("text.lfs_all_definition", "text_vs_source", ids,
                f"LFS all {c.text(ids[0], 'percent')}%, CR {c.text(ids[1], 'percent')}%",
                f"{implied:.1f}% if non-responders fail at time 0", "not checkable",
                f"LFS is defined from the date of CR, so it does not exist for the {tot - cr} "
                f"non-responders, yet a 1-year LFS is printed for all {tot} patients. Counting "
                f"non-responders as failures at time 0 would give {s_cr:g}% x {cr}/{tot} = "
                f"{implied:.1f}% against the printed {c.text(ids[0], 'percent')}%; the remaining "
                "gap may come from measuring time from infusion rather than from CR, which the "
                "paper does not say. The reconstruction follows the definition (LFS among CR "
                "patients) and treats the all-patient LFS as emergent.")
    # "half of them relapsed" vs 5 of 11
    ids = ["discussion.tp53.relapse", "results.tp53.relapse"]
    if _need(out, c, "text.tp53_half", "text_vs_source", ids):
        n, N = c.int(ids[1]), c.int(ids[1], "N")
        out.add("text.tp53_half", "text_vs_source", ids, "half", f"{n}/{N} = {n / N:.0%}",
                "consistent" if abs(n / N - 0.5) < 0.1 else "inconsistent",
                f"'Half' of the TP53-mutated CR patients relapsed: the Results give {n} of {N} "
                f"({n / N:.0%}), a fair verbal rounding.")


# =========================================================================== bounds

def _bound(out, c, check_id, ids, ok, pub, rec, expl_ok, expl_bad):
    out.add(check_id, "bounds", ids, pub, rec, "consistent" if ok else "inconsistent",
            expl_ok if ok else expl_bad)


def _bounds_checks(c: _Claims, out: _Out) -> None:
    # Table 4 disease status among CR vs Table 1 disease status among all
    ids = ["table4.status.refractory.hsct", "table4.status.refractory.no_hsct",
           "table4.status.relapsed_chemo.hsct", "table4.status.relapsed_chemo.no_hsct",
           "table4.status.post_hsct.hsct", "table4.status.post_hsct.no_hsct",
           "table1.status.refractory", "table1.status.relapsed", "table1.transplant.post",
           "results.cr_day30", "table1.n"]
    if _need(out, c, "bounds.table4_status_vs_table1", "bounds", ids):
        ref = c.int(ids[0]) + c.int(ids[1])
        chemo = c.int(ids[2]) + c.int(ids[3])
        post = c.int(ids[4]) + c.int(ids[5])
        t1r, t1rel, t1post = c.int(ids[6]), c.int(ids[7]), c.int(ids[8])
        nr = c.int("table1.n") - c.int("results.cr_day30")
        miss = (t1r - ref) + (t1rel - t1post - chemo) + (t1post - post)
        ok = ref <= t1r and chemo <= t1rel - t1post and post <= t1post and miss == nr
        _bound(out, c, "bounds.table4_status_vs_table1", ids, ok,
               f"CR: refractory {ref}, relapsed after chemo {chemo}, after HSCT {post}",
               f"Table 1: {t1r}, {t1rel - t1post}, {t1post}",
               f"CR counts by disease status ({ref}, {chemo}, {post}) fit within Table 1's groups "
               f"and leave {t1r - ref} + {t1rel - t1post - chemo} + {t1post - post} = {miss} "
               f"non-responders, the {nr} of the paper.",
               "Table 4's disease-status counts do not fit Table 1.")
    # complex karyotype: Table 1 53 vs Table 4
    ids = ["table1.complex_karyotype", "table4.complex_karyotype.yes.hsct",
           "table4.complex_karyotype.yes.no_hsct", "results.cr_day30", "table1.n"]
    if _need(out, c, "bounds.complex_karyotype", "bounds", ids):
        t1, t4 = c.int(ids[0]), c.int(ids[1]) + c.int(ids[2])
        nr = c.int("table1.n") - c.int("results.cr_day30")
        _bound(out, c, "bounds.complex_karyotype", ids, t4 <= t1 <= t4 + nr,
               f"Table 1: {t1}", f"Table 4 (CR): {t4}",
               f"{t4} complex karyotypes among CR patients leave {t1 - t4} among the {nr} "
               f"non-responders (possible{'; exactly all of them' if t1 - t4 == nr else ''}).",
               f"{t1} complex karyotypes cannot hold {t4} among CR patients plus at most {nr}.")
    # Table 4 CRS grade 3-4 among CR vs Table 3 overall
    ids = ["table4.crs.3_4.hsct", "table4.crs.3_4.no_hsct", "results.crs.grade34",
           "results.cr_day30", "table1.n"]
    if _need(out, c, "bounds.crs34_cr", "bounds", ids):
        t4 = c.int(ids[0]) + c.int(ids[1])
        tot = c.int(ids[2])
        nr = c.int("table1.n") - c.int("results.cr_day30")
        _bound(out, c, "bounds.crs34_cr", ids, tot - nr <= t4 <= tot, f"Table 4: {t4}",
               f"total {tot}, non-responders {nr}",
               f"{t4} grade 3-4 CRS among CR patients leaves {tot - t4} among the {nr} "
               "non-responders: possible.", "Impossible split of grade 3-4 CRS.")
    # under-dosed patients all in CR: must fit in the low-dose CR count
    ids = ["results.dose.below_target.n", "table3.cr.dose.lt3"]
    if _need(out, c, "bounds.underdosed_cr", "bounds", ids):
        k, cr = c.int(ids[0]), c.int(ids[1])
        _bound(out, c, "bounds.underdosed_cr", ids, k <= cr, f"{k} under-dosed, all CR",
               f"{cr} CR in the <3e5/kg group", f"The {k} under-dosed patients fit among the {cr} "
               "CR of the low-dose group.", "They do not fit.")
    # MRD+ CR among CNS, all MRD+ bridged
    ids = ["results.cns.mrd_pos", "results.mrd_pos_cr", "results.hsct.mrd_pos"]
    if _need(out, c, "bounds.mrd_pos", "bounds", ids):
        a, b, h = c.int(ids[0]), c.int(ids[1]), c.int(ids[2])
        _bound(out, c, "bounds.mrd_pos", ids, a <= b and h <= b, f"{a} CNS, {h} bridged",
               f"of {b}", f"Of the {b} MRD-positive CR patients, {a} had CNS leukemia and {h} were "
               f"bridged{' (all of them)' if h == b else ''}.", "More MRD-positive than exist.")
    # CD19 split without HSCT vs overall
    ids = ["results.no_hsct.relapse.cd19_neg", "results.no_hsct.relapse.cd19_pos",
           "results.relapse.cd19_neg", "results.relapse.cd19_pos", "results.hsct.relapse"]
    if _need(out, c, "bounds.cd19_split", "bounds", ids):
        a, b, A, B, h = (c.int(i) for i in ids)
        ok = a <= A and b <= B and (A - a) + (B - b) == h
        _bound(out, c, "bounds.cd19_split", ids, ok, f"without HSCT: {b} CD19+, {a} CD19-",
               f"overall {B} CD19+, {A} CD19-",
               f"Leaves {B - b} CD19+ and {A - a} CD19- relapses after HSCT, summing to the "
               f"{h} printed.", "The CD19 split without HSCT does not fit the totals.")
    # CNS-2 + CNS-3 vs CNS leukemia; EMD categories vs EMD total
    ids = ["table1.emd.cns", "table1.emd.cns2", "table1.emd.cns3", "results.cns.neuro.cns1"]
    if _need(out, c, "bounds.cns_status", "bounds", ids):
        cns, c2, c3 = c.int(ids[0]), c.int(ids[1]), c.int(ids[2])
        out.add("bounds.cns_status", "bounds", ids, f"CNS {cns}; CNS-2 {c2} + CNS-3 {c3}",
                f"{cns - c2 - c3} unaccounted", "not checkable",
                f"Table 1 lists {c2} CNS-2 and {c3} CNS-3 among {cns} CNS-leukemia patients; "
                f"the other {cns - c2 - c3} are presumably CNS-1 at infusion (the Results mention "
                "CNS-1 patients among those with CNS leukemia). Table 1 does not say.")
    ids = ["table1.emd.cns", "table1.emd.testicular", "table1.emd.diffuse",
           "table1.emd.single_site", "results.emd.n"]
    if _need(out, c, "bounds.emd_categories", "bounds", ids):
        parts = [c.int(i) for i in ids[:4]]
        tot = c.int(ids[4])
        out.add("bounds.emd_categories", "bounds", ids, " + ".join(map(str, parts)) + f" vs {tot}",
                str(sum(parts)), "not checkable" if sum(parts) >= tot else "inconsistent",
                f"Table 1's EMD sites add up to {sum(parts)} against {tot} patients with EMD: at "
                f"least {sum(parts) - tot} patients must have two sites (e.g. CNS and testis); "
                "the table does not say whether the categories overlap.")
    # medians inside the right category
    for ck, med, groups, what in [
        ("bounds.median.age", "table1.age", ["table1.age.2_14"], "age 2-14"),
        ("bounds.median.bm_blasts", "table1.bm_blasts",
         ["table1.bm_blasts.lt5", "table1.bm_blasts.5_20"], "BM blasts"),
        ("bounds.median.dose", "results.dose.median", ["table3.cr.dose.lt3"], "dose <3e5/kg"),
    ]:
        ids = [med] + groups + ["table1.n"]
        if not _need(out, c, ck, "bounds", ids):
            continue
        N = c.int("table1.n")
        mid = (N + 1) / 2
        m = c.val(med, "median")
        if ck.endswith("bm_blasts"):
            below, upto = c.int(groups[0]), c.int(groups[0]) + c.int(groups[1])
            ok = below < mid <= upto + 0.5 and 5 <= m <= 20
            e = (f"The median {m:g}% lies in 5-20%, so more than {N // 2} patients must be at "
                 f"<= 20% and fewer than {N // 2} below 5%: {below} below 5% and {upto} up to 20%.")
        elif ck.endswith("age"):
            k = c.int(groups[0], "n" if groups[0].startswith("table1") else "N")
            ok = (m <= 14) == (k > N / 2)
            e = f"Median age {m:g} years with {k} of {N} aged 2-14: " + ("fits." if ok else
                                                                          "does not fit.")
        else:
            k = c.int(groups[0], "N")
            ok = (m >= 3e5) == (k < N / 2)
            e = (f"Median dose {m:.0f}/kg with {k} of {N} below 3e5/kg: "
                 + ("fits (the median itself sits at 3e5, so several patients got exactly "
                    "3e5/kg)." if ok else "does not fit."))
        out.add(ck, "bounds", ids, f"median {m:g}", what, "consistent" if ok else "inconsistent",
                e)
    # time bounds vs follow-up
    ids_f = "results.followup"
    if c.has(ids_f):
        fmax = c.val(ids_f, "max")
        for cid in ("results.hsct.relapse_time", "results.no_hsct.relapse_time",
                    "results.tp53.relapse_time", "results.tp53.death_time",
                    "results.bcr_abl.relapse_time", "results.hsct.day"):
            if c.has(cid):
                mx = c.val(cid, "max")
                _bound(out, c, f"bounds.followup.{cid}", [cid, ids_f], mx <= fmax,
                       f"max {mx:g} days", f"follow-up max {fmax:g} days",
                       f"{mx:g} days is within the longest follow-up ({fmax:g} days).",
                       f"{mx:g} days exceeds the longest follow-up ({fmax:g} days).")
        for cid, extra_days, what in (
                ("results.prior_hsct.mrd_neg_cr.duration", 0, "MRD-negative CR lasting up to"),
                ("results.prior_hsct.second_hsct.dfs1", 36, "disease-free after a second "
                                                            "transplant for")):
            if not c.has(cid):
                continue
            months = c.val(cid, "max") if c.val(cid, "max") is not None else c.val(cid, "value")
            max_months = fmax / (365.25 / 12)
            ok = round(max_months) >= months or months * 365.25 / 12 + extra_days <= fmax
            if extra_days:
                ok = months * 365.25 / 12 + extra_days <= fmax
            out.add(f"bounds.followup.{cid}", "bounds", [cid, ids_f], f"{months:g} months",
                    f"follow-up max {fmax:g} days = {max_months:.1f} months",
                    "consistent" if ok else "inconsistent",
                    f"{what} {months:g} months "
                    + (f"fits a longest follow-up of {max_months:.1f} months (rounded)." if ok else
                       f"is more than the longest follow-up from infusion ({max_months:.1f} "
                       f"months; a second transplant comes at least {extra_days} days after "
                       "infusion). Reading: this follow-up was measured at a later date than the "
                       "cohort's data cut-off; not used as a target."))


# =========================================================================== markers

def _marker_checks(c: _Claims, out: _Out) -> None:
    df = c.df
    rows = df[df["id"].str.match(r"^table[345]\.") & df["p"].notna()]
    for cid in rows.index:
        printed = str(c.val(cid, "printed"))
        ptxt, cmp = c.p_text(cid)
        val = float(S.to_decimal(ptxt))
        star, dag = "*" in printed, "†" in printed
        if cmp == "<":
            should = "†" if val <= 0.01 else ("*" if val <= 0.05 else "")
        else:
            should = "†" if val < 0.01 else ("*" if val < 0.05 else "")
        has = "†" if dag else ("*" if star else "")
        ok = has == should
        out.add(f"marker.{cid}", "markers", [cid], printed.split("|")[-1].strip(),
                should or "none", "consistent" if ok else "inconsistent",
                f"P {cmp} {ptxt} should carry {should or 'no marker'}; it carries "
                f"{has or 'none'}." + ("" if ok else " Reading: the P value is kept, the marker "
                                       "is a typesetting slip."))


# =========================================================================== main

def run_audit(claims: pd.DataFrame) -> pd.DataFrame:
    """Run every consistency check on the published record (one row per check).

    ``claims`` is the frame of :func:`cart19.record.claims.load_claims`. Checks whose claims are
    absent come back as ``not checkable`` naming the missing ids, so a partial record still
    audits. Columns: :data:`COLUMNS` plus ``tests`` (which tests reproduce a P, if any).
    """
    c = _Claims(claims)
    out = _Out()
    for fn in (_percent_checks, _sum_checks, _same_count_checks, _bounds_checks, _label_checks,
               _p_checks, _ttest_checks, _hr_checks, _text_checks, _marker_checks):
        before = len(out.rows)
        try:
            fn(c, out)
        except (TypeError, ValueError, ArithmeticError) as exc:
            # a value that a check needs is empty in the record: report it as a check row
            # (visible in the summary and in the pinned verdicts) instead of losing the audit
            del out.rows[before:]
            out.add(f"error.{fn.__name__.strip('_')}", "bounds", [claims["id"].iloc[0]], "",
                    "", "not checkable",
                    f"the family {fn.__name__.strip('_')} could not run on this record "
                    f"({type(exc).__name__}: {exc}); some value it needs is empty.")
    res = pd.DataFrame(out.rows)
    if "tests" not in res:
        res["tests"] = ""
    res["tests"] = res["tests"].fillna("")
    dup = res["check_id"][res["check_id"].duplicated()]
    if len(dup):
        raise RuntimeError(f"duplicate check ids: {sorted(set(dup))}")
    return res[COLUMNS + ["tests"]].reset_index(drop=True)


def summary(audit: pd.DataFrame) -> pd.DataFrame:
    """Checks per category and verdict (rows: categories in :data:`CATEGORIES` order)."""
    t = pd.crosstab(audit["category"], audit["verdict"])
    t = t.reindex(index=[k for k in CATEGORIES if k in t.index],
                  columns=[v for v in VERDICTS], fill_value=0)
    t.insert(0, "checks", t.sum(axis=1))
    t.index = [CATEGORIES[k] for k in t.index]
    t.index.name = "category"
    t.loc["total"] = t.sum()
    return t


def tests_used(audit: pd.DataFrame) -> pd.DataFrame:
    """For each table, how many printed P values each test reproduces (Tables 3 and 4)."""
    rows = []
    for table, pat in (("Table 3 (CR, CRS, neurotoxicity)", r"^p\.table3\.(cr|crs34|neuro23)\."),
                       ("Table 3 (CAR T-cell peak)", r"^p\.table3\.carpeak\."),
                       ("Table 4", r"^p\.table4\."), ("text", r"^p\.text\.")):
        sub = audit[audit["check_id"].str.match(pat)]
        counts = {}
        for t in sub["tests"]:
            for name in filter(None, str(t).split(",")):
                counts[name] = counts.get(name, 0) + 1
        only = {}
        for t in sub["tests"]:
            names = [x for x in str(t).split(",") if x]
            if len(names) == 1:
                only[names[0]] = only.get(names[0], 0) + 1
        rows.append(dict(table=table, p_values=len(sub),
                         reproduced=int((sub["tests"] != "").sum()),
                         **{f"by {k}": v for k, v in sorted(counts.items())},
                         **{f"only {k}": v for k, v in sorted(only.items())}))
    df = pd.DataFrame(rows).fillna(0)
    num = [c for c in df.columns if c != "table"]
    df[num] = df[num].astype(int)
    return df[["table", "p_values", "reproduced"] + sorted(c for c in num if c.startswith("by "))
              + sorted(c for c in num if c.startswith("only "))]


# =========================================================================== readings

READINGS_CSV = readings.READINGS_CSV
READING_COLUMNS = readings.COLUMNS


def adopted_readings(path: str | Path = READINGS_CSV,
                     claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """The registry of readings (:func:`cart19.record.readings.load`), checked against ``claims``."""
    return readings.load(path, claims)


# =========================================================================== CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cart19 audit",
                                 description="Consistency audit of the published numbers.")
    ap.add_argument("--json", action="store_true", help="print every check as a JSON list")
    ap.add_argument("--claims", default=str(paths.CLAIMS_CSV), help="path of claims.csv")
    ap.add_argument("--readings", default=None,
                    help="also validate this readings.csv (default: the project's)")
    args = ap.parse_args(argv)
    from cart19.record.claims import load_claims
    claims = load_claims(args.claims)
    audit = run_audit(claims)
    if args.readings:
        adopted_readings(args.readings, claims)
    if args.json:
        recs = audit.rename(columns={"check_id": "id"})[
            ["id", "category", "claims", "published", "recomputed", "verdict", "explanation"]]
        recs = recs.assign(claims=recs["claims"].str.split(";"))
        json.dump(recs.to_dict("records"), sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    tab = summary(audit)
    print(f"Audit of {len(claims)} published numbers: {len(audit)} checks\n")
    print(tab.to_string())
    bad = audit[audit["verdict"].isin(["inconsistent", "not reproduced"])]
    print(f"\n{len(bad)} inconsistent or not reproduced:")
    for _, r in bad.iterrows():
        print(f"- [{r['verdict']}] {r['check_id']}: {r['explanation']}")
    return 0
