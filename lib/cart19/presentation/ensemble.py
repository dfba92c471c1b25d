"""The ensemble chapter's tables and figures (chapter 25): statistics over many reconstructed cohorts.

The statistics themselves are computed by :mod:`cart19.comparison.ensemble` (``ensemble_stats``,
``ensemble_summary``, ``chain_diagnostics``); this module only shows them: human names for each
statistic (:func:`stat_label`), the journal tables, and the distribution plots (seaborn: a box of
the 2.5-97.5 percentile range with the cohorts as points, the published value beside).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cart19.presentation import figures as F
from cart19.presentation import journal as J
from cart19.presentation.forest import FACTORS, OUTCOMES, TABLE5
from cart19.presentation.paper_figures import TITLES

FAMILIES = {"figure": "Survival comparisons of Figures 3-7 (log-rank)",
            "table5": "Table 5, multivariable Cox model (Wald)",
            "table3": "Table 3, subgroup comparisons",
            "rate": "Rate comparisons printed in the text (chi-square)",
            "stated": "Comparisons stated without a P value (log-rank)"}
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
        label = TABLE5.get(parts[2], parts[2])
        return f"{'' if short else 'Table 5, '}{_ENDPOINTS.get(parts[1], parts[1])}: {label}"
    if parts[0] == "table3" and len(parts) > 2:
        factor = FACTORS.get(parts[2], (parts[2],))[0]
        return f"{'' if short else 'Table 3, '}{_OUTCOMES.get(parts[1], parts[1])}: {factor}"
    if parts[0] in ("rate", "stated"):
        return _text_label(str(stat), short)
    return str(stat)


def _text_label(stat: str, short: bool) -> str:
    """A rate comparison of the text ("rate.cns_cr") by its printed arms; a comparison stated
    in words ("stated.os.child") by the conclusion it tests."""
    from cart19.comparison.conclusions import stated_conclusions
    from cart19.record import design

    kind, name = stat.split(".", 1)
    if kind == "rate":
        rc = design.load().rate_comparisons.get(name)
        if rc is None:
            return stat
        what = " and ".join(_OUTCOMES.get(o, o) for o in rc.outcome)
        label = f"{what}: {rc.arms['a'].printed} vs {rc.arms['b'].printed}"
        return label if short else f"Text, {label}"
    text = {s: t for s, t, *_ in stated_conclusions()}.get(stat, stat)
    return text if short else f"Stated in words, {text}"


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
                                            lambda x: J.fmt_num(x, sig=3))),
                "hr_alt": J.esc(J.fmt_num(r.get("hr_alt_median"), sig=3))})
        rows.append(row)
    with_alt = with_hr and "hr_alt_median" in sel and bool(sel["hr_alt_median"].notna().any())
    order = ["family", "stat", "p_pub", "p_med", "p_range"] + (
        ["hr_pub", "hr_med", "hr_range"] if with_hr else []) + (
        ["hr_alt"] if with_alt else []) + ["holds", "verdict", "id"]
    cells = pd.DataFrame(rows).reindex(columns=order)
    groups = family is None
    if not groups:
        cells = cells.drop(columns="family")
    labels = {"stat": "Statistic", "p_pub": "Published", "p_med": "Median",
              "p_range": "2.5-97.5%", "hr_pub": "Published", "hr_med": "Median",
              "hr_range": "2.5-97.5%", "hr_alt": "Log-rank", "holds": "Conclusion holds",
              "verdict": "Verdict",
              "id": '<span style="font-size:11px">Statistic id</span>'}
    spanners = [("<i>P</i> over the cohorts", ["p_pub", "p_med", "p_range"])]
    if with_hr:
        spanners.append(("Hazard ratio over the cohorts",
                         ["hr_pub", "hr_med", "hr_range"] + (["hr_alt"] if with_alt else [])))
    notes = ["Conclusion holds: share of cohorts whose <i>P</i> (and, for a published "
             "significant result, direction) agrees with the published conclusion; <i>fixed by "
             "the fit</i>: the statistic is the same in every cohort because the counts it comes "
             "from are fitted, so it is not counted as agreement."]
    if with_alt:
        notes.insert(0, "Hazard ratios as printed: in the orientation the caption's words give "
                        "each one, as Prism's Mantel-Haenszel ratio (the variant the printed "
                        "intervals imply); Log-rank: the median of Prism's other, log-rank hazard "
                        "ratio.")
    elif with_hr:
        notes.insert(0, "Hazard ratios in the orientation the paper prints each row.")
    name = "ensemble-statistics" + (f"-{family}" if family else "")
    return J.table(cells, name, groups="family" if groups else None, labels=labels,
                   spanners=spanners,
                   align={c: "right" for c in ("p_pub", "p_med", "p_range", "hr_pub", "hr_med",
                                               "hr_range", "hr_alt", "holds")},
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


#: P values below this are drawn at it (the paper prints its smallest as "< .0001")
P_FLOOR = 1e-5
P_TICKS = {1e-5: "≤.00001", 1e-4: ".0001", 1e-3: ".001", 1e-2: ".01", 0.05: ".05", 0.2: ".2",
           1.0: "1"}


def ensemble_figure(stats_: pd.DataFrame, summary: pd.DataFrame, family: str = "figure",
                    mark: str | None = "Reconstructed cohorts, not the trial's data") -> Figure:
    """The spread of one family's P values over the ensemble (``family``: figure, table5,
    table3): for each statistic a box from the 2.5th to the 97.5th percentile with its median, the
    cohorts as points, the published P as a red mark ("<" where the paper prints a bound), and
    the .05 line. P below :data:`P_FLOOR` is drawn at it. Statistics are named in words."""
    import seaborn as sns

    s = summary[summary["family"] == family].reset_index(drop=True)
    labels = [stat_label(x, short=True) for x in s["stat"]]
    data = stats_[stats_["stat"].isin(s["stat"])][["stat", "p"]].copy()
    data["p"] = np.clip(data["p"].astype(float), P_FLOOR, 1.0)
    data["label"] = pd.Categorical(data["stat"].map(dict(zip(s["stat"], labels))),
                                   categories=labels, ordered=True)
    height = 0.24 * len(s) + 1.2
    state = np.random.get_state()  # seaborn's jitter draws from numpy's global generator
    np.random.seed(0)
    try:
        with F.figure_style():
            fig = Figure(figsize=(F.BOOK_WIDTH, height), layout="constrained")
            ax = fig.subplots()
            sns.boxplot(data=data, x="p", y="label", ax=ax, whis=(2.5, 97.5), showfliers=False,
                        width=0.55, color="#dbe6f1", linewidth=0.7, log_scale=True,
                        medianprops={"color": "#1f4e79", "linewidth": 1.2})
            sns.stripplot(data=data, x="p", y="label", ax=ax, size=2, color="#1f4e79",
                          alpha=0.45, jitter=0.22, log_scale=True)
            for i, r in s.iterrows():
                if np.isfinite(r["published_p"]):
                    bound = r.get("published_p_cmp") == "<"
                    ax.scatter([max(r["published_p"], P_FLOOR)], [i], marker="<" if bound else "|",
                               color="#c0392b", s=60 if bound else 110, lw=1.8, zorder=5)
            ax.axvline(0.05, color="#777777", ls="--", lw=0.8)
            ax.set_xlim(P_FLOOR / 1.6, 1.6)
            ax.set_xticks(list(P_TICKS))
            ax.set_xticklabels(list(P_TICKS.values()))
            ax.xaxis.set_minor_locator(__import__("matplotlib").ticker.NullLocator())
            ax.set_xlabel("P value over the reconstructed cohorts (log scale)")
            ax.set_ylabel("")
            ax.tick_params(axis="y", labelsize=7.5)
            ax.grid(axis="x", color="#eeeeee", lw=0.6)
            from matplotlib.lines import Line2D
            from matplotlib.patches import Patch
            handles = [
                Patch(facecolor="#dbe6f1", edgecolor="#444444", lw=0.7,
                      label="2.5-97.5 percentile, median"),
                Line2D([], [], marker="o", ls="", ms=3, color="#1f4e79", alpha=0.6,
                       label="one cohort")]
            if np.isfinite(s["published_p"].to_numpy(float)).any():  # none for statements in words
                handles.append(Line2D([], [], marker="|", ls="", ms=8, mew=1.8, color="#c0392b",
                                      label="published (< : a printed bound)"))
            fig.legend(handles=handles, loc="outside upper left", ncols=3, frameon=False)
            if mark:
                F.mark_reconstructed(fig, mark)
    finally:
        np.random.set_state(state)
    return fig
