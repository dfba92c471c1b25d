"""Benchmark of the cohort reconstruction (issue 4, item 6).

``run()`` times one reconstruction (goal <= 10 s) and an ensemble of K cohorts on 2 workers
(goal <= 120 s for K = 100). K defaults to 100 and can be lowered with the environment variable
CART19_BENCH_K for a quick check; the result says which K was measured.
"""
from __future__ import annotations

import os
import tempfile
import time

from cart19 import reconstruct as R


def run(k: int | None = None, n_jobs: int = 2) -> dict:
    k = int(os.environ.get("CART19_BENCH_K", 100)) if k is None else k
    t0 = time.perf_counter()
    cohort, _ni, fit = R.reconstruct(seed=R.DEFAULT_SEED)
    one = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        paths = R.ensemble(k, d, n_jobs=n_jobs)
        ens = time.perf_counter() - t0
    return {"one_reconstruction_s": round(one, 2), "one_goal_s": 10.0,
            "one_met": one <= 10.0, "ensemble_k": k, "ensemble_jobs": n_jobs,
            "ensemble_s": round(ens, 2), "ensemble_goal_s": 120.0 * k / 100,
            "ensemble_met": ens <= 120.0 * k / 100, "cohorts_written": len(paths),
            "targets_not_met": int((fit["met"] == False).sum())}  # noqa: E712


if __name__ == "__main__":
    print(run())
