"""Targets of the general reconstruction engine, and the precision a paper prints them at.

The Zhang et al. (Blood Adv 2020) engine names each of its targets in code
(:mod:`cart19.reconstruction.targets`). The general engine reads them as data: a list of
:class:`Target` records, each a printed number with the *interval of true values that would
print the same* (63.9% is any KM value in [63.85, 63.95); "P < .0001" any P below 1e-4). The
engine aims at the interval, not at the printed digits, so a target derived from real data is
always attainable (the real data attain it).

Groups are conjunctions of binary literals (``"tp53"``, ``"~hsct"``), the project's literal
language (:func:`cart19.reconstruction.targets.where_mask`); two-arm comparisons name their arms A
and B the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cart19.reconstruction.targets import CountTarget

KINDS = ("count", "time", "km", "at_risk", "logrank_p", "hr")
TIME_STATS = ("median", "min", "max")
#: which times a ``time`` target summarises: the observed time of the first endpoint over every
#: patient of the group ("median follow-up"), the event times of an endpoint among the group's
#: patients with an event ("median time to relapse"), or the day patients entered arm A of a
#: time-dependent comparison ("median day of transplant")
TIME_COLUMNS = ("followup", "event", "switch")


@dataclass(frozen=True)
class Target:
    """One printed number: ``value`` as printed, [``lo``, ``hi``] the true values that print
    as it (``cmp`` '<' for a bound such as "P < .0001")."""
    id: str
    kind: str
    value: float
    lo: float
    hi: float
    where: tuple[str, ...] = ()
    endpoint: str | None = None
    stat: str | None = None          # time: median|min|max; hr: logrank|mantel_haenszel
    column: str | None = None        # time: followup|event|switch
    at: float | None = None          # km / at_risk: the time point
    a: tuple[str, ...] = ()          # logrank_p / hr: arm A
    b: tuple[str, ...] = ()          # logrank_p / hr: arm B
    cmp: str = "="
    printed: str = ""
    level: int = 1                   # the information level that prints it (1 or 2)
    tags: tuple[str, ...] = field(default=())

    def holds(self, x: float, slack: float = 0.0) -> bool:
        """Whether a reconstructed value prints as this target (within ``slack``)."""
        return bool(np.isfinite(x) and self.lo - slack <= x <= self.hi + slack)


def count_targets(targets) -> list[tuple[CountTarget, int]]:
    """The count targets in the form stage 1 (:mod:`cart19.reconstruction.milp`) takes."""
    return [(CountTarget(t.id, "n", tuple(t.where)), int(round(t.value)))
            for t in targets if t.kind == "count"]


# --------------------------------------------------------------------------------------------
# printed precision (the conventions of Zhang et al.: percentages to one decimal, P values to
# three decimals, one significant digit below .001 and "<.0001" below that, HRs to three
# significant digits)
# --------------------------------------------------------------------------------------------
def printed_percent(fraction: float, decimals: int = 1) -> tuple[float, float, float, str]:
    """(value, lo, hi, text) of a proportion printed as a percentage."""
    v = round(100.0 * float(fraction), decimals)
    h = 0.5 * 10.0 ** -decimals
    return v, max(0.0, v - h), min(100.0, v + h), f"{v:.{decimals}f}%"


def printed_p(p: float) -> tuple[float, float, float, str, str]:
    """(value, lo, hi, cmp, text) of a P value as the paper prints it."""
    p = float(p)
    if round(p, 3) >= 0.001:
        v = round(p, 3)
        return v, max(v - 0.0005, 0.00095), min(v + 0.0005, 1.0), "=", f"P = {_p_text(v, 3)}"
    if round(p, 4) >= 0.0001:
        v = round(p, 4)
        return v, max(v - 0.00005, 0.0), min(v + 0.00005, 0.00095), "=", f"P = {_p_text(v, 4)}"
    return 0.0001, 0.0, 0.0001, "<", "P < .0001"


def _p_text(v: float, decimals: int) -> str:
    return f"{v:.{decimals}f}".lstrip("0") if v < 1 else "1"


def printed_hr(hr: float, sig: int = 3) -> tuple[float, float, float, str]:
    """(value, lo, hi, text) of a hazard ratio printed to ``sig`` significant digits."""
    hr = float(hr)
    if not np.isfinite(hr) or hr <= 0:
        return hr, hr, hr, "NA"
    v = float(f"{hr:.{sig}g}")
    half = 0.5 * 10.0 ** (math.floor(math.log10(v)) - sig + 1)
    return v, v - half, v + half, f"{v:#.{sig}g}".rstrip(".")


def p_to_z(p: float) -> float:
    """|z| of a two-sided P (the log-rank chi-square is z squared)."""
    from scipy import stats
    return float(stats.norm.isf(max(float(p), 1e-300) / 2.0)) if p < 1 else 0.0


def frame(targets) -> pd.DataFrame:
    """Targets as a table (one row each, literals joined with '&'), for the reports."""
    rows = []
    for t in targets:
        rows.append({"id": t.id, "kind": t.kind, "level": t.level, "printed": t.printed,
                     "value": t.value, "lo": t.lo, "hi": t.hi, "cmp": t.cmp,
                     "where": "&".join(t.where), "endpoint": t.endpoint or "",
                     "stat": t.stat or "", "column": t.column or "",
                     "at": np.nan if t.at is None else t.at,
                     "a": "&".join(t.a), "b": "&".join(t.b)})
    return pd.DataFrame(rows)
