"""The published record: load and validate ``data/published/claims.csv``.

Every number printed in Zhang et al., Blood Adv 2020;4(10):2325-2338 (abstract, text,
Tables 1-5, figure captions) is one row of ``claims.csv``; the columns and id patterns
are fixed in ``data/published/ID_CONVENTIONS.md`` and described in
``data/published/README.md``.  This module only reads and checks the file: it never
corrects a printed number (that is the audit's job).

Validation is declarative (a pandera ``DataFrameSchema``, run lazily so every
broken cell is collected); each failure is translated into the project's
:class:`cart19.errors.InputError`, which names the file, the column, the 1-based
data row and the rule.  Reading is done with the :mod:`csv` module rather than
``pandas.read_csv`` so that encoding problems and ragged rows can be reported with a
row and column instead of a parser traceback.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from cart19 import paths
from cart19.errors import InputError

__all__ = ["COLUMNS", "SOURCES", "KINDS", "load_claims", "claim", "schema"]

COLUMNS = ["id", "source", "location", "quantity", "printed", "kind", "n", "N", "percent", "mean",
           "dispersion", "dispersion_label", "median", "min", "max", "value", "unit", "hr", "ci_low",
           "ci_high", "p", "p_cmp", "group", "note"]
TEXT_REQUIRED = ["id", "source", "location", "quantity", "printed", "kind"]
TEXT_OPTIONAL = ["dispersion_label", "unit", "p_cmp", "group", "note"]
FLOAT_COLUMNS = ["percent", "mean", "dispersion", "median", "min", "max", "value", "hr", "ci_low",
                 "ci_high", "p"]
INT_COLUMNS = ["n", "N"]
NUMERIC_COLUMNS = INT_COLUMNS + FLOAT_COLUMNS

SOURCES = frozenset(["title", "abstract", "key_points", "intro", "methods", "results", "discussion"]
                    + [f"table{k}" for k in range(1, 6)] + [f"fig{k}" for k in range(1, 8)])
KINDS = frozenset(["count", "proportion", "percent", "median", "range", "mean_dispersion",
                   "km_landmark", "p", "hr", "ci", "value"])
P_CMPS = frozenset(["=", "<", ">"])
ID_PATTERN = r"^[a-z0-9_]+(\.[a-z0-9_]+)+$"

# Fields a row of each kind must fill (kind -> list of alternatives, each a list of columns).
KIND_REQUIRES = {
    "count": [["n"]],
    "proportion": [["n", "N"], ["n", "percent"]],
    "percent": [["percent"]],
    "median": [["median"]],
    "range": [["min", "max"]],
    "mean_dispersion": [["mean", "dispersion"]],
    "km_landmark": [["percent", "value", "unit"]],
    "p": [["p", "p_cmp"]],
    "hr": [["hr"]],
    "ci": [["ci_low", "ci_high"]],
    "value": [["value"]],
}


def _present(d: pd.DataFrame, col: str) -> pd.Series:
    s = d[col]
    return s.notna() & (s.astype(str) != "") if s.dtype == object else s.notna()


def _le(d: pd.DataFrame, a: str, b: str) -> pd.Series:
    """a <= b wherever both are present."""
    return d[a].isna() | d[b].isna() | (d[a] <= d[b])


def _kind_ok(d: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=d.index)
    for kind, alternatives in KIND_REQUIRES.items():
        rows = d["kind"] == kind
        any_alt = pd.Series(False, index=d.index)
        for cols in alternatives:
            alt = pd.Series(True, index=d.index)
            for c in cols:
                alt &= _present(d, c)
            any_alt |= alt
        ok &= ~rows | any_alt
    return ok


# Wide (multi-column) rules: name -> (column blamed in the error, rule text, function).
_WIDE_RULES = {
    "n_le_N": ("n", "n must not exceed N", lambda d: _le(d, "n", "N")),
    "median_ge_min": ("median", "median must be >= min", lambda d: _le(d, "min", "median")),
    "median_le_max": ("median", "median must be <= max", lambda d: _le(d, "median", "max")),
    "min_le_max": ("min", "min must be <= max", lambda d: _le(d, "min", "max")),
    "ci_order": ("ci_low", "ci_low must be <= ci_high", lambda d: _le(d, "ci_low", "ci_high")),
    "p_cmp_iff_p": ("p_cmp", "p_cmp must be given exactly when p is given",
                    lambda d: _present(d, "p") == _present(d, "p_cmp")),
    "mean_iff_dispersion": ("dispersion", "mean and dispersion must be given together",
                            lambda d: _present(d, "mean") == _present(d, "dispersion")),
    "label_needs_mean": ("dispersion_label", "dispersion_label needs mean and dispersion",
                         lambda d: ~_present(d, "dispersion_label") | _present(d, "mean")),
    "id_starts_with_source": ("id", "id must start with '<source>.'",
                              lambda d: pd.Series([str(i).startswith(f"{s}.") for i, s in
                                                   zip(d["id"], d["source"])], index=d.index)),
    "kind_fields": ("kind", "row lacks the fields its kind requires (see README: kind -> required fields)",
                    _kind_ok),
}


def _is_integer(s: pd.Series) -> pd.Series:
    return s.isna() | (s % 1 == 0)


def schema() -> pa.DataFrameSchema:
    """The value rules of claims.csv (applied after numbers have been parsed)."""
    text = {c: pa.Column(str, nullable=False, checks=pa.Check.str_length(min_value=1, error="must not be empty"))
            for c in TEXT_REQUIRED}
    text["id"] = pa.Column(str, nullable=False, checks=[
        pa.Check.str_matches(ID_PATTERN, error=f"id must match {ID_PATTERN}"),
        pa.Check(lambda s: ~s.duplicated(keep="first"), error="id must be unique (repeats an earlier row)"),
    ])
    text["source"] = pa.Column(str, checks=pa.Check.isin(sorted(SOURCES), error="source must be one of "
                                                         + ", ".join(sorted(SOURCES))))
    text["kind"] = pa.Column(str, checks=pa.Check.isin(sorted(KINDS), error="kind must be one of "
                                                       + ", ".join(sorted(KINDS))))
    opt = {c: pa.Column(str, nullable=True) for c in TEXT_OPTIONAL}
    opt["p_cmp"] = pa.Column(str, nullable=True, checks=pa.Check.isin(sorted(P_CMPS), error="p_cmp must be one of =, <, >"))
    num = {c: pa.Column(float, nullable=True) for c in FLOAT_COLUMNS}
    for c in INT_COLUMNS:
        num[c] = pa.Column(float, nullable=True, checks=[
            pa.Check(_is_integer, error="must be a whole number"),
            pa.Check.ge(0, error="must be >= 0")])
    num["percent"] = pa.Column(float, nullable=True, checks=pa.Check.in_range(0, 100, error="percent must be within 0-100"))
    num["p"] = pa.Column(float, nullable=True, checks=pa.Check.in_range(0, 1, error="p must be within 0-1"))
    num["hr"] = pa.Column(float, nullable=True, checks=pa.Check.gt(0, error="hr must be > 0"))
    num["dispersion"] = pa.Column(float, nullable=True, checks=pa.Check.ge(0, error="dispersion must be >= 0"))
    wide = [pa.Check(fn, name=name, error=rule) for name, (_, rule, fn) in _WIDE_RULES.items()]
    columns = {**text, **opt, **num}
    return pa.DataFrameSchema({c: columns[c] for c in COLUMNS}, checks=wide, strict=True, ordered=True)


# ---------------------------------------------------------------- reading


def _raise_all(file: Path, failures: list[dict]):
    # by row; within a row, single-cell rules first, then cross-column rules, then the
    # generic "kind needs fields" rule (it is usually a consequence of the others)
    wide = {rule for (_, rule, _) in _WIDE_RULES.values()}

    def order(f):
        rank = 2 if f["rule"] == _WIDE_RULES["kind_fields"][1] else int(f["rule"] in wide)
        return (f["row"] if f["row"] is not None else -1, rank,
                COLUMNS.index(f["column"]) if f["column"] in COLUMNS else 99)
    failures = sorted(failures, key=order)
    first = failures[0]
    rule = first["rule"]
    if len(failures) > 1:
        rule += f" (and {len(failures) - 1} other failure(s); see .failures)"
    err = InputError(file, rule, column=first["column"], row=first["row"], value=first["value"])
    err.failures = failures
    raise err


def _read_rows(file: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows as strings and each row's number as a spreadsheet numbers it (header row 1,
    blank lines counted); InputError for unreadable, empty, non-UTF-8, ragged or badly quoted files
    (cart19.csvfile)."""
    from cart19.csvfile import read_rows

    return read_rows(file)


