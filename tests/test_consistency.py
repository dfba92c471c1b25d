"""Every claim reads the same on every page of the book and in ``python -m cart19 scorecard --json``.

The executed notebooks (book/NN_*.ipynb, as committed) hold the tables the pages show; each
glued table with an ``id`` and a ``status`` column is a slice of the one reproduction of the
paper. A claim's published and reproduced value, difference, status, basis and note (shown under
the status) must be identical wherever it appears, and equal to the row the scorecard of the
command line gives when formatted by the same function.
"""
from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cart19 import paths

BOOK = paths.ROOT / "book"
COMPARED = ("published", "reproduced", "difference", "status", "basis")  # status: with its note


class _Tables(HTMLParser):
    """Every <table> of a piece of HTML as rows of {column: text}; a column is named by its
    header cell's ``id`` (journal tables: ``<table name>-<column>``) or text, a body cell by its
    ``headers`` attribute where it has one. <br> becomes a newline; <wbr> vanishes."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._row, self._head = [], None, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
            self._head = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "id": a.get("id") or "", "headers": a.get("headers") or "",
                          "text": []}
        elif tag == "br" and self._cell is not None:
            self._cell["text"].append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = "".join(self._cell["text"]).strip()
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._add_row(self._row)
            self._row = None

    def _add_row(self, cells):
        if len(cells) > 1 and all(c["tag"] == "th" for c in cells):
            self._head = [c["id"].rsplit("-", 1)[-1] if c["id"] else c["text"] for c in cells]
            return
        rec = {}
        for i, c in enumerate(cells):
            if c["headers"]:
                key = c["headers"].split()[-1].rsplit("-", 1)[-1]
            elif i < len(self._head):
                key = self._head[i]
            else:
                continue
            rec[key] = c["text"]
        if self.tables and rec:
            self.tables[-1].append(rec)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"].append(data)


def _parse(html: str) -> list[list[dict]]:
    p = _Tables()
    p.feed(html)
    tables = [[r for r in t if "id" in r and "status" in r] for t in p.tables]
    return [t for t in tables if t]


def _glued_tables(nb_path: Path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = (out.get("metadata", {}).get("scrapbook", {}) or {}).get("name")
            html = out.get("data", {}).get("application/papermill.record/text/html")
            if name and html:
                for t in _parse("".join(html) if isinstance(html, list) else html):
                    yield name, t


@pytest.fixture(scope="module")
def scorecard_json() -> dict[str, dict]:
    """Each claim's row as the book would show it, made from ``scorecard --json`` with the
    function the pages use (cart19.presentation.tables.comparison_table)."""
    import pandas as pd

    from cart19.presentation import tables
    out = subprocess.run([sys.executable, "-m", "cart19", "scorecard", "--json"], check=True,
                         capture_output=True, text=True, cwd=paths.ROOT).stdout
    card = pd.DataFrame(json.loads(out))
    shown = tables.comparison_table(tables.comparison(card), "expected")
    html = shown._repr_html_() if hasattr(shown, "_repr_html_") else str(shown)
    (rows,) = _parse(html)
    return {r["id"]: r for r in rows}


def _pages() -> dict[str, list[tuple[str, dict]]]:
    """claim id -> [(page:table, {column: text}), ...] over every committed notebook."""
    seen: dict[str, list[tuple[str, dict]]] = {}
    for nb in sorted(BOOK.glob("[0-9][0-9]_*.ipynb")):
        for name, rows in _glued_tables(nb):
            for rec in rows:
                seen.setdefault(rec["id"], []).append((f"{nb.stem}:{name}", rec))
    return seen


def test_claims_read_the_same_on_every_page_and_in_the_scorecard(scorecard_json):
    pages = _pages()
    assert len(pages) > 500, "the book's comparison tables were not found"
    problems = []
    for cid, where in sorted(pages.items()):
        cli = scorecard_json.get(cid)
        if cli is None:
            problems.append(f"{cid}: on {where[0][0]} but not in scorecard --json")
            continue
        for page, rec in where:
            for col in (c for c in COMPARED if c in rec and c in cli):
                if rec[col] != cli[col]:
                    problems.append(f"{cid} {col}: {page} shows {rec[col]!r}, scorecard --json "
                                    f"{cli[col]!r}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def test_every_claim_is_on_a_page(scorecard_json):
    """The scorecard chapter's table lists every claim of the record."""
    pages = _pages()
    missing = sorted(set(scorecard_json) - set(pages))
    assert not missing, missing[:20]
