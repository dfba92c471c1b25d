"""Kaplan-Meier figures in the style of the paper's Figures 2-7.

:func:`km_figure` draws one panel: step curves in % survival with censor ticks, a number-at-risk
table beneath aligned with the x ticks, and (for 2+ groups) the log-rank P and, for 2 groups, a
Prism-style hazard ratio with 95% CI, all computed by :mod:`cart19.survival` from the data given.
:func:`km_panel` puts several such panels side by side (A: OS, B: LFS, as Figures 3-7 do).

Figures are deterministic: fixed size, font (DejaVu Sans, shipped with matplotlib), sizes and
colours; :func:`save_figure` strips the timestamps and software tags matplotlib writes into PNG,
SVG and PDF files so that the same data give byte-identical files.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cart19 import survival as sv

#: Okabe & Ito (2008) colour-blind-safe palette (blue, vermillion, bluish green, reddish purple,
#: orange, sky blue, yellow, black).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
             "#000000")

#: Matplotlib settings applied while a figure is built and saved.
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.5,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "svg.hashsalt": "cart19",   # deterministic ids in SVG output
    "svg.fonttype": "path",     # no dependence on fonts installed on the reader's machine
    "pdf.fonttype": 42,
}

_HR_LABEL = {"logrank": "logrank", "mantel_haenszel": "Mantel-Haenszel"}


@contextmanager
def figure_style():
    """Context in which figures are built/saved with :data:`STYLE`."""
    with plt.rc_context(STYLE):
        yield


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "P = n/a"
    if p < 1e-4:
        return "P < 0.0001"
    if p < 0.001:
        return f"P = {p:.4f}"
    return f"P = {p:.3f}" if p < 0.1 else f"P = {p:.2f}"


def _fmt_num(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _labels_for(levels: list, labels) -> dict:
    if labels is None:
        return {lv: str(lv) for lv in levels}
    if isinstance(labels, Mapping):
        return {lv: str(labels.get(lv, labels.get(str(lv), lv))) for lv in levels}
    labels = list(labels)
    if len(labels) != len(levels):
        raise ValueError(f"{len(labels)} labels given for {len(levels)} groups {levels}")
    return dict(zip(levels, map(str, labels)))


def _draw(ax, ax_risk, df: pd.DataFrame, duration: str, event: str, group: str | None,
          labels, times_at_risk, ref, hr_method: str, show_ci: bool, xlabel: str,
          annotate: bool) -> None:
    """Draw curves into ``ax`` and the at-risk table into ``ax_risk``."""
    sv._check_columns(df, [duration, event, group])
    data = sv._survival_frame(df, duration, event, [group] if group else [])
    levels = sv._groups(data, group)
    names = _labels_for(levels, labels)
    if len(levels) > len(OKABE_ITO):
        raise ValueError(f"at most {len(OKABE_ITO)} groups can be drawn, got {len(levels)}")
    tmax = float(data[duration].max()) if len(data) else 1.0
    if times_at_risk is None:
        times_at_risk = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(0, tmax)
        times_at_risk = [t for t in times_at_risk if 0 <= t <= tmax]
    times_at_risk = [float(t) for t in times_at_risk]

    for i, lv in enumerate(levels):
        sub = sv._subset(data, group, lv)
        colour = OKABE_ITO[i]
        kmf = KaplanMeierFitter().fit(sub[duration], sub[event], label=names[lv])
        sf = kmf.survival_function_.iloc[:, 0]
        t = np.append(sf.index.to_numpy(float), float(sub[duration].max()))
        s = np.append(sf.to_numpy(float), sf.iloc[-1]) * 100
        (line,) = ax.step(t, s, where="post", color=colour, label=f"{names[lv]} (n = {len(sub)})")
        line.set_gid(f"km-curve-{lv}")
        cens = np.sort(sub.loc[sub[event] == 0, duration].to_numpy(float))
        if cens.size:
            y = kmf.survival_function_at_times(cens).to_numpy(float) * 100
            (ticks,) = ax.plot(cens, y, linestyle="none", marker="|", markersize=6,
                               markeredgewidth=1.0, color=colour)
            ticks.set_gid(f"km-censor-{lv}")
        if show_ci:
            ci = kmf.confidence_interval_
            band = ax.fill_between(ci.index.to_numpy(float), ci.iloc[:, 0] * 100,
                                   ci.iloc[:, 1] * 100, step="post", color=colour, alpha=0.15,
                                   linewidth=0)
            band.set_gid(f"km-ci-{lv}")

    ax.set_ylim(0, 105)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("Survival (%)")
    lo, hi = min(times_at_risk + [0.0]), max(times_at_risk + [tmax])
    ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))
    ax.set_xticks(times_at_risk)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_xlabel(xlabel)

    ax.legend(loc="best", frameon=False, handlelength=1.5)

    # Test statistics sit in a small text block between the panel title and the plot, where they
    # can never cover a curve; the title is lifted by the block's height (see _title).
    if annotate and group is not None and len(levels) >= 2:
        lr = sv.logrank(data, duration, event, group)
        stats_text = f"Log-rank {_fmt_p(lr['p'])}"
        if len(levels) == 2:
            ref_level = levels[0] if ref is None else ref
            hr = sv.logrank_hr(data, duration, event, group, ref=ref_level).loc[hr_method]
            stats_text += (f"; HR {_fmt_num(hr['hr'])} (95% CI {_fmt_num(hr['ci_lower'])}"
                           f"\u2013{_fmt_num(hr['ci_upper'])})\n{names[hr['group']]} vs "
                           f"{names[ref_level]} ({_HR_LABEL[hr_method]} method)")
        else:
            stats_text += f" ({lr['df']} df)"
        ax.text(0.0, 1.02, stats_text, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=STYLE["legend.fontsize"] - 0.5, gid="km-stats", linespacing=1.3)

    # number-at-risk table: one row per group, values centred under the x ticks. Drawn here
    # rather than with lifelines' add_at_risk_counts so the numbers are exactly
    # cart19.survival.number_at_risk (subjects with duration >= t, R's convention); lifelines'
    # default counts at the end of each period instead.
    nar = sv.number_at_risk(data, duration, event, group, times_at_risk)
    ax_risk.set_xlim(ax.get_xlim())
    ax_risk.set_ylim(len(levels) - 0.5, -0.5)
    for spine in ax_risk.spines.values():
        spine.set_visible(False)
    ax_risk.tick_params(axis="both", length=0)
    ax_risk.tick_params(axis="y", pad=10)  # keep row labels clear of the counts at t = 0
    ax_risk.set_xticks([])
    ax_risk.set_yticks(range(len(levels)))
    ax_risk.set_yticklabels([names[lv] for lv in levels])
    for i, (lv, tick) in enumerate(zip(levels, ax_risk.get_yticklabels())):
        tick.set_color(OKABE_ITO[i])
        for t in times_at_risk:
            ax_risk.text(t, i, str(int(nar.loc[lv, t])), ha="center", va="center",
                         color=OKABE_ITO[i], fontsize=STYLE["xtick.labelsize"])
    ax_risk.set_title("Number at risk", loc="left", fontsize=STYLE["xtick.labelsize"],
                      fontweight="bold", pad=2)
    ax_risk.set_gid("km-at-risk")


def _title(ax, text: str) -> None:
    """Panel title, lifted above the statistics block if there is one."""
    stats = [t for t in ax.texts if t.get_gid() == "km-stats"]
    lines = stats[0].get_text().count("\n") + 1 if stats else 0
    ax.set_title(text, loc="left", fontweight="bold", pad=4 + 12 * lines)


def _layout(n_panels: int, n_groups: int, width: float, height: float):
    # constrained layout makes room for the at-risk row labels, whatever their length
    fig = plt.figure(figsize=(width * n_panels, height + 0.22 * n_groups + 0.3),
                     layout="constrained")
    fig.get_layout_engine().set(h_pad=0.04, w_pad=0.06, hspace=0.04, wspace=0.08)
    gs = fig.add_gridspec(2, n_panels, height_ratios=[height, 0.3 + 0.22 * n_groups])
    pairs = []
    for j in range(n_panels):
        ax = fig.add_subplot(gs[0, j])
        ax_risk = fig.add_subplot(gs[1, j])
        pairs.append((ax, ax_risk))
    return fig, pairs


def _n_groups(df: pd.DataFrame, group: str | None) -> int:
    if group is None:
        return 1
    sv._check_columns(df, [group])
    return int(df[group].nunique())


def km_figure(df: pd.DataFrame, duration: str, event: str, group: str | None = None,
              labels: Sequence[str] | Mapping | None = None,
              times_at_risk: Sequence[float] | None = None, title: str | None = None, *,
              xlabel: str = "Days after CAR T-cell infusion", ref=None,
              hr_method: str = "logrank", show_ci: bool = False, annotate: bool = True,
              width: float = 4.6, height: float = 3.4) -> Figure:
    """One Kaplan-Meier panel as in Figures 2-7 of the paper.

    Parameters
    ----------
    df, duration, event, group:
        data and column names (``event`` 1 = event, 0 = censored); ``group=None`` draws one curve.
    labels:
        display names: a list in the sorted order of the group levels, or a mapping level -> name.
    times_at_risk:
        x ticks at which the number at risk is printed (default: about 6 round ticks).
    ref:
        reference level for the hazard ratio (default: the first level); the HR printed is the
        other group versus ``ref``, from :func:`cart19.survival.logrank_hr` with ``hr_method``
        (``"logrank"`` or ``"mantel_haenszel"``).
    show_ci:
        add the pointwise 95% log(-log) confidence band.

    Raises :class:`cart19.errors.InputError` (naming the column) when a column is missing.
    """
    if hr_method not in _HR_LABEL:
        raise ValueError(f"hr_method must be one of {list(_HR_LABEL)}")
    sv._check_columns(df, [duration, event, group])
    with figure_style():
        fig, [(ax, ax_risk)] = _layout(1, _n_groups(df, group), width, height)
        _draw(ax, ax_risk, df, duration, event, group, labels, times_at_risk, ref, hr_method,
              show_ci, xlabel, annotate)
        if title:
            _title(ax, title)
    return fig


def km_panel(df: pd.DataFrame, panels: Sequence[Mapping], group: str | None = None,
             labels: Sequence[str] | Mapping | None = None,
             times_at_risk: Sequence[float] | None = None, *, letters: str = "ABCDEFGH",
             xlabel: str = "Days after CAR T-cell infusion", ref=None,
             hr_method: str = "logrank", show_ci: bool = False, annotate: bool = True,
             suptitle: str | None = None, width: float = 4.6, height: float = 3.4) -> Figure:
    """Several KM panels side by side, e.g. A = OS and B = LFS as in Figures 3-7.

    ``panels`` is a list of mappings with keys ``duration``, ``event``, ``title`` and optionally
    ``df`` (a different data frame for that panel - e.g. LFS is defined only for patients in CR,
    Figure 2C-D) and ``xlabel``. The other arguments are as in :func:`km_figure` and apply to
    every panel.
    """
    if not panels:
        raise ValueError("km_panel needs at least one panel")
    if hr_method not in _HR_LABEL:
        raise ValueError(f"hr_method must be one of {list(_HR_LABEL)}")
    for p in panels:
        missing = {"duration", "event"} - set(p)
        if missing:
            raise ValueError(f"panel {dict(p)} lacks {sorted(missing)}")
        sv._check_columns(p.get("df", df), [p["duration"], p["event"], group])
    n_groups = max(_n_groups(p.get("df", df), group) for p in panels)
    with figure_style():
        fig, pairs = _layout(len(panels), n_groups, width, height)
        for k, (p, (ax, ax_risk)) in enumerate(zip(panels, pairs)):
            _draw(ax, ax_risk, p.get("df", df), p["duration"], p["event"], group, labels,
                  times_at_risk, ref, hr_method, show_ci, p.get("xlabel", xlabel), annotate)
            title = p.get("title", "")
            _title(ax, f"{letters[k]}   {title}".rstrip())
        if suptitle:
            fig.suptitle(suptitle, x=0.02, ha="left", fontweight="bold")
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` without timestamps or software tags, so equal figures give equal bytes."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    metadata = {"png": {"Software": None},
                "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "ModDate": None, "Creator": None,
                        "Producer": None}}.get(fmt)
    with figure_style():
        fig.savefig(path, metadata=metadata, bbox_inches="tight")
    return path
