"""``python -m cart19 validate [--claims P] [--readings P] [--cohort P] [--not-infused P] [--params P]``.

Loads every input file of the book with the loader that the chapters use, so a bad cell is
reported here (file, column, 1-based row, rule: :class:`cart19.errors.InputError`) instead of in the
middle of a build. The loaders own the rules; this module only knows which loader reads which file:

- ``data/published/claims.csv``  -> :func:`cart19.record.claims.load_claims` (the published record, every
  number printed in Zhang et al. 2020, abstract, text, Tables 1-5, figure captions);
- ``data/published/readings.csv`` -> :func:`cart19.record.audit.adopted_readings` (the readings adopted
  where the paper contradicts itself; its claim ids are checked against the claims file validated);
- ``data/cohort/cohort.csv``      -> :func:`cart19.cohort.schema.load_cohort` (the *reconstructed* pseudo
  patient-level cohort, not the trial's data);
- ``data/cohort/not_infused.csv`` -> :func:`load_not_infused` below (the 5 of 115
  enrolled patients whose product was not infused; the patient-flow chapter);
- ``notebooks/params.yml``        -> :func:`cart19.book.params.load_params` (the build's parameters).

Files matching :data:`OPTIONAL_LOADERS` (the ensemble's cohorts) are checked when present. Any other
file under ``data/`` that no loader reads is listed as unchecked (a data file
without a loader is a gap to close, not an error of the user's input). Outputs that notebooks write
(``data/derived/``) are not inputs and are not listed.

With file options (``--cohort P`` ...) exactly those files are checked; without, every input of the
repository (``$CART19_ROOT`` or ``--root``). Every file is checked in one run; the first bad one is
the error (exit 1), later ones are printed before it.

Pure functions: the repository root and every path are arguments; nothing is cached between calls.
"""
from __future__ import annotations

import argparse
import fnmatch
import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from cart19 import paths
from cart19.errors import InputError

__all__ = ["LOADERS", "OPTIONAL_LOADERS", "input_files", "loader_for", "load_not_infused", "validate_file",
           "validate_files", "validate_reads", "check_inputs", "validate", "unchecked_files", "main"]

#: Input file (relative to the repository root) -> (module, loader function). Order = check order.
#: The parameters come first, as in the build (and they are cheap: no pandas import).
LOADERS: dict[str, tuple[str, str]] = {
    "notebooks/params.yml": ("cart19.book.params", "load_params"),
    "data/published/claims.csv": ("cart19.record.claims", "load_claims"),
    "data/published/readings.csv": ("cart19.record.audit", "adopted_readings"),
    "data/cohort/cohort.csv": ("cart19.cohort.schema", "load_cohort"),
    # cart19.cohort.schema has no loader for this file yet: the small one below stands in for it
    "data/cohort/not_infused.csv": ("cart19.cohort.validate", "load_not_infused"),
}
#: Loaders that check ids against the published record get the record being validated (so
#: ``--claims P`` is used throughout): input -> keyword argument of its loader.
NEEDS_CLAIMS: dict[str, str] = {"data/published/readings.csv": "claims"}
CLAIMS = "data/published/claims.csv"
#: Further inputs that may or may not be there (glob below the root -> loader): checked when present,
#: never required. The ensemble's cohorts are cohorts like any other.
OPTIONAL_LOADERS: dict[str, tuple[str, str]] = {
    "data/cohort/ensemble/*.csv": ("cart19.cohort.schema", "load_cohort"),
}
#: Directories under data/ that hold build outputs (written by chapters: the scorecard, the ensemble
#: statistics and its scratch cohorts), not inputs.
OUTPUT_DIRS = ("data/derived/", "data/ensemble/")
#: Files under data/ that are documentation, not data.
DOC_SUFFIXES = (".md", ".txt")


def _entry(rel: str) -> tuple[str, str] | None:
    if rel in LOADERS:
        return LOADERS[rel]
    return next((v for pat, v in OPTIONAL_LOADERS.items() if fnmatch.fnmatchcase(rel, pat)), None)


def loader_for(rel: str):
    """The loader function of input file ``rel`` (a key of :data:`LOADERS` or a path matching
    :data:`OPTIONAL_LOADERS`)."""
    entry = _entry(rel)
    if entry is None:
        raise KeyError(f"no loader for {rel!r}")
    module, name = entry
    fn = getattr(importlib.import_module(module), name, None)
    if fn is None:
        # a registry entry whose loader does not exist is a defect of the code, not of the input
        raise RuntimeError(f"{module}.{name} (loader of {rel}) does not exist")
    return fn


NOT_INFUSED_COLUMNS = ["patient_id", "status", "reason"]


