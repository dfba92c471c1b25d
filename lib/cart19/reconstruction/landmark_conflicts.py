"""Can the printed Kaplan-Meier landmarks hold together with the day targets? (issue 16, item 1)

The day search (:mod:`cart19.reconstruction.printfit`) leaves some landmarks of Figures 2-7
(Zhang et al., Blood Adv 2020;4(10):2325-2338) outside their printed windows. This module asks a
solver (scipy's HiGHS mixed-integer programme, :func:`scipy.optimize.milp`) whether any days at
all could put them inside, with the stage-1 attributes fixed (who responds, relapses, is
transplanted, dies: the committed cohort's attributes) and the hard targets of
:mod:`cart19.reconstruction.times` kept.

The programme is a **relaxation**: every constraint is a necessary condition of the real
problem, so "infeasible" is a proof that no cohort with these attributes meets the claims
involved, while "feasible" only gives a route (per-landmark counts of events and censorings
before the day) that a cohort may or may not be able to follow.

* Each patient's potential follow-up, relapse day and death day lies in one interval of a grid of
  days that contains every threshold used (landmark days, target values, block and accrual
  edges); a binary per patient, quantity and interval. Order within one interval is free.
* Per-patient rules (times.Searcher.ok): infusion blocks (every CD28 patient and 42 in all in the
  early block), events after the day-30 assessment for responders, relapse before death, death
  before the end of follow-up, the day-120 bins of the CAR-T-alone arm, the short follow-up, the
  published minima and maxima as bounds; the even accrual (four bins per block within 3
  patients of their share) as an assumption that can be dropped like a claim.
* A median of m values is met only if at least ceil(m/2) values lie at or below it and as many at
  or above it (counts over the grid).
* A landmark is met only if the numbers d of events and c of censorings before its day in its
  group of n allow a Kaplan-Meier value inside its window for SOME order of those d + c exits:
  enumerated per (d, c) for groups of at most :data:`EXACT_N` (values kept to 1e-9), and for
  larger groups the necessary bounds (n - c - d)/(n - c) <= S <= (n - d)/n (censorings all
  first, events all first), which are linear in d and c. The order across grid intervals is
  fixed, which adds two conditions per grid day before the landmark (:func:`_order_cuts`).

Measured on the committed cohort: 7615 binaries, 2347 rows, 40 claim groups, feasible; about 6 s
to build and 20-30 s to solve on 2 cores, so the result is committed (:data:`CSV_PATH`, written
by ``python -m cart19.reconstruction.landmark_conflicts``, read by the audit chapter, recomputed by
a test).

:func:`irreducible` runs deletion filtering over claim groups on an infeasible system (drop one
claim's constraints; keep it dropped if the rest stays infeasible): the result is an irreducible
(minimal, not necessarily minimum) set of claims that conflict.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from cart19.reconstruction import times as times_

#: files read by default (the committed claims and cohort), for the build's declared reads
DATA_READS = ("data/cohort/cohort.csv", "data/published/claims.csv", "data/derived/landmark_conflicts.csv")
#: the committed result (a solve takes 20-30 s on 2 cores: the chapter reads it, a test recomputes it)
CSV_PATH = "data/derived/landmark_conflicts.csv"
#: groups up to this size get the exact (d, c) table; larger ones the linear bounds
EXACT_N = 45
#: values of the (d, c) enumeration are merged within this tolerance (fractions)
MERGE = 1e-9
#: the even-accrual assumption (times.SPREAD_EDGES), droppable like a claim
SPREAD_GROUP = "assumption.even_accrual"
#: HiGHS time limit per solve (s; a solve takes 20-30 s on 2 quiet cores); a solve that hits it
#: is reported as undecided, never read as infeasible
TIME_LIMIT = 300.0


# ------------------------------------------------------------------------------------------
# which (events, censorings) before a landmark allow a value in its window
# ------------------------------------------------------------------------------------------
def dc_table(n: int, lo: float, hi: float) -> np.ndarray:
    """ok[d, c]: some order of d events and c censorings (before the landmark, among n at risk at
    the start) gives a Kaplan-Meier value in [lo, hi] (fractions). An event with k at risk
    multiplies the estimate by (k - 1)/k; a censoring removes one from the risk set. Values below
    ``lo`` are pruned (the estimate never rises). Own code: no library enumerates this."""
    ok = np.zeros((n + 1, n + 1), bool)
    prev_row: list[np.ndarray] = []
    for d in range(n + 1):
        row = []
        for c in range(n + 1 - d):
            parts = []
            if d == 0 and c == 0:
                parts.append(np.array([1.0]))
            if c > 0:
                parts.append(row[c - 1])
            if d > 0 and c < len(prev_row):
                k = n - (d - 1) - c
                parts.append(prev_row[c] * ((k - 1) / k))
            v = np.concatenate(parts) if parts else np.zeros(0)
            v = v[v >= lo - MERGE]
            if len(v):
                v = np.unique(np.round(v / MERGE)) * MERGE
            row.append(v)
            ok[d, c] = bool(((v >= lo - MERGE) & (v <= hi + MERGE)).any())
        prev_row = row
        if not any(len(v) for v in row):
            break
    return ok


def dc_bounds_ok(n: int, d: int, c: int, lo: float, hi: float) -> bool:
    """The relaxed test for large groups: [(n-c-d)/(n-c), (n-d)/n] meets [lo, hi]."""
    top = (n - d) / n
    bottom = (n - c - d) / (n - c) if n > c else 1.0
    return top >= lo and bottom <= hi


# ------------------------------------------------------------------------------------------
# the programme
# ------------------------------------------------------------------------------------------
@dataclass
class Program:
    """Variables (binaries, plus the free landmark selectors) and constraint rows, each row tagged
    with the claim group it serves ("" for the structure that is always kept)."""
    nvar: int = 0
    rows: list = field(default_factory=list)        # (group, {var: coef}, lo, hi)
    names: list = field(default_factory=list)
    report: dict = field(default_factory=dict)      # landmark -> (d expr, c expr, n)
    days: tuple = ()                                # the (F, R, D) interval variables
    selectors: dict = field(default_factory=dict)   # landmark -> {(d, c): var}

    def var(self, name: str) -> int:
        self.names.append(name)
        self.nvar += 1
        return self.nvar - 1

    def add(self, group: str, coefs: dict, lo: float, hi: float) -> None:
        self.rows.append((group, coefs, lo, hi))

    def groups(self) -> list[str]:
        return list(dict.fromkeys(g for g, *_ in self.rows if g))


def grid(bound, landmarks) -> np.ndarray:
    """Interval starts (integer days): every threshold the constraints test."""
    cut = times_.cutoff(bound)
    pts = {1, 31, 37, times_.EARLY_DAY + 1, cut + 1, cut - times_.LATE_SPAN}
    pts |= {int(cut - e) + 1 for e in np.ceil(times_.SPREAD_EDGES)}
    for _t, v in bound.times:
        pts |= {math.floor(v), math.floor(v) + 1, math.ceil(v), math.ceil(v) + 1}
    for lm in landmarks:
        for shift in (0, times_.CR_ASSESS_DAY):
            x = lm.days + shift
            pts |= {math.floor(x) + 1, math.ceil(x)}
    return np.array(sorted(p for p in pts if 1 <= p <= cut + 1))


class _Days:
    """One-hot interval variables of one day quantity per patient."""

    def __init__(self, prog: Program, starts: np.ndarray, who: np.ndarray, tag: str):
        self.starts, self.ends = starts[:-1], starts[1:] - 1
        self.v = {int(i): [prog.var(f"{tag}[{i}]@{s}") for s in self.starts] for i in np.flatnonzero(who)}
        for i, vs in self.v.items():
            prog.add("", {x: 1.0 for x in vs}, 1, 1)

    def at_most(self, i: int, day: float) -> dict:
        """{var: 1} for the intervals wholly <= day (the grid makes it exact at thresholds)."""
        return {x: 1.0 for x, e in zip(self.v[i], self.ends) if e <= day}

    def within(self, prog: Program, i: int, lo: float, hi: float, group: str = "") -> None:
        """Day of patient i in [lo, hi]: intervals outside get 0."""
        bad = {x: 1.0 for x, s, e in zip(self.v[i], self.starts, self.ends) if e < lo or s > hi}
        if bad:
            prog.add(group, bad, 0, 0)

    def index(self, i: int) -> dict:
        return {x: float(k) for k, x in enumerate(self.v[i])}


def _sub(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) - v
    return out


def _patients(prog: Program, p: times_.Plan, F: _Days, R: _Days, D: _Days, cut: int) -> None:
    """Per-patient rules of times.Searcher.ok on the grid (always kept)."""
    early_lo = cut - (times_.EARLY_SPAN - 1)
    for i in range(p.n):
        F.within(prog, i, cut - times_.LATE_SPAN, cut)
        if p.cd28[i]:
            F.within(prog, i, early_lo, cut)
        if p.short[i]:
            F.within(prog, i, 0, times_.EARLY_DAY - 1)
        elif p.cr[i] and not (p.hsct[i] or p.prior[i] or p.death[i] or p.rel[i]):
            F.within(prog, i, times_.EARLY_DAY, cut)
        _events(prog, p, F, R, D, i, cut)
    early = {}
    for i in range(p.n):
        early.update({x: 1.0 for x, s in zip(F.v[i], F.starts) if s >= early_lo})
    prog.add("", early, times_.N_EARLY, times_.N_EARLY)


def _events(prog: Program, p: times_.Plan, F: _Days, R: _Days, D: _Days, i: int, cut: int) -> None:
    """Patient i's relapse and death: after the day-30 assessment (a responder) or the
    transplant (day >= 36), relapse before death, both within follow-up, the day-120 bins."""
    if p.rel[i]:
        R.within(prog, i, 37 if p.hsct[i] else times_.CR_ASSESS_DAY + 1, cut)
        prog.add("", _sub(F.index(i), R.index(i)), 0, np.inf)           # r <= f
        if p.binned[i]:
            R.within(prog, i, *((0, times_.EARLY_DAY) if p.rel_early[i] else (times_.EARLY_DAY + 1, cut)))
    if p.death[i]:
        D.within(prog, i, 37 if p.hsct[i] else (times_.CR_ASSESS_DAY + 1 if p.cr[i] else 1), cut)
        prog.add("", _sub(F.index(i), D.index(i)), 0, np.inf)           # d <= f
        if p.rel[i]:
            prog.add("", _sub(D.index(i), R.index(i)), 0, np.inf)       # r <= d
        if p.binned[i]:
            D.within(prog, i, *((0, times_.EARLY_DAY) if p.death_early[i] else (times_.EARLY_DAY + 1, cut)))


def _spread(prog: Program, p: times_.Plan, F: _Days, cut: int) -> None:
    """Each accrual bin within SPREAD_SLACK of its share (in follow-up days: f = cut - inf)."""
    edges, expect = times_.SPREAD_EDGES, times_.spread_expected(p.n)
    for b in range(len(edges) - 1):
        lo_inf, hi_inf = math.ceil(edges[b]), math.ceil(edges[b + 1]) - 1
        coefs = {}
        for i in range(p.n):
            coefs.update({x: 1.0 for x, s, e in zip(F.v[i], F.starts, F.ends)
                          if s >= cut - hi_inf and e <= cut - lo_inf})
        prog.add(SPREAD_GROUP, coefs, math.ceil(expect[b] - times_.SPREAD_SLACK),
                 math.floor(expect[b] + times_.SPREAD_SLACK))


def _column(p, F, R, D, col: str, i: int):
    """The _Days holding patient i's value of a time-target column (None: not modelled)."""
    if col == "os_days":
        return D if p.death[i] else F
    return {"relapse_day": R, "death_day": D}.get(col)


