"""The aggregates a paper like Zhang et al. prints, derived from a patient-level table.

To validate the reconstruction on a trial whose patients are known, we first write the paper
that trial would have produced had it been reported the way Zhang et al. (Blood Adv 2020)
report theirs, at their printed precision, and give the engine only that.

Information levels:

``margins`` (a baseline)
    the cohort's margins: how many patients have each characteristic (Table 1), the events of
    each endpoint, median and range of follow-up and of event times, the overall 1-year
    landmark (Figure 2). Nothing links a characteristic to survival.
``1`` (what this paper prints)
    margins, plus: each characteristic by the two arms (Table 4), the response by every
    characteristic (Table 3), events by arm and by each level of every subgroup figure (Results
    text), median and range of event times by arm, of the switch day (Table 4), the landmark
    of both levels of the arm and of every subgroup figure (Figures 3-7), and each figure's
    caption: log-rank P and hazard ratio (variant and orientation from the study).
``2`` (a paper that also printed numbers at risk and P values)
    level 1, plus: numbers at risk under the curves of the main figures (overall, the arm and
    every subgroup figure) every ``at_risk_every`` time units, and for every other
    characteristic the landmarks, events and log-rank P of a supplementary figure (P only, no
    HR and no numbers at risk, as Zhang's supplementary Figure S2 would print them).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.reconstruction import general_survival as gs
from cart19.reconstruction.general_study import Comparison, Study
from cart19.reconstruction.general_targets import (Target, printed_hr, printed_p,
                                                   printed_percent)
from cart19.reconstruction.targets import where_mask

LEVELS = ("margins", 1, 2)


def _join(w) -> str:
    return "&".join(w) if w else "all"


def _neg(name: str) -> tuple[str, ...]:
    return (name[1:],) if name.startswith("~") else ("~" + name,)


def counts(table: pd.DataFrame, study: Study, level) -> list[Target]:
    """Count targets (exact): Table 1 margins, Table 3/4 cross-tabs, events by group."""
    out: dict[tuple, Target] = {}

    def add(where, lv, why):
        key = tuple(sorted(where))
        if key not in out:
            v = float(where_mask(table, tuple(where)).sum())
            out[key] = Target(f"count:{_join(where)}", "count", v, v, v, tuple(where),
                              printed=f"{int(v)}", level=lv, tags=(why,))

    for a in study.names:
        add((a,), 0, "table1")
    for e in study.endpoints:
        add((f"event_{e.name}",), 0, "events")
    if level == "margins":
        return list(out.values())
    _crosstabs(study, add)
    for c in _curves(study, level):
        for e in study.endpoints:
            for w in (c.a, c.b):
                add(w + (f"event_{e.name}",), 1 if c in study.comparisons else 2, "events")
    return list(out.values())


def _crosstabs(study: Study, add) -> None:
    """The Table 4 cross-tabs (each characteristic by arm) and Table 3's (each by response)."""
    arm = study.arm
    add(arm.a, 1, "table4")
    add(arm.b, 1, "table4")
    for g in study.names:
        if g not in arm.literals:
            add(arm.a + (g,), 1, "table4")
            add(arm.b + (g,), 1, "table4")
        if study.response and g != study.response:
            add((g, study.response), 1, "table3")


def _curves(study: Study, level) -> list[Comparison]:
    """Comparisons whose curves are printed: the arm and the figures; at level 2 also one
    supplementary figure per remaining characteristic."""
    if level == "margins":
        return []
    comps = list(study.comparisons)
    if level == 2:
        used = set().union(*(c.literals for c in comps))
        comps += [Comparison(g, (g,), _neg(g), study.label(g)) for g in study.names
                  if g not in used and g != study.response]
    return comps


def times(table: pd.DataFrame, study: Study, level) -> list[Target]:
    """Medians and ranges: follow-up, event times (overall; by arm from level 1), switch day."""
    first = study.endpoints[0].name
    out = []

    def add(column, ep, where, values, lv):
        if not len(values):
            return
        for stat, f in (("median", np.median), ("min", np.min), ("max", np.max)):
            v = float(f(values))
            out.append(Target(f"time:{column}:{ep}:{_join(where)}:{stat}", "time", v, v, v,
                              tuple(where), ep, stat, column,
                              printed=f"{stat} {v:g}", level=lv))

    add("followup", first, (), table[f"{first}_time"].to_numpy(), 0)
    for e in study.endpoints:
        ev = table[f"{e.name}_event"].to_numpy() == 1
        add("event", e.name, (), table[f"{e.name}_time"].to_numpy()[ev], 0)
        if level != "margins":
            for w in (study.arm.a, study.arm.b):
                m = where_mask(table, w) & ev
                add("event", e.name, w, table[f"{e.name}_time"].to_numpy()[m], 1)
    if study.switch is not None:
        sw = table["switch_time"].to_numpy()
        add("switch", None, (study.switch.attribute,), sw[np.isfinite(sw)], 0)
    return out


