"""Kaplan-Meier, numbers at risk and the log-rank test for many groups at once.

Serves the general reconstruction engine (:mod:`cart19.reconstruction.general_times`) and the
validation of the method (:mod:`cart19.validation`). Stage 2 of a reconstruction evaluates every
printed landmark, number at risk, log-rank P and hazard ratio of a study thousands of times per
cohort; lifelines' fitters cost about a millisecond per curve, this costs about 50 us for all the
groups of a study together (one matrix product per endpoint).

Why own code: speed in the search's inner loop, and O, E and V of the log-rank test, which
lifelines does not return. Conventions are those of R's ``survival`` and of lifelines: at a
tied time, events come before censorings (a patient censored at t is at risk at t), and the
log-rank variance is the hypergeometric one of ``survdiff``. ``tests/test_validation_stats.py``
checks every function against lifelines.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class RiskSets:
    """At each distinct event time ``u`` (sorted), the number at risk ``n`` and the number of
    events ``d`` of every group (rows of the membership matrix): G x K arrays."""
    u: np.ndarray
    n: np.ndarray
    d: np.ndarray


def risk_sets(time: np.ndarray, event: np.ndarray, masks: np.ndarray) -> RiskSets:
    """Risk sets of G groups (``masks``: G x n booleans) for one endpoint.

    One product of the G x n membership matrix with the n x K at-risk and event indicators: the
    cost does not grow with the number of targets that read the same groups."""
    t = np.asarray(time, float)
    e = np.asarray(event).astype(bool)
    m = np.atleast_2d(np.asarray(masks, float))
    u = np.unique(t[e])
    at_risk = (t[:, None] >= u[None, :]).astype(float)
    died = ((t[:, None] == u[None, :]) & e[:, None]).astype(float)
    return RiskSets(u, m @ at_risk, m @ died)


def km(rs: RiskSets, at) -> np.ndarray:
    """Product-limit S(t) of every group at the times ``at`` (G x len(at)). S is 1 before the
    first event and for a group without events (callers check group sizes)."""
    at = np.atleast_1d(np.asarray(at, float))
    if not len(rs.u):
        return np.ones((rs.n.shape[0], len(at)))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(rs.n > 0, 1.0 - rs.d / np.where(rs.n > 0, rs.n, 1.0), 1.0)
    surv = np.cumprod(step, axis=1)
    idx = np.searchsorted(rs.u, at, side="right") - 1
    return np.where(idx[None, :] >= 0, surv[:, np.maximum(idx, 0)], 1.0)


def at_risk(time: np.ndarray, masks: np.ndarray, at) -> np.ndarray:
    """Number at risk (time >= t) of every group at the times ``at`` (G x len(at))."""
    t = np.asarray(time, float)
    at = np.atleast_1d(np.asarray(at, float))
    m = np.atleast_2d(np.asarray(masks, float))
    return m @ (t[:, None] >= at[None, :]).astype(float)


@dataclass
class LogRank:
    """Observed and expected events of arm A (and B), the hypergeometric variance, the test."""
    o_a: float
    e_a: float
    o_b: float
    e_b: float
    v: float

    @property
    def chi2(self) -> float:
        return (self.o_a - self.e_a) ** 2 / self.v if self.v > 0 else 0.0

    @property
    def z(self) -> float:
        """Signed: > 0 when arm A has more events than expected."""
        return (self.o_a - self.e_a) / np.sqrt(self.v) if self.v > 0 else 0.0

    @property
    def p(self) -> float:
        return float(stats.chi2.sf(self.chi2, 1))

    def hr(self, variant: str = "logrank") -> float:
        """Hazard of A relative to B: Prism's ``logrank`` (O_a/E_a)/(O_b/E_b) or
        ``mantel_haenszel`` exp((O_a - E_a)/V) (/work/shared/notes/survival-statistics.md)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if variant == "logrank":
                return float((self.o_a / self.e_a) / (self.o_b / self.e_b))
            if variant == "mantel_haenszel":
                return float(np.exp((self.o_a - self.e_a) / self.v))
        raise ValueError(f"unknown HR variant {variant!r} (logrank, mantel_haenszel)")


def logrank(rs: RiskSets, a: int, b: int) -> LogRank:
    """Two-group log-rank test between rows ``a`` and ``b`` of ``rs`` (disjoint groups).

    E_a = sum d n_a / n and V = sum d (n - d)/(n - 1) n_a/n (1 - n_a/n) over the event times,
    as R's survdiff."""
    na, nb = rs.n[a], rs.n[b]
    n = na + nb
    d = rs.d[a] + rs.d[b]
    ok = (n > 0) & (d > 0)
    frac = np.where(ok, na / np.where(n > 0, n, 1.0), 0.0)
    e_a = float((d * frac)[ok].sum())
    multi = ok & (n > 1)
    v = float((d * (n - d) / np.where(n > 1, n - 1, 1.0) * frac * (1 - frac))[multi].sum())
    o_a, o_b = float(rs.d[a].sum()), float(rs.d[b].sum())
    return LogRank(o_a, e_a, o_b, o_a + o_b - e_a, v)


def logrank_many(rs: RiskSets, a: np.ndarray, b: np.ndarray):
    """:func:`logrank` for many pairs of rows at once: arrays (o_a, e_a, o_b, e_b, v)."""
    na, nb = rs.n[a], rs.n[b]
    n = na + nb
    d = rs.d[a] + rs.d[b]
    ok = (n > 0) & (d > 0)
    frac = np.where(ok, na / np.where(n > 0, n, 1.0), 0.0)
    e_a = (d * frac).sum(axis=1)
    v = np.where(ok & (n > 1), d * (n - d) / np.where(n > 1, n - 1, 1.0) * frac * (1 - frac),
                 0.0).sum(axis=1)
    o_a, o_b = rs.d[a].sum(axis=1), rs.d[b].sum(axis=1)
    return o_a, e_a, o_b, o_a + o_b - e_a, v


def median(values: np.ndarray) -> float:
    """Median of a sample (the midpoint of the two middle values for an even count)."""
    v = np.asarray(values, float)
    return float(np.median(v)) if len(v) else float("nan")
