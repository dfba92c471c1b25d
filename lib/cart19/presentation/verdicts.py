"""The verdict page: each conclusion of the paper, whether the reconstruction reproduces it and
whether it holds across the ensemble of equally valid reconstructions.

Zhang et al. 2020 state their conclusions in the Key Points, the Abstract and the Discussion;
:data:`cart19.comparison.conclusions.CONCLUSIONS` lists them as comparisons. This module sets
two computed answers beside each:

* **this reconstruction**: :func:`cart19.comparison.conclusions.conclusions` on the committed
  cohort (does the test land on the side of P = .05 the paper's statement needs?);
* **the ensemble**: the verdict of :func:`cart19.comparison.ensemble.ensemble_summary` for the
  statistic that tests the same comparison (a survival comparison of Figures 3-7, or a rate
  comparison of Table 3). Which statistic that is, is found from ``design.yml`` by the arms'
  literal groups (:func:`ensemble_stat_for`), never typed in; a conclusion no ensemble statistic
  tests says so.

The plain verdict (:data:`PLAIN`) follows from the two, with the ensemble's word first: a
statistic fixed by the fit (a rate from fitted counts) is reproduced by construction and is not
counted as support (GUIDE, honesty rules).
"""
from __future__ import annotations

import pandas as pd

from cart19.comparison.conclusions import CONCLUSIONS, conclusions
from cart19.record import design as design_mod

__all__ = ["PLAIN", "ensemble_stat_for", "verdict_counts", "verdicts"]

#: the plain verdict, by (ensemble verdict, whether this reconstruction agrees)
PLAIN = {
    "supported": "Supported: reproduced here and in at least 95% of reconstructions",
    "supported_ensemble": ("Supported across reconstructions (at least 95%), though not by "
                           "this one"),
    "undecided": "Undecided: some equally valid reconstructions support it, others do not",
    "contradicted": "Not supported: it fails in more than 95% of reconstructions",
    "fixed": ("Follows from fitted counts: reproduced by construction, so not a test of the "
              "paper"),
    "single_yes": "Reproduced in this reconstruction; not tested across the ensemble",
    "single_no": "Not reproduced in this reconstruction; not tested across the ensemble",
}


def _arm_sets(pop: tuple, a: tuple, b: tuple) -> frozenset:
    return frozenset({frozenset(pop) | frozenset(a), frozenset(pop) | frozenset(b)})


def ensemble_stat_for(kind: str, pop: tuple, a: tuple, b: tuple, d=None) -> str | None:
    """The ensemble statistic (``ensemble_stats.csv`` ``stat``) testing a conclusion's comparison:
    ``<comparison>.<endpoint>`` for a survival comparison whose two arms (with its population)
    are the conclusion's, ``table3.<outcome>.<factor>`` for a rate comparison whose two levels
    are the conclusion's arms; ``None`` when no statistic of the ensemble tests it."""
    d = d or design_mod.load()
    want = _arm_sets(pop, a, b)
    if kind in d.endpoints:
        for name, comp in d.comparisons.items():
            popw = comp.where("population")
            if kind in comp.endpoints and _arm_sets(popw, comp.where("a"), comp.where("b")) == want:
                return f"{name}.{kind}"
        return None
    # a rate conclusion compares the outcome between its two arms over all patients (its
    # ``pop`` names the outcome, as in :func:`cart19.comparison.conclusions.conclusions`)
    want = _arm_sets((), a, b)
    outcome = "cr" if kind == "rate" else kind
    if outcome not in d.table3.outcomes:
        return None
    for fname, factor in d.table3.factors.items():
        levels = [tuple(lv.where) for lv in factor.levels.values()]
        if len(levels) == 2 and _arm_sets((), *levels) == want:
            return f"table3.{outcome}.{fname}"
    return None


def _plain(ensemble_verdict: str | None, agrees: bool) -> str:
    if ensemble_verdict is None or ensemble_verdict == "not assessable":
        return PLAIN["single_yes" if agrees else "single_no"]
    if ensemble_verdict == "fixed by the fit":
        return PLAIN["fixed"]
    if ensemble_verdict.startswith("holds in >=95%"):
        return PLAIN["supported" if agrees else "supported_ensemble"]
    if ensemble_verdict.startswith("holds in <5%"):
        return PLAIN["contradicted"]
    return PLAIN["undecided"]


def verdicts(cohort: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """One row per conclusion of the paper: where it is stated, the test, P on this
    reconstruction and whether it agrees, the ensemble statistic, the share of reconstructions
    in which the published conclusion holds, the ensemble's verdict and the plain verdict."""
    d = design_mod.load()
    here = conclusions(cohort)
    by_stat = summary.set_index("stat")
    rows = []
    for (text, where, kind, pop, a, b, expects), (_, r) in zip(CONCLUSIONS, here.iterrows()):
        stat = ensemble_stat_for(kind, tuple(pop), tuple(a), tuple(b), d)
        ens = by_stat.loc[stat] if stat is not None and stat in by_stat.index else None
        verdict = None if ens is None else str(ens["verdict"])
        agrees = bool(r["reconstruction agrees"])
        rows.append({"conclusion": text, "where": where, "test": r["test"],
                     "p": float(r["P (reconstruction)"]), "expects_difference": bool(expects),
                     "agrees": agrees, "ensemble_stat": stat,
                     "frac_holds": (float(ens["frac_holds"]) if ens is not None
                                    and verdict != "fixed by the fit" else float("nan")),
                     "ensemble_verdict": verdict or "not in the ensemble",
                     "verdict": _plain(verdict, agrees)})
    return pd.DataFrame(rows)


def verdict_counts(v: pd.DataFrame) -> dict[str, int]:
    """Counts for the front page and the verdict page: ``n_conclusions``, ``n_agree`` (this
    reconstruction), and one count per :data:`PLAIN` key (``n_supported``, ...)."""
    out = {"n_conclusions": len(v), "n_agree": int(v["agrees"].sum())}
    for key, text in PLAIN.items():
        out[f"n_{key}"] = int((v["verdict"] == text).sum())
    out["n_tested_ensemble"] = int((~v["verdict"].isin([PLAIN["single_yes"],
                                                        PLAIN["single_no"]])).sum())
    return out
