"""The book's one table style: journal tables drawn with great_tables, each downloadable as CSV.

Every table of the book (the paper's Tables 1-5 reproduced, the claim-by-claim comparisons, the
audit's and the reconstruction's tables) goes through :func:`table`, so they share one look: the
booktabs rules of a journal (a rule above and below the column labels and at the foot), spanner
headers over groups of columns, row groups or an indented stub as in the paper, footnotes under the
rule, and a "Download CSV" link under every table. The link is a ``data:`` URI holding the table's
data, so it works in the built book, offline, without any file beside the page.

The number formats journals print live here too, once: :func:`fmt_p` (".021", "< .001"),
:func:`fmt_count` ("66/71 (92.9)"), :func:`fmt_signed` ("+0.8 pp", "−3").

Why great_tables: it is the maintained Python port of R's ``gt`` and has exactly the structure a
journal table needs (stub, row groups, spanners, source notes); pandas' Styler would need all of it
written by hand. What is ours: the house style (:data:`OPTIONS`), the CSV link, and two CSS
selectors that great_tables 1.1 leaves unscoped (they would restyle every table of the page).
"""
from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import pandas as pd

__all__ = ["JournalTable", "table", "fmt_p", "fmt_count", "fmt_signed", "fmt_num", "esc", "plain",
           "mark", "tip", "small", "MINUS", "Download", "download_file"]

MINUS = "\u2212"  # a true minus sign, as journals print negative numbers
DIFFERS_STYLE = "color:#b2182b;font-weight:600"   # a reproduced value that differs from the paper
MUTED_STYLE = "color:#6c757d"

#: great_tables options of the house style (sizes in px, as displayed in the book).
OPTIONS = dict(
    table_font_size="13px",
    table_font_color="#212529",
    table_border_top_style="solid", table_border_top_width="2px", table_border_top_color="#212529",
    table_border_bottom_style="solid", table_border_bottom_width="2px",
    table_border_bottom_color="#212529",
    heading_border_bottom_style="none",
    column_labels_font_weight="bold",
    column_labels_border_top_style="none",
    column_labels_border_bottom_style="solid", column_labels_border_bottom_width="1px",
    column_labels_border_bottom_color="#212529",
    column_labels_padding="4px",
    column_labels_vlines_style="none",
    row_group_font_weight="bold",
    row_group_border_top_style="solid", row_group_border_top_width="1px",
    row_group_border_top_color="#dee2e6",
    row_group_border_bottom_style="none",
    row_group_padding="5px",
    table_body_hlines_style="none",
    table_body_border_bottom_style="none",
    table_body_vlines_style="none",
    stub_border_style="none",
    data_row_padding="2px",
    source_notes_font_size="12px",
    source_notes_padding="2px",
    container_padding_y="4px",
    table_margin_left="0",
)


# ------------------------------------------------------------------------------ number formats
def _missing(x) -> bool:
    if x is None:
        return True
    if isinstance(x, str):
        return not x.strip()
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt_p(p, cmp: str | None = "=", decimals: int = 3) -> str:
    """A P value as journals print it: ".021", "< .001", "< .0001", "1".

    ``cmp`` "<" or ">" keeps a printed bound ("P < .0001" stays "< .0001"). ``decimals``: three
    by default, as the paper prints most; below .001 the value is given as a bound.
    """
    if _missing(p):
        return ""
    p = float(p)
    bound = cmp if isinstance(cmp, str) and cmp.strip() in ("<", ">") else None
    if bound:
        digits = f"{p:.6f}".rstrip("0").rstrip(".")
        return f"{bound.strip()} {digits.replace('0.', '.', 1) if p < 1 else digits}"
    if p < 0.0001:
        return "< .0001"
    if p < 0.001:
        return "< .001"
    if p >= 1 - 0.5 * 10 ** -decimals:
        return "1"
    return f"{p:.{decimals}f}".replace("0.", ".", 1)


def fmt_num(x, decimals: int | None = None, sig: int | None = None) -> str:
    """A number with ``decimals`` decimals (or ``sig`` significant digits), minus as a true minus."""
    if _missing(x):
        return ""
    x = float(x)
    if not math.isfinite(x):
        return "n/a"
    if sig is not None:
        text = f"{x:.{sig}g}"
        if "e" in text:  # no scientific notation in a clinical table
            text = f"{x:.{max(sig - 1 - int(math.floor(math.log10(abs(x)))), 0)}f}"
    elif decimals is not None:
        text = f"{x:.{decimals}f}"
    else:
        text = f"{x:g}" if abs(x) < 1e6 else f"{x:.0f}"
    return text.replace("-", MINUS)


