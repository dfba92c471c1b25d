"""Chapter 22's figures and tables: Table 3 rates with exact confidence intervals as a forest
plot, Table 5 hazard ratios on a log scale, and the tables beside them.

The rates, intervals and P values are computed by :mod:`cart19.presentation.forest`
(``subgroup_rates``, ``published_subgroup_rates``) and the Cox model by
:func:`cart19.comparison.ensemble.table5_stats`; this module draws and lays them out. Kept apart
from ``forest`` because that module's computations are part of the ensemble's cache key
(``cart19.comparison.ensemble.ENSEMBLE_CODE``): a change of drawing must not redraw 100 cohorts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cart19.presentation import figures as F
from cart19.presentation import journal as J
from cart19.presentation.forest import FACTORS, OUTCOMES, TABLE5, _hr_columns

REPRODUCED_COLOUR = "#1f4e79"
STYLE_LABEL = F.STYLE["axes.labelsize"]
PUBLISHED_COLOUR = "#c0392b"


def forest_figure(rates: pd.DataFrame, published: pd.DataFrame | None = None,
                  outcomes=tuple(OUTCOMES), mark: str | None = F.RECONSTRUCTED) -> Figure:
    """Table 3 as a forest plot: one panel per outcome, the factors as in the table (a bold
    heading, its levels beneath), dot = the rate in the cohort with its exact 95% CI, open
    diamond = the percentage printed in Table 3; the factor's Fisher P at the right of each
    panel. Full-width size (:data:`cart19.presentation.figures.FULL_WIDTH`)."""
    factors = list(dict.fromkeys(rates["factor"]))
    rows, ypos, y = [], {}, 0.0  # (y, label, is_heading)
    for f in factors:
        rows.append((y, FACTORS[f][0], True))
        y += 1
        for key, label in FACTORS[f][1]:
            ypos[(f, key)] = y
            rows.append((y, label, False))
            y += 1
        y += 0.3
    with F.figure_style():
        fig = Figure(figsize=(F.FULL_WIDTH, 0.2 * y + 1.1), layout="constrained")
        gs = fig.add_gridspec(1, len(outcomes) + 1, width_ratios=[1.05] + [1] * len(outcomes))
        lab = fig.add_subplot(gs[0, 0])
        axes = [fig.add_subplot(gs[0, k + 1], sharey=lab) for k in range(len(outcomes))]
        pub = published.set_index(["outcome", "factor", "level"]) if published is not None and len(
            published) else None
        for ax, outcome in zip(axes, outcomes):
            sub = rates[rates["outcome"] == outcome]
            ys = np.array([ypos[(r.factor, r.level)] for r in sub.itertuples()])
            ax.errorbar(sub["rate"], ys, xerr=[sub["rate"] - sub["ci_low"],
                                               sub["ci_high"] - sub["rate"]],
                        fmt="o", color=REPRODUCED_COLOUR, ms=3.5, capsize=1.5, lw=0.9)
            if pub is not None:
                keys = [(outcome, r.factor, r.level) for r in sub.itertuples()]
                have = np.array([k in pub.index for k in keys])
                pv = [float(pub.loc[k, "rate"]) for k, h in zip(keys, have) if h]
                ax.scatter(pv, ys[have], marker="D", facecolors="none",
                           edgecolors=PUBLISHED_COLOUR, s=22, lw=0.9, zorder=4)
            for f in factors:
                fr = sub[sub["factor"] == f]
                ax.text(1.0, ypos[(f, FACTORS[f][1][0][0])] - 1, J.fmt_p(fr["p_fisher"].iloc[0]),
                        transform=ax.get_yaxis_transform(), fontsize=F.MIN_FONT_PT + 0.5,
                        va="center", ha="right", color="#444444")
            ax.set_xlim(-3, 122)  # the P values sit right of 100
            ax.set_xticks([0, 25, 50, 75, 100])
            ax.set_title(OUTCOMES[outcome], fontsize=9, loc="left", fontweight="bold")
            ax.set_xlabel("%")
            ax.grid(axis="x", color="#e6e6e6", lw=0.6)
            ax.tick_params(axis="y", left=False, labelleft=False)
            ax.spines["left"].set_visible(False)
            ax.text(1.0, -1.0, "Fisher P", transform=ax.get_yaxis_transform(), ha="right",
                    va="center", fontsize=F.MIN_FONT_PT + 0.5, color="#444444", style="italic")
        lab.set_ylim(y - 0.3, -1.6)
        lab.axis("off")
        for yy, label, heading in rows:
            lab.text(0.0 if heading else 0.06, yy, label, ha="left", va="center",
                     fontsize=8.5 if heading else 8, fontweight="bold" if heading else "normal",
                     transform=lab.get_yaxis_transform())
        handles = [Line2D([], [], marker="o", color=REPRODUCED_COLOUR, ls="-", lw=0.9, ms=3.5,
                          label="Reconstructed cohort, with exact 95% CI")]
        if pub is not None:
            handles.append(Line2D([], [], marker="D", mfc="none", mec=PUBLISHED_COLOUR, ls="",
                                  ms=4.5, label="Printed in Table 3"))
        fig.legend(handles=handles, loc="outside upper left", ncols=2, frameon=False)
        fig.supxlabel("Patients with the outcome in each subgroup, % (exact 95% CI)",
                      fontsize=STYLE_LABEL)
        if mark:
            F.mark_reconstructed(fig, mark)
    return fig


def hr_forest(table5_published: pd.DataFrame, table5_reproduced: pd.DataFrame,
              mark: str | None = F.RECONSTRUCTED) -> Figure:
    """Table 5 hazard ratios, published (open diamonds) beside reproduced (dots), on a log axis
    with plain tick labels; one panel per endpoint.

    Both tables need ``endpoint`` (os/lfs), ``factor`` (keys of ``TABLE5``), ``hr`` and the CI
    as ``ci_low/ci_high`` (claims.csv) or ``ci_lower/ci_upper`` (cart19.stats.survival.cox). The
    caller must put the reproduced HRs in the published orientation; this function only draws.
    """
    pub, rep = _hr_columns(table5_published), _hr_columns(table5_reproduced)
    endpoints = [e for e in ("os", "lfs") if e in set(pub["endpoint"]) | set(rep["endpoint"])]
    factors = [f for f in TABLE5 if f in set(pub["factor"]) | set(rep["factor"])]
    values = pd.concat([pub[["hr", "ci_low", "ci_high"]], rep[["hr", "ci_low", "ci_high"]]])
    positive = values.to_numpy(float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    lo = 10 ** np.floor(np.log10(positive.min())) if positive.size else 0.01
    hi = 10 ** np.ceil(np.log10(positive.max())) if positive.size else 100
    with F.figure_style():
        fig = Figure(figsize=(F.BOOK_WIDTH, 0.34 * len(factors) + 1.3), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(endpoints), sharey=True))
        for ax, ep in zip(axes, endpoints):
            for off, df, colour, marker, filled in ((-0.14, pub, PUBLISHED_COLOUR, "D", False),
                                                    (0.14, rep, REPRODUCED_COLOUR, "o", True)):
                d = df[df["endpoint"] == ep].set_index("factor")
                for i, f in enumerate(factors):
                    if f not in d.index:
                        continue
                    r = d.loc[f]
                    ax.errorbar([r["hr"]], [i + off], xerr=[[r["hr"] - r["ci_low"]],
                                                            [r["ci_high"] - r["hr"]]],
                                fmt=marker, color=colour, ms=4, capsize=1.5, lw=0.9,
                                mfc=colour if filled else "white")
            ax.axvline(1, color="#888888", lw=0.8, ls="--")
            ax.set_xscale("log")
            ax.set_xlim(lo, hi)
            F.plain_log_axis(ax, "x")
            ax.set_title("Overall survival" if ep == "os" else "Leukemia-free survival",
                         fontsize=9, loc="left", fontweight="bold")
            ax.set_xlabel("Hazard ratio (95% CI)")
            ax.grid(axis="x", color="#e6e6e6", lw=0.6)
        axes[0].set_yticks(range(len(factors)))
        axes[0].set_yticklabels([TABLE5[f] for f in factors])
        axes[0].invert_yaxis()
        fig.legend(handles=[
            Line2D([], [], marker="D", color=PUBLISHED_COLOUR, mfc="white", ms=4, lw=0.9,
                   label="Published (Table 5)"),
            Line2D([], [], marker="o", color=REPRODUCED_COLOUR, ms=4, lw=0.9,
                   label="Reproduced (Cox, reconstructed cohort)")],
            loc="outside upper left", ncols=2, frameon=False)
        if mark:
            F.mark_reconstructed(fig, mark)
    return fig


def forest_table(tbl: pd.DataFrame):
    """The rates of :func:`forest_figure` as a journal table: one row group per outcome, one row
    per subgroup level; the reconstructed n/N (%) with its exact 95% CI beside the printed n/N (%),
    the difference of the rates, and the factor's P by Fisher and Pearson beside the printed P.

    ``tbl``: :func:`subgroup_rates` joined with :func:`published_subgroup_rates` (columns
    ``published_n, published_N, published_rate, published_p, rate_difference``)."""

    rows = []
    for r in tbl.itertuples():
        first = r.level == FACTORS[r.factor][1][0][0]  # P once per factor, on its first level
        rows.append({
            "outcome": OUTCOMES[r.outcome],
            "subgroup": J.esc(f"{r.factor_label}: {r.level_label}"),
            "rep": J.esc(J.fmt_count(r.n, r.N, r.rate)),
            "ci": J.esc(f"{J.fmt_num(r.ci_low, 1)}-{J.fmt_num(r.ci_high, 1)}"),
            "pub": J.esc(J.fmt_count(r.published_n, r.published_N, r.published_rate)),
            "diff": J.esc(J.fmt_signed(r.rate_difference, "pp", decimals=1)),
            "p_fisher": J.esc(J.fmt_p(r.p_fisher)) if first else "",
            "p_chi2": J.esc(J.fmt_p(r.p_chi2)) if first else "",
            "p_pub": J.esc(J.fmt_p(r.published_p, decimals=2 if len(f"{r.published_p:g}") <= 4
                                   else 3)) if first and not pd.isna(r.published_p) else "",
        })
    cells = pd.DataFrame(rows)
    labels = {"subgroup": "Subgroup", "rep": "n/N (%)", "ci": "95% CI", "pub": "n/N (%)",
              "diff": "Difference", "p_fisher": "Fisher", "p_chi2": "Pearson", "p_pub": "Printed"}
    spanners = [("Reproduced", ["rep", "ci"]), ("Table 3", ["pub"]),
                ("<i>P</i>", ["p_fisher", "p_chi2", "p_pub"])]
    return J.table(cells, "subgroup-rates", groups="outcome", labels=labels, spanners=spanners,
                   align={c: "right" for c in labels if c != "subgroup"}, data=tbl, wide=True,
                   notes=["Rates in percent; difference: reproduced minus printed rate, in "
                          "percentage points (pp). Exact (Clopper-Pearson) 95% CIs."])


def hr_table(published: pd.DataFrame, reproduced: pd.DataFrame):
    """Table 5 hazard ratios (the inputs of :func:`hr_forest`) as a journal table, published beside
    reproduced, with whether the reproduced HR falls inside the published 95% CI."""

    pub, rep = _hr_columns(published), _hr_columns(reproduced)
    p_idx = pub.set_index(["endpoint", "factor"])
    rows, data = [], []
    for r in rep.itertuples():
        q = p_idx.loc[(r.endpoint, r.factor)]
        inside = bool(q["ci_low"] <= r.hr <= q["ci_high"])
        rows.append({"endpoint": "Overall survival" if r.endpoint == "os" else
                     "Leukemia-free survival",
                     "covariate": J.esc(TABLE5.get(r.factor, r.factor)),
                     "pub_hr": J.fmt_num(q["hr"], 3), "pub_ci": f"{J.fmt_num(q['ci_low'], 3)}-"
                     f"{J.fmt_num(q['ci_high'], 3)}", "pub_p": J.fmt_p(q["p"], q.get("p_cmp")),
                     "rep_hr": J.fmt_num(r.hr, 3),
                     "rep_ci": f"{J.fmt_num(r.ci_low, 3)}-{J.fmt_num(r.ci_high, 3)}",
                     "rep_p": J.fmt_p(r.p), "inside": "yes" if inside else
                     J.mark("no", True)})
        data.append({"endpoint": r.endpoint, "factor": r.factor, "published_hr": q["hr"],
                     "published_ci_low": q["ci_low"], "published_ci_high": q["ci_high"],
                     "published_p": q["p"], "reproduced_hr": r.hr, "reproduced_ci_low": r.ci_low,
                     "reproduced_ci_high": r.ci_high, "reproduced_p": r.p,
                     "inside_published_ci": inside})
    cells = pd.DataFrame(rows)
    labels = {"covariate": "Covariate", "pub_hr": "HR", "pub_ci": "95% CI", "pub_p": "<i>P</i>",
              "rep_hr": "HR", "rep_ci": "95% CI", "rep_p": "<i>P</i>",
              "inside": "Inside the published CI"}
    return J.table(cells, "table5-hazard-ratios", groups="endpoint", labels=labels,
                   spanners=[("Published", ["pub_hr", "pub_ci", "pub_p"]),
                             ("Reproduced", ["rep_hr", "rep_ci", "rep_p"])],
                   align={c: "right" for c in labels if c != "covariate"},
                   data=pd.DataFrame(data), wide=True)