def _times(prog: Program, p, F, R, D, times) -> None:
    """Published medians (counts at or below / above) and minima / maxima (bounds) as groups
    named claim:stat. HSCT days enter no landmark and are left out (a relaxation)."""
    for cid, stat, col, mask, val in times:
        members = [i for i in np.flatnonzero(mask) if _column(p, F, R, D, col, i) is not None]
        if not members:
            continue
        g = f"{cid}:{stat}"
        if stat == "min":
            for i in members:
                _column(p, F, R, D, col, i).within(prog, i, val, np.inf, g)
        elif stat == "max":
            for i in members:
                _column(p, F, R, D, col, i).within(prog, i, -np.inf, val, g)
        else:
            need = math.ceil(len(members) / 2)
            below, above = {}, {}
            for i in members:
                days = _column(p, F, R, D, col, i)
                below.update(days.at_most(i, math.floor(val)))
                above.update(days.at_most(i, math.ceil(val) - 1))
            prog.add(g, below, need, np.inf)
            prog.add(g, above, -np.inf, len(members) - need)


def _exits(p, F, R, D, ep: str, day: float, i: int) -> tuple[dict, dict]:
    """(event before the landmark, censoring before it) of patient i as linear expressions."""
    if ep == "os":
        if p.death[i]:
            return D.at_most(i, math.floor(day)), {}
        return {}, F.at_most(i, math.ceil(day) - 1)
    shift = times_.CR_ASSESS_DAY
    if p.rel[i] or p.death[i]:
        return (R if p.rel[i] else D).at_most(i, math.floor(day + shift)), {}
    return {}, F.at_most(i, math.ceil(day + shift) - 1)