def fmt_count(n, N=None, percent=None, decimals: int = 1) -> str:
    """ "n/N (%)" as the paper's tables print it; "n" alone without a denominator."""
    if _missing(n):
        return ""
    n = int(round(float(n)))
    if _missing(N):
        return str(n)
    N = int(round(float(N)))
    if _missing(percent):
        percent = 100 * n / N if N else float("nan")
    return f"{n}/{N} ({fmt_num(percent, decimals)})"


def fmt_signed(x, unit: str = "", decimals: int | None = None, sig: int | None = None) -> str:
    """A difference with its sign and unit: "+0.8 pp", "−3", "0" (no sign on zero)."""
    if _missing(x):
        return ""
    x = float(x)
    text = fmt_num(abs(x), decimals, sig)
    if float(text.replace(MINUS, "-") or 0) == 0:
        sign, text = "", fmt_num(0.0, decimals, sig)
    else:
        sign = "+" if x > 0 else MINUS
    return f"{sign}{text}{(' ' + unit) if unit else ''}"


# --------------------------------------------------------------------------------- cell markup
def esc(text) -> str:
    """Plain text -> HTML (a cell value that is not markup)."""
    return "" if _missing(text) else html.escape(str(text), quote=False)


def mark(text_html: str, differs: bool) -> str:
    """A reproduced value, marked when it differs from the paper."""
    if not differs or not text_html:
        return text_html
    return f'<span class="cart19-differs" style="{DIFFERS_STYLE}">{text_html}</span>'


def tip(text_html: str, title: str | None) -> str:
    """``text_html`` with a tooltip (shown when the pointer rests on it)."""
    if not title or not text_html:
        return text_html
    return f'<span title="{html.escape(str(title), quote=True)}">{text_html}</span>'


def small(text_html: str) -> str:
    return f'<span style="font-size:11px;{MUTED_STYLE}">{text_html}</span>' if text_html else ""


_TAGS = re.compile(r"<[^>]+>")


def plain(text) -> str:
    """HTML cell -> the text a CSV holds (tags removed, entities decoded)."""
    if _missing(text):
        return ""
    return html.unescape(_TAGS.sub(" ", str(text))).replace("\u00a0", " ").strip().replace("  ", " ")


# ------------------------------------------------------------------------------------- tables
_UNSCOPED = (
    # great_tables 1.1 writes these two rules without its table id, so they would apply to every
    # table of the page; scoped here to the table they belong to
    (re.compile(r"#(?P<id>[\w-]+) thead, tbody, tfoot, tr, td, th \{"),
     lambda m: ", ".join(f"#{m['id']} {t}" for t in ("thead", "tbody", "tfoot", "tr", "td", "th"))
     + " {"),
    (re.compile(r"\n tr \{ background-color: transparent; \}"), None),
)


def _scope_css(markup: str, table_id: str) -> str:
    pattern, repl = _UNSCOPED[0]
    markup = pattern.sub(repl, markup, count=1)
    markup = _UNSCOPED[1][0].sub(f"\n#{table_id} tr {{ background-color: transparent; }}", markup,
                                 count=1)
    return markup


@dataclass
class JournalTable:
    """A table in the book's style: great_tables HTML plus a CSV download link.

    ``data`` is what the CSV holds (by default the shown cells as plain text). Shown by Jupyter
    (JupyterLab, myst-nb's ``glue``) through :meth:`_repr_html_`.
    """

    gt: object
    data: pd.DataFrame
    name: str
    html_id: str
    notes: list[str] = field(default_factory=list)

    def csv(self) -> str:
        return self.data.to_csv(index=False, lineterminator="\n")

    def download_link(self) -> str:
        payload = base64.b64encode(self.csv().encode("utf-8")).decode("ascii")
        return (f'<p class="cart19-download" style="margin:2px 0 0 0;font-size:12px">'
                f'<a href="data:text/csv;charset=utf-8;base64,{payload}" download="{self.name}.csv"'
                f' title="{len(self.data)} rows, {self.data.shape[1]} columns">Download CSV</a>'
                f"</p>")

    def as_html(self) -> str:
        markup = _scope_css(self.gt.as_raw_html(), self.html_id)
        return (f'<div class="cart19-journal" data-rows="{len(self.data)}">\n{markup}\n'
                f"{self.download_link()}\n</div>")

    def _repr_html_(self) -> str:
        return self.as_html()

    def __repr__(self) -> str:
        return f"<table {self.name}: {len(self.data)} rows, {self.data.shape[1]} columns>"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"


