"""Kaplan-Meier landmarks to the printed decimal (issue 16, item 1): the last stage of the day search.

Stage 2 (:mod:`cart19.reconstruction.times`) meets every median, range and count and holds each
Kaplan-Meier landmark of Figures 2-7 within max(1 point, half a KM step). This stage narrows each
landmark to the window of its printed decimal (:func:`cart19.reconstruction.landmarks.bind`:
"63.9%" is 63.85-63.95; for a landmark no cohort can print, the two reachable values either side;
none for a landmark that follows from another), keeping every stage-2 target.

A landmark's value depends only on the order of its group's events and censorings before it, so
the moves here are small: one member's event day or censoring day (its infusion date) shifted
across its neighbours in the group, near the landmark or anywhere before it, and the stage-2
moves for large misses. Annealing on the distance outside the windows, only states that meet
every stage-2 target are kept (Zhang et al., Blood Adv 2020;4(10):2325-2338, Figures 2-7).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cart19.reconstruction import times as times_
from cart19.reconstruction.targets import CR_ASSESS_DAY

#: weight of one point outside a printed window, in units of the stage-2 soft loss
PRINT_WEIGHT = 20.0
#: largest shift of one day in a fine move
FINE_SHIFT = 40
#: a target missed by any amount costs this many units more (a landmark 0.01 outside its window
#: does not print; without it the search settles just outside many windows)
MISS_STEP = 0.5
#: weight of one unit of caption miss (2% on the log HR scale, or 5% on the chi-square scale)
CAPTION_WEIGHT = 4.0
#: share of the iterations spent on the captions, after the landmarks
CAPTION_SHARE = 0.3
#: the log-rank chi-square aimed at lies this share of the printed P window's chi-square width
#: inside it (of its lower end where the P is printed as an upper bound)
P_MARGIN = 0.1


def aims(landmarks, km) -> tuple[np.ndarray, np.ndarray]:
    """Per stage-2 KM target (``km``: list of (claim id, endpoint, mask, percent, days)), the
    window searched for, in percent; (-inf, inf) where a landmark has no aim (it follows from
    another; its stage-2 tolerance still holds)."""
    by = {lm.target.claim_id: lm.aim for lm in landmarks}
    lo, hi = np.full(len(km), -np.inf), np.full(len(km), np.inf)
    for k, row in enumerate(km):
        aim = by.get(row[0])
        if aim is not None:
            lo[k], hi[k] = aim
    return lo, hi


@dataclass(frozen=True)
class CaptionTarget:
    """One caption comparison of Figures 3-7 as a target: arms a and b (literals), the endpoint,
    the Prism variant and ln HR of arm a vs arm b to aim at (the printed HR in the design's
    orientation), and the log-rank chi-square window its printed P allows."""
    comparison: str
    endpoint: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    variant: str
    log_hr: float
    chi2_lo: float
    chi2_hi: float
    p_lo: float = 0.0       # the printed P window
    p_hi: float = 1.0


def caption_targets(claims, attrs, leave_out: tuple[str, ...] = ()) -> list[CaptionTarget]:
    """The caption comparisons that can be targets: the printed HR, CI and P self-consistent
    and allowed by the arms' event counts, which stage 1 fixes (``attrs``);
    :mod:`cart19.reconstruction.captions` says why the others cannot. ``leave_out``: comparisons
    not targeted (the leave-one-out check)."""
    from cart19.reconstruction import captions
    from cart19.reconstruction.targets import where_mask
    from cart19.record import design

    claims = claims.set_index("id") if "id" in claims.columns else claims
    event = {"os": attrs["death"].to_numpy() == 1,
             "lfs": (attrs["relapse"].to_numpy() == 1) | (attrs["death"].to_numpy() == 1)
             | (attrs["cr"].to_numpy() == 0)}
    out = []
    for fig, c in design.load().comparisons.items():
        for ep, spec in c.endpoints.items():
            name = f"{fig}.{ep}"
            chk = captions.consistency(claims, spec.hr.claim, spec.p[0])
            k = (1.0 if spec.hr.orientation == "a_vs_b" else -1.0) * math.log(float(chk["hr"]))
            o_a, o_b = (int((where_mask(attrs, c.where(arm)) & event[ep]).sum()) for arm in "ab")
            feas = captions.feasibility(k, chk["p_window"], chk["p_cmp"], o_a, o_b)
            if name in leave_out or not (chk["consistent"] and feas["feasible"]):
                continue
            lo, hi = chk["p_window"]
            chi_lo, chi_hi = float(stats.chi2.isf(hi, 1)), float(stats.chi2.isf(lo, 1)) if lo > 0 else np.inf
            m = P_MARGIN * (chi_hi - chi_lo) if np.isfinite(chi_hi) else P_MARGIN * chi_lo
            out.append(CaptionTarget(name, ep, c.where("a"), c.where("b"), spec.hr.variant, k,
                                     chi_lo + m, chi_hi - m if np.isfinite(chi_hi) else np.inf, lo, hi))
    return out


class PrintSearcher(times_.Searcher):
    """:class:`cart19.reconstruction.times.Searcher` whose soft loss is the distance of every
    landmark outside its printed window (``aim_lo``, ``aim_hi``: percent per KM target)."""

    captions: list = []
    cap_weight = CAPTION_WEIGHT

    def set_aims(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.aim_lo, self.aim_hi = np.asarray(lo, float), np.asarray(hi, float)

    def set_captions(self, targets: list[CaptionTarget], attrs) -> None:
        """Caption comparisons to fit (:func:`caption_targets`): index arrays built once."""
        from cart19.reconstruction.targets import where_mask
        self.captions = list(targets)
        self.cap_members = []
        pi, slot, lfs = [], [], []
        for c, t in enumerate(self.captions):
            for arm, where in enumerate((t.a, t.b)):
                idx = np.flatnonzero(where_mask(attrs, where))
                pi.append(idx)
                slot.append(np.full(len(idx), 2 * c + arm))
                lfs.append(np.full(len(idx), t.endpoint == "lfs"))
            self.cap_members.append(np.concatenate(pi[-2:]))
        if not self.captions:
            return
        pi, slot, lfs = (np.concatenate(x) for x in (pi, slot, lfs))
        self.cap_pairs = (pi + self.p.n * lfs, slot)
        self.cap_k = np.array([t.log_hr for t in self.captions])
        self.cap_mh = np.array([t.variant == "mantel_haenszel" for t in self.captions])
        self.cap_chi = np.array([[t.chi2_lo, t.chi2_hi] for t in self.captions])

    def caption_stats(self, t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ln HR of arm a vs b in each target's variant, log-rank chi-square) per caption
        target, from integer days (``t``, ``e``: OS then LFS, concatenated): O, E and V as R's
        survdiff (events per day, the hypergeometric variance)."""
        pi, slot = self.cap_pairs
        nc, L = len(self.captions), int(t.max()) + 2
        idx = slot * L + t[pi]
        cnt = np.bincount(idx, minlength=2 * nc * L).reshape(nc, 2, L)
        ev = np.bincount(idx, weights=e[pi], minlength=2 * nc * L).reshape(nc, 2, L)
        risk = np.cumsum(cnt[..., ::-1], axis=-1)[..., ::-1]
        n, d = risk.sum(1), ev.sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(n > 0, risk[:, 0] / np.maximum(n, 1), 0.0)
            e_a = (d * frac).sum(1)
            v = (d * frac * (1 - frac) * np.where(n > 1, (n - d) / np.maximum(n - 1, 1), 0.0)).sum(1)
            o_a, o_b = ev[:, 0].sum(1), ev[:, 1].sum(1)
            e_b = d.sum(1) - e_a
            lhr = np.where(self.cap_mh, (o_a - e_a) / v, np.log((o_a / e_a) / (o_b / e_b)))
            chi2 = (o_a - e_a) ** 2 / v
        return lhr, chi2

    def caption_miss(self) -> np.ndarray:
        """Per caption target: HR misses beyond 2% on the log scale (in units of 2%) plus the
        chi-square outside its window (in units of 5% of it); after :meth:`evaluate`."""
        if not self.captions:
            return np.zeros(0)
        from cart19.reconstruction.captions import LOG_HR_TOL
        f = self.cut - self.inf
        os_t, os_e, lfs_t, lfs_e = times_._os_lfs(self.p, f, self.h, self.r, self.d)
        lhr, chi2 = self.caption_stats(np.concatenate([os_t, lfs_t]).astype(int),
                                       np.concatenate([os_e, lfs_e]).astype(float))
        hr_m = np.maximum(0.0, np.abs(lhr - self.cap_k) - 0.9 * LOG_HR_TOL) / LOG_HR_TOL
        lc = np.log(np.maximum(chi2, 1e-12))
        p_m = np.maximum(0.0, np.maximum(np.log(self.cap_chi[:, 0]) - lc, lc - np.log(self.cap_chi[:, 1])))
        out = hr_m + p_m / 0.05
        return np.where(np.isfinite(out), out, 1e3)

    def loss(self, soft: float) -> float:
        """Print loss: landmarks outside their windows, caption misses, the stage-2 soft loss.
        Keeps the weighted misses per target (``self.weights``) for the next move."""
        m = self.miss()
        c = self.caption_miss() if self.cap_weight else np.zeros(len(self.captions))
        self.weights = np.concatenate([PRINT_WEIGHT * (m + MISS_STEP * (m > 0)),
                                       self.cap_weight * (c + MISS_STEP * (c > 0))])
        return float(self.weights.sum()) + soft

    def miss(self) -> np.ndarray:
        """Points outside the printed window, per KM target (0 inside); after :meth:`evaluate`."""
        v = self.km_signed + self.km_pct
        return np.maximum(0.0, np.maximum(self.aim_lo - v, v - self.aim_hi))

    def _group(self, k: int):
        """(members, endpoint, last day that matters) of target k: a landmark (k below the
        number of KM targets) or a caption comparison (both arms, every day)."""
        nk = len(self.km)
        if k < nk:
            _cid, ep, mask, _pct, days = self.km[k]
            return np.flatnonzero(mask), ep, days
        t = self.captions[k - nk]
        return self.cap_members[k - nk], t.endpoint, float(self.cut)

    def _fine(self, k: int) -> list[int]:
        """Shift one member of target k's group (its event or its censoring) by a few days:
        reorders it among its neighbours, which changes the at-risk count at an event."""
        p, rng = self.p, self.rng
        members, ep, days = self._group(k)
        shift = CR_ASSESS_DAY if ep == "lfs" else 0
        i = int(members[rng.integers(len(members))])
        if ep == "lfs" and not p.cr[i]:
            return []
        delta = int(rng.integers(1, FINE_SHIFT + 1)) * (1 if rng.random() < 0.5 else -1)
        if (p.rel[i] or p.death[i]) if ep == "lfs" else p.death[i]:
            col = "relapse_day" if (ep == "lfs" and p.rel[i]) else "death_day"
            cur = self.r[i] if col == "relapse_day" else self.d[i]
            return [] if cur - shift > days + FINE_SHIFT else self._set(i, col, cur + delta)
        if self.pot(i) - shift > days + FINE_SHIFT or p.short[i]:
            return []
        self.inf[i] = self.inf[i] - delta
        return [i]

    def _swap(self, k: int) -> list[int]:
        """Swap one day (infusion, relapse or death) between a member of target k's group and
        another patient with that day: the day multisets, hence every median and range over
        patients that both belong to, and the accrual spread stay as they were."""
        p, rng = self.p, self.rng
        members = self._group(k)[0]
        i = int(members[rng.integers(len(members))])
        opts = ["inf"] + (["r"] if p.rel[i] else []) + (["d"] if p.death[i] else [])
        col = opts[rng.integers(len(opts))]
        pool = {"inf": np.flatnonzero(p.short == p.short[i]),
                "r": np.flatnonzero(p.rel), "d": np.flatnonzero(p.death)}[col]
        j = int(pool[rng.integers(len(pool))])
        if j == i:
            return []
        x = getattr(self, col)
        x[i], x[j] = x[j], x[i]
        if col == "inf":
            self.early[i], self.early[j] = self.early[j], self.early[i]
        return [i, j]

    def _exchange(self, k: int) -> list[int]:
        """Exchange the overall survival days of a member of target k's group and another
        patient (a death day for the dead, the follow-up, through the infusion date, for the
        living): the multiset of OS days, hence the follow-up median and range, is kept."""
        p, rng = self.p, self.rng
        members = self._group(k)[0]
        i, j = int(members[rng.integers(len(members))]), int(rng.integers(p.n))
        if i == j or p.short[i] or p.short[j]:
            return []
        vi = self.d[i] if p.death[i] else self.pot(i)
        vj = self.d[j] if p.death[j] else self.pot(j)
        for a, v in ((i, vj), (j, vi)):
            if p.death[a]:
                self.d[a] = v
            else:
                self.inf[a] = self.cut - v
        return [i, j]

    def _move(self, w: np.ndarray) -> list[int]:
        """One move, aimed (most of the time) at a target drawn by how far it misses
        (``w``: landmarks, then captions)."""
        rng = self.rng
        u = rng.random()
        if u >= 0.85 or w.sum() <= 0:
            return self._propose()
        k = int(rng.choice(len(w), p=w / w.sum()))
        if u < 0.75 or k >= len(self.km):
            return (self._fine, self._swap, self._exchange)[int(rng.integers(3))](k)
        high = bool(self.km_signed[k] + self.km_pct[k] > self.aim_hi[k])
        return self._targeted_km(k, high)

    def fit(self, iters: int, t0: float = 2.0) -> float:
        """Annealing on :meth:`loss` over states that meet every stage-2 target (within the
        allowances); keeps the best. Returns the final loss (0: every landmark in its window,
        every caption target met, the soft loss 0)."""
        rng = self.rng
        hard, soft = self.evaluate()
        if hard != 0.0:
            return float("inf")
        cur = self.loss(soft)
        best, weights = (cur, self._state()), self.weights
        for it in range(iters):
            if best[0] == 0.0:
                break
            temp = t0 * (1 - it / iters) + 1e-3
            saved = self._state() + (self.violated, self.km_violated, self.km_signed, self.spread_bad)
            touched = self._move(weights)
            if touched and all(self.ok(i) for i in touched):
                nh, ns = self.evaluate()
                new = self.loss(ns)
                if nh == 0.0 and (new <= cur or rng.random() < np.exp((cur - new) / temp)):
                    cur, weights = new, self.weights
                    best = (cur, self._state()) if cur < best[0] else best
                    continue
            self._restore(saved[:-4])
            self.violated, self.km_violated, self.km_signed, self.spread_bad = saved[-4:]
        self._restore(best[1])
        _, soft = self.evaluate()
        return self.loss(soft)


