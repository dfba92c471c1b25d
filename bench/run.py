"""Benchmark runner (not a test): ``make bench`` or ``python bench/run.py [SECTION ...]``.

Each section is a module ``bench/bench_<name>.py`` with a function ``run() -> dict`` returning
``{"rows": [{"case": ..., "seconds": ..., "peak_rss_mb": ..., ...}], "goals": [...], ...}``. To add a
section (e.g. reconstruction timings), drop such a module here: the runner finds it, prints its rows as
a table and stores the result under its name in bench/results.json (other sections' results are kept).
Helpers for sections live in bench/common.py (timing with peak memory, temp copy of the repository).
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def sections() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def load(path: Path):
    sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def table(rows: list[dict]) -> str:
    if not rows:
        return "  (no rows)"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    widths = {c: max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in cols}
    lines = ["  " + "  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  " + "  ".join(fmt(r.get(c, "")).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    available = sections()
    chosen = argv or list(available)
    unknown = [s for s in chosen if s not in available]
    if unknown:
        print(f"bench: unknown section(s) {unknown}; have {list(available)}", file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    failed = False
    for name in chosen:
        print(f"== bench section: {name}", flush=True)
        result = load(available[name]).run()
        results[name] = result
        print(table(result.get("rows", [])))
        for goal in result.get("goals", []):
            print(f"  goal {'MET ' if goal['met'] else 'MISSED'}  {goal['goal']}  ({goal['measured']})")
        for note in result.get("notes", []):
            print(f"  note: {note}")
        failed |= bool(result.get("error"))
        if result.get("error"):
            print(f"  error: {result['error']}")
        # written after every section, so a long later section cannot lose an earlier result
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(f"bench: {name} written to {RESULTS.relative_to(HERE.parent)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