def _spanners(gt, spanners: Sequence[tuple], html_id: str):
    """Headings over groups of columns; a third item nests spanners defined before under this one."""
    from great_tables import html as gt_html

    spanner_ids: dict[str, str] = {}
    for k, spec in enumerate(spanners):
        heading, cols = spec[0], spec[1]
        children = [spanner_ids[h] for h in (spec[2] if len(spec) > 2 else ())]
        spanner_ids[heading] = sid = f"{html_id}-s{k}"
        gt = gt.tab_spanner(gt_html(heading), columns=list(cols) if cols else None,
                            spanners=children or None, id=sid)
    return gt


def _align_and_indent(gt, al: Mapping[str, str], shown: list, indent: Mapping[int, int]):
    """Column alignment (column -> left/center/right) and the stub's indent levels by row."""
    for how in ("left", "center", "right"):
        cols = [c for c, a in al.items() if a == how and c in shown]
        if cols:
            gt = gt.cols_align(how, columns=cols)
    for level in sorted(set(indent.values())):
        rows = [r for r, lv in indent.items() if lv == level]
        gt = gt.tab_stub_indent(rows=rows, indent=level)
    return gt


def table(frame: pd.DataFrame, name: str, *, stub: str | None = None,
          groups: str | None = None, labels: Mapping[str, str] | None = None,
          spanners: Sequence[tuple[str, Sequence[str]]] = (),
          align: Mapping[str, str] | None = None, notes: Iterable[str] = (),
          indent: Mapping[int, int] | None = None, bold_rows: Iterable[int] = (),
          wide: bool = False, widths: Mapping[str, str] | None = None,
          data: pd.DataFrame | None = None, stubhead: str | None = None,
          nowrap: Sequence[str] | None = None) -> JournalTable:
    """One table in the house style.

    ``frame``'s cells are HTML (build them with :func:`esc`, :func:`mark`, :func:`tip`); ``stub``
    the column of row labels, ``groups`` a column whose values become row-group headings (in order
    of first appearance), ``labels`` column headings (HTML allowed), ``spanners`` (heading, columns)
    pairs drawn over groups of columns (a third item, headings of spanners defined before, nests
    them under this one), ``indent`` row position -> indent level (the paper's nested
    rows), ``bold_rows`` row positions whose label is bold, ``notes`` footnotes (HTML) under the
    table, ``wide`` spreads the table over the text column (long cells wrap), ``widths`` column ->
    CSS width, ``nowrap`` columns whose cells never break (default: the right-aligned, numeric
    ones). ``data``: what the CSV download holds (default: the cells as plain text). ``name``
    names the CSV file and (slugged) the HTML id, so it must be unique on its page.
    """
    from great_tables import GT, html as gt_html, loc, style

    frame = frame.reset_index(drop=True).copy()
    html_id = f"cart19-{_slug(name)}"
    csv_frame = data if data is not None else frame.apply(lambda col: col.map(plain))
    shown = [c for c in frame.columns if c not in (stub, groups)]
    frame = frame.fillna("")
    gt = GT(frame, rowname_col=stub, groupname_col=groups, id=html_id)
    gt = gt.fmt(lambda v: "" if _missing(v) else str(v), columns=shown)
    if stub is not None:
        gt = gt.fmt(lambda v: "" if _missing(v) else str(v), columns=[stub])
    labels = dict(labels or {})
    gt = gt.cols_label(**{c: gt_html(labels.get(c, esc(c))) for c in shown})
    if stubhead:
        gt = gt.tab_stubhead(gt_html(stubhead))
    gt = _spanners(gt, spanners, html_id)
    al = {c: "left" for c in shown}
    al.update(align or {})
    gt = _align_and_indent(gt, al, shown, indent or {})
    bold = list(bold_rows)
    if bold and stub is not None:
        gt = gt.tab_style(style.text(weight="bold"), loc.stub(rows=bold))
    if widths:
        gt = gt.cols_width({k: v for k, v in widths.items()})
    keep = [c for c in nowrap if c in shown] if nowrap is not None else [
        c for c in shown if al.get(c) == "right"]  # numbers never break inside a cell
    if keep:
        gt = gt.tab_style(style.css("white-space: nowrap"), loc.body(columns=keep))
    for note in notes:
        gt = gt.tab_source_note(gt_html(note))
    opts = dict(OPTIONS)
    if wide:
        opts["table_width"] = "100%"
    gt = gt.tab_options(**opts)
    gt = gt.opt_table_font(font="inherit")
    return JournalTable(gt, csv_frame.reset_index(drop=True), _slug(name), html_id, list(notes))


