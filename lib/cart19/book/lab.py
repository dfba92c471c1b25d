"""``make lab``: JupyterLab opens ``notebooks/*.md`` as notebooks (the jupytext viewer)."""
from __future__ import annotations

import json
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
