"""The scorecard as an interactive table a reader can search (chapter 12), offline.

Every published number with its reproduced value, difference, status and basis, as a DataTables
table (through itables): filter panes for the part of the paper, the status, the basis and the
chapter, a "Differences only" button, a free-text search, sorting, paging, and CSV export of what
is shown. The JavaScript and CSS are the bundle itables ships, vendored under
``book/_static/itables/`` (:data:`DT_URL`), so the page requests nothing from another host.

Why itables: it is the maintained bridge from a DataFrame to DataTables (and the DataTables bundle
it ships has the SearchPanes and Buttons extensions); what is ours is the column choice, the
formats (the same as the static tables', :mod:`cart19.presentation.tables`) and the one button.
"""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cart19.presentation import journal as J
from cart19.presentation import tables as T

#: where a chapter page (book/NN_*.html) finds the vendored bundle
DT_URL = "../_static/itables/dt_bundle.js"
TABLE_ID = "cart19-scorecard"

COLUMNS = {"section": "Part of the paper", "quantity": "Quantity", "published": "Paper",
           "reproduced": "Reproduced", "difference": "Difference", "status": "Status",
           "basis": "Basis", "chapter": "Chapter", "note": "Note", "id": "Claim"}
FILTERS = ("section", "status", "basis")


def chapter_titles(notebooks_dir: str | Path) -> dict[str, str]:
    """Chapter stem -> its title (the first "# " heading of notebooks/<stem>.md)."""
    out = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.md")):
        m = re.search(r"^# (.+)$", path.read_text(encoding="utf-8"), re.M)
        out[path.stem] = m.group(1).strip() if m else path.stem
    return out


def scorecard_frame(card: pd.DataFrame, titles: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows of the interactive table: one per claim, formatted as the static tables format
    them (P as journals print it, signed differences with units), the chapter as a link."""
    titles = titles or {}
    rows = []
    for r in card.to_dict("records"):
        chapter = str(r.get("chapter") or "")
        link = (f'<a href="{chapter}.html">{html.escape(titles.get(chapter, chapter))}</a>'
                if chapter else "")
        quantity = str(r.get("quantity", ""))
        rows.append({
            "section": T.SOURCE_NAMES.get(str(r.get("source", "")), str(r.get("source", ""))),
            "quantity": quantity if "<" in quantity else html.escape(quantity),
            "published": html.escape(T.value_text(r.get("published"), r)),
            "reproduced": html.escape(T.value_text(r.get("reproduced"), r)),
            "difference": html.escape(T.difference_text(r)),
            "status": str(r.get("status", "")),
            "basis": str(r.get("basis", "")),
            "chapter": link,
            "note": "" if J._missing(r.get("note")) else html.escape(str(r["note"])),
            "id": str(r.get("id", "")),
        })
    return pd.DataFrame(rows, columns=list(COLUMNS)).rename(columns=COLUMNS)


_DIFFERS_BUTTON = """function (e, dt, node, config) {
    const on = !node.hasClass('dt-button-active');
    node.toggleClass('dt-button-active', on);
    node.attr('aria-pressed', on ? 'true' : 'false');
    dt.column(%d).search(on ? '^differs$' : '', true, false).draw();
}"""


@dataclass
class InteractiveTable:
    """An itables table plus the CSV download of the whole frame; shown through _repr_html_."""

    markup: str
    data: pd.DataFrame
    name: str

    def _repr_html_(self) -> str:
        payload = base64.b64encode(self.data.to_csv(index=False, lineterminator="\n")
                                   .encode("utf-8")).decode("ascii")
        link = (f'<p class="cart19-download" style="font-size:12px;margin:4px 0 0 0">'
                f'<a href="data:text/csv;charset=utf-8;base64,{payload}" download="{self.name}.csv" '
                f'title="{len(self.data)} rows, {self.data.shape[1]} columns">Download CSV (all '
                f'{len(self.data)} claims, every column)</a></p>')
        return f'<div class="cart19-interactive">\n{self.markup}\n{link}\n</div>'

    def __repr__(self) -> str:
        return f"<interactive table {self.name}: {len(self.data)} rows>"


def interactive_scorecard(card: pd.DataFrame, titles: dict[str, str] | None = None,
                          dt_url: str = DT_URL, page_length: int = 15) -> InteractiveTable:
    """The scorecard as an interactive table (see the module docstring). ``card``: the scorecard
    frame (columns the scorecard adds later go to the CSV, not the table)."""
    from itables import JavascriptFunction, to_html_datatable

    frame = scorecard_frame(card, titles)
    names = list(frame.columns)
    status_col = names.index(COLUMNS["status"])
    right = [names.index(COLUMNS[c]) for c in ("published", "reproduced", "difference")]
    panes = [names.index(COLUMNS[c]) for c in FILTERS]
    markup = to_html_datatable(
        frame, table_id=TABLE_ID, connected=True, dt_url=dt_url, allow_html=True,
        showIndex=False, classes="display compact cart19-dt", pageLength=page_length,
        lengthMenu=[10, 15, 25, 50, 100, 599 if len(frame) <= 599 else len(frame)],
        layout={"top2": "searchPanes", "topStart": "buttons", "topEnd": "search",
                "bottomStart": "info", "bottomEnd": "paging"},
        searchPanes={"columns": panes, "layout": "columns-3", "initCollapsed": False,
                     "cascadePanes": True, "viewTotal": True, "dtOpts": {"select": {"style": "multi"}}},
        buttons=[{"text": "Differences only", "className": "cart19-differs-only",
                  "attr": {"aria-pressed": "false"},
                  "action": JavascriptFunction(_DIFFERS_BUTTON % status_col)},
                 {"extend": "csvHtml5", "text": "CSV of the rows shown",
                  "title": "cart19-scorecard-filtered",
                  "exportOptions": {"modifier": {"search": "applied"}}}],
        columnDefs=[{"className": "dt-right", "targets": right},
                    {"className": "cart19-small", "targets": [names.index(COLUMNS["note"])]},
                    {"className": "cart19-small cart19-id", "targets": [names.index(COLUMNS["id"])]},
                    {"searchPanes": {"show": False},
                     "targets": [i for i in range(len(names)) if i not in panes]}],
        autoWidth=False, select=False,
    )
    data = card.copy()
    return InteractiveTable(markup, data, "scorecard")
