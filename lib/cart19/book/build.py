"""The book build: ``python -m cart19 build [-p NAME VALUE ...] [--jobs N] [--only NN] [--no-render]``.

Every ``notebooks/NN_*.md`` (MyST text notebook) whose inputs changed is executed with papermill into
``book/NN_*.ipynb``, then the book is rendered by jupyter-book 1.x (``execute_notebooks: off``, warnings
are errors) into ``book/_build/html``. This module is the command line and the driver; the machinery
is split by job:

- :mod:`~cart19.book.layout` paths, conventions, content hashes; :mod:`~cart19.book.params` parameters;
- :mod:`~cart19.book.imports` the import graph; :mod:`~cart19.book.chapters` the chapters and their
  order; :mod:`~cart19.book.keys` cache keys and the manifest;
- :mod:`~cart19.book.plan` every check before a kernel starts; :mod:`~cart19.book.schedule` running
  what changed and installing the results in one step;
- :mod:`~cart19.book.execute`, :mod:`~cart19.book.sandbox`, :mod:`~cart19.book.kernels` one
  chapter's execution (their files are part of every key); :mod:`~cart19.book.render` rendering;
  :mod:`~cart19.book.lab` JupyterLab's settings.

Atomic and strict: chapters run in a sandbox and execute into a temp dir; the book renders from a
staged source tree; only when everything succeeded are the notebooks, the manifest, the chapters'
written files and the html installed, as one step. A failing cell stops the build naming chapter,
cell and exception; Ctrl-C or SIGTERM stop it at once, killing its kernels.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from cart19 import io
from cart19.book import provenance
from cart19.book import render as R
from cart19.book.execute import _kernel_env
from cart19.book.keys import build_code_hash, inputs_of, key_of, load_manifest, outputs_stale, why
from cart19.book.lab import lab_settings
from cart19.book.layout import TOC_MARKER, BuildError, Layout, progress, sha256_path
from cart19.book.plan import plan, preflight
from cart19.book.schedule import Build, _kill_kernels
from cart19.errors import InputError
from cart19.paths import ROOT


class Interrupted(BaseException):
    """SIGTERM (or SIGHUP) received: raised in the main thread like KeyboardInterrupt for SIGINT."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _signal_name(exc: BaseException) -> str:
    return "SIGINT (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else signal.Signals(exc.signum).name


def _stopped(exc: BaseException, build: Build, killed: int, seconds: float) -> str:
    """The one line a stopped build prints: what it stopped and what it kept."""
    done = build.counts["executed"]
    if build.installed:
        kept = "the new book had been installed (book/, data/ and the html are the new ones)"
    else:
        kept = "nothing installed: book/, data/ and the html are as they were"
        if done:
            kept += (f"; {done} chapter(s) executed before the stop are kept in .cache/build/outputs "
                     "and reused by the next build")
    return (f"build: stopped by {_signal_name(exc)} after {seconds:.1f} s, {killed} kernel(s) killed; "
            f"{kept}")


