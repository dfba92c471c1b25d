"""From a patient-level table and its study map to the engine's patient table.

The validation command accepts any patient-level CSV; its map (a study description,
:mod:`cart19.reconstruction.general_study`) says which column or expression defines each binary
attribute and each endpoint. This module applies the map and enforces the rules the rest of the
method relies on, each broken rule an :class:`~cart19.errors.InputError` naming the column and
the rule: a named column must exist, a group must be binary, an endpoint must have events.

Output (one row per patient): one 0/1 column per attribute, ``<endpoint>_time`` (integer time
units: the engine works on a day grid, so times are rounded up to whole units, and the truth is
this rounded table) and ``<endpoint>_event`` (0/1) per endpoint, and ``switch_time`` for a
time-dependent arm (NaN outside arm A).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.errors import InputError
from cart19.reconstruction.general_study import Study


def _need(raw: pd.DataFrame, col, what: str, src) -> None:
    if col is None:
        raise InputError(src, f"{what} names no column", column=what)
    if col not in raw.columns:
        raise InputError(src, f"the map's {what} names column {col!r}, which is not in the data "
                              f"(columns: {', '.join(map(str, raw.columns[:12]))}"
                              f"{', ...' if len(raw.columns) > 12 else ''})", column=str(col))


def _source_series(raw: pd.DataFrame, a, src) -> pd.Series:
    if a.column is not None:
        _need(raw, a.column, f"attribute {a.name!r}", src)
        return raw[a.column]
    try:
        return pd.Series(raw.eval(a.expr), index=raw.index)
    except Exception as exc:  # pandas raises several types for a bad expression
        raise InputError(src, f"attribute {a.name!r}: expression {a.expr!r} cannot be evaluated "
                              f"on the data ({type(exc).__name__}: {exc})", column=a.name) from None


def used_columns(raw: pd.DataFrame, study: Study) -> list[str]:
    """Data columns the map reads (for the missing-value rule)."""
    cols = [a.column for a in study.attributes if a.column is not None]
    for a in study.attributes:
        if a.expr is not None:
            cols += [c for c in raw.columns if isinstance(c, str) and c in a.expr]
    for e in study.endpoints:
        cols += [e.time, e.event]
    return list(dict.fromkeys(c for c in cols if c is not None))


def _drop_missing(raw: pd.DataFrame, study: Study, src) -> pd.DataFrame:
    cols = [c for c in used_columns(raw, study) if c in raw.columns]
    bad = raw[cols].isna()
    if not bad.to_numpy().any():
        return raw
    if study.missing == "drop":
        out = raw.loc[~bad.any(axis=1)]
        out.attrs["dropped_missing"] = int(bad.any(axis=1).sum())
        return out
    col = bad.any(axis=0).idxmax()
    row = int(np.flatnonzero(bad[col].to_numpy())[0]) + 1
    raise InputError(src, "missing value in a mapped column (set 'missing: drop' in the map to "
                          "drop such rows)", column=str(col), row=row)


def _binary(a, s: pd.Series, src) -> np.ndarray:
    """The 0/1 values of one attribute under its rule."""
    if a.rule is None:
        vals = pd.unique(s.dropna())
        ok = {0, 1, True, False, "0", "1"}
        if not set(vals.tolist()) <= ok:
            shown = ", ".join(map(repr, sorted(map(str, vals))[:6]))
            raise InputError(src, f"attribute {a.name!r} must be binary (0/1) or give a rule "
                                  f"({'/'.join(['equals', 'above', 'at_least', 'below', 'at_most'])}); "
                                  f"found {len(vals)} distinct values: {shown}",
                             column=a.column or a.name)
        return s.astype(str).isin(["1", "True"]).to_numpy().astype(int)
    if a.rule == "equals":
        vals = a.value if isinstance(a.value, list) else [a.value]
        return s.astype(str).isin([str(v) for v in vals]).to_numpy().astype(int)
    x = pd.to_numeric(s, errors="coerce")
    if x.isna().any():
        row = int(np.flatnonzero(x.isna().to_numpy())[0]) + 1
        raise InputError(src, f"attribute {a.name!r}: rule {a.rule!r} needs numbers",
                         column=a.column or a.name, row=row, value=s.iloc[row - 1])
    v = float(a.value)
    out = {"above": x > v, "at_least": x >= v, "below": x < v, "at_most": x <= v}[a.rule]
    return out.to_numpy().astype(int)


def _endpoint(raw: pd.DataFrame, e, src) -> tuple[np.ndarray, np.ndarray]:
    _need(raw, e.time, f"endpoint {e.name!r} time", src)
    _need(raw, e.event, f"endpoint {e.name!r} event", src)
    t = pd.to_numeric(raw[e.time], errors="coerce")
    if t.isna().any() or (t < 0).any():
        row = int(np.flatnonzero((t.isna() | (t < 0)).to_numpy())[0]) + 1
        raise InputError(src, f"endpoint {e.name!r}: times must be numbers >= 0", column=e.time,
                         row=row, value=raw[e.time].iloc[row - 1])
    ev_raw = raw[e.event]
    if ev_raw.nunique(dropna=True) > 2:
        raise InputError(src, f"endpoint {e.name!r}: the event column must be binary (event or "
                              f"censored), found {ev_raw.nunique()} distinct values",
                         column=e.event)
    ev = (ev_raw.astype(str) == str(e.event_value)).to_numpy().astype(int)
    if ev.sum() == 0:
        raise InputError(src, f"endpoint {e.name!r} has no events (no value {e.event_value!r} in "
                              "the event column): survival statistics need at least one",
                         column=e.event)
    return np.ceil(t.to_numpy(float)).astype(int), ev


def patient_table(raw: pd.DataFrame, study: Study, source="<data>") -> pd.DataFrame:
    """Apply ``study``'s map to ``raw``: attributes, endpoint times/events, switch times."""
    src = source
    raw = _drop_missing(raw.reset_index(drop=True), study, src).reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    for a in study.attributes:
        out[a.name] = _binary(a, _source_series(raw, a, src), src)
        if out[a.name].nunique() < 2:
            raise InputError(src, f"attribute {a.name!r} is constant ({int(out[a.name].iloc[0])} "
                                  "for every patient): a group needs both levels",
                             column=a.column or a.name)
    for e in study.endpoints:
        out[f"{e.name}_time"], out[f"{e.name}_event"] = _endpoint(raw, e, src)
    _check_nested(out, study, src)
    if study.switch is not None:
        out["switch_time"] = _switch(raw, out, study, src)
    out.attrs["dropped_missing"] = raw.attrs.get("dropped_missing", 0)
    return out


