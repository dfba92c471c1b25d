"""environment.yml (conda/Binder) must install exactly the pins of requirements.lock (issue 2, item 1)."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def lock_pins(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def env_pip_pins(env: dict) -> list[str]:
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, "environment.yml needs exactly one `pip:` list"
    return [p for p in pip[0] if not p.startswith("-e")]


def test_environment_yml_installs_the_lock_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    lock = lock_pins((ROOT / "requirements.lock").read_text())
    pins = env_pip_pins(env)
    assert all("==" in p for p in lock), "requirements.lock must pin every package with =="
    missing = sorted(set(lock) - set(pins))
    extra = sorted(set(pins) - set(lock))
    assert not missing and not extra, f"environment.yml differs from requirements.lock: " \
                                      f"missing {missing}, extra {extra}"
    assert len(pins) == len(lock)


def test_environment_python_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python, "environment.yml must pin python"
    version = re.match(r"python=+(\d+\.\d+)", python[0]).group(1)
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    major, minor = version.split(".")
    assert f">={major}.{minor}" in spec and f"<{major}.{int(minor) + 1}" in spec, (version, spec)


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d][0]
    assert "-e ." in pip


def test_lock_covers_every_top_level_requirement():
    lock = {re.split(r"==", p)[0].lower().replace("_", "-")
            for p in lock_pins((ROOT / "requirements.lock").read_text())}
    for line in lock_pins((ROOT / "requirements.in").read_text()):
        name = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-")
        assert name in lock, f"requirements.in lists {name} but requirements.lock does not pin it"


# ------------------------------------------------------------------------- installing, as users do
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402


UV = Path(sys.executable).with_name("uv")


@pytest.mark.slow
def test_pip_install_gives_a_package_that_runs(tmp_path):
    """`pip install -e .` in a fresh venv (uv, from the package index, no lock): the dependency ranges
    of pyproject.toml give a package whose command line and modules run."""
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "-q", str(venv), "--python", sys.executable], check=True, timeout=300)
    py = venv / "bin" / "python"
    proc = subprocess.run([str(UV), "pip", "install", "-q", "--python", str(py), "-e", str(ROOT)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CART19_ROOT")}
    run = subprocess.run([str(venv / "bin" / "cart19"), "validate"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0 and "ok: data/cohort/cohort.csv" in run.stdout, run.stderr[-2000:]
    imports = subprocess.run([str(py), "-c", "import cart19.book.build, cart19.stats.survival, "
                              "cart19.comparison.scorecard, cart19.presentation.tables, papermill, nbclient"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert imports.returncode == 0, imports.stderr[-2000:]


def _make_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    dest.mkdir()
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "lib", dest / "lib", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    return dest


def test_make_refuses_another_python_before_creating_the_venv(tmp_path):
    repo = _make_copy(tmp_path)
    fake = tmp_path / "python3.12"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Python 3.12.1'; exit 0; fi\n"
                    f"exec {shutil.which('python3.12') or '/bin/false'} \"$@\"\n")
    fake.chmod(0o755)
    proc = subprocess.run(["make", "venv", f"PY={fake}"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "cart19 needs Python 3.11" in proc.stderr and "Python 3.12.1" in proc.stderr, proc.stderr
    assert not (repo / ".venv").exists()


@pytest.mark.slow
def test_make_never_leaves_a_broken_venv(tmp_path):
    """A lock that cannot be installed: make fails and removes .venv; a leftover without its
    .installed stamp (an install killed half-way) is removed and made anew by the next make.
    (A two-line lock, so that the successful install takes seconds.)"""
    repo = _make_copy(tmp_path)
    uv_pin = next(ln for ln in (ROOT / "requirements.lock").read_text().splitlines() if ln.startswith("uv=="))
    lock = repo / "requirements.lock"
    lock.write_text(f"{uv_pin}\nnot a requirement line ===\n")  # both uv and pip refuse it at once
    env = {**os.environ, "PIP_RETRIES": "0"}
    proc = subprocess.run(["make", "venv", f"PY={sys.executable}"], cwd=repo, capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode != 0
    assert "failed; .venv removed" in proc.stderr, proc.stderr[-2000:]
    assert not (repo / ".venv").exists()
    (repo / ".venv" / "bin").mkdir(parents=True)  # half made: no .installed stamp
    lock.write_text(f"{uv_pin}\n")
    proc = subprocess.run(["make", "venv", f"PY={sys.executable}"], cwd=repo, capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "removing .venv: an earlier install did not finish" in proc.stdout
    assert (repo / ".venv" / ".installed").exists() and (repo / ".venv" / "bin" / "python").exists()


#: import name -> distribution name, where they differ
DISTRIBUTION = {"yaml": "pyyaml", "great_tables": "great-tables", "jupyter_client": "jupyter-client",
                "myst_nb": "myst-nb", "distributed": "distributed", "IPython": "ipython"}


def test_every_import_of_the_package_is_a_declared_dependency():
    """What lib/ imports from outside the standard library is in pyproject.toml's dependencies (or, for
    the dask runner, its optional dependencies): else `pip install -e .` gives a package that fails."""
    import ast
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-")
                for r in project["dependencies"] + sum(project["optional-dependencies"].values(), [])}
    imported = set()
    for path in (ROOT / "lib" / "cart19").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third = {m for m in imported if m not in sys.stdlib_module_names and m != "cart19"}
    missing = sorted(m for m in third if DISTRIBUTION.get(m, m).lower().replace("_", "-") not in declared)
    assert not missing, f"lib/ imports {missing}, not in pyproject.toml's dependencies"


def test_the_venv_holds_bytecode():
    """`make venv` compiles bytecode at install (Makefile: uv --compile-bytecode, compileall lib).

    Where PYTHONDONTWRITEBYTECODE is set (as on our CI machines), a venv without .pyc files makes
    every kernel and test process compile numpy, pandas, scipy, lifelines and matplotlib from
    source again: 7.2 s against 2.6 s to import them, measured under the same load."""
    import importlib
    import importlib.util

    venv = Path(sys.prefix)
    if venv.resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not running in the repository's .venv (made by make venv)")
    missing = []
    for name in ("numpy", "pandas", "scipy", "lifelines", "matplotlib", "cart19"):
        source = importlib.import_module(name).__file__
        if not Path(importlib.util.cache_from_source(source)).exists():
            missing.append(name)
    assert not missing, f"no bytecode for {missing}: the venv was installed without compiling"