def _exit_of(p, days, ep: str, i: int):
    """(the _Days of patient i's exit from the curve, is it an event)."""
    F, R, D = days
    if ep == "os":
        return (D, True) if p.death[i] else (F, False)
    if p.rel[i] or p.death[i]:
        return (R if p.rel[i] else D), True
    return F, False


def _order_cuts(prog: Program, p, days, ep: str, members, g: str, window, ev: dict, day: float) -> None:
    """Order conditions at every grid day T before the landmark (the order across grid
    intervals is fixed). With X exits by T, d1 events by T and d2 after it (d = d1 + d2), and
    A = n - X still in the curve after T: if d2 = 0, S >= A / (A + d1) (each event by T has at
    least A + j at risk, j counted from the last), so S <= hi needs (1 - hi) A <= hi d1; if
    d1 = 0, S <= (A - d2) / A (the j-th event after T has at most A - j + 1 at risk), so S >= lo
    needs d2 <= (1 - lo) A. Each is switched off by big-M (n) when its premise fails."""
    lo, hi = window
    n = len(members)
    shift = times_.CR_ASSESS_DAY if ep == "lfs" else 0
    last = math.floor(day + shift)
    F = days[0]
    for e in F.ends[F.ends < last]:
        x, d1 = {}, {}
        for i in members:
            q, is_event = _exit_of(p, days, ep, int(i))
            part = q.at_most(int(i), e)
            x.update(part)
            if is_event:
                d1.update(part)
        d2 = _sub(ev, d1)
        # (1 - hi)(n - X) - hi d1 - n d2 <= 0
        row = {k: -(1 - hi) for k in x}
        for k, v in d1.items():
            row[k] = row.get(k, 0.0) - hi * v
        for k, v in d2.items():
            row[k] = row.get(k, 0.0) - n * v
        prog.add(g, row, -np.inf, -(1 - hi) * n + 1e-9)
        # d2 - (1 - lo)(n - X) - n d1 <= 0
        row = {k: (1 - lo) for k in x}
        for k, v in d2.items():
            row[k] = row.get(k, 0.0) + v
        for k, v in d1.items():
            row[k] = row.get(k, 0.0) - n * v
        prog.add(g, row, -np.inf, (1 - lo) * n + 1e-9)


