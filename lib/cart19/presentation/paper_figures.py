"""Figures 2-7 of Zhang et al. 2020 regenerated from the cohort (Kaplan-Meier, OS and LFS).

Each paper figure is a pair of panels (A: OS, B: LFS; Figure 2 has four, A-D, for all 110 patients
and the 102 responders). The arms are the ones :mod:`cart19.comparison.reproduce` uses for the captions'
landmarks, log-rank P values and hazard ratios (``reproduce.FIG_ARMS``), so a figure and the
numbers printed beside it always describe the same patients.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cart19.presentation import figures
from cart19.comparison.reproduce import FIG_ARMS, Context, attribute_frame

#: figure -> (title, label of the first-named arm, label of the second). Labels are short enough
#: for the at-risk rows under a figure of the book's width.
TITLES = {
    "fig3": ("Allo-HSCT after CAR T vs CAR T alone", "Bridged into allo-HSCT", "CAR T alone"),
    "fig4": ("CR vs CRi on day 30", "CR", "CRi"),
    "fig5": ("MRD-negative vs MRD-positive CR", "MRD-negative CR", "MRD-positive CR"),
    "fig6": ("TP53 mutation", "TP53 mutated", "TP53 wild type"),
    "fig7": ("Previous allo-HSCT", "Relapse after HSCT", "No previous HSCT"),
}
#: The curves are drawn against months (days / 30.4375) with a tick, and an at-risk count, every
#: 3 months: follow-up ends at 478 days (15.7 months), so 0-15 gives 6 evenly spaced ticks and the
#: paper's 6-month and 1-year landmarks fall on ticks. Day-based numbers elsewhere are unchanged
#: (log-rank P and HRs do not depend on the time unit).
DAYS_PER_MONTH = 365.25 / 12
AT_RISK_MONTHS = (0, 3, 6, 9, 12, 15)
XLABEL = "Months after CAR T-cell infusion"


def _in_months(data: pd.DataFrame) -> pd.DataFrame:
    """``os_months`` and ``lfs_months`` beside the day columns, for plotting only."""
    return data.assign(os_months=data["os_days"] / DAYS_PER_MONTH,
                       lfs_months=data["lfs_days"] / DAYS_PER_MONTH)


def arm_frame(cohort: pd.DataFrame, fig: str) -> pd.DataFrame:
    """The responders of one comparison with a column ``arm`` holding the printed arm labels."""
    ctx = Context(attribute_frame(cohort))
    a, b = FIG_ARMS[fig]
    ma, mb = ctx.mask(a), ctx.mask(b)
    out = ctx.data.loc[ma | mb].copy()
    _, la, lb = TITLES[fig]
    out["arm"] = np.where(ma[ma | mb], la, lb)
    return out


def hr_reading(fig: str, endpoint: str) -> tuple[str, str]:
    """(reference arm label, Prism method) of the hazard ratio the paper's caption prints for one
    panel: the orientation the caption's words give it and the GraphPad variant, both read from
    the design (``data/published/design.yml``, :mod:`cart19.record.design`)."""
    from cart19.record import design

    spec = design.load().comparisons[fig].endpoints[endpoint].hr
    _title, la, lb = TITLES[fig]
    ref = lb if spec.orientation == "a_vs_b" else la
    method = spec.variant if spec.variant in ("logrank", "mantel_haenszel") else "logrank"
    return ref, method


def paper_figure(cohort: pd.DataFrame, fig: str) -> Figure:
    """Figure 3-7: OS (A) and LFS (B) by arm, with at-risk table, log-rank P and Prism HR.

    Each panel's HR is the one its caption prints, like for like: the same Prism method and the
    same orientation (which the paper's captions change between OS and LFS), from
    :func:`hr_reading`. The figure is marked as drawn from the reconstructed cohort.
    """
    data = _in_months(arm_frame(cohort, fig))
    panels = []
    for ep, title, dur, ev in (("os", "Overall survival", "os_months", "os_event"),
                               ("lfs", "Leukemia-free survival", "lfs_months", "lfs_event")):
        ref, method = hr_reading(fig, ep)
        panels.append({"duration": dur, "event": ev, "title": title, "ref": ref,
                       "hr_method": method})
    return figures.km_panel(data, panels, group="arm", times_at_risk=AT_RISK_MONTHS,
                            xlabel=XLABEL, mark=figures.RECONSTRUCTED)


def figure2(cohort: pd.DataFrame) -> Figure:
    """Figure 2: OS and LFS for all 110 infused patients (A-B) and the 102 responders (C-D)."""
    ctx = Context(attribute_frame(cohort))
    everyone = _in_months(ctx.data)
    responders = everyone.loc[ctx.mask(("cr",))]
    n_all, n_cr = len(everyone), len(responders)
    panels = [
        {"duration": "os_months", "event": "os_event", "df": everyone,
         "title": f"OS, all infused (n = {n_all})"},
        {"duration": "lfs_months", "event": "lfs_event", "df": everyone,
         "title": f"LFS, all infused (n = {n_all})"},
        {"duration": "os_months", "event": "os_event", "df": responders,
         "title": f"OS, patients in CR (n = {n_cr})"},
        {"duration": "lfs_months", "event": "lfs_event", "df": responders,
         "title": f"LFS, patients in CR (n = {n_cr})"},
    ]
    return figures.km_panel(everyone, panels, times_at_risk=AT_RISK_MONTHS, ncols=2,
                            xlabel=XLABEL, mark=figures.RECONSTRUCTED)


def landmark_table(cohort: pd.DataFrame, days: float) -> pd.DataFrame:
    """OS and LFS (Kaplan-Meier, %) at any landmark for every arm of Figures 2-7.

    The paper prints 1-year (6-month for TP53) landmarks; this answers the same question at the
    landmark a reader chooses (book parameter ``landmark_days``).
    """
    from cart19.stats import survival

    ctx = Context(attribute_frame(cohort))
    arms = [("Figure 2", "All infused", ()), ("Figure 2", "Patients in CR", ("cr",))]
    for fig, (a, b) in FIG_ARMS.items():
        _, la, lb = TITLES[fig]
        arms += [(f"Figure {fig[-1]}", la, a), (f"Figure {fig[-1]}", lb, b)]
    rows = []
    for fig, label, lits in arms:
        sub = ctx.data.loc[ctx.mask(tuple(lits))]
        row = {"Figure": fig, "Group": label, "n": len(sub)}
        for ep, (dur, ev) in (("OS", ("os_days", "os_event")), ("LFS", ("lfs_days", "lfs_event"))):
            t = survival.km_table(sub, dur, ev, times=[days]).iloc[0]
            row[f"{ep} at {days:g} d (%)"] = round(100 * float(t["survival"]), 1)
            row[f"{ep} at risk"] = int(t["n_at_risk"])
        rows.append(row)
    return pd.DataFrame(rows)