#: columns holding identifiers (claim ids, check ids): shown small and muted
ID_COLUMNS = ("id", "claim_id", "check_id", "published_id", "trial_id", "lit_id", "stat")


def _id_cell(v) -> str:
    return small(esc(v).replace(".", ".<wbr>")) if not _missing(v) else ""


def frame_table(frame: pd.DataFrame, name: str, *, labels: Mapping[str, str] | None = None,
                formats: Mapping[str, object] | None = None, notes: Iterable[str] = (),
                wide: bool | None = None, align: Mapping[str, str] | None = None,
                stub: str | None = None, groups: str | None = None) -> JournalTable:
    """Any DataFrame as a journal table: each column through its format (a callable or a format
    string such as ``"{:.1f}"``; text is escaped), numbers right-aligned, text left, a column
    named "...difference..." signed; the CSV holds the unformatted values."""
    formats = dict(formats or {})
    shown = frame.reset_index(drop=True)
    cells = pd.DataFrame(index=shown.index)
    al = {}
    for col in shown.columns:
        f = formats.get(col)
        values = shown[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if f is None and str(col) in ID_COLUMNS:
            f = _id_cell  # an identifier: small, last, breakable at its dots
        if f is None and numeric and "difference" in str(col).lower():
            f = fmt_signed  # a difference always carries its sign
        if callable(f):
            cells[col] = [f(v) for v in values]
        elif isinstance(f, str):
            cells[col] = ["" if _missing(v) else esc(f.format(v)).replace("-", MINUS)
                          if numeric else esc(f.format(v)) for v in values]
        elif pd.api.types.is_bool_dtype(values):
            cells[col] = ["yes" if v else "no" for v in values]
        elif numeric:
            cells[col] = [fmt_num(v) for v in values]
        else:
            cells[col] = [esc(v) for v in values]
        al[col] = "right" if numeric else "left"
    al.update(align or {})
    if wide is None:
        wide = shown.shape[1] > 5
    return table(cells, name, labels=labels, notes=notes, wide=wide, align=al, data=shown,
                 stub=stub, groups=groups)


@dataclass
class Download:
    """A file offered for download from the page itself (a ``data:`` URI: no file beside the page,
    works offline and in the built book alike)."""

    payload: bytes
    filename: str
    label: str
    rows: int | None = None
    mime: str = "text/csv"

    def _repr_html_(self) -> str:
        b64 = base64.b64encode(self.payload).decode("ascii")
        size = f"{len(self.payload) / 1024:.0f} kB"
        title = f"{self.rows} rows, {size}" if self.rows is not None else size
        # a span, not a paragraph: it can stand in a sentence ({glue} role) or alone
        return (f'<span class="cart19-download">'
                f'<a href="data:{self.mime};charset=utf-8;base64,{b64}" download="{self.filename}" '
                f'title="{title}">{esc(self.label)}</a> '
                f'<span style="{MUTED_STYLE}">({esc(self.filename)}, {size})</span></span>')

    def __repr__(self) -> str:
        return f"<download {self.filename}>"


def download_file(path, label: str, filename: str | None = None) -> Download:
    """The bytes of a data file of the repository (a path the chapter declares in its ``reads``)
    as a :class:`Download`; for a CSV the number of data rows goes into the link's title."""
    from pathlib import Path

    path = Path(path)
    data = path.read_bytes()
    rows = None
    if path.suffix == ".csv":
        rows = max(len(pd.read_csv(path, dtype=str, keep_default_na=False)), 0)
    return Download(data, filename or path.name, label, rows)
