"""The book's claim-by-claim comparison tables: every printed number of a chapter beside ours, with
its difference, status and basis (the scorecard's rows, Zhang et al. 2020 throughout), and the
status-count summaries of chapter 12. :func:`show` is how a chapter displays any frame.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from cart19.presentation import journal as J

#: how a claim's source is named in the book
SOURCE_NAMES = {"title": "Title", "abstract": "Abstract", "key_points": "Key points",
                "intro": "Introduction", "methods": "Methods", "results": "Results",
                "discussion": "Discussion", **{f"table{k}": f"Table {k}" for k in range(1, 6)},
                **{f"fig{k}": f"Figure {k} caption" for k in range(1, 8)}}
COMPARISON_COLUMNS = ["id", "quantity", "published", "reproduced", "difference", "status", "basis",
                      "printed", "field", "note"]


def comparison(card: pd.DataFrame, chapter: str | None = None, prefix: str | None = None,
               exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The scorecard rows of one chapter (or id prefix), comparison columns first.

    Values stay numbers (missing: NaN); :func:`comparison_table` formats them. Columns the
    scorecard may add beyond :data:`COMPARISON_COLUMNS` are kept, after them. ``exclude``: id
    prefixes to leave out (shown in a table of their own elsewhere on the page).
    """
    sel = card
    if chapter is not None:
        sel = sel[sel["chapter"] == chapter]
    if prefix is not None:
        sel = sel[sel["id"].str.startswith(prefix)]
    for pre in exclude:
        sel = sel[~sel["id"].str.startswith(pre)]
    cols = [c for c in COMPARISON_COLUMNS if c in sel.columns]
    cols += [c for c in sel.columns if c not in cols]
    out = sel[cols].reset_index(drop=True)
    out.attrs["cart19"] = "comparison"
    return out


def _unit(row) -> str:
    """The unit a difference is written in."""
    field_, kind = row.get("field"), row.get("kind")
    unit = row.get("unit")
    if field_ in ("percent",) or kind in ("percent", "km_landmark"):
        return "pp"
    if isinstance(unit, str) and unit.strip() and field_ not in ("n", "N", "p"):
        u = unit.strip()
        return {"days": "d", "years": "y", "months": "mo", "% of PB lymphocytes": "pp"}.get(u, u)
    q = str(row.get("quantity", "")).lower()
    if field_ in ("mean", "median", "min", "max") and "%" in q:
        return "pp"
    if field_ in ("median", "min", "max", "value") and "day" in q:
        return "d"
    return ""


def value_text(x, row) -> str:
    field_ = row.get("field")
    if J._missing(x):
        return ""
    if field_ == "p":
        printed = str(row.get("printed") or "")
        bound = "<" if "<" in printed else ">" if ">" in printed else "="
        return J.fmt_p(x, bound if row.get("published") == x else "=")
    if field_ in ("n", "N"):
        return J.fmt_num(x, 0)
    if field_ == "percent":
        return J.fmt_num(x, 1) + "%"
    if field_ in ("hr", "ci_low", "ci_high"):
        return J.fmt_num(x, sig=3)
    return J.fmt_num(x, sig=4) if abs(float(x)) < 1e5 else J.fmt_num(x, 0)


def difference_text(row) -> str:
    """Signed difference with its unit; hazard ratios as a ratio (like for like, log scale);
    none for P values, which are compared at the printed precision."""
    field_ = row.get("field")
    pub, rep = row.get("published"), row.get("reproduced")
    if J._missing(pub) or J._missing(rep):
        return ""
    if field_ == "p":
        return ""
    if field_ in ("hr", "ci_low", "ci_high"):
        if float(pub) <= 0 or float(rep) <= 0:
            return ""
        return f"×{J.fmt_num(float(rep) / float(pub), sig=3)}"
    diff = row.get("difference")
    diff = float(rep) - float(pub) if J._missing(diff) else float(diff)
    if field_ in ("n", "N"):
        return J.fmt_signed(diff, decimals=0)
    unit = _unit(row)
    if unit == "pp":
        return J.fmt_signed(diff, unit, decimals=1 if abs(diff) >= 0.1 else 2)
    return J.fmt_signed(diff, unit, sig=3 if abs(diff) >= 0.01 else 2)


_STATUS_STYLE = {"differs": J.DIFFERS_STYLE, "not reproducible": J.MUTED_STYLE}


