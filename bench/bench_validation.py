"""Benchmark of the method's validation (issue 17, item 5): how long the benchmark takes.

Cases (each a subprocess on 2 local workers, results into a temporary folder so the committed
``data/validation/results/`` is untouched):
- one trial at one information level: GBSG2, level 1, both subsamples, the configured ensemble
  plus the margins-only baseline (goal <= 120 s);
- the full benchmark of ``data/validation/benchmark.yml`` (goal <= 900 s).
The goals are those of ``data/validation/thresholds.yml`` (time_goals), set with the thresholds.
CART19_BENCH_VALIDATION=quick runs only the first case.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import yaml

from common import ROOT, measure

THRESHOLDS = ROOT / "data" / "validation" / "thresholds.yml"


def _case(name: str, args: list[str], goal: float) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as d:
        r = measure([sys.executable, "-m", "cart19", "validate-method", "--benchmark", "--jobs", "2",
                     "--out-dir", str(Path(d) / "results"), *args], cwd=ROOT)
    row = {"case": name, "seconds": r["seconds"], "peak_rss_mb": r["peak_rss_mb"],
           "returncode": r["returncode"], "load": round(os.getloadavg()[0], 1)}
    gl = {"goal": f"{name} <= {goal:g} s", "met": r["returncode"] == 0 and r["seconds"] <= goal,
          "measured": f"{r['seconds']} s (load {row['load']})"}
    if r["returncode"]:
        row["error"] = r["output"].strip().splitlines()[-1][:200]
    return row, gl


def run() -> dict:
    goals = yaml.safe_load(THRESHOLDS.read_text())["time_goals"]
    rows, met = [], []
    for name, args, goal in (
            ("one trial (gbsg2) at level 1", ["--only", "gbsg2", "--levels", "1"],
             goals["one_dataset_one_level_seconds"]),
            ("full benchmark", [], goals["full_benchmark_seconds"])):
        if name == "full benchmark" and os.environ.get("CART19_BENCH_VALIDATION") == "quick":
            continue
        row, gl = _case(name, args, goal)
        rows.append(row)
        met.append(gl)
    return {"rows": rows, "goals": met,
            "notes": ["2 local workers (joblib); the machine is shared, load is the 1-minute "
                      "average at the end of each case"],
            "error": next((r["error"] for r in rows if "error" in r), None)}
