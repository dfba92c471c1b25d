"""The verdict page: each conclusion of the paper, whether the reconstruction reproduces it and
whether it holds across the ensemble of equally valid reconstructions.

Zhang et al. 2020 state their conclusions in the Key Points, the Abstract and the Discussion;
:data:`cart19.comparison.conclusions.CONCLUSIONS` lists them as comparisons. This module sets
two computed answers beside each:

* **this reconstruction**: :func:`cart19.comparison.conclusions.conclusions` on the committed
  cohort (does the test land on the side of P = .05 the paper's statement needs?);
* **the ensemble**: the verdict of :func:`cart19.comparison.ensemble.ensemble_summary` for the
  statistic that tests the same comparison (a survival comparison of Figures 3-7, a rate
  comparison of Table 3 or of the text). Which statistic that is, is found from ``design.yml``
  by the arms' literal groups (:func:`ensemble_stat_for`), never typed in; a comparison the
  paper states in words only (supplemental Figure S2, the Discussion) is computed by the
  ensemble as its own ``stated.*`` statistic, with the same test as on this reconstruction.

The plain verdict (:data:`PLAIN`) follows from the two, with the ensemble's word first: a
statistic fixed by the fit (a rate from fitted counts) is reproduced by construction and is not
counted as support (GUIDE, honesty rules).
"""
from __future__ import annotations

import pandas as pd

from cart19.comparison.conclusions import CONCLUSIONS, conclusions, stat_for
from cart19.record import design as design_mod

__all__ = ["PLAIN", "coverage_note", "ensemble_stat_for", "verdict_counts", "verdicts"]

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


def ensemble_stat_for(kind: str, pop: tuple, a: tuple, b: tuple, d=None) -> str:
    """The ensemble statistic testing a conclusion's comparison
    (:func:`cart19.comparison.conclusions.stat_for`: found in ``design.yml``, or the ensemble's
    own ``stated.*`` statistic for a comparison the paper states without a printed P)."""
    return stat_for(kind, tuple(pop), tuple(a), tuple(b), d)


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
                     "verdict": _plain(verdict, agrees),
                     # published numbers a reading keeps out of the fit (the ensemble's note)
                     "reading_note": (str(ens["note"]) if ens is not None and "note" in ens
                                      and "not fitted" in str(ens["note"]) else "")})
    return pd.DataFrame(rows)


def verdict_counts(v: pd.DataFrame) -> dict[str, int]:
    """Counts for the front page and the verdict page: ``n_conclusions``, ``n_agree`` (this
    reconstruction), and one count per :data:`PLAIN` key (``n_supported``, ...)."""
    out = {"n_conclusions": len(v), "n_agree": int(v["agrees"].sum())}
    for key, text in PLAIN.items():
        out[f"n_{key}"] = int((v["verdict"] == text).sum())
    out["n_tested_ensemble"] = int((~v["verdict"].isin([PLAIN["single_yes"],
                                                        PLAIN["single_no"]])).sum())
    out["n_single"] = out["n_single_yes"] + out["n_single_no"]
    out["n_stated"] = int(v["ensemble_stat"].astype(str).str.startswith("stated.").sum())
    return out


def coverage_note(counts: dict[str, int]) -> str:
    """One sentence on how many conclusions the ensemble tests (:func:`verdict_counts`)."""
    if counts["n_single"]:
        return (f"{counts['n_single']} are tested on this reconstruction only; "
                f"{counts['n_single_no']} of those do not come out as the paper says.")
    return (f"Every conclusion is tested across the ensemble, including the {counts['n_stated']} "
            "comparisons the paper states in words without a P value (most of them with its "
            "supplemental Figure S2).")
