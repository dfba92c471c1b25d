"""Tables are numbered as tables, figures as figures (issue 5, item 2).

* the chapter sources (notebooks/*.md) caption every glued table with ``{glue:table}`` (numbered
  "Table N") and never with ``{glue:figure}`` (which would number it "Fig. N");
* :mod:`cart19.book.sphinx_tables` itself: a tiny Sphinx project built with warnings as errors shows
  "Table 1" above a glued HTML table (kept as is), "Fig. 1" under a glued image, resolves
  ``{numref}`` to both, and rejects a ``{glue:table}`` without label or caption.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
BLOCK = re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{(glue:figure|glue:table)\}[ \t]+(\S+)[ \t]*\n"
                   r"((?:[ \t]*:[^\n]*\n)*)", re.M)
NAME = re.compile(r"^[ \t]*:name:[ \t]*(\S+)", re.M)
GLUE_PREFIX = "application/papermill.record/"


def _blocks(path: Path) -> list[tuple[str, str, str | None]]:
    """(directive, glue key, :name:) of every glue:figure / glue:table block of one source."""
    out = []
    for kind, key, opts in BLOCK.findall(path.read_text(encoding="utf-8")):
        m = NAME.search(opts)
        out.append((kind, key, m.group(1) if m else None))
    return out


def _glued_kinds(ipynb: Path) -> dict[str, str]:
    """Glue key -> 'table' / 'image' / 'other', from an executed notebook's glue records."""
    if not ipynb.is_file():
        return {}
    kinds = {}
    for cell in json.loads(ipynb.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            meta = (out.get("metadata") or {}).get("scrapbook") or {}
            if "name" not in meta:
                continue
            data = {k.removeprefix(meta.get("mime_prefix", GLUE_PREFIX)): v
                    for k, v in out.get("data", {}).items()}
            html = "".join(data.get("text/html", ""))
            if any(k.startswith("image/") for k in data):
                kinds[meta["name"]] = "image"
            elif "<table" in html:
                kinds[meta["name"]] = "table"
            else:
                kinds[meta["name"]] = "other"
    return kinds


def test_sources_found():
    assert NOTEBOOKS, "no notebooks/NN_*.md found"
    assert any(k == "glue:table" for p in NOTEBOOKS for k, _, _ in _blocks(p))


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_tables_are_captioned_as_tables(source):
    """A table captioned with glue:figure would be numbered "Fig. N": use glue:table."""
    glued = _glued_kinds(ROOT / "book" / f"{source.stem}.ipynb")
    problems = []
    for kind, key, name in _blocks(source):
        if name is None:
            problems.append(f"{kind} {key}: no :name:, so it is neither numbered nor referenceable")
            continue
        if kind == "glue:figure" and (name.startswith("tbl-") or glued.get(key) == "table"):
            problems.append(f"glue:figure {key} (:name: {name}) shows a table: use glue:table")
        if kind == "glue:table" and not name.startswith("tbl-"):
            problems.append(f"glue:table {key}: label {name!r} should start with 'tbl-'")
        if kind == "glue:table" and glued.get(key) == "image":
            problems.append(f"glue:table {key} shows an image: use glue:figure")
        if kind == "glue:figure" and not name.startswith("fig-"):
            problems.append(f"glue:figure {key}: label {name!r} should start with 'fig-'")
    assert not problems, f"{source.name}:\n  " + "\n  ".join(problems)


def test_config_loads_the_extension():
    import yaml

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "cart19.book.sphinx_tables" in cfg["sphinx"]["config"]["extensions"]


# ----------------------------------------------------------------------- the Sphinx extension
_PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
            "AABJRU5ErkJggg==")
_TABLE_HTML = '<table id="T_x"><thead><tr><th>a</th></tr></thead><tbody><tr><td>42</td></tr></tbody></table>'


def _glue_output(name: str, data: dict) -> dict:
    return {"output_type": "display_data",
            "metadata": {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}},
            "data": {GLUE_PREFIX + k: v for k, v in data.items()}}


def _project(tmp_path: Path, markdown: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "extensions = ['myst_nb', 'cart19.book.sphinx_tables']\n"
        "nb_execution_mode = 'off'\nnumfig = True\nexclude_patterns = ['_build']\n")
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "cells": [
              {"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "# Page\n"},
              {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 1,
               "source": "glue(...)",
               "outputs": [_glue_output("tab", {"text/html": _TABLE_HTML, "text/plain": "df"}),
                           _glue_output("img", {"image/png": _PNG_1PX, "text/plain": "fig"})]},
              {"cell_type": "markdown", "id": "m2", "metadata": {}, "source": markdown}]}
    (src / "index.ipynb").write_text(json.dumps(nb))
    return src


