"""Every claim reads the same on every page of the book and in ``python -m cart19 scorecard --json``.

The executed notebooks (book/NN_*.ipynb, as committed) hold the tables the pages show; each
glued table with an ``id`` and a ``status`` column is a slice of the one reproduction of the
paper. A claim's published and reproduced value, difference, status, basis and note (shown under
the status) must be identical wherever it appears, and equal to the row the scorecard of the
command line gives when formatted by the same function.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
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


def _parse(html: str, columns: tuple[str, ...] = ("id", "status")) -> list[list[dict]]:
    p = _Tables()
    p.feed(html)
    tables = [[r for r in t if all(c in r for c in columns)] for t in p.tables]
    return [t for t in tables if t]


def _glued_html(nb_path: Path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = (out.get("metadata", {}).get("scrapbook", {}) or {}).get("name")
            html = out.get("data", {}).get("application/papermill.record/text/html")
            if name and html:
                yield name, "".join(html) if isinstance(html, list) else html


def _interactive(html: str) -> list[dict]:
    """The rows of an interactive (itables) table: its data travel as ``data_json`` in the
    page's script, one list per row in the columns of cart19.presentation.interactive.COLUMNS."""
    from cart19.presentation import interactive
    m = re.search(r'"data_json": ("(?:[^"\\]|\\.)*")', html)
    if not m:
        return []
    keys = list(interactive.COLUMNS)
    return [{k: unescape(v) for k, v in zip(keys, row)} for row in json.loads(json.loads(m.group(1)))]


def _glued_tables(nb_path: Path):
    for name, html in _glued_html(nb_path):
        for t in _parse(html):
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


def _interactive_rows() -> dict[str, list[tuple[str, dict]]]:
    """claim id -> [(page:table, row), ...] over the interactive tables of every notebook."""
    seen: dict[str, list[tuple[str, dict]]] = {}
    for nb in sorted(BOOK.glob("[0-9][0-9]_*.ipynb")):
        for name, html in _glued_html(nb):
            for rec in _interactive(html):
                seen.setdefault(rec["id"], []).append((f"{nb.stem}:{name}", rec))
    return seen


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


@pytest.fixture(scope="module")
def scorecard_frame():  # -> pandas.DataFrame (imported inside: collection stays fast)
    import pandas as pd
    out = subprocess.run([sys.executable, "-m", "cart19", "scorecard", "--json"], check=True,
                         capture_output=True, text=True, cwd=paths.ROOT).stdout
    return pd.DataFrame(json.loads(out))


def test_the_interactive_scorecard_is_the_scorecard(scorecard_frame):
    """Chapter 12's interactive table (itables): every claim once, its status, basis and note
    the scorecard's own strings, its values formatted as the static tables format them."""
    from cart19.presentation import interactive
    rows = _interactive_rows()
    assert len(rows) == len(scorecard_frame), "the interactive scorecard does not list every claim"
    card = scorecard_frame.set_index("id")
    shown = interactive.scorecard_frame(scorecard_frame).set_index(interactive.COLUMNS["id"])
    problems = []
    for cid, where in sorted(rows.items()):
        for page, rec in where:
            note = card.loc[cid, "note"]
            want = {"status": card.loc[cid, "status"], "basis": card.loc[cid, "basis"],
                    "note": "" if note is None or note != note else str(note)}
            want.update({c: unescape(shown.loc[cid, interactive.COLUMNS[c]])
                         for c in ("published", "reproduced", "difference")})
            problems += [f"{cid} {k}: {page} shows {rec[k]!r}, scorecard --json {v!r}"
                         for k, v in want.items() if rec[k] != v]
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def test_every_claim_is_on_a_page(scorecard_json):
    """Every claim of the record is shown on some page (static or interactive table)."""
    pages = {**_pages(), **_interactive_rows()}
    missing = sorted(set(scorecard_json) - set(pages))
    assert not missing, missing[:20]


def test_the_ensemble_pages_agree_with_the_scorecard_basis(scorecard_frame):
    """Chapter 25: a statistic is "fixed by the fit" on the ensemble page exactly when the
    scorecard does not call its P value emergent (a P of fitted counts, a t-test of fitted means
    is derived), and the published P it shows is the claim's."""
    from cart19.comparison import ensemble
    from cart19.presentation import journal as J
    from cart19.record.claims import load_claims
    claims = load_claims(paths.ROOT / "data" / "published" / "claims.csv")
    pub = ensemble.published_stats(claims).set_index("stat")
    card = scorecard_frame.set_index("id")
    seen, problems = 0, []
    for nb in sorted(BOOK.glob("2[0-9]_*.ipynb")):
        for name, html in _glued_html(nb):
            for t in _parse(html, ("id", "verdict")):
                for rec in t:
                    stat = rec["id"]
                    if stat not in pub.index:
                        continue
                    seen += 1
                    pid = pub.loc[stat, "p_id"]
                    fixed = rec["verdict"].startswith("fixed by the fit")
                    if not isinstance(pid, str):  # stated in words: no claim, a log-rank P
                        if not stat.startswith("stated.") or fixed:
                            problems.append(f"{stat}: no published P, verdict {rec['verdict']!r}")
                        continue
                    emergent = card.loc[pid, "basis"] == "emergent"
                    if fixed == emergent:
                        problems.append(f"{nb.stem}:{name} {stat}: {rec['verdict'].splitlines()[0]!r}"
                                        f" but {pid} is {card.loc[pid, 'basis']} in the scorecard")
                    printed = J.fmt_p(pub.loc[stat, "p"], pub.loc[stat, "p_cmp"])
                    if "p_pub" in rec and unescape(rec["p_pub"]) != printed:
                        problems.append(f"{stat}: published P {rec['p_pub']!r}, claims.csv {printed!r}")
    assert seen >= 60, f"only {seen} ensemble rows found"
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])
