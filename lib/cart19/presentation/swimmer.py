"""Swimmer plot: one lane per infused patient, infusion to death or last follow-up.

Serves the "Beyond the paper" chapter 21. The paper summarises individual courses
only through Kaplan-Meier curves (Figures 2-7) and prose (HSCT at median day 63,
range 36-120; 23 relapses, 7 CD19-negative; follow-up median 233.5 days, range
27-478). A swimmer plot shows the same events patient by patient.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from cart19.presentation.flow import _check_response, _flag

GROUPS = ("Bridged into allo-HSCT", "CAR T alone (CR/CRi)", "No response")
GROUP_COLORS = {GROUPS[0]: "#4c78a8", GROUPS[1]: "#f58518", GROUPS[2]: "#9d9d9d"}
RESPONSE_DAY = 30  # the paper assesses response on day 30


def _cd19_negative(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower().isin(["cd19-", "cd19neg", "neg", "negative",
                                                       "cd19−", "0"])


def swimmer_lanes(cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per patient in plotting order, with what each lane shows.

    Columns: patient_id, group (one of ``GROUPS``), response, end_day (death or last
    follow-up: ``os_days``), died, hsct_day, relapse_day, relapse_cd19neg, lane (0 = top).
    Order: group (HSCT, CAR T alone, NR), then longest follow-up first.
    """
    resp = _check_response(cohort)
    cr = resp.isin(["CR", "CRi"])
    hsct = _flag(cohort["hsct_after"]) & cr
    relapse = _flag(cohort["relapse"])
    group = np.where(hsct, GROUPS[0], np.where(cr, GROUPS[1], GROUPS[2]))
    lanes = pd.DataFrame({
        "patient_id": cohort["patient_id"].to_numpy(),
        "group": group,
        "response": resp.to_numpy(),
        "end_day": pd.to_numeric(cohort["os_days"]).astype(float).to_numpy(),
        "died": _flag(cohort["os_event"]).to_numpy(),
        "hsct_day": np.where(hsct, pd.to_numeric(cohort["hsct_day"]).astype(float), np.nan),
        "relapse_day": np.where(relapse, pd.to_numeric(cohort["relapse_day"]).astype(float), np.nan),
        "relapse_cd19neg": (relapse & _cd19_negative(cohort["relapse_cd19"])).to_numpy(),
    })
    lanes["_g"] = lanes["group"].map({g: i for i, g in enumerate(GROUPS)})
    lanes = lanes.sort_values(["_g", "end_day", "patient_id"], ascending=[True, False, True],
                              kind="mergesort").drop(columns="_g").reset_index(drop=True)
    lanes["lane"] = np.arange(len(lanes))
    return lanes


def swimmer_figure(cohort: pd.DataFrame, lane_height: float = 0.062,
                   mark: str | None = None) -> Figure:
    """Swimmer plot of every infused patient (one horizontal bar each), full-width size.

    Bar colour: group (bridged into allo-HSCT / CAR T alone / no response). Markers:
    day-30 response (CR filled circle, CRi open circle, NR grey square), allo-HSCT day
    (diamond), relapse (red triangle CD19+, purple inverted triangle CD19-), death (black
    cross); a bar without a cross ends in an arrow: alive at last follow-up (censored).
    ``mark`` (default :data:`cart19.presentation.figures.RECONSTRUCTED`) is written into the
    figure: the lanes are reconstructed patients.
    """
    from cart19.presentation import figures as F

    lanes = swimmer_lanes(cohort)
    n = len(lanes)
    with F.figure_style():
        fig = Figure(figsize=(F.FULL_WIDTH, max(4.0, 1.5 + lane_height * n)), layout="constrained")
        ax = fig.subplots()
        y = lanes["lane"].to_numpy()
        ax.barh(y, lanes["end_day"], height=0.7, left=0,
                color=lanes["group"].map(GROUP_COLORS), alpha=0.55, edgecolor="none")
        resp = lanes["response"]
        x30 = np.minimum(RESPONSE_DAY, lanes["end_day"])
        ms = 11
        ax.scatter(x30[resp == "CR"], y[resp == "CR"], s=ms, marker="o", c="k", zorder=3, lw=0)
        ax.scatter(x30[resp == "CRi"], y[resp == "CRi"], s=ms, marker="o", facecolors="white",
                   edgecolors="k", zorder=3, lw=0.7)
        ax.scatter(x30[resp == "NR"], y[resp == "NR"], s=ms, marker="s", c="#555555", zorder=3)
        h = lanes["hsct_day"].notna()
        ax.scatter(lanes.loc[h, "hsct_day"], y[h], s=16, marker="D", c="#1b4f9c", zorder=4, lw=0)
        r = lanes["relapse_day"].notna()
        pos, neg = r & ~lanes["relapse_cd19neg"], r & lanes["relapse_cd19neg"]
        ax.scatter(lanes.loc[pos, "relapse_day"], y[pos], s=24, marker="^", c="#d62728",
                   zorder=5, lw=0)
        ax.scatter(lanes.loc[neg, "relapse_day"], y[neg], s=24, marker="v", c="#7b3294",
                   zorder=5, lw=0)
        d = lanes["died"]
        ax.scatter(lanes.loc[d, "end_day"], y[d], s=24, marker="X", c="k", zorder=6, lw=0)
        alive = ~d
        ax.scatter(lanes.loc[alive, "end_day"] + 5, y[alive], s=14, marker=">", c="#2ca02c",
                   zorder=6, lw=0)
        # group separators and labels
        for g in GROUPS:
            idx = y[lanes["group"] == g]
            if len(idx):
                ax.axhline(idx.max() + 0.5, color="#bbbbbb", lw=0.6)
                ax.text(1.005, idx.mean(), f"{g}\n(n = {len(idx)})",
                        transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=8,
                        color=GROUP_COLORS[g], fontweight="bold")
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_yticks([])
        ax.set_ylabel(f"Patients (n = {n}), one lane each")
        ax.set_xlabel("Days from CAR T-cell infusion")
        ax.set_xlim(0, max(float(lanes["end_day"].max()) * 1.04, 60))
        ax.spines["left"].set_visible(False)
        handles = [Patch(color=GROUP_COLORS[g], alpha=0.55, label=g) for g in GROUPS] + [
            Line2D([], [], ls="", marker="o", c="k", label="CR (day 30)"),
            Line2D([], [], ls="", marker="o", mfc="white", mec="k", label="CRi (day 30)"),
            Line2D([], [], ls="", marker="s", c="#555555", label="No response"),
            Line2D([], [], ls="", marker="D", c="#1b4f9c", label="allo-HSCT"),
            Line2D([], [], ls="", marker="^", c="#d62728", label="Relapse, CD19+"),
            Line2D([], [], ls="", marker="v", c="#7b3294", label="Relapse, CD19\u2212"),
            Line2D([], [], ls="", marker="X", c="k", label="Death"),
            Line2D([], [], ls="", marker=">", c="#2ca02c", label="Alive at last follow-up"),
        ]
        fig.legend(handles=handles, loc="outside upper left", ncols=6, frameon=False,
                   handletextpad=0.3, columnspacing=1.2)
        F.mark_reconstructed(fig, mark or F.RECONSTRUCTED)
    return fig