def comparison_table(frame: pd.DataFrame, name: str = "comparison",
                     groups: bool = True) -> J.JournalTable:
    """A :func:`comparison` frame as a journal table: what the number is, the paper's and our
    value, the signed difference with its unit, status (with its note) and basis; the claim id in
    a last, small column. Rows grouped by the part of the paper that prints them."""
    rows = []
    for _, r in frame.iterrows():
        r = r.to_dict()
        status = str(r.get("status", ""))
        note = r.get("note")
        status_html = J.esc(status)
        if status in _STATUS_STYLE:
            status_html = f'<span style="{_STATUS_STYLE[status]}">{status_html}</span>'
        if not J._missing(note):
            status_html += "<br>" + J.small(J.esc(note))
        quantity = str(r.get("quantity", ""))  # claims.csv writes gene names in <i>...</i>
        printed = r.get("printed")
        rows.append({
            "group": SOURCE_NAMES.get(str(r.get("source", "")), str(r.get("source", "")).title())
            if "source" in r else "",
            "quantity": quantity if "<" in quantity else J.esc(quantity),
            "published": J.tip(J.esc(value_text(r.get("published"), r)),
                               f"printed: {printed}" if not J._missing(printed) else None),
            "reproduced": J.mark(J.esc(value_text(r.get("reproduced"), r)), status == "differs"),
            "difference": J.esc(difference_text(r)).replace(" ", "\u00a0"),
            "status": status_html,
            "basis": J.esc(r.get("basis", "")),
            "id": J.small(J.esc(r.get("id", "")).replace(".", ".<wbr>")),
        })
    cells = pd.DataFrame(rows, columns=["group", "quantity", "published", "reproduced",
                                        "difference", "status", "basis", "id"])
    use_groups = groups and "source" in frame.columns and cells["group"].nunique() > 0
    if not use_groups:
        cells = cells.drop(columns="group")
    data = frame.drop(columns=[c for c in frame.columns if c.startswith("_")]).copy()
    labels = {"quantity": "Quantity", "published": "Paper", "reproduced": "Reproduced",
              "difference": "Difference", "status": "Status", "basis": "Basis",
              "id": '<span style="font-size:11px">Claim</span>'}
    notes = ["Paper: the value printed (the pointer shows the paper's words). Difference: "
             "reproduced minus published, in percentage points (pp) for percentages; hazard "
             "ratios as the ratio reproduced / published; P values are compared at the printed "
             "precision. Basis: <i>fitted</i>, a target of the reconstruction; <i>derived</i>, "
             "follows from fitted counts; <i>emergent</i>, not targeted."]
    return J.table(cells, name, groups="group" if use_groups else None, labels=labels,
                   align={"published": "right", "reproduced": "right", "difference": "right"},
                   notes=notes, wide=True, data=data)


def _auto_name(frame: pd.DataFrame) -> str:
    """A file/HTML name for a comparison table: 'numbers-<common id prefix or chapter>', so two
    comparison tables of one page get distinct names."""
    ids = [str(i) for i in frame.get("id", [])]
    parts = [i.split(".") for i in ids]
    common = []
    for bits in zip(*parts) if parts else ():
        if len(set(bits)) != 1:
            break
        common.append(bits[0])
    if common:
        return "numbers-" + "-".join(common)
    chapters = sorted({str(c) for c in frame.get("chapter", []) if str(c)})
    return "numbers-" + ("-".join(chapters) if len(chapters) == 1 else "all")


def show(df: pd.DataFrame, name: str | None = None, **kw):
    """A table as the book shows it: a comparison frame (from :func:`comparison`) as
    :func:`comparison_table`, any other frame through :func:`journal.frame_table`."""
    if df.attrs.get("cart19") == "comparison":
        return comparison_table(df, name or _auto_name(df), **kw)
    return J.frame_table(df, name or "table", **kw)


def summary_table(summary: pd.DataFrame, by: str, name: str) -> J.JournalTable:
    """A status-count summary (:func:`cart19.comparison.scorecard.summarise`) as a journal table,
    parts of the paper by their printed names, in the paper's order; a total row at the foot."""
    frame = summary.reset_index()
    if by == "source":
        order = {k: i for i, k in enumerate(SOURCE_NAMES)}
        frame = frame.sort_values(by, key=lambda s: s.map(lambda x: order.get(x, len(order))),
                                  kind="mergesort")
        frame[by] = frame[by].map(lambda x: SOURCE_NAMES.get(x, str(x)))
    total = frame.drop(columns=[by]).sum(numeric_only=True)
    frame = pd.concat([frame, pd.DataFrame([{by: "All", **total.to_dict()}])], ignore_index=True)
    labels = {c: str(c)[:1].upper() + str(c)[1:] for c in frame.columns}
    labels[by] = {"source": "Part of the paper", "basis": "Basis"}.get(by, by)
    out = J.frame_table(frame, name, labels=labels, wide=False,
                        formats={c: "{:.0f}" for c in frame.columns if c != by})
    out.gt = out.gt.tab_style(_bold_text(), _body_rows([len(frame) - 1]))
    return out


def _bold_text():
    from great_tables import style
    return style.text(weight="bold")


def _body_rows(rows):
    from great_tables import loc
    return loc.body(rows=list(rows))
