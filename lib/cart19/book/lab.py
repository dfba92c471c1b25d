"""``make lab``: JupyterLab opens ``notebooks/*.md`` as notebooks (the jupytext viewer) and shows
their glue captions (:class:`LabContentsManager`, ``--ServerApp.contents_manager_class``)."""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

from cart19 import io


LAB_OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}


def lab_settings() -> Path:
    """Make JupyterLab (in this venv) open .md files as notebooks by default (jupytext viewer)."""
    path = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(LAB_OVERRIDES)
    io.write_text(path, json.dumps(current, indent=2) + "\n")
    return path


# ------------------------------------------------------------------------------------------------
# The chapters' glue directives, as JupyterLab's MyST renderer can show them
# ------------------------------------------------------------------------------------------------
#: a glue directive's opening line: fence, name ("glue", "glue:figure", ...), the rest of the line
_GLUE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>glue(?::[a-z]+)?)\}(?P<rest>(?:[ \t].*)?)$",
                        re.M)
#: the same directive as JupyterLab sees it (:func:`to_lab`)
_LAB_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{div\}\n:cart19-glue: (?P<name>glue(?::[a-z]+)?)"
                       r"(?P<rest>(?:[ \t].*)?)$", re.M)
LAB_MARK = ":cart19-glue:"


def to_lab(source: str) -> str:
    """A markdown cell as JupyterLab is to show it: each ``{glue:figure}`` / ``{glue:table}`` /
    ``{glue:md}`` / ``{glue}`` directive becomes a ``{div}`` whose first option,
    ``:cart19-glue: <name> <argument>``, keeps what it was. jupyterlab-myst (mystmd) knows no glue
    directive and drew each as a red "Unknown Directive" box hiding its caption; it draws a
    ``{div}`` as its body, so the caption reads under the figure or table that
    :func:`cart19.presentation.lab.glue` displays above it (unknown options such as ``:name:``
    are ignored). Only the opening line changes, so :func:`from_lab` restores the text exactly."""
    if LAB_MARK in source:
        raise ValueError(f"a chapter's markdown already holds {LAB_MARK!r}: it cannot be restored")
    return _GLUE_OPEN.sub(lambda m: f"{m['fence']}{{div}}\n{LAB_MARK} {m['name']}{m['rest']}", source)


def from_lab(source: str) -> str:
    """The inverse of :func:`to_lab` (the glue directives back, byte for byte)."""
    return _LAB_OPEN.sub(lambda m: f"{m['fence']}{{{m['name']}}}{m['rest']}", source)


def _cells(nb, fn) -> None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else src
            cell["source"] = fn(text)


def _lab_manager_class():
    """A jupytext contents manager (what JupyterLab uses for notebooks/*.md) that hands Lab the
    chapters' markdown through :func:`to_lab` and writes it back through :func:`from_lab`."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    base = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)

    class LabContentsManager(base):
        async def get(self, path, content=True, type=None, format=None, **kwargs):
            model = await super().get(path, content=content, type=type, format=format, **kwargs)
            if content and model.get("type") == "notebook" and model.get("content"):
                _cells(model["content"], to_lab)
            return model

        async def save(self, model, path=""):
            if model.get("type") == "notebook" and model.get("content"):
                model = dict(model, content=copy.deepcopy(model["content"]))
                _cells(model["content"], from_lab)
            return await super().save(model, path)

    LabContentsManager.__module__ = __name__
    LabContentsManager.__qualname__ = "LabContentsManager"
    return LabContentsManager


def __getattr__(name: str):
    # built on first use: importing this module (the build does) needs neither jupyter_server
    # nor jupytext's contents manager
    if name == "LabContentsManager":
        cls = _lab_manager_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