@contextlib.contextmanager
def build_lock(layout: Layout, required: bool = True):
    """One build at a time per checkout (others may run `make book` concurrently). Without
    ``required`` (``--check``, which writes nothing) a cache that cannot be written means no lock."""
    try:
        layout.cache.mkdir(parents=True, exist_ok=True)
        fh = open(layout.cache / "build.lock", "w")  # noqa: SIM115 (closed below)
    except OSError as exc:
        if not required:
            yield
            return
        where = next((p for p in [layout.cache, *layout.cache.parents] if p.exists()), layout.root)
        raise io.OutputError(layout.rel(where) if where.is_relative_to(layout.root) else where,
                             f"is not writable ({io.describe_os_error(exc)}): nothing executed, "
                             "nothing changed") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("build: another build of this checkout is running; waiting for it", flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def run(layout: Layout, overrides: list[tuple[str, str]] | None = None, jobs: int | None = None,
        only: list[str] | None = None, render_book: bool = True, force: bool = False) -> dict:
    """Build the book; returns counts ``{"executed": n, "cached": n, "rendered": bool, ...}``."""
    t0 = time.perf_counter()
    for line in io.recover(layout.journal):  # an install that a killed build left half done
        print(f"build: {line}", flush=True)
    pl = plan(layout, overrides or [], only)
    preflight(layout, pl, render_book)
    jobs = max(1, jobs or os.cpu_count() or 1)
    _kernel_env(layout)
    print(f"build: {len(pl.selected)} notebooks, {jobs} parallel jobs", flush=True)
    build = Build(layout, pl, force)
    try:
        build.execute_all(jobs)
        toc = R.check_toc(layout, pl.notebooks)
        if pl.unbuilt and render_book:
            if not toc.startswith(TOC_MARKER):
                raise BuildError(f"never built: {', '.join(pl.unbuilt)}; drop --only or build them")
            toc = R.toc_text([nb for nb in pl.notebooks if nb.stem not in pl.unbuilt])
            print(f"build: not in this render (never built): {', '.join(pl.unbuilt)}", flush=True)
        rendered = False
        t_render = time.perf_counter()
        html = None
        if render_book:
            files = R.stage_files(layout, toc, build.new_outputs)
            # the footer names the sources commit (cart19.book.provenance); it is in the key
            sources = provenance.source_commit(
                layout.root, pending=provenance.pending_outputs(layout.book, build.new_outputs))
            key = R.render_key(files, sources)
            if build.new_outputs or force or R.current_render_key(layout) != key:
                html = R.render(layout, files, key, sources)
                rendered = True
        build.install(html)
        render_s = time.perf_counter() - t_render
    except (KeyboardInterrupt, Interrupted) as exc:
        exc.summary = _stopped(exc, build, _kill_kernels(), time.perf_counter() - t0)
        raise
    finally:
        shutil.rmtree(build.tmp, ignore_errors=True)
    total = time.perf_counter() - t0
    counts = build.counts
    render_note = (f"rendered in {render_s:.1f} s -> {layout.rel(layout.html)}" if rendered else
                   "render skipped (--no-render)" if not render_book else "render up to date")
    print(f"build: {counts['executed']} executed, {counts['cached']} cached, {counts['failed']} failed; "
          f"{render_note}; total {total:.1f} s", flush=True)
    return {**counts, "rendered": rendered, "seconds": total}


def check(layout: Layout) -> int:
    """Print which committed notebooks are stale (would be re-executed); 1 if any, else 0."""
    pl = plan(layout, [], None)
    lock_sha = sha256_path(layout.lock) if layout.lock.exists() else ""
    graph = pl.graph
    entries = load_manifest(layout)["notebooks"]
    build_code = build_code_hash()
    stale = 0
    for nb in pl.notebooks:
        inputs = inputs_of(nb, layout, graph, pl.param_values, lock_sha, build_code)
        old = entries.get(nb.stem, {})
        bad = outputs_stale(nb, old, layout)
        if old.get("key") == key_of(inputs) and bad is None:
            progress("current", nb.stem, None)
        else:
            stale += 1
            progress("stale", nb.stem, None, f"({why(old.get('inputs'), inputs, bad)})")
    print(f"check: {stale} stale of {len(pl.notebooks)}")
    return 1 if stale else 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m cart19 build", description=__doc__.split("\n\n")[0])
    ap.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                    help="override a parameter of notebooks/params.yml for this build")
    ap.add_argument("--jobs", "-j", type=int, default=None, help="parallel kernels (default: all cores)")
    ap.add_argument("--only", nargs="+", metavar="NN", help="execute only these notebooks (NN or stem)")
    ap.add_argument("--no-render", action="store_true", help="execute but do not render the html")
    ap.add_argument("--force", action="store_true", help="ignore the cache: execute everything")
    ap.add_argument("--check", action="store_true", help="list stale notebooks, execute nothing")
    ap.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab-settings"]:
        print(f"lab: {lab_settings()}")
        return 0
    args = _parser().parse_args(argv)
    layout = Layout((args.root or ROOT).resolve())
    if args.jobs is not None and args.jobs < 1:
        raise InputError("command line (--jobs)", "must be a positive integer", value=args.jobs)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)
    # Ctrl-C raises KeyboardInterrupt even when the build was started with SIGINT ignored (a
    # background job of a non-interactive shell), so `kill -INT` always stops it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with build_lock(layout, required=not args.check):
            if args.check:
                return check(layout)
            try:
                run(layout, [tuple(p) for p in args.param], args.jobs, args.only,
                    render_book=not args.no_render, force=args.force)
            except BuildError as exc:
                print(f"build: FAILED: {exc}", file=sys.stderr, flush=True)
                return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        line = getattr(exc, "summary", None) or (f"build: stopped by {_signal_name(exc)} before any "
                                                 "chapter started; nothing changed")
        print(line, file=sys.stderr, flush=True)
        sys.stdout.flush()
        # now, without waiting for the worker threads of the killed kernels (they would only
        # notice the dead kernels after nbclient's timeouts); every file is closed or rolled back
        os._exit(130 if isinstance(exc, KeyboardInterrupt) else 128 + exc.signum)
    return 0


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted(signum)


if __name__ == "__main__":
    raise SystemExit(main())
