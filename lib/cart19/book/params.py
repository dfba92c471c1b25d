"""Book parameters: load ``notebooks/params.yml``, validate overrides, read notebook parameter cells.

``notebooks/params.yml`` is the one config file of the build (issue 2): one line per parameter,
``name: default  # doc``. The default's type is the parameter's type. ``python -m cart19 build -p NAME
VALUE`` overrides a value for one build; every override is checked here, before any kernel starts,
against that type and against the notebooks' ``parameters`` cells (see :func:`check_overrides`).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cart19.errors import InputError
from cart19.paths import PARAMS_YML

TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list"}


@dataclass(frozen=True)
class Param:
    """One documented parameter of notebooks/params.yml."""

    name: str
    default: Any
    type: type
    doc: str
    line: int  # 1-based line in params.yml, for error messages


def type_name(t: type) -> str:
    return TYPES.get(t, t.__name__)


def load_params(path: Path | str = PARAMS_YML) -> dict[str, Param]:
    """Read params.yml into ``{name: Param}``; the doc of a parameter is its line's ``# comment``."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "parameter file is missing")
    text = path.read_text(encoding="utf-8")
    try:
        values = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(path, f"not valid YAML: {exc}") from None
    if not isinstance(values, dict):
        raise InputError(path, "must be a mapping `name: default`")
    lines = {}
    docs = {}
    for i, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"^([A-Za-z_]\w*)\s*:[^#]*(?:#\s*(.*))?$", line)
        if m:
            lines[m.group(1)] = i
            docs[m.group(1)] = (m.group(2) or "").strip()
    params = {}
    for name, default in values.items():
        row = lines.get(name)
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(path, "parameter names must be Python identifiers", column=str(name), row=row)
        if type(default) not in TYPES:
            raise InputError(path, "default must be an int, float, str, bool or list",
                             column=name, row=row, value=default)
        if not docs.get(name):
            raise InputError(path, "every parameter needs a `# comment` saying what it means",
                             column=name, row=row)
        params[name] = Param(name, default, type(default), docs[name], row)
    return params


def coerce(param: Param, value: Any, file="command line (-p)") -> Any:
    """Return ``value`` as ``param``'s type, or raise InputError naming parameter and rule."""
    t = param.type
    ok = False
    if t is bool:
        ok = isinstance(value, bool)
    elif t is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif t is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif t is str:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        value = str(value) if ok else value
    elif t is list:
        ok = isinstance(value, list)
    if not ok:
        raise InputError(file, f"parameter {param.name!r} must be of type {type_name(t)} "
                               f"(like its default {param.default!r} in notebooks/params.yml)",
                         column=param.name, value=value)
    return value


def parse_overrides(pairs: list[tuple[str, str]], params: dict[str, Param]) -> dict[str, Any]:
    """Turn ``-p NAME VALUE`` pairs (strings) into typed values; unknown names are refused."""
    out = {}
    for name, text in pairs:
        if name not in params:
            known = ", ".join(sorted(params))
            raise InputError("command line (-p)", f"unknown parameter {name!r}; notebooks/params.yml "
                                                  f"defines: {known}", column=name, value=text)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        if value is None:
            value = text
        out[name] = coerce(params[name], value)
    return out


def parameters_cell(nb) -> tuple[int, dict[str, Any]] | None:
    """Index and ``{name: default}`` of a notebook's cell tagged ``parameters`` (None if absent).

    Only plain literal assignments are allowed there (``seed = 7``), as papermill expects.
    """
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            values = {}
            try:
                tree = ast.parse(cell.source)
            except SyntaxError as exc:
                raise InputError("parameters cell", f"not valid Python: {exc}") from None
            for node in tree.body:
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if isinstance(target, ast.Name):
                            try:
                                values[target.id] = ast.literal_eval(node.value)
                            except ValueError:
                                values[target.id] = None  # computed default: not checkable
            return i, values
    return None


def check_notebook(source: Path | str, cell_defaults: dict[str, Any], params: dict[str, Param]) -> None:
    """A notebook's parameters cell must agree with params.yml (type and value) for shared names."""
    for name, default in cell_defaults.items():
        if name not in params:
            continue  # a notebook-local parameter: usable in JupyterLab, not overridable from the build
        p = params[name]
        try:
            value = coerce(p, default, file=source)
        except InputError:
            raise InputError(source, f"parameters cell: {name} = {default!r} has type "
                                     f"{type(default).__name__}, notebooks/params.yml says "
                                     f"{type_name(p.type)}", column=name) from None
        if value != p.default:
            raise InputError(source, f"parameters cell: {name} = {default!r} but notebooks/params.yml "
                                     f"(line {p.line}) says {p.default!r}; make them equal", column=name)


def check_overrides(overrides: dict[str, Any], used: dict[str, set[str]]) -> None:
    """Refuse an override that no selected notebook's parameters cell uses (it would change nothing).

    ``used`` maps parameter name -> set of notebook stems whose parameters cell assigns it.
    """
    for name in overrides:
        if not used.get(name):
            raise InputError("command line (-p)", f"parameter {name!r} is not assigned in the "
                                                  "parameters cell of any notebook being built",
                             column=name)


def values(params: dict[str, Param], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Effective parameter values: params.yml defaults updated by overrides."""
    out = {name: p.default for name, p in params.items()}
    out.update(overrides or {})
    return out