def _build(src: Path) -> tuple[int, str, str]:
    from io import StringIO

    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    out, warn = StringIO(), StringIO()
    with docutils_namespace():  # each test's app registers its nodes/directives afresh
        app = Sphinx(str(src), str(src), str(src / "_build" / "html"),
                     str(src / "_build" / "doctrees"), "html", status=out, warning=warn,
                     freshenv=True, confoverrides={"nitpicky": True})
        app.build()
    html_path = src / "_build" / "html" / "index.html"
    html = html_path.read_text(encoding="utf-8") if html_path.is_file() else ""
    return app.statuscode, html, warn.getvalue()


GOOD = """See {numref}`tbl-tab` and {numref}`fig-img`.

```{glue:table} tab
:name: tbl-tab

The glued table.
```

```{glue:figure} img
:name: fig-img

The glued image.
```
"""


def test_glue_table_is_a_numbered_table(tmp_path):
    status, html, warnings = _build(_project(tmp_path, GOOD))
    assert status == 0 and not warnings.strip(), warnings
    block = re.search(r'<figure class="cart19-table" id="tbl-tab" style="overflow-x: auto">'
                      r'(.*?)</figure>', html, re.S)
    assert block, "no table block with the label's id"
    body = block.group(1)
    # caption above the table, numbered as a table, with a permalink
    assert re.search(r'<figcaption>\s*<p><span class="caption-number">Table 1 </span>'
                     r'<span class="caption-text">The glued table\.</span>'
                     r'<a class="headerlink" href="#tbl-tab"', body), body
    assert body.index("<figcaption>") < body.index("<table")
    assert "<td>42</td>" in body and 'id="T_x"' in body  # the glued HTML, unchanged
    # the glued image stays a figure
    fig = re.search(r'<figure[^>]*id="fig-img"[^>]*>(.*?)</figure>', html, re.S)
    assert fig and '<span class="caption-number">Fig. 1 </span>' in fig.group(1)
    # numref resolves to both, with the right words
    assert re.search(r'<a class="reference internal" href="#tbl-tab"><span class="std std-numref">'
                     r'Table 1</span></a>', html), html
    assert re.search(r'href="#fig-img"><span class="std std-numref">Fig\. 1</span>', html)


def test_tables_and_figures_are_numbered_separately(tmp_path):
    md = GOOD + "\n```{glue:table} tab\n:name: tbl-again\n\nThe same table again.\n```\n"
    status, html, warnings = _build(_project(tmp_path, md))
    assert status == 0 and not warnings.strip(), warnings
    numbers = re.findall(r'<span class="caption-number">([^<]*)</span>', html)
    assert numbers == ["Table 1 ", "Fig. 1 ", "Table 2 "]


@pytest.mark.parametrize("md, message", [
    ("```{glue:table} tab\n\nNo label.\n```\n", "needs a :name:"),
    ("```{glue:table} tab\n:name: tbl-x\n```\n", "needs a caption"),
    ("```{glue:table} nope\n:name: tbl-x\n\nCaption.\n```\n", "nope"),
    ("```{glue:table} tab\n:name: tbl-x\n\nOne.\n\nTwo.\n```\n", "single paragraph"),
])
def test_bad_glue_table_warns(tmp_path, md, message):
    """With -W (as the book builds) each of these fails the build."""
    _status, _html, warnings = _build(_project(tmp_path, md))
    assert message in warnings, warnings


def _markdown_cells(cells) -> list[str]:
    return [("".join(c["source"]) if isinstance(c["source"], list) else c["source"]).strip()
            for c in cells if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_uncaptioned_table(source):
    """Every table a chapter shows is a captioned, numbered table: a code cell that displays a
    table directly (instead of gluing it for a ``{glue:table}``) has no number and no caption.

    Read from the executed notebook ``book/<stem>.ipynb``; skipped while it is stale (its
    markdown differs from the source), which ``make test`` reports separately."""
    import jupytext

    executed = ROOT / "book" / f"{source.stem}.ipynb"
    if not executed.is_file():
        pytest.skip(f"{executed.name} not executed yet")
    nb = json.loads(executed.read_text(encoding="utf-8"))
    if _markdown_cells(nb["cells"]) != _markdown_cells(jupytext.read(source)["cells"]):
        pytest.skip(f"{executed.name} is stale (run `make book`)")
    bare = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if (out.get("metadata") or {}).get("scrapbook"):
                continue  # a glue record, shown where a glue directive pastes it
            html = "".join(out.get("data", {}).get("text/html", ""))
            if out.get("output_type") in {"display_data", "execute_result"} and "<table" in html:
                bare.append(f"cell {i}: {''.join(cell['source']).strip().splitlines()[-1][:70]}")
    assert not bare, (f"{source.name} shows tables without number or caption (glue them and "
                      "use {glue:table}):\n  " + "\n  ".join(bare))
