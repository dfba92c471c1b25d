"""Atomic writes: a file under ``data/``, ``book/`` or the html is either the old one or the new one.

Every writer of the repository's files goes through here (the reconstruction's cohort files, the
chapters' written statistics, the build's notebooks, manifest and html). Why our own code: the
standard library has the pieces (``os.replace`` is atomic on POSIX, ``os.fsync``) but no helper that
writes aside in the same directory, syncs, and cleans up on failure, and no way to replace *several*
files or directories as one step; a crash between two ``os.replace`` calls would leave a mix.

Single files::

    from cart19 import io
    io.write_text(path, text)                  # or write_bytes, write_json, write_csv(path, df, **to_csv)
    with io.atomic_open(path, "wb") as fh:     # anything that writes to a file object (np.savez ...)
        np.savez_compressed(fh, a=a)

The data goes to a hidden temporary file beside ``path`` (same directory, so the rename never crosses
a file system), is flushed and fsynced, then renamed over ``path``; the directory is fsynced too.
On any failure (disk full, read-only file system, file-size limit, a signal) the temporary file is
removed, ``path`` is untouched and :class:`cart19.errors.OutputError` names the file and the reason.
The parent directory must exist (``parents=True`` creates it): a mistyped ``--out`` is refused
rather than silently creating directories.

A set of files or directories::

    with io.Swap(journal_dir) as swap:          # e.g. .cache/journal
        swap.add(dest, new)                     # new: a file or directory holding the new content
        ...
    # on leaving the block without an exception, every dest holds its new content

:class:`Swap` first moves (or copies) every new item beside its destination, then writes a journal,
then renames each destination aside and the new item in, marks the journal committed and deletes
the old items. POSIX cannot rename several paths at once, so a crash (power loss, SIGKILL) in the
middle leaves the journal behind; :func:`recover` (called at the start of every ``python -m cart19``
command) then puts every destination back as it was before the swap, or, if the journal says
committed, finishes deleting the old items. Either way no destination is left half-replaced.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from cart19.errors import OutputError

__all__ = ["atomic_open", "write_bytes", "write_text", "write_json", "write_csv", "write_all", "Swap",
           "recover", "default_journal_dir",
           "OutputError", "fsync_dir", "describe_os_error"]

#: Prefix of the hidden files written beside a destination (temporary, new and old items).
PREFIX = ".cart19-"


def describe_os_error(exc: OSError) -> str:
    """A short reason for a failed write, in words a user acts on."""
    reasons = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
               errno.EPERM: "operation not permitted", errno.EFBIG: "file too large (file-size limit)",
               errno.ENOENT: "directory does not exist", errno.ENOTDIR: "a parent is not a directory",
               errno.EISDIR: "is a directory", errno.EXDEV: "crosses file systems"}
    return reasons.get(exc.errno, exc.strerror or type(exc).__name__)


def fsync_dir(path: Path) -> None:
    """Make a rename in directory ``path`` durable (best effort: some file systems refuse it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_parent(path: Path, parents: bool) -> None:
    parent = path.parent
    if parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(path, f"cannot create its directory: {describe_os_error(exc)}") from None
    elif not parent.is_dir():
        raise OutputError(path, f"directory {parent} does not exist (nothing written)")
    if path.is_dir():
        raise OutputError(path, "is a directory (nothing written)")


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w", *, parents: bool = False,
                encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[Any]:
    """A file object writing to a temporary file beside ``path``; renamed over ``path`` when the
    block ends without an exception (after flush and fsync). ``mode``: "w" (text) or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', not {mode!r}")
    path = Path(path)
    _check_parent(path, parents)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{PREFIX}tmp-{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, f"cannot write: {describe_os_error(exc)} (nothing changed)") from None
    ok = False
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(path, tmp)
        os.replace(tmp, path)
        ok = True
    except OSError as exc:
        raise OutputError(path, f"cannot write: {describe_os_error(exc)} (nothing changed)") from None
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    fsync_dir(path.parent)


def _keep_mode(path: Path, tmp: str) -> None:
    """The new file gets the old one's permission bits (mkstemp makes it 0600), else 0644 less umask."""
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def write_bytes(path: Path | str, data: bytes, *, parents: bool = False) -> Path:
    with atomic_open(path, "wb", parents=parents) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: Path | str, text: str, *, parents: bool = False, encoding: str = "utf-8") -> Path:
    # newline="" : write the text's own line ends (no platform translation)
    with atomic_open(path, "w", parents=parents, encoding=encoding, newline="") as fh:
        fh.write(text)
    return Path(path)


