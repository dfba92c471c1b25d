"""Stage 2 of the reconstruction, its kit: the enrolment calendar, Kaplan-Meier at one time point,
the per-patient day constraints and the patient matching of a warm start.

Split from :mod:`cart19.reconstruction.times` (which re-exports every name here) so that the
search (:class:`cart19.reconstruction.times.Searcher`) stays one module. The calendar serves
Figure 1B and the Methods (CD28 until November 2017, 4-1BB after); the day ranges and bins serve
the Results' medians and ranges and the Kaplan-Meier landmarks of Figures 2-7.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cart19.reconstruction.targets import CR_ASSESS_DAY, EARLY_DAY, where_mask

WINDOW_START = dt.date(2017, 4, 15)      # first infusion (enrolment opened 1 Apr 2017)
SWITCH = dt.date(2017, 11, 1)            # 4-1BB only from November 2017 (Methods)
WINDOW_END = dt.date(2018, 5, 31)        # last infusion (enrolment closed 1 May 2018)
N_EARLY = 42                             # first 42 infusions: 21 CD28 + 21 4-1BB
EARLY_SPAN = (SWITCH - WINDOW_START).days          # early block: days [0, EARLY_SPAN)
LATE_SPAN = (WINDOW_END - WINDOW_START).days       # late block: [EARLY_SPAN, LATE_SPAN]
HSCT_RANGE = (36, 120)
DAY_COLS = ("os_days", "hsct_day", "relapse_day", "death_day")  # columns of the time targets
#: Even accrual. Patients were enrolled consecutively (Results), so each block's infusions are
#: spread evenly over it: four equal bins per block, each within SPREAD_SLACK patients of its
#: share. A modelling assumption, not a published number. Without it the search crowds
#: infusions into a few weeks and leaves 1-2 patients at risk at one year, where half a KM step
#: is a 25-40 point tolerance.
SPREAD_EDGES = np.r_[np.linspace(0, EARLY_SPAN, 5), np.linspace(EARLY_SPAN, LATE_SPAN + 1, 5)[1:]]
SPREAD_SLACK = 3
#: soft loss: per KM point beyond 1 from the published value (the hard loss is 5 per point
#: beyond the tolerance)
SOFT_KM_WEIGHT = 0.3
#: Metropolis temperature of the exploration moves (in soft-loss units)
EXPLORE_TEMP = 0.1
#: iterations of :meth:`Searcher.polish` (KM landmarks pulled towards their published values
#: once every target holds): long for the base cohort and for a single reconstruction (the
#: committed cohort), short for each cohort of an ensemble chain, which starts from the
#: polished days of the one before
POLISH_BASE = 10000
POLISH_SINGLE = 6000
POLISH_STEP = 400


def km_at(time: np.ndarray, event: np.ndarray, t: float) -> tuple[float, int]:
    """Product-limit S(t) (events before censorings at tied times) and the number at risk at t."""
    if len(time) == 0:
        return float("nan"), 0
    srt = np.sort(time)
    us, d = np.unique(time[(event == 1) & (time <= t)], return_counts=True)
    n_risk = len(srt) - np.searchsorted(srt, us, side="left")
    s = float(np.prod(1.0 - d / n_risk)) if len(us) else 1.0
    return s, int(len(srt) - np.searchsorted(srt, t, side="left"))


def km_tolerance(s, n_risk):
    """max(1 point, half the KM step one event at t would cause), in percentage points
    (scalars or arrays)."""
    return np.maximum(1.0, 50.0 * np.asarray(s) / np.maximum(n_risk, 1))


#: a landmark exactly at its tolerance (e.g. |66.67 - 50| against half of a 33.3-point step)
#: is within it; the floating-point sums differ in the last bits (the scorecard uses this rule too)
KM_EPS = 1e-9


def km_within(dev, tol):
    """|KM - published| <= tolerance, robust to floating-point ties."""
    return np.asarray(dev) <= np.asarray(tol) + KM_EPS


@dataclass
class Plan:
    """Everything stage 2 needs about one cohort, as numpy arrays (0/1 ints)."""
    a: pd.DataFrame  # stage-1 attributes

    def __post_init__(self):
        g = lambda k: self.a[k].to_numpy().astype(bool)
        self.cr, self.hsct, self.rel, self.death = g("cr"), g("hsct"), g("relapse"), g("death")
        self.rel_early, self.death_early, self.short = g("rel_early"), g("death_early"), g("short_fu")
        self.cd28, self.prior = g("cd28"), g("prior_hsct")
        self.n = len(self.a)
        # the day-120 bins are targeted only in the CAR-T-alone arm (Results); elsewhere free
        self.binned = self.cr & ~self.hsct


def _os_lfs(p: Plan, f, h, r, d):
    """OS and LFS (time, event) arrays from the day variables (decision D09 for LFS)."""
    os_t = np.where(p.death, d, f).astype(float)
    os_e = p.death.astype(int)
    end = np.where(p.rel, r, np.where(p.death, d, f)).astype(float)
    lfs_t = np.where(p.cr, end - CR_ASSESS_DAY, 0.0)
    lfs_e = np.where(p.cr, (p.rel | p.death).astype(int), 1)
    return os_t, os_e, lfs_t, lfs_e


def spread_counts(inf: np.ndarray) -> np.ndarray:
    """Infusions per accrual bin (days after the first infusion; :data:`SPREAD_EDGES`)."""
    idx = np.searchsorted(SPREAD_EDGES, inf, side="right")
    return np.bincount(idx, minlength=len(SPREAD_EDGES) + 1)[1:len(SPREAD_EDGES)]


def spread_expected(n: int) -> np.ndarray:
    """Each accrual bin's share: N_EARLY patients over the early block, the rest over the late."""
    width = np.diff(SPREAD_EDGES)
    early = SPREAD_EDGES[:-1] < EARLY_SPAN
    return width * np.where(early, N_EARLY / EARLY_SPAN, (n - N_EARLY) / (LATE_SPAN + 1 - EARLY_SPAN))


