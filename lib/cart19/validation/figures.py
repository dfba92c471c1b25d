"""Figures and tables of the chapter "How far can a reconstruction be trusted?".

Each reads the committed benchmark results (``data/validation/results/``: :func:`load_data`);
nothing here reruns a reconstruction. Every figure drawn from reconstructions says so in its
title (the cohorts are reconstructions of public trials from their derived aggregates, not the
trials' data).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cart19.paths import DATA
from cart19.validation.compare import UNITS

RESULTS = DATA / "validation" / "results"
TYPE_LABELS = {"hr_uni": "univariate Cox HR", "hr_multi": "multivariable Cox HR",
               "hr_tv": "time-dependent HR (Stanford)", "p_uni": "log-rank P",
               "p_multi": "multivariable P", "km": "KM survival", "phi": "association"}
METHOD_LABELS = {"single": "one reconstruction", "ensemble_median": "ensemble median",
                 "margins": "baseline: margins only", "shuffled": "baseline: survival shuffled"}
COLORS = {"single": "#1f4e79", "ensemble_median": "#2e8b57", "margins": "#c0392b",
          "shuffled": "#999999"}
RECON = "reconstructions of public trials, not the trials' data"


def load_data(results: Path | str = RESULTS) -> tuple[dict, pd.DataFrame]:
    """(benchmark.json as a dict, statistics.csv as a frame)."""
    r = Path(results)
    return json.loads((r / "benchmark.json").read_text()), pd.read_csv(r / "statistics.csv")


def emergent_types(stats: pd.DataFrame) -> list[str]:
    have = set(stats.loc[stats["status"] == "emergent", "type"])
    return [t for t in TYPE_LABELS if t in have]


def plot_errors(doc: dict) -> Figure:
    """Mean absolute error of emergent statistics by type, method and level (pooled)."""
    pooled = pd.DataFrame(doc["pooled"])
    em = pooled[pooled["status"] == "emergent"]
    types = [t for t in TYPE_LABELS if t in set(em["type"])]
    fig = Figure(figsize=(10, 1.9 * ((len(types) + 1) // 2) + 0.8))
    axes = np.atleast_1d(fig.subplots((len(types) + 1) // 2, 2)).ravel()
    for ax, typ in zip(axes, types):
        sub = em[em["type"] == typ]
        for j, lv in enumerate(sorted(sub["level"].unique())):
            s = sub[sub["level"] == lv].set_index("method")
            ms = [m for m in METHOD_LABELS if m in s.index]
            y = np.arange(len(ms)) + (0.18 if j else -0.18)
            ax.scatter(s.loc[ms, "mae"], y, marker="o" if j == 0 else "s",
                       c=[COLORS[m] for m in ms], s=28, label=f"level {lv}", zorder=3)
        ax.set_yticks(range(len(METHOD_LABELS)))
        ax.set_yticklabels(list(METHOD_LABELS.values()), fontsize=7.5)
        ax.set_xlim(0, 1.12 * float(sub["mae"].max()))
        ax.set_title(f"{TYPE_LABELS[typ]} (MAE, {UNITS.get(typ, '')})", fontsize=9)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        ax.invert_yaxis()
    for ax in axes[len(types):]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D
    marks = [Line2D([], [], ls="", marker=m, color="#333333", label=t) for m, t in
             (("o", "level 1: what this paper prints"),
              ("s", "level 2: + numbers at risk and every P value"))]
    fig.suptitle(f"Error of statistics the reconstruction was not fitted to ({RECON})",
                 fontsize=10, y=0.995)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(handles=marks, loc="upper center", ncol=2, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.965))
    return fig


def coverage_table(stats: pd.DataFrame) -> pd.DataFrame:
    """Observed coverage of the ensemble's 50/80/90% intervals, emergent statistics, by level
    and type (and all types pooled)."""
    em = stats[stats["status"] == "emergent"].dropna(subset=["truth"])
    rows = []
    for (lv, typ), g in list(em.groupby(["level", "type"])) + \
            [((lv, "all"), g) for lv, g in em.groupby("level")]:
        rows.append({"level": lv, "type": typ, "n": len(g),
                     **{f"{c}%": float(g[f"covered{c}"].mean()) for c in (50, 80, 90)}})
    return pd.DataFrame(rows)


def plot_calibration(stats: pd.DataFrame) -> Figure:
    """Nominal against observed coverage of the ensemble's central intervals."""
    cov = coverage_table(stats)
    levels = sorted(cov["level"].unique())
    fig = Figure(figsize=(4.6 * len(levels), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(levels)))
    nominal = np.array([50, 80, 90])
    for ax, lv in zip(axes, levels):
        ax.plot([0, 100], [0, 100], color="#888888", ls="--", lw=0.8)
        for typ in [t for t in TYPE_LABELS if t in set(cov["type"])] + ["all"]:
            r = cov[(cov["level"] == lv) & (cov["type"] == typ)]
            if r.empty:
                continue
            obs = 100 * r[[f"{c}%" for c in nominal]].to_numpy()[0]
            kw = {"color": "black", "lw": 2.2} if typ == "all" else {"lw": 1.0, "alpha": 0.85}
            ax.plot(nominal, obs, marker="o", ms=3.5, label=TYPE_LABELS.get(typ, "all types"), **kw)
        ax.set_xlim(40, 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("nominal coverage of the ensemble interval (%)")
        ax.set_ylabel("truth inside the interval (%)")
        ax.set_title(f"level {lv}", fontsize=10)
        ax.grid(color="#eeeeee", lw=0.6)
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Calibration of the ensemble's intervals ({RECON})", fontsize=10)
    fig.tight_layout()
    return fig


def plot_truth_vs_reconstruction(stats: pd.DataFrame, typ: str = "hr_multi") -> Figure:
    """Each emergent statistic of ``typ``: truth (x) against one reconstruction (y), with the
    ensemble's 90% interval, by trial; one panel per level."""
    em = stats[(stats["status"] == "emergent") & (stats["type"] == typ)]
    levels = sorted(em["level"].unique())
    fig = Figure(figsize=(4.6 * len(levels), 4.4))
    axes = np.atleast_1d(fig.subplots(1, len(levels)))
    marks = dict(zip(sorted(em["dataset"].unique()), "osD^v"))
    for ax, lv in zip(axes, levels):
        s = em[em["level"] == lv]
        lim = np.nanmax(np.abs(s[["truth", "single", "lo90", "hi90"]].to_numpy())) * 1.08
        ax.plot([-lim, lim], [-lim, lim], color="#888888", ls="--", lw=0.8)
        for k, (ds, g) in enumerate(s.groupby("dataset")):
            color = f"C{k}"
            ax.vlines(g["truth"], g["lo90"], g["hi90"], color=color, lw=0.7, alpha=0.6)
            ax.scatter(g["truth"], g["single"], marker=marks[ds], s=20, color=color, alpha=0.9,
                       label=ds, zorder=3)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_xlabel(f"true value ({UNITS.get(typ, '')})")
        ax.set_ylabel(f"reconstructed ({UNITS.get(typ, '')})")
        ax.set_title(f"{TYPE_LABELS[typ]}, level {lv}", fontsize=10)
        ax.grid(color="#eeeeee", lw=0.6)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"One reconstruction against the truth, bars: ensemble 90% interval ({RECON})",
                 fontsize=9.5)
    fig.tight_layout()
    return fig


def _measured(v) -> str:
    return "not measured" if v is None or not np.isfinite(v) else f"{v:.3g}"


def checks_table(doc: dict, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The thresholds set before the first run beside what the benchmark measured (and what
    earlier runs in ``history`` measured, one column each)."""
    c = pd.DataFrame(doc["checks"])
    out = c[["id", "why", "threshold"]].copy()
    if history is not None:
        for run, h in history.groupby("run"):
            m = h.set_index("id")
            out[f"run {run}"] = [f"{_measured(m.loc[i, 'measured'])} ({'met' if m.loc[i, 'met'] else 'missed'})"
                                 if i in m.index else "" for i in c["id"]]
    out["measured"] = c["measured"].map(_measured)
    out["met"] = c["met"].map({True: "met", False: "missed"})
    return out
