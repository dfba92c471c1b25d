"""Subgroup rates with exact confidence intervals, and forest plots.

Serves the "Beyond the paper" chapter 22. Table 3 prints, per subgroup, the CR rate,
the grade 3-4 CRS rate and the grade 2-3 neurotoxicity rate as n/N (%) with a
between-group P, but no confidence interval for any rate; Table 5 prints Cox hazard
ratios. Here every rate gets an exact (Clopper-Pearson) 95% CI; the forest plots and
tables that show them are in :mod:`cart19.presentation.subgroups` (this module's code is
part of the ensemble's cache key, its drawing is not).

Which patients form each level is read from ``data/published/design.yml`` (``table3.factors``,
the same rules the ensemble's Table 3 statistics use): a level is the printed row, so the
reconstructed rate and the printed one describe the same patients. Where the design reads the
printed labels as swapped (TP53 and transplant history, readings D02 and D03), the level's label
says whom the row describes, not how it was printed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cart19.comparison import reproducers as R
from cart19.presentation.flow import _check_response
from cart19.record import design
from cart19.stats.printed import two_by_two_tests

#: Table 3 outcomes: key -> label
OUTCOMES = {"cr": "CR rate", "crs34": "Grade 3-4 CRS", "neuro23": "Grade 2-3 neurotoxicity"}

#: Table 3 factors in printed order: key -> (label, [(level key, printed label), ...]), the
#: printed labels typeset for display. Level keys follow data/published/ID_CONVENTIONS.md
#: (table3.<outcome>.<factor>.<level>) and design.yml's ``table3.factors``.
_PRINTED = {
    "age": ("Age, y", [("2_14", "2-14"), ("15_61", "15-61")]),
    "sex": ("Sex", [("female", "Female"), ("male", "Male")]),
    "bcr_abl": ("BCR-ABL", [("pos", "BCR-ABL+"), ("neg", "BCR-ABL−")]),
    "tp53": ("TP53 mutation", [("pos", "TP53+"), ("neg", "TP53−")]),
    "emd": ("EMD", [("without", "Without EMD"), ("with", "With EMD")]),
    "blasts20": ("BM blasts 20%", [("le20", "≤20%"), ("gt20", ">20%")]),
    "blasts5": ("BM blasts 5%", [("lt5", "<5%"), ("ge5", "≥5%")]),
    "costim": ("Costimulatory domain", [("cd28", "CD28"), ("41bb", "4-1BB")]),
    "prior_hsct": ("Previous transplant", [("none", "No previous transplant"),
                                           ("post", "Posttransplant relapse")]),
    "dose": ("CAR T-cell dose", [("lt3", "<3 × 10⁵/kg"), ("ge3", "≥3 × 10⁵/kg")]),
}


def _factors(printed: dict) -> dict:
    """``printed`` with each level the design reads differently from its printed label relabelled
    by whom it describes (design.yml ``means``): the row printed "TP53+" is "TP53 wild type"."""
    t3 = design.load().table3.factors
    if list(t3) != list(printed) or any(list(t3[f].levels) != [k for k, _ in lv]
                                        for f, (_, lv) in printed.items()):
        raise ValueError("forest factors and levels differ from design.yml table3.factors")

    def label(f, k, lab):
        means = t3[f].levels[k].means
        return lab if not means else f"{means[0].upper()}{means[1:].split(' (')[0]}"
    return {f: (flabel, [(k, label(f, k, lab)) for k, lab in lv]) for f, (flabel, lv) in printed.items()}


#: Table 3 factors in printed order: key -> (label, [(level key, level label), ...])
FACTORS = _factors(_PRINTED)


def subgroup_levels(cohort: pd.DataFrame) -> pd.DataFrame:
    """One column per Table 3 factor holding each patient's level key (see ``FACTORS``): the
    level whose design.yml rule (``table3.factors.<factor>.levels.<level>.where``) it meets."""
    ctx = R.Context(R.attribute_frame(cohort))
    out = pd.DataFrame(index=cohort.index)
    for f, fac in design.load().table3.factors.items():
        col = np.full(len(cohort), None, dtype=object)
        for key, level in fac.levels.items():
            col[ctx.mask(level.where)] = key
        out[f] = col
    return out


def outcome_flags(cohort: pd.DataFrame) -> pd.DataFrame:
    """Table 3 outcomes per patient (CR/CRi on day 30, CRS grade 3-4, neurotoxicity grade 2-3):
    design.yml's rules (``table3.outcomes.<outcome>.where``)."""
    _check_response(cohort)
    ctx = R.Context(R.attribute_frame(cohort))
    t3 = design.load().table3.outcomes
    return pd.DataFrame({o: ctx.mask(t3[o].where) for o in OUTCOMES}, index=cohort.index)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI (scipy's ``binomtest(...).proportion_ci(method="exact")``)."""
    if n == 0:
        return (np.nan, np.nan)
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def two_by_two_p(k1: int, n1: int, k2: int, n2: int) -> dict:
    """P values for a 2x2 table: Pearson chi-square, Yates-corrected chi-square and Fisher's
    exact test (two-sided), from :func:`cart19.stats.printed.two_by_two_tests` (the paper says
    "chi-square tests" in SPSS crosstabs, which print all of them, without saying which
    row it reports). A chi-square P is NaN when a whole row or column is empty.
    """
    p = two_by_two_tests(k1, n1, k2, n2)
    return {"p_chi2": p["pearson"], "p_yates": p["yates"], "p_fisher": p["fisher"]}


def subgroup_rates(cohort: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Table 3 subgroup rates with exact CIs and between-level P values.

    One row per (outcome, factor, level): ``outcome, factor, level, factor_label, level_label,
    n, N, rate`` (percent), ``ci_low, ci_high`` (percent, Clopper-Pearson), and the factor's
    ``p_chi2, p_yates, p_fisher`` (same on both rows of a factor). Serves Table 3 (CR rate,
    grade 3-4 CRS, grade 2-3 neurotoxicity columns).
    """
    levels = subgroup_levels(cohort)
    flags = outcome_flags(cohort)
    rows = []
    for outcome in OUTCOMES:
        for factor, (flabel, lvls) in FACTORS.items():
            counts = []
            for key, llabel in lvls:
                m = (levels[factor] == key).to_numpy()
                k, n = int(flags.loc[m, outcome].sum()), int(m.sum())
                lo, hi = clopper_pearson(k, n, level)
                counts.append((k, n))
                rows.append({"outcome": outcome, "factor": factor, "level": key,
                             "factor_label": flabel, "level_label": llabel, "n": k, "N": n,
                             "rate": 100 * k / n if n else np.nan,
                             "ci_low": 100 * lo, "ci_high": 100 * hi})
            p = two_by_two_p(*counts[0], *counts[1])
            for r in rows[-2:]:
                r.update(p)
    return pd.DataFrame(rows)


def published_subgroup_rates(claims: pd.DataFrame) -> pd.DataFrame:
    """Table 3 rates as printed (ids ``table3.<outcome>.<factor>.<level>``), same keys as
    :func:`subgroup_rates`: outcome, factor, level, n, N, rate, and the printed P."""
    c = claims.set_index("id")
    rows = []
    for outcome in OUTCOMES:
        for factor, (_, lvls) in FACTORS.items():
            pid = f"table3.{outcome}.{factor}.p"
            p = float(c.loc[pid, "p"]) if pid in c.index else np.nan
            for key, _ in lvls:
                cid = f"table3.{outcome}.{factor}.{key}"
                if cid not in c.index:
                    continue
                r = c.loc[cid]
                rows.append({"outcome": outcome, "factor": factor, "level": key, "id": cid,
                             "n": r.get("n"), "N": r.get("N"), "rate": r.get("percent"),
                             "p": p})
    return pd.DataFrame(rows)


#: Table 5 rows in printed order: factor key -> label
TABLE5 = {"costim": "CD28 vs 4-1BB", "emd": "EMD", "prior_hsct": "No previous vs posttransplant",
          "blasts20": "BM blasts ≤20% vs >20%", "tp53": "TP53+ vs TP53−",
          "hsct": "Bridged into allo-HSCT vs CAR T alone"}


def _hr_columns(df: pd.DataFrame) -> pd.DataFrame:
    df = df.rename(columns={"ci_lower": "ci_low", "ci_upper": "ci_high"})
    missing = {"endpoint", "factor", "hr", "ci_low", "ci_high"} - set(df.columns)
    if missing:
        raise ValueError(f"hazard-ratio table lacks columns {sorted(missing)}")
    return df
