"""Stage 2 of the reconstruction: days from infusion for every event.

Stage 1 fixed who responds, relapses, is transplanted and dies, and coarse bins (relapse or death
by day 120, short follow-up). This stage draws infusion dates over the enrolment window and the
event days inside those bins with a seeded RNG, then improves them by a small simulated-annealing
search so that the published medians / ranges (follow-up, HSCT day, relapse and death days by
group) hold exactly and every Kaplan-Meier landmark of Figures 2-7 falls within its tolerance,
max(1 percentage point, half a KM step at that time). Infusions are spread evenly over the
enrolment window (:data:`SPREAD_EDGES`). Once every target holds, :meth:`Searcher.polish` pulls
the landmarks towards their published values. Without it the search stops anywhere inside
tolerances that are 25-40 points wide where 1-2 patients are at risk.

Why own code: the search needs the KM value at one time point thousands of times; lifelines'
fitter is far too slow for an inner loop, so :func:`km_at` is a 10-line product-limit estimate.
The final cohort is checked against lifelines in the tests.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from cart19.reconstruction.targets import CR_ASSESS_DAY, EARLY_DAY
from cart19.reconstruction import days as D
from cart19.reconstruction.days import (  # re-exported: callers read them as times.<name>
    WINDOW_START as WINDOW_START, SWITCH as SWITCH, WINDOW_END as WINDOW_END, N_EARLY as N_EARLY,
    EARLY_SPAN as EARLY_SPAN, LATE_SPAN as LATE_SPAN, HSCT_RANGE as HSCT_RANGE, DAY_COLS as DAY_COLS,
    SPREAD_EDGES as SPREAD_EDGES, SPREAD_SLACK as SPREAD_SLACK, SOFT_KM_WEIGHT as SOFT_KM_WEIGHT,
    EXPLORE_TEMP as EXPLORE_TEMP, POLISH_BASE as POLISH_BASE, POLISH_SINGLE as POLISH_SINGLE,
    POLISH_STEP as POLISH_STEP, km_at as km_at, km_tolerance as km_tolerance, KM_EPS as KM_EPS,
    km_within as km_within, Plan as Plan, _os_lfs as _os_lfs, spread_counts as spread_counts,
    spread_expected as spread_expected, _bounds as _bounds, Days as Days, _problem as _problem,
    cutoff as cutoff, EVENT_ATTRS as EVENT_ATTRS, signature as signature, match_rows as match_rows,
    extreme_holders as extreme_holders,
)


class Searcher:
    """Simulated annealing over infusion dates and event days."""

    def __init__(self, plan: Plan, km, times, seed: int, warm: "Days | None" = None,
                 source: np.ndarray | None = None, cut: int = 478, allow=None):
        """Random days for every patient, or, with ``warm``, patient i starts from the days of
        row ``source[i]`` of ``warm`` (a patient of the previous cohort with the same stage-2
        profile; -1: none, random days). ``allow``: see :func:`assign_times`."""
        self.p, self.rng = plan, np.random.default_rng(seed)
        self.km = km            # list of (claim_id, endpoint, mask, percent, days)
        self.times = times      # list of (claim_id, stat, column, mask, value)
        n = plan.n
        p = plan
        rng = self.rng
        self.cut = int(cut)  # administrative cut-off, days after the first infusion
        self.allow = allow
        self.spread_bad = np.zeros(0, int)
        self.spread_expect = spread_expected(n)
        self.lo, self.hi = _bounds(times, n)
        self.h = np.zeros(n, int)
        self.r = np.zeros(n, int)
        self.d = np.zeros(n, int)
        if warm is None or source is None:
            source = np.full(n, -1)
        keep = source >= 0
        if keep.any():
            src = np.where(keep, source, 0)
            warm = Days(*(x[src] for x in (warm.inf, warm.early, warm.h, warm.r, warm.d)))
        # --- infusion blocks: every CD28 patient and 21 4-1BB patients are early -------------
        early = p.cd28.copy()
        if keep.any():
            early |= keep & warm.early
        free41 = np.flatnonzero(~p.cd28 & ~p.short & ~early)
        need = N_EARLY - int(early.sum())
        if need > 0:  # prefer patients whose days are redrawn anyway
            order = np.concatenate([rng.permutation(free41[~keep[free41]]),
                                    rng.permutation(free41[keep[free41]])])
            early[order[:need]] = True
        elif need < 0:  # too many early 4-1BB patients: move some late, redrawn ones first
            e41 = np.flatnonzero(early & ~p.cd28)
            order = np.concatenate([rng.permutation(e41[~keep[e41]]), rng.permutation(e41[keep[e41]])])
            early[order[:-need]] = False
        if warm is not None:
            keep &= early == warm.early
        self.early = early
        self.inf = np.where(early, rng.integers(0, EARLY_SPAN, n), rng.integers(EARLY_SPAN, LATE_SPAN + 1, n))
        for i in range(n):
            if keep[i]:
                self.inf[i], self.h[i], self.r[i], self.d[i] = warm.inf[i], warm.h[i], warm.r[i], warm.d[i]
                if self.ok(i):
                    continue
            self._init_patient(i)

    # ---- feasibility of one patient ------------------------------------------------------
    def pot(self, i) -> int:
        return int(self.cut - self.inf[i])

    def ok(self, i) -> bool:
        """Patient i's days meet every per-patient constraint (:mod:`cart19.reconstruction.days`)."""
        f = self.pot(i)
        return (D.in_block(self, i) and D.within_bounds(self, i, f) and D.hsct_ok(self, i, f)
                and D.relapse_ok(self, i, f) and D.death_ok(self, i, f) and D.followup_ok(self, i, f))

    def _draw(self, i, what):
        rng, p, f = self.rng, self.p, self.pot(i)
        if what == "h":
            lo = max(HSCT_RANGE[0], self.lo["hsct_day"][i])
            hi = min(HSCT_RANGE[1], self.hi["hsct_day"][i], max(f, lo))
            self.h[i] = rng.integers(lo, max(lo, hi) + 1)
        elif what == "r":
            lo = max(CR_ASSESS_DAY + 1, self.h[i] + 1 if p.hsct[i] else 0, self.lo["relapse_day"][i])
            if p.binned[i]:
                lo, hi = (lo, EARLY_DAY) if p.rel_early[i] else (max(lo, EARLY_DAY + 1), f)
            else:
                hi = f
            hi = min(hi, self.hi["relapse_day"][i])
            self.r[i] = rng.integers(lo, max(lo, hi) + 1)
        elif what == "d":
            lo = 1
            if p.cr[i]:
                lo = CR_ASSESS_DAY + 1
            if p.rel[i]:
                lo = max(lo, self.r[i] + 1)
            if p.hsct[i]:
                lo = max(lo, self.h[i] + 1)
            lo = max(lo, self.lo["death_day"][i], self.lo["os_days"][i])
            if p.binned[i]:
                lo, hi = (lo, EARLY_DAY) if p.death_early[i] else (max(lo, EARLY_DAY + 1), f)
            else:
                hi = f
            hi = min(hi, self.hi["death_day"][i], self.hi["os_days"][i])
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
        """Index arrays for every group, built once: the loss is evaluated thousands of times,
        so it is computed with a fixed number of numpy calls, whatever the number of targets."""
        p = self.p
        self.t_groups, t_g, t_s, t_v = [], [], [], []
        keys = {}
        for cid, stat, col, mask, val in self.times:
            key = (col, mask.tobytes())
            if key not in keys:
                keys[key] = len(self.t_groups)
                self.t_groups.append((col, np.flatnonzero(mask)))
            t_g.append(keys[key])
            t_s.append(("median", "min", "max").index(stat))
            t_v.append(float(val))
        self.t_g, self.t_s, self.t_v = np.array(t_g, int), np.array(t_s, int), np.array(t_v)
        # every group's values in one padded matrix: row g holds its members' positions in the
        # stacked day columns (DAY_COLS), padded with a last +inf slot, so one sort serves all
        n, lens = p.n, np.array([len(idx) for _c, idx in self.t_groups], int)
        flat = np.full((len(self.t_groups), max(1, lens.max(initial=0))), len(DAY_COLS) * n)
        for g, (col, idx) in enumerate(self.t_groups):
            flat[g, :len(idx)] = DAY_COLS.index(col) * n + idx
        self.t_flat, self.t_len = flat, lens
        self.t_scale = 10.0 / np.maximum(1.0, 0.05 * self.t_v)
        # patients whose event days can be redrawn; patients whose infusions can swap
        self.movers = np.flatnonzero(p.hsct | p.rel | p.death)
        self.non28 = np.flatnonzero(~p.cd28 & ~p.short)
        # every KM landmark (OS and LFS groups stacked): pair (group, patient) -> one bin index
        ks = np.arange(len(self.km))
        self.km_ks = ks
        if len(ks):
            G = np.array([self.km[k][2] for k in ks], bool).reshape(-1, p.n)
            gi, pi = np.nonzero(G)
            is_lfs = np.array([self.km[k][1] == "lfs" for k in ks])
            days = np.array([self.km[k][4] for k in ks], float)
            L = int(np.ceil(days.max())) + 2  # times beyond the last landmark share the last bin
            # times are looked up in [os_t, lfs_t] concatenated: LFS groups read the second half
            self.km_pairs = (pi + p.n * is_lfs[gi], gi * L, len(ks), L)
            self.km_lo, self.km_hi = np.floor(days).astype(int), np.ceil(days).astype(int)
            self.km_pct = np.array([self.km[k][3] for k in ks], float)

    def _km(self, t, e):
        """S(landmark) and the number at risk there for every KM group (``t``, ``e``: OS then
        LFS times and events, concatenated).

        Product-limit on integer days from two bincounts (events before censorings at a tied
        day, as in lifelines); own code because lifelines' fitter is ~1000x slower per call.
        Only the event days up to each landmark enter the product, in day order (so the
        result is the same, to the bit, as a cumulative product over every day)."""
        pt, base, ng, L = self.km_pairs
        idx = base + np.minimum(t[pt], L - 1)
        cnt = np.bincount(idx, minlength=ng * L)
        ev = np.bincount(idx, weights=e[pt], minlength=ng * L)
        cs = np.cumsum(cnt.reshape(ng, L), axis=1).ravel()   # patients with time <= day
        total = cs[L - 1::L]
        nz = np.flatnonzero(ev > 0)
        rows = nz // L
        nz = nz[nz - rows * L <= self.km_lo[rows]]
        rows = nz // L
        s = np.ones(ng)
        # at risk on day t: time >= t, i.e. total - (time <= t) + (time == t)
        np.multiply.at(s, rows, 1.0 - ev[nz] / (total[rows] - cs[nz] + cnt[nz]))
        h = np.arange(ng) * L + self.km_hi
        return s, total - cs[h] + cnt[h]

    def evaluate(self, detail: bool = False):
        """(hard, soft) loss, or with ``detail`` (hard + soft, rows per target).

        hard = 0 exactly when every median / minimum / maximum holds, every KM landmark is
        within its tolerance and every accrual bin within its slack (beyond ``allow``, see
        :func:`allowances`); soft pulls the landmarks within 1 point."""
        p = self.p
        f = self.cut - self.inf
        os_t, os_e, lfs_t, lfs_e = _os_lfs(p, f, self.h, self.r, self.d)
        stacked = np.concatenate([os_t, self.h, self.r, self.d, [np.inf]])  # DAY_COLS order
        x = np.sort(stacked[self.t_flat], axis=1)
        g, ln = np.arange(len(self.t_len)), self.t_len
        m = ln // 2
        hi_mid = x[g, m]
        med = np.where(ln % 2 == 1, hi_mid, 0.5 * (x[g, np.maximum(m - 1, 0)] + hi_mid))
        summ = np.column_stack([med, x[:, 0], x[g, np.maximum(ln - 1, 0)]])
        summ[ln == 0] = np.nan
        allow_t, allow_km, allow_spread = self.allow if self.allow is not None else (None, None, 0.0)
        got = summ[self.t_g, self.t_s]
        err = np.abs(got - self.t_v)
        if allow_t is not None:
            err = np.maximum(0.0, err - allow_t)
        missing = np.isnan(got)
        hard = float((self.t_scale * err)[~missing].sum()) + 100.0 * int(missing.sum())
        soft = 0.0
        self.violated = [(int(k), float(got[k])) for k in np.flatnonzero(~(err < 0.25))]
        self.km_violated = []
        rows = [(self.times[k][0], self.times[k][1], self.t_v[k], float(got[k]))
                for k in range(len(self.times))] if detail else []
        if len(self.km_ks):
            t = np.concatenate([os_t, lfs_t]).astype(int)
            e = np.concatenate([os_e, lfs_e]).astype(float)
            s, nr = self._km(t, e)
            pct = self.km_pct
            tol = km_tolerance(s, nr)
            self.km_signed = 100 * s - pct
            dev = np.abs(self.km_signed)
            if allow_km is not None:
                dev = np.maximum(0.0, dev - allow_km)
            over = ~km_within(dev, tol)
            if over.any():
                self.km_violated = [(int(j), bool(100 * s[j] > pct[j])) for j in np.flatnonzero(over)]
            hard += 5.0 * float(np.where(over, dev - tol, 0.0).sum())
            soft += SOFT_KM_WEIGHT * float(np.maximum(0.0, dev - 1.0).sum())
            if detail:
                rows += [(self.km[k][0], "km", self.km[k][3], 100 * s[k], tol[k]) for k in self.km_ks]
        self.spread_c = spread_counts(self.inf)
        ex = np.abs(self.spread_c - self.spread_expect) - SPREAD_SLACK
        self.spread_bad = np.flatnonzero(ex > 0)
        self.spread_excess = float(np.maximum(0.0, ex).sum())  # patients beyond the slack
        hard += max(0.0, self.spread_excess - allow_spread)
        if detail:
            return hard + soft, rows
        return hard, soft

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
        return self._follow(i, need) if self.pot(i) < need else [i]

    def _follow(self, i, lo_fu: int, hi_fu: int | None = None) -> list[int]:
        """Re-draw patient i's infusion day so that its potential follow-up lies in
        [lo_fu, hi_fu] (as far as its block allows), swapping block with a random early 4-1BB
        patient when an early infusion is needed. Returns the patients touched."""
        p, rng = self.p, self.rng
        touched = [i]
        if self.cut - lo_fu < EARLY_SPAN and not self.early[i] and not p.cd28[i]:
            cand = np.flatnonzero(self.early & ~p.cd28)
            if len(cand):
                j = int(rng.choice(cand))
                self.early[i], self.early[j] = True, False
                self.inf[j] = rng.integers(EARLY_SPAN, LATE_SPAN + 1)
                touched.append(j)
        hi = min(self.cut - lo_fu, EARLY_SPAN - 1 if self.early[i] else LATE_SPAN)
        lo = 0 if self.early[i] else EARLY_SPAN
        if hi_fu is not None:
            lo = max(lo, self.cut - hi_fu)
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
        if stat in ("max", "min"):
            # the member on the extreme when it overshoots; otherwise, half the time, the one
            # nearest the target (often the only one that can reach it, e.g. the earliest
            # death for the minimum follow-up), else any member
            ext = np.argmax(x) if stat == "max" else np.argmin(x)
            overshoot = got > val if stat == "max" else got < val
            i = members[ext] if overshoot or rng.random() < 0.5 else rng.choice(members)
            return self._set(int(i), col, val)
        side = members[x > val] if got > val else members[x < val]
        if not len(side):
            return []
        i = rng.choice(side)
        if abs(got - val) <= 2 and rng.random() < 0.5:  # fine step: land on the median itself
            return self._set(int(i), col, np.floor(val) if got > val else np.ceil(val))
        return self._set(int(i), col, val + (rng.integers(-15, 1) if got > val else rng.integers(0, 16)))

    def _targeted_km(self, k: int | None = None, too_high: bool | None = None):
        """Move one event of a group across a landmark its KM value misses: before the landmark
        when the curve is too high, after it (with follow-up to match) when it is too low.
        Half the time move a censoring instead: an event-free member is followed past the
        landmark when the curve is too low (a larger risk set at each event; without it a
        small group can have nobody left at risk), or censored before it when too high."""
        p, rng = self.p, self.rng
        if k is None:
            k, too_high = self.km_violated[rng.integers(len(self.km_violated))]
        cid, ep, mask, pct, days = self.km[k]
        shift = CR_ASSESS_DAY if ep == "lfs" else 0
        if rng.random() < 0.5:
            free = mask & ~p.short & (~p.death if ep == "os" else p.cr & ~p.rel & ~p.death)
            cand = np.flatnonzero(free)
            if len(cand):
                i = int(cand[rng.integers(len(cand))])
                edge = int(np.ceil(days)) + shift
                if too_high:  # censored before the landmark, after its own events
                    low = max(self.h[i] if p.hsct[i] else 0, self.r[i] if p.rel[i] else 0, shift + 1)
                    return self._follow(i, max(low, edge - 120), edge - 1) if low < edge else []
                return self._follow(i, edge + 1)
        members = np.flatnonzero(mask & p.cr)  # non-responders' LFS event is fixed at 0
        if ep == "os":
            members = members[p.death[members]]
            by_relapse, shift = np.zeros(len(members), bool), 0
        else:
            members = members[p.rel[members] | p.death[members]]
            by_relapse, shift = p.rel[members], CR_ASSESS_DAY
        t = np.where(by_relapse, self.r[members], self.d[members]) - shift
        side = np.flatnonzero(t > days) if too_high else np.flatnonzero(t <= days)
        if not len(side):
            return []
        j = int(side[rng.integers(len(side))])
        i, c = int(members[j]), "relapse_day" if by_relapse[j] else "death_day"
        if too_high:
            v = rng.integers(max(CR_ASSESS_DAY + 1, int(days) + shift - 90), int(days) + shift + 1)
        else:
            v = rng.integers(int(np.ceil(days)) + shift + 1, int(np.ceil(days)) + shift + 60)
        return self._set(i, c, v)

    def _targeted_spread(self):
        """Move one infusion from the fullest to the emptiest bin of a block that misses its
        even spread."""
        rng = self.rng
        b = int(self.spread_bad[rng.integers(len(self.spread_bad))])
        early_b = SPREAD_EDGES[b] < EARLY_SPAN
        same = np.flatnonzero((SPREAD_EDGES[:-1] < EARLY_SPAN) == early_b)
        diff = self.spread_c[same] - self.spread_expect[same]
        src, dst = int(same[np.argmax(diff)]), int(same[np.argmin(diff)])
        cand = np.flatnonzero((self.inf >= SPREAD_EDGES[src]) & (self.inf < SPREAD_EDGES[src + 1]))
        if not len(cand):
            return []
        i = int(cand[rng.integers(len(cand))])
        self.inf[i] = rng.integers(int(np.ceil(SPREAD_EDGES[dst])), int(np.ceil(SPREAD_EDGES[dst + 1])))
        return [i]

    def _propose(self):
        """One random change; returns the patients it touched."""
        p, rng = self.p, self.rng
        kind = rng.random()
        if kind < 0.1 and len(self.spread_bad):
            return self._targeted_spread()
        if kind < 0.3 and (self.violated or self.km_violated):
            if self.km_violated and (not self.violated or rng.random() < 0.5):
                return self._targeted_km()
            return self._targeted()
        if kind < 0.6 and len(self.movers):
            i = int(rng.choice(self.movers))
            opts = [w for w, flag in (("h", p.hsct[i]), ("r", p.rel[i]), ("d", p.death[i])) if flag]
            self._draw(i, opts[rng.integers(len(opts))])
            return [i]
        if kind < 0.85:
            i = int(rng.integers(p.n))
            if p.short[i]:
                self.inf[i] = rng.integers(self.cut - EARLY_DAY + 1, LATE_SPAN + 1)
            else:
                self.inf[i] = rng.integers(0, EARLY_SPAN) if self.early[i] else \
                    rng.integers(EARLY_SPAN, LATE_SPAN + 1)
            return [i]
        i, j = (int(v) for v in rng.choice(self.non28, 2, replace=False))
        self.inf[i], self.inf[j] = self.inf[j], self.inf[i]
        self.early[i], self.early[j] = self.early[j], self.early[i]
        return [i, j]

    def search(self, explore: int = 0, max_iters: int = 40000, t0: float = 10.0) -> float:
        """Simulated annealing until every target holds (hard loss 0), then ``explore`` random
        moves that keep every target holding (Metropolis on the soft loss at temperature 0.5).

        Stopping as soon as the targets hold makes the search short; the exploration moves
        are what make two cohorts drawn from one start differ in their days (the ensemble).
        Returns the final hard loss (0 when every target holds); if the targets cannot all be
        met within ``max_iters`` the best state found is kept.
        """
        rng = self.rng
        self._prepare()
        hard, soft = self.evaluate()
        best = (hard + soft, self._state())
        explored = 0
        for k in range(max_iters):
            if hard == 0.0 and explored >= explore:
                break
            saved = self._state() + (self.violated, self.km_violated)
            touched = self._propose()
            if touched and all(self.ok(i) for i in touched):
                nh, ns = self.evaluate()
                if hard == 0.0:  # exploring: stay feasible
                    explored += 1
                    accept = nh == 0.0 and (ns <= soft or rng.random() < np.exp((soft - ns) / EXPLORE_TEMP))
                else:
                    temp = t0 * max(0.0, 1 - k / max_iters) + 1e-3
                    cur, new = hard + soft, nh + ns
                    accept = new <= cur or rng.random() < np.exp((cur - new) / temp)
                if accept:
                    hard, soft = nh, ns
                    if hard + soft < best[0] or hard == 0.0:
                        best = (hard + soft, self._state())
                    continue
            elif hard == 0.0:
                explored += 1
            self._restore(saved[:-2])
            self.violated, self.km_violated = saved[-2], saved[-1]
        if hard > 0.0:
            self._restore(best[1])
            hard, _ = self.evaluate()
        return hard

    def polish(self, iters: int, t0: float = 0.05) -> float:
        """Annealing on hard + soft loss that returns the best state meeting every target:
        the hard targets allow half a KM step, which is wide where few patients are at risk,
        and a search stopped at the first feasible state leaves the curves anywhere inside it.
        States that miss a target may be crossed on the way (widening a risk set first narrows
        the tolerance), but only feasible ones are kept. 40% of the moves push a landmark (drawn
        by how far it misses) across its time point. Returns the final soft loss."""
        rng = self.rng
        hard, soft = self.evaluate()
        if hard != 0.0 or not len(self.km_ks):
            return soft
        best = (soft, self._state())
        for it in range(iters):
            temp = t0 * (1 - it / iters) + 1e-3
            saved = self._state() + (self.violated, self.km_violated, self.km_signed, self.spread_bad)
            w = np.maximum(0.0, np.abs(self.km_signed) - 1.0)
            if rng.random() < 0.4 and w.sum() > 0:
                k = int(rng.choice(len(w), p=w / w.sum()))
                touched = self._targeted_km(k, bool(self.km_signed[k] > 0))
            else:
                touched = self._propose()
            if touched and all(self.ok(i) for i in touched):
                nh, ns = self.evaluate()
                cur, new = hard + soft, nh + ns
                if new <= cur or rng.random() < np.exp((cur - new) / temp):
                    hard, soft = nh, ns
                    if hard == 0.0 and soft < best[0]:
                        best = (soft, self._state())
                    continue
            self._restore(saved[:-4])
            self.violated, self.km_violated, self.km_signed, self.spread_bad = saved[-4:]
        self._restore(best[1])
        _, soft = self.evaluate()
        return soft

    def _state(self):
        return (self.inf.copy(), self.h.copy(), self.r.copy(), self.d.copy(), self.early.copy())

    def _restore(self, st):
        self.inf, self.h, self.r, self.d, self.early = (x.copy() for x in st)


