"""The one registry of our readings of the paper: ``data/published/readings.csv``.

Wherever the paper contradicts itself, is silent, or a choice had to be made to compare like for
like (a test picked per row, a hazard-ratio variant, an orientation read from the text), one row
says which claims it concerns, what is adopted and why, and where in the paper the evidence is.
The reconstruction, the audit, the reproduction and the chapters all read this file.

========== =====================================================================================
column     meaning
========== =====================================================================================
reading_id stable id, ``[a-z0-9_]+``, unique
alias      the reconstruction's earlier key (``D01`` ...), kept because pages cite it; optional
kind       ``conflict`` (the paper contradicts itself), ``ambiguity`` (it is silent; a natural
           reading is taken) or ``choice`` (a choice made to compare like for like)
conflict   what the reading resolves, in our words
claims     ';'-separated claim ids it concerns, ``id:field`` for one field of a claim, or a
           pattern with ``*`` (e.g. ``table3.cr.*.p``); each must name at least one claim
field      the field the reading is about (a claims.csv column, or level, orientation, variant,
           test, dispersion_label); optional
adopted_value  the value adopted for ``field`` (';'-separated in the order of ``claims``); optional,
           and only with ``field``
effect     ``drop``: the claims (or fields) are not targets of the reconstruction, the other
           reading is fitted; ``read``: they are used (fitted or compared) under this reading
reading    the reading adopted
why        the reason (a file without this column is refused)
source     where in the paper the evidence is
checks     ';'-separated audit checks that show the conflict; optional
========== =====================================================================================
"""
from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cart19 import paths
from cart19.errors import InputError

READINGS_CSV = paths.DATA / "published" / "readings.csv"
#: read by :func:`load`: the build adds it to the reads of every chapter that imports this module
DATA_READS = ("data/published/readings.csv",)

COLUMNS = ["reading_id", "alias", "kind", "conflict", "claims", "field", "adopted_value", "effect",
           "reading", "why", "source", "checks"]
REQUIRED = ("reading_id", "kind", "conflict", "claims", "effect", "reading", "why", "source")
KINDS = ("conflict", "ambiguity", "choice")
EFFECTS = ("drop", "read")
FIELDS = {"n", "N", "percent", "hr", "ci_low", "ci_high", "p", "value", "min", "max", "median",
          "level", "orientation", "variant", "test", "dispersion_label"}


def expand(entry: str, known: list[str], file=READINGS_CSV, row: int | None = None) -> list[str]:
    """The claim ids (or ``id:field``) one ``claims`` entry names; InputError if it names none."""
    cid, _, fld = entry.partition(":")
    hits = [k for k in known if fnmatch.fnmatchcase(k, cid)] if "*" in cid else \
        ([cid] if cid in set(known) else [])
    if not hits:
        raise InputError(file, "claim id not in claims.csv", column="claims", row=row, value=entry)
    if fld and fld not in FIELDS:
        raise InputError(file, f"field after ':' must be one of {', '.join(sorted(FIELDS))}",
                         column="claims", row=row, value=entry)
    return [f"{h}:{fld}" if fld else h for h in hits]


def _check_vocabulary(file, i, rec) -> None:
    """kind and effect each one of their allowed words."""
    if rec["kind"] not in KINDS:
        raise InputError(file, f"kind must be one of {', '.join(KINDS)}", column="kind", row=i,
                         value=rec["kind"])
    if rec["effect"] not in EFFECTS:
        raise InputError(file, f"effect must be one of {', '.join(EFFECTS)}", column="effect",
                         row=i, value=rec["effect"])


def _check_row(file, i, rec, known, seen):
    for col in REQUIRED:
        if not rec[col]:
            raise InputError(file, "must not be empty", column=col, row=i)
    if not re.fullmatch(r"[a-z0-9_]+", rec["reading_id"]):
        raise InputError(file, "reading_id must match [a-z0-9_]+", column="reading_id", row=i,
                         value=rec["reading_id"])
    for key in ("reading_id", "alias"):
        if rec[key] and rec[key] in seen:
            raise InputError(file, f"{key} must be unique", column=key, row=i, value=rec[key])
        seen.add(rec[key])
    _check_vocabulary(file, i, rec)
    if rec["adopted_value"] and not rec["field"]:
        raise InputError(file, "adopted_value needs field", column="adopted_value", row=i)
    if rec["field"] and rec["field"] not in FIELDS:
        raise InputError(file, f"field must be one of {', '.join(sorted(FIELDS))}",
                         column="field", row=i, value=rec["field"])
    for entry in rec["claims"].split(";"):
        expand(entry.strip(), known, file, i)


@lru_cache(maxsize=8)
def _load(path: str, stamp: float, claims_path: str | None, claim_ids: tuple[str, ...] | None
          ) -> pd.DataFrame:
    from cart19.csvfile import read_rows  # rows numbered as a spreadsheet numbers them

    file = Path(path)
    header, body, sheet_rows = read_rows(file)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(file, f"header row lacks required column(s): {', '.join(missing)}",
                         column=missing[0])
    if header != COLUMNS:
        raise InputError(file, f"header must be {','.join(COLUMNS)}", column=header[0])
    if claim_ids is None:
        from cart19.record.claims import load_claims
        claim_ids = tuple(load_claims(claims_path or paths.CLAIMS_CSV)["id"])
    known = list(claim_ids)
    seen: set[str] = set()
    recs = []
    for i, r in zip(sheet_rows, body):
        rec = dict(zip(COLUMNS, (x.strip() for x in r)))
        _check_row(file, i, rec, known, seen)
        recs.append(rec)
    return pd.DataFrame(recs, columns=COLUMNS)


def load(path: str | Path = READINGS_CSV, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """The registry as a DataFrame (columns :data:`COLUMNS`, text), checked against the claims.

    ``claims`` is the frame of :func:`cart19.record.claims.load_claims` (default: the project's
    claims.csv). Raises :class:`InputError` naming file, column, row and rule.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(file, "file not found")
    ids = tuple(claims["id"]) if claims is not None else None
    return _load(str(file), file.stat().st_mtime_ns, None, ids).copy()


def claims_of(registry: pd.DataFrame, claims: pd.DataFrame | None = None,
              effect: str | None = None) -> dict[str, list[str]]:
    """reading_id -> the claim ids (``id:field``) it names, patterns expanded."""
    if claims is None:
        from cart19.record.claims import load_claims
        claims = load_claims()
    known = list(claims["id"])
    out = {}
    for _, r in registry.iterrows():
        if effect is None or r["effect"] == effect:
            out[r["reading_id"]] = [x for e in r["claims"].split(";") for x in expand(e.strip(), known)]
    return out


def overridden(registry: pd.DataFrame, claims: pd.DataFrame | None = None) -> frozenset[str]:
    """Claim ids (and ``id:field``) that are not targets of the reconstruction (effect ``drop``)."""
    return frozenset(x for ids in claims_of(registry, claims, "drop").values() for x in ids)


def label(registry: pd.DataFrame, reading_id: str) -> str:
    """How a page names a reading: its id, with the alias where one exists (``D09``)."""
    r = registry.set_index("reading_id").loc[reading_id]
    return f"{reading_id} ({r['alias']})" if r["alias"] else reading_id


def main(argv: list[str] | None = None) -> int:
    """``python -m cart19.record.readings [PATH]``: check a registry and print it by kind."""
    import sys
    argv = sys.argv[1:] if argv is None else argv
    reg = load(argv[0]) if argv else load()
    print(reg.groupby(["kind", "effect"]).size().to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
