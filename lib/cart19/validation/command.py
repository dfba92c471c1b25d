"""``python -m cart19 validate-method``: how far a reconstruction can be trusted, on any table.

    python -m cart19 validate-method --data TABLE.csv --columns MAP.yml [--ensemble K]
        [--levels 1 2] [--subsample N] [--seed S] [--out RESULT.json] [--jobs N]
        [--scheduler tcp://HOST:8786]
    python -m cart19 validate-method --benchmark [--only NAME ...] [--levels 1] [--ensemble K]
        [--out-dir DIR] [--jobs N] [--scheduler ADDRESS]

The first form derives from the patient-level table the aggregates a paper like Zhang et al.
prints (:mod:`cart19.validation.aggregates`), reconstructs a cohort and an ensemble of ``K`` from
them alone, and compares every statistic with the truth (a JSON and a table on stdout). The map
(a study description, ``data/validation/maps/*.yml`` are examples) names the columns. The second
form runs the benchmark of ``data/validation/benchmark.yml`` and writes
``data/validation/results/``. Bad input (a missing column, a non-binary group, no events, a map
naming an absent column) stops with one line naming the column and the rule, exit status 1.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from cart19 import io
from cart19.errors import InputError, utf8_error
from cart19.reconstruction.general_study import load_study
from cart19.validation import benchmark, datasets
from cart19.validation.benchmark import _json
from cart19.validation.columns import patient_table
from cart19.validation.run import validate
from cart19.validation.runners import choose

SHOWN = ["type", "status", "method", "n", "bias", "mae", "sig_agree", "coverage90"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cart19 validate-method",
                                description="validate the reconstruction on a table whose truth "
                                            "is known")
    p.add_argument("--data", help="patient-level CSV")
    p.add_argument("--columns", help="study map (YAML) naming the columns")
    p.add_argument("--ensemble", type=int, default=None, help="ensemble size K (default 8)")
    p.add_argument("--levels", type=str, nargs="+", default=None,
                   help="information levels: 1 (this paper), 2 (+ numbers at risk, P values)")
    p.add_argument("--subsample", type=int, default=None, help="draw N patients first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="result JSON (default validation_<study>.json)")
    p.add_argument("--jobs", type=int, default=-1, help="local processes (default all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address: run the reconstructions there")
    p.add_argument("--benchmark", action="store_true", help="run data/validation/benchmark.yml")
    p.add_argument("--only", nargs="+", help="benchmark: only these trials")
    p.add_argument("--out-dir", default=str(benchmark.RESULTS), help="benchmark results folder")
    return p


def _levels(values) -> tuple:
    out = []
    for v in values or ["1", "2"]:
        if v not in ("1", "2"):
            raise InputError("<command line>", "a level is 1 or 2", column="--levels", value=v)
        out.append(int(v))
    return tuple(out)


def read_table(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputError(p, "data file not found")
    err = utf8_error(p, p.read_bytes())
    if err is not None:
        raise err
    try:
        return pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(p, f"not a readable CSV ({str(exc).splitlines()[0]})") from None


def one_table(args) -> int:
    if not args.data or not args.columns:
        raise InputError("<command line>", "--data and --columns are both required (or "
                                           "--benchmark)", column="--data")
    study = load_study(args.columns)
    raw = read_table(args.data)
    raw = datasets.subsample(raw, args.subsample, args.seed)
    table = patient_table(raw, study, args.data)
    levels = _levels(args.levels)
    k = args.ensemble or 8
    t0 = time.perf_counter()
    res = validate(table, study, Path(args.data).stem, levels, k, args.seed,
                   runner=choose(args.scheduler, args.jobs))
    doc = {"study": study.name, "data": str(args.data), "map": str(args.columns),
           "patients": len(table), "dropped_missing": int(table.attrs.get("dropped_missing", 0)),
           "ensemble": k, "seed": args.seed, "seconds": round(time.perf_counter() - t0, 1),
           "note": "the cohorts compared here are reconstructions from aggregates of this table",
           "levels": {str(lv): {"summary": r["summary"].round(4).to_dict("records"),
                                "statistics": r["side_by_side"].reset_index().round(6)
                                .to_dict("records"),
                                "fit": r["fit"].to_dict("records")} for lv, r in res.items()}}
    out = Path(args.out or f"validation_{study.name}.json")
    io.write_text(out, json.dumps(doc, indent=1, default=_json) + "\n")
    for lv, r in res.items():
        print(f"level {lv}: {len(table)} patients, ensemble of {k}; targets met within "
              f"tolerance {int(r['fit']['within_tolerance'].sum())}/{int(r['fit']['targets'].sum())}")
        s = r["summary"]
        print(s[[c for c in SHOWN if c in s]].round(3).to_string(index=False))
    print(f"wrote {out}")
    return 0


def run_bench(args) -> int:
    thresholds = benchmark.load_yaml(benchmark.THRESHOLDS)
    result = benchmark.run_benchmark(benchmark.CONFIG, choose(args.scheduler, args.jobs),
                                     args.only, _levels(args.levels) if args.levels else None,
                                     args.ensemble)
    doc = benchmark.write(result, thresholds, Path(args.out_dir))
    print(pd.DataFrame(doc["checks"])[["id", "threshold", "measured", "met"]].to_string(index=False))
    print(f"{result['tasks']} reconstructions in {result['wall_seconds']} s; wrote {args.out_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_bench(args) if args.benchmark else one_table(args)


if __name__ == "__main__":
    sys.exit(main())