#: iterations of :meth:`PrintSearcher.fit`: the base cohort (one-off, committed), one
#: reconstruction (the committed cohort) and each cohort of an ensemble chain
PRINT_BASE = 150000
PRINT_SINGLE = 12000
PRINT_STEP = 600


def print_fit(attrs, bound, days: times_.Days, seed: int, iters: int, landmarks, allow=None,
              captions: list[CaptionTarget] = (), landmark_iters: int | None = None):
    """Days of a stage-2 solution (``days``, meeting every stage-2 target within ``allow``)
    refitted so that its landmarks fall in their printed windows (``landmarks``:
    :func:`cart19.reconstruction.landmarks.bind`) and its caption comparisons meet their printed
    HR and P (``captions``: :func:`caption_targets`). Returns (day frame, Days, searcher: its
    :meth:`PrintSearcher.miss` and :meth:`PrintSearcher.caption_miss` say what is left).
    ``iters``: the landmarks get a share 1 - :data:`CAPTION_SHARE` (all of it without captions),
    or ``landmark_iters`` when given; then the captions the rest (out of ``iters`` in all)."""
    a, plan, km, tms = times_._problem(attrs, bound)
    s = PrintSearcher(plan, km, tms, seed, days, np.arange(plan.n), times_.cutoff(bound), allow)
    s.inf, s.early, s.h, s.r, s.d = (x.copy() for x in (days.inf, days.early, days.h, days.r, days.d))
    s._prepare()
    s.set_aims(*aims(landmarks, km))
    s.set_captions(list(captions), a)
    s.evaluate()
    n_km = iters - int(CAPTION_SHARE * iters) if landmark_iters is None else landmark_iters
    n_km = n_km if s.captions else iters
    n_cap = iters - n_km
    if n_km:  # the landmarks first, then the captions with the landmarks kept
        s.cap_weight = 0.0
        s.fit(n_km)
    if n_cap:
        s.cap_weight = CAPTION_WEIGHT
        s.fit(n_cap)
    out = times_.Days(s.inf.copy(), s.early.copy(), s.h.copy(), s.r.copy(), s.d.copy())
    return times_._frame(plan, s), out, s


