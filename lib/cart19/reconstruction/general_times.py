"""Stage 2 of the general engine: event and censoring times for one or two endpoints.

Stage 1 (:mod:`cart19.reconstruction.general_milp`) fixed who has an event of each endpoint and
every binary characteristic. This stage places the times so that what a paper prints about them
holds: medians and ranges of follow-up, of event times and of the day patients switch into a
time-dependent arm (:class:`~cart19.reconstruction.general_study.Switch`); Kaplan-Meier landmarks
per group; numbers at risk; the log-rank P and the hazard ratio of every printed comparison.
Each target is an interval (the values that print the same,
:mod:`cart19.reconstruction.general_targets`); the loss is the distance outside the intervals.

The search is simulated annealing over integer times. Moves: redraw one time within its bounds,
jitter it, swap the times of two patients with the same event status (margins and the overall
curve stay put, only who has which time changes), and moves aimed at one missed target (an
event moved across a landmark, a censoring across a time of the numbers at risk, an arm-A event
traded with a later arm-B one to move a hazard ratio). Published minima and maxima are hard
bounds, as in the Zhang engine (:mod:`cart19.reconstruction.times`). Once every target holds,
``explore`` further moves that keep them holding make cohorts drawn with different seeds differ
in what the paper does not print: that spread is what an ensemble measures.

Unlike :mod:`cart19.reconstruction.times` nothing here is specific to one paper: there is no
accrual window, no day-30 origin, no transplant-day rule; a study that needs one says it in data
(nested endpoints, a switch) or it is not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cart19.reconstruction import general_survival as gs
from cart19.reconstruction.general_milp import event_attr
from cart19.reconstruction.general_study import Study
from cart19.reconstruction.general_targets import p_to_z
from cart19.reconstruction.targets import where_mask

#: loss per unit outside a target's interval: percentage points of a KM landmark, patients at
#: risk, z of a log-rank test, ln of a hazard ratio, 2% of a median / minimum / maximum
WEIGHTS = {"km": 1.0, "at_risk": 1.0, "logrank_p": 4.0, "hr": 4.0, "time": 1.0}
#: how far outside its printed interval a target may fall and still count as met by the search
#: (same units as WEIGHTS, before weighting): half a percentage point of a landmark, 0.05 in z
#: (P = .193 is then met by .188-.198), 2% in the HR, half a time unit of a median. The fit
#: table reports both: whether a value prints exactly as published and whether it is within
#: this tolerance. Without it the search spends most of its moves on the fourth digit of a P
#: value, which no statistic we validate depends on.
TOLERANCE = {"km": 0.5, "at_risk": 0.0, "logrank_p": 0.05, "hr": 0.02, "time": 0.5}


@dataclass
class Compiled:
    """The stage-2 targets bound to one stage-1 cohort: group masks and index arrays, built
    once, so that evaluating the loss is a fixed number of numpy calls."""
    targets: list
    masks: np.ndarray
    km: dict
    at_risk: dict
    pairs: dict
    times: list
    events: dict
    within: dict
    switch: np.ndarray | None
    lo: dict
    hi: dict
    tlo: np.ndarray = None       # per target: interval, weight and tolerance of the loss
    thi: np.ndarray = None
    w: np.ndarray = None
    tol: np.ndarray = None
    plans: dict = None
    time_groups: list = None


def _mask_index(attrs: pd.DataFrame, targets) -> tuple[np.ndarray, dict]:
    keys: dict = {}
    rows = []
    for t in targets:
        for w in (t.where, t.a, t.b):
            k = tuple(sorted(w))
            if k not in keys and (w or t.kind in ("km", "at_risk", "time")):
                keys[k] = len(rows)
                rows.append(where_mask(attrs, tuple(w)))
    if () not in keys:
        keys[()] = len(rows)
        rows.append(np.ones(len(attrs), bool))
    return np.array(rows, bool), keys


def compile_targets(study: Study, attrs: pd.DataFrame, targets) -> Compiled:
    """Bind the non-count ``targets`` to the stage-1 cohort ``attrs``."""
    tg = [t for t in targets if t.kind != "count"]
    masks, key = _mask_index(attrs, tg)
    g = lambda w: key[tuple(sorted(w))]  # noqa: E731
    eps = [e.name for e in study.endpoints]
    km = {e: [] for e in eps}
    ar = {e: [] for e in eps}
    pairs = {e: [] for e in eps}
    times = []
    for k, t in enumerate(tg):
        if t.kind == "km":
            km[t.endpoint].append((k, g(t.where), float(t.at), t.lo, t.hi))
        elif t.kind == "at_risk":
            ar[t.endpoint].append((k, g(t.where), float(t.at), t.lo, t.hi))
        elif t.kind == "logrank_p":
            zlo, zhi = p_to_z(t.hi), (np.inf if t.lo <= 0 else p_to_z(t.lo))
            pairs[t.endpoint].append((k, g(t.a), g(t.b), "z", zlo, zhi))
        elif t.kind == "hr":
            pairs[t.endpoint].append((k, g(t.a), g(t.b), t.stat or "logrank",
                                      np.log(t.lo), np.log(t.hi)))
        elif t.kind == "time":
            times.append((k, np.flatnonzero(masks[g(t.where)]), t.column, t.endpoint, t.stat,
                          t.lo, t.hi))
    events = {e: attrs[event_attr(e)].to_numpy().astype(bool) for e in eps}
    within = {e.name: e.within for e in study.endpoints if e.within}
    sw = attrs[study.switch.attribute].to_numpy().astype(bool) if study.switch else None
    lo, hi = _bounds(study, attrs, times, events, sw)
    c = Compiled(tg, masks, km, ar, pairs, times, events, within, sw, lo, hi)
    c.tlo, c.thi, c.w = _intervals(c)
    c.tol = np.array([TOLERANCE[t.kind] if not (t.kind == "time" and t.stat != "median") else 0.0
                      for t in tg])
    return c


def _intervals(c: Compiled):
    """Interval and loss weight of every compiled target (log-rank P as |z|, HR as ln HR)."""
    lo = np.empty(len(c.targets))
    hi = np.empty(len(c.targets))
    w = np.empty(len(c.targets))
    for ep in c.events:
        for k, _g, _at, tlo, thi in c.km[ep] + c.at_risk[ep]:
            lo[k], hi[k], w[k] = tlo, thi, WEIGHTS[c.targets[k].kind]
        for k, _a, _b, kind, tlo, thi in c.pairs[ep]:
            lo[k], hi[k], w[k] = tlo, thi, WEIGHTS["logrank_p" if kind == "z" else "hr"]
    for k, _idx, _col, _ep, _stat, tlo, thi in c.times:
        lo[k], hi[k] = tlo, thi
        w[k] = WEIGHTS["time"] / max(1.0, 0.02 * abs(tlo))
    return lo, hi, w


def _bounds(study, attrs, times, events, sw):
    """Per patient and time column, the range the printed minima and maxima allow."""
    n = len(attrs)
    first = study.endpoints[0].name
    cols = [e.name for e in study.endpoints] + ["switch"]
    lo = {c: np.zeros(n) for c in cols}
    hi = {c: np.full(n, np.inf) for c in cols}
    for _k, idx, column, ep, stat, tlo, thi in times:
        if stat not in ("min", "max"):
            continue
        if column == "followup":
            sel, col = idx, first
        elif column == "event":
            sel, col = idx[events[ep][idx]], ep
        else:
            sel, col = idx[sw[idx]] if sw is not None else idx[:0], "switch"
        if stat == "min":
            lo[col][sel] = np.maximum(lo[col][sel], tlo)
        else:
            hi[col][sel] = np.minimum(hi[col][sel], thi)
    # nothing is known beyond the longest printed time (the maximum follow-up): bound every
    # time column there; without any printed maximum, at ten landmarks
    finite = [h[np.isfinite(h)].max() for h in hi.values() if np.isfinite(h).any()]
    top = max(finite) if finite else 10.0 * max(1.0, study.landmark)
    for c in cols:
        hi[c] = np.minimum(hi[c], top)
    return lo, hi


# --------------------------------------------------------------------------------------------
# state and loss
# --------------------------------------------------------------------------------------------
@dataclass
class State:
    t: dict               # endpoint -> integer times (inner endpoints: only event rows used)
    s: np.ndarray         # switch times (0 outside arm A)

    def copy(self) -> "State":
        return State({k: v.copy() for k, v in self.t.items()}, self.s.copy())


def observed(c: Compiled, st: State, ep: str) -> np.ndarray:
    """Times of an endpoint as observed: a nested endpoint's censored rows end with the outer."""
    outer = c.within.get(ep)
    if outer is None:
        return st.t[ep]
    return np.where(c.events[ep], np.minimum(st.t[ep], st.t[outer]), st.t[outer])


