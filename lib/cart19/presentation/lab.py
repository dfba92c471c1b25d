"""``glue`` for chapters that are also read in JupyterLab.

The chapters glue every figure and table with ``display=False``: the book shows each once, where
its ``{glue:figure}`` / ``{glue:table}`` directive puts it, with its caption. In JupyterLab those
directives are plain text, so a chapter run there showed no figure and no table at all (issue 15,
item 6). :func:`glue` records the value exactly as ``myst_nb.glue(name, obj, display=False)``
does and, when the kernel was started by a Jupyter server (JupyterLab or Notebook: the server
sets ``JPY_SESSION_NAME`` in the kernel's environment), also displays figures, tables and
downloads as the cell's output. Under the book's build (papermill) and under nbval no server
starts the kernel, so the executed notebooks in book/ are the same as with ``myst_nb.glue``.

Why own code: myst-nb has no switch for "display only when interactive", and a second visible
output in the executed notebook would show every figure twice on the page.
"""
from __future__ import annotations

import numbers
import os

__all__ = ["glue", "in_jupyter_server"]


def in_jupyter_server() -> bool:
    """Whether this kernel was started by a Jupyter server session (JupyterLab, Notebook)."""
    return bool(os.environ.get("JPY_SESSION_NAME"))


def _shows(obj) -> bool:
    """Figures, tables, downloads, Markdown: anything but a plain number or string."""
    return not isinstance(obj, (numbers.Number, str, bytes, bool)) and obj is not None


def glue(name: str, obj, display: bool = False) -> None:
    """``myst_nb.glue(name, obj, display)``; in JupyterLab a hidden figure or table is also
    displayed (see the module docstring)."""
    from myst_nb import glue as _glue

    _glue(name, obj, display=display)
    if not display and in_jupyter_server() and _shows(obj):
        from IPython.display import display as _display

        _display(obj)
