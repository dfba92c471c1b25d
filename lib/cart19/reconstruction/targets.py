"""Claim -> constraint table for the cohort reconstruction.

Every published number the reconstruction must reproduce is named here by its claim id
(``data/published/claims.csv``, ids per ``data/published/ID_CONVENTIONS.md``) together with the
patients it counts. The *value* is never typed here: it is read from claims.csv at run time, so
editing a claim changes the integer program (Zhang et al., Blood Adv 2020;4(10):2325-2338,
Tables 1-4, Results text, Figures 2-7).

Three kinds of target:

* :class:`CountTarget` - "the number of patients for whom all literals hold equals the claim's
  ``n`` (or ``N``)". A literal is a binary attribute name of the stage-1 model, ``~name`` negates
  it. These become linear equalities of the stage-1 integer program (:mod:`cart19.reconstruction.milp`).
* :class:`TimeTarget` - median / min / max of a day column over a subgroup (stage 2).
* :class:`KMTarget` - a Kaplan-Meier landmark of OS or LFS in a subgroup (stage 2).

Where the paper contradicts itself, :data:`DECISIONS` records one reading per conflict and the claim
ids it overrides; overridden ids are simply not targeted (their published value stays visible in
``fit.csv`` with basis ``overridden``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cart19.errors import InputError
from cart19.paths import CLAIMS_CSV

# "Within 3 months" in the paragraph on the 27 CAR-T-alone patients is read as counted from the
# day-30 CR assessment, i.e. by day 120 after infusion (decision D08).
EARLY_DAY = 120
CR_ASSESS_DAY = 30  # LFS origin: the day-30 morphologic assessment (decision D09)


def where_mask(cols, where: tuple[str, ...]) -> np.ndarray:
    """Patients for whom every literal of ``where`` holds ("attr" is 1, "~attr" is 0).

    ``cols`` maps attribute names to 0/1 columns: a DataFrame or a dict of arrays (the fast
    form for repeated counts). Empty ``where``: every patient."""
    mask = None
    for lit in where:
        neg = lit.startswith("~")
        col = np.asarray(cols[lit.lstrip("~")]) == 1
        col = ~col if neg else col
        mask = col if mask is None else mask & col
    if mask is None:
        n = len(cols) if isinstance(cols, pd.DataFrame) else len(next(iter(cols.values())))
        return np.ones(n, dtype=bool)
    return mask


@dataclass(frozen=True)
class CountTarget:
    claim_id: str
    field: str                     # which claims.csv column holds the count: "n" or "N"
    where: tuple[str, ...]         # conjunction of literals over stage-1 attributes
    note: str = ""


@dataclass(frozen=True)
class TimeTarget:
    claim_id: str
    stat: str                      # "median" | "min" | "max"
    column: str                    # cohort day column
    where: tuple[str, ...]         # literals over cohort 0/1 columns
    note: str = ""


@dataclass(frozen=True)
class KMTarget:
    claim_id: str
    endpoint: str                  # "os" | "lfs"
    where: tuple[str, ...]         # population (literals over stage-1 attributes)
    note: str = ""


@dataclass(frozen=True)
class Decision:
    key: str
    conflict: str
    overridden: tuple[str, ...]
    reading: str
    why: str


# ------------------------------------------------------------------------------------------
# Table 3: outcome x subgroup.  The TP53 and previous-transplant rows carry swapped labels
# (decisions D02, D03): the row printed "TP53+ 91/98" is read as the TP53-negative group.
# ------------------------------------------------------------------------------------------
_T3_LEVELS = {
    "age.2_14": ("child",), "age.15_61": ("~child",),
    "sex.female": ("~male",), "sex.male": ("male",),
    "bcr_abl.pos": ("bcr_abl",), "bcr_abl.neg": ("~bcr_abl",),
    "tp53.pos": ("~tp53",), "tp53.neg": ("tp53",),                       # swapped labels (D02)
    "emd.without": ("~emd",), "emd.with": ("emd",),
    "blasts20.le20": ("~bl_gt20",), "blasts20.gt20": ("bl_gt20",),
    "blasts5.lt5": ("bl_lt5",), "blasts5.ge5": ("~bl_lt5",),
    "costim.cd28": ("cd28",), "costim.41bb": ("~cd28",),
    "prior_hsct.none": ("prior_hsct",), "prior_hsct.post": ("~prior_hsct",),  # swapped (D03)
    "dose.lt3": ("~dose_ge3",), "dose.ge3": ("dose_ge3",),
}
_T3_OUTCOMES = {"cr": ("cr",), "crs34": ("crs34",), "neuro23": ("neuro23",)}

_T4_ARMS = {"hsct": ("hsct",), "no_hsct": ("cr", "~hsct")}
_T4_LEVELS = {
    "sex.male": ("male",), "sex.female": ("~male",),
    "age.2_14": ("child",), "age.15_61": ("~child",),
    "status.post_hsct": ("prior_hsct",), "status.relapsed_chemo": ("~prior_hsct", "~refractory"),
    "status.refractory": ("refractory",),
    "complex_karyotype.yes": ("complex_yes",), "complex_karyotype.no": ("~complex_yes", "~complex_unk"),
    "complex_karyotype.unknown": ("complex_unk",),
    "bcr_abl.pos": ("bcr_abl",), "bcr_abl.neg": ("~bcr_abl",),
    "tp53.pos": ("tp53",), "tp53.neg": ("~tp53",),
    "bm_blasts.le20": ("~bl_gt20",), "bm_blasts.gt20": ("bl_gt20",),
    "response.cr": ("~cri",), "response.cri": ("cri",),
    "crs.0_2": ("~crs34",), "crs.3_4": ("crs34",),
}
_T4_HSCT_ONLY = {
    "mrd_pre_hsct.neg": ("mrd_neg",), "mrd_pre_hsct.pos": ("~mrd_neg",),
    "status_pre_hsct.cr1": ("refractory",), "status_pre_hsct.cr2": ("~refractory",),  # D10
    "donor.mud": ("donor_mud",), "donor.sibling": ("donor_sib",), "donor.haplo": ("donor_haplo",),
    "conditioning.tbi": ("~cond_bu",), "conditioning.bu": ("cond_bu",),
}


def _count_targets() -> list[CountTarget]:
    t: list[CountTarget] = []
    add = lambda cid, where, fld="n", note="": t.append(CountTarget(cid, fld, tuple(where), note))
    # ---- Table 1 (N = 110) -------------------------------------------------------------
    for cid, w in {
        "table1.sex.male": ["male"], "table1.sex.female": ["~male"],
        "table1.age.2_14": ["child"], "table1.age.15_61": ["~child"],
        "table1.bm_blasts.lt5": ["bl_lt5"], "table1.bm_blasts.5_20": ["bl_5_20"],
        "table1.bm_blasts.gt20": ["bl_gt20"],
        "table1.emd.cns": ["cns"], "table1.emd.cns2": ["cns2"], "table1.emd.cns3": ["cns3"],
        "table1.emd.testicular": ["testicular"], "table1.emd.diffuse": ["diffuse"],
        "table1.emd.single_site": ["single_site"],
        "table1.complex_karyotype": ["complex_yes"],
        "table1.fusion.bcr_abl": ["bcr_abl"], "table1.fusion.tel_aml1": ["tel_aml1"],
        "table1.fusion.e2a_pbx1": ["e2a_pbx1"], "table1.fusion.e2a_hlf": ["e2a_hlf"],
        "table1.mutation.ikzf1": ["ikzf1"], "table1.mutation.tp53": ["tp53"],
        "table1.mutation.other": ["other_mut"],
        "table1.status.refractory": ["refractory"], "table1.status.relapsed": ["~refractory"],
        "table1.transplant.post": ["prior_hsct"], "table1.transplant.none": ["~prior_hsct"],
    }.items():
        add(cid, w)
    # ---- Table 2 (71 children) ---------------------------------------------------------
    add("table2.relapse_time.ge18", ["child", "t2_rel_ge18"])
    add("table2.relapse_time.lt18", ["child", "~t2_rel_ge18"])
    for lvl in ("cr1", "cr2", "nr"):
        add(f"table2.best_response.{lvl}", [f"t2_{lvl}"])
        add(f"table2.response_after.{lvl}", [f"t2_{lvl}", "cr"], "n")
        add(f"table2.response_after.{lvl}", [f"t2_{lvl}"], "N")
    # ---- Table 3 -----------------------------------------------------------------------
    for out, ow in _T3_OUTCOMES.items():
        for lvl, lw in _T3_LEVELS.items():
            cid = f"table3.{out}.{lvl}"
            add(cid, lw + ow, "n")
            add(cid, lw, "N")
    # ---- Table 4 -----------------------------------------------------------------------
    for lvl, lw in _T4_LEVELS.items():
        for arm, aw in _T4_ARMS.items():
            add(f"table4.{lvl}.{arm}", aw + lw)
    for lvl, lw in _T4_HSCT_ONLY.items():
        add(f"table4.{lvl}.hsct", ("hsct",) + lw)
    # ---- Results text ------------------------------------------------------------------
    add("results.cr_day30", ["cr"])
    add("fig4.cri", ["cri"])
    add("results.mrd_neg_cr", ["mrd_neg"])
    add("results.mrd_pos_cr", ["cr", "~mrd_neg"])
    add("results.dose.below_target.n", ["dose_lt1"])
    add("results.dose.below_target.n", ["dose_lt1", "cr"], "n", "all of them in CR on day 30")
    add("results.bcr_abl.cml_bc", ["cml_bc"])
    add("results.bcr_abl.p190", ["bcr_p190"])
    add("results.bcr_abl.p210", ["bcr_abl", "~bcr_p190"])
    add("results.bcr_abl.mrd_neg", ["bcr_abl", "mrd_neg"])
    add("results.bcr_abl.molecular_neg.d30", ["bcr_neg_d30"])
    add("results.bcr_abl.molecular_neg.d60", ["bcr_neg_d60"])
    add("results.tp53.cr", ["tp53", "cr"])
    add("results.emd.n", ["emd"])
    add("results.cns.cns3", ["cns3"])
    add("results.cns.cns3", ["cns"], "N")
    add("results.cns.mrd_pos", ["cns", "cr", "~mrd_neg"])
    add("results.blasts20.gt20.n", ["bl_gt20"])
    add("results.prior_hsct.dli", ["dli"])
    add("methods.pbmc.post_hsct.donor", ["donor_pbmc"])
    add("results.prior_hsct.cr", ["prior_hsct", "cr"])
    add("results.prior_hsct.agvhd", ["gvhd_acute"])
    add("results.prior_hsct.cgvhd", ["gvhd_chronic"])
    add("results.prior_hsct.second_hsct", ["prior_hsct", "hsct"])
    add("results.hsct.n", ["hsct"])
    add("results.hsct.mrd_neg", ["hsct", "mrd_neg"])
    add("results.hsct.mrd_pos", ["hsct", "~mrd_neg"])
    add("results.hsct.relapse", ["hsct", "relapse"])
    add("results.hsct.relapse.bm", ["hsct", "relapse", "~rel_emd"])
    add("results.hsct.relapse.emd", ["hsct", "rel_emd"])
    add("results.hsct.relapse.mrd_neg", ["hsct", "mrd_neg", "relapse"])
    add("results.hsct.relapse.mrd_pos", ["hsct", "~mrd_neg", "relapse"])
    add("results.hsct.deaths", ["hsct", "death"])
    add("results.hsct.deaths.sepsis", ["hsct", "dc_infection"])
    add("results.hsct.deaths.gvhd", ["hsct", "dc_gvhd"])
    add("results.hsct.deaths.relapse", ["hsct", "dc_relapse"])
    add("results.no_hsct.n", ["cr", "~hsct"])
    add("results.no_hsct.prior_hsct.n", ["cr", "~hsct", "prior_hsct"])
    add("results.no_hsct.prior_hsct.early_relapse", ["cr", "~hsct", "prior_hsct", "rel_early"])
    add("results.no_hsct.prior_hsct.early_death",
        ["cr", "~hsct", "prior_hsct", "death_early", "~rel_early"])
    add("results.no_hsct.prior_hsct.other",
        ["cr", "~hsct", "prior_hsct", "~death_early", "~rel_early"])
    add("results.no_hsct.no_prior_hsct.n", ["cr", "~hsct", "~prior_hsct"])
    add("results.no_hsct.no_prior_hsct.early_relapse", ["cr", "~hsct", "~prior_hsct", "rel_early"])
    add("results.no_hsct.no_prior_hsct.short_followup", ["cr", "~hsct", "~prior_hsct", "short_fu"])
    add("results.no_hsct.no_prior_hsct.other",
        ["cr", "~hsct", "~prior_hsct", "~rel_early", "~short_fu"])
    add("results.no_hsct.relapse", ["cr", "~hsct", "relapse"])
    add("results.no_hsct.relapse.cd19_pos", ["cr", "~hsct", "relapse", "~rel_cd19neg"])
    add("results.no_hsct.relapse.cd19_neg", ["cr", "~hsct", "rel_cd19neg"])
    add("results.relapse.total", ["relapse"])
    add("results.relapse.cd19_neg", ["rel_cd19neg"])
    add("results.relapse.cd19_pos", ["relapse", "~rel_cd19neg"])
    add("results.tp53.relapse", ["tp53", "relapse"])
    add("results.tp53.relapse.emd", ["tp53", "rel_emd"])
    add("results.tp53.deaths", ["tp53", "death"])
    add("results.tp53.deaths.gvhd", ["tp53", "dc_gvhd"])
    add("results.tp53.deaths.infection", ["tp53", "dc_infection"])
    add("results.tp53.deaths.relapse", ["tp53", "dc_relapse"])
    add("results.bcr_abl.relapse", ["bcr_abl", "relapse"])
    add("results.crs.any", ["~crs0"])
    add("results.crs.grade12", ["crs12"])
    add("results.crs.grade34", ["crs34"])
    add("results.crs.grade3", ["crs3"])
    add("results.crs.grade4", ["crs4"])
    add("results.crs.dexamethasone", ["dex"])
    add("results.crs.tocilizumab", ["toci"])
    add("results.neuro.any", ["~neuro0"])
    add("results.neuro.grade23", ["neuro23"])
    add("results.neuro.grade1", ["neuro1"])
    add("results.neuro.seizure", ["seizure"])
    add("results.cns.neuro", ["cns", "~neuro0"])
    add("results.cns.neuro", ["cns"], "N")
    add("results.cns.neuro.cns3", ["cns3", "neuro1"], "n", "the CNS-3 patient's neurotoxicity was grade 1")
    add("results.cns.neuro.cns1", ["cns", "~cns2", "~cns3", "~neuro0"], "n",
        "CNS-1 patients with neurotoxicity; their grades 1 and 3 are hard logic in the model")
    add("results.prior_hsct.mrd_neg_cr", ["prior_hsct", "mrd_neg", "~relapse", "~death"], "n",
        "'remained in MRD-negative CR' read as alive, relapse-free and MRD-negative at last follow-up")
    add("results.prior_hsct.mrd_neg_cr", ["prior_hsct", "cr"], "N")
    return t


COUNT_TARGETS: list[CountTarget] = _count_targets()

# ------------------------------------------------------------------------------------------
# Stage 2: times (days from infusion) and Kaplan-Meier landmarks
# ------------------------------------------------------------------------------------------
TIME_TARGETS: list[TimeTarget] = [
    TimeTarget("results.followup", "median", "os_days", ()),
    TimeTarget("results.followup", "min", "os_days", ()),
    TimeTarget("results.followup", "max", "os_days", ()),
    TimeTarget("table4.hsct_day", "median", "hsct_day", ("hsct_after",)),
    TimeTarget("table4.hsct_day", "min", "hsct_day", ("hsct_after",)),
    TimeTarget("table4.hsct_day", "max", "hsct_day", ("hsct_after",)),
    TimeTarget("results.hsct.day", "median", "hsct_day", ("hsct_after",)),
    TimeTarget("results.hsct.day", "min", "hsct_day", ("hsct_after",)),
    TimeTarget("results.hsct.day", "max", "hsct_day", ("hsct_after",)),
    TimeTarget("results.tp53.relapse_time", "median", "relapse_day", ("tp53", "relapse")),
    TimeTarget("results.tp53.relapse_time", "min", "relapse_day", ("tp53", "relapse")),
    TimeTarget("results.tp53.relapse_time", "max", "relapse_day", ("tp53", "relapse")),
    TimeTarget("results.tp53.death_time", "median", "death_day", ("tp53", "death")),
    TimeTarget("results.tp53.death_time", "min", "death_day", ("tp53", "death")),
    TimeTarget("results.tp53.death_time", "max", "death_day", ("tp53", "death")),
    TimeTarget("results.hsct.relapse_time", "median", "relapse_day", ("hsct_after", "relapse")),
    TimeTarget("results.hsct.relapse_time", "min", "relapse_day", ("hsct_after", "relapse")),
    TimeTarget("results.hsct.relapse_time", "max", "relapse_day", ("hsct_after", "relapse")),
    TimeTarget("results.no_hsct.relapse_time", "median", "relapse_day", ("~hsct_after", "relapse")),
    TimeTarget("results.no_hsct.relapse_time", "min", "relapse_day", ("~hsct_after", "relapse")),
    TimeTarget("results.no_hsct.relapse_time", "max", "relapse_day", ("~hsct_after", "relapse")),
    TimeTarget("results.bcr_abl.relapse_time", "median", "relapse_day", ("bcr_abl", "relapse")),
    TimeTarget("results.bcr_abl.relapse_time", "min", "relapse_day", ("bcr_abl", "relapse")),
    TimeTarget("results.bcr_abl.relapse_time", "max", "relapse_day", ("bcr_abl", "relapse")),
]

KM_TARGETS: list[KMTarget] = [
    KMTarget("results.fig2.os.all.1y", "os", ()),
    KMTarget("results.fig2.lfs.all.1y", "lfs", ()),
    KMTarget("results.fig2.os.cr.1y", "os", ("cr",)),
    KMTarget("results.fig2.lfs.cr.1y", "lfs", ("cr",)),
    KMTarget("fig3.os.hsct.1y", "os", ("hsct",)),
    KMTarget("fig3.os.no_hsct.1y", "os", ("cr", "~hsct")),
    KMTarget("fig3.lfs.hsct.1y", "lfs", ("hsct",)),
    KMTarget("fig3.lfs.no_hsct.1y", "lfs", ("cr", "~hsct")),
    KMTarget("fig4.os.cr.1y", "os", ("cr", "~cri")),
    KMTarget("fig4.os.cri.1y", "os", ("cri",)),
    KMTarget("fig4.lfs.cr.1y", "lfs", ("cr", "~cri")),
    KMTarget("fig4.lfs.cri.1y", "lfs", ("cri",)),
    KMTarget("fig5.os.mrd_neg.1y", "os", ("mrd_neg",)),
    KMTarget("fig5.os.mrd_pos.1y", "os", ("cr", "~mrd_neg")),
    KMTarget("fig5.lfs.mrd_neg.1y", "lfs", ("mrd_neg",)),
    KMTarget("fig5.lfs.mrd_pos.1y", "lfs", ("cr", "~mrd_neg")),
    KMTarget("fig6.os.tp53_pos.6m", "os", ("cr", "tp53")),
    KMTarget("fig6.os.tp53_neg.6m", "os", ("cr", "~tp53")),
    KMTarget("fig6.lfs.tp53_pos.6m", "lfs", ("cr", "tp53")),
    KMTarget("fig6.lfs.tp53_neg.6m", "lfs", ("cr", "~tp53")),
    KMTarget("fig7.os.post_hsct.1y", "os", ("cr", "prior_hsct")),
    KMTarget("fig7.os.no_prior_hsct.1y", "os", ("cr", "~prior_hsct")),
    KMTarget("fig7.lfs.post_hsct.1y", "lfs", ("cr", "prior_hsct")),
    KMTarget("fig7.lfs.no_prior_hsct.1y", "lfs", ("cr", "~prior_hsct")),
]

# Planning windows (NOT claims): event counts the paper never prints but its Kaplan-Meier landmarks
# constrain. KM 1 - S(t) is at least events/N, and censoring inflates it; we allow an inflation of
# 1.0-1.6, i.e. events in [N(1-S)/1.6, N(1-S)]. Stage 2 then places the times; whether the landmark
# is met is checked, not assumed. (name, where, KM claim id, endpoint)
PLANNING_FROM_KM: list[tuple[str, tuple[str, ...], str, str]] = [
    ("deaths, CAR-T alone", ("cr", "~hsct", "death"), "fig3.os.no_hsct.1y", "os"),
    ("LFS events, CAR-T alone", ("cr", "~hsct", "lfs_ev"), "fig3.lfs.no_hsct.1y", "lfs"),
    ("deaths, all 110", ("death",), "fig2.os.all.1y", "os"),
    ("deaths, post-transplant CR", ("cr", "prior_hsct", "death"), "fig7.os.post_hsct.1y", "os"),
    ("deaths, CR", ("cr", "~cri", "death"), "fig4.os.cr.1y", "os"),
    ("deaths, CRi", ("cri", "death"), "fig4.os.cri.1y", "os"),
]


KM_INFLATION = 1.6


def planning_windows(bound: "BoundTargets") -> list[tuple[str, tuple[str, ...], tuple[str, ...], float, float]]:
    """(name, events where, population where, f_lo, f_hi): f_lo*pop <= events <= f_hi*pop + 0.5."""
    pops = {t.claim_id: (t, pct) for t, pct, _ in bound.km}
    out = []
    for name, where, cid, _ep in PLANNING_FROM_KM:
        if cid in pops:
            t, pct = pops[cid]
            f = 1.0 - pct / 100.0
            out.append((name, where, t.where, f / KM_INFLATION, f))
    # Relapse-day medians / minima of a subgroup that lie below the earliest relapse after HSCT
    # force that many of the subgroup's relapses into the CAR-T-alone arm.
    tv = {(t.claim_id, t.stat): v for t, v in bound.times}
    cnt = {t.claim_id: v for t, v in bound.counts if t.field == "n"}
    arm_min = tv.get(("results.hsct.relapse_time", "min"))
    for lit, time_id, count_id in PLANNING_RELAPSE_SPLIT:
        n = cnt.get(count_id)
        if arm_min is None or not n:
            continue
        k = 0
        if tv.get((time_id, "median"), np.inf) < arm_min:
            k = n // 2 + 1 if n % 2 else n // 2
        elif tv.get((time_id, "min"), np.inf) < arm_min:
            k = 1
        if k:  # those k relapses are early relapses of the CAR-T-alone arm
            out.append((f"{lit} relapses before the first post-HSCT relapse",
                        (lit, "relapse", "~hsct", "rel_early"), (lit, "relapse"), k / n, 1.0))
    return out


# (subgroup literal, its relapse-time claim, its relapse-count claim)
PLANNING_RELAPSE_SPLIT = [
    ("tp53", "results.tp53.relapse_time", "results.tp53.relapse"),
    ("bcr_abl", "results.bcr_abl.relapse_time", "results.bcr_abl.relapse"),
]


# ------------------------------------------------------------------------------------------
# One reading per contradiction (written to data/cohort/decisions.csv)
# ------------------------------------------------------------------------------------------
DECISIONS: list[Decision] = [
    Decision("D01", "Table 1 BM blasts 42 + 14 + 44 = 100, not 110; Table 3 gives <=20%: 66 and <5%: 42",
             ("table1.bm_blasts.5_20",),
             "5 to <=20% has 24 patients (66 - 42), as Table 3 and Table 4 (65 + 37 + 8 NR) imply",
             "Three Table 3 rows and Table 4 agree on 66 patients with <=20%; the single Table 1 cell is the outlier"),
    Decision("D02", "Table 3 TP53 rows: 'TP53+ 91/98', 'TP53- 11/12' but Table 1 and the text give 12 TP53+ (11 CR)",
             (),
             "the two Table 3 TP53 rows are read with swapped labels (the 12-patient row is TP53+)",
             "Table 1, the Results (11 of 12) and Table 4 (7 + 4 = 11) all say 12 TP53+; values kept, labels swapped"),
    Decision("D03", "Table 3 transplant rows: 'No previous transplant 15/16', 'Posttransplant relapse 87/94'",
             (),
             "the two rows are read with swapped labels (16 post-transplant patients, 15 CR)",
             "Table 1 (16 post-transplant) and the Results ('15 (93.8%) of 16') agree"),
    Decision("D04", "CRi: Figure 4 caption '61 of 102' (the text's 60%) vs Table 4 CRi 43 + 17 = 60 and CR 32 + 10 = 42",
             ("table4.response.cr.hsct", "table4.response.cri.hsct"),
             "61 CRi and 41 CR (Figure 4 caption), as the audit's reading cri_total_61 adopts; the no-HSCT cells (10 CR, 17 CRi) are kept, so the HSCT arm has 31 CR / 44 CRi",
             "the caption states the count outright and the text's 60% is 61/102 = 59.8%; Table 4's HSCT-arm split is the cell that gives way (aligned with data/published/readings.csv)"),
    Decision("D05", "Table 4 complex karyotype, no-HSCT column: 9 + 14 + 2 = 25, not 27",
             ("table4.complex_karyotype.unknown.no_hsct",),
             "unknown karyotype in the no-HSCT arm is the remainder (27 - 9 - 14 = 4)",
             "the yes/no cells match their printed percentages of 27 (33%, 52%); the unknown cell's 2 (printed 5%) matches neither"),
    Decision("D06", "Second allo-HSCT patients 'disease free at 19 months and 4 months after transplant' vs maximum follow-up 478 days (15.7 months)",
             ("results.prior_hsct.second_hsct.dfs1",),
             "both second-transplant patients are alive and relapse-free at their last follow-up; the 19-month figure is not targeted",
             "no patient can be followed for 19 months after a transplant given at day >= 36 within a 478-day maximum follow-up"),
    Decision("D07", "'Six of 15 remained in MRD-negative CR at 3 to 16 months' vs maximum follow-up 478 days (15.7 months)",
             ("results.prior_hsct.mrd_neg_cr.duration",),
             "the count is targeted (6 of the 15 post-transplant responders alive, relapse-free and MRD-negative at last follow-up); the 3-16 month duration is not",
             "16 months exceeds the maximum follow-up, so the duration cannot hold on days from infusion"),
    Decision("D08", "No-HSCT arm: 10 of 13 relapses 'within 3 months' (4 + 6) vs median relapse day 100 in that arm",
             (),
             f"'within 3 months' is counted from the day-30 CR assessment: relapse or death by day {EARLY_DAY}",
             "with 10 of 13 relapses by day 90 the median could not be 100 days; counting from CR makes both hold"),
    Decision("D09", "LFS origin and non-responders (Methods: LFS from the date of CR; Figure 2 shows LFS for all 110)",
             (),
             f"LFS starts at the day-{CR_ASSESS_DAY} CR assessment; the 8 non-responders enter the 110-patient LFS as an event at time 0",
             "with NR as events at 0 the 110-patient curve is 102/110 of the CR curve: 63.2% x 102/110 = 58.6%, within 1 point of the printed 57.9%; censoring them would give 63.2%"),
    Decision("D10", "Table 4 'Disease status before allo-HSCT: CR1 7, CR2 68'",
             (),
             "CR1 before HSCT = the 7 primary-refractory patients of the HSCT arm (their first CR came from CAR T cells)",
             "Table 4 lists exactly 7 primary-refractory patients in the HSCT arm"),
    Decision("D11", "Discussion: BCR-ABL-negative 'increased to 69% on day 60' vs Results '9 (64%) of 14'",
             ("discussion.bcr_abl.molecular_neg.d60",),
             "9 of 14 (Results)",
             "9/14 = 64.3%; 69% matches no whole count of 14"),
    Decision("D12", "Discussion: 1-year LFS 76.6% after HSCT vs 76.9% (Abstract, Results, Figure 3)",
             ("discussion.lfs.hsct.1y",),
             "76.9%",
             "printed three times elsewhere"),
    Decision("D14", "CNS leukaemia CR 13 of 17 (76.5%, Results and Discussion) vs EMD CR 20 of 23 (Table 3); all 17 CNS patients are among the 23 EMD patients, so CNS non-responders (4) cannot exceed EMD non-responders (3)",
             ("results.cns.cr_rate", "results.no_cns.cr_rate", "discussion.cns.cr_rate", "discussion.no_cns.cr_rate"),
             "Table 3: 20 of 23 EMD patients reach CR; CNS leukaemia patients reach CR in at least 14 of 17 (not fixed further)",
             "Table 3 cells are all targeted and its EMD rows sum consistently to 102; the 76.5% / 95.7% pair is the outlier"),
    Decision("D15", "TP53 relapses 'range 40-225 days' vs relapse ranges by arm: 60-385 after HSCT and 52-248 without; every TP53 relapse is in one of the two arms",
             ("results.tp53.relapse_time:min",),
             "the arm ranges hold; the earliest TP53 relapse is then at day 52 or later (median 56 and maximum 225 still targeted)",
             "a relapse on day 40 would lie below both arms' printed minimum; one number must give way, and the two arm ranges are each stated once with their medians"),
    Decision("D13", "Table 2 'NR' best response before CAR T and Table 1 'refractory'",
             (),
             "children whose best response before CAR T was NR are exactly the refractory children",
             "a patient who never reached CR is primary refractory; the paper does not give the link, this is the natural reading"),
]

OVERRIDDEN: frozenset[str] = frozenset(c for d in DECISIONS for c in d.overridden)


# ------------------------------------------------------------------------------------------
# reading the claims
# ------------------------------------------------------------------------------------------
def read_claims(path: str | Path = CLAIMS_CSV) -> pd.DataFrame:
    """claims.csv as a DataFrame indexed by id (via cart19.record.claims.load_claims when present)."""
    path = Path(path)
    try:
        from cart19.record.claims import load_claims  # owned by the claims engineer
    except ImportError:  # pragma: no cover - before claims.py lands
        load_claims = None
    if load_claims is not None and path.resolve() == Path(CLAIMS_CSV).resolve():
        df = load_claims(path)
    else:
        if not path.exists():
            raise InputError(path, "claims file not found")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df.copy()
    if "id" not in df.columns:
        raise InputError(path, "missing column", column="id")
    return df.set_index("id", drop=False)


def _num(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return None if pd.isna(v) else float(v)
    s = str(v).strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def claim_value(claims: pd.DataFrame, claim_id: str, fld: str, path=CLAIMS_CSV) -> float:
    """The number a target needs from a claim row.

    ``n`` falls back to round(percent * N / 100) when only a percentage is printed.
    """
    if claim_id not in claims.index:
        raise InputError(path, f"claim id {claim_id!r} needed by the reconstruction is missing",
                         column="id")
    row = claims.loc[claim_id]
    if isinstance(row, pd.DataFrame):
        raise InputError(path, f"claim id {claim_id!r} is duplicated", column="id")
    val = _num(row.get(fld))
    if val is None and fld == "n":
        p, big_n = _num(row.get("percent")), _num(row.get("N"))
        if p is not None and big_n is not None:
            val = float(round(p * big_n / 100.0))
        elif _num(row.get("value")) is not None:
            val = _num(row.get("value"))
    if val is None and fld in ("median", "min", "max", "percent"):
        val = _num(row.get(fld))
    if val is None:
        raise InputError(path, f"claim {claim_id!r} has no usable {fld!r} value", column=fld)
    return val


@dataclass
class BoundTargets:
    """Targets with their published values attached (what the solver sees)."""
    counts: list[tuple[CountTarget, int]] = field(default_factory=list)
    times: list[tuple[TimeTarget, float]] = field(default_factory=list)
    km: list[tuple[KMTarget, float, float]] = field(default_factory=list)  # (target, percent, days)
    missing: list[str] = field(default_factory=list)


def km_days(claims: pd.DataFrame, claim_id: str) -> float:
    row = claims.loc[claim_id]
    v, unit = _num(row.get("value")), str(row.get("unit", "") or "").strip().lower()
    if v is None:  # fall back to the id suffix
        suf = claim_id.rsplit(".", 1)[-1]
        v, unit = float(suf[:-1]), {"y": "years", "m": "months"}[suf[-1]]
    return {"days": v, "day": v, "months": v * 365.25 / 12, "month": v * 365.25 / 12,
            "years": v * 365.0, "year": v * 365.0}.get(unit, v)


def bind(claims: pd.DataFrame, path=CLAIMS_CSV, strict: bool = False) -> BoundTargets:
    """Attach published values to every non-overridden target.

    Missing claim ids are collected in ``missing`` (or raise when ``strict``).
    """
    out = BoundTargets()
    for t in COUNT_TARGETS:
        if t.claim_id in OVERRIDDEN:
            continue
        try:
            out.counts.append((t, int(round(claim_value(claims, t.claim_id, t.field, path)))))
        except InputError:
            if strict:
                raise
            out.missing.append(t.claim_id)
    for t in TIME_TARGETS:
        if t.claim_id in OVERRIDDEN or f"{t.claim_id}:{t.stat}" in OVERRIDDEN:
            continue
        try:
            out.times.append((t, claim_value(claims, t.claim_id, t.stat, path)))
        except InputError:
            if strict:
                raise
            out.missing.append(t.claim_id)
    for t in KM_TARGETS:
        if t.claim_id in OVERRIDDEN:
            continue
        try:
            out.km.append((t, claim_value(claims, t.claim_id, "percent", path),
                           km_days(claims, t.claim_id)))
        except (InputError, KeyError):
            if strict:
                raise
            out.missing.append(t.claim_id)
    out.missing = sorted(set(out.missing))
    return out


def decisions_frame() -> pd.DataFrame:
    """DECISIONS as the table written to data/cohort/decisions.csv."""
    return pd.DataFrame([{"decision": d.key, "conflict": d.conflict,
                          "claims_overridden": ";".join(d.overridden),
                          "reading_adopted": d.reading, "why": d.why} for d in DECISIONS])