def write_json(path: Path | str, obj: Any, *, parents: bool = False, indent: int | None = 1,
               sort_keys: bool = True, **dump_kwargs) -> Path:
    """``obj`` as JSON with a final newline (sorted keys by default: deterministic bytes)."""
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, **dump_kwargs) + "\n"
    return write_text(path, text, parents=parents)


def write_csv(path: Path | str, frame, *, parents: bool = False, **to_csv_kwargs) -> Path:
    """``frame.to_csv(path, **to_csv_kwargs)`` atomically (defaults: ``index=False``, ``"\\n"`` line
    ends)."""
    to_csv_kwargs.setdefault("index", False)
    to_csv_kwargs.setdefault("lineterminator", "\n")
    with atomic_open(path, "w", parents=parents, newline="") as fh:
        frame.to_csv(fh, **to_csv_kwargs)
    return Path(path)


# -------------------------------------------------------------------------------- a set of paths
def write_all(contents: dict, journal_dir: Path | str | None = None) -> list[Path]:
    """Write several files as one step: ``{path: str | bytes}`` (str is written as UTF-8).

    Each content goes to a temporary file beside its path first (a failure there changes nothing),
    then :class:`Swap` installs them all. ``journal_dir``: default ``$CART19_ROOT/.cache/journal``
    (:func:`journal_dir`)."""
    temps: list[Path] = []
    swap = Swap(journal_dir or default_journal_dir())
    try:
        for path, data in contents.items():
            path = Path(path)
            _check_parent(path, False)
            tmp = path.parent / f"{PREFIX}tmp-{os.getpid()}-{len(temps)}-{path.name}"
            temps.append(tmp)
            write_bytes(tmp, data.encode("utf-8") if isinstance(data, str) else data)
            swap.add(path, tmp)
        swap.commit()
    finally:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return [Path(p) for p in contents]


def default_journal_dir() -> Path:
    """Where swaps keep their journal: ``.cache/journal`` below the repository root."""
    from cart19.paths import ROOT
    return ROOT / ".cache" / "journal"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


