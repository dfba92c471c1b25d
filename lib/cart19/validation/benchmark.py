"""The validation benchmark: public trials x subsamples x information levels x ensemble.

``data/validation/benchmark.yml`` lists the trials (:mod:`cart19.validation.datasets`), their
study maps, the subsample size (about Zhang's 110 patients where a trial is larger) and how many
subsamples, the levels and the ensemble size. Every reconstruction of every table is one task;
all tasks go to one runner at once (:mod:`cart19.validation.runners`: joblib on the local cores
or a Dask cluster), so the cores stay busy across trials. Results are pooled and checked against
``data/validation/thresholds.yml`` (set before the first run); the chapter reads what this writes
to ``data/validation/results/`` and never reruns it. Earlier runs' threshold checks are kept in
``data/validation/history/runs.csv`` with a note on what changed in the engine between runs
(added by hand when results are replaced: the reason for a change is not in the data).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cart19 import io
from cart19.errors import InputError
from cart19.paths import DATA
from cart19.reconstruction.general_study import load_study
from cart19.validation import compare, datasets
from cart19.validation.columns import patient_table
from cart19.validation.run import assemble, member_task, plan

CONFIG = DATA / "validation" / "benchmark.yml"
THRESHOLDS = DATA / "validation" / "thresholds.yml"
RESULTS = DATA / "validation" / "results"


def load_yaml(path) -> dict:
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    return yaml.safe_load(p.read_text(encoding="utf-8"))


def tables(config: dict, base: Path, only=None) -> list[tuple[str, str, object, pd.DataFrame]]:
    """(label, dataset, study, true table) for every subsample of every listed trial."""
    out = []
    for i, d in enumerate(config["datasets"]):
        if only and d["name"] not in only:
            continue
        study = load_study(base / d["map"])
        raw = datasets.load(d["name"])
        for s in range(int(d.get("subsamples", 1))):
            sub = datasets.subsample(raw, d.get("subsample"), seed=1000 * int(config["seed"]) + 10 * i + s)
            out.append((f"{d['name']}#{s + 1}", d["name"], study,
                        patient_table(sub, study, f"{d['name']} subsample {s + 1}")))
    return out


def run_benchmark(config_path=CONFIG, runner=None, only=None, levels=None, k=None) -> dict:
    """Run every task, assemble per table, pool, check the thresholds."""
    config = load_yaml(config_path)
    levels = tuple(levels or config["levels"])
    k = int(k or config["ensemble"])
    seed = int(config["seed"])
    t0 = time.perf_counter()
    tabs = tables(config, Path(config_path).parent, only)
    tasks = [t for label, _d, study, tab in tabs for t in plan(tab, study, label, levels, k, seed)]
    results = runner(tasks) if runner is not None else [member_task(t) for t in tasks]
    wall = time.perf_counter() - t0
    sbs, fits = [], []
    for label, name, study, tab in tabs:
        res = assemble(tab, study, label, results, levels, seed)
        for lv, r in res.items():
            sbs.append(r["side_by_side"].reset_index().assign(dataset=name, table=label, level=lv,
                                                              n=len(tab)))
            fits.append(r["fit"].assign(dataset=name, table=label, level=lv))
    stats_ = pd.concat(sbs, ignore_index=True)
    fit = pd.concat(fits, ignore_index=True)
    return {"config": config, "levels": list(levels), "ensemble": k, "stats": stats_, "fit": fit,
            "wall_seconds": round(wall, 1), "tasks": len(tasks),
            "load_average": round(os.getloadavg()[0], 1),
            "task_seconds": round(float(fit["seconds"].sum()), 1)}


def pooled(stats_: pd.DataFrame) -> pd.DataFrame:
    """Summary pooled over trials: by level, type, status and method."""
    return compare.summarize(stats_, by=("level", "type", "status"))


def per_dataset(stats_: pd.DataFrame) -> pd.DataFrame:
    return compare.summarize(stats_, by=("dataset", "level", "type", "status"))


def _measure(check: dict, stats_: pd.DataFrame, summ: pd.DataFrame, fit: pd.DataFrame) -> float:
    m, lv = check["measure"], check.get("level")
    if m == "fit_within_tolerance":
        f = fit if lv == "all" else fit[fit["level"] == lv]
        return float(f["within_tolerance"].sum() / max(1, f["targets"].sum()))
    em = stats_[(stats_["status"] == "emergent") & (stats_["level"] == lv)]
    if m == "coverage90":
        sel = em if check["type"] == "all" else em[em["type"] == check["type"]]
        return float(sel["covered90"].mean()) if len(sel) else np.nan
    row = summ[(summ["level"] == lv) & (summ["type"] == check["type"]) &
               (summ["status"] == "emergent")]
    get = lambda meth, col: float(row.loc[row["method"] == meth, col].iloc[0]) \
        if (row["method"] == meth).any() and col in row else np.nan  # noqa: E731
    if m == "mae_vs_baseline":
        return get("single", "mae") / get(check["baseline"], "mae")
    return get("single", m)


def check(result: dict, thresholds: dict) -> pd.DataFrame:
    """Each threshold beside what was measured."""
    summ = pooled(result["stats"])
    rows = []
    ops = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater}
    for c in thresholds["checks"]:
        v = _measure(c, result["stats"], summ, result["fit"])
        rows.append({"id": c["id"], "threshold": f"{c['op']} {c['value']:g}", "measured": v,
                     "met": bool(np.isfinite(v) and ops[c["op"]](v, c["value"])),
                     "why": c.get("why", "")})
    return pd.DataFrame(rows)


def write(result: dict, thresholds: dict, out_dir: Path = RESULTS) -> dict:
    """benchmark.json (config, thresholds beside results, pooled and per-trial summaries, fit,
    timing) and statistics.csv (every statistic of every table and level) in ``out_dir``."""
    checks = check(result, thresholds)
    doc = {"thresholds_file": {"date": str(thresholds.get("date")),
                               "set_before_first_run": thresholds.get("set_before_first_run")},
           "checks": checks.to_dict("records"), "config": result["config"],
           "levels": result["levels"], "ensemble": result["ensemble"],
           "pooled": pooled(result["stats"]).round(4).to_dict("records"),
           "per_dataset": per_dataset(result["stats"]).round(4).to_dict("records"),
           "fit": result["fit"].groupby(["dataset", "level"])[
               ["targets", "printed_exactly", "within_tolerance", "iterations", "seconds"]]
           .mean().round(2).reset_index().to_dict("records"),
           "timing": {"wall_seconds": result["wall_seconds"], "tasks": result["tasks"],
                      "task_seconds": result["task_seconds"],
                      "load_average": result.get("load_average")}}
    out_dir.mkdir(parents=True, exist_ok=True)
    io.write_all({  # one step: the three files always come from the same run
        out_dir / "benchmark.json": json.dumps(doc, indent=1, sort_keys=True, default=_json) + "\n",
        out_dir / "statistics.csv": result["stats"].round(6).to_csv(index=False, lineterminator="\n"),
        out_dir / "fit.csv": result["fit"].to_csv(index=False, lineterminator="\n")})
    return doc


def _json(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    raise TypeError(type(x))