def load_not_infused(path: Path | str = paths.NOT_INFUSED_CSV):
    """Read and check ``data/cohort/not_infused.csv``: the enrolled patients whose product was not
    infused (Methods: 110 of 115 products infused), one row each, columns :data:`NOT_INFUSED_COLUMNS`.

    Rules (pandera): every column present; ``patient_id`` non-empty, without spaces and unique;
    ``status`` and ``reason`` non-empty. The first failure raises InputError (file, column, row, rule).
    Here rather than in cart19.cohort.schema only because that module has no loader for this file yet.
    """
    import pandas as pd
    import pandera.pandas as pa
    from pandera.errors import SchemaError

    from cart19.csvfile import read_frame

    path = Path(path)
    df = read_frame(path)  # structural faults (bytes, quotes, ragged rows) named by row and column
    rows = df.attrs["rows"]
    for c in NOT_INFUSED_COLUMNS:
        if c not in df.columns:
            raise InputError(path, "required column is missing", column=c)
    nonempty = pa.Check.str_length(min_value=1, error="must not be empty")
    schema = pa.DataFrameSchema({
        "patient_id": pa.Column(str, [nonempty, pa.Check.str_matches(r"^\S+$", error="must not contain spaces"),
                                      pa.Check(lambda s: ~s.duplicated(keep="first"),
                                               error="patient_id must be unique (repeats an earlier row)")]),
        "status": pa.Column(str, nonempty), "reason": pa.Column(str, nonempty)}, strict=False)
    try:
        df = schema.validate(df, lazy=False)
    except SchemaError as err:
        fc = err.failure_cases
        idx = fc["index"].iloc[0] if fc is not None and "index" in fc.columns and len(fc) else None
        row = int(idx) + 1 if idx is not None and pd.notna(idx) else None
        col = getattr(err.schema, "name", None)
        rule = (err.check.error if isinstance(err.check, pa.Check) and err.check.error else str(err))
        raise InputError(path, rule, column=col, row=rows[row - 1] if row else None,
                         value=df[col].iloc[row - 1] if col in df.columns and row else None) from None
    # the treatment-course columns (bridging, vein-to-vein), when present (cart19.reconstruction.treatment)
    from cart19.cohort.schema import validate_not_infused_treatment
    validate_not_infused_treatment(df, path)
    return df


def not_infused_beside(cohort_path):
    """The not-infused patients stored next to a cohort file (``<dir>/not_infused.csv``), checked
    by :func:`load_not_infused` and read with numeric columns typed; None when the cohort comes
    without one (e.g. a cohort supplied through ``cohort_path``). Used by the scorecard and by
    every chapter, so both reproduce the enrolment and bridging claims the same way."""
    import pandas as pd

    path = Path(cohort_path).with_name("not_infused.csv")
    if not path.exists():
        return None
    load_not_infused(path)
    return pd.read_csv(path)


def _display(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it lies below it (shorter messages), else as given."""
    try:
        return Path(os.path.relpath(path, root)).as_posix() if path.is_relative_to(root) else str(path)
    except ValueError:
        return str(path)


def validate_file(rel: str, path: Path | str, claims_path: Path | str | None = None):
    """Load ``path`` with the loader of input ``rel``; InputError if it is missing or breaks a rule.

    ``claims_path`` is the published record that id-checking loaders (:data:`NEEDS_CLAIMS`) compare
    against (default: their own default). Returns what the loader returned."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "required input file is missing" if not path.exists()
                         else "is not a regular file")
    kwargs = {}
    if rel in NEEDS_CLAIMS and claims_path is not None:
        kwargs[NEEDS_CLAIMS[rel]] = loader_for(CLAIMS)(Path(claims_path))
    return loader_for(rel)(path, **kwargs)


def input_files(root: Path | str = paths.ROOT,
                overrides: Mapping[str, Path | str | None] | None = None) -> dict[str, Path]:
    """``{rel: path}`` of every input to check: :data:`LOADERS` below ``root``, with ``overrides``
    (``{rel: path}``, None = keep the default) replacing individual files."""
    root = Path(root)
    files = {rel: root / rel for rel in LOADERS}
    for pattern in OPTIONAL_LOADERS:
        files.update({p.relative_to(root).as_posix(): p for p in sorted(root.glob(pattern)) if p.is_file()})
    for rel, p in (overrides or {}).items():
        if rel not in LOADERS:
            raise KeyError(f"no loader for {rel!r}; known inputs: {', '.join(LOADERS)}")
        if p is not None:
            files[rel] = Path(p)
    return files


def validate_files(files: Mapping[str, Path | str]) -> list[str]:
    """Validate ``{rel: path}`` in order; return the paths checked. The first bad file raises
    :class:`InputError` (its message names file, column, row and rule)."""
    done = []
    for rel, path in files.items():
        validate_file(rel, path, files.get(CLAIMS))
        done.append(str(path))
    return done


def validate_reads(root: Path | str, rels, memo: dict[str, str] | None = None) -> list[str]:
    """Validate each of ``rels`` (data files relative to ``root``) that has a loader; return those
    checked (see :func:`check_inputs`)."""
    root = Path(root)
    return check_inputs(root, {rel: root / rel for rel in rels}, memo)


