"""Stage 1 of the general engine: binary attributes and event indicators from printed counts.

The integer program of :mod:`cart19.reconstruction.milp` is general in its counts (each a
conjunction of binary literals) but its attribute list and clinical logic are Zhang et al.'s.
Here the attributes come from a :class:`~cart19.reconstruction.general_study.Study`: its binary
characteristics plus one event indicator per endpoint (``event_<endpoint>``), with the study's
hard logic (at most one of each exclusive family, implications, an event of an outer endpoint
is an event of the nested one). The model is assembled from milp's own building blocks
(``_Model``, ``_count_coefs`` with its AND-variables, ``_solve`` on HiGHS), so both engines share
one formulation of a count.

As in milp: patients are interchangeable, so rows are ordered lexicographically (symmetry
breaking, /work/shared/notes/reconstruction-solver.md), and a seeded random objective picks one
of the many feasible cohorts; different seeds give different cohorts (the ensemble).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.reconstruction import milp
from cart19.reconstruction.general_study import Study
from cart19.reconstruction.targets import CountTarget

#: symmetry breaking orders rows on at most this many attributes, unless the study names its
#: own key (``order``). Off by default: small models solve faster without it (measured on a
#: 110-patient, 6-attribute study: 0.15-0.25 s without the order rows, 1-2 s with 6 ordered
#: attributes, 3-9 s with 14), while Zhang et al.'s 75-attribute model needs it (292 s without
#: on a loaded machine; the Zhang engine's 12-attribute key brings it to seconds)
ORDER_ATTRS = 0


def event_attr(endpoint: str) -> str:
    return f"event_{endpoint}"


def stage1_attrs(study: Study) -> tuple[str, ...]:
    """The model's attributes: event indicators first (they matter most for symmetry), then the
    study's characteristics."""
    ev = tuple(event_attr(e.name) for e in study.endpoints)
    clash = set(ev) & set(study.names)
    if clash:
        raise ValueError(f"attribute names {sorted(clash)} are reserved for event indicators")
    return ev + study.names


def _model(study: Study, n: int) -> milp._Model:
    attrs = stage1_attrs(study)
    m = milp._Model(n, {a: k for k, a in enumerate(attrs)}, len(attrs) * n, [], [], [], [], [], {})
    v = m.var
    for i in range(n):
        for fam in study.exclusive:
            m.add_row({v(a, i): 1 for a in fam}, -np.inf, 1)
        for a, b in study.implies:
            m.add_row({v(a, i): 1, v(b, i): -1}, -np.inf, 0)
        for e in study.endpoints:
            if e.within is not None:  # an event of the outer endpoint is one of this endpoint
                m.add_row({v(event_attr(e.within), i): 1, v(event_attr(e.name), i): -1}, -np.inf, 0)
        for terms, lo, hi in study.rules:
            m.add_row({v(a, i): c for a, c in terms}, lo, hi)
    key = study.order or attrs[:ORDER_ATTRS]
    w = {a: 2.0 ** (len(key) - 1 - k) for k, a in enumerate(key)}
    for i in range(n - 1 if key else 0):
        c: dict = {}
        for a, wt in w.items():
            c[v(a, i)] = c.get(v(a, i), 0) + wt
            c[v(a, i + 1)] = c.get(v(a, i + 1), 0) - wt
        m.add_row(c, 0, np.inf)
    return m


def _add_counts(m: milp._Model, counts, elastic: bool = False) -> list:
    slack = []
    for t, val in counts:
        coefs, const = milp._count_coefs(m, t.where)
        if elastic:
            sp, sm = m.n_vars, m.n_vars + 1
            m.n_vars += 2
            coefs = {**coefs, sp: -1, sm: 1}
            slack.append((sp, sm))
        m.add_row(coefs, val - const, val - const)
    return slack


def solve(study: Study, counts: list[tuple[CountTarget, int]], n: int, seed: int,
          gap: float = 0.5) -> pd.DataFrame:
    """One cohort (n x attributes, 0/1) meeting every count; :class:`milp.ClaimConflict`
    naming the counts that must give way when they cannot all hold."""
    m = _model(study, n)
    _add_counts(m, counts)
    attrs = stage1_attrs(study)
    rng = np.random.default_rng(seed)
    c = np.zeros(m.n_vars)
    c[:len(attrs) * n] = rng.uniform(0.0, 1.0, len(attrs) * n)
    res = milp._solve(m, c, np.ones(m.n_vars), np.ones(m.n_vars), gap=gap)
    if res.x is None:
        raise explain(study, counts, n)
    x = np.round(res.x[:len(attrs) * n]).astype(int).reshape(len(attrs), n).T
    return pd.DataFrame(x, columns=list(attrs))


def explain(study: Study, counts, n: int, time_limit: float = 30.0) -> milp.ClaimConflict:
    """The smallest total change of the printed counts that makes them consistent, and the
    counts it touches (each count elastic, total slack minimised)."""
    m = _model(study, n)
    slack = _add_counts(m, counts, elastic=True)
    sl = np.array([s for pair in slack for s in pair])
    c = np.zeros(m.n_vars)
    c[sl] = 1.0
    ub = np.ones(m.n_vars)
    ub[sl] = n + max([abs(v) for _t, v in counts], default=0)  # any printed value can be repaired
    res = milp._solve(m, c, np.ones(m.n_vars), ub, time_limit=time_limit)
    if res.x is None:
        return milp.ClaimConflict(["(the study's logic alone admits no cohort)"], [], 0)
    used = [t.claim_id for (t, _), (p, q) in zip(counts, slack) if res.x[p] + res.x[q] > 0.5]
    return milp.ClaimConflict(used, [], int(round(res.fun)))
