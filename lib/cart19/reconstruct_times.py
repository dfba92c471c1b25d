"""Stage 2 of the reconstruction: days from infusion for every event.

Stage 1 fixed who responds, relapses, is transplanted and dies, and coarse bins (relapse or death
by day 120, short follow-up). This stage draws infusion dates over the enrolment window and the
event days inside those bins with a seeded RNG, then improves them by a small simulated-annealing
search so that the published medians / ranges (follow-up, HSCT day, relapse and death days by
group) hold exactly and every Kaplan-Meier landmark of Figures 2-7 falls within its tolerance,
max(1 percentage point, half a KM step at that time).

Why own code: the search needs the KM value at one time point thousands of times; lifelines'
fitter is far too slow for an inner loop, so :func:`km_at` is a 10-line product-limit estimate.
The final cohort is checked against lifelines in the tests.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cart19.targets import CR_ASSESS_DAY, EARLY_DAY

WINDOW_START = dt.date(2017, 4, 15)      # first infusion (enrolment opened 1 Apr 2017)
SWITCH = dt.date(2017, 11, 1)            # 4-1BB only from November 2017 (Methods)
WINDOW_END = dt.date(2018, 5, 31)        # last infusion (enrolment closed 1 May 2018)
N_EARLY = 42                             # first 42 infusions: 21 CD28 + 21 4-1BB
EARLY_SPAN = (SWITCH - WINDOW_START).days          # early block: days [0, EARLY_SPAN)
LATE_SPAN = (WINDOW_END - WINDOW_START).days       # late block: [EARLY_SPAN, LATE_SPAN]
HSCT_RANGE = (36, 120)


def km_at(time: np.ndarray, event: np.ndarray, t: float) -> tuple[float, int]:
    """Product-limit S(t) (events before censorings at tied times) and the number at risk at t."""
    if len(time) == 0:
        return float("nan"), 0
    srt = np.sort(time)
    us, d = np.unique(time[(event == 1) & (time <= t)], return_counts=True)
    n_risk = len(srt) - np.searchsorted(srt, us, side="left")
    s = float(np.prod(1.0 - d / n_risk)) if len(us) else 1.0
    return s, int(len(srt) - np.searchsorted(srt, t, side="left"))


def km_tolerance(s: float, n_risk: int) -> float:
    """max(1 point, half the KM step one event at t would cause), in percentage points."""
    return max(1.0, 50.0 * s / max(n_risk, 1))


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else float("nan")


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


class Searcher:
    """Simulated annealing over infusion dates and event days."""

    def __init__(self, plan: Plan, km, times, seed: int, masks: dict):
        self.p, self.rng = plan, np.random.default_rng(seed)
        self.km = km            # list of (claim_id, endpoint, mask, percent, days)
        self.times = times      # list of (claim_id, stat, column, mask, value)
        n = plan.n
        p = plan
        rng = self.rng
        # --- infusion dates: CD28 all early; 21 random 4-1BB patients join them ------------
        idx41 = np.flatnonzero(~p.cd28 & ~p.short)  # short follow-up needs a late infusion
        n_extra = N_EARLY - int(p.cd28.sum())
        early = p.cd28.copy()
        early[rng.choice(idx41, size=max(n_extra, 0), replace=False)] = True
        self.early = early
        self.inf = np.where(early, rng.integers(0, EARLY_SPAN, n), rng.integers(EARLY_SPAN, LATE_SPAN + 1, n))
        self.cut = 478  # administrative cut-off, days after the first infusion (refined below)
        self.h = np.zeros(n, int)
        self.r = np.zeros(n, int)
        self.d = np.zeros(n, int)
        for i in range(n):
            self._init_patient(i)

    # ---- feasibility of one patient ------------------------------------------------------
    def pot(self, i) -> int:
        return int(self.cut - self.inf[i])

    def ok(self, i) -> bool:
        p = self.p
        if self.early[i] and not 0 <= self.inf[i] < EARLY_SPAN:
            return False
        if not self.early[i] and not EARLY_SPAN <= self.inf[i] <= LATE_SPAN:
            return False
        if p.cd28[i] and not self.early[i]:
            return False
        f = self.pot(i)
        last = f
        if p.hsct[i]:
            if not (HSCT_RANGE[0] <= self.h[i] <= HSCT_RANGE[1]) or self.h[i] > f:
                return False
        if p.rel[i]:
            r = self.r[i]
            if r <= CR_ASSESS_DAY or r > f:
                return False
            if p.hsct[i] and r <= self.h[i]:
                return False
            if p.binned[i] and p.rel_early[i] != (r <= EARLY_DAY):
                return False
        if p.death[i]:
            dd = self.d[i]
            if dd > f or dd < 1:
                return False
            if p.cr[i] and dd <= CR_ASSESS_DAY:
                return False
            if p.rel[i] and dd <= self.r[i]:
                return False
            if p.hsct[i] and dd <= self.h[i]:
                return False
            if p.binned[i] and p.death_early[i] != (dd <= EARLY_DAY):
                return False
            last = dd
        if p.cr[i] and not p.hsct[i] and not p.prior[i] and not p.death[i] and not p.rel[i]:
            if p.short[i] != (f < EARLY_DAY):
                return False
        return last >= 1

    def _draw(self, i, what):
        rng, p, f = self.rng, self.p, self.pot(i)
        if what == "h":
            self.h[i] = rng.integers(HSCT_RANGE[0], min(HSCT_RANGE[1], max(f, HSCT_RANGE[0])) + 1)
        elif what == "r":
            lo = max(CR_ASSESS_DAY + 1, self.h[i] + 1 if p.hsct[i] else 0)
            if p.binned[i]:
                lo, hi = (lo, EARLY_DAY) if p.rel_early[i] else (max(lo, EARLY_DAY + 1), f)
            else:
                hi = f
            self.r[i] = rng.integers(lo, max(lo, hi) + 1)
        elif what == "d":
            lo = 1
            if p.cr[i]:
                lo = CR_ASSESS_DAY + 1
            if p.rel[i]:
                lo = max(lo, self.r[i] + 1)
            if p.hsct[i]:
                lo = max(lo, self.h[i] + 1)
            if p.binned[i]:
                lo, hi = (lo, EARLY_DAY) if p.death_early[i] else (max(lo, EARLY_DAY + 1), f)
            else:
                hi = f
            self.d[i] = rng.integers(lo, max(lo, hi) + 1)

    def _init_patient(self, i):
        p = self.p
        for _ in range(200):
            if p.short[i]:
                self.inf[i] = self.rng.integers(self.cut - EARLY_DAY + 1, LATE_SPAN + 1)
            if p.hsct[i]:
                self._draw(i, "h")
            if p.rel[i]:
                self._draw(i, "r")
            if p.death[i]:
                self._draw(i, "d")
            if self.ok(i):
                return
            # move the infusion earlier (longer potential follow-up) and retry
            self.inf[i] = self.rng.integers(0, EARLY_SPAN) if self.early[i] else \
                self.rng.integers(EARLY_SPAN, LATE_SPAN + 1)
        raise RuntimeError(f"stage 2: no feasible days for patient row {i + 1}")

    # ---- loss ------------------------------------------------------------------------------
    def _prepare(self):
        """Group matrices so that all KM landmarks are evaluated in a few array operations."""
        self.L = int(self.cut) + 2
        self.km_os = [k for k in range(len(self.km)) if self.km[k][1] == "os"]
        self.km_lfs = [k for k in range(len(self.km)) if self.km[k][1] == "lfs"]
        self.G_os = np.array([self.km[k][2] for k in self.km_os], float).reshape(-1, self.p.n)
        self.G_lfs = np.array([self.km[k][2] for k in self.km_lfs], float).reshape(-1, self.p.n)
        self.groups = {}
        for cid, stat, col, mask, val in self.times:
            self.groups.setdefault((col, mask.tobytes()), mask)

    def _km_all(self, G, t, e, days):
        # product-limit over integer days: d(u), n(u) per group from one-hot matrices
        gi, pi = np.nonzero(G)
        idx = gi * self.L + np.clip(t.astype(int), 0, self.L - 1)[pi]
        size = G.shape[0] * self.L
        cnt = np.bincount(idx, minlength=size).reshape(G.shape[0], self.L).astype(float)
        ev = np.bincount(idx, weights=e[pi].astype(float), minlength=size).reshape(G.shape[0], self.L)
        n_risk = np.cumsum(cnt[:, ::-1], axis=1)[:, ::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            fac = np.where(ev > 0, 1.0 - ev / np.maximum(n_risk, 1), 1.0)
        cp = np.cumprod(fac, axis=1)
        out = []
        for g, d in enumerate(days):
            s = cp[g, min(int(np.floor(d)), self.L - 1)]
            nr = n_risk[g, min(int(np.ceil(d)), self.L - 1)]
            out.append((float(s), int(nr)))
        return out

    def evaluate(self):
        p = self.p
        f = self.cut - self.inf
        os_t, os_e, lfs_t, lfs_e = _os_lfs(p, f, self.h, self.r, self.d)
        cols = {"os_days": os_t, "hsct_day": self.h.astype(float), "relapse_day": self.r.astype(float),
                "death_day": self.d.astype(float)}
        stats = {}
        for key, mask in self.groups.items():
            x = np.sort(cols[key[0]][mask])
            if len(x):
                m = len(x) // 2
                med = x[m] if len(x) % 2 else 0.5 * (x[m - 1] + x[m])
                stats[key] = {"median": med, "min": x[0], "max": x[-1]}
        loss, detail = 0.0, []
        self.violated = []
        for k, (cid, stat, col, mask, val) in enumerate(self.times):
            st = stats.get((col, mask.tobytes()))
            got = st[stat] if st else np.nan
            e = abs(got - val)
            loss += 10.0 * e / max(1.0, 0.05 * val) if np.isfinite(e) else 100.0
            if not e < 0.25:
                self.violated.append((k, got))
            detail.append((cid, stat, val, got))
        res = {}
        if len(self.km_os):
            for k, r in zip(self.km_os, self._km_all(self.G_os, os_t, os_e, [self.km[k][4] for k in self.km_os])):
                res[k] = r
        if len(self.km_lfs):
            for k, r in zip(self.km_lfs, self._km_all(self.G_lfs, lfs_t, lfs_e, [self.km[k][4] for k in self.km_lfs])):
                res[k] = r
        for k, (cid, ep, mask, pct, days) in enumerate(self.km):
            s, nr = res[k]
            tol = km_tolerance(s, nr)
            dev = abs(100 * s - pct)
            loss += 5.0 * max(0.0, dev - tol) + 0.3 * max(0.0, dev - 1.0)
            detail.append((cid, "km", pct, 100 * s, tol))
        return loss, detail

    def _set(self, i, col, v) -> list[int]:
        """Set one patient's day for a target column; keep later events after it and move the
        infusion earlier (swapping block with another 4-1BB patient if needed) when the potential
        follow-up is too short. Returns the patients touched."""
        p, rng = self.p, self.rng
        v = int(round(v))
        if col == "os_days":
            if p.death[i]:
                self.d[i] = v
            else:
                self.inf[i] = self.cut - v
            return [i]
        {"hsct_day": self.h, "relapse_day": self.r, "death_day": self.d}[col][i] = v
        if col in ("hsct_day", "relapse_day") and p.death[i] and self.d[i] <= v:
            self.d[i] = v + rng.integers(1, 60)
        if col == "hsct_day" and p.rel[i] and self.r[i] <= v:
            self.r[i] = v + rng.integers(1, 60)
        need = max(v, self.d[i] if p.death[i] else 0, self.r[i] if p.rel[i] else 0)
        touched = [i]
        if self.pot(i) < need:
            if not self.early[i] and not p.cd28[i]:
                cand = np.flatnonzero(self.early & ~p.cd28)
                if len(cand):
                    j = int(rng.choice(cand))
                    self.early[i], self.early[j] = True, False
                    self.inf[j] = rng.integers(EARLY_SPAN, LATE_SPAN + 1)
                    touched.append(j)
            hi = min(self.cut - need, EARLY_SPAN - 1 if self.early[i] else LATE_SPAN)
            lo = 0 if self.early[i] else EARLY_SPAN
            if hi >= lo:
                self.inf[i] = rng.integers(lo, hi + 1)
        return touched

    def _targeted(self):
        """Move one patient so that a violated median / min / max gets closer."""
        rng = self.rng
        k, got = self.violated[rng.integers(len(self.violated))]
        cid, stat, col, mask, val = self.times[k]
        members = np.flatnonzero(mask)
        cur = {"os_days": None, "hsct_day": self.h, "relapse_day": self.r, "death_day": self.d}[col]
        if cur is None:
            f = self.cut - self.inf
            cur = np.where(self.p.death, self.d, f)
        x = cur[members]
        if not np.isfinite(got):
            return []
        if col == "relapse_day":  # respect the day-120 bins of the CAR-T-alone arm
            pb = self.p
            fits = ~pb.binned[members] | (pb.rel_early[members] == (val <= EARLY_DAY))
            members, x = members[fits], x[fits]
            if not len(members):
                return []
        if stat == "max":
            i = members[np.argmax(x)] if got > val else rng.choice(members)
            return self._set(int(i), col, val)
        if stat == "min":
            i = members[np.argmin(x)] if got < val else rng.choice(members)
            return self._set(int(i), col, val)
        side = members[x > val] if got > val else members[x < val]
        if not len(side):
            return []
        i = rng.choice(side)
        if abs(got - val) <= 2 and rng.random() < 0.5:  # fine step: land on the median itself
            return self._set(int(i), col, np.floor(val) if got > val else np.ceil(val))
        return self._set(int(i), col, val + (rng.integers(-15, 1) if got > val else rng.integers(0, 16)))

    def seed_extremes(self):
        """Place each published minimum / maximum on one suitable patient before the search."""
        p, rng = self.p, self.rng
        for cid, stat, col, mask, val in self.times:
            if stat == "median":
                continue
            members = np.flatnonzero(mask)
            if col == "os_days":
                members = members[~p.death[members] & ~p.rel[members] & ~p.hsct[members]] \
                    if stat == "max" else members[p.death[members] & ~p.cr[members]]
            if col == "relapse_day":
                members = members[~p.binned[members] | (p.rel_early[members] == (val <= EARLY_DAY))]
            for i in rng.permutation(members)[:30]:
                saved = (self.inf.copy(), self.h.copy(), self.r.copy(), self.d.copy(), self.early.copy())
                if stat == "max" and col == "os_days" and not self.early[i]:
                    continue
                touched = self._set(int(i), col, val)
                if all(self.ok(j) for j in touched):
                    break
                self.inf, self.h, self.r, self.d, self.early = saved

    def anneal(self, iters: int = 6000, t0: float = 10.0):
        p, rng = self.p, self.rng
        self._prepare()
        cur, _ = self.evaluate()
        best = (cur, self.inf.copy(), self.h.copy(), self.r.copy(), self.d.copy())
        movers = np.flatnonzero(p.hsct | p.rel | p.death)
        non28 = np.flatnonzero(~p.cd28)
        for k in range(iters):
            temp = t0 * (1 - k / iters) + 1e-3
            kind = rng.random()
            saved = (self.inf.copy(), self.h.copy(), self.r.copy(), self.d.copy(), self.early.copy(),
                     list(self.violated))
            touched = []
            if kind < 0.3 and self.violated:
                touched = self._targeted()
            elif kind < 0.6 and len(movers):
                i = int(rng.choice(movers))
                opts = [w for w, flag in (("h", p.hsct[i]), ("r", p.rel[i]), ("d", p.death[i])) if flag]
                self._draw(i, opts[rng.integers(len(opts))])
                touched = [i]
            elif kind < 0.85:
                i = int(rng.integers(p.n))
                self.inf[i] = rng.integers(0, EARLY_SPAN) if self.early[i] else \
                    rng.integers(EARLY_SPAN, LATE_SPAN + 1)
                touched = [i]
            else:
                i, j = (int(v) for v in rng.choice(non28, 2, replace=False))
                self.inf[i], self.inf[j] = self.inf[j], self.inf[i]
                self.early[i], self.early[j] = self.early[j], self.early[i]
                touched = [i, j]
            if touched and all(self.ok(i) for i in touched):
                new, _ = self.evaluate()
                if new <= cur or rng.random() < np.exp((cur - new) / temp):
                    cur = new
                    if new < best[0]:
                        best = (new, self.inf.copy(), self.h.copy(), self.r.copy(), self.d.copy())
                    if cur < 1e-9:
                        break
                    continue
            self.inf, self.h, self.r, self.d, self.early, self.violated = saved
        _, self.inf, self.h, self.r, self.d = best
        return best[0]


def _mask(a: pd.DataFrame, where) -> np.ndarray:
    m = np.ones(len(a), bool)
    for lit in where:
        neg = lit.startswith("~")
        col = a[lit.lstrip("~")].to_numpy().astype(bool)
        m &= ~col if neg else col
    return m


def assign_times(attrs: pd.DataFrame, bound, seed: int, iters: int = 6000):
    """Days for every event of a stage-1 cohort. Returns (frame of day columns, loss, detail)."""
    a = attrs.copy()
    a["hsct_after"] = a["hsct"]
    plan = Plan(a)
    km = [(t.claim_id, t.endpoint, _mask(a, t.where), pct, days) for t, pct, days in bound.km]
    times = [(t.claim_id, t.stat, t.column, _mask(a, t.where), v) for t, v in bound.times]
    s = Searcher(plan, km, times, seed, {})
    loss = s.anneal(iters)
    loss, detail = s.evaluate()
    f = s.cut - s.inf
    os_t, os_e, lfs_t, lfs_e = _os_lfs(plan, f, s.h, s.r, s.d)
    out = pd.DataFrame({
        "infusion_date": [WINDOW_START + dt.timedelta(days=int(v)) for v in s.inf],
        "hsct_day": np.where(plan.hsct, s.h, -1),
        "relapse_day": np.where(plan.rel, s.r, -1),
        "death_day": np.where(plan.death, s.d, -1),
        "os_days": os_t.astype(int), "os_event": os_e,
        "lfs_days": lfs_t.astype(int), "lfs_event": lfs_e.astype(int),
        "followup_day": os_t.astype(int),
    })
    out.attrs["cutoff_date"] = WINDOW_START + dt.timedelta(days=s.cut)
    return out, loss, detail