def check_inputs(root: Path | str, files: Mapping[str, Path | str],
                 memo: dict[str, str] | None = None) -> list[str]:
    """The book build's input check (``[tool.cart19.build] check-inputs`` in pyproject.toml), run
    before any kernel starts: validate each file of ``files`` (``{rel: path}``: ``rel`` names the
    loader, e.g. ``data/cohort/cohort.csv``; ``path`` is the file, which an overridden path parameter
    puts elsewhere) that has a loader; return the ``rel`` checked.

    ``memo`` (``{key: sha256}`` of files found valid, kept by the caller, e.g. in .cache/build) skips
    files whose content has not changed since they were last found valid, so a no-op rebuild does
    not import pandas; it is updated in place. Raises InputError for the first bad file.
    """
    import hashlib
    import importlib.util

    def digest(p: Path | None) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest() if p is not None and p.is_file() else ""

    root = Path(root)
    checked = []
    for rel in sorted(files, key=lambda r: (list(LOADERS).index(r) if r in LOADERS else 99, r)):
        entry = _entry(rel)
        if entry is None:
            continue
        path = Path(files[rel])
        key = rel if path == root / rel else f"{rel}@{path}"
        sha = None
        if path.is_file():
            # the key covers the file, the loader's source (its rules; found without importing it,
            # which would cost the pandas import this memo saves) and, where ids are checked
            # against it, the published record
            spec = importlib.util.find_spec(entry[0])
            origin = Path(spec.origin) if spec is not None and spec.origin else None
            sha = digest(path) + digest(origin)
            if rel in NEEDS_CLAIMS:
                sha += digest(root / CLAIMS)
            sha = hashlib.sha256(sha.encode()).hexdigest()
        if memo is not None and sha is not None and memo.get(key) == sha:
            continue
        validate_file(rel, path, files.get(CLAIMS, root / CLAIMS))
        if memo is not None and sha is not None:
            memo[key] = sha
        checked.append(rel)
    return checked


def unchecked_files(root: Path | str = paths.ROOT) -> list[str]:
    """Data files under ``root/data`` that no loader checks (documentation and outputs excluded)."""
    root = Path(root)
    data = root / "data"
    if not data.is_dir():
        return []
    out = []
    for p in sorted(data.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if (p.is_file() and _entry(rel) is None and not rel.startswith(OUTPUT_DIRS)
                and not p.name.startswith(".") and p.suffix not in DOC_SUFFIXES):
            out.append(rel)
    return out


def validate(root: Path | str = paths.ROOT) -> list[str]:
    """Load and check every input file below ``root``; return their paths relative to ``root``.

    Raises :class:`InputError` for the first file that is missing or breaks a rule.
    """
    root = Path(root)
    return [_display(Path(p), root) for p in validate_files(input_files(root))]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m cart19 validate",
                                 description="Check the book's input files (file, column, row, rule).")
    ap.add_argument("--root", type=Path, default=None,
                    help="repository root (default: $CART19_ROOT or this checkout)")
    ap.add_argument("--claims", type=Path, help="claims.csv to check instead of data/published/claims.csv")
    ap.add_argument("--readings", type=Path,
                    help="readings.csv to check instead of data/published/readings.csv")
    ap.add_argument("--cohort", type=Path, help="cohort.csv to check instead of data/cohort/cohort.csv")
    ap.add_argument("--not-infused", type=Path, dest="not_infused",
                    help="not_infused.csv to check instead of data/cohort/not_infused.csv")
    ap.add_argument("--params", type=Path, help="params.yml to check instead of notebooks/params.yml")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Print ``ok: <file>`` per valid input (those given as options, else every input); 0 if all are
    valid. A bad file raises InputError, which the command line (cart19.cli) prints on stderr with
    exit code 1; further bad files are printed before it."""
    args = _parser().parse_args(argv)
    root = (args.root or paths.ROOT).resolve()
    given = {"data/published/claims.csv": args.claims, "data/published/readings.csv": args.readings,
             "data/cohort/cohort.csv": args.cohort, "data/cohort/not_infused.csv": args.not_infused,
             "notebooks/params.yml": args.params}
    given = {rel: given[rel] for rel in LOADERS if given.get(rel) is not None}
    # with file options, exactly those files are checked (readings.csv against the claims given,
    # else the repository's); without, every input of the repository
    files = {rel: Path(p) for rel, p in given.items()} if given else input_files(root)
    claims_path = files.get(CLAIMS, root / CLAIMS)
    # every file is checked (one run shows every bad file); the first error is raised, the
    # command line prints it and exits 1, the later ones are printed here first
    errors: list[InputError] = []
    bad: set[str] = set()
    for rel, path in files.items():
        if rel in NEEDS_CLAIMS and CLAIMS in bad:
            print(f"not checked (needs a valid {CLAIMS}): {_display(path, root)}", file=sys.stderr)
            continue
        try:
            validate_file(rel, path, claims_path)
        except InputError as exc:
            errors.append(exc)
            bad.add(rel)
            continue
        print(f"ok: {_display(path, root)}", flush=True)
    for rel in [] if given else unchecked_files(root):
        print(f"unchecked (no loader): {rel}", flush=True)
    for exc in errors[1:]:
        print(f"cart19 validate: error (also): {exc}", file=sys.stderr, flush=True)
    if errors:
        raise errors[0]
    return 0