def caption_values(s: PrintSearcher) -> tuple[np.ndarray, np.ndarray]:
    """(HR of arm a vs b in each caption target's variant, log-rank P) of a searcher's days."""
    f = s.cut - s.inf
    os_t, os_e, lfs_t, lfs_e = times_._os_lfs(s.p, f, s.h, s.r, s.d)
    lhr, chi2 = s.caption_stats(np.concatenate([os_t, lfs_t]).astype(int),
                                np.concatenate([os_e, lfs_e]).astype(float))
    return np.exp(lhr), stats.chi2.sf(chi2, 1)


def leave_one_out(attrs, bound, days: times_.Days, claims, landmarks, iters: int, seed: int,
                  allow=None) -> pd.DataFrame:
    """Issue 16, item 3: the fit from ``days`` with every caption target, then with each left out
    in turn; per comparison its printed HR and P, the values when fitted and when left out, and
    whether each meets the print (HR within 2% on the log scale, P within the chi-square window
    of its printed precision). ``iters`` per fit."""
    from cart19.reconstruction.captions import LOG_HR_TOL

    caps = caption_targets(claims, attrs)
    runs = {None: caps, **{t.comparison: caption_targets(claims, attrs, (t.comparison,)) for t in caps}}
    n_cap = int(CAPTION_SHARE * iters)
    _f, start, _s = print_fit(attrs, bound, days, seed, iters - n_cap, landmarks, allow)
    got = {}
    for left, use in runs.items():
        _f, new, _s = print_fit(attrs, bound, start, seed, n_cap, landmarks, allow, use, landmark_iters=0)
        _f, _d, s_all = print_fit(attrs, bound, new, seed, 0, landmarks, allow, caps)
        got[left] = caption_values(s_all)
    rows = []
    for c, t in enumerate(caps):
        hr_p = math.exp(t.log_hr)
        row = {"comparison": t.comparison, "printed_hr": round(hr_p, 4)}
        for tag, key in (("fitted", None), ("left_out", t.comparison)):
            hr, p = got[key][0][c], got[key][1][c]
            row.update({f"{tag}_hr": float(f"{hr:.4g}"), f"{tag}_p": float(f"{p:.3g}"),
                        f"{tag}_hr_met": bool(abs(math.log(hr / hr_p)) <= LOG_HR_TOL),
                        f"{tag}_p_met": bool(t.p_lo <= p <= t.p_hi)})
        row["p_window"] = f"{t.p_lo:.4g}-{t.p_hi:.4g}"
        rows.append(row)
    return pd.DataFrame(rows)


