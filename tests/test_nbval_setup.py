"""`make test` runs strict nbval on the committed notebooks; check that set-up (issue 2, items 3 and 5)."""
from __future__ import annotations

import configparser
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / "tests" / "nbval_sanitize.cfg"
EXECUTED = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def _rules() -> dict[str, dict[str, str]]:
    cp = configparser.ConfigParser()
    cp.read(CFG)
    return {s: dict(cp[s]) for s in cp.sections()}


def test_every_sanitizer_is_commented_and_compiles():
    lines = CFG.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("["):
            assert i > 0 and lines[i - 1].startswith("#"), f"rule {line} needs a comment above it"
    for name, rule in _rules().items():
        re.compile(rule["regex"])
        assert "replace" in rule, name


def _sanitize(text: str) -> str:
    for rule in _rules().values():
        text = re.sub(rule["regex"], rule["replace"], text)
    return text


def test_sanitizers_mask_only_run_to_run_noise():
    assert _sanitize("<Axes at 0x7f3a2b4c5d60>") == _sanitize("<Axes at 0x7f00deadbeef>")
    assert _sanitize('<table id="T_1a2b3_row0">') == _sanitize('<table id="T_9f8e7_row0">')
    assert _sanitize("/home/a/.venv/lib/python3.11/site-packages/x.py:3: Warning") == \
        _sanitize("/opt/ci/.venv/lib/python3.11/site-packages/x.py:3: Warning")
    # results are never masked: numbers, P values, counts, hazard ratios
    for result in ["1-year OS 63.9% (95% CI 54.1-72.2)", "P = .0001", "HR 0.235", "102/110 (92.7)",
                   "seed 20200526", "n = 0x10"]:
        assert _sanitize(result) == result


def test_make_test_runs_strict_nbval_on_the_committed_notebooks():
    make = (ROOT / "Makefile").read_text()
    recipe = make.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--nbval " in recipe and "--nbval-lax" not in recipe
    assert "--nbval-sanitize-with tests/nbval_sanitize.cfg" in recipe
    assert "book/[0-9][0-9]_*.ipynb" in make
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "set -euo pipefail" in ci


@pytest.mark.parametrize("path", EXECUTED, ids=[p.stem for p in EXECUTED])
def test_committed_notebook_is_clean_and_has_a_source(path):
    assert (ROOT / "notebooks" / f"{path.stem}.md").exists(), f"{path.name} has no notebooks/ source"
    nb = json.loads(path.read_text())
    assert "papermill" not in nb["metadata"]
    text = path.read_text()
    for pattern in [r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", r"\"duration\"", r"(?<= at )0x[0-9a-f]{6,}",
                    r"\"start_time\""]:
        assert not re.search(pattern, text), f"{path.name}: run-specific data matching {pattern}"
    for cell in nb["cells"]:
        assert cell.get("id", "").startswith("cell-"), "cell ids are renumbered by the build"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} stores an error output"


def test_committed_notebooks_exist():
    assert EXECUTED, "no executed notebook is committed in book/: run `make book`"


# ------------------------------------------------------------------ the ecosystem's tools, as typed
def _cheapest() -> Path:
    """The committed chapter that reads only claims.csv (seconds to run)."""
    import yaml
    for path in EXECUTED:
        front = (ROOT / "notebooks" / f"{path.stem}.md").read_text().split("---")[1]
        reads = (yaml.safe_load(front).get("cart19") or {}).get("reads") or []
        if reads == ["data/published/claims.csv"]:
            return path
    raise AssertionError("no chapter reads only claims.csv")


def test_plain_pytest_nbval_collects_only_the_chapters():
    """`pytest --nbval book/` from the root: pyproject's addopts bring the sanitizers and leave out
    book/_build (whose _sources/*.ipynb copies were collected too)."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "book/", "--collect-only", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    files = {line.split("::")[0] for line in proc.stdout.splitlines() if "::" in line}
    assert files == {f"book/{p.name}" for p in EXECUTED}, files ^ {f"book/{p.name}" for p in EXECUTED}


@pytest.mark.slow
def test_plain_pytest_nbval_passes_on_a_chapter():
    import subprocess
    import sys
    path = _cheapest()
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval", f"book/{path.name}", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.slow
def test_papermill_recipe_of_the_readme(tmp_path):
    """`papermill book/NN.ipynb out.ipynb -p NAME VALUE --cwd book`, as the README shows it: the
    committed notebook has what papermill needs (kernelspec.language, a parameters cell) and runs."""
    import subprocess
    readme = (ROOT / "README.md").read_text()
    assert "papermill book/07_longterm.ipynb" in readme and "--cwd book" in readme
    out = tmp_path / "out.ipynb"
    papermill = Path(__import__("sys").executable).with_name("papermill")
    proc = subprocess.run([str(papermill), "book/07_longterm.ipynb", str(out), "-p", "landmark_days", "182",
                           "--cwd", "book", "--no-progress-bar"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = json.loads(out.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "landmark_days = 182" in "".join(injected[0]["source"])
    assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.parametrize("path", EXECUTED, ids=[p.stem for p in EXECUTED])
def test_kernelspec_names_its_language(path):
    """papermill refuses a notebook whose kernelspec has no language ("No language found")."""
    spec = json.loads(path.read_text())["metadata"]["kernelspec"]
    assert spec.get("language") == "python" and spec.get("name") == "python3"


@pytest.mark.slow
def test_plain_jupyter_book_build_is_warning_free(tmp_path):
    """`jupyter-book build .` from the root (the ecosystem's plain command) reads only the book:
    exclude_patterns keep .venv, caches and sources out (696 warnings before them)."""
    import subprocess
    import sys
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", ".", "--path-output", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "build succeeded" in log
    warnings = [ln for ln in log.splitlines() if "WARNING" in ln]
    assert not warnings, f"{len(warnings)} warnings, e.g. {warnings[:3]}"


def test_plain_pytest_gives_the_kernels_the_builds_environment():
    """pyproject's addopts load cart19.book.pytest_env: from a shell without the Makefile's exports,
    the kernels nbval starts inherit the build's hash seed, SOURCE_DATE_EPOCH and OpenBLAS pin
    (without the pin, chapter 22's Cox HRs differed from the committed ones in their last digits)."""
    import subprocess
    import sys
    import tomllib

    from cart19.book.execute import KERNEL_ENV
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-p cart19.book.pytest_env" in addopts
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_ENV}
    code = "import os, json, cart19.book.pytest_env; print(json.dumps(dict(os.environ)))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert {k: got.get(k) for k in KERNEL_ENV} == KERNEL_ENV
    assert got["PYTHONHASHSEED"] == "0" and got["SOURCE_DATE_EPOCH"] == "0"