def _landmark(prog: Program, p, F, R, D, lm, mask, cuts: bool = True) -> None:
    """A landmark's window as a condition on (d, c) in its group (module docstring)."""
    ep, g = lm.target.endpoint, lm.target.claim_id
    members = np.flatnonzero(mask)
    if ep == "lfs" and not p.cr[members].all():
        return  # LFS of a group with non-responders: follows from the responders' (landmarks.py)
    n, (lo, hi) = len(members), (lm.aim[0] / 100.0, lm.aim[1] / 100.0)
    ev, ce = {}, {}
    for i in members:
        e, c = _exits(p, F, R, D, ep, lm.days, int(i))
        ev.update(e)
        ce.update(c)
    prog.report[g] = (ev, ce, n)
    if cuts:
        _order_cuts(prog, p, (F, R, D), ep, members, g, (lo, hi), ev, lm.days)
    if n <= EXACT_N:
        ok = dc_table(n, lo, hi)
        pairs = np.argwhere(ok)
        z = [prog.var(f"{g}:d{d}c{c}") for d, c in pairs]
        prog.selectors[g] = {(int(d), int(c)): x for x, (d, c) in zip(z, pairs)}
        prog.add(g, {x: 1.0 for x in z}, 1, 1)
        prog.add(g, {**ev, **{x: -float(d) for x, (d, _c) in zip(z, pairs)}}, 0, 0)
        prog.add(g, {**ce, **{x: -float(c) for x, (_d, c) in zip(z, pairs)}}, 0, 0)
        return
    # large groups: d <= n (1 - lo) and (1 - hi)(n - c) <= d, i.e. d + (1 - hi) c >= (1 - hi) n
    prog.add(g, ev, -np.inf, math.floor(n * (1 - lo) + 1e-9))
    prog.add(g, {**ev, **{x: (1 - hi) for x in ce}}, (1 - hi) * n - 1e-9, np.inf)


