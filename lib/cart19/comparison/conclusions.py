"""The paper's conclusions, each beside what the reconstructed cohort says (Discussion chapter).

Zhang et al. 2020 draw a dozen conclusions in the Key Points, Abstract and Discussion. Each is a
claim about a comparison; :func:`conclusions` recomputes the comparison on the cohort (log-rank
tests for the survival statements, including the subgroups shown only in the paper's supplemental
Figure S2; chi-square for rates) and says whether the reconstructed data agree with the
statement at P < .05. Survival comparisons are emergent (never fitted), so agreement is
informative; rate comparisons follow from fitted counts. :func:`stat_for` names the statistic of
the ensemble (chapter 25) that tests each conclusion across reconstructions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.comparison.reproducers import Context, attribute_frame, chi2_p, endpoint_columns, two_arm
from cart19.record import design
from cart19.stats import survival

#: (conclusion in our words, where the paper says it, kind, population, arm a, arm b, expects a
#: difference?) - arms are literal conjunctions over the reconstruction's attributes.
CONCLUSIONS = (
    ("CR rate does not differ between children (2-14) and older patients", "Abstract; Discussion",
     "rate", ("cr",), ("child",), ("~child",), False),
    ("OS does not differ between children and older patients", "Abstract; Discussion",
     "os", ("cr",), ("child",), ("~child",), False),
    ("LFS does not differ between children and older patients", "Abstract; Discussion",
     "lfs", ("cr",), ("child",), ("~child",), False),
    ("CR rate is higher with BM blasts ≤20% than >20%", "Results; Discussion",
     "rate", ("cr",), ("~bl_gt20",), ("bl_gt20",), True),
    ("LFS does not differ by BM blasts ≤20% vs >20%", "Discussion; supplemental Figure S2",
     "lfs", ("cr",), ("~bl_gt20",), ("bl_gt20",), False),
    ("CR rate is lower with CNS leukaemia", "Results; Discussion",
     "rate", ("cr",), ("cns",), ("~cns",), True),
    ("OS does not differ with vs without CNS leukaemia", "Discussion",
     "os", ("cr",), ("cns",), ("~cns",), False),
    ("OS does not differ with vs without EMD", "Results; supplemental Figure S2",
     "os", ("cr",), ("emd",), ("~emd",), False),
    ("OS does not differ between BCR-ABL+ and BCR-ABL-", "Discussion; supplemental Figure S2",
     "os", ("cr",), ("bcr_abl",), ("~bcr_abl",), False),
    ("LFS does not differ between BCR-ABL+ and BCR-ABL-", "Discussion; supplemental Figure S2",
     "lfs", ("cr",), ("bcr_abl",), ("~bcr_abl",), False),
    ("OS does not differ between the two dose groups", "Results; Discussion",
     "os", ("cr",), ("~dose_ge3",), ("dose_ge3",), False),
    ("TP53 mutation predicts worse OS", "Key Points; Figure 6; Table 5",
     "os", ("cr",), ("tp53",), ("~tp53",), True),
    ("TP53 mutation predicts worse LFS", "Figure 6; Table 5",
     "lfs", ("cr",), ("tp53",), ("~tp53",), True),
    ("Relapse after a previous transplant predicts worse OS", "Figure 7",
     "os", ("cr",), ("prior_hsct",), ("~prior_hsct",), True),
    ("Consolidative allo-HSCT is followed by better OS", "Key Points; Figure 3; Table 5",
     "os", ("cr",), ("hsct",), ("~hsct",), True),
    ("Consolidative allo-HSCT is followed by better LFS", "Key Points; Figure 3; Table 5",
     "lfs", ("cr",), ("hsct",), ("~hsct",), True),
    ("CD28 causes more grade 3-4 CRS than 4-1BB", "Discussion; Table 3",
     "crs34", (), ("cd28",), ("~cd28",), True),
    ("CD28 causes more grade 2-3 neurotoxicity than 4-1BB", "Discussion; Table 3",
     "neuro23", (), ("cd28",), ("~cd28",), True),
    ("Grade 3-4 CRS does not differ by age group", "Discussion; Table 3",
     "crs34", (), ("child",), ("~child",), False),
)


def _arm_sets(pop: tuple, a: tuple, b: tuple) -> frozenset:
    return frozenset({frozenset(pop) | frozenset(a), frozenset(pop) | frozenset(b)})


def _design_stat(kind: str, pop: tuple, a: tuple, b: tuple, d) -> str | None:
    """The statistic of ``design.yml`` that tests this comparison, or None (see :func:`stat_for`)."""
    if kind in d.endpoints:
        want = _arm_sets(pop, a, b)
        for name, comp in d.comparisons.items():
            popw = comp.where("population")
            if kind in comp.endpoints and _arm_sets(popw, comp.where("a"), comp.where("b")) == want:
                return f"{name}.{kind}"
        return None
    # a rate conclusion compares the outcome between its two arms over all patients (its
    # ``pop`` names the outcome, as in :func:`conclusions`)
    want = _arm_sets((), a, b)
    outcome = ("cr",) if kind == "rate" else (kind,)
    if outcome[0] in d.table3.outcomes:
        for fname, factor in d.table3.factors.items():
            levels = [tuple(lv.where) for lv in factor.levels.values()]
            if len(levels) == 2 and _arm_sets((), *levels) == want:
                return f"table3.{outcome[0]}.{fname}"
    for name, rc in d.rate_comparisons.items():
        if tuple(rc.outcome) == outcome and _arm_sets((), rc.arms["a"].where,
                                                      rc.arms["b"].where) == want:
            return f"rate.{name}"
    return None


def stated_id(kind: str, a: tuple) -> str:
    """The ensemble id of a comparison the paper states in words only ("stated.os.child")."""
    return f"stated.{kind}.{'_'.join(lit.lstrip('~') for lit in a)}"


def stat_for(kind: str, pop: tuple, a: tuple, b: tuple, d=None) -> str:
    """The ensemble statistic (``ensemble_stats.csv`` ``stat``) that tests a conclusion.

    Found in ``design.yml`` by the arms' literal groups, never typed in: ``<figure>.<endpoint>``
    for a survival comparison of Figures 3-7 whose two arms (with its population) are the
    conclusion's, ``table3.<outcome>.<factor>`` for a rate of Table 3 between the same two
    levels, ``rate.<name>`` for a rate comparison printed in the text (``rate_comparisons``).
    A comparison the paper states without a printed statistic (supplemental Figure S2, the
    Discussion) has no entry there; the ensemble computes it under :func:`stated_id`.
    """
    d = d or design.load()
    return _design_stat(kind, tuple(pop), tuple(a), tuple(b), d) or stated_id(kind, tuple(a))


def stated_conclusions(d=None) -> list[tuple]:
    """The conclusions whose comparison no statistic of ``design.yml`` tests (the ensemble
    computes them as ``stated.*``): (stat id, text, where, kind, pop, a, b, expects)."""
    d = d or design.load()
    return [(stated_id(kind, tuple(a)), text, where, kind, pop, a, b, expects)
            for text, where, kind, pop, a, b, expects in CONCLUSIONS
            if _design_stat(kind, tuple(pop), tuple(a), tuple(b), d) is None]


def comparison_test(ctx: Context, kind: str, pop: tuple, a: tuple, b: tuple) -> dict:
    """The test of one conclusion on one cohort: ``p``, ``test`` (its name), ``na``/``nb`` (arm
    sizes) and ``direction`` (+1: arm a does better: fewer events than expected, or the higher
    rate of the outcome)."""
    if kind in design.load().endpoints:
        dur, ev = endpoint_columns(kind)
        arms = two_arm(ctx, tuple(pop) + tuple(a), tuple(pop) + tuple(b))
        lr = survival.logrank(arms, dur, ev, "_arm")
        return {"p": lr["p"], "test": f"log-rank, {kind.upper()}, responders",
                "na": int((arms["_arm"] == "a").sum()), "nb": int((arms["_arm"] == "b").sum()),
                "direction": float(np.sign(lr["expected"]["a"] - lr["observed"]["a"]))}
    outcome = ("cr",) if kind == "rate" else (kind,)
    na, nb = ctx.count(a), ctx.count(b)
    ra = ctx.count(tuple(a) + outcome) / na if na else np.nan
    rb = ctx.count(tuple(b) + outcome) / nb if nb else np.nan
    outcomes = design.load().table3.outcomes
    what = "CR" if kind == "rate" else (outcomes[kind].label.lower() if kind in outcomes else kind)
    return {"p": chi2_p(outcome, a, b)(ctx)["p"], "test": f"Pearson chi-square, {what}",
            "na": na, "nb": nb, "direction": float(np.sign(ra - rb))}


def conclusions(cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per conclusion: the test, its P on the reconstructed cohort, and agreement."""
    ctx = Context(attribute_frame(cohort))
    rows = []
    for text, where, kind, pop, a, b, expects in CONCLUSIONS:
        t = comparison_test(ctx, kind, pop, a, b)
        significant = t["p"] < 0.05
        rows.append({"conclusion": text, "where in the paper": where, "test": t["test"],
                     "n (a / b)": f"{t['na']} / {t['nb']}", "P (reconstruction)": t["p"],
                     "paper claims a difference": expects,
                     "reconstruction agrees": significant == expects})
    return pd.DataFrame(rows)
