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
