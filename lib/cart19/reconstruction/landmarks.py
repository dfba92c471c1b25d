"""Kaplan-Meier landmarks to the printed decimal, and the ones that cannot be (issue 16, item 1).

The paper prints 24 distinct Kaplan-Meier landmarks (Figures 2-7; Zhang et al., Blood Adv
2020;4(10):2325-2338), most of them two or three times (Abstract, Results, captions, Discussion):
61 printed numbers. A reconstructed landmark *reproduces* a printed one when it rounds to it, i.e.
lies within half a unit of its last printed digit ("63.9%": 63.85-63.95; "50%": 49.5-50.5). The
window of a landmark is the intersection of the windows of every printing of it.

Some windows cannot be met by any cohort that also meets the counts. This module finds them by
computation, not by assertion (:func:`audit`):

* **unreachable values.** A Kaplan-Meier estimate of a group of n patients is a product of
  factors (k - 1)/k, one per event at k at risk (ties are consecutive factors). :func:`reachable`
  enumerates, exactly (rational arithmetic), every value such products take for n patients with
  any pattern of events and censorings; if none lies in the window, the landmark conflicts with
  the count that fixes n. The nearest reachable values on either side are the aim instead.
* **identities between curves.** Under the reading that non-responders enter LFS as an event at
  time 0 (decision D09), the LFS curve of all infused patients is the responders' curve times
  (responders / infused), exactly, at every time; two windows that this map cannot join conflict.
  The subgroup's landmark is kept (every caption comparison is among responders) and the other
  one follows from it.

:func:`bind` gives the windows a search aims at (:class:`Landmark`), :func:`audit` the table of
every landmark claim with its window and, for the conflicts, the smallest set of claims involved
and the reason; :func:`audit_cohort` sets a cohort's landmarks beside them (does each round to
the printed value?). Which claims print which landmark is the design's
(``design.landmark_table()``); which are dropped, the readings registry's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from cart19.reconstruction import targets as T
from cart19.record import design

#: files read by default (the committed claims), for the build's declared reads
DATA_READS = ("data/published/claims.csv",)

#: inside every window by this much (percentage points): a value exactly on the edge of a
#: rounding interval (e.g. 11.55) is ambiguous between rounding rules and floating-point noise
EDGE = 1e-6
#: groups up to this size are enumerated exactly; larger ones are checked by a constructed witness
EXACT_MAX_N = 16


def _decimals(printed: str, percent: float) -> int:
    """Decimals of the printed percentage closest to ``percent`` in the printed text."""
    nums = re.findall(r"(\d+(?:\.\d+)?)\s*%", str(printed)) or re.findall(r"\d+(?:\.\d+)?", str(printed))
    if not nums:
        return 1
    best = min(nums, key=lambda s: abs(float(s) - percent))
    return len(best.split(".")[1]) if "." in best else 0


def printed_copies(claims: pd.DataFrame) -> dict[str, list[tuple[str, float, int]]]:
    """KM target id (the first printing, as design.yml names it) -> every printed landmark claim
    of it: (claim id, percent, decimals). ``claims`` indexed by claim id (targets.read_claims)."""
    out: dict[str, list] = {}
    for r in design.load().landmark_table().itertuples():
        row = claims.loc[r.claim]
        pct = float(row["percent"])
        out.setdefault(r.first, []).append((str(r.claim), pct, _decimals(row.get("printed", ""), pct)))
    return out


# ------------------------------------------------------------------------------------------
# which Kaplan-Meier values n patients can give
# ------------------------------------------------------------------------------------------
def reachable(n: int, lo: float, hi: float) -> list[Fraction]:
    """Every Kaplan-Meier value in [lo, hi] (fractions) that n patients can give, exactly.

    Patients leave the risk set one at a time: an event at k at risk multiplies the estimate by
    (k-1)/k, a censoring leaves it (tied events are consecutive factors, the same product). The
    enumeration runs over the at-risk count with every value so far, those below ``lo`` pruned
    (the estimate never rises); exact, for the small groups where it matters (n <= EXACT_MAX_N).
    Why own code: no library enumerates the support of a Kaplan-Meier estimator."""
    lo_f, hi_f = Fraction(lo).limit_denominator(10**9), Fraction(hi).limit_denominator(10**9)
    vals: set[Fraction] = {Fraction(1)}
    for k in range(n, 0, -1):
        vals |= {v * Fraction(k - 1, k) for v in vals if v * Fraction(k - 1, k) >= lo_f}
    return sorted(v for v in vals if lo_f <= v <= hi_f)


def witness(n: int, lo: float, hi: float) -> float | None:
    """A Kaplan-Meier value of n patients in [lo, hi], found by a beam over the values each
    at-risk count can reach (floating point, one value kept per 1e-5 bin); None if the beam
    finds none (then :func:`reachable` decides, for small groups). A value found is a proof of
    reachability: the floating-point error is far below the EDGE margin of the windows. The
    greedy path (an event at the largest risk set that does not overshoot) is tried first."""
    s, k = 1.0, n
    while k > 0 and s > hi:
        s, k = (s * (k - 1) / k if s * (k - 1) / k >= lo else s), k - 1
    if lo <= s <= hi:
        return s
    vals = np.array([1.0])
    for k in range(n, 0, -1):
        down = vals * ((k - 1) / k)
        vals = np.concatenate([vals, down[down >= lo]])
        _, keep = np.unique(np.round(vals, 5), return_index=True)
        vals = vals[keep]
        hit = vals[(vals >= lo) & (vals <= hi)]
        if len(hit):
            return float(hit[0])
    return None


def nearest_reachable(n: int, lo: float, hi: float) -> tuple[float, float]:
    """The reachable values of n patients nearest below ``lo`` and above ``hi`` (fractions)."""
    below = reachable(n, max(0.0, lo - 0.2), lo)
    above = reachable(n, hi, min(1.0, hi + 0.2))
    return (float(below[-1]) if below else 0.0, float(above[0]) if above else 1.0)


# ------------------------------------------------------------------------------------------
# windows and conflicts
# ------------------------------------------------------------------------------------------
@dataclass
class Landmark:
    """One KM target with every printing of it and the window the day search aims at."""
    target: T.KMTarget
    days: float
    copies: list[tuple[str, float, int]]           # (claim id, percent, decimals)
    lo: float                                      # printed window (percent), intersection
    hi: float
    aim: tuple[float, float] | None                # the window searched for (None: not a target)
    status: str = "print"                          # print | unreachable | follows | conflict
    #: (``audit`` shows "print" as "reachable": no count rules it out on its own)
    conflict: list[str] = field(default_factory=list)   # smallest set of claims in conflict
    reason: str = ""

    @property
    def published(self) -> float:
        """The printed value with the most decimals (the target's own claim on ties)."""
        own = [c for c in self.copies if c[0] == self.target.claim_id]
        best = max(self.copies, key=lambda c: (c[2], c in own))
        return best[1]


#: attributes that imply another (the clinical logic of cart19.reconstruction.milp): a group
#: "cri" is the group "cr & cri"
IMPLIES = {"cri": "cr", "mrd_neg": "cr", "hsct": "cr", "relapse": "cr"}


def _reduced(where: frozenset) -> frozenset:
    return frozenset(x for x in where if not any(IMPLIES.get(y) == x for y in where))


def _group_size(bound: T.BoundTargets, where: tuple[str, ...]) -> tuple[int, list[str]] | None:
    """The count claim(s) that fix the size of a group: one whose patients are exactly the group,
    or a group minus its complement within it (A & ~b = A - A & b)."""
    by: dict = {}
    for fld in ("n", "N"):
        for t, v in bound.counts:
            by.setdefault(_reduced(frozenset(t.where)), (v, t.claim_id)) if t.field == fld else None
    key = _reduced(frozenset(where))
    if key in by:
        return by[key][0], [by[key][1]]
    for lit in where:
        if lit.startswith("~"):
            rest = _reduced(frozenset(x for x in where if x != lit))
            with_b = _reduced(rest | {lit[1:]})
            if rest in by and with_b in by:
                return by[rest][0] - by[with_b][0], [by[rest][1], by[with_b][1]]
    return None


def bind(claims: pd.DataFrame, bound: T.BoundTargets, n_patients: int) -> list[Landmark]:
    """Every KM target with its printed window and aim (see the module docstring)."""
    copies = printed_copies(claims)
    days = {t.claim_id: d for t, _p, d in bound.km}
    out = []
    for t in T.KM_TARGETS:
        if t.claim_id not in days:
            continue
        used = [c for c in copies[t.claim_id] if c[0] not in T.OVERRIDDEN] or \
            [(t.claim_id, float(claims.loc[t.claim_id, "percent"]), 1)]
        lo = max(p - 0.5 * 10.0 ** -dec for _c, p, dec in used)
        hi = min(p + 0.5 * 10.0 ** -dec for _c, p, dec in used)
        lm = Landmark(t, days[t.claim_id], copies[t.claim_id], lo, hi, (lo + EDGE, hi - EDGE))
        if lo > hi:
            lm.status, lm.aim = "conflict", None
            lm.conflict = [c[0] for c in used]
            lm.reason = "its printings disagree: " + ", ".join(f"{c[0]} {c[1]:g}%" for c in used)
        out.append(lm)
    for lm in out:
        if lm.status == "print":
            _check_reachable(lm, bound)
    _check_identities(out, bound, n_patients)
    for lm in out:
        for cid, _p, _d in lm.copies:
            if cid in T.OVERRIDDEN:
                lm.reason = (lm.reason + "; " if lm.reason else "") + \
                    f"{cid} dropped by a reading (data/published/readings.csv)"
    return out


def _check_reachable(lm: Landmark, bound: T.BoundTargets) -> None:
    size = _group_size(bound, lm.target.where)
    if size is None:
        return
    n, ids = size
    lo, hi = lm.lo / 100.0 + EDGE / 100, lm.hi / 100.0 - EDGE / 100
    if witness(n, lo, hi) is not None:
        return
    if n > EXACT_MAX_N:  # too big to enumerate and no witness found: say so, do not assume
        lm.reason = f"no witness found for {n} patients; not enumerated (n > {EXACT_MAX_N})"
        return
    if reachable(n, lo, hi):
        return
    lo, hi = lm.lo / 100.0, lm.hi / 100.0
    below, above = nearest_reachable(n, lo, hi)
    lm.status = "unreachable"
    lm.aim = (100 * below - EDGE, 100 * above + EDGE)
    lm.conflict = [c[0] for c in lm.copies if c[0] not in T.OVERRIDDEN] + ids
    lm.reason = (f"no Kaplan-Meier estimate of {n} patients lies in {lm.lo:.2f}-{lm.hi:.2f}% "
                 f"(exact enumeration of every event and censoring pattern); the nearest values "
                 f"are {100 * below:.2f}% and {100 * above:.2f}%")


def _check_identities(lms: list[Landmark], bound: T.BoundTargets, n_patients: int) -> None:
    """LFS of a group with non-responders = (responders / all) x the responders' LFS (D09)."""
    by = {(lm.target.endpoint, frozenset(lm.target.where), lm.days): lm for lm in lms}
    for lm in lms:
        t = lm.target
        if t.endpoint != "lfs" or "cr" in t.where or lm.status != "print":
            continue
        sub = by.get(("lfs", frozenset(t.where) | {"cr"}, lm.days))
        big = _group_size(bound, t.where) if t.where else (n_patients, ["title.n_patients"])
        small = _group_size(bound, tuple(t.where) + ("cr",))
        if sub is None or sub.aim is None or big is None or small is None:
            continue
        ratio = small[0] / big[0]
        lo, hi = sub.aim[0] * ratio, sub.aim[1] * ratio
        if lo <= lm.hi and hi >= lm.lo:
            continue
        lm.status, lm.aim = "follows", None
        lm.conflict = ([c[0] for c in lm.copies if c[0] not in T.OVERRIDDEN]
                       + [c[0] for c in sub.copies if c[0] not in T.OVERRIDDEN]
                       + big[1] + small[1] + ["D09"])
        lm.reason = (f"with non-responders an LFS event at time 0 (D09) this curve is "
                     f"{small[0]}/{big[0]} of the responders' ({sub.target.claim_id}) at every time: "
                     f"{sub.lo:.2f}-{sub.hi:.2f}% there gives {lo:.2f}-{hi:.2f}% here, not "
                     f"{lm.lo:.2f}-{lm.hi:.2f}%; the responders' landmark is kept and this one "
                     f"follows from it")


def audit(landmarks: list[Landmark]) -> pd.DataFrame:
    """One row per printed landmark claim: its target, printed value and window, the aim of the
    search, the status and, for conflicts, the claims involved and why."""
    rows = []
    for lm in landmarks:
        for cid, pct, dec in lm.copies:
            half = 0.5 * 10.0 ** -dec
            rows.append({
                "claim_id": cid, "target": lm.target.claim_id, "endpoint": lm.target.endpoint,
                "days": lm.days, "published": pct, "window_low": round(pct - half, 4),
                "window_high": round(pct + half, 4),
                "aim_low": np.nan if lm.aim is None else round(lm.aim[0], 4),
                "aim_high": np.nan if lm.aim is None else round(lm.aim[1], 4),
                "status": "overridden" if cid in T.OVERRIDDEN else
                ("reachable" if lm.status == "print" else lm.status),
                "conflict": "; ".join(lm.conflict), "reason": lm.reason})
    return pd.DataFrame(rows)


#: the claim of the cohort size (the title's 110 patients; the Results' 110 infused agree)
N_PATIENTS_CLAIM = "title.n_patients"


def landmarks_of(claims_path=None) -> list[Landmark]:
    """:func:`bind` on a claims file (default: the committed one)."""
    from cart19.paths import CLAIMS_CSV

    path = CLAIMS_CSV if claims_path is None else claims_path
    claims = T.read_claims(path)
    bound = T.bind(claims, path)
    n = round(T.claim_value(claims, N_PATIENTS_CLAIM, "n", path))
    return bind(claims, bound, n)


def audit_cohort(cohort: pd.DataFrame, claims_path=None) -> pd.DataFrame:
    """Every printed Kaplan-Meier landmark (Figures 2-7 and their repeats in the text) beside the
    cohort's, to the printed decimal: :func:`audit` plus ``reproduced`` (percent, computed as the
    scorecard does, :func:`cart19.comparison.reproducers.km_at`), ``difference`` and ``rounds``
    (|difference| <= half a unit of the last printed digit). Serves issue 16, item 1 and the
    audit chapter."""
    from cart19.comparison import reproducers as R

    lms = landmarks_of(claims_path)
    table = audit(lms)
    ctx = R.Context(R.attribute_frame(cohort))
    by_target = {lm.target.claim_id: lm for lm in lms}
    rep = []
    for t in table.itertuples():
        lm = by_target[t.target]
        rep.append(R.km_at(lm.target.endpoint, tuple(lm.target.where), lm.days)(ctx)["percent"])
    table.insert(table.columns.get_loc("window_low"), "reproduced", np.round(rep, 2))
    table.insert(table.columns.get_loc("window_low"), "difference",
                 np.round(np.asarray(rep) - table["published"], 2))
    table["rounds"] = (np.asarray(rep) >= table["window_low"] - 1e-9) & \
        (np.asarray(rep) <= table["window_high"] + 1e-9)
    return table


def summary(table: pd.DataFrame) -> dict:
    """Counts for the text: claims and distinct landmarks, how many the record itself rules out
    (unreachable / follows / conflict); with a cohort (:func:`audit_cohort`) how many round to
    print and the mean |difference| over the distinct landmarks."""
    distinct = table.drop_duplicates("target")
    out = {"claims": len(table), "distinct": len(distinct),
           "conflicts": int(distinct["status"].isin(["unreachable", "follows", "conflict"]).sum())}
    if "rounds" in table.columns:
        used = table[table["status"] != "overridden"]
        out.update(claims_rounding=int(table["rounds"].sum()),
                   distinct_rounding=int(used.groupby("target")["rounds"].all().sum()),
                   mean_abs_difference=float(distinct["difference"].abs().mean()))
    return out


def by_landmark(table: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct landmark of :func:`audit` (or :func:`audit_cohort`) grouped by
    target: the window every printing of it allows, the status and reason, the claims in
    conflict and how many claims print it; with a cohort, its value and whether it rounds to
    every printing."""
    rows = []
    for target, g in table.groupby("target", sort=False):
        used = g[g["status"] != "overridden"]
        used = used if len(used) else g
        row = {"landmark": target, "endpoint": g["endpoint"].iloc[0],
               "printed": "; ".join(dict.fromkeys(f"{p:g}%" for p in g["published"])),
               "window_low": float(used["window_low"].max()),
               "window_high": float(used["window_high"].min())}
        if "reproduced" in g.columns:
            row.update(reproduced=float(g["reproduced"].iloc[0]), rounds=bool(used["rounds"].all()))
        row.update(status=used["status"].iloc[0], claims=len(g), conflict=used["conflict"].iloc[0],
                   reason="; ".join(dict.fromkeys(r for r in g["reason"] if r)))
        rows.append(row)
    return pd.DataFrame(rows)
