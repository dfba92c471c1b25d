"""Reproduce every published claim from the (reconstructed) patient-level cohort.

:func:`reproduce_all` returns one row per claim of ``data/published/claims.csv`` with the
reproduced value in the fields the record uses (n, N, percent, median, min, max, mean,
dispersion, p, hr, ci_low, ci_high), its *basis*, the chapter that shows it and the key of the
quantity it is (claims printing the same quantity share it):

- ``fitted``: the reconstruction was constrained to it (a count, day or landmark target of
  :mod:`cart19.reconstruction.targets`, a continuous summary of
  :mod:`cart19.reconstruction.continuous`);
- ``derived``: follows arithmetically from fitted numbers (a percentage of fitted counts, a
  crosstab P of fitted cells);
- ``emergent``: never targeted (log-rank P values, hazard ratios, Cox models, t-tests on the
  reconstructed CAR T-cell peaks): these test the reconstruction.

Which statistic reproduces which claim is read from the paper's design
(:mod:`cart19.comparison.families` over ``data/published/design.yml``); the statistics are in
:mod:`cart19.comparison.reproducers`, the basis check in :mod:`cart19.comparison.basis`, the
treatment-course claims in :mod:`cart19.comparison.course`. Nothing here reads a published value
to compute a reproduced one (the comparison is :mod:`cart19.comparison.scorecard`).
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError

from cart19.comparison import families, hazard
from cart19.comparison.basis import (
    FIELDS,
    honest_basis,
    overridden_fields,
    override_note,
)
from cart19.comparison.course import (
    costim_period,
    costim_switch,
    enrolment_rules,
    treatment_rules,
)
from cart19.comparison.reproducers import Context, attribute_frame
from cart19.errors import InputError
from cart19.reconstruction import targets as T
from cart19.record import design

__all__ = ["CHAPTERS", "NOT_PATIENT_LEVEL", "Context", "attribute_frame", "chapter_of", "costim_period",
           "registry", "reproduce_all", "treatment_rules"]

CHAPTERS = (  # (id regex, chapter notebook) - first match wins
    (r"^(methods\.(ld|vein|bridging|costim|conditioning|manufactur|pbmc|dose)|fig1)", "01_design"),
    (r"^(table1|table2|title|abstract\.(enrolled|infused)|results\.(enrolled|infused|age|peds))",
     "04_patients"),
    (r"^(table3\.carpeak|results\.(carpeak|car_peak|transduction|dose)|discussion\.dose)",
     "05_products"),
    (r"^(table3\.cr\.|results\.(cr_day30|cr\.|cri|mrd|bcr_abl|tp53\.cr|emd|no_emd|"
     r"cns\.(n|cns3|no_bm|csf|cr|mrd)|"
     r"blasts|prior_hsct\.(n|dli|cr)|no_cns)|abstract\.(cr|mrd)|fig2\.cr)", "06_day30"),
    (r"^(table4|results\.(hsct|no_hsct)|abstract\.hsct|discussion\.(hsct|no_hsct|donor))",
     "08_transplant"),
    (r"^(fig[2-7]|results\.(fig|relapse|tp53|followup|prior_hsct|bcr_abl\.relapse)|abstract\.(os|lfs))",
     "07_longterm"),
    (r"^(table3\.(crs34|neuro23)|results\.(crs|neuro|cns\.neuro)|discussion\.(crs|neuro))",
     "09_safety"),
    (r"^(table5|abstract\.mv)", "10_multivariable"),
    (r"^discussion", "11_discussion"),
)


def chapter_of(claim_id: str) -> str:
    for pattern, chapter in CHAPTERS:
        if re.search(pattern, claim_id):
            return chapter
    return "12_scorecard"


def __getattr__(name: str):
    # design views for modules that read them by name (computed from design.yml on use, PEP 562)
    d = design.load()
    if name == "FIG_ARMS":  #: Figures 3-7: (arm a, arm b) as literal conjunctions
        return {k: (c.where("a"), c.where("b")) for k, c in d.comparisons.items()}
    if name == "ENDPOINTS":
        return {k: (e.duration, e.event) for k, e in d.endpoints.items()}
    if name == "COSTIM_SWITCH":
        return costim_switch()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------------------
# claims that are not patient-level quantities
# ------------------------------------------------------------------------------------------
NOT_PATIENT_LEVEL = (
    (r"^(intro\.lit|discussion\.lit)", "a value from the literature the paper cites, not about "
     "this trial's patients"),
    (r"^methods\.(eligibility|cns[23]|mrd|ld\.(flu|cy|days|schedule)|manufacture|dose\.(prior|target)|"
     r"endpoint|crs\.severe|neuro\.severe|alpha|conditioning)",
     "a protocol constant or definition, not a patient-level quantity"),
    (r"\.footnote\.", "a table footnote (significance threshold)"),
    (r"(\.day$|\.day30$|\.cr_day$|\.d[36]0\.day$|\.window$|\.period$|\.hsct_window$|"
     r"\.groups$|\.threshold$|results\.dose\.(low|high)_target|results\.car_peak\.day|"
     r"results\.heading|prior_hsct\.dli\.min|discussion\.tp53\.relapse$)",
     "a time window, threshold or label that qualifies another claim, not a measured quantity"),
    (r"^(results\.prior_hsct\.second_hsct\.dfs|results\.prior_hsct\.mrd_neg_cr\.duration)",
     "follow-up after a second transplant is not part of the reconstructed cohort (see readings "
     "second_hsct_followup, mrd_neg_cr_duration: it exceeds the maximum follow-up)"),
    (r"^(abstract\.enrolled|results\.enrolled|methods\.ld\.n|methods\.manufactured)$",
     "the enrolment count needs data/cohort/not_infused.csv (the 5 enrolled patients who were not "
     "infused)"),
)


def registry(claims: pd.DataFrame, not_infused: pd.DataFrame | None = None,
             n_infused: int | None = None) -> dict[str, tuple[Callable, str]]:
    """claim id -> (statistic, basis) for every claim the cohort can reproduce, the basis
    checked against the targets bound from ``claims``."""
    reg = families.registry(claims, design.load())
    ids = set(claims["id"])
    for cid, (fn, basis) in treatment_rules(not_infused).items():
        if cid in ids:
            dropped = cid in T.OVERRIDDEN or overridden_fields(cid)
            reg[cid] = (fn, "derived" if basis == "fitted" and dropped else basis)
    if n_infused is not None:
        reg.update({k: v for k, v in enrolment_rules(n_infused, not_infused).items() if k in ids})
    return honest_basis(reg, claims)


def _reproduce_one(cid: str, fn, basis: str, ctx: Context, claims: pd.DataFrame) -> dict:
    """One registered claim's reproduced fields and basis, or the reason it cannot be computed."""
    row = {}
    try:
        row.update(fn(ctx))
    except KeyError as exc:  # an attribute the cohort does not carry
        row["reason"] = f"the cohort has no {exc.args[0]!r} attribute"
    except (ConvergenceError, InputError, ValueError, ZeroDivisionError,
            np.linalg.LinAlgError) as exc:
        # A statistic can be undefined on a given cohort (a covariate with no events in
        # one level, an empty arm): report it on that claim, never crash the scorecard.
        row["reason"] = f"not computable on this cohort: {type(exc).__name__}: {exc}"[:300]
    row["basis"] = basis if "reason" not in row else "not applicable"
    if "reason" not in row and (note := override_note(cid, claims)):
        row["override"] = note
    return row