class Swap:
    """Replace several files or directories as one step (see the module docstring).

    ``journal_dir``: where the journal of this swap is kept while it runs (created if needed).
    ``move``: new items on the destination's file system are renamed beside it (cheap), otherwise
    copied; with ``move=False`` they are always copied (the caller keeps its new items).
    """

    def __init__(self, journal_dir: Path | str, move: bool = True):
        self.journal_dir = Path(journal_dir)
        self.move = move
        self.items: list[tuple[Path, Path, bool]] = []  # (destination, new content, copy it)

    def add(self, dest: Path | str, new: Path | str, copy: bool | None = None) -> None:
        """Install ``new`` (a file or directory) at ``dest`` on commit. ``copy``: copy even where a
        rename would do (the caller keeps ``new``); default: the swap's ``move`` setting."""
        dest, new = Path(dest), Path(new)
        if not new.exists():
            raise FileNotFoundError(new)
        if any(d == dest for d, _, _ in self.items):
            raise ValueError(f"{dest} added twice to one swap")
        self.items.append((dest, new, (not self.move) if copy is None else copy))

    def __enter__(self) -> Swap:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()

    def commit(self) -> None:
        if not self.items:
            return
        try:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            fd, journal = tempfile.mkstemp(prefix="swap-", suffix=".json", dir=self.journal_dir)
        except OSError as exc:
            raise OutputError(self.journal_dir, f"cannot write the swap journal: "
                                                f"{describe_os_error(exc)} (nothing changed)") from None
        lock = os.fdopen(fd, "r+")
        journal = Path(journal)
        entries = self._plan(journal)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # recover() leaves a journal alone while it is held
            self._write_journal(journal, "placing", entries)
            self._place(entries)
            self._write_journal(journal, "prepared", entries)
            for e in entries:  # the step that recover() may have to undo
                dest = Path(e["dest"])
                if e["existed"]:
                    os.rename(dest, e["old"])
                os.rename(e["new"], dest)
            for d in {Path(e["dest"]).parent for e in entries}:
                fsync_dir(d)
            self._write_journal(journal, "committed", entries)
        except BaseException as exc:
            _rollback(entries)
            journal.unlink(missing_ok=True)
            lock.close()
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                name = getattr(exc, "filename", None)
                where = name if isinstance(name, str) else entries[0]["dest"]
                raise OutputError(where, f"cannot install: {describe_os_error(exc)} "
                                         "(nothing changed)") from None
            raise
        _finish(entries)
        journal.unlink(missing_ok=True)
        lock.close()

    def _plan(self, journal: Path) -> list[dict]:
        """Where each new item goes beside its destination, and where the old one is put aside."""
        tag = journal.stem.removeprefix("swap-")
        entries = []
        for dest, new, copy in self.items:
            if not dest.parent.is_dir():
                journal.unlink(missing_ok=True)
                raise OutputError(dest, f"directory {dest.parent} does not exist (nothing changed)")
            entries.append({"dest": str(dest), "source": str(new), "copy": copy,
                            "new": str(dest.parent / f"{PREFIX}new-{tag}-{dest.name}"),
                            "old": str(dest.parent / f"{PREFIX}old-{tag}-{dest.name}"),
                            "existed": dest.exists() or dest.is_symlink()})
        return entries

    def _place(self, entries: list[dict]) -> None:
        """Every new item beside its destination (renamed or copied); nothing else changes yet."""
        for e in entries:
            new, beside = Path(e["source"]), Path(e["new"])
            if not e["copy"] and _same_device(new, beside.parent):
                os.rename(new, beside)
            elif new.is_dir():
                shutil.copytree(new, beside, symlinks=True)
            else:
                shutil.copy2(new, beside)
                with open(beside, "rb+") as fh:
                    os.fsync(fh.fileno())

    @staticmethod
    def _write_journal(journal: Path, state: str, entries: list[dict]) -> None:
        text = json.dumps({"state": state, "entries": entries}, indent=1)
        tmp = journal.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, journal)
        fsync_dir(journal.parent)


def _rollback(entries: list[dict]) -> list[str]:
    """Undo a swap that did not commit; return the destinations put back."""
    restored = []
    for e in reversed(entries):
        dest, new, old = Path(e["dest"]), Path(e["new"]), Path(e["old"])
        new_in_place = not (new.exists() or new.is_symlink())
        if e["existed"]:
            if old.exists() or old.is_symlink():  # dest was moved aside: put it back
                if new_in_place and (dest.exists() or dest.is_symlink()):
                    _remove(dest)
                os.rename(old, dest)
                restored.append(str(dest))
        elif new_in_place and (dest.exists() or dest.is_symlink()):
            _remove(dest)  # a destination that did not exist before
            restored.append(str(dest))
        if new.exists() or new.is_symlink():
            _remove(new)
    return restored


def _finish(entries: list[dict]) -> None:
    for e in entries:
        old = Path(e["old"])
        if old.exists() or old.is_symlink():
            with contextlib.suppress(OSError):
                _remove(old)


def recover(journal_dir: Path | str | None = None) -> list[str]:
    """Repair every swap in ``journal_dir`` that was interrupted (its process died): undo it when it
    had not committed, finish it when it had. Returns one line per repaired swap (empty: nothing to
    do). A journal whose swap is still running (its lock is held) is left alone."""
    journal_dir = Path(journal_dir) if journal_dir is not None else default_journal_dir()
    if not journal_dir.is_dir():
        return []
    lines = []
    for journal in sorted(journal_dir.glob("swap-*.json")):
        try:
            fh = open(journal, "r+", encoding="utf-8")
        except OSError:
            continue
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # in progress in another process
            try:
                data = json.loads(fh.read() or "{}")
            except ValueError:
                data = {}
            entries = data.get("entries", [])
            if data.get("state") == "committed":
                _finish(entries)
                lines.append(f"finished an interrupted install of {len(entries)} item(s)")
            elif entries:
                restored = _rollback(entries)
                lines.append(f"undid an interrupted install: {len(restored)} item(s) put back as they were"
                             + (f" ({', '.join(restored)})" if restored else ""))
            journal.unlink(missing_ok=True)
    for tmp in journal_dir.glob("swap-*.tmp"):
        tmp.unlink(missing_ok=True)
    return lines