@dataclass
class _Plan:
    """Index arrays of one endpoint's curve targets (built once per compiled problem)."""
    km_k: np.ndarray
    km_g: np.ndarray
    km_j: np.ndarray
    km_at: np.ndarray
    ar_k: np.ndarray
    ar_g: np.ndarray
    ar_j: np.ndarray
    ar_at: np.ndarray
    pr_k: np.ndarray
    pr_a: np.ndarray
    pr_b: np.ndarray
    pr_kind: list


def _plan(c: Compiled, ep: str) -> _Plan:
    def grid(rows):
        ats = np.unique([r[2] for r in rows]) if rows else np.zeros(0)
        return (np.array([r[0] for r in rows], int), np.array([r[1] for r in rows], int),
                np.searchsorted(ats, [r[2] for r in rows]).astype(int), ats)
    pr = c.pairs[ep]
    return _Plan(*grid(c.km[ep]), *grid(c.at_risk[ep]), np.array([r[0] for r in pr], int),
                 np.array([r[1] for r in pr], int), np.array([r[2] for r in pr], int),
                 [r[3] for r in pr])


def values(c: Compiled, st: State) -> tuple[np.ndarray, np.ndarray]:
    """(value, aux) of every compiled target: KM in percent, numbers at risk, |z| or ln HR,
    time statistics; aux holds the signed z of log-rank targets (direction of the moves)."""
    val = np.full(len(c.targets), np.nan)
    aux = np.zeros(len(c.targets))
    if getattr(c, "plans", None) is None:
        c.plans = {ep: _plan(c, ep) for ep in c.events}
    obs = {ep: observed(c, st, ep) for ep in c.events}
    for ep, t in obs.items():
        p = c.plans[ep]
        if len(p.km_k) or len(p.pr_k):
            rs = gs.risk_sets(t, c.events[ep], c.masks)
            if len(p.km_k):
                val[p.km_k] = 100.0 * gs.km(rs, p.km_at)[p.km_g, p.km_j]
            if len(p.pr_k):
                _pairs(val, aux, p, gs.logrank_many(rs, p.pr_a, p.pr_b))
        if len(p.ar_k):
            val[p.ar_k] = gs.at_risk(t, c.masks[p.ar_g], p.ar_at)[np.arange(len(p.ar_k)), p.ar_j]
    _time_values(c, st, obs, val)
    return val, aux