def build(attrs: pd.DataFrame, bound, landmarks, cuts: bool = True) -> Program:
    """The programme for stage-1 attributes ``attrs``, bound targets ``bound`` and landmarks
    (:func:`cart19.reconstruction.landmarks.bind`; those without an aim are left out);
    ``cuts``: the order conditions across grid intervals (:func:`_order_cuts`)."""
    _a, p, km, tms = times_._problem(attrs, bound)
    cut = times_.cutoff(bound)
    starts = grid(bound, landmarks)
    prog = Program()
    F = _Days(prog, starts, np.ones(p.n, bool), "f")
    R = _Days(prog, starts, p.rel, "r")
    D = _Days(prog, starts, p.death, "d")
    prog.days = (F, R, D)
    _patients(prog, p, F, R, D, cut)
    _spread(prog, p, F, cut)
    _times(prog, p, F, R, D, tms)
    masks = {row[0]: row[2] for row in km}
    for lm in landmarks:
        if lm.aim is not None and lm.target.claim_id in masks:
            _landmark(prog, p, F, R, D, lm, masks[lm.target.claim_id], cuts)
    return prog


@dataclass
class Result:
    feasible: bool | None       # None: the time limit was hit
    seconds: float
    x: np.ndarray | None = None


def solve(prog: Program, drop: frozenset = frozenset(), time_limit: float = TIME_LIMIT) -> Result:
    """Feasibility of the programme without the rows of the groups in ``drop`` (HiGHS)."""
    rows = [r for r in prog.rows if r[0] not in drop]
    ri, ci, vals = [], [], []
    for k, (_g, coefs, _lo, _hi) in enumerate(rows):
        ri += [k] * len(coefs)
        ci += list(coefs)
        vals += list(coefs.values())
    A = coo_matrix((vals, (ri, ci)), shape=(len(rows), prog.nvar)).tocsr()
    lo = np.array([r[2] for r in rows], float)
    hi = np.array([r[3] for r in rows], float)
    t0 = time.perf_counter()
    res = milp(np.zeros(prog.nvar), constraints=LinearConstraint(A, lo, hi),
               integrality=np.ones(prog.nvar), bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "presolve": True})
    sec = time.perf_counter() - t0
    if res.status == 0:
        return Result(True, sec, res.x)
    if res.status == 2:
        return Result(False, sec)
    return Result(None, sec)


