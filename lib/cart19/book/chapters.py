"""The chapters: each ``notebooks/NN_*.md`` parsed into a :class:`Notebook`, and their order.

A chapter's front matter lists the data files it reads and writes (``cart19: {reads: [...], writes:
[...]}``); its ``parameters`` cell the parameters it takes. :func:`order` makes a chapter that reads a
file another writes wait for it (``graphlib``; cycles and double writers are refused).
"""
from __future__ import annotations

import dataclasses
import graphlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cart19 import io
from cart19.book import params as P
from cart19.book.imports import closure, declared_reads, imported_modules
from cart19.book.layout import NOTEBOOK_NAME, BuildError, Layout, sha256_bytes
from cart19.errors import InputError


@dataclass(frozen=True)
class Notebook:
    """One chapter: its MyST source, its executed output and what it depends on."""

    stem: str
    source: Path
    output: Path
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    imports: frozenset[str]
    cell_params: dict = field(hash=False, compare=False)


def read_source(path: Path):
    import jupytext

    return jupytext.read(path)


def load_notebook(path: Path, layout: Layout, parsed: dict | None = None) -> Notebook:
    """Parse one ``notebooks/NN_*.md``: front matter ``cart19.reads/writes``, imports, parameters.

    ``parsed`` (a dict kept in .cache/build/sources.json) memoises the result by the hash of the
    source and of this module (its rules), so a no-op rebuild never imports jupytext/nbformat
    (seconds on a loaded 2-core machine)."""
    rel = layout.rel(path)
    sha = sha256_bytes(path.read_bytes() + b"\0" + Path(__file__).read_bytes())
    hit = (parsed or {}).get(rel)
    if hit and hit.get("sha") == sha:
        return Notebook(stem=path.stem, source=path, output=layout.book / f"{path.stem}.ipynb",
                        reads=tuple(hit["reads"]), writes=tuple(hit["writes"]),
                        imports=frozenset(hit["imports"]), cell_params=hit["cell_params"])
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # the line of the bad byte, as an editor numbers it
        raise InputError(rel, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                         row=raw[:exc.start].count(b"\n") + 1) from None
    try:
        node = read_source(path)
    except Exception as exc:  # jupytext raises many kinds on malformed text
        raise InputError(rel, f"cannot be read as a MyST notebook: {exc}") from None
    if not any(c.source.strip() for c in node.cells):
        raise InputError(rel, "the chapter is empty (a chapter needs a '# Title' and its cells)")
    if not any(c.cell_type == "markdown" and re.search(r"^# \S", c.source, re.M) for c in node.cells):
        raise InputError(rel, "the chapter has no title: a line '# Title' (the book needs one per page)")
    spec = node.metadata.get("kernelspec") or {}
    if spec.get("name") != "python3" or spec.get("language") != "python":
        raise InputError(rel, "front matter needs kernelspec: {name: python3, display_name: Python 3, "
                              "language: python} (papermill runs the executed notebook only with a language)",
                         column="kernelspec", value=spec)
    meta = node.metadata.get("cart19") or {}
    lists = {}
    for key in ("reads", "writes"):
        value = meta.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(rel, f"front matter cart19.{key} must be a list of paths relative to the "
                                  "repository root", column=f"cart19.{key}", value=value)
        lists[key] = tuple(value)
    code = "\n".join(c.source for c in node.cells if c.cell_type == "code")
    found = P.parameters_cell(node)
    cell_params = found[1] if found else {}
    if parsed is not None:
        parsed[rel] = {"sha": sha, "reads": list(lists["reads"]), "writes": list(lists["writes"]),
                       "imports": sorted(imported_modules(code)), "cell_params": cell_params}
    return Notebook(stem=path.stem, source=path, output=layout.book / f"{path.stem}.ipynb",
                    reads=lists["reads"], writes=lists["writes"],
                    imports=frozenset(imported_modules(code)), cell_params=cell_params)


def discover(layout: Layout) -> list[Notebook]:
    """Every ``notebooks/NN_*.md`` in NN order."""
    paths = sorted(p for p in layout.notebooks.glob("*.md") if NOTEBOOK_NAME.match(p.name))
    cache = layout.cache / "sources.json"
    try:
        parsed = json.loads(cache.read_text())
    except (OSError, ValueError):
        parsed = {}
    before = json.dumps(parsed, sort_keys=True)
    notebooks = [load_notebook(p, layout, parsed) for p in paths]
    parsed = {k: v for k, v in parsed.items() if (layout.root / k) in paths}
    if json.dumps(parsed, sort_keys=True) != before:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            io.write_text(cache, json.dumps(parsed, sort_keys=True, default=repr))
        except (OSError, TypeError, io.OutputError):
            pass  # a cache only
    return notebooks


def _writers(notebooks: list[Notebook]) -> dict[str, str]:
    """``{written path: stem}``; a path (or a file inside a written directory) written twice is refused."""
    writers: dict[str, str] = {}
    for nb in notebooks:
        for w in nb.writes:
            if w in writers:
                raise BuildError(f"{w} is written by both {writers[w]} and {nb.stem} (cart19.writes)")
            writers[w] = nb.stem
    for w, stem in writers.items():
        inside = [x for x, other in writers.items() if w.endswith("/") and x != w and x.startswith(w)
                  and other != stem]
        if inside:
            raise BuildError(f"{inside[0]} is written by both {writers[inside[0]]} and {stem} "
                             f"(which writes the directory {w}; cart19.writes)")
    return writers


def order(notebooks: list[Notebook]) -> dict[str, set[str]]:
    """``{stem: stems that must finish first}``: a notebook writing a file (or a directory holding
    a file) another reads runs first."""
    writers = _writers(notebooks)
    deps = {nb.stem: {stem for w, stem in writers.items() for r in nb.reads
                      if stem != nb.stem and (r == w or (w.endswith("/") and r.startswith(w)))}
            for nb in notebooks}
    try:  # refuse cycles up front (graphlib would otherwise never offer their chapters)
        graphlib.TopologicalSorter(deps).prepare()
    except graphlib.CycleError as exc:
        raise BuildError("notebooks depend on each other in a cycle: " + " -> ".join(exc.args[1])) from None
    return deps


def with_lib_reads(notebooks: list[Notebook], graph) -> list[Notebook]:
    """Each chapter's reads extended by the DATA_READS of the lib modules it imports."""
    declared = declared_reads(graph)
    out = []
    for nb in notebooks:
        extra = [r for mod in sorted(closure(set(nb.imports), graph)) for r in declared.get(mod, ())]
        reads = tuple(dict.fromkeys([*nb.reads, *extra]))
        out.append(dataclasses.replace(nb, reads=reads) if reads != nb.reads else nb)
    return out


def _param_path(layout: Layout, value) -> str:
    """A path parameter's file as a read: relative to the root when inside it, else absolute."""
    path = Path(os.path.normpath(layout.notebooks / str(value)))
    return path.relative_to(layout.root).as_posix() if path.is_relative_to(layout.root) else str(path)


def with_param_reads(notebooks: list[Notebook], layout: Layout, params: dict, values: dict
                     ) -> list[Notebook]:
    """Each chapter's reads extended by the files its path parameters ([file]) name, so that an
    override such as ``-p cohort_path other.csv`` is hashed into the key and allowed by the sandbox."""
    out = []
    for nb in notebooks:
        extra = [_param_path(layout, values[name]) for name in sorted(nb.cell_params)
                 if name in params and params[name].file and name in values]
        reads = tuple(dict.fromkeys([*nb.reads, *extra]))
        out.append(dataclasses.replace(nb, reads=reads) if reads != nb.reads else nb)
    return out
