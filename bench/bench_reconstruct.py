"""Benchmark of the cohort reconstruction (issue 4, item 6) and of the ensemble (issue 6).

Cases:
- one reconstruction, cold: no cached base cohort (the full integer-program solve and the cold
  stage-2 search run), then the walk to the requested seed;
- one reconstruction, warm: the base cohort cached (.cache/cart19), as for every seed after the
  first with the same claims and code;
- ensemble of K cohorts on 2 workers (goal: K = 100 in <= 120 s);
- the ensemble chapter's whole job, K cohorts drawn and every emergent statistic computed
  (cart19.ensemble.load_or_draw into a temporary path; goal: K = 100 in <= 180 s).

K defaults to 100; CART19_BENCH_K lowers it for a quick check (the goals scale with K).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from cart19 import reconstruct as R
from cart19.paths import CLAIMS_CSV


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(k: int | None = None, n_jobs: int = 2) -> dict:
    from cart19.ensemble import load_or_draw

    k = int(os.environ.get("CART19_BENCH_K", 100)) if k is None else k
    load = os.getloadavg()[0]
    (_c, _n, fit), cold = _timed(lambda: R.reconstruct(seed=R.DEFAULT_SEED + 1, cache=False))
    R.reconstruct(seed=R.DEFAULT_SEED)  # make sure the cache holds the base
    (_c, _n, fit), warm = _timed(lambda: R.reconstruct(seed=R.DEFAULT_SEED + 2))
    with tempfile.TemporaryDirectory() as d:
        paths, ens = _timed(lambda: R.ensemble(k, d, n_jobs=n_jobs))
    with tempfile.TemporaryDirectory() as d:
        stats, chapter = _timed(lambda: load_or_draw(k, R.DEFAULT_SEED, CLAIMS_CSV,
                                                     Path(d) / "stats.csv", Path(d) / "cohorts",
                                                     n_jobs))
    goal_ens, goal_chapter = 120.0 * k / 100, 180.0 * k / 100
    rows = [
        {"case": "one reconstruction, cold (base solved)", "seconds": round(cold, 2)},
        {"case": "one reconstruction, warm (base cached)", "seconds": round(warm, 2)},
        {"case": f"ensemble of {k}, {n_jobs} workers", "seconds": round(ens, 2),
         "cohorts": len(paths)},
        {"case": f"ensemble chapter job ({k} drawn + statistics)", "seconds": round(chapter, 2),
         "cohorts": int(stats["cohort"].nunique())},
    ]
    goals = [
        {"goal": "one reconstruction <= 10 s (cold)", "met": cold <= 10.0, "measured": f"{cold:.1f} s"},
        {"goal": "one reconstruction <= 10 s (warm)", "met": warm <= 10.0, "measured": f"{warm:.1f} s"},
        {"goal": f"ensemble of {k} <= {goal_ens:.0f} s", "met": ens <= goal_ens, "measured": f"{ens:.1f} s"},
        {"goal": f"ensemble chapter job, {k} cohorts <= {goal_chapter:.0f} s", "met": chapter <= goal_chapter,
         "measured": f"{chapter:.1f} s"},
    ]
    return {"rows": rows, "goals": goals, "k": k, "load_average_at_start": round(load, 2),
            "targets_not_met": int((fit["met"] == False).sum())}  # noqa: E712


if __name__ == "__main__":
    print(run())
