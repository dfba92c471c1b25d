"""environment.yml (conda/Binder) must install exactly the pins of requirements.lock (issue 2, item 1)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
