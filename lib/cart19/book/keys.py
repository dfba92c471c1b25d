"""Cache keys: what a chapter's executed notebook depends on, and whether it is current.

Why our own cache instead of jupyter-cache: jupyter-cache keys a notebook on its code cells only, so an
edit of ``lib/cart19`` or of a data file never re-executes anything. Here a chapter's key is the content
hash of its source, every ``lib/cart19`` module it imports (:mod:`cart19.book.imports`), every data file
it reads, the parameters it takes, ``requirements.lock``, :data:`~cart19.book.layout.BUILD_FORMAT` and
the build code that shapes an executed notebook (the files of :data:`EXECUTION_MODULES`). Keys live in the
committed ``book/build-manifest.json`` beside the committed notebooks, so a fresh clone whose notebooks
are current executes nothing. The manifest also records the hash of each file a chapter wrote, so an
edited or deleted output makes the chapter stale.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cart19.book.chapters import Notebook
from cart19.book.imports import closure
from cart19.book.layout import BUILD_FORMAT, Layout, sha256_bytes, sha256_path
from cart19.errors import InputError


#: The modules of cart19.book whose code shapes an executed notebook (kernel set-up, papermill call,
#: normaliser and scrubbers, the sandbox and its audit hook, the kernel manager): their files are hashed
#: into every key, so editing e.g. a scrubber re-executes the chapters, while editing the scheduler, the
#: CLI or a message does not.
EXECUTION_MODULES = ("execute", "sandbox", "kernels")


#: where the files of :data:`EXECUTION_MODULES` are (a test points it at an edited copy)
PACKAGE = Path(__file__).parent


def build_code_hash(package: Path | None = None) -> str:
    """The build code part of every key: the content hash of the files of :data:`EXECUTION_MODULES`
    (in ``package``, default :data:`PACKAGE`; exact bytes: a comment edit counts, on the safe side)."""
    package = package or PACKAGE
    h = hashlib.sha256()
    for mod in EXECUTION_MODULES:
        h.update(mod.encode() + b"\0" + sha256_path(package / f"{mod}.py").encode())
    return h.hexdigest()


def inputs_of(nb: Notebook, layout: Layout, graph, param_values: dict[str, Any], lock_sha: str,
              build_code: str | None = None, resolve=None) -> dict:
    """Everything a notebook's output depends on, as content hashes (its cache key is their hash).
    ``build_code``: :func:`build_code_hash` (computed here if not given). ``resolve(rel) -> Path``:
    where a read file is (a file another chapter wrote in this build is in the sandbox)."""
    lib = {}
    for mod in sorted(closure(set(nb.imports), graph)):
        f = graph[mod][0]
        lib[layout.rel(f)] = sha256_path(f)
    reads = {}
    for r in nb.reads:
        p = resolve(r) if resolve is not None else layout.root / r
        if not p.exists():
            raise InputError(r, f"listed in cart19.reads of {layout.rel(nb.source)} but missing")
        reads[r] = sha256_path(p)
    params = {k: param_values[k] for k in sorted(nb.cell_params) if k in param_values}
    if build_code is None:
        build_code = build_code_hash()
    return {"format": BUILD_FORMAT, "build_code": build_code, "source": sha256_path(nb.source),
            "lib": lib, "reads": reads, "parameters": params, "lock": lock_sha}


def written_files(nb: Notebook, root: Path) -> dict[str, str]:
    """``{rel: sha256}`` of the files a chapter declares it writes (directories, ``.../``, are the
    chapter's scratch space and are not recorded), as they are below ``root`` now ("" = missing)."""
    out = {}
    for rel in nb.writes:
        if not rel.endswith("/"):
            p = root / rel
            out[rel] = sha256_path(p) if p.is_file() else ""
    return out


def outputs_stale(nb: Notebook, entry: dict, layout: Layout) -> str | None:
    """Why the committed results of a chapter do not match what its last build recorded (its
    notebook, the files it writes), or None when they do."""
    if not (nb.output.exists() and sha256_path(nb.output) == entry.get("output_sha256")):
        return "output missing or edited"
    recorded = entry.get("writes")
    if recorded is None and any(not w.endswith("/") for w in nb.writes):
        return "written files not recorded"
    changed = [rel for rel, sha in written_files(nb, layout.root).items()
               if not sha or sha != (recorded or {}).get(rel)]
    if changed:
        return "written file missing or edited: " + ", ".join(changed)
    return None


def key_of(inputs: dict) -> str:
    return sha256_bytes(json.dumps(inputs, sort_keys=True).encode())


def why(old: dict | None, new: dict, stale: str | None = None) -> str:
    """Short reason a notebook is (re-)executed, for the progress line."""
    if not old:
        return "new"
    reasons = []
    if old.get("format") != new["format"]:
        reasons.append("build format")
    if old.get("build_code") != new["build_code"]:
        reasons.append("build code (cart19/book/" + ", ".join(f"{m}.py" for m in EXECUTION_MODULES) + ")")
    if old.get("source") != new["source"]:
        reasons.append("source")
    for k in ("lib", "reads"):
        o, n = old.get(k, {}), new[k]
        reasons += [f for f in sorted(set(o) | set(n)) if o.get(f) != n.get(f)]
    o, n = old.get("parameters", {}), new["parameters"]
    reasons += [f"{k}={n.get(k)!r}" for k in sorted(set(o) | set(n)) if o.get(k) != n.get(k)]
    if old.get("lock") != new["lock"]:
        reasons.append("requirements.lock")
    if not reasons and stale:
        reasons.append(stale)  # the inputs are the same, the committed results are not
    return ", ".join(reasons) or "forced"


def load_manifest(layout: Layout) -> dict:
    """The committed manifest (entries of another format are kept: their keys, which hold the
    format, do not match, and :func:`why` then says "build format")."""
    try:
        data = json.loads(layout.manifest.read_text(encoding="utf-8"))
        if isinstance(data.get("notebooks"), dict):
            return {"format": BUILD_FORMAT, "notebooks": data["notebooks"]}
    except (OSError, ValueError, AttributeError):
        pass
    return {"format": BUILD_FORMAT, "notebooks": {}}


def dump_manifest(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"
