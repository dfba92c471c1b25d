"""The audit's shared parts: its verdicts, categories and columns, the record lookup
(:class:`Claims`), the row collector (:class:`Out`) and number formatting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cart19 import paths
from cart19.errors import InputError
from cart19.stats import printed as S

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

NUM = re.compile(r"(?<![\d.])(\d+\.\d+|\.\d+|\d+)(?!\d)")


# =========================================================================== helpers

class Claims:
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
        for tok in NUM.findall(str(self.df.at[cid, "printed"])):
            if abs(float(tok) - float(v)) <= 1e-9 * max(1.0, abs(float(v))):
                return tok
        return fmt_num(float(v))

    def p_text(self, cid: str) -> tuple[str, str] | None:
        """(printed P token, comparator) of a P claim or of the P of an HR row."""
        if self.val(cid, "p") is None:
            return None
        return self.text(cid, "p"), self.val(cid, "p_cmp") or "="


def fmt_num(x: float) -> str:
    s = repr(float(x))
    return s[:-2] if s.endswith(".0") else s


def fp(p: float) -> str:
    """A P value for explanations: 4 decimals, or scientific below .0001."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.1e}" if p < 1e-4 else f"{p:.4f}"


@dataclass
class Out:
    rows: list = field(default_factory=list)

    def add(self, check_id, category, claims, published, recomputed, verdict, explanation):
        assert verdict in VERDICTS, verdict
        assert category in CATEGORIES, category
        self.rows.append(dict(check_id=check_id, category=category,
                              claims=";".join(dict.fromkeys(claims)),
                              published=str(published), recomputed=str(recomputed),
                              verdict=verdict, explanation=explanation))

    def missing(self, check_id, category, ids, c: Claims):
        gone = c.missing(ids)
        self.add(check_id, category, [i for i in ids], "", "", "not checkable",
                 "needed claim(s) not in the record: " + ", ".join(gone))


def need(out: Out, c: Claims, check_id: str, category: str, ids) -> bool:
    if c.has(*ids):
        return True
    out.missing(check_id, category, list(ids), c)
    return False


def simplest_fraction(printed: str, near: int = 30) -> str | None:
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


def same_printed(a: str, b: str) -> bool:
    """Two printed numbers agree if the more precise rounds to the less precise."""
    da, db = S.decimals_of(a), S.decimals_of(b)
    if da == db:
        return S.to_decimal(a) == S.to_decimal(b)
    hi, lo = (a, b) if da > db else (b, a)
    return S.round_decimal(S.to_decimal(hi), S.decimals_of(lo)) == S.to_decimal(lo)


def implied_count(ptxt: str, N: int) -> int | None:
    dec = S.decimals_of(ptxt)
    hits = [k for k in range(N + 1)
            if S.round_decimal(S.exact_percent(k, N), dec) == S.to_decimal(ptxt)]
    return hits[0] if len(hits) == 1 else None
