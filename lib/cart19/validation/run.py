"""One validation: aggregates from a true table, reconstructions, statistics side by side.

Split into tasks so that a benchmark can spread them over cores (joblib) or a cluster (Dask,
:mod:`cart19.validation.runners`): :func:`plan` lists one task per reconstruction (every ensemble
member of every information level, and the margins-only baseline), :func:`member_task` runs one
and returns only its statistics and fit summary (small, picklable), :func:`assemble` sets them
beside the truth.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from cart19.reconstruction.general_pipeline import EXPLORE, ITERS, reconstruct
from cart19.reconstruction.general_study import Study
from cart19.validation import compare
from cart19.validation.aggregates import derive
from cart19.validation.measures import statistics, status


@dataclass(frozen=True)
class Task:
    """One reconstruction: a study, the aggregates of one level, a seed."""
    key: tuple                      # (label, level, member): label names the table
    study: Study
    targets: tuple
    n: int
    seed: int
    iters: int = ITERS
    explore: int = EXPLORE


def member_task(task: Task) -> dict:
    """Reconstruct one cohort and compute its statistics (pure; runs on any worker)."""
    t0 = time.perf_counter()
    rec = reconstruct(task.study, list(task.targets), task.n, task.seed, task.iters, task.explore)
    st = statistics(rec.cohort, task.study)
    fit = rec.fit
    return {"key": task.key, "stats": st[["value"]].reset_index().to_dict("list"),
            "fit": {"targets": int(len(fit)), "printed_exactly": int(fit["holds"].sum()),
                    "within_tolerance": int(fit["within_tolerance"].sum()),
                    "loss": rec.loss, "iterations": rec.iterations,
                    "seconds": round(time.perf_counter() - t0, 3)}}


def plan(table: pd.DataFrame, study: Study, label: str, levels=(1, 2), k: int = 8,
         seed: int = 0, iters: int = ITERS, explore: int = EXPLORE) -> list[Task]:
    """Tasks: ``k`` ensemble members per level (member 0 is the single reconstruction) and one
    margins-only reconstruction."""
    n = len(table)
    tasks = [Task((label, "margins", 0), study, tuple(derive(table, study, "margins")), n,
                  seed * 1000 + 999, iters, explore)]
    for lv in levels:
        tg = tuple(derive(table, study, lv))
        tasks += [Task((label, lv, m), study, tg, n, seed * 1000 + m, iters, explore)
                  for m in range(k)]
    return tasks


def _frame(result: dict) -> pd.DataFrame:
    return pd.DataFrame(result["stats"]).set_index("stat")


def assemble(table: pd.DataFrame, study: Study, label: str, results: list[dict],
             levels=(1, 2), seed: int = 0) -> dict:
    """Per level: the side-by-side table, its summary and the members' fit."""
    truth = statistics(table, study)
    mine = [r for r in results if r["key"][0] == label]
    margins = [_frame(r) for r in mine if r["key"][1] == "margins"]
    shuffled_stats = statistics(compare.shuffled(table, study, seed + 7), study)
    # the shuffle keeps every characteristic, so their associations would be exact: not a baseline
    shuffled_stats.loc[shuffled_stats["type"] == "phi", "value"] = float("nan")
    out = {}
    for lv in levels:
        members = sorted((r for r in mine if r["key"][1] == lv), key=lambda r: r["key"][2])
        sbs = compare.side_by_side(truth, [_frame(r) for r in members],
                                   {"margins": margins[0] if margins else truth.iloc[:0],
                                    "shuffled": shuffled_stats}, status(truth, study, lv))
        out[lv] = {"side_by_side": sbs, "summary": compare.summarize(sbs),
                   "fit": pd.DataFrame([r["fit"] for r in members])}
    return out


def validate(table: pd.DataFrame, study: Study, label: str = "data", levels=(1, 2), k: int = 8,
             seed: int = 0, runner=None, **kw) -> dict:
    """Plan, run (``runner``: a callable mapping :func:`member_task` over tasks; default
    serial) and assemble one validation."""
    tasks = plan(table, study, label, levels, k, seed, **kw)
    results = runner(tasks) if runner is not None else [member_task(t) for t in tasks]
    return assemble(table, study, label, results, levels, seed)
