"""Claim -> constraint table for the cohort reconstruction, built from the paper's design.

Which patients each published number counts is defined once, in ``data/published/design.yml``
(:mod:`cart19.record.design`: Tables 1-4, the counts of the text, the medians and ranges of days,
the Kaplan-Meier landmarks of Figures 2-7); the *value* is read from ``claims.csv`` at bind time, so
editing a claim changes the integer program (Zhang et al., Blood Adv 2020;4(10):2325-2338). This
module turns the design into targets and binds their values.

Three kinds of target:

* :class:`CountTarget` - "the number of patients for whom all literals hold equals the claim's
  ``n`` (or ``N``)". A literal is a binary attribute name of the stage-1 model, ``~name`` negates
  it. These become linear equalities of the stage-1 integer program (:mod:`cart19.reconstruction.milp`).
* :class:`TimeTarget` - median / min / max of a day column over a subgroup (stage 2).
* :class:`KMTarget` - a Kaplan-Meier landmark of OS or LFS in a subgroup (stage 2).

Where the paper contradicts itself, the registry ``data/published/readings.csv``
(:mod:`cart19.record.readings`) records the reading adopted; the claims a reading drops
(:data:`OVERRIDDEN`) are simply not targeted (their published value stays visible in ``fit.csv``
with basis ``overridden``).

The target lists, :data:`DECISIONS`, :data:`OVERRIDDEN`, :data:`CR_ASSESS_DAY` (the day-30
assessment, the LFS origin) and :data:`EARLY_DAY` (the last day "within 3 months" of it) are
computed on first use from the project's design, registry and claims.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from cart19.errors import InputError
from cart19.paths import CLAIMS_CSV
from cart19.record.claims import load_claims


def where_mask(cols, where: tuple[str, ...]) -> np.ndarray:
    """Patients for whom every literal of ``where`` holds ("attr" is 1, "~attr" is 0).

    ``cols`` maps attribute names to 0/1 columns: a DataFrame or a dict of arrays (the fast
    form for repeated counts). Empty ``where``: every patient."""
    mask = None
    for lit in where:
        neg = lit.startswith("~")
        col = np.asarray(cols[lit.lstrip("~")]) == 1
        col = ~col if neg else col
        mask = col if mask is None else mask & col
    if mask is None:
        n = len(cols) if isinstance(cols, pd.DataFrame) else len(next(iter(cols.values())))
        return np.ones(n, dtype=bool)
    return mask


@dataclass(frozen=True)
class CountTarget:
    claim_id: str
    field: str                     # which claims.csv column holds the count: "n" or "N"
    where: tuple[str, ...]         # conjunction of literals over stage-1 attributes
    note: str = ""


@dataclass(frozen=True)
class TimeTarget:
    claim_id: str
    stat: str                      # "median" | "min" | "max"
    column: str                    # cohort day column
    where: tuple[str, ...]         # literals over cohort 0/1 columns
    note: str = ""


@dataclass(frozen=True)
class KMTarget:
    claim_id: str
    endpoint: str                  # "os" | "lfs"
    where: tuple[str, ...]         # population (literals over stage-1 attributes)
    note: str = ""


@dataclass(frozen=True)
class Decision:
    """A reading of data/published/readings.csv as the reconstruction sees it: ``overridden``
    holds the claim ids (or ``id:field``) it drops from the targets."""
    key: str
    conflict: str
    overridden: tuple[str, ...]
    reading: str
    why: str
    alias: str = ""


_LAZY = ("COUNT_TARGETS", "TIME_TARGETS", "KM_TARGETS", "DECISIONS", "OVERRIDDEN",
         "CR_ASSESS_DAY", "EARLY_DAY")


@lru_cache(maxsize=1)
def _from_design() -> dict:
    from cart19.record import design, readings
    d = design.load()
    claims = load_claims()
    reg = readings.load(claims=claims)
    dropped = readings.claims_of(reg, claims, "drop")
    decisions = [Decision(r.reading_id, r.conflict, tuple(dropped.get(r.reading_id, ())),
                          r.reading, r.why, r.alias) for r in reg.itertuples()]
    return {
        "COUNT_TARGETS": [CountTarget(c, f, tuple(w), n) for c, f, w, n in d.count_targets()],
        "TIME_TARGETS": [TimeTarget(c, s, col, tuple(w)) for c, s, col, w in d.time_targets()],
        "KM_TARGETS": [KMTarget(c, ep, tuple(w)) for c, ep, w in d.km_targets()],
        "DECISIONS": decisions,
        "OVERRIDDEN": frozenset(x for dec in decisions for x in dec.overridden),
        "CR_ASSESS_DAY": d.day("cr_assessment", claims),
        "EARLY_DAY": d.day("early_day", claims),
    }


def inputs_digest() -> str:
    """sha256 of what the targets are (the lists, the dropped claims, the days), as built from
    design.yml and readings.csv: part of the key of anything computed from the targets (the base
    cohort, a drawn ensemble). Editing a comment or a view of the design leaves it unchanged."""
    import hashlib
    d = _from_design()
    return hashlib.sha256(repr([d[k] if k != "OVERRIDDEN" else sorted(d[k]) for k in _LAZY
                                if k != "DECISIONS"]).encode()).hexdigest()


def __getattr__(name: str):
    # module attributes computed from design.yml, readings.csv and claims.csv on first use (PEP 562)
    if name in _LAZY:
        return _from_design()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Planning windows (NOT claims): event counts the paper never prints but its Kaplan-Meier landmarks
# constrain. KM 1 - S(t) is at least events/N, and censoring inflates it; we allow an inflation of
# 1.0-1.6, i.e. events in [N(1-S)/1.6, N(1-S)]. Stage 2 then places the times; whether the landmark
# is met is checked, not assumed. (name, KM claim id): the events are the landmark's population
# with the endpoint's event attribute (EVENT_LITERAL).
PLANNING_FROM_KM: list[tuple[str, str]] = [
    ("deaths, CAR-T alone", "fig3.os.no_hsct.1y"),
    ("LFS events, CAR-T alone", "fig3.lfs.no_hsct.1y"),
    ("deaths, all 110", "fig2.os.all.1y"),
    ("deaths, post-transplant CR", "fig7.os.post_hsct.1y"),
    ("deaths, CR", "fig4.os.cr.1y"),
    ("deaths, CRi", "fig4.os.cri.1y"),
]
#: the attribute of the literal language that marks an event of each endpoint
EVENT_LITERAL = {"os": "death", "lfs": "lfs_ev"}


KM_INFLATION = 1.6


def planning_windows(bound: "BoundTargets") -> list[tuple[str, tuple[str, ...], tuple[str, ...], float, float]]:
    """(name, events where, population where, f_lo, f_hi): f_lo*pop <= events <= f_hi*pop + 0.5."""
    pops = {t.claim_id: (t, pct) for t, pct, _ in bound.km}
    out = []
    for name, cid in PLANNING_FROM_KM:
        if cid in pops:
            t, pct = pops[cid]
            f = 1.0 - pct / 100.0
            out.append((name, t.where + (EVENT_LITERAL[t.endpoint],), t.where, f / KM_INFLATION, f))
    # Relapse-day medians / minima of a subgroup that lie below the earliest relapse after HSCT
    # force that many of the subgroup's relapses into the CAR-T-alone arm.
    tv = {(t.claim_id, t.stat): v for t, v in bound.times}
    cnt = {t.claim_id: v for t, v in bound.counts if t.field == "n"}
    arm_min = tv.get(("results.hsct.relapse_time", "min"))
    for lit, time_id, count_id in PLANNING_RELAPSE_SPLIT:
        n = cnt.get(count_id)
        if arm_min is None or not n:
            continue
        k = 0
        if tv.get((time_id, "median"), np.inf) < arm_min:
            k = n // 2 + 1 if n % 2 else n // 2
        elif tv.get((time_id, "min"), np.inf) < arm_min:
            k = 1
        if k:  # those k relapses are early relapses of the CAR-T-alone arm
            out.append((f"{lit} relapses before the first post-HSCT relapse",
                        (lit, "relapse", "~hsct", "rel_early"), (lit, "relapse"), k / n, 1.0))
    return out


# (subgroup literal, its relapse-time claim, its relapse-count claim)
PLANNING_RELAPSE_SPLIT = [
    ("tp53", "results.tp53.relapse_time", "results.tp53.relapse"),
    ("bcr_abl", "results.bcr_abl.relapse_time", "results.bcr_abl.relapse"),
]


# ------------------------------------------------------------------------------------------
# reading the claims
# ------------------------------------------------------------------------------------------
def read_claims(path: str | Path = CLAIMS_CSV) -> pd.DataFrame:
    """claims.csv as a DataFrame indexed by id: validated by cart19.record.claims.load_claims for
    the project's file; another file (a test's partial record) is read as text."""
    path = Path(path)
    if path.resolve() == Path(CLAIMS_CSV).resolve():
        df = load_claims(path)
    else:
        if not path.exists():
            raise InputError(path, "claims file not found")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df.copy()
    if "id" not in df.columns:
        raise InputError(path, "missing column", column="id")
    return df.set_index("id", drop=False)


def _num(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return None if pd.isna(v) else float(v)
    s = str(v).strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def claim_value(claims: pd.DataFrame, claim_id: str, fld: str, path=CLAIMS_CSV) -> float:
    """The number a target needs from a claim row.

    ``n`` falls back to round(percent * N / 100) when only a percentage is printed.
    """
    if claim_id not in claims.index:
        raise InputError(path, f"claim id {claim_id!r} needed by the reconstruction is missing",
                         column="id")
    row = claims.loc[claim_id]
    if isinstance(row, pd.DataFrame):
        raise InputError(path, f"claim id {claim_id!r} is duplicated", column="id")
    val = _num(row.get(fld))
    if val is None and fld == "n":
        p, big_n = _num(row.get("percent")), _num(row.get("N"))
        if p is not None and big_n is not None:
            val = float(round(p * big_n / 100.0))
        elif _num(row.get("value")) is not None:
            val = _num(row.get("value"))
    if val is None and fld in ("median", "min", "max", "percent"):
        val = _num(row.get(fld))
    if val is None:
        raise InputError(path, f"claim {claim_id!r} has no usable {fld!r} value", column=fld)
    return val


@dataclass
class BoundTargets:
    """Targets with their published values attached (what the solver sees)."""
    counts: list[tuple[CountTarget, int]] = field(default_factory=list)
    times: list[tuple[TimeTarget, float]] = field(default_factory=list)
    km: list[tuple[KMTarget, float, float]] = field(default_factory=list)  # (target, percent, days)
    missing: list[str] = field(default_factory=list)


def km_days(claims: pd.DataFrame, claim_id: str) -> float:
    row = claims.loc[claim_id]
    v, unit = _num(row.get("value")), str(row.get("unit", "") or "").strip().lower()
    if v is None:  # fall back to the id suffix
        suf = claim_id.rsplit(".", 1)[-1]
        v, unit = float(suf[:-1]), {"y": "years", "m": "months"}[suf[-1]]
    return {"days": v, "day": v, "months": v * 365.25 / 12, "month": v * 365.25 / 12,
            "years": v * 365.0, "year": v * 365.0}.get(unit, v)


def _bind_each(targets, skip, value, errors, strict: bool, into: list, missing: list) -> None:
    """``(target, *value(target))`` into ``into`` for every target not ``skip``-ped; a target whose
    value raises one of ``errors`` is named in ``missing`` (or re-raised when ``strict``)."""
    for t in targets:
        if skip(t):
            continue
        try:
            into.append((t, *value(t)))
        except errors:
            if strict:
                raise
            missing.append(t.claim_id)


def bind(claims: pd.DataFrame, path=CLAIMS_CSV, strict: bool = False) -> BoundTargets:
    """Attach published values to every non-overridden target.

    Missing claim ids are collected in ``missing`` (or raise when ``strict``).
    """
    out = BoundTargets()
    design = _from_design()
    over = design["OVERRIDDEN"]
    _bind_each(design["COUNT_TARGETS"], lambda t: t.claim_id in over,
               lambda t: (int(round(claim_value(claims, t.claim_id, t.field, path))),),
               InputError, strict, out.counts, out.missing)
    _bind_each(design["TIME_TARGETS"], lambda t: t.claim_id in over or f"{t.claim_id}:{t.stat}" in over,
               lambda t: (claim_value(claims, t.claim_id, t.stat, path),),
               InputError, strict, out.times, out.missing)
    _bind_each(design["KM_TARGETS"], lambda t: t.claim_id in over,
               lambda t: (claim_value(claims, t.claim_id, "percent", path), km_days(claims, t.claim_id)),
               (InputError, KeyError), strict, out.km, out.missing)
    out.missing = sorted(set(out.missing))
    return out
