"""Executing one chapter: papermill in a sandboxed kernel, then the notebook made deterministic.

Execution metadata (times, durations, kernel ids) is removed, cell ids are renumbered, memory addresses,
the checkout's and the venv's paths and pandas Styler ids are scrubbed; kernels run with
``PYTHONHASHSEED=0``, ``SOURCE_DATE_EPOCH=0``, a matplotlibrc fixing ``svg.hashsalt`` and a private
IPython profile. This file's code is part of every cache key (:data:`cart19.book.keys.EXECUTION_MODULES`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from cart19 import io
from cart19.book.chapters import Notebook, read_source
from cart19.book.layout import BuildError, Layout, sha256_bytes
from cart19.book.sandbox import Sandbox


KERNEL_ENV = {
    "PYTHONHASHSEED": "0",          # set/dict order in outputs
    "SOURCE_DATE_EPOCH": "0",       # matplotlib writes no date into SVG/PDF
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    # the same OpenBLAS kernels on every AVX2 machine (see cart19._pin_blas_kernel)
    **({"OPENBLAS_CORETYPE": os.environ["OPENBLAS_CORETYPE"]} if "OPENBLAS_CORETYPE" in os.environ
       else {}),
}


IPYTHON_KERNEL_CONFIG = "c.IPKernelApp.log_level = 'CRITICAL'\n"


MATPLOTLIBRC = "svg.hashsalt: cart19\nsvg.fonttype: path\n"


def normalize(node, nb: Notebook, parameters: dict[str, Any], root: Path | None = None,
              sandbox: Path | None = None):
    """Strip everything that varies between runs from an executed notebook (in place, returned).
    ``root``: the repository root; where an output prints a path below it (e.g. the file of a warning
    raised in lib/cart19) it is written ``REPO/...``, and the venv's ``.../site-packages/`` prefix
    ``SITE-PACKAGES/``, so that the notebook does not depend on where the checkout and the venv are
    (the same placeholders as tests/nbval_sanitize.cfg, so that nbval compares equal forms).
    ``sandbox``: the root the kernel ran in (:mod:`cart19.book.sandbox`), written ``REPO/`` too."""
    meta = node.metadata
    for key in ("papermill", "widgets", "execution"):
        meta.pop(key, None)
    meta.setdefault("cart19", {})
    meta["cart19"]["parameters"] = {k: parameters[k] for k in sorted(parameters)}
    meta.pop("jupytext", None)  # the text-format header is about the .md source, not this file
    info = meta.get("language_info", {})
    if "version" in info:  # the patch release differs between machines with the same lock
        info["version"] = ".".join(str(info["version"]).split(".")[:2])
    injected = any("injected-parameters" in c.metadata.get("tags", []) for c in node.cells)
    roots = tuple(r for r in (sandbox, root) if r is not None)
    for i, cell in enumerate(node.cells):
        cell.id = f"cell-{i:03d}"  # jupytext/papermill ids are random
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        # the page shows one collapsed cell with the values the chapter ran with (papermill's
        # injected cell); the defaults cell it overrides is removed from the page, kept in the file
        if "injected-parameters" in tags and "hide-cell" not in tags:
            cell.metadata["tags"] = tags + ["hide-cell"]
        if injected and "parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = tags + ["remove-cell"]
        for j, out in enumerate(cell.get("outputs", [])):
            _scrub_output(out, f"{i:03d}{j:02d}", roots)
    return node


_ADDRESS = re.compile(r"(?<= at )0x[0-9a-fA-F]{6,16}")


_SITE_PACKAGES = re.compile(r"/[^\s'\"]*/site-packages/")


_STYLER_UUID = re.compile(r"T_([0-9a-f]{5})(?=[_\"\s])")


def _scrub_text(text: str, tag: str, roots: tuple[Path, ...] = ()) -> str:
    text = _ADDRESS.sub("0xADDRESS", text)
    text = _SITE_PACKAGES.sub("SITE-PACKAGES/", text)
    for root in roots:
        for prefix in dict.fromkeys([str(root.resolve()), str(root)]):
            text = text.replace(prefix.rstrip("/") + "/", "REPO/")
    # pandas Styler ids are random uuids; make them deterministic and unique per output
    for k, uuid in enumerate(dict.fromkeys(_STYLER_UUID.findall(text))):
        text = text.replace(f"T_{uuid}", "T_" + sha256_bytes(f"{tag}{k}".encode())[:5])
    return text


def _scrub_output(out, tag: str, roots: tuple[Path, ...] = ()) -> None:
    if out.get("output_type") == "stream":
        out["text"] = _scrub_text(out["text"], tag, roots)
    if out.get("output_type") == "error":  # kept only by a cell tagged raises-exception
        out["traceback"] = [_scrub_text(t, tag, roots) for t in out.get("traceback", [])]
    for key in ("data",):
        data = out.get(key) or {}
        # every textual representation, including myst-nb glue records
        # ("application/papermill.record/text/plain" ...); images (base64) are left alone
        for mime, value in data.items():
            if isinstance(value, str) and not mime.startswith("image/") and "/image/" not in mime:
                data[mime] = _scrub_text(value, tag, roots)
    out.get("metadata", {}).pop("execution", None)


def _source_cell_number(source_node, code: str) -> int | None:
    for i, cell in enumerate(source_node.cells, start=1):
        if cell.source == code:
            return i
    return None


def execute(nb: Notebook, parameters: dict[str, Any], out_path: Path, layout: Layout,
            timeout: int | None = None, sandbox: Sandbox | None = None) -> None:
    """Execute one notebook with papermill and write the normalised result. The kernel runs in
    ``sandbox`` (its ``notebooks/`` is the working directory; :mod:`cart19.book.sandbox`), or,
    without one, in the repository's ``notebooks/``."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from cart19.book import kernels  # jupyter_client: imported only when something executes

    source = read_source(nb.source)
    env = sandbox.spec(nb.stem, nb.reads, nb.writes) if sandbox is not None else {}
    cwd = (sandbox.root if sandbox is not None else layout.root) / "notebooks"
    try:
        node = papermill.execute_notebook(
            source, None, parameters=parameters, kernel_name="python3", language="python",
            progress_bar=False,
            log_output=False, request_save_on_cell_execute=False, execution_timeout=timeout,
            kernel_manager_class=kernels.kernel_class(env),
            # kernel cwd without papermill's process-wide chdir (notebooks run in threads)
            resources={"metadata": {"path": str(cwd)}})
    except PapermillExecutionError as exc:
        number = _source_cell_number(source, exc.source)
        where = f"cell {number}" if number else f"cell In [{exc.exec_count}]"
        first = next((ln for ln in exc.source.splitlines() if ln.strip()), "")
        raise BuildError(f"{layout.rel(nb.source)}: {where} ({first.strip()[:60]!r}) raised "
                         f"{exc.ename}: {exc.evalue}") from None
    except Exception as exc:  # dead kernel, timeout, ...
        raise BuildError(f"{layout.rel(nb.source)}: execution failed: {type(exc).__name__}: {exc}") from None
    normalize(node, nb, parameters, layout.root, sandbox.root if sandbox is not None else None)
    nbformat.validate(node)
    io.write_text(out_path, nbformat.writes(node) + "\n")


def _kernel_env(layout: Layout) -> None:
    """Environment the kernels inherit: determinism switches and this checkout's lib/ first."""
    layout.cache.mkdir(parents=True, exist_ok=True)
    rc = layout.cache / "matplotlibrc"
    if not rc.exists() or rc.read_text() != MATPLOTLIBRC:
        io.write_text(rc, MATPLOTLIBRC)
    # a private IPython profile: no user startup files can change outputs, and the kernel's
    # start-up warnings (unencrypted local TCP, interrupt at shutdown) stay off the progress lines
    profile = layout.cache / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    kcfg = profile / "ipython_kernel_config.py"
    if not kcfg.exists() or kcfg.read_text() != IPYTHON_KERNEL_CONFIG:
        io.write_text(kcfg, IPYTHON_KERNEL_CONFIG)
    os.environ["IPYTHONDIR"] = str(layout.cache / "ipython")
    os.environ.update(KERNEL_ENV)
    os.environ["MATPLOTLIBRC"] = str(rc)
    os.environ["CART19_ROOT"] = str(layout.root)
    lib = str(layout.root / "lib")
    path = os.environ.get("PYTHONPATH", "")
    if lib not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join([lib] + ([path] if path else []))
