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
output in the executed notebook would show every figure twice on the page. The record itself
(:func:`record`) is myst-nb's four lines, written out here because importing ``myst_nb`` in a
kernel imports nbformat, jsonschema and rfc3987-syntax (which builds 38 lark grammars on import):
about 3 s of every chapter's 15 s, in the build, under nbval and in the determinism test. The
output is the same mimebundle and metadata as ``myst_nb.glue`` (tests/test_lab_glue.py).
"""
from __future__ import annotations

import numbers
import os

__all__ = ["GLUE_PREFIX", "glue", "in_jupyter_server", "record"]

#: the mime-type prefix under which myst-nb finds a hidden glued output (``myst_nb.ext.glue``)
GLUE_PREFIX = "application/papermill.record/"


def in_jupyter_server() -> bool:
    """Whether this kernel was started by a Jupyter server session (JupyterLab, Notebook)."""
    return bool(os.environ.get("JPY_SESSION_NAME"))


def _shows(obj) -> bool:
    """Figures, tables, downloads, Markdown: anything but a plain number or string."""
    return not isinstance(obj, (numbers.Number, str, bytes, bool)) and obj is not None


def record(name: str, obj, display: bool = False) -> None:
    """Exactly ``myst_nb.glue(name, obj, display)``: the object's display data, under
    :data:`GLUE_PREFIX` when hidden, with ``{"scrapbook": {"name", "mime_prefix"}}`` metadata."""
    from IPython.core.formatters import format_display_data
    from IPython.display import display as _display

    bundle, metadata = format_display_data(obj)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    _display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def glue(name: str, obj, display: bool = False) -> None:
    """``myst_nb.glue(name, obj, display)``; in JupyterLab a hidden figure or table is also
    displayed (see the module docstring)."""
    record(name, obj, display=display)
    if not display and in_jupyter_server() and _shows(obj):
        from IPython.display import display as _display

        _display(obj)
