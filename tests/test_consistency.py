"""Every claim reads the same on every page of the book and in ``python -m cart19 scorecard --json``.

The executed notebooks (book/NN_*.ipynb, as committed) hold the tables the pages show; each
glued table with an ``id`` and a ``status`` column is a slice of the one reproduction of the
paper. A claim's published and reproduced value, difference, status, basis and note must be
identical wherever it appears, and equal to the scorecard the command line prints.
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
COMPARED = ("published", "reproduced", "difference", "status", "basis", "note")


class _Tables(HTMLParser):
    """Header and body rows of every <table> in a piece of HTML (text of th/td cells)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._row = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _glued_tables(nb_path: Path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = (out.get("metadata", {}).get("scrapbook", {}) or {}).get("name")
            html = out.get("data", {}).get("application/papermill.record/text/html")
            if name and html:
                p = _Tables()
                p.feed("".join(html) if isinstance(html, list) else html)
                for t in p.tables:
                    if t and "id" in t[0] and "status" in t[0]:
                        yield name, t[0], t[1:]


def _fmt(x) -> str:
    """The comparison table's format of a number (cart19.presentation.tables.comparison)."""
    return "" if x is None else f"{x:.4g}"


@pytest.fixture(scope="module")
def scorecard_json() -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-m", "cart19", "scorecard", "--json"], check=True,
                         capture_output=True, text=True, cwd=paths.ROOT).stdout
    rows = json.loads(out)
    return {r["id"]: {**r, **{k: _fmt(r[k]) for k in ("published", "reproduced", "difference")}}
            for r in rows}


def _pages() -> dict[str, list[tuple[str, dict]]]:
    """claim id -> [(page:table, {column: text}), ...] over every committed notebook."""
    seen: dict[str, list[tuple[str, dict]]] = {}
    for nb in sorted(BOOK.glob("[0-9][0-9]_*.ipynb")):
        for name, header, rows in _glued_tables(nb):
            for r in rows:
                rec = dict(zip(header, r))
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
            for col in (c for c in COMPARED if c in rec):
                if rec[col] != str(cli[col] or ""):
                    problems.append(f"{cid} {col}: {page} shows {rec[col]!r}, scorecard --json "
                                    f"{cli[col]!r}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def test_every_claim_is_on_a_page(scorecard_json):
    """The scorecard chapter's table lists every claim of the record."""
    pages = _pages()
    missing = sorted(set(scorecard_json) - set(pages))
    assert not missing, missing[:20]