def _check_header(file: Path, header: list[str]):
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(file, f"header row lacks required column(s): {', '.join(missing)}", column=missing[0])
    extra = [c for c in header if c not in COLUMNS]
    if extra:
        raise InputError(file, f"header row has unknown column(s): {', '.join(extra)}", column=extra[0])
    dup = [c for c in header if header.count(c) > 1]
    if dup:
        raise InputError(file, "header row repeats a column name", column=dup[0])


def _to_number(text: str):
    """'0.052' -> 0.052, '.052' -> 0.052, '' -> None; ValueError for anything else."""
    t = text.strip()
    if t == "":
        return None
    x = float(t)
    if not math.isfinite(x):
        raise ValueError(t)
    return x


def load_claims(path: str | Path = paths.CLAIMS_CSV) -> pd.DataFrame:
    """Read and validate the published record (claims.csv).

    Returns one row per printed number, columns in the order of ``COLUMNS``; ``n`` and
    ``N`` are nullable integers (``Int64``), the other numeric columns floats, empty
    text cells ``None``.  Any broken rule raises :class:`InputError` naming the file,
    column, row (as a spreadsheet numbers it) and rule of the first failure; ``err.failures``
    lists all.
    """
    file = Path(path)
    header, body, sheet_rows = _read_rows(file)
    _check_header(file, header)
    failures: list[dict] = []
    width = len(header)
    for i, r in enumerate(body, start=1):
        if len(r) != width:
            failures.append(dict(column=None, row=i, value=None,
                                 rule=f"row has {len(r)} fields, header has {width}"))
    if failures:
        _raise_all(file, _on_sheet(failures, sheet_rows))
    df = pd.DataFrame(body, columns=header)[COLUMNS]
    df.index = pd.RangeIndex(len(df))
    out = {c: _parse_column(df[c], c, failures) for c in COLUMNS}
    if failures:
        _raise_all(file, _on_sheet(failures, sheet_rows))
    parsed = pd.DataFrame(out)
    try:
        schema().validate(parsed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        _raise_all(file, _on_sheet(_failures_from_pandera(exc.failure_cases, parsed), sheet_rows))
    for c in INT_COLUMNS:
        parsed[c] = parsed[c].astype("Int64")
    return parsed


def _parse_column(cells: pd.Series, c: str, failures: list[dict]) -> pd.Series:
    """One column of claims.csv: numbers as floats (a cell that is not one is added to
    ``failures``), text stripped, an empty optional text cell None."""
    if c not in NUMERIC_COLUMNS:
        s = cells.str.strip()
        return s.where(s != "", None) if c in TEXT_OPTIONAL else s
    vals = []
    for i, cell in enumerate(cells):
        try:
            vals.append(_to_number(cell))
        except ValueError:
            failures.append(dict(column=c, row=i + 1, value=cell, rule="not a number"))
            vals.append(None)
    return pd.Series(vals, dtype="float64")


def _on_sheet(failures: list[dict], sheet_rows: list[int]) -> list[dict]:
    """Failures with their 1-based data row turned into the spreadsheet row of the file."""
    for f in failures:
        if f["row"] is not None and 1 <= f["row"] <= len(sheet_rows):
            f["row"] = sheet_rows[f["row"] - 1]
    return failures


def _failures_from_pandera(fc: pd.DataFrame, df: pd.DataFrame) -> list[dict]:
    """pandera failure cases -> [{column, row, rule, value}], one per (rule, row, column).

    Wide (multi-column) rules are reported by pandera once per column of the failing row
    (and not at all for a column whose cell is empty), so they are keyed on the row index
    and attributed to the column named in ``_WIDE_RULES``.
    """
    found = {}
    wide = {rule: col for (col, rule, _) in _WIDE_RULES.values()}
    for rec in fc.to_dict("records"):
        idx = rec.get("index")
        row = int(idx) + 1 if idx is not None and not pd.isna(idx) else None
        rule = str(rec["check"])
        if rec["schema_context"] == "DataFrameSchema" and rule in wide:
            col = wide[rule]
            value = df.at[int(idx), col] if row is not None else None
        else:
            col, value = rec["column"], rec["failure_case"]
        if value is not None and pd.isna(value):
            value = None
        key = (rule, row, col)
        if key not in found:
            found[key] = dict(column=col, row=row, value=value, rule=rule)
    return list(found.values())


def claim(df: pd.DataFrame, id: str) -> pd.Series:
    """The row of claim ``id`` (KeyError naming the id if it is not in the record)."""
    hit = df.loc[df["id"] == id]
    if hit.empty:
        raise KeyError(f"no claim with id {id!r} in the published record")
    return hit.iloc[0]


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def printed_power(printed: str) -> int:
    """The power of ten a claim's printed text writes its value in ("3×10^5 ... CAR T cells per
    kg" -> 5, "<3 × 10 ⁵ cells per kg" -> 5), 0 when it prints none: prose that quotes the value
    "x 10^k" must quote value / 10^k (chapter 05's median dose)."""
    import re
    m = re.search(r"[×x]\s*10\s*(?:\^|<sup>)?\s*([0-9⁰¹²³⁴⁵⁶⁷⁸⁹]+)", str(printed))
    return int(m.group(1).translate(_SUPERSCRIPTS)) if m else 0
