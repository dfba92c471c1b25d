"""Everything checked before any kernel starts: parameters, front matter, reads, order, paths.

The input files chapters read are checked by the domain's loaders through a hook named in
``pyproject.toml`` (``[tool.cart19.build] check-inputs = "module:function"``), so that the book
machinery imports nothing from the domain: the hook gets ``(root, {loader key: path}, memo)``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cart19 import io
from cart19.book import params as P
from cart19.book.chapters import Notebook, discover, order, with_lib_reads, with_param_reads, _param_path
from cart19.book.imports import module_graph
from cart19.book.layout import BuildError, Layout
from cart19.errors import InputError


@dataclass
class Plan:
    notebooks: list[Notebook]
    selected: list[Notebook]
    deps: dict[str, set[str]]
    param_values: dict[str, Any]
    unbuilt: list[str]  # not selected by --only and never built: left out of this render
    graph: dict = field(default_factory=dict)  # module_graph of lib/cart19


def select(notebooks: list[Notebook], only: list[str] | None) -> list[Notebook]:
    """The chapters ``--only`` names (by ``NN`` or stem), all without it; an unknown name is refused."""
    if not only:
        return notebooks

    def named(nb: Notebook, o: str) -> bool:
        return nb.stem == o or nb.stem.startswith(o + "_") or nb.stem.split("_")[0] == o

    unknown = [o for o in only if not any(named(nb, o) for nb in notebooks)]
    if unknown:
        raise BuildError(f"--only {' '.join(unknown)}: no such notebook "
                         f"(have {', '.join(nb.stem for nb in notebooks)})")
    return [nb for nb in notebooks if any(named(nb, o) for o in only)]


def _check_sources(layout: Layout, selected: list[Notebook], written: set[str]) -> None:
    """Every read exists (or is written by a chapter being built); no executed notebook lacks its source."""
    for nb in selected:
        for r in nb.reads:
            if not (layout.root / r).exists() and r not in written:
                raise InputError(r, f"listed in cart19.reads of {layout.rel(nb.source)} but missing, "
                                    "and no notebook being built writes it")
    for out in sorted(layout.book.glob("[0-9][0-9]_*.ipynb")):
        if not (layout.notebooks / f"{out.stem}.md").exists():
            raise BuildError(f"{layout.rel(out)} has no source notebooks/{out.stem}.md: delete it")


def plan(layout: Layout, overrides: list[tuple[str, str]], only: list[str] | None) -> Plan:
    """Everything checked before any kernel starts: parameters, front matter, reads, order."""
    params = P.load_params(layout.params_yml)
    notebooks = discover(layout)
    if not notebooks:
        raise BuildError(f"no notebooks/NN_*.md found in {layout.notebooks}")
    graph = module_graph(layout.lib)
    for nb in notebooks:
        P.check_notebook(layout.rel(nb.source), nb.cell_params, params)
    values = P.parse_overrides(overrides, params)
    notebooks = with_param_reads(with_lib_reads(notebooks, graph), layout, params,
                                 P.values(params, values))
    selected = select(notebooks, only)
    used: dict[str, set[str]] = {}
    for nb in selected:
        for name in nb.cell_params:
            used.setdefault(name, set()).add(nb.stem)
    P.check_overrides(values, used)
    deps = order(notebooks)
    written = {w for nb in selected for w in nb.writes}
    _check_sources(layout, selected, written)
    _check_inputs(layout, _input_files(layout, selected, written, params, values))
    sel = {nb.stem for nb in selected}
    deps = {s: {d for d in ds if d in sel} for s, ds in deps.items() if s in sel}
    unbuilt = [nb.stem for nb in notebooks if nb not in selected and not nb.output.exists()]
    return Plan(notebooks, selected, deps, P.values(params, values), unbuilt, graph)


def check_inputs_hook(layout: Layout):
    """The domain's check of input files, named in ``pyproject.toml`` (``[tool.cart19.build]
    check-inputs = "module:function"``); None when the repository names none (e.g. a test repo)."""
    import importlib
    import tomllib

    path = layout.root / "pyproject.toml"
    try:
        conf = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}") from None
    target = conf.get("tool", {}).get("cart19", {}).get("build", {}).get("check-inputs")
    if not target:
        return None
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name, None)
    if fn is None:
        raise BuildError(f"pyproject.toml: [tool.cart19.build] check-inputs = {target!r} does not exist")
    return fn


def _check_inputs(layout: Layout, files: dict[str, Path]) -> None:
    """Check the input files chapters read (``{loader key: path}``) with the domain's hook before any
    kernel starts, so a bad cell is named (file, column, row, rule) instead of failing inside a
    notebook. The hook remembers files found valid in .cache/build/valid.json (by content), so a
    no-op rebuild stays fast."""
    hook = check_inputs_hook(layout)
    if hook is None or not files:
        return
    memo_path = layout.cache / "valid.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    before = dict(memo)
    hook(layout.root, files, memo)
    if memo != before:
        try:
            layout.cache.mkdir(parents=True, exist_ok=True)
            io.write_text(memo_path, json.dumps(memo, sort_keys=True))
        except (OSError, io.OutputError):
            pass  # a memo only


def _input_files(layout: Layout, selected: list[Notebook], written: set[str], params: dict,
                 values: dict) -> dict[str, Path]:
    """``{loader key: path}`` of what the selected chapters read: each read file under its own name,
    and an overridden path parameter's file under the name of its default's file (so it is checked by
    the same loader)."""
    files = {r: layout.root / r for nb in selected for r in nb.reads
             if r not in written and (layout.root / r).is_file()}
    for name, value in values.items():
        p = params[name]
        if p.file and value != p.default:
            files.setdefault(_param_path(layout, p.default), layout.root / _param_path(layout, value))
    return dict(sorted(files.items()))


def preflight(layout: Layout, pl: Plan, render_book: bool) -> None:
    """Refuse, before any kernel starts, a build whose results could not be installed: the build
    cache, book/ (and book/_build for the html) and the directory of every declared write must be
    writable (a read-only file system, or permissions)."""
    dirs = [layout.root / ".cache", layout.book] + ([layout.book / "_build"] if render_book else [])
    dirs += [layout.root / w.rstrip("/") for nb in pl.selected for w in nb.writes]
    for d in dict.fromkeys(dirs):
        probe = d if d.is_dir() else next((p for p in d.parents if p.exists()), layout.root)
        if not os.access(probe, os.W_OK):
            raise io.OutputError(layout.rel(probe) if probe.is_relative_to(layout.root) else probe,
                                 "is not writable (read-only file system or permissions): nothing "
                                 "executed, nothing changed")
