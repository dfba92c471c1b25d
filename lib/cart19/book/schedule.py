"""Running the chapters that changed, in order, and installing their results in one step.

:class:`Build` decides per chapter whether its committed (or kept) results are current
(:mod:`cart19.book.keys`), runs the others in the sandbox (:mod:`cart19.book.sandbox`), ``jobs`` at a
time in dependency order (``graphlib.TopologicalSorter``), and installs notebooks, manifest, written
files and html as one :class:`cart19.io.Swap`. Interrupted, it kills its kernels at once.
"""
from __future__ import annotations

import contextlib
import graphlib
import logging
import shutil
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from cart19 import io
from cart19.book import execute as X
from cart19.book.chapters import Notebook
from cart19.book.keys import (build_code_hash, dump_manifest, inputs_of, key_of, load_manifest,
                              outputs_stale, why, written_files)
from cart19.book.layout import BUILD_FORMAT, MANIFEST_NAME, BuildError, Layout, progress, sha256_path
from cart19.book.plan import Plan
from cart19.book.sandbox import Sandbox


@dataclass
class Job:
    """One chapter to execute in this build."""

    nb: Notebook
    key: str
    inputs: dict
    reason: str
    out_path: Path


class Build:
    """One run of the build (:func:`run`): decide what executes, execute it in the sandbox, and
    install the results -- notebooks, manifest, the files chapters wrote, the html -- as one step."""

    def __init__(self, layout: Layout, pl: Plan, force: bool):
        self.layout, self.pl, self.force = layout, pl, force
        self.lock_sha = sha256_path(layout.lock) if layout.lock.exists() else ""
        self.graph = pl.graph
        self.build_code = build_code_hash()
        self.entries: dict = load_manifest(layout)["notebooks"]
        self.new_entries: dict[str, dict] = {}
        self.new_outputs: dict[str, Path] = {}
        self.new_writes: dict[str, Path] = {}  # rel -> the file or directory a chapter wrote
        self.counts = {"executed": 0, "cached": 0, "failed": 0}
        layout.cache.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="exec-", dir=layout.cache))
        self.sandbox = Sandbox(layout.root, self.tmp / "sandbox")
        self.stopping = False
        self.installed = False
        if "cart19.book.kernels" in sys.modules:  # a stopped build earlier in this process
            sys.modules["cart19.book.kernels"].reset()

    def resolve(self, rel: str) -> Path:
        """Where a chapter's read file is now: written earlier in this build, or the repository's."""
        return self.new_writes.get(rel, self.layout.root / rel)

    def consider(self, nb: Notebook) -> Job | None:
        """The job that executes ``nb``, or None when its committed or kept results are current."""
        inputs = inputs_of(nb, self.layout, self.graph, self.pl.param_values, self.lock_sha,
                           self.build_code, self.resolve)
        key = key_of(inputs)
        old = self.entries.get(nb.stem, {})
        stale = outputs_stale(nb, old, self.layout)
        if not self.force and old.get("key") == key and stale is None:
            self.counts["cached"] += 1
            progress("cached", nb.stem, None)
            return None
        kept = self.layout.cache / "outputs" / key
        if not self.force and (kept / "notebook.ipynb").exists():
            # executed by an earlier build that then failed elsewhere: reuse, don't redo
            self.counts["cached"] += 1
            progress("cached", nb.stem, None, "(from an earlier, unfinished build)")
            out_path = self.tmp / f"{nb.stem}.ipynb"
            shutil.copyfile(kept / "notebook.ipynb", out_path)
            for rel in nb.writes:
                if (kept / "files" / rel).exists():
                    self.sandbox.place(rel, kept / "files" / rel)
            self.finished(Job(nb, key, inputs, "kept", out_path), keep=False)
            return None
        reason = "forced" if self.force else why(old.get("inputs"), inputs, stale)
        recorded = old.get("writes") or {}
        current = written_files(nb, self.layout.root)
        self.sandbox.stage_writes(nb.writes, {rel: rel not in recorded or recorded[rel] == sha
                                              for rel, sha in current.items()})
        return Job(nb, key, inputs, reason, self.tmp / f"{nb.stem}.ipynb")

    def run_job(self, job: Job) -> float:
        """In a worker thread: execute the chapter; BuildError when it failed or broke its sandbox."""
        nb = job.nb
        parameters = {k: self.pl.param_values[k] for k in nb.cell_params if k in self.pl.param_values}
        t = time.perf_counter()
        try:
            X.execute(nb, parameters, job.out_path, self.layout, sandbox=self.sandbox)
        finally:
            broken = self.sandbox.violations(nb.stem)
        if broken:
            raise BuildError(f"{self.layout.rel(nb.source)}: " + "; ".join(broken)
                             + " (front matter)")
        missing = [w for w in nb.writes if not w.endswith("/") and w not in self.sandbox.written(nb.writes)]
        if missing:
            raise BuildError(f"{self.layout.rel(nb.source)}: did not write {', '.join(missing)} "
                             "(listed in cart19.writes)")
        return time.perf_counter() - t

    def finished(self, job: Job, keep: bool = True) -> None:
        """A chapter's results, in the sandbox and the temp dir, ready to install; ``keep``: also in
        .cache/build/outputs, reused by the next build if this one fails elsewhere."""
        nb = job.nb
        written = self.sandbox.written(nb.writes)
        self.new_writes.update(written)
        self.new_outputs[nb.stem] = job.out_path
        self.new_entries[nb.stem] = {
            "key": job.key, "inputs": job.inputs, "output_sha256": sha256_path(job.out_path),
            "writes": {rel: sha256_path(p) for rel, p in written.items() if not rel.endswith("/")}}
        if keep:
            kept = self.layout.cache / "outputs" / job.key
            shutil.rmtree(kept, ignore_errors=True)
            (kept / "files").mkdir(parents=True)
            for rel, p in written.items():
                dest = kept / "files" / rel.rstrip("/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if p.is_dir() else shutil.copyfile)(p, dest)
            shutil.copyfile(job.out_path, kept / "notebook.ipynb")

    def execute_all(self, jobs: int) -> None:
        """Every selected chapter, in dependency order (graphlib), ``jobs`` kernels at a time."""
        order_ = graphlib.TopologicalSorter(self.pl.deps)
        order_.prepare()  # cycles were refused by order()
        by_stem = {nb.stem: nb for nb in self.pl.selected}
        errors: list[str] = []
        running: dict = {}
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            while order_.is_active():
                ready = order_.get_ready() if not errors else ()
                for stem in ready:
                    job = self.consider(by_stem[stem])
                    if job is None:
                        order_.done(stem)
                    else:
                        running[pool.submit(self.run_job, job)] = job
                if ready and not running:
                    continue
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = running.pop(fut)
                    try:
                        seconds = fut.result()
                    except BuildError as exc:
                        self.counts["failed"] += 1
                        errors.append(str(exc))
                        progress("FAILED", job.nb.stem, None, str(exc).split(": ", 1)[-1][:100])
                        continue
                    self.counts["executed"] += 1
                    progress("executed", job.nb.stem, seconds, f"({job.reason})")
                    self.finished(job)
                    order_.done(job.nb.stem)
        except BaseException:
            # interrupted (Ctrl-C, SIGTERM): kill the kernels now instead of waiting for them, and
            # start no new chapter; the caller reports what was kept
            self.stopping = True
            logging.disable(logging.CRITICAL)  # nbclient would log each killed kernel as "died"
            _kill_kernels()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if errors:
            skipped = len(self.pl.selected) - sum(self.counts.values())
            raise BuildError("notebook failed; book/ and data/ left as they were"
                             + (f" ({skipped} not started)" if skipped else "") + ":\n  "
                             + "\n  ".join(errors))

    def install(self, html: Path | None) -> None:
        """Notebooks, manifest, written files and html as one step (cart19.io.Swap: a failure or a
        crash part-way leaves, or restores, the previous book and data)."""
        swap = io.Swap(self.layout.journal)
        for stem, path in self.new_outputs.items():
            swap.add(self.layout.book / f"{stem}.ipynb", path)
        made = []
        for rel, path in sorted(self.new_writes.items()):
            dest = self.layout.root / rel.rstrip("/")
            if path.is_file() and dest.is_file() and sha256_path(path) == sha256_path(dest):
                continue
            for parent in reversed([p for p in dest.parents if not p.exists()]):
                parent.mkdir()
                made.append(parent)
            swap.add(dest, path)
        if self.new_entries:
            stems = {nb.stem for nb in self.pl.notebooks}
            merged = {s: e for s, e in self.entries.items() if s in stems}
            merged.update(self.new_entries)
            swap.add(self.layout.manifest, io.write_text(
                self.tmp / MANIFEST_NAME, dump_manifest({"format": BUILD_FORMAT, "notebooks": merged})))
        if html is not None:
            self.layout.html.parent.mkdir(parents=True, exist_ok=True)
            swap.add(self.layout.html, html)  # moved: every render stages afresh
        try:
            swap.commit()
            self.installed = True
        except BaseException:
            for parent in reversed(made):
                with contextlib.suppress(OSError):
                    parent.rmdir()
            raise
        shutil.rmtree(self.layout.cache / "outputs", ignore_errors=True)  # all installed now


def _kill_kernels() -> int:
    """Kill every kernel this process started (none if nothing was executed)."""
    kernels = sys.modules.get("cart19.book.kernels")
    return kernels.kill_all() if kernels is not None else 0
