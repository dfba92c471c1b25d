"""The ensemble chapter's tables and figures (chapter 25): statistics over many reconstructed cohorts.

The statistics themselves are computed by :mod:`cart19.comparison.ensemble` (``ensemble_stats``,
``ensemble_summary``, ``chain_diagnostics``); this module only shows them: human names for each
statistic (:func:`stat_label`), the journal tables, and the distribution plots.
"""
from __future__ import annotations

import pandas as pd

from cart19.presentation import journal as J
from cart19.presentation.forest import FACTORS, OUTCOMES, TABLE5
from cart19.presentation.subgroups import COVARIATE_TEXT
from cart19.presentation.paper_figures import TITLES

FAMILIES = {"figure": "Survival comparisons of Figures 3-7 (log-rank)",
            "table5": "Table 5, multivariable Cox model (Wald)",
            "table3": "Table 3, subgroup comparisons"}
_OUTCOMES = {**OUTCOMES, "carpeak": "CAR T-cell peak"}
_ENDPOINTS = {"os": "OS", "lfs": "LFS"}


def stat_label(stat: str, short: bool = False) -> str:
    """A statistic's id ("fig3.os", "table5.lfs.tp53", "table3.cr.age") in words; ``short``
    leaves out the table ("OS: CD28 vs 4-1BB"), for a table of one family."""
    parts = str(stat).split(".")
    if parts[0].startswith("fig") and parts[0] in TITLES and len(parts) > 1:
        title, a, b = TITLES[parts[0]]
        text = f"{_ENDPOINTS.get(parts[1], parts[1])}: {a} vs {b}"
        return f"{text} (Figure {parts[0][3:]})" if short else f"Figure {parts[0][3:]}, {text}"
    if parts[0] == "table5" and len(parts) > 2:
        label = COVARIATE_TEXT.get(parts[2], TABLE5.get(parts[2], parts[2]))
        return f"{'' if short else 'Table 5, '}{_ENDPOINTS.get(parts[1], parts[1])}: {label}"
    if parts[0] == "table3" and len(parts) > 2:
        factor = FACTORS.get(parts[2], (parts[2],))[0]
        return f"{'' if short else 'Table 3, '}{_OUTCOMES.get(parts[1], parts[1])}: {factor}"
    return str(stat)


def _interval(lo, hi, fmt) -> str:
    if J._missing(lo) or J._missing(hi):
        return ""
    return f"{fmt(lo)} to {fmt(hi)}"


def summary_table(summary: pd.DataFrame, family: str | None = None) -> J.JournalTable:
    """:func:`cart19.comparison.ensemble.ensemble_summary` (of one ``family``: "figure",
    "table5", "table3"; default all, grouped) as a journal table: per statistic the published P
    (and HR) beside the ensemble's median and 2.5-97.5 percentile range, the share of cohorts in
    which the published conclusion holds, and the verdict. All columns are kept in the CSV."""
    sel = summary if family is None else summary[summary["family"] == family]
    with_hr = bool(sel["published_hr"].notna().any()) if "published_hr" in sel else False
    rows = []
    for r in sel.to_dict("records"):
        row = {
            "family": FAMILIES.get(r.get("family"), str(r.get("family", ""))),
            "stat": J.esc(stat_label(r["stat"], short=True)),
            "p_pub": J.esc(J.fmt_p(r.get("published_p"), r.get("published_p_cmp"))),
            "p_med": J.esc(J.fmt_p(r.get("p_median"))),
            "p_range": J.esc(_interval(r.get("p_lo"), r.get("p_hi"), J.fmt_p)),
            "holds": J.esc("" if J._missing(r.get("frac_holds")) else
                           f"{100 * float(r['frac_holds']):.0f}%"),
            "verdict": J.esc(str(r.get("verdict", "")).replace(">=", "≥")) + (
                "<br>" + J.small(J.esc(r["note"])) if not J._missing(r.get("note")) else ""),
            "id": J._id_cell(r["stat"]),
        }
        if with_hr:
            row.update({
                "hr_pub": J.esc(J.fmt_num(r.get("published_hr"), sig=3)),
                "hr_med": J.esc(J.fmt_num(r.get("hr_median"), sig=3)),
                "hr_range": J.esc(_interval(r.get("hr_lo"), r.get("hr_hi"),
                                            lambda x: J.fmt_num(x, sig=3)))})
        rows.append(row)
    order = ["family", "stat", "p_pub", "p_med", "p_range"] + (
        ["hr_pub", "hr_med", "hr_range"] if with_hr else []) + ["holds", "verdict", "id"]
    cells = pd.DataFrame(rows).reindex(columns=order)
    groups = family is None
    if not groups:
        cells = cells.drop(columns="family")
    labels = {"stat": "Statistic", "p_pub": "Published", "p_med": "Median",
              "p_range": "2.5-97.5%", "hr_pub": "Published", "hr_med": "Median",
              "hr_range": "2.5-97.5%", "holds": "Conclusion holds", "verdict": "Verdict",
              "id": '<span style="font-size:11px">Statistic id</span>'}
    spanners = [("<i>P</i> over the cohorts", ["p_pub", "p_med", "p_range"])]
    if with_hr:
        spanners.append(("Hazard ratio over the cohorts", ["hr_pub", "hr_med", "hr_range"]))
    notes = ["Conclusion holds: share of cohorts whose <i>P</i> (and, for a published "
             "significant result, direction) agrees with the published conclusion."]
    if with_hr:
        notes.insert(0, "Published hazard ratios turned into the orientation used here (first-"
                        "named arm relative to the second for Figures 3-7; Table 5 as printed).")
    name = "ensemble-statistics" + (f"-{family}" if family else "")
    return J.table(cells, name, groups="family" if groups else None, labels=labels,
                   spanners=spanners,
                   align={c: "right" for c in ("p_pub", "p_med", "p_range", "hr_pub", "hr_med",
                                               "hr_range", "holds")},
                   data=sel, wide=True, notes=notes)


def diagnostics_table(diag: pd.DataFrame) -> J.JournalTable:
    """:func:`cart19.comparison.ensemble.chain_diagnostics` as a journal table."""
    frame = diag.assign(statistic=diag["stat"].map(stat_label))
    return J.frame_table(frame[["statistic", "n_cohorts", "lag1_r", "effective_n", "stat"]],
                         "chain-diagnostics",
                         labels={"statistic": "Statistic", "n_cohorts": "Cohorts",
                                 "lag1_r": "Lag-1 correlation", "effective_n": "Effective size",
                                 "stat": "Statistic id"},
                         formats={"n_cohorts": "{:.0f}", "lag1_r": "{:.2f}",
                                  "effective_n": "{:.0f}"}, wide=True)
