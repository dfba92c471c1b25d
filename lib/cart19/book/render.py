"""Rendering: the staged source tree and jupyter-book 1.x (``-W -n``: warnings are errors).

The book is rendered from a staged copy of ``_config.yml``, ``_toc.yml`` and ``book/`` with the new
notebooks overlaid, never from the working tree, so that a failed render leaves the installed html
as it was. The stage is made anew for every render (:func:`_fresh_tree`): the html depends on the
sources only, never on an earlier render. ``_toc.yml`` is generated from ``notebooks/NN_*.md`` unless hand-edited.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from cart19 import io
from cart19.book import provenance
from cart19.book.chapters import Notebook
from cart19.book.layout import MANIFEST_NAME, RENDER_KEY_FILE, TOC_MARKER, BuildError, Layout, sha256_bytes


_NO_RFC3987 = "import sys; sys.modules.setdefault('rfc3987_syntax', None); "


def toc_text(notebooks: list[Notebook]) -> str:
    lines = [TOC_MARKER + " from notebooks/NN_*.md.",
             "# To hand-edit (parts, captions), delete the line above: the build then only checks",
             "# that every notebook is listed.",
             "format: jb-book", "root: book/intro"]
    if notebooks:
        lines.append("chapters:")
        lines += [f"- file: book/{nb.stem}" for nb in notebooks]
    return "\n".join(lines) + "\n"


def _toc_files(obj) -> set[str]:
    found = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("file", "root") and isinstance(v, str):
                found.add(v.removesuffix(".ipynb").removesuffix(".md"))
            else:
                found |= _toc_files(v)
    elif isinstance(obj, list):
        for v in obj:
            found |= _toc_files(v)
    return found


def check_toc(layout: Layout, notebooks: list[Notebook], write: bool = True) -> str:
    """Return the _toc.yml text to render with; regenerate it if generated, else check it lists all."""
    import yaml

    path = layout.root / "_toc.yml"
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current is None or current.startswith(TOC_MARKER):
        text = toc_text(notebooks)
        if write and text != current:
            io.write_text(path, text)
            print("build: _toc.yml regenerated from notebooks/NN_*.md", flush=True)
        return text
    listed = _toc_files(yaml.safe_load(current))
    missing = [f"book/{nb.stem}" for nb in notebooks if f"book/{nb.stem}" not in listed]
    if missing:
        raise BuildError(f"_toc.yml (hand-edited) does not list {', '.join(missing)}: add "
                         + ", ".join(f"`- file: {m}`" for m in missing))
    return current


def _fresh_tree(dest: Path, files: dict[str, bytes]) -> None:
    """Make ``dest`` hold exactly ``files``, and nothing else: no Sphinx state of an earlier render.

    Why not Sphinx's incremental build: it depends on the build's history. Its search index kept the
    words of removed text, pages it did not rewrite kept the asset checksums (``?v=...``) of the
    previous render, and a changed file of ``book/_static`` was not copied again. A clean render costs
    about the same here (measured 15.5 s incremental with nothing changed vs 15.8 s clean, under load;
    5.3 vs 6.4 s of CPU): most of the time is jupyter-book's start-up and writing every page."""
    if dest.exists():
        shutil.rmtree(dest)
    for rel, data in files.items():
        p = dest / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def stage_files(layout: Layout, toc: str, new_outputs: dict[str, Path]) -> dict[str, bytes]:
    """The jupyter-book source tree: _config.yml, _toc.yml and book/ (new outputs overlaid)."""
    files = {"_config.yml": (layout.root / "_config.yml").read_bytes(), "_toc.yml": toc.encode()}
    for p in sorted(layout.book.rglob("*")):
        rel = p.relative_to(layout.root).as_posix()
        if not p.is_file() or rel.startswith("book/_build/") or p.name == MANIFEST_NAME:
            continue
        if p.suffix == ".ipynb" and p.stem in new_outputs:
            continue
        files[rel] = p.read_bytes()
    for stem, path in new_outputs.items():
        files[f"book/{stem}.ipynb"] = path.read_bytes()
    return files


def _names(obj, found: set[str]) -> set[str]:
    if isinstance(obj, dict):
        for v in obj.values():
            _names(v, found)
    elif isinstance(obj, list):
        for v in obj:
            _names(v, found)
    elif isinstance(obj, str) and obj.startswith("cart19."):
        found.add(obj)
    return found


def extension_files(config: bytes) -> list[Path]:
    """The files of the package's own Sphinx extensions that ``_config.yml`` names under ``sphinx``
    (e.g. ``cart19.book.sphinx_tables``, ``cart19.presentation.sphinx_book``), with every module of
    the package they import: the html depends on them. (Read as files, not imported: the book
    machinery imports nothing from the domain.)"""
    import yaml

    from cart19.book.imports import closure, module_graph

    sphinx = (yaml.safe_load(config) or {}).get("sphinx") or {}
    graph = module_graph(Path(__file__).resolve().parents[1])
    return sorted(graph[m][0] for m in closure(_names(sphinx, set()), graph))


def render_key(files: dict[str, bytes], sources: dict[str, str] | None = None) -> str:
    """What the html depends on: jupyter-book's version, this module (how jupyter-book is called),
    our Sphinx extensions (:func:`extension_files`), every staged file and what the footer says
    of the sources (``sources``: :func:`cart19.book.provenance.source_commit`), so that a
    commit of the sources re-renders the footer that names it."""
    h = hashlib.sha256(importlib.metadata.version("jupyter-book").encode())
    if sources:
        h.update(json.dumps(sources, sort_keys=True).encode())
    h.update(sha256_bytes(Path(__file__).read_bytes()).encode())
    package = Path(__file__).resolve().parents[1]
    for ext in extension_files(files.get("_config.yml", b"")):
        h.update(ext.relative_to(package).as_posix().encode() + b"\0" + sha256_bytes(ext.read_bytes()).encode())
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + sha256_bytes(files[rel]).encode())
    return h.hexdigest()


def render(layout: Layout, files: dict[str, bytes], key: str,
           sources: dict[str, str] | None = None) -> Path:
    """Run jupyter-book (-W) on a freshly staged tree; return the rendered html dir (not yet installed:
    the caller moves it into place). The html is a function of ``files`` and of ``sources``, the
    footer's account of them (handed to the footer in :data:`cart19.book.provenance.SOURCES_FILE`
    of the staged tree)."""
    stage = layout.cache / "stage"
    _fresh_tree(stage, files)
    if sources is not None:
        io.write_text(stage / provenance.SOURCES_FILE, json.dumps(sources, sort_keys=True) + "\n")
    cmd = [sys.executable, "-c", _NO_RFC3987 + "from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(stage), "--builder", "html", "-W", "-n"]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr).strip().splitlines()
        hits = [i for i, ln in enumerate(log) if not ln.startswith("myst-nb v") and
                re.search(r"WARNING|ERROR|treated as error|Error:|Exception:", ln)]
        # a matching line and the one after it (Sphinx puts the warning under "treated as error:")
        shown = [log[j] for j in sorted({k for i in hits for k in (i, i + 1) if k < len(log)})]
        shown = shown or log[-25:]
        raise BuildError("jupyter-book failed (warnings are errors); book/_build/html left as it was:\n"
                         + "\n".join("  " + ln for ln in shown[-40:]))
    html = stage / "_build" / "html"
    io.write_text(html / RENDER_KEY_FILE, key + "\n")
    return html


def current_render_key(layout: Layout) -> str | None:
    try:
        return (layout.html / RENDER_KEY_FILE).read_text().strip()
    except OSError:
        return None