def _check_nested(out: pd.DataFrame, study: Study, src) -> None:
    for e in study.endpoints:
        if e.within is None:
            continue
        t, ev = out[f"{e.name}_time"], out[f"{e.name}_event"]
        t0, ev0 = out[f"{e.within}_time"], out[f"{e.within}_event"]
        bad = (t > t0) | ((ev0 == 1) & (ev == 0)) | ((ev == 0) & (t != t0))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise InputError(src, f"endpoint {e.name!r} is declared within {e.within!r}: its time "
                                  "must not exceed it, an event of the outer endpoint is one of "
                                  "it, and a censored time equals the outer time",
                             column=e.time, row=row)


def _switch(raw: pd.DataFrame, out: pd.DataFrame, study: Study, src) -> np.ndarray:
    sw = study.switch
    _need(raw, sw.time, "switch time", src)
    x = pd.to_numeric(raw[sw.time], errors="coerce").to_numpy(float)
    arm = out[sw.attribute].to_numpy() == 1
    first = out[f"{study.endpoints[0].name}_time"].to_numpy()
    bad = arm & (np.isnan(x) | (x < 0) | (np.ceil(x) > first))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError(src, f"switch time of a patient with {sw.attribute} = 1 must be a number "
                              "between 0 and the end of follow-up", column=sw.time, row=row)
    return np.where(arm, np.ceil(x), np.nan)