def targeted_claims(claims) -> set[str]:
    """Claim ids the last stage fits (basis "fitted" in the scorecard): the log-rank P, HR and
    CI claims of every caption target. The targets depend on the arms' event counts, which
    stage 1 fixes from the published counts; they are read from the committed base cohort
    (data/cohort/base.npz)."""
    from cart19.reconstruction import milp
    from cart19.reconstruction.pipeline import BASE_NPZ
    from cart19.record import design

    with np.load(BASE_NPZ) as z:
        attrs = pd.DataFrame(z["attrs"], columns=list(milp.ATTRS))
    names = {t.comparison for t in caption_targets(claims, attrs)}
    out: set[str] = set()
    for fig, c in design.load().comparisons.items():
        for ep, spec in c.endpoints.items():
            if f"{fig}.{ep}" in names:
                out |= set(spec.p) | {spec.hr.claim} | {x.claim for x in spec.hr.ci}
    return out


#: iterations of each leave-one-out fit (landmarks once, then the captions per left-out set)
LOO_ITERS = 60000


def leave_one_out_table(claims_path=None, iters: int = LOO_ITERS) -> pd.DataFrame:
    """:func:`leave_one_out` from the base cohort's stage-2 days before this stage (recomputed:
    the base's integer program and cold stage-2 search are deterministic), with the base key it
    was computed for (``base_key``: a test checks the committed table is current)."""
    from cart19.paths import CLAIMS_CSV
    from cart19.reconstruction import landmarks as L
    from cart19.reconstruction import pipeline as P
    from cart19.reconstruction import targets as T

    path = CLAIMS_CSV if claims_path is None else claims_path
    claims = T.read_claims(path)
    bound = T.bind(claims, path, strict=True)
    attrs = P.base_state(path, bound)[0]
    _f, _h, days = times_.assign_times(attrs, bound, P.DEFAULT_SEED, max_iters=P.SA_ITERS,
                                       polish=times_.POLISH_BASE)
    out = leave_one_out(attrs, bound, days, claims, L.landmarks_of(path), iters, P.DEFAULT_SEED)
    out["base_key"] = P._base_key(path)
    return out