def reproduce_all(cohort: pd.DataFrame, claims: pd.DataFrame,
                  not_infused: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim: reproduced fields, basis, chapter, tolerance, reason (if not reproducible).

    ``not_infused`` (data/cohort/not_infused.csv) gives the enrolment counts (115 enrolled,
    110 infused) of the Abstract, Methods and Results, and - with its ``bridging`` column from
    :func:`cart19.reconstruction.treatment.assign_treatment` - the bridging counts over all enrolled patients.
    Further columns, read by :func:`cart19.comparison.scorecard.compare_claim`: ``override`` (the decision that
    overrides the claim or one of its fields), ``detail`` (what the value was computed over) and
    ``mismatch`` (a reproduction that exists but cannot be written in the claim's field, shown as
    "differs").
    """
    ctx = Context(attribute_frame(cohort, claims))
    reg = registry(claims, not_infused, len(cohort))
    orientation = hazard.caption_orientations() | hazard.table5_orientations()
    rows = []
    for cid in claims["id"]:
        row = {"id": cid, "chapter": chapter_of(cid)}
        if cid in reg:
            row["quantity_key"] = getattr(reg[cid][0], "key", cid)
        if cid in orientation:
            row["orientation"] = orientation[cid]
        reason = next((r for pat, r in NOT_PATIENT_LEVEL if re.search(pat, cid)), None)
        if cid in reg:
            row.update(_reproduce_one(cid, *reg[cid], ctx, claims))
        elif reason:
            row.update(reason=reason, basis="not applicable")
        else:
            row.update(reason="no reproduction defined for this claim yet", basis="not applicable")
        rows.append(row)
    out = pd.DataFrame(rows)
    for f in FIELDS + ("tolerance", "reason", "basis", "override", "detail", "mismatch",
                       "quantity_key", "orientation", "variant", "alt_variant", "alt_hr",
                       "alt_ci_low", "alt_ci_high", "test", "p_pearson"):
        if f not in out.columns:
            out[f] = np.nan
    return out
