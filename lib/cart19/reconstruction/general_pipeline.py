"""Reconstruct a cohort of any study from printed aggregates alone (the general engine).

THE COHORTS THIS BUILDS ARE RECONSTRUCTIONS: one of many patient-level tables consistent with a
set of printed aggregates, never the data the aggregates came from.

Pipeline, pure functions of (study, targets, n, seed):

1. :func:`cart19.reconstruction.general_milp.solve` - binary characteristics and event
   indicators meeting every printed count (integer program, HiGHS);
2. :func:`cart19.reconstruction.general_times.compile_targets` and
   :class:`cart19.reconstruction.general_search.Search` - event, censoring and switch times
   meeting the printed medians, ranges, landmarks, numbers at risk, log-rank P values and HRs;
3. :func:`fit_table` - every target with its printed interval and the reconstructed value.

The validation of the method (:mod:`cart19.validation`) runs this on aggregates derived from
public trials whose patient data are known.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from cart19.reconstruction import general_milp
from cart19.reconstruction.general_search import Search
from cart19.reconstruction.general_study import Study
from cart19.reconstruction.general_targets import count_targets, frame
from cart19.reconstruction.general_times import compile_targets, misses, observed, values
from cart19.reconstruction.targets import where_mask

ITERS = 20000
EXPLORE = 3000


def _rates(study: Study, targets) -> dict:
    """Initial event rate per endpoint: from its printed overall landmark, else its median
    event time, else one event per landmark period."""
    out = {}
    for e in study.endpoints:
        km = [t for t in targets if t.kind == "km" and t.endpoint == e.name and not t.where]
        med = [t for t in targets if t.kind == "time" and t.column == "event"
               and t.endpoint == e.name and t.stat == "median" and not t.where]
        if km and 0 < km[0].value < 100:
            out[e.name] = -np.log(km[0].value / 100.0) / km[0].at
        elif med:
            out[e.name] = np.log(2) / max(1.0, med[0].value)
        else:
            out[e.name] = 1.0 / study.landmark
    return out


@dataclass
class Reconstruction:
    """A reconstructed cohort with its fit: ``cohort`` (0/1 attribute columns,
    ``<endpoint>_time`` and ``<endpoint>_event`` per endpoint, ``switch_time`` for a
    time-dependent arm), ``fit`` (:func:`fit_table`), the final stage-2 ``loss`` (0: every
    target within tolerance) and the annealing ``iterations`` used."""
    cohort: pd.DataFrame
    fit: pd.DataFrame
    loss: float
    iterations: int
    seed: int


def reconstruct(study: Study, targets: Sequence, n: int, seed: int, iters: int = ITERS,
                explore: int = EXPLORE) -> Reconstruction:
    """One reconstructed cohort of ``n`` patients from the printed ``targets`` alone."""
    counts = count_targets(targets)
    a = general_milp.solve(study, counts, n, seed)
    c = compile_targets(study, a, targets)
    search = Search(c, np.random.default_rng([seed, 2]))
    st = search.initial(_rates(study, targets))
    st, cur, _miss = search.run(st, iters, explore)
    out = a[list(study.names)].copy()
    for e in study.endpoints:
        out[f"{e.name}_time"] = observed(c, st, e.name).astype(int)
        out[f"{e.name}_event"] = a[general_milp.event_attr(e.name)].to_numpy().astype(int)
    if study.switch is not None:
        out["switch_time"] = np.where(c.switch, st.s, np.nan)
    val, _aux = values(c, st)
    return Reconstruction(out, fit_table(targets, a, c.targets, val, misses(c, val)), float(cur),
                          int(search.iterations), int(seed))


def fit_table(targets, attrs: pd.DataFrame, compiled_targets, compiled_values,
              compiled_misses) -> pd.DataFrame:
    """Every target: printed, interval, reconstructed value and whether it prints the same."""
    f = frame(targets)
    got = {}
    for t in targets:
        if t.kind == "count":
            got[t.id] = float(where_mask(attrs, tuple(t.where)).sum())
    for t, v in zip(compiled_targets, compiled_values):
        if t.kind == "logrank_p":
            from scipy import stats
            v = float(2 * stats.norm.sf(v)) if np.isfinite(v) else np.nan
        elif t.kind == "hr":
            v = float(np.exp(v)) if np.isfinite(v) else np.nan
        got[t.id] = v
    f["reconstructed"] = f["id"].map(got)
    f["holds"] = [bool(np.isfinite(r) and lo - 1e-9 <= r <= hi + 1e-9)
                  for r, lo, hi in zip(f["reconstructed"], f["lo"], f["hi"])]
    tol = dict(zip([t.id for t in compiled_targets], compiled_misses == 0))
    f["within_tolerance"] = [bool(h or tol.get(i, False)) for i, h in zip(f["id"], f["holds"])]
    return f


def ensemble(study: Study, targets, n: int, seeds: Sequence[int], n_jobs: int = 1,
             **kw) -> list[Reconstruction]:
    """Cohorts for several seeds (joblib on the local cores when ``n_jobs`` != 1)."""
    if n_jobs == 1:
        return [reconstruct(study, targets, n, s, **kw) for s in seeds]
    from joblib import Parallel, delayed
    return Parallel(n_jobs=n_jobs)(delayed(reconstruct)(study, targets, n, s, **kw) for s in seeds)
