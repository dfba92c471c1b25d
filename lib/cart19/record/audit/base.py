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

#: how the audit's sentences name the Table 3 outcomes that count patients
T3_OUTCOME_WORDS = {"cr": "CR", "crs34": "grade 3-4 CRS", "neuro23": "grade 2-3 neurotoxicity"}


def design():
    from cart19.record import design
    return design.load()


def t3_factors() -> dict[str, tuple[str, ...]]:
    """Table 3 factors and their two levels as printed (``design.yml`` ``table3.factors``)."""
    return {f: tuple(fac.levels) for f, fac in design().table3.factors.items()}


def t3_outcomes() -> dict[str, str]:
    """The Table 3 outcomes that count patients (``table3.outcomes`` with a ``where``), in words."""
    return {o: T3_OUTCOME_WORDS[o] for o, out in design().table3.outcomes.items()
            if out.where is not None}


def t3_totals() -> dict[str, str]:
    """Outcome -> the claim of its overall total in the text (``table3.outcomes.<o>.total``)."""
    return {o: out.total for o, out in design().table3.outcomes.items() if out.where is not None}


def t4_characteristics() -> dict[str, tuple[str, ...]]:
    """Table 4 characteristics and their levels (``design.yml`` ``table4.characteristics``)."""
    return {f: tuple(fac.levels) for f, fac in design().table4.characteristics.items()}


def t4_arm_totals() -> dict[str, str]:
    """Table 4 arm -> the claim of its size in the text (``table4.arms.<arm>.total``)."""
    return {a: arm.total for a, arm in design().table4.arms.items()}


def t4_both_arms() -> tuple[str, ...]:
    """The Table 4 characteristics printed for both arms (the others only for the bridged)."""
    return tuple(f for f, fac in design().table4.characteristics.items() if fac.arms == "both")


def fig_groups() -> dict[int, tuple[str, str, str]]:
    """Kaplan-Meier figures 3-7: (group printed first, group printed second, landmark), the groups
    as the landmark claim ids name them (``fig<k>.<endpoint>.<group>.<landmark>``), from the
    comparisons of ``design.yml``."""
    out = {}
    for name, comp in design().comparisons.items():
        first = next(iter(comp.endpoints.values())).landmarks
        out[int(name.removeprefix("fig"))] = (first["a"][0].split(".")[2],
                                              first["b"][0].split(".")[2], comp.landmark)
    return out


def fig_landmarks(k: int, endpoint: str, arm: str) -> list[str]:
    """Every claim printing figure ``k``'s landmark of ``arm`` (a or b) for ``endpoint``."""
    return list(design().comparisons[f"fig{k}"].endpoints[endpoint].landmarks[arm])


#: how the audit's sentences name the groups of Figures 3-7
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
