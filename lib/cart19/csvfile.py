"""Reading an input CSV strictly: every structural fault is an InputError naming row and column.

pandas' ``read_csv`` stops at a ragged row or an unterminated quote with a ``ParserError`` whose
line number counts differently from a spreadsheet, and silently pads or drops fields in some cases;
the standard library's ``csv`` module with ``strict=True`` sees each fault, and this module turns it
into one message. Rows are numbered as a spreadsheet numbers them (header row 1, blank lines
counted), and the frame returned keeps each record's row in ``frame.attrs["rows"]``.

Rules (in the order they are checked): the file exists and is a file; it is not empty; it holds no
NUL byte (a binary file); it is UTF-8 (:func:`cart19.errors.utf8_error` names row and column of the
first bad byte); no carriage return inside an unquoted cell; every quote is closed; the header names
each column once and none is blank; every row has as many cells as the header; at least one data row.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from cart19.errors import InputError, utf8_error

__all__ = ["read_rows", "read_frame"]


def _bad_quote(line: str) -> tuple[int, str]:
    """(index of the first cell whose quotes are wrong, what is wrong) in one physical line:
    ``"open"`` (its quote is never closed on this line) or ``"after"`` (text follows its closing
    quote); (-1, "") when the quotes of the line are fine."""
    field, i, n = 0, 0, len(line)
    while i <= n:
        if i < n and line[i] == '"':
            i += 1
            while True:
                j = line.find('"', i)
                if j < 0:
                    return field, "open"
                if j + 1 < n and line[j + 1] == '"':
                    i = j + 2  # a doubled quote inside the cell
                    continue
                i = j + 1
                break
            if i < n and line[i] not in ",\r":
                return field, "after"
        else:
            j = line.find(",", i)
            i = n if j < 0 else j
        if i >= n:
            return -1, ""
        field, i = field + 1, i + 1
    return -1, ""


def _column(header: list[str], index: int) -> str | None:
    return header[index] if 0 <= index < len(header) else None


def _text(path: Path) -> str:
    """The file's text: InputError if it is missing, unreadable, empty, binary or not UTF-8."""
    if not path.exists():
        raise InputError(path, "required input file is missing")
    if not path.is_file():
        raise InputError(path, "is not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror})") from None
    if not raw.strip():
        raise InputError(path, "file is empty (expected a header row and data rows)")
    if b"\0" in raw:
        at = raw.index(b"\0")
        raise InputError(path, f"holds a NUL byte at offset {at}: a binary file, not CSV text",
                         row=raw[:at].count(b"\n") + 1)
    bad = utf8_error(path, raw)
    if bad is not None:
        raise bad
    return raw.decode("utf-8-sig")


def _check_carriage_returns(path: Path, lines: list[str]) -> None:
    """A CR inside a line (not at its end) in a cell that is not quoted (a quoted one may hold it)."""
    header = [h.strip() for h in next(csv.reader([lines[0].rstrip("\r")]), [])] if lines else []
    for number, line in enumerate(lines, start=1):
        body = line[:-1] if line.endswith("\r") else line
        if "\r" in body and '"' not in body:
            raise InputError(path, "a carriage return (CR) inside a line, in a cell that is not quoted",
                             column=_column(header, body[:body.index("\r")].count(",")), row=number)


def _records(path: Path, text: str, lines: list[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(row, cells)`` of every non-blank record; InputError for a quoting fault."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start, header = 1, []
    try:
        for rec in reader:
            if not header:
                header = [h.strip() for h in rec]
            elif any(cell.strip() for cell in rec):
                records.append((start, rec))
            start = reader.line_num + 1
    except csv.Error as exc:
        field, wrong = _bad_quote(lines[start - 1] if start - 1 < len(lines) else "")
        if wrong == "after":
            rule = "a quoted cell has text after its closing quote (a quote inside a cell is written twice: \"\")"
        elif wrong == "open" or "end of data" in str(exc) or "EOF" in str(exc):
            rule = "a quote (\") opens a cell that is never closed"
        else:
            rule = f"malformed CSV ({exc})"
        raise InputError(path, rule, column=_column(header, field), row=start) from None
    return header, records


def _check_shape(path: Path, header: list[str], records: list[tuple[int, list[str]]]) -> None:
    """Header names present and distinct; every row as wide as the header; some data."""
    if not header or not any(header):
        raise InputError(path, "the first row must be the header (column names)", row=1)
    blank = [i for i, h in enumerate(header) if not h]
    if blank:
        raise InputError(path, f"header cell {blank[0] + 1} is blank (every column needs a name)", row=1)
    dup = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if dup is not None:
        raise InputError(path, "header names this column twice", column=dup, row=1)
    for row, rec in records:
        if len(rec) != len(header):
            raise InputError(path, f"row has {len(rec)} fields, header has {len(header)}",
                             column=_column(header, min(len(rec), len(header))), row=row)
    if not records:
        raise InputError(path, "file has a header but no data rows")


def read_rows(path: Path | str) -> tuple[list[str], list[list[str]], list[int]]:
    """``(header, rows, row_numbers)`` of CSV ``path``: cells as text, blank lines left out,
    ``row_numbers[i]`` the spreadsheet row of ``rows[i]``. InputError for any fault (module doc)."""
    path = Path(path)
    text = _text(path)
    lines = text.split("\n")
    _check_carriage_returns(path, lines)
    header, records = _records(path, text, lines)
    _check_shape(path, header, records)
    return header, [rec for _, rec in records], [row for row, _ in records]


def read_frame(path: Path | str) -> pd.DataFrame:
    """:func:`read_rows` as a frame of text cells (no type inference, nothing treated as missing);
    ``frame.attrs["rows"]`` holds each record's spreadsheet row."""
    header, rows, numbers = read_rows(path)
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame.attrs["rows"] = numbers
    return frame
