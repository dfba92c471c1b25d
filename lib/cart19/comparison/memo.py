"""The whole paper's reproduction kept on disk, so the book's kernels compute it once.

Every chapter shows a slice of one reproduction of the whole paper
(:func:`cart19.comparison.scorecard.compute_all`), so that a claim reads the same on every page. That
reproduction took 4-5 s of each chapter's run on 2 cores (a third of a one-chapter rebuild) and was
made anew by each of the build's 20 kernels, again by each of nbval's and of the determinism test's.
It is a pure function of five files (the claims, the cohort, the not-infused patients beside it, the
design and the readings) and of the code, so the result is pickled under ``.cache/cart19/reproduction/``
in a file named by the sha256 of: those files' bytes, every source file of the ``cart19`` package,
and the versions of Python and of the libraries that compute (numpy, pandas, scipy, lifelines,
statsmodels). Any change to any of them names another file; nothing is ever invalidated in place.

Why own code rather than ``joblib.Memory``: joblib keys a result on the cached function's own
source, not on the package code it calls, so an edit of ``reproduce.py`` would return a stale
result. The write is atomic (:func:`cart19.io.write_bytes`), so two kernels computing at once both
leave a whole file; an unreadable file is computed anew. ``CART19_NO_MEMO=1`` turns the cache off.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from cart19 import io, paths
from cart19.errors import OutputError

T = TypeVar("T")

#: environment variable that turns the disk cache off (any non-empty value)
OFF = "CART19_NO_MEMO"
#: results kept (the newest by time of writing); older files are removed after each write
KEEP = 16
#: libraries whose version is part of the key: they compute the numbers
LIBRARIES = ("numpy", "pandas", "scipy", "lifelines", "statsmodels")
PACKAGE = Path(__file__).resolve().parents[1]


def directory() -> Path:
    return paths.ROOT / ".cache" / "cart19" / "reproduction"


def _code_digest() -> bytes:
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*.py")):
        h.update(p.relative_to(PACKAGE).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.digest()


def key(files: list[Path | str]) -> str:
    """The sha256 naming the result for these input files (see the module docstring)."""
    h = hashlib.sha256()
    h.update(sys.version.encode() + b"\0")
    for lib in LIBRARIES:
        h.update(f"{lib}={metadata.version(lib)}\0".encode())
    h.update(_code_digest())
    for f in files:
        p = Path(f)
        h.update(b"\1" + (p.read_bytes() if p.exists() else b"(absent)") + b"\1")
    return h.hexdigest()


def cached(files: list[Path | str], compute: Callable[[], T]) -> T:
    """``compute()``, or its result as stored for the same ``files`` and code."""
    if os.environ.get(OFF):
        return compute()
    path = directory() / f"{key(files)}.pkl"
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError,
            ValueError, TypeError):
        pass  # absent, or cut by a crash of an older writer: compute it anew
    result = compute()
    try:
        io.write_bytes(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), parents=True)
        _prune(path.parent)
    except (OSError, OutputError):
        pass  # a read-only or full .cache costs time, never a result
    return result


def _prune(where: Path) -> None:
    """Keep the :data:`KEEP` newest results (tests and parameter runs write one per input)."""
    files = sorted(where.glob("*.pkl"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