def _bounds(times, n: int):
    """Per patient and day column, the range its published minima and maxima allow: every
    relapse of a transplanted patient at most 385 days (Results), and so on. Enforced as
    constraints on each move rather than as loss terms: the search then only has to put one
    patient on the extreme (a maximum missed by a few days was its commonest dead end)."""
    cols = ("os_days", "hsct_day", "relapse_day", "death_day")
    lo = {c: np.full(n, -np.inf) for c in cols}
    hi = {c: np.full(n, np.inf) for c in cols}
    for _cid, stat, col, mask, val in times:
        if stat == "min":
            lo[col][mask] = np.maximum(lo[col][mask], val)
        elif stat == "max":
            hi[col][mask] = np.minimum(hi[col][mask], val)
    return lo, hi


@dataclass
class Days:
    """The stage-2 state of a cohort (row-aligned with its stage-1 attributes)."""
    inf: np.ndarray
    early: np.ndarray
    h: np.ndarray
    r: np.ndarray
    d: np.ndarray


def _problem(attrs: pd.DataFrame, bound):
    a = attrs.copy()
    a["hsct_after"] = a["hsct"]
    plan = Plan(a)
    km = [(t.claim_id, t.endpoint, where_mask(a, t.where), pct, days) for t, pct, days in bound.km]
    times = [(t.claim_id, t.stat, t.column, where_mask(a, t.where), v) for t, v in bound.times]
    return a, plan, km, times


def cutoff(bound) -> int:
    """Data cut-off in days after the first infusion: the first infused patient is followed
    longest, so it is the published maximum follow-up (Results: 478 days)."""
    v = {(t.claim_id, t.stat): v for t, v in bound.times}.get(("results.followup", "max"))
    return int(v) if v is not None else LATE_SPAN + 1


EVENT_ATTRS = ("cr", "hsct", "relapse", "death", "rel_early", "death_early", "short_fu", "cd28",
               "prior_hsct")


def signature(attrs: pd.DataFrame, bound, groups: bool = True) -> np.ndarray:
    """Per patient, the stage-1 attributes stage 2 depends on (its bins and, with ``groups``,
    every group of a time or KM target), packed in one integer: equal signatures can share
    days."""
    cols = set(EVENT_ATTRS)
    for t, *_ in (list(bound.km) + list(bound.times)) if groups else []:
        cols |= {lit.lstrip("~") for lit in t.where}
    x = attrs[sorted({c if c != "hsct_after" else "hsct" for c in cols})].to_numpy().astype(np.int64)
    return x @ (1 << np.arange(x.shape[1], dtype=np.int64))