def _time_values(c: Compiled, st: State, obs: dict, val: np.ndarray) -> None:
    """Medians, minima and maxima: one sort per group of times (np.median's own overhead is
    ~30 us a call, several times the sort of a hundred values)."""
    if getattr(c, "time_groups", None) is None:
        groups: dict = {}
        for k, idx, column, ep, stat, _lo, _hi in c.times:
            groups.setdefault((column, ep, idx.tobytes()), (column, ep, idx, []))[3].append((k, stat))
        c.time_groups = list(groups.values())
    first = next(iter(c.events))
    for column, ep, idx, stats_ in c.time_groups:
        if column == "followup":
            x = obs[first][idx]
        elif column == "event":
            x = obs[ep][idx[c.events[ep][idx]]]
        else:
            x = st.s[idx[c.switch[idx]]]
        m = len(x)
        if not m:
            continue
        x = np.sort(x)
        med = x[m // 2] if m % 2 else 0.5 * (x[m // 2 - 1] + x[m // 2])
        for k, stat in stats_:
            val[k] = med if stat == "median" else (x[0] if stat == "min" else x[-1])


def _pairs(val, aux, p: _Plan, oev) -> None:
    """|z| of log-rank targets (signed z in ``aux``) and ln HR of HR targets."""
    o_a, e_a, o_b, e_b, v = oev
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(v > 0, (o_a - e_a) / np.sqrt(np.where(v > 0, v, 1.0)), 0.0)
        for j, kind in enumerate(p.pr_kind):
            k = p.pr_k[j]
            if kind == "z":
                val[k], aux[k] = abs(z[j]), z[j]
                continue
            h = (o_a[j] / e_a[j]) / (o_b[j] / e_b[j]) if kind == "logrank" else \
                np.exp((o_a[j] - e_a[j]) / v[j])
            val[k] = np.log(h) if np.isfinite(h) and h > 0 else np.sign(z[j]) * 10.0


def misses(c: Compiled, val: np.ndarray) -> np.ndarray:
    """Signed weighted distance of each target outside its interval (> 0: too high)."""
    v = np.where(np.isnan(val), c.tlo - 50.0, val)  # an empty group misses by a wide margin
    return c.w * (np.maximum(0.0, v - c.thi - c.tol) - np.maximum(0.0, c.tlo - c.tol - v))


def loss(c: Compiled, st: State) -> tuple[float, np.ndarray, np.ndarray]:
    val, aux = values(c, st)
    m = misses(c, val)
    return float(np.abs(m).sum()), m, aux
