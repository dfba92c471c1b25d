"""The README documents what exists: every `python -m cart19 <command>` it shows is a command of the CLI
(with the options it shows), every package directory of its layout exists and every subpackage is in
it, and lib/cart19/README.md has one line for every subpackage."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from cart19 import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SUBPACKAGES = sorted(p.parent.name for p in (ROOT / "lib" / "cart19").glob("*/__init__.py"))


def _commands() -> list[tuple[str, str]]:
    """``(command, rest of the line)`` of every ``python -m cart19 <command>`` in the README."""
    return re.findall(r"python -m cart19 ([a-z][a-z-]*)([^\n`]*)", README)


def test_the_readme_shows_every_command():
    shown = {name for name, _ in _commands()}
    assert set(cli.COMMANDS) <= shown, set(cli.COMMANDS) - shown


@pytest.mark.parametrize("name,rest", sorted(set(_commands())), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_shown_exists_with_its_options(name, rest, capsys):
    assert name in cli.COMMANDS, f"README shows `python -m cart19 {name}`, which is no command"
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    usage = capsys.readouterr().out
    for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
        assert option in usage, f"`python -m cart19 {name}` has no option {option}"


def test_the_layout_names_every_subpackage_and_each_exists():
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"^ {8}([a-z_]+)/ ", layout, flags=re.M)
    assert sorted(named) == SUBPACKAGES, set(named) ^ set(SUBPACKAGES)


def test_the_package_readme_has_one_line_per_subpackage():
    text = (ROOT / "lib" / "cart19" / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)/` \|", text, flags=re.M)
    assert sorted(rows) == SUBPACKAGES, set(rows) ^ set(SUBPACKAGES)


def test_the_validate_method_example_paths_exist():
    for path in re.findall(r"(data/validation/[\w/.]+\.(?:yml|csv))", README):
        assert (ROOT / path).is_file(), path