def match_rows(new_sigs, old_sigs, rng: np.random.Generator) -> np.ndarray:
    """For each new patient, a previous patient to start its days from (each used once): the
    same row when its first signature is unchanged, otherwise a random unused patient with the
    same first signature, else the same second (coarser) signature, ...; -1 when none is left.
    ``new_sigs``/``old_sigs``: lists of signature arrays, finest first."""
    n = len(new_sigs[0])
    source = np.where(new_sigs[0] == old_sigs[0], np.arange(n), -1)
    used = np.zeros(len(old_sigs[0]), bool)
    used[source[source >= 0]] = True
    for new_sig, old_sig in zip(new_sigs, old_sigs):
        pool: dict[int, list[int]] = {}
        for j in rng.permutation(np.flatnonzero(~used)):
            pool.setdefault(int(old_sig[j]), []).append(int(j))
        for i in np.flatnonzero(source < 0):
            cand = pool.get(int(new_sig[i]))
            if cand:
                source[i] = j = cand.pop()
                used[j] = True
    return source


def extreme_holders(attrs: pd.DataFrame, bound, days: Days) -> np.ndarray:
    """Rows that sit on a published minimum or maximum of days (the 27-day follow-up, the
    385-day relapse after transplant, ...). A walk keeps them: a freed extreme often cannot be
    re-reached by any patient of the new attributes (the shortest follow-up needs a
    non-responder's early death), and the warm search then fails and the step is redrawn."""
    a, plan, _km, times = _problem(attrs, bound)
    os_t = _os_lfs(plan, cutoff(bound) - days.inf, days.h, days.r, days.d)[0]
    cols = dict(zip(DAY_COLS, (os_t, days.h, days.r, days.d)))
    out = set()
    for _cid, stat, col, mask, val in times:
        if stat in ("min", "max"):
            out |= set(np.flatnonzero(mask & (cols[col] == val)).tolist())
    return np.array(sorted(out), int)


# ---- feasibility of one patient's days (:meth:`cart19.reconstruction.times.Searcher.ok`) ----
def in_block(s, i) -> bool:
    """Infusion inside its block (early: before the 4-1BB switch); every CD28 patient is early."""
    if s.early[i]:
        return 0 <= s.inf[i] < EARLY_SPAN
    return EARLY_SPAN <= s.inf[i] <= LATE_SPAN and not s.p.cd28[i]


def within_bounds(s, i, f) -> bool:
    """Every day column inside the range its published minima and maxima allow (:func:`_bounds`)."""
    p = s.p
    cols = (("os_days", True, s.d[i] if p.death[i] else f), ("hsct_day", p.hsct[i], s.h[i]),
            ("relapse_day", p.rel[i], s.r[i]), ("death_day", p.death[i], s.d[i]))
    return all(s.lo[c][i] <= v <= s.hi[c][i] for c, on, v in cols if on)


def hsct_ok(s, i, f) -> bool:
    """A transplant inside HSCT_RANGE and before the end of follow-up."""
    return not s.p.hsct[i] or (HSCT_RANGE[0] <= s.h[i] <= HSCT_RANGE[1] and s.h[i] <= f)


def relapse_ok(s, i, f) -> bool:
    """A relapse after the CR assessment, after any transplant, within follow-up and in its bin."""
    p, r = s.p, s.r[i]
    if not p.rel[i]:
        return True
    if r <= CR_ASSESS_DAY or r > f or (p.hsct[i] and r <= s.h[i]):
        return False
    return not p.binned[i] or p.rel_early[i] == (r <= EARLY_DAY)


def death_ok(s, i, f) -> bool:
    """A death from day 1, after the CR assessment (responders), any relapse and any transplant,
    within follow-up and in its bin; without a death, at least a day of follow-up."""
    p, dd = s.p, s.d[i]
    if not p.death[i]:
        return f >= 1
    if dd > f or dd < 1 or (p.cr[i] and dd <= CR_ASSESS_DAY):
        return False
    if (p.rel[i] and dd <= s.r[i]) or (p.hsct[i] and dd <= s.h[i]):
        return False
    return not p.binned[i] or p.death_early[i] == (dd <= EARLY_DAY)


def followup_ok(s, i, f) -> bool:
    """A responder with no later event is short-followed exactly when its follow-up ends before
    day 120 (the short_fu bin)."""
    p = s.p
    if p.cr[i] and not p.hsct[i] and not p.prior[i] and not p.death[i] and not p.rel[i]:
        return p.short[i] == (f < EARLY_DAY)
    return True
