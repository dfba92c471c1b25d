"""Book parameters: load ``notebooks/params.yml``, validate overrides, read notebook parameter cells.

``notebooks/params.yml`` is the one config file of the build (issue 2): one line per parameter,
``name: default  # doc [range]``. The default's type is the parameter's type. The bracket that ends
the comment says which values are allowed, and is required for every number and path:

- ``[LO..HI]`` -- a number from LO to HI inclusive; ``[>= LO]`` -- at least LO;
- ``[file]`` -- a path (relative to ``notebooks/``, the kernels' working directory) of a file that
  exists.

``python -m cart19 build -p NAME VALUE`` overrides a value for one build; every override is checked
here, before any kernel starts, against that type and range and against the notebooks'
``parameters`` cells (see :func:`check_overrides`).

YAML is read with YAML 1.2 core-schema scalars (:class:`Yaml12Loader`), not PyYAML's YAML 1.1:
``010`` is the integer 10 (not octal 8), ``1:20`` is a string (not the sexagesimal 80), ``yes``/
``on`` are strings; a key given twice is refused, naming both lines; a file that is not UTF-8 is
refused naming the line of the first bad byte.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cart19.errors import InputError
from cart19.paths import PARAMS_YML

TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list"}
_RANGE = re.compile(r"\[\s*(?:(?P<lo>[-+]?[\d.eE+]+)\s*\.\.\s*(?P<hi>[-+]?[\d.eE+]+)|>=\s*(?P<min>[-+]?[\d.eE+]+)"
                    r"|(?P<file>file))\s*\]\s*$")


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's booleans, integers and floats, and
    duplicate keys refused. (Dates stay recognised so that a date default is refused by its type.)"""


_DROP = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in _DROP]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def _construct_int(loader, node) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # "010" is 10


def _construct_mapping(loader, node, deep=False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise InputError(loader.name, f"key {key!r} is given twice (lines {seen[key]} and {line}); "
                                          "keep one", column=str(key), row=line)
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def parse_yaml(text: str, name: str = "<text>"):
    """``text`` read as YAML with :class:`Yaml12Loader`; InputError (with the line) if it is not YAML."""
    loader = Yaml12Loader(text)
    loader.name = name
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(name, f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                         row=mark.line + 1 if mark is not None else None) from None
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Param:
    """One documented parameter of notebooks/params.yml."""

    name: str
    default: Any
    type: type
    doc: str
    line: int  # 1-based line in params.yml, for error messages
    lo: float | None = None     # allowed range (numbers), inclusive
    hi: float | None = None
    file: bool = False          # a path to an existing file (relative to notebooks/)
    base: Path | None = None    # the directory such a path is relative to (notebooks/)

    def allowed(self) -> str:
        if self.file:
            return "an existing file (path relative to notebooks/)"
        if self.hi is None:
            return f">= {_num(self.lo)}"
        return f"from {_num(self.lo)} to {_num(self.hi)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def type_name(t: type) -> str:
    return TYPES.get(t, t.__name__)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                         row=raw[:exc.start].count(b"\n") + 1) from None


def _range_of(path: Path, name: str, default, doc: str, row: int | None) -> tuple[str, dict]:
    """(doc without its range bracket, Param keywords) of one parameter line."""
    m = _RANGE.search(doc)
    needs = (isinstance(default, (int, float)) and not isinstance(default, bool)) or name.endswith("_path")
    if m is None:
        if needs:
            raise InputError(path, "every number and path needs its allowed values at the end of its "
                                   "comment: [LO..HI], [>= LO] or [file]", column=name, row=row)
        return doc, {}
    text = doc[:m.start()].strip()
    if m.group("file"):
        if not isinstance(default, str):
            raise InputError(path, "[file] is for a path (a string)", column=name, row=row)
        return text, {"file": True, "base": path.parent}
    if not needs:
        raise InputError(path, "a range [..] is for a number", column=name, row=row)
    try:
        lo = float(m.group("lo") or m.group("min"))
        hi = float(m.group("hi")) if m.group("hi") else None
    except ValueError:
        raise InputError(path, f"range {m.group(0)} is not LO..HI or >= LO with numbers", column=name,
                         row=row) from None
    if hi is not None and hi < lo:
        raise InputError(path, f"range {m.group(0)} is empty (HI < LO)", column=name, row=row)
    return text, {"lo": lo, "hi": hi}


def load_params(path: Path | str = PARAMS_YML) -> dict[str, Param]:
    """Read params.yml into ``{name: Param}``; the doc of a parameter is its line's ``# comment``
    (without the range bracket that ends it)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "parameter file is missing")
    text = _read_text(path)
    values = parse_yaml(text, str(path)) or {}
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
        doc, limits = _range_of(path, name, default, docs[name], row)
        param = Param(name, default, type(default), doc, row, **limits)
        check_value(param, default, path, row, default=True)
        params[name] = param
    return params


def check_value(param: Param, value: Any, file="command line (-p)", line: int | None = None,
                default: bool = False) -> None:
    """Refuse a value outside the parameter's allowed values (InputError naming parameter and rule)."""
    where = "default" if default else "value"
    if param.file and default:
        return  # a missing default file is the chapters' read, refused with that file's name
    if param.file:
        if not ((param.base or PARAMS_YML.parent) / str(value)).is_file():
            raise InputError(file, f"parameter {param.name!r}: {where} must be {param.allowed()}; "
                                   "there is no such file", column=param.name, value=value, row=line)
        return
    if param.lo is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value) or value < param.lo or (param.hi is not None and value > param.hi):
        raise InputError(file, f"parameter {param.name!r}: {where} must be {param.allowed()} "
                               f"(notebooks/params.yml, line {param.line})", column=param.name,
                         value=value, row=line)


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
        value = _parse_value(params[name], text)
        out[name] = coerce(params[name], value)
        check_value(params[name], out[name])
    return out


def _parse_value(param: Param, text: str) -> Any:
    """A ``-p`` value as its parameter's type: a string parameter takes the text as typed; other
    types read it as YAML 1.2 (so ``010`` is 10 and ``1:20`` is not a number)."""
    if param.type is str:
        return text
    try:
        value = parse_yaml(text, "command line (-p)")
    except InputError:
        return text
    return text if value is None else value


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
