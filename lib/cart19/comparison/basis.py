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


class Fixed:
    """Which patient sets the bound count targets fix.

    A set is fixed when it is a target (up to the implications of design.yml: ``{donor_pbmc}``
    and ``{prior_hsct, donor_pbmc}`` are one set), or when it is a fixed set minus a fixed subset
    (``{prior_hsct, ~donor_pbmc}`` = 16 - 2; ``{hsct, death, ~dc_relapse}`` = 5 - 2 deaths).
    """

    def __init__(self, targets, d):
        self.d = d
        self.sets = {d.closure(w) for w in targets} | {frozenset()}

    def __contains__(self, lits) -> bool:
        c = self.d.closure(lits)
        if c in self.sets:
            return True
        for neg in (x for x in lits if x.startswith("~")):
            rest = [x for x in lits if x != neg]
            if self.d.closure(rest) in self.sets and \
                    self.d.closure(rest + [neg[1:]]) in self.sets:
                return True
        return False


def honest_basis(reg: dict, claims: pd.DataFrame) -> dict:
    """A count is "fitted" only if the reconstruction really constrained those patients.

    The basis written above is what each number *would* be; here it is checked against the targets
    actually bound from this claims.csv (a target whose claim id is absent or overridden was not
    imposed): a count or percentage whose patient sets are not all fixed by the targets
    (:class:`Fixed`), and a P value over unfixed counts, is relabelled "emergent"; a count fixed
    only as a difference of targets is "derived". Kaplan-Meier and time targets likewise.
    """
    from cart19.record import design
    d = design.load()
    bound = T.bind(claims.set_index("id", drop=False))
    targets = [t.where for t, _ in bound.counts]
    exact = {d.closure(w) for w in targets} | {frozenset()}
    fixed = Fixed(targets, d)
    km_ids = {t.claim_id for t, _, _ in bound.km}
    kind = claims.set_index("id")["kind"]
    continuous = {cid for cid, s in d.counts.items() if s.fitted_by == "continuous"}
    out = {}
    for cid, (fn, basis) in reg.items():
        lits = getattr(fn, "literals", None)
        if cid in continuous:
            basis = "fitted"
        elif lits is not None and basis in ("fitted", "derived") and \
                not all(tuple(x) in fixed for x in lits):
            basis = "emergent"
        elif basis == "fitted" and (cid in T.OVERRIDDEN or overridden_fields(cid)):
            # the reconstruction was fitted to another reading of this claim, or of one of its
            # fields (a reading of data/published/readings.csv, e.g. tp53_relapse_minimum drops
            # only the minimum of a range): the value shown follows from what was fitted
            basis = "derived"
        elif lits is not None and basis == "fitted" and (
                kind.get(cid) == "percent" or not all(d.closure(x) in exact for x in lits)):
            # a percentage printed without its counts, or a count fixed only as a difference of
            # fitted counts, follows from the fit without being a target itself
            basis = "derived"
        out[cid] = (fn, basis)
    for cid, (fn, basis) in list(out.items()):
        if getattr(fn, "km", None) and not ({cid, fn.km} & km_ids):
            out[cid] = (fn, "emergent")
    from cart19.reconstruction.captions import targeted_claims
    for cid in targeted_claims(claims) & set(out):  # caption P and HR the day search fits (issue 16)
        out[cid] = (out[cid][0], "fitted")
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
