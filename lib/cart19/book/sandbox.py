"""Where chapters run: a sandbox that stages their writes and traces their reads.

A chapter declares in its front matter the data files it reads and writes (``cart19: {reads: [...],
writes: [...]}``, paths from the repository root; a path ending in ``/`` is a directory the chapter
fills, e.g. scratch cohorts). The build runs every kernel in a *sandbox* root below ``.cache/build``:

- ``data/`` and ``notebooks/`` are mirrored as real directories whose files are symbolic links to
  the repository's files, so every read sees the real data; every other top-level entry (``lib``,
  ``book``, ``.cache`` ...) is one link. ``CART19_ROOT`` points at the sandbox and the kernel's
  working directory is its ``notebooks/``, so the chapters' relative paths (``../data/...``) and
  :mod:`cart19.paths` both resolve inside it.
- A declared written file is a real *copy* in the sandbox (or absent, when the manifest shows that
  the repository's copy was edited since the build wrote it: the chapter must then make it anew), so
  the chapter writes the sandbox, never ``data/``. The build installs what the chapters wrote,
  together with the notebooks, only when the whole build succeeded (:class:`cart19.io.Swap`).
- Every Python process of the kernel (the kernel and e.g. joblib workers: a ``sitecustomize`` on
  their ``PYTHONPATH``) installs an audit hook (:pep:`578`, :func:`install`) that refuses, with a
  ``PermissionError`` naming chapter and file, to open a file under ``data/`` that the front matter
  does not list in ``reads`` or ``writes``, and to write, rename or delete anything under ``data/``,
  ``book/`` or ``notebooks/`` that is not a declared write. Each refusal is also logged, so a refusal
  that the chapter's code caught still fails the build (:meth:`Sandbox.violations`).

Why a hook and not ``reads`` derived from the ``*_path`` parameters: library code opens files the
parameters do not name (e.g. ``not_infused.csv`` beside ``cohort_path``, the committed base cohort);
tracing the opens sees them all. The hook sees ``open`` and ``os.open`` (and so pandas, numpy and
``cart19.io``), renames and deletes; it cannot see a file read by a program that is not Python.

This module imports only the standard library: the kernel side runs in every kernel process.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

#: Environment variable that holds the path of a chapter's sandbox spec (JSON) in its kernels.
ENV = "CART19_SANDBOX"
#: Top-level directories of the repository that a chapter may not write outside its declared writes.
GUARDED = ("data", "book", "notebooks")
#: The directory whose reads must be declared.
TRACED = "data"
#: Prefix of cart19.io's temporary files (written beside a declared file, renamed over it).
IO_PREFIX = ".cart19-"
#: The ``sitecustomize`` module put first on the kernels' ``PYTHONPATH``. It loads this file by its
#: path (the kernel's ``cart19`` may be another checkout's, e.g. in the build's tests).
SITECUSTOMIZE = (
    "# written by the cart19 build: installs the sandbox's audit hook in every Python process\n"
    "# of a chapter's kernel (cart19.book.sandbox)\n"
    "import os\n"
    f"if os.environ.get({ENV!r}):\n"
    "    import importlib.util as _u\n"
    "    _spec = _u.spec_from_file_location('_cart19_sandbox', {file!r})\n"
    "    _m = _u.module_from_spec(_spec)\n"
    "    _spec.loader.exec_module(_m)\n"
    f"    _m.install(os.environ[{ENV!r}])\n"
    "    del _u, _spec, _m\n")


# ------------------------------------------------------------------------------------- kernel side
class _Rules:
    """What one chapter may read and write, from its spec (see :meth:`Sandbox.spec`)."""

    def __init__(self, spec: dict):
        self.chapter = spec["chapter"]
        self.roots = [os.path.join(r, "") for r in spec["roots"]]  # with a trailing separator
        self.sandbox = self.roots[0]
        self.reads = set(spec["reads"])
        self.files = {w for w in spec["writes"] if not w.endswith("/")}
        self.dirs = tuple(w for w in spec["writes"] if w.endswith("/"))
        # directories that hold a declared file or lead to a declared directory: cart19.io's
        # temporary files and mkdir of missing parents are allowed there
        self.parents = {os.path.dirname(w) for w in self.files}
        for w in [*self.files, *self.dirs]:
            d = os.path.dirname(w.rstrip("/"))
            while d:
                self.parents.add(d)
                d = os.path.dirname(d)

    def rel(self, path) -> tuple[str, bool] | None:
        """(path relative to the repository root, whether it is inside the sandbox), or None when
        ``path`` is not below a guarded directory."""
        if isinstance(path, int) or path is None:
            return None
        try:
            p = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return None
        for root in self.roots:
            if p.startswith(root):
                rel = p[len(root):]
                if rel.split(os.sep, 1)[0] in GUARDED:
                    return rel.replace(os.sep, "/"), root == self.sandbox
        return None

    def may_write(self, rel: str) -> bool:
        if rel in self.files or rel.startswith(self.dirs) or rel + "/" in self.dirs:
            return True
        d, name = rel.rsplit("/", 1) if "/" in rel else ("", rel)
        return name.startswith(IO_PREFIX) and d in self.parents

    def may_read(self, rel: str) -> bool:
        return (not rel.startswith(TRACED + "/") or rel in self.reads or self.may_write(rel)
                or rel in self.parents)


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_CHANGES = ("os.remove", "os.rmdir", "os.truncate", "shutil.rmtree", "os.mkdir")


class _Hook:
    """The audit hook of one chapter's process: refuses (and logs) what its front matter does not
    allow. Its own writes use a file descriptor opened before it was installed (no event)."""

    def __init__(self, rules: _Rules, log: int):
        self.rules, self.log = rules, log
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, event: str, args: tuple) -> None:
        if event == "open":
            self.on_open(*args)
        elif event == "os.rename":
            self.check_write(args[0])
            self.check_write(args[1])
        elif event in _CHANGES and not (event == "os.mkdir" and self.may_make(args[0])):
            self.check_write(args[0])

    def on_open(self, path, mode, flags) -> None:
        hit = self.rules.rel(path)
        if hit is None:
            return
        writing = (isinstance(flags, int) and flags & _WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+"))
        if writing:
            self.check_write(path)
        elif not self.rules.may_read(hit[0]):
            self.refuse("read", *hit)

    def may_make(self, path) -> bool:
        """A directory on the way to a declared write (cart19.io's ``parents=True``)."""
        hit = self.rules.rel(path)
        return hit is not None and hit[1] and (hit[0] in self.rules.parents or hit[0] == TRACED)

    def check_write(self, path) -> None:
        hit = self.rules.rel(path)
        if hit is not None and not (hit[1] and self.rules.may_write(hit[0])):
            self.refuse("write", *hit)

    def refuse(self, kind: str, rel: str, in_sandbox: bool) -> None:
        if (kind, rel) not in self.seen:
            self.seen.add((kind, rel))
            os.write(self.log, (json.dumps({"kind": kind, "file": rel, "pid": os.getpid()}) + "\n").encode())
        where = "" if in_sandbox else " (outside the build's sandbox: use a path relative to notebooks/)"
        raise PermissionError(f"cart19 build: chapter {self.rules.chapter} may not {kind} {rel}{where}: "
                              f"it is not in cart19.{kind}s of its front matter")


def install(spec_path: str) -> None:
    """Install the audit hook of the chapter whose spec is at ``spec_path`` (kernel side)."""
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    log = os.open(spec["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # before the hook
    os.write(log, (json.dumps({"kind": "installed", "pid": os.getpid()}) + "\n").encode())
    sys.addaudithook(_Hook(_Rules(spec), log))


# --------------------------------------------------------------------------------------- host side
class Sandbox:
    """The sandbox root of one build (see the module docstring); created on first use."""

    def __init__(self, repo: Path, where: Path):
        self.repo = Path(repo)
        self.root = Path(where) / "root"
        self.site = Path(where) / "site"
        self.specs = Path(where) / "specs"
        self._made = False

    def make(self) -> None:
        if self._made:
            return
        self.root.mkdir(parents=True)
        for entry in sorted(self.repo.iterdir()):
            if entry.name in (TRACED, "notebooks"):
                _mirror(entry, self.root / entry.name)
            else:
                (self.root / entry.name).symlink_to(entry)
        if not (self.root / TRACED).exists():
            (self.root / TRACED).mkdir()
        self.site.mkdir(parents=True)
        (self.site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(file=__file__),
                                                    encoding="utf-8")
        self.specs.mkdir(parents=True)
        self._made = True

    def path(self, rel: str) -> Path:
        return self.root / rel

    def stage_writes(self, writes: tuple[str, ...], trusted: dict[str, bool]) -> None:
        """Before a chapter runs: each declared file becomes a real copy of the repository's (when
        ``trusted[rel]``: not edited since the build wrote it), else absent; declared directories
        start absent (the chapter makes them)."""
        self.make()
        for rel in writes:
            target = self.root / rel.rstrip("/")
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
            real = self.repo / rel
            if not rel.endswith("/") and trusted.get(rel, True) and real.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(real, target)

    def place(self, rel: str, source: Path) -> None:
        """Put a file written by an earlier run of the chapter (kept in .cache) at ``rel``."""
        self.make()
        target = self.root / rel.rstrip("/")
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)

    def spec(self, stem: str, reads: tuple[str, ...], writes: tuple[str, ...]) -> dict[str, str]:
        """The environment of one chapter's kernel: its spec file and the sitecustomize."""
        self.make()
        spec = {"chapter": stem, "roots": [str(self.root), str(self.repo)], "reads": list(reads),
                "writes": list(writes), "log": str(self.specs / f"{stem}.log")}
        path = self.specs / f"{stem}.json"
        path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
        (self.specs / f"{stem}.log").write_text("")
        pythonpath = os.environ.get("PYTHONPATH", "")
        return {ENV: str(path), "CART19_ROOT": str(self.root),
                "PYTHONPATH": os.pathsep.join([str(self.site)] + ([pythonpath] if pythonpath else []))}

    def violations(self, stem: str) -> list[str]:
        """One line per file the chapter was refused (read or written outside its front matter);
        a line saying so when the hook never started in its kernel."""
        log = self.specs / f"{stem}.log"
        lines = []
        seen = set()
        records = [json.loads(line) for line in
                   (log.read_text(encoding="utf-8").splitlines() if log.exists() else [])]
        if not any(rec["kind"] == "installed" for rec in records):
            return ["the sandbox's audit hook did not start in its kernel (reads are not traced)"]
        for rec in records:
            if rec["kind"] == "installed":
                continue
            if (rec["kind"], rec["file"]) not in seen:
                seen.add((rec["kind"], rec["file"]))
                lines.append(f"{rec['kind']}s {rec['file']}, which is not in cart19.{rec['kind']}s")
        return lines

    def written(self, writes: tuple[str, ...]) -> dict[str, Path]:
        """The declared writes present in the sandbox after the chapter ran: ``{rel: path}``."""
        out = {}
        for rel in writes:
            p = self.root / rel.rstrip("/")
            if p.exists() and not p.is_symlink():
                out[rel] = p
        return out


def _mirror(src: Path, dest: Path) -> None:
    """``dest``: real directories like ``src``'s, each file a symbolic link to ``src``'s file."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        target = dest / rel if rel != "." else dest
        target.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            (target / name).symlink_to(os.path.join(dirpath, name))
        for name in [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            (target / name).symlink_to(os.path.join(dirpath, name))  # not walked: linked as one
            dirnames.remove(name)
        dirnames.sort()
