"""One error type for bad input, so every message names file, column, row and rule."""
from __future__ import annotations

from pathlib import Path


class Cart19Error(Exception):
    """Base class for errors the command line reports without a traceback."""


class InputError(Cart19Error):
    """A data or parameter file broke a rule.

    The message always says which file, column, row and rule, in one line, so a user can go
    straight to the offending cell. ``row`` is numbered as a spreadsheet numbers it: the header is
    row 1 and blank lines count (a CSV loader gets it from :func:`cart19.csvfile.read_rows`); for a
    YAML file it is the line; for a frame checked in memory, its 1-based position.
    """

    def __init__(self, file, rule: str, column: str | None = None, row: int | None = None,
                 value=None):
        self.file = str(Path(file)) if file is not None else "<input>"
        self.rule = " ".join(str(rule).split())  # one line, whatever the rule's source printed
        self.column = column
        self.row = row
        self.value = value
        parts = [f"file {self.file}"]
        if column is not None:
            parts.append(f"column {column!r}")
        if row is not None:
            parts.append(f"row {row}")
        if value is not None:
            shown = repr(value.item() if hasattr(value, "item") and not isinstance(value, str) else value)
            parts.append(f"value {shown if len(shown) <= 80 else shown[:77] + '...'}")
        super().__init__(", ".join(parts) + f": {self.rule}")


class OutputError(Cart19Error):
    """A file could not be written (disk full, read-only, file-size limit, missing directory).

    Raised by :mod:`cart19.io` after it has removed its temporary file, so the message can say that
    the destination was left as it was."""

    def __init__(self, file, rule: str):
        self.file = str(file)
        self.rule = rule
        super().__init__(f"file {self.file}: {rule}")


def utf8_error(file, raw: bytes) -> InputError | None:
    """The InputError for a CSV whose bytes are not UTF-8, naming the row and column of the bad byte
    (None when the bytes decode). Shared by every CSV loader so each names the cell the same way."""
    import csv
    import io

    try:
        raw.decode("utf-8-sig")
        return None
    except UnicodeDecodeError as exc:
        line_no = raw[:exc.start].count(b"\n") + 1          # 1-based physical line; header is line 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        # a carriage return inside a line is not a line end here: csv would refuse it ("new-line
        # character seen in unquoted field"); only the field count of the prefix is wanted
        prefix = raw[line_start:exc.start].decode("utf-8", errors="replace").replace("\r", " ")
        header_line = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace").replace("\r", " ")
        try:
            header = next(csv.reader(io.StringIO(header_line)), [])
            field = len(next(csv.reader(io.StringIO(prefix)), [""])) - 1 if prefix else 0
        except csv.Error:
            header, field = [], -1
        col = header[field].strip() if 0 <= field < len(header) else None
        return InputError(file, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                          column=col, row=line_no)
