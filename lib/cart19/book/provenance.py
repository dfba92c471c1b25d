"""Which sources a rendered page comes from: the commit the book's footer names.

The footer (``cart19.presentation.sphinx_book``) names the *sources commit*: the last commit that
changed anything the book is built from (:data:`SOURCES`: the chapters, the package, the data,
the executed notebooks and the book's configuration), its date, and whether the checkout holds
uncommitted changes to those paths. It is not ``HEAD``: a commit that touches only tests, the
README or the benchmarks changes no page, so it neither changes the footer nor re-renders the
book.

The same information is part of the render key (``cart19.book.render``), so the
html is re-rendered whenever the footer would change: committing a regenerated book makes the
next build name that commit, where the footer used to keep naming the commit before it (issue
15). Two builds of the same sources print the same footer: the date is the commit's, never the
clock's.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["SOURCES", "SOURCES_FILE", "pending_outputs", "source_commit", "toplevel"]

#: what a rendered page depends on, relative to the repository root
SOURCES = ("notebooks", "lib", "data", "book", "_config.yml", "_toc.yml")


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=10, check=True, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def toplevel(path: Path) -> str:
    """The root of the git checkout holding ``path`` ("" outside one)."""
    return _git(Path(path), "rev-parse", "--show-toplevel")


def source_commit(root: Path, pending: bool = False) -> dict[str, str]:
    """``{"commit", "short", "date", "dirty", "remote"}`` for the checkout holding ``root``: the
    last commit that changed :data:`SOURCES`, its committer date (YYYY-MM-DD), ``"yes"`` in
    ``dirty`` when those paths hold uncommitted changes (untracked files included, ignored ones
    not) or when ``pending`` (the build renders executed notebooks that differ from the committed
    ones and are not installed yet), and the ``origin`` remote. Empty strings when ``root`` is not
    in a git checkout."""
    top = toplevel(root)
    if not top:
        return {"commit": "", "short": "", "date": "", "dirty": "", "remote": ""}
    line = _git(Path(top), "log", "-1", "--format=%H %h %cs", "--", *SOURCES)
    commit, short, date = (line.split() + ["", "", ""])[:3] if line else ("", "", "")
    status = _git(Path(top), "status", "--porcelain", "--", *SOURCES)
    return {"commit": commit, "short": short, "date": date,
            "dirty": "yes" if status or pending else "",
            "remote": _git(Path(top), "remote", "get-url", "origin") if commit else ""}


def pending_outputs(book: Path, new_outputs: dict[str, Path]) -> bool:
    """Whether any executed notebook about to be rendered differs from ``book/<stem>.ipynb``."""
    for stem, path in new_outputs.items():
        old = Path(book) / f"{stem}.ipynb"
        if not old.is_file() or old.read_bytes() != Path(path).read_bytes():
            return True
    return False


#: the file of the staged source tree in which the build hands the footer its sources (JSON of
#: :func:`source_commit`), so that the footer and the render key say the same
SOURCES_FILE = ".cart19-sources.json"