def curves(table: pd.DataFrame, study: Study, level) -> list[Target]:
    """Landmarks, numbers at risk (level 2) and caption P / HR of the printed curves."""
    out = []
    lm = study.landmark
    for e in study.endpoints:
        t, ev = table[f"{e.name}_time"].to_numpy(), table[f"{e.name}_event"].to_numpy()
        groups = [((), 0)] + [(w, 1 if c in study.comparisons else 2)
                              for c in _curves(study, level) for w in (c.a, c.b)]
        masks = np.array([where_mask(table, w) for w, _ in groups])
        rs = gs.risk_sets(t, ev, masks)
        s = gs.km(rs, [lm])[:, 0]
        horizon = float(t.max())
        risk_at = np.arange(study.at_risk_every, horizon + 1e-9, study.at_risk_every)
        nr = gs.at_risk(t, masks, risk_at) if level == 2 else None
        for g, (w, lv) in enumerate(groups):
            v, lo, hi, text = printed_percent(s[g])
            out.append(Target(f"km:{e.name}:{_join(w)}:{lm:g}", "km", v, lo, hi, tuple(w),
                              e.name, at=lm, printed=text, level=lv))
            for j, at in enumerate(risk_at if nr is not None and lv < 2 else []):
                k = float(nr[g, j])
                out.append(Target(f"at_risk:{e.name}:{_join(w)}:{at:g}", "at_risk", k, k, k,
                                  tuple(w), e.name, at=float(at), printed=f"{int(k)}", level=2))
        for c in _curves(study, level):
            out += _caption(t, ev, table, c, e.name, 1 if c in study.comparisons else 2)
    return out


def _caption(t, ev, table, c: Comparison, ep: str, lv: int) -> list[Target]:
    """A figure caption: log-rank P and (for the study's own figures) the HR as oriented."""
    masks = np.array([where_mask(table, c.a), where_mask(table, c.b)])
    lr = gs.logrank(gs.risk_sets(t, ev, masks), 0, 1)
    v, lo, hi, cmp_, text = printed_p(lr.p)
    out = [Target(f"p:{ep}:{c.name}", "logrank_p", v, lo, hi, endpoint=ep, a=c.a, b=c.b,
                  cmp=cmp_, printed=text, level=lv)]
    if lv == 2:
        return out
    hr = lr.hr(c.variant)
    a, b = (c.a, c.b) if c.orientation == "a_vs_b" else (c.b, c.a)
    shown = hr if c.orientation == "a_vs_b" else 1.0 / hr
    hv, hlo, hhi, htext = printed_hr(shown)
    if np.isfinite(hv) and hv > 0:
        out.append(Target(f"hr:{ep}:{c.name}", "hr", hv, hlo, hhi, endpoint=ep, stat=c.variant,
                          a=a, b=b, printed=f"HR {htext}", level=lv))
    return out


def with_event_attrs(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The table with stage 1's event indicators (``event_<endpoint>``) beside the columns."""
    t = table.copy()
    for e in study.endpoints:
        t[f"event_{e.name}"] = t[f"{e.name}_event"].astype(int)
    return t


def derive(table: pd.DataFrame, study: Study, level) -> list[Target]:
    """Every aggregate of ``level`` (``"margins"``, 1 or 2), derived from the true table."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    t = with_event_attrs(table, study)
    return counts(t, study, level) + times(t, study, level) + curves(t, study, level)


def targeted_comparisons(study: Study, level) -> dict[str, str]:
    """Characteristic -> what is printed about its survival comparison at ``level``:
    ``"p+hr"`` (a figure with caption P and HR), ``"p"`` (a supplementary P) or ``""``."""
    out = {g: "" for g in study.names}
    for c in _curves(study, level):
        for g in c.literals:
            out[g] = "p+hr" if c in study.comparisons else "p"
    return out
