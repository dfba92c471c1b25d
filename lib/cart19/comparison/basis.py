"""The basis of every reproduced claim: fitted, derived or emergent, checked against the targets.

A number is *fitted* only if the reconstruction really constrained those patients (a target
bound from this claims.csv), *derived* when it follows arithmetically from fitted numbers (a
percentage of fitted counts, a crosstab P of fitted cells, a claim whose printed reading was
dropped in favour of another that was fitted), *emergent* when nothing fitted fixes it.
The notes say which reading of ``data/published/readings.csv`` drops a claim or one of its fields.
"""
from __future__ import annotations

import pandas as pd

from cart19.reconstruction import targets as T

FIELDS = ("n", "N", "percent", "mean", "dispersion", "median", "min", "max", "value", "hr",
          "ci_low", "ci_high", "p")


def honest_basis(reg: dict, claims: pd.DataFrame) -> dict:
    """A count is "fitted" only if the reconstruction really constrained those patients.

    The basis written above is what each number *would* be; here it is checked against the targets
    actually bound from this claims.csv (a target whose claim id is absent or overridden was not
    imposed): a count or percentage whose patient sets are not all targeted, and a P value over
    untargeted counts, is relabelled "emergent". Kaplan-Meier and time targets likewise.
    """
    bound = T.bind(claims.set_index("id", drop=False))
    targeted = {frozenset(t.where) for t, _ in bound.counts} | {frozenset()}
    km_ids = {t.claim_id for t, _, _ in bound.km}
    kind = claims.set_index("id")["kind"]
    out = {}
    for cid, (fn, basis) in reg.items():
        lits = getattr(fn, "literals", None)
        if lits is not None and basis in ("fitted", "derived") and \
                not all(frozenset(x) in targeted for x in lits):
            basis = "emergent"
        elif basis == "fitted" and (cid in T.OVERRIDDEN or overridden_fields(cid)):
            # the reconstruction was fitted to another reading of this claim, or of one of its
            # fields (a reading of data/published/readings.csv, e.g. tp53_relapse_minimum drops
            # only the minimum of a range): the value shown follows from what was fitted
            basis = "derived"
        elif lits is not None and basis == "fitted" and kind.get(cid) == "percent":
            # a percentage printed without its counts follows from fitted counts: the
            # reconstruction matched the counts, the printed rounding is the paper's
            basis = "derived"
        out[cid] = (fn, basis)
    for cid, (fn, basis) in list(out.items()):
        if getattr(fn, "km", None) and not ({cid, fn.km} & km_ids):
            out[cid] = (fn, "emergent")
    return out


def reading_label(d) -> str:
    return f"{d.key} ({d.alias})" if d.alias else d.key


def overridden_fields(claim_id: str) -> dict[str, str]:
    """Fields of a claim that a reading drops on their own (``"<id>:<field>"`` in
    :data:`cart19.reconstruction.targets.OVERRIDDEN`, e.g. the minimum of
    ``results.tp53.relapse_time``): field -> the reading's label."""
    out = {}
    for d in T.DECISIONS:
        for o in d.overridden:
            cid, _, fld = o.partition(":")
            if fld and cid == claim_id:
                out[fld] = reading_label(d)
    return out


def override_note(claim_id: str, claims: pd.DataFrame) -> str:
    """Why a reproduced claim is not a target: the reading(s) of data/published/readings.csv that
    drop it as a whole or field by field ("" when none does)."""
    whole = [reading_label(d) for d in T.DECISIONS if claim_id in d.overridden]
    if whole:
        return (f"dropped by reading {', '.join(whole)} (data/published/readings.csv): not a "
                "target of the reconstruction")
    fields = overridden_fields(claim_id)
    if not fields:
        return ""
    row = claims.loc[claims["id"] == claim_id]
    printed = [f for f in FIELDS if not row.empty and f in row.columns and pd.notna(row[f].iloc[0])]
    kept = [f for f in printed if f not in fields]
    by_key: dict[str, list[str]] = {}
    for f, key in fields.items():
        by_key.setdefault(key, []).append(f)
    parts = [f"{', '.join(fs)} dropped by reading {key} (data/published/readings.csv)"
             for key, fs in by_key.items()]
    return "; ".join(parts) + (f": not targeted; {', '.join(kept)} fitted" if kept else "")
