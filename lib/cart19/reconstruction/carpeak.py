"""The CAR T-cell peak column: the Results' median and range and Table 3's twenty subgroup means
with their printed dispersion, read as standard errors (Zhang et al. 2020, Table 3 last column).

:func:`peak_groups` attaches each printed Table 3 row to its patients (matching the printed group
sizes, which finds the swapped TP53 and previous-transplant labels); :func:`assign_car_peak` draws
the values and fits them to the subgroup means and SEs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cart19.reconstruction.pinned import grid, pinned_sorted
from cart19.reconstruction.summaries import MedianRange, TargetError

N_ASSIGN = 1000     # candidate rank assignments scored for the CAR T-cell peak
N_RESTART = 1       # best-scoring assignments fitted in full; the best fit is kept
SWAP_ROUNDS = 3     # rounds of median-side swaps per fit


def table3_factors() -> dict[str, tuple[str, str]]:
    """Table 3 factor -> its two printed levels (the claim ids ``table3.<outcome>.<factor>.<level>``),
    from ``data/published/design.yml``."""
    from cart19.record import design
    return {f: tuple(fac.levels) for f, fac in design.load().table3.factors.items()}


def level_masks(codes: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """factor -> (mask of level_a, mask of level_b), levels in :func:`table3_factors` order."""
    bl = codes["blasts_cat"]
    a = {
        "age": codes["age_group"] == "child",
        "sex": codes["sex"] == "female",
        "bcr_abl": codes["bcr_abl"] == 1,
        "tp53": codes["tp53"] == 1,
        "emd": codes["emd"] == 0,
        "blasts20": bl != "gt20",
        "blasts5": bl == "lt5",
        "costim": codes["costim"] == "cd28",
        "prior_hsct": codes["prior_hsct"] == 0,
        "dose": codes["dose_group"] == "lt3",
    }
    return {f: (m.astype(bool), ~m.astype(bool)) for f, m in a.items()}


@dataclass(frozen=True)
class PeakGroup:
    factor: str
    level: str            # level of the patients (our coding)
    claim_id: str         # claim whose mean/dispersion is the target for these patients
    mask: np.ndarray
    mean: float
    se: float             # printed dispersion (labelled SD), used as a standard error
    note: str


def peak_groups(claims: pd.DataFrame, masks) -> list[PeakGroup]:
    """Attach each Table 3 CAR-peak row to a patient group.

    Rows are matched to groups by size: a row's N is read from the CR-rate
    claim of the same printed row (table3.cr.<factor>.<level>).  When the
    sizes say the printed labels are swapped (TP53 and previous transplant,
    cf. Table 1: 12 TP53-mutated, 16 post-transplant), the row goes to the
    group of matching size and the note says so.  Without usable N the
    printed label is used.
    """
    ids = claims["id"].astype(str)

    def row(cid):
        hit = claims[ids == cid]
        if not len(hit):
            raise TargetError("data/published/claims.csv", f"missing claim {cid}", column="id")
        return hit.iloc[0]

    groups = []
    for f, (la, lb) in table3_factors().items():
        ma, mb = masks[f]
        na, nb = int(ma.sum()), int(mb.sum())
        printed_N = {}
        for lev in (la, lb):
            hit = claims[ids == f"table3.cr.{f}.{lev}"]
            N = pd.to_numeric(hit.iloc[0].get("N"), errors="coerce") if len(hit) else np.nan
            printed_N[lev] = None if pd.isna(N) else int(N)
        swapped = (na != nb and printed_N[la] == nb and printed_N[lb] == na)
        for lev, mask, n in ((la, ma, na), (lb, mb, nb)):
            src = (lb if lev == la else la) if swapped else lev
            r = row(f"table3.carpeak.{f}.{src}")
            mean = float(pd.to_numeric(r.get("mean"), errors="coerce"))
            se = float(pd.to_numeric(r.get("dispersion"), errors="coerce"))
            if np.isnan(mean) or np.isnan(se):
                raise TargetError("data/published/claims.csv",
                                  f"claim {r['id']} lacks mean/dispersion", column="mean")
            note = ""
            if swapped:
                note = (f"printed row '{src}' (N={printed_N[src]}) assigned to the {n} "
                        f"patients with level '{lev}': labels swapped by group size")
            elif printed_N[lev] is not None and printed_N[lev] != n:
                note = f"group size {n} differs from printed N={printed_N[lev]}"
            groups.append(PeakGroup(f, lev, str(r["id"]), mask, mean, se, note))
    return groups


def _group_stats(x, groups):
    means = np.array([x[g.mask].mean() for g in groups])
    ses = np.array([x[g.mask].std(ddof=1) / np.sqrt(g.mask.sum()) if g.mask.sum() > 1 else 0.0
                    for g in groups])
    return means, ses


def _calibrated_gamma(target: MedianRange, mean: float, sd: float):
    """Gamma with the published median whose median-pinned, range-truncated
    sample has about the given mean and SD (closed-form partial moments:
    E[X^p; a<X<b] uses the gamma CDF with shape k+p).  A sample drawn so needs
    less correction later, so fewer values end up on the bounds."""
    a, m, b = target.lo, target.median, target.hi

    def moments(k):
        th = m / stats.gamma(k).median()
        def part(p, lo, hi):
            c = np.prod([k + j for j in range(p)]) * th ** p
            z = stats.gamma(k, scale=th)
            zp = stats.gamma(k + p, scale=th)
            return c * (zp.cdf(hi) - zp.cdf(lo)) / (z.cdf(hi) - z.cdf(lo))
        m1 = 0.5 * part(1, a, m) + 0.5 * part(1, m, b)
        m2 = 0.5 * part(2, a, m) + 0.5 * part(2, m, b)
        return m1, np.sqrt(max(m2 - m1 ** 2, 0.0)), th

    def loss(logk):
        m1, s1, _ = moments(np.exp(logk))
        return ((m1 - mean) / mean) ** 2 + ((s1 - sd) / sd) ** 2

    res = optimize.minimize_scalar(loss, bounds=(np.log(0.2), np.log(20.0)), method="bounded",
                                   options={"xatol": 1e-3})
    k = float(np.exp(res.x))
    return stats.gamma(k, scale=moments(k)[2])


def assign_car_peak(rng, codes, target: MedianRange, groups: list[PeakGroup]) -> np.ndarray:
    """CAR T-cell peak (% of PB lymphocytes): Results median/range and Table 3.

    1. Quantile-matched draws: 110 values with the published median, minimum
       and maximum, from a gamma calibrated so the sample's mean and SD are
       about those implied by Table 3 (mean = pooled group means, SD = printed
       dispersion x sqrt(n), pooled over the groups).
    2. Assignment: an additive model fitted to the 20 subgroup means gives each
       patient an expected peak; values go to patients in the order of that
       expectation plus noise (best of N_ASSIGN noise draws), so subgroup
       means start near their targets.  The maximum goes to a patient whose
       subgroups can absorb it without exceeding their printed spread.
    3. Bounded linear least squares (lsq_linear): subgroup means are linear in
       the values, so they are met by the smallest move from step 2.  The
       minimum, maximum and the two middle order statistics are held fixed and
       every other value is bounded to its side of the median, which keeps the
       published median and range exact.  The 20 targets are not mutually
       consistent (each pair of rows implies a total: EMD and dose imply sums
       ~3151 and ~3159 where the others imply ~3148), so they are met in the
       least-squares sense, not exactly.
    4. SE step (least_squares, same bounds): the within-group spreads are
       quadratic, so a small nonlinear least squares nudges the values towards
       the printed dispersions read as standard errors while keeping the means.
    """
    n = len(codes["sex"])
    means_t = np.array([g.mean for g in groups])
    ses_t = np.array([g.se for g in groups])
    sizes = np.array([g.mask.sum() for g in groups])
    M = np.array([g.mask for g in groups], dtype=float) / sizes[:, None]   # group-mean operator

    # -- 1. marginal draws
    # implied overall mean: each factor's two rows imply one total; average them
    tot = [(means_t[i] * sizes[i] + means_t[i + 1] * sizes[i + 1]) / n
           for i in range(0, len(groups), 2)]
    mu_all = float(np.mean(tot))
    sd_all = float(np.sqrt(np.mean(ses_t ** 2 * sizes)))
    vals = pinned_sorted(rng, [(n, target.lo, target.hi)], target, 1,
                          _calibrated_gamma(target, mu_all, sd_all))

    # -- 2. additive expectation and noisy rank assignment
    Z = np.column_stack([np.ones(n)] + [g.mask for g in groups[0::2]]).astype(float)
    beta, *_ = np.linalg.lstsq(M @ Z, means_t, rcond=None)
    expect = Z @ beta
    noise_sd = np.sqrt(max(sd_all ** 2 - expect.var(), 1.0))
    # Best of N_ASSIGN noisy rankings (closest subgroup means and SEs before any
    # optimisation): the less steps 3-4 must move values, the fewer end up
    # stacked on the bounds (median, extremes), which would look artificial.
    scores = expect + rng.normal(0, noise_sd, (N_ASSIGN, n))
    ranks = np.argsort(np.argsort(scores, axis=1, kind="stable"), axis=1)
    cand = vals[ranks]                                          # (N_ASSIGN, n)
    mu_c = cand @ M.T
    sd_c = np.sqrt(np.maximum((cand ** 2) @ M.T - mu_c ** 2, 0) * (sizes / (sizes - 1)))
    se_c = sd_c / np.sqrt(sizes)
    miss = (((mu_c - means_t) / ses_t) ** 2).sum(1) + (((se_c - ses_t) / ses_t * 10) ** 2).sum(1)
    sd_t = ses_t * np.sqrt(sizes)

    def absorbs(i, v):
        cost = [(v - means_t[k]) ** 2 / ((sizes[k] - 1) * sd_t[k] ** 2)
                for k, g in enumerate(groups) if g.mask[i] and sizes[k] > 1]
        return max(cost, default=0.0) <= 0.5

    best = None
    for c in np.argsort(miss)[:N_RESTART]:
        order = list(np.argsort(scores[c], kind="stable"))
        # The published extremes go to patients whose subgroups can absorb them:
        # e.g. 90.6 in a group of 16 with mean 23.75 alone implies an SD above
        # the printed 3.723 * sqrt(16), so such patients cannot hold the maximum.
        for v, top in ((target.hi, True), (target.lo, False)):
            cands = order[::-1] if top else order
            holder = next((i for i in cands if absorbs(i, v)), cands[0])
            order.remove(holder)
            order.append(holder) if top else order.insert(0, holder)
        x, cost = _fit_peak(np.array(order), vals, target, M, means_t, ses_t, groups, sd_all)
        if best is None or cost < best[1] - 1e-12:
            best = (x, cost)
    return grid(best[0], 1)


def _fit_peak(order, vals, target, M, means_t, ses_t, groups, sd_all):
    """Steps 3-4 of assign_car_peak for one rank assignment; returns (x, cost).

    Each patient's side of the median is fixed by its rank (that keeps the
    median exact).  A patient pushed against the median from below and one
    pushed against it from above would both gain by changing sides, so such
    pairs swap sides and the fit is repeated (up to SWAP_ROUNDS times)."""
    n = len(order)
    x0 = np.empty(n)
    x0[order] = vals                                  # rank r gets the r-th smallest value
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    m = n // 2
    fixed_ranks = {0, n - 1} | ({m - 1, m} if n % 2 == 0 else {m})
    fixed = np.isin(rank, list(fixed_ranks))
    free = ~fixed
    lo_med = vals[m - 1] if n % 2 == 0 else vals[m]
    hi_med = vals[m]
    below = rank < min(fixed_ranks - {0})
    w_mean, lam, w_se, lam2 = 50.0, 1.0 / sd_all, 10.0, 0.2 / sd_all
    Mf = M[:, free]
    start = x0[free]
    for _ in range(SWAP_ROUNDS + 1):
        # values other than the published maximum stay one grid step below it
        # (a tie at the very top would be an artefact of the bounds, not data)
        lb = np.where(below, target.lo, hi_med)[free]
        ub = np.where(below, lo_med, target.hi - 0.1)[free]
        start = np.clip(start, lb, ub)
        # -- 3. linear step: min  w^2 |M x - t|^2 + lam^2 |x - start|^2  within bounds
        rhs = means_t - M[:, fixed] @ x0[fixed]
        A = np.vstack([w_mean * Mf, lam * np.eye(free.sum())])
        b = np.concatenate([w_mean * rhs, lam * start])
        x1f = optimize.lsq_linear(A, b, bounds=(lb, ub), method="trf",
                                  lsq_solver="lsmr", tol=1e-7).x
        # -- 4. SE step
        x2f = _se_step(x0, free, x1f, (lb, ub), groups, (means_t, ses_t), Mf,
                       (w_mean, w_se, lam2))
        full = _filler(x0, free)
        x = full(x2f)
        mu, se = _group_stats(x, groups)
        cost = float((w_mean ** 2) * ((mu - means_t) ** 2).sum()
                     + (w_se ** 2) * ((se - ses_t) ** 2).sum())
        # patients stuck on the median bound, by side
        idx_free = np.flatnonzero(free)
        up = idx_free[below[free] & (x2f >= ub - 0.05)]      # below, want up
        down = idx_free[~below[free] & (x2f <= lb + 0.05)]   # above, want down
        k = min(len(up), len(down))
        if k == 0:
            break
        below[up[:k]] = False
        below[down[:k]] = True
        # restart the swapped values a little inside their new side, so the
        # proximity term does not hold them on the median
        full_start = full(x2f)
        full_start[up[:k]] += 1.0
        full_start[down[:k]] -= 1.0
        start = full_start[free]
    return x, cost


def _filler(x0, free):
    """xf -> x0 with its free positions set to xf."""
    def full(xf):
        x = x0.copy()
        x[free] = xf
        return x
    return full


def _se_step(x0, free, x1f, bounds, groups, targets, Mf, weights):
    """Step 4 of :func:`assign_car_peak`: nonlinear least squares (same bounds) that nudges the
    within-group spreads towards the printed dispersions read as SEs while keeping the means."""
    lb, ub = bounds
    means_t, ses_t = targets
    w_mean, w_se, lam2 = weights
    full = _filler(x0, free)
    masks_f = [g.mask[free] for g in groups]

    def resid(xf):
        mu, se = _group_stats(full(xf), groups)
        return np.concatenate([w_mean * (mu - means_t), w_se * (se - ses_t),
                               lam2 * (xf - x1f)])

    def jac(xf):
        x = full(xf)
        J_se = np.zeros((len(groups), free.sum()))
        for k, g in enumerate(groups):
            ng = g.mask.sum()
            xs = x[g.mask]
            sd = xs.std(ddof=1)
            if sd > 0:
                d = (x - xs.mean()) / ((ng - 1) * sd * np.sqrt(ng))
                J_se[k] = np.where(masks_f[k], d[free], 0.0)
        return np.vstack([w_mean * Mf, w_se * J_se, lam2 * np.eye(free.sum())])

    # lsmr trust-region solver: no dense SVD per iteration (dense LAPACK
    # calls are slow when BLAS threads compete on a busy 2-core machine);
    # ftol 1e-6 stops once the cost stalls at the floor set by the
    # inconsistent means.
    return np.clip(optimize.least_squares(
        resid, np.clip(x1f, lb, ub), jac=jac, bounds=(lb, ub), method="trf",
        tr_solver="lsmr", max_nfev=100, xtol=1e-6, ftol=1e-6).x, lb, ub)