def _frame(plan: Plan, s: Searcher) -> pd.DataFrame:
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
    return out


def assign_times(attrs: pd.DataFrame, bound, seed: int, explore: int = 0,
                 warm: tuple[pd.DataFrame, Days] | None = None, max_iters: int = 40000,
                 t0: float | None = None, allow=None, polish: int = 0):
    """Days for every event of a stage-1 cohort.

    Cold (``warm=None``): random days, then the search. Warm (``warm=(prev_attrs, prev_days)``,
    row-aligned with ``attrs``): patients whose :func:`signature` is unchanged start from
    their previous days, the others from random ones, and the search starts cooler.
    ``explore``: random target-preserving moves after the targets hold (diversity).
    ``allow``: per-target allowances (:func:`allowances`): a target the start cohort misses
    may be missed by as much, no more; every other target must hold.
    ``polish``: iterations of :meth:`Searcher.polish` once the targets hold (KM landmarks
    pulled towards their published values, inside their tolerances).
    Returns (frame of day columns, final hard loss (0: all targets hold), Days).
    """
    a, plan, km, times = _problem(attrs, bound)
    source, prev = None, None
    if warm is not None:
        prev_attrs, prev = warm
        source = match_rows([signature(attrs, bound), signature(attrs, bound, groups=False)],
                            [signature(prev_attrs, bound), signature(prev_attrs, bound, groups=False)],
                            np.random.default_rng([seed, 1]))
    s = Searcher(plan, km, times, seed, prev, source, cutoff(bound), allow)
    t0 = (10.0 if warm is None else 2.0) if t0 is None else t0
    hard = s.search(explore=explore, max_iters=max_iters, t0=t0)
    if polish:
        s.polish(polish)  # a no-op unless every target holds
    return _frame(plan, s), hard, Days(s.inf.copy(), s.early.copy(), s.h.copy(), s.r.copy(), s.d.copy())


def allowances(attrs: pd.DataFrame, bound, days: Days) -> tuple[np.ndarray, np.ndarray, float]:
    """How far a cohort misses each time target (days), each KM landmark (points beyond its
    tolerance) and the even accrual (patients beyond the slack, summed): 0 for every target it
    meets. A walked cohort may miss only what its start missed, and by no more (fit.csv lists
    such misses)."""
    a, plan, km, times = _problem(attrs, bound)
    s = Searcher(plan, km, times, 0, days, np.arange(plan.n), cutoff(bound))
    s.inf, s.early, s.h, s.r, s.d = (x.copy() for x in (days.inf, days.early, days.h, days.r, days.d))
    s._prepare()
    _, rows = s.evaluate(detail=True)
    allow_t = np.array([abs(r[3] - r[2]) if abs(r[3] - r[2]) >= 0.25 else 0.0
                        for r in rows if r[1] != "km"])
    by_id = {r[0]: 0.0 if km_within(abs(r[3] - r[2]), r[4]) else abs(r[3] - r[2]) - r[4]
             for r in rows if r[1] == "km"}
    allow_km = np.array([by_id[k[0]] for k in km])
    return allow_t, allow_km, s.spread_excess
