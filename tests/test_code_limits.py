"""Size and complexity limits of the package (issue 14, item 6), and the book machinery's independence.

No module under lib/ over 600 lines, no function over 80 lines, no function over ruff's mccabe limit
(``max-complexity`` in pyproject.toml). Code that exceeded a limit when it was introduced is listed
below, each entry with its size then: the list may only shrink. An entry that grew fails, and so does
one that is now within the limit (delete it). New code has no entry, so it must meet the limits.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "cart19"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: modules over MAX_MODULE_LINES: path -> lines when the limit came in
OVER_LONG_MODULES = {
    "lib/cart19/reconstruction/times.py": 793,
}
#: functions over MAX_FUNCTION_LINES: "path::qualified name" -> lines
OVER_LONG_FUNCTIONS = {
}
#: functions over the mccabe limit: "path::name" (as ruff names them) -> complexity
OVER_COMPLEX_FUNCTIONS = {
    "lib/cart19/reconstruction/milp.py::explain_infeasibility": 11,
    "lib/cart19/reconstruction/targets.py::bind": 13,
    "lib/cart19/reconstruction/times.py::ok": 22,
}

#: subpackages of the domain, which the book machinery must not import
DOMAIN = ("record", "cohort", "reconstruction", "stats", "comparison", "presentation", "validation")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_lines() -> dict[str, int]:
    return {_rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in sorted(LIB.rglob("*.py"))}


def function_lines() -> dict[str, int]:
    """``{"path::qualified name": lines}`` of every function (nested ones too), decorators excluded."""
    out = {}
    for p in sorted(LIB.rglob("*.py")):
        def visit(node, prefix):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef):
                        out[f"{_rel(p)}::{name}"] = child.end_lineno - child.lineno + 1
                    visit(child, name + ".")
        visit(ast.parse(p.read_text(encoding="utf-8")), "")
    return out


def complexity() -> dict[str, int]:
    """ruff's C901 findings on lib/ and bench/: ``{"path::function": complexity}``."""
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "C901", "--output-format",
                           "json", "--exit-zero", "lib", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = {}
    for rec in json.loads(proc.stdout):
        name = rec["message"].split("`")[1]
        value = int(rec["message"].split("(")[1].split()[0])
        out[f"{Path(rec['filename']).relative_to(ROOT).as_posix()}::{name}"] = value
    return out


def _check(found: dict[str, int], allowed: dict[str, int], limit: int, what: str) -> list[str]:
    problems = [f"{k}: {v} {what} (limit {limit}; not allowlisted)" for k, v in found.items()
                if v > limit and k not in allowed]
    problems += [f"{k}: grew from {allowed[k]} to {found[k]} {what} (the allowlist only shrinks)"
                 for k in allowed if k in found and found[k] > allowed[k]]
    problems += [f"{k}: now {found.get(k, 'gone')} {what}, within the limit: delete its allowlist entry"
                 for k in allowed if found.get(k, 0) <= limit]
    return problems


def test_no_module_over_600_lines():
    assert not _check(module_lines(), OVER_LONG_MODULES, MAX_MODULE_LINES, "lines")


def test_no_function_over_80_lines():
    assert not _check(function_lines(), OVER_LONG_FUNCTIONS, MAX_FUNCTION_LINES, "lines")


def test_no_function_over_the_complexity_limit():
    limit = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]["mccabe"]["max-complexity"]
    assert limit <= 10
    assert not _check(complexity(), OVER_COMPLEX_FUNCTIONS, limit, "complexity")


def test_the_limits_can_fail(tmp_path):
    """The checks themselves: a long module, a long and a complex function are found."""
    assert _check({"a.py": 601}, {}, 600, "lines") and not _check({"a.py": 600}, {}, 600, "lines")
    assert _check({"a.py": 700}, {"a.py": 650}, 600, "lines")       # grew
    assert _check({"a.py": 500}, {"a.py": 650}, 600, "lines")       # shrank under: delete the entry


def test_ruff_passes():
    """The lint `make test` runs (its complexity findings are checked against the allowlist above)."""
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--extend-ignore", "C901", "lib", "tests",
                           "bench"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", sorted((LIB / "book").glob("*.py")), ids=lambda p: p.name)
def test_the_book_machinery_imports_nothing_from_the_domain(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    bad = sorted(m for m in names if m.split(".")[:2] in [["cart19", d] for d in DOMAIN])
    assert not bad, f"{path.name} imports the domain: {bad}"
