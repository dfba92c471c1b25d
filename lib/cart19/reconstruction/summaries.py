"""The published summaries the continuous columns are fitted to, read from ``claims.csv``.

Medians and ranges (Table 1 age and BM blasts; Results dose, CAR T-cell peak, transduction
efficiency, PB and CSF blasts), the count of patients below the targeted dose and of the CNS
patient without BM blasts, and the dose thresholds of the Methods and Results (Zhang et al. 2020).
Nothing the paper prints is typed in here: a target absent from claims.csv raises
:class:`TargetError`.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cart19.errors import InputError

#: target -> claim ids (data/published/ID_CONVENTIONS.md), tried in order
TARGET_IDS = {
    "age": ["table1.age"],
    "bm_blasts": ["table1.bm_blasts"],
    "dose": ["results.dose.median", "results.dose"],
    "dose_below_target": ["results.dose.below_target.n", "results.dose.below_target"],
    "dose_threshold": ["results.dose.below_target.threshold"],     # value, cells/kg
    "dose_low_group": ["results.dose.low_target"],                  # min/max, cells/kg
    "car_peak": ["results.car_peak", "results.carpeak"],
    "transduction": ["results.transduction", "results.transduction_efficiency"],
    "pb_blasts_emd": ["results.emd.pb_blasts", "results.pb_blasts.emd"],
    "pb_blasts_no_emd": ["results.no_emd.pb_blasts", "results.pb_blasts.no_emd"],
    "csf_blasts": ["results.cns.csf_blasts", "results.csf_blasts"],
    "cns_no_bm_blasts": ["results.cns.no_bm_blasts"],
}
# Our dose column is in units of 1e5 CAR T cells/kg (the paper's unit); claims
# whose unit is plain cells per kg are divided by this.
DOSE_UNIT = 1e5
_PER_KG_UNITS = {"car t cells per kg", "cells per kg", "cells/kg", "car t cells/kg"}
# Dose thresholds (x 1e5/kg) are read from claims when present (Methods/Results:
# targeted dose >= 1; dose groups "<3" / ">=3"); these defaults are the same
# definitions for a claims file without them.
DOSE_TARGET_LO = 1.0
DOSE_SPLIT = 3.0


class TargetError(InputError, ValueError):
    """A published target needed here is absent from claims.csv."""


@dataclass(frozen=True)
class MedianRange:
    claim_id: str
    median: float
    lo: float
    hi: float


def claim_row(claims: pd.DataFrame, key: str) -> pd.Series:
    ids = claims["id"].astype(str)
    for cid in TARGET_IDS[key]:
        hit = claims[ids == cid]
        if len(hit):
            return hit.iloc[0]
    raise TargetError("data/published/claims.csv",
                      f"no claim for target {key!r}; tried ids {TARGET_IDS[key]} "
                      "(summaries.TARGET_IDS)", column="id")


def unit_scale(row: pd.Series, key: str) -> float:
    if key.startswith("dose"):
        unit = str(row.get("unit") or "").strip().lower()
        if unit in _PER_KG_UNITS:
            return 1.0 / DOSE_UNIT
    return 1.0


def median_range(claims: pd.DataFrame, key: str) -> MedianRange:
    r = claim_row(claims, key)
    k = unit_scale(r, key)
    vals = []
    for c in ("median", "min", "max"):
        v = pd.to_numeric(r.get(c), errors="coerce")
        if pd.isna(v):
            raise TargetError("data/published/claims.csv", f"claim {r['id']} lacks {c}",
                              column=c)
        vals.append(round(float(v) * k, 10))
    return MedianRange(str(r["id"]), *vals)


def dose_thresholds(claims: pd.DataFrame) -> tuple[float, float]:
    """(targeted minimum, group split) in 1e5/kg, from claims where printed."""
    out = []
    for key, field, default in (("dose_threshold", "value", DOSE_TARGET_LO),
                                ("dose_low_group", "max", DOSE_SPLIT)):
        value = default
        try:
            r = claim_row(claims, key)
            v = pd.to_numeric(r.get(field), errors="coerce")
            if not pd.isna(v):
                value = round(float(v) * unit_scale(r, "dose"), 10)
        except TargetError:
            pass
        out.append(value)
    return out[0], out[1]


def claim_count(claims: pd.DataFrame, key: str) -> tuple[str, int]:
    r = claim_row(claims, key)
    n = pd.to_numeric(r.get("n"), errors="coerce")
    if pd.isna(n):
        n = pd.to_numeric(r.get("value"), errors="coerce")
    if pd.isna(n):
        raise TargetError("data/published/claims.csv", f"claim {r['id']} lacks n", column="n")
    return str(r["id"]), int(n)


def default_claims() -> pd.DataFrame:
    """The published record, ``data/published/claims.csv``."""
    from cart19.record.claims import load_claims
    return load_claims()
