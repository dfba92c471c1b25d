"""One error type for bad input, so every message names file, column, row and rule."""
from __future__ import annotations

from pathlib import Path


class Cart19Error(Exception):
    """Base class for errors the command line reports without a traceback."""


class InputError(Cart19Error):
    """A data or parameter file broke a rule.

    The message always says which file, column, row (1-based data row, as a
    spreadsheet user counts them, header excluded) and rule, so a user can go
    straight to the offending cell.
    """

    def __init__(self, file, rule: str, column: str | None = None, row: int | None = None,
                 value=None):
        self.file = str(Path(file)) if file is not None else "<input>"
        self.rule = rule
        self.column = column
        self.row = row
        self.value = value
        parts = [f"file {self.file}"]
        if column is not None:
            parts.append(f"column {column!r}")
        if row is not None:
            parts.append(f"row {row}")
        if value is not None:
            parts.append(f"value {value!r}")
        super().__init__(", ".join(parts) + f": {rule}")


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
        prefix = raw[line_start:exc.start].decode("utf-8", errors="replace")
        header_line = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace")
        header = next(csv.reader(io.StringIO(header_line)), [])
        field = len(next(csv.reader(io.StringIO(prefix)), [""])) - 1 if prefix else 0
        col = header[field] if 0 <= field < len(header) else None
        return InputError(file, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                          column=col, row=line_no - 1 if line_no > 1 else None)
