"""Bench section "build": set-up, rebuilds and tests, measured side by side in one run (issue 18).

Cases, each in a throw-away copy of the working tree (the real book/ is never touched):
  setup    `make book` in a fresh clone: the venv from requirements.lock (uv, shared cache) and a build
           that executes nothing and renders;
  one      one chapter re-executed and re-rendered: `build -p landmark_days 182 --only 07`, then an
           edit of chapter 07 and `build --only 07`;
  noop     `build` with nothing changed;
  cold     a cold build: no manifest, no executed notebooks, no build cache, no html;
  plain    the same book the usual way: `jupyter-book build --all` with execute_notebooks: force;
  test     `make test` in the fresh clone.
Goals (issue 18): setup < 45 s on 2 cores; one < 10 s; cold <= 0.2 x plain; test < 6 min; and noop
<= 3 s with nothing executed. Set BENCH_SKIP="plain test" (names) to leave long cases out.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from common import copy_repo, measure

GOALS = {"setup": 45.0, "one": 10.0, "cold_over_plain": 0.2, "test": 360.0, "noop": 3.0}


def _counts(output: str) -> dict:
    m = re.search(r"build: (\d+) executed, (\d+) cached, (\d+) failed", output)
    return dict(zip(("executed", "cached", "failed"), map(int, m.groups()))) if m else {}


def _render_seconds(output: str) -> float | None:
    m = re.search(r"rendered in ([\d.]+) s", output)
    return float(m.group(1)) if m else None


class Cases:
    """Runs the cases, one row each."""

    def __init__(self, repo: Path, skip: set[str]):
        self.repo, self.skip = repo, skip
        self.rows: list[dict] = []
        self.outputs: dict[str, str] = {}
        self.env = {k: v for k, v in os.environ.items() if k not in ("CART19_ROOT", "PYTHONPATH")}
        self.python = str(repo / ".venv" / "bin" / "python")

    def case(self, name: str, cmd: list[str], env: dict | None = None) -> dict:
        if name.split()[0] in self.skip:
            return {}
        r = measure(cmd, self.repo, env or self.env)
        self.outputs[name] = r.pop("output")
        render = _render_seconds(self.outputs[name])
        row = {"case": name, **r, **_counts(self.outputs[name])}
        if render is not None:
            row["render_s"] = render
        self.rows.append(row)
        print(f"  {name}: {row['seconds']} s", flush=True)
        return row

    def build(self, *args: str) -> list[str]:
        return [self.python, "-m", "cart19", "build", *args]


def _plain_command(repo: Path, out: Path) -> list[str]:
    """jupyter-book executing the MyST sources itself, one after another, in notebooks/."""
    config = yaml.safe_load((repo / "_config.yml").read_text())
    config["execute"] = {"execute_notebooks": "force", "timeout": -1}
    # the book's own config excludes notebooks/ (its build renders book/*.ipynb): the plain build
    # must see the MyST sources, or it executes nothing and the ratio means nothing
    config["exclude_patterns"] = [p for p in config.get("exclude_patterns", []) if p != "notebooks"]
    (repo / "_config_force.yml").write_text(yaml.safe_dump(config))
    stems = sorted(p.stem for p in (repo / "notebooks").glob("[0-9][0-9]_*.md"))
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": f"notebooks/{s}"} for s in stems]}
    (repo / "_toc_force.yml").write_text(yaml.safe_dump(toc))
    return [str(repo / ".venv" / "bin" / "jupyter-book"), "build", str(repo), "--all", "--config",
            str(repo / "_config_force.yml"), "--toc", str(repo / "_toc_force.yml"), "--path-output", str(out)]


def _clear_build(repo: Path) -> None:
    (repo / "book" / "build-manifest.json").unlink(missing_ok=True)
    shutil.rmtree(repo / ".cache" / "build", ignore_errors=True)
    shutil.rmtree(repo / "book" / "_build", ignore_errors=True)
    for p in (repo / "book").glob("[0-9][0-9]_*.ipynb"):
        p.unlink()


def _goal(name: str, measured: float | None, limit: float, unit: str = "s", *rows: dict) -> dict:
    """One goal; a case that failed (non-zero exit) is not a measurement: reported, never met."""
    if any(r and r.get("returncode") != 0 for r in rows):
        return {"goal": f"{name} {'<' if unit == 's' else '<='} {limit} {unit}".strip(),
                "measured": "case failed", "met": False}
    ok = measured is not None and measured < limit if unit == "s" else measured is not None and measured <= limit
    shown = "skipped" if measured is None else f"{measured:.2f} {unit}".strip()
    return {"goal": f"{name} {'<' if unit == 's' else '<='} {limit} {unit}".strip(), "measured": shown, "met": ok}


def run() -> dict:
    skip = set(os.environ.get("BENCH_SKIP", "").split())
    tmp = Path(tempfile.mkdtemp(prefix="cart19-bench-"))
    try:
        repo = copy_repo(tmp / "repo")
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)  # a clone is a git checkout
        c = Cases(repo, skip)
        setup = c.case("setup: make book in a fresh clone", ["make", "book"])
        c.case("noop: build, nothing changed", c.build())
        saved = {p: p.read_bytes() for p in (repo / "book").glob("*") if p.is_file()}  # the committed book
        one = c.case("one: -p landmark_days 182 --only 07", c.build("-p", "landmark_days", "182", "--only", "07"))
        seven = repo / "notebooks" / "07_longterm.md"
        seven.write_text(seven.read_text() + "\nA line added by the benchmark.\n")
        edit = c.case("one: edit of 07, build --only 07", c.build("--only", "07"))
        seven.write_text(seven.read_text().replace("\nA line added by the benchmark.\n", ""))
        c.case("one: back to the committed book", c.build())
        noop = next((r for r in c.rows if r["case"].startswith("noop")), {})
        _clear_build(repo)
        cold = c.case("cold: build with empty caches", c.build())
        plain = c.case("plain: jupyter-book build --all (force)", _plain_command(repo, tmp / "plain"))
        for p, data in saved.items():  # the committed book again, for make test
            p.write_bytes(data)
        test = c.case("test: make test", ["make", "test"])
        ratio = cold["seconds"] / plain["seconds"] if cold and plain else None
        goals = [_goal("setup (fresh clone make book)", setup.get("seconds"), GOALS["setup"], "s", setup),
                 _goal("one chapter, parameter", one.get("seconds"), GOALS["one"], "s", one),
                 _goal("one chapter, edit", edit.get("seconds"), GOALS["one"], "s", edit),
                 _goal("noop", noop.get("seconds"), GOALS["noop"], "s", noop),
                 _goal("cold / plain", ratio, GOALS["cold_over_plain"], "x", cold, plain),
                 _goal("make test", test.get("seconds"), GOALS["test"], "s", test)]
        failed = {r["case"]: c.outputs[r["case"]][-3000:] for r in c.rows if r["returncode"] != 0}
        return {"rows": c.rows, "goals": goals, "cpu_count": os.cpu_count(),
                "load_average_1min": round(os.getloadavg()[0], 2), "error": failed or None,
                "notes": ["setup uses uv's shared cache (~/.cache/uv): a machine that has installed the lock "
                          "before; a first install downloads every wheel"]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    print(run())
