"""Bench section "build": our `python -m cart19 build` against plain jupyter-book (issue 2, item 6).

Cases, in a throw-away copy of the working tree (the real book/ is never touched):
  a. cold build, empty caches (no manifest, no .cache/build, no book/_build, no executed notebooks);
  b. rebuild with nothing changed;
  c. rebuild after editing one notebook (a markdown line appended to the first chapter);
  d. the same book built the usual way: `jupyter-book build --all` with execute_notebooks: force
     (myst-nb executes notebooks/NN_*.md one after another, in notebooks/).
Goals: b <= 3 s with 0 notebooks executed; a <= 0.6 x d.
Notebooks whose `cart19.reads` cannot be satisfied in the copy (a data file nobody has produced yet)
are left out of every case, and listed in the result.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from common import copy_repo, measure

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from cart19.book import build as B  # noqa: E402


def _buildable(layout: B.Layout) -> tuple[list[str], list[str]]:
    nbs = B.discover(layout)
    graph = B.module_graph(layout.lib)
    tree = ast.parse((layout.lib / "__init__.py").read_text())
    defined = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
               if isinstance(t, ast.Name)}
    defined |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    defined |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}

    def missing_module(name: str) -> bool:  # `import cart19.x` of a module nobody has written yet
        top = ".".join(name.split(".")[:2])
        return top not in graph and name.split(".")[1] not in defined

    kept = {nb.stem: nb for nb in nbs if not any(missing_module(m) for m in nb.imports)}
    while True:
        written = {w for nb in kept.values() for w in nb.writes}
        bad = [s for s, nb in kept.items()
               if any(not (layout.root / r).exists() and r not in written for r in nb.reads)]
        if not bad:
            break
        for s in bad:
            kept.pop(s)
    return sorted(kept), sorted(nb.stem for nb in nbs if nb.stem not in kept)


def _counts(output: str) -> dict:
    m = re.search(r"build: (\d+) executed, (\d+) cached, (\d+) failed", output)
    return dict(zip(("executed", "cached", "failed"), map(int, m.groups()))) if m else {}


def run() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cart19-bench-"))
    try:
        repo = copy_repo(tmp / "repo")
        layout = B.Layout(repo)
        kept, dropped = _buildable(layout)
        for stem in dropped:
            (layout.notebooks / f"{stem}.md").unlink()
            (layout.book / f"{stem}.ipynb").unlink(missing_ok=True)
        env = dict(os.environ, PYTHONPATH=str(repo / "lib"), CART19_ROOT=str(repo),
                   PYTHONHASHSEED="0", SOURCE_DATE_EPOCH="0")
        build = [sys.executable, "-m", "cart19", "build", "--root", str(repo)]
        rows, outputs = [], {}

        def case(name, cmd):
            r = measure(cmd, repo, env)
            outputs[name] = r.pop("output")
            rows.append({"case": name, **r, **_counts(outputs[name])})
            return rows[-1]

        # a. cold
        layout.manifest.unlink(missing_ok=True)
        shutil.rmtree(layout.cache, ignore_errors=True)
        shutil.rmtree(layout.book / "_build", ignore_errors=True)
        for p in layout.book.glob("[0-9][0-9]_*.ipynb"):
            p.unlink()
        a = case("a cold build (empty caches)", build)
        b = case("b rebuild, nothing changed", build)
        first = layout.notebooks / f"{kept[0]}.md"
        first.write_text(first.read_text() + "\nA line added by the benchmark.\n")
        c = case(f"c rebuild after editing {kept[0]}", build)

        # d. the usual way: jupyter-book executes the MyST sources itself
        config = yaml.safe_load((repo / "_config.yml").read_text())
        config["execute"] = {"execute_notebooks": "force", "timeout": -1}
        (repo / "_config_force.yml").write_text(yaml.safe_dump(config))
        toc = {"format": "jb-book", "root": "book/intro",
               "chapters": [{"file": f"notebooks/{s}"} for s in kept]}
        (repo / "_toc_force.yml").write_text(yaml.safe_dump(toc))
        jb = str(Path(sys.executable).parent / "jupyter-book")
        d = case("d plain jupyter-book build --all (force)",
                 [jb, "build", str(repo), "--all", "--config", str(repo / "_config_force.yml"),
                  "--toc", str(repo / "_toc_force.yml"), "--path-output", str(tmp / "plain")])
        failed = {r["case"]: outputs[r["case"]][-3000:] for r in rows if r["returncode"] != 0}
        goals = [
            {"goal": "b <= 3 s and 0 notebooks executed",
             "measured": f"{b['seconds']} s, {b.get('executed')} executed",
             "met": b["seconds"] <= 3 and b.get("executed") == 0},
            {"goal": "a <= 0.6 x d", "measured": f"{a['seconds']} s vs 0.6 x {d['seconds']} s = "
                                                 f"{0.6 * d['seconds']:.1f} s ({a['seconds'] / d['seconds']:.2f} x)",
             "met": a["seconds"] <= 0.6 * d["seconds"]},
        ]
        return {"rows": rows, "goals": goals, "notebooks": kept, "left_out_unbuildable": dropped,
                "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                "error": failed or None}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
