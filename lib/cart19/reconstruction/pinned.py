"""Order-statistic pinned sampling: a sorted sample whose median, minimum and maximum are exactly the
published ones (the medians and ranges of Zhang et al. 2020, Table 1 and Results).

Every continuous column of the reconstruction is drawn with :func:`pinned_sorted`: the published
order statistics are placed first, the other positions drawn between them within their category.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cart19.reconstruction.summaries import MedianRange

def grid(x, dec):
    return np.round(np.asarray(x, dtype=float), dec)


def _median_pair(rng, median, dec, lo_seg, hi_seg, n_choices=3):
    """Two middle values (L, U) on the grid with (L+U)/2 == median,
    lo_seg <= L <= U <= hi_seg.  Picks one of the few closest pairs at random."""
    q = 10.0 ** -dec
    base = np.floor(median / q + 1e-9) * q
    cands = []
    for k in range(0, 50):
        L = round(base - k * q, dec)
        U = round(2 * median - L, dec)
        if abs((L + U) / 2 - median) > 1e-9 or L > U + 1e-12:
            continue
        if L < lo_seg - 1e-9 or U > hi_seg + 1e-9:
            break
        cands.append((L, U))
        if len(cands) == n_choices:
            break
    if not cands:
        raise ValueError(f"median {median} cannot be the midpoint of two grid values in "
                         f"[{lo_seg}, {hi_seg}] at {dec} decimals")
    # the exact median itself (or the closest pair) is the most likely choice
    w = 1.0 / (1.0 + np.arange(len(cands))) ** 2
    return cands[rng.choice(len(cands), p=w / w.sum())]


def _draw_between(rng, dist, a, b, size, dec):
    """`size` draws of `dist` truncated to [a, b], rounded to the grid, sorted.

    Inverse-CDF sampling over [a - q/2, b + q/2] so both end points of the grid
    interval are as likely as interior grid points after rounding."""
    if size <= 0:
        return np.empty(0)
    if b < a - 1e-12:
        raise ValueError(f"empty interval [{a}, {b}]")
    if b - a < 1e-12:
        return np.full(size, a)
    q = 10.0 ** -dec
    lo_c, hi_c = dist.cdf(a - q / 2), dist.cdf(b + q / 2)
    u = rng.uniform(lo_c, hi_c, size)
    if hi_c - lo_c < 1e-12:  # far tail: fall back to uniform
        v = rng.uniform(a, b, size)
    else:
        v = dist.ppf(u)
    return np.sort(np.clip(grid(v, dec), a, b))


def _check_pins(pins: dict, seg_lo, seg_hi, target) -> None:
    """Every pinned order statistic inside its category; the extremes reach the outer categories."""
    n = len(seg_lo)
    for p, v in pins.items():
        if not (seg_lo[p] - 1e-9 <= v <= seg_hi[p] + 1e-9) and p not in (0, n - 1):
            raise ValueError(f"pinned value {v} at sorted position {p + 1} falls outside its "
                             f"category [{seg_lo[p]}, {seg_hi[p]}]: categories and published "
                             "median are incompatible")
    if target.lo > seg_hi[0] + 1e-9:
        raise ValueError(f"published minimum {target.lo} above the lowest category")
    if target.hi < seg_lo[-1] - 1e-9:
        raise ValueError(f"published maximum {target.hi} below the highest category")


def pinned_sorted(rng, segments, target: MedianRange, dec, dist, seg_dists=None):
    """Sorted sample with exact median, minimum and maximum.

    segments: list of (count, lo, hi) in increasing order, the category
    intervals on the value grid (e.g. blasts <5, 5-20, >20).  Position 0 gets
    target.lo, position n-1 target.hi, the middle position(s) the median (or a
    pair of grid values averaging it).  Every other position is drawn from
    `dist` (or ``seg_dists[s]`` for segment s) truncated to the intersection
    of its category interval and the interval between the neighbouring pinned
    values, so the published order statistics hold exactly whatever the draw.
    """
    n = sum(c for c, _, _ in segments)
    if n < 3 or (n % 2 == 0 and n < 4):
        raise ValueError(f"{n} values cannot carry a separate minimum, median and maximum")
    seg_of = np.repeat(np.arange(len(segments)), [c for c, _, _ in segments])
    seg_lo = np.array([segments[s][1] for s in seg_of])
    seg_hi = np.array([segments[s][2] for s in seg_of])
    pins = {0: target.lo, n - 1: target.hi}
    if n % 2:
        pins[n // 2] = target.median
    else:
        m = n // 2
        pins[m - 1], pins[m] = _median_pair(rng, target.median, dec,
                                            seg_lo[m - 1], seg_hi[m])
    _check_pins(pins, seg_lo, seg_hi, target)
    out = np.empty(n)
    anchors = sorted(pins)
    for p, v in pins.items():
        out[p] = v
    # blocks of free positions between consecutive anchors, split by segment
    for a_pos, b_pos in zip(anchors[:-1], anchors[1:]):
        free = np.arange(a_pos + 1, b_pos)
        if not len(free):
            continue
        for s in np.unique(seg_of[free]):
            idx = free[seg_of[free] == s]
            lo = max(segments[s][1], pins[a_pos])
            hi = min(segments[s][2], pins[b_pos])
            d = dist if seg_dists is None else seg_dists[s]
            out[idx] = _draw_between(rng, d, lo, hi, len(idx), dec)
    return out


# ==========================================================================