def irreducible(prog: Program, keep: tuple[str, ...] = ()) -> tuple[list[str], float]:
    """Deletion filter: a set of claim groups whose constraints (with the structure) are
    infeasible and each of which is needed. Groups in ``keep`` are never dropped. Returns (groups,
    seconds). Raises if the whole programme is feasible."""
    t0 = time.perf_counter()
    if solve(prog).feasible is not False:
        raise ValueError("the programme is not (proven) infeasible")
    dropped: set[str] = set()
    for g in prog.groups():
        if g in keep:
            continue
        if solve(prog, frozenset(dropped | {g})).feasible is False:
            dropped.add(g)
    return [g for g in prog.groups() if g not in dropped], time.perf_counter() - t0


def witness(prog: Program, x: np.ndarray) -> pd.DataFrame:
    """Per landmark of a feasible solution: group size, events and censorings before its day."""
    rows = []
    for g, (ev, ce, n) in prog.report.items():
        rows.append({"landmark": g, "n": n, "events_before": int(round(sum(x[v] for v in ev))),
                     "censored_before": int(round(sum(x[v] for v in ce)))})
    return pd.DataFrame(rows)


def encode(prog: Program, f: np.ndarray, r: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A cohort's days (potential follow-up ``f``, relapse ``r``, death ``d`` per patient) as a
    point of the programme, the selector of each exactly enumerated landmark set to the cohort's
    (events, censorings) when that pair is allowed: the committed cohort must satisfy every row
    outside the landmark groups (the structure is a relaxation) and the rows of every landmark
    it prints."""
    x = np.zeros(prog.nvar)
    for days, vals in zip(prog.days, (f, r, d)):
        for i, vs in days.v.items():
            k = int(np.searchsorted(days.starts, vals[i], side="right")) - 1
            x[vs[k]] = 1.0
    for g, (ev, ce, _n) in prog.report.items():
        dc = (int(round(sum(x[v] for v in ev))), int(round(sum(x[v] for v in ce))))
        if dc in prog.selectors.get(g, {}):
            x[prog.selectors[g][dc]] = 1.0
    return x


def violated(prog: Program, x: np.ndarray, skip: set[str] = frozenset()) -> list[str]:
    """Groups ("" for the structure) with a row that ``x`` does not satisfy."""
    out = []
    for g, coefs, lo, hi in prog.rows:
        v = sum(x[k] * c for k, c in coefs.items())
        if g not in skip and not lo - 1e-9 <= v <= hi + 1e-9:
            out.append(g)
    return list(dict.fromkeys(out))


def committed_point(prog: Program, bound, cohort: pd.DataFrame) -> np.ndarray:
    """:func:`encode` of a cohort frame (data/cohort/cohort.csv, rows as the base cohort's)."""
    inf = (pd.to_datetime(cohort["infusion_date"]) - pd.Timestamp(times_.WINDOW_START)).dt.days
    f = times_.cutoff(bound) - inf.to_numpy()
    return encode(prog, f, cohort["relapse_day"].to_numpy(), cohort["death_day"].to_numpy())


def problem(claims_path=None, cohort_path=None):
    """(programme, landmarks, bound targets, cohort) for the committed record and cohort
    (data/cohort/cohort.csv): its attributes (:func:`cart19.comparison.reproducers.attribute_frame`)
    fix who responds, relapses, is transplanted and dies; its days are not used."""
    from cart19.comparison import reproducers as Rp
    from cart19.paths import CLAIMS_CSV, COHORT_CSV
    from cart19.reconstruction import landmarks as L
    from cart19.reconstruction import milp as M
    from cart19.reconstruction import targets as T

    path = CLAIMS_CSV if claims_path is None else claims_path
    claims = T.read_claims(path)
    bound = T.bind(claims, path)
    cohort = pd.read_csv(COHORT_CSV if cohort_path is None else cohort_path)
    attrs = Rp.attribute_frame(cohort)[list(M.ATTRS)].astype(int)
    lms = L.landmarks_of(path)
    return build(attrs, bound, lms), lms, bound, cohort


def table(claims_path=None) -> tuple[pd.DataFrame, dict]:
    """The audit chapter's table and counts (Figures 2-7): one row per landmark in the programme
    (group size, the window aimed at, whether its (d, c) condition is exact), the committed
    cohort's events and censorings before the day and whether those counts allow the window for
    some order; for a feasible programme the witness's counts, for an infeasible one whether the
    landmark is in the irreducible set. Summary: feasible, seconds, size, the irreducible set."""
    t0 = time.perf_counter()
    prog, lms, bound, cohort = problem(claims_path)
    built = time.perf_counter() - t0
    res = solve(prog)
    by = {lm.target.claim_id: lm for lm in lms}
    here = committed_point(prog, bound, cohort)
    bad = set(violated(prog, here))
    rows = pd.DataFrame([{"landmark": g, "n": n, "window": f"{by[g].aim[0]:.2f}-{by[g].aim[1]:.2f}",
                          "exact": n <= EXACT_N} for g, (_e, _c, n) in prog.report.items()])
    mine = witness(prog, here).rename(columns={"events_before": "cohort_events",
                                               "censored_before": "cohort_censored"})
    rows = rows.merge(mine[["landmark", "cohort_events", "cohort_censored"]], on="landmark")
    rows["cohort_counts_allow"] = ~rows["landmark"].isin(bad)
    info = {"feasible": res.feasible, "solve_seconds": res.seconds, "build_seconds": built,
            "variables": prog.nvar, "rows": len(prog.rows), "groups": len(prog.groups()),
            "landmarks": len(prog.report), "structure_holds": "" not in bad and not bad - set(prog.report),
            "irreducible": []}
    if res.feasible:
        w = witness(prog, res.x).rename(columns={"events_before": "witness_events",
                                                 "censored_before": "witness_censored"})
        rows = rows.merge(w[["landmark", "witness_events", "witness_censored"]], on="landmark")
    elif res.feasible is False:
        info["irreducible"], info["filter_seconds"] = irreducible(prog)
        rows["in_conflict"] = rows["landmark"].isin(info["irreducible"])
    return rows, info


#: summary keys stored beside the rows of the committed table (times are not stored)
SUMMARY = ("feasible", "variables", "rows", "groups", "landmarks", "structure_holds")


def compute(claims_path=None) -> pd.DataFrame:
    """:func:`table` as one frame: the per-landmark rows, the summary in columns "programme_*"
    and the irreducible set (";"-joined) in "irreducible"."""
    rows, info = table(claims_path)
    for k in SUMMARY:
        rows[f"programme_{k}"] = info[k]
    rows["irreducible"] = "; ".join(info["irreducible"])
    return rows


def read(path=None) -> tuple[pd.DataFrame, dict]:
    """The committed table (:data:`CSV_PATH`): (rows, summary) as :func:`table` returns them."""
    from cart19.paths import ROOT

    frame = pd.read_csv(ROOT / CSV_PATH if path is None else path, keep_default_na=False)
    info = {k: frame[f"programme_{k}"].iloc[0] for k in SUMMARY}
    info = {k: (v if isinstance(v, str) else v.item()) for k, v in info.items()}  # plain Python
    info["irreducible"] = [g for g in str(frame["irreducible"].iloc[0]).split("; ") if g]
    keep = [c for c in frame.columns if not c.startswith("programme_") and c != "irreducible"]
    return frame[keep], info


if __name__ == "__main__":  # python -m cart19.reconstruction.landmark_conflicts: recompute the table
    from cart19.paths import ROOT

    t0 = time.perf_counter()
    compute().to_csv(ROOT / CSV_PATH, index=False)
    print(f"wrote {CSV_PATH} in {time.perf_counter() - t0:.1f} s")
