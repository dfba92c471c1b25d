"""Kaplan-Meier figures in the style of the paper's Figures 2-7.

:func:`km_figure` draws one panel: step curves in % survival with censor ticks, a number-at-risk
table beneath aligned with the x ticks, and (for 2+ groups) the log-rank P and, for 2 groups, a
Prism-style hazard ratio with 95% CI, all computed by :mod:`cart19.stats.survival` from the data given.
:func:`km_panel` puts several such panels side by side (A: OS, B: LFS, as Figures 3-7 do).

Figures are deterministic: fixed size, font (DejaVu Sans, shipped with matplotlib), sizes and
colours; :func:`save_figure` strips the timestamps and software tags matplotlib writes into PNG,
SVG and PDF files so that the same data give byte-identical files.

The book shows every figure as SVG (:func:`show`), at its own size: a figure as wide as the text
column (:data:`BOOK_WIDTH`) or the full page (:data:`FULL_WIDTH`) is displayed at about 1.33 CSS px
per point at 1280 px, so the smallest text of the style (7.5 pt, :data:`MIN_FONT_PT`) reads at
10 px, 9 px even where a figure is shown at 90% of its own size.
:func:`mark_reconstructed` writes "Reconstructed cohort" into a figure drawn from the cohort, so
that a copied image still says what it is.
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

from cart19.stats import survival as sv

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

_HR_LABEL = {"logrank": "log-rank", "mantel_haenszel": "Mantel-Haenszel", "cox": "Cox"}

#: the smallest text a figure of the book uses, in points (9 px at 1.33 px/pt, see the docstring)
MIN_FONT_PT = 7.5
#: the words every figure drawn from the reconstruction carries (see :func:`mark_reconstructed`)
RECONSTRUCTED = "Reconstructed cohort, not the trial's data"
MARK_GID = "cart19-reconstructed"


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


def fmt_hr(hr: float, lo: float, hi: float) -> str:
    """ "HR 0.125 (95% CI 0.047-0.334)": one number of decimals for the HR and both limits, enough
    for the smallest of the three to keep two significant digits (at most 3, at least 1)."""
    vals = [v for v in (hr, lo, hi) if np.isfinite(v) and v > 0]
    if not vals:
        return "HR n/a"
    smallest = min(vals)
    decimals = int(min(3, max(1, 1 - np.floor(np.log10(smallest)))))
    f = f"{{:.{decimals}f}}"
    return f"HR {f.format(hr)} (95% CI {f.format(lo)}\u2013{f.format(hi)})"


def plain_log_axis(ax, axis: str = "x", ticks: Sequence[float] | None = None) -> None:
    """Tick labels on a log axis as plain numbers (0.1, 0.5, 1, 2, 10), not powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = (ax.get_xlim() if axis == "x" else ax.get_ylim())
    if ticks is None:
        base = [1, 2, 5]
        ticks = [b * 10.0 ** e for e in range(-6, 7) for b in base]
    ticks = [t for t in ticks if lo <= t <= hi]
    if len(ticks) > 9:  # keep 1-10-100 steps on a wide axis
        ticks = [t for t in ticks if np.isclose(np.log10(t), round(np.log10(t)))] or ticks
    target.set_major_locator(FixedLocator(ticks))
    target.set_minor_locator(NullLocator())
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def mark_reconstructed(fig: Figure, text: str = RECONSTRUCTED, where: str = "below") -> Figure:
    """Write ``text`` small and grey at the right of ``fig``, with the SVG id :data:`MARK_GID`, so
    that the image itself says it was drawn from a reconstruction. ``where``: "below" (under
    everything the figure holds: the saved image grows to include it, so it covers nothing),
    "top" or "bottom" (inside the top or bottom right corner)."""
    from matplotlib.transforms import offset_copy

    y, va, dy = {"top": (1.0, "top", -1), "bottom": (0.0, "bottom", 1)}.get(where, (0.0, "top", -4))
    fig.text(0.998, y, text, ha="right", va=va, fontsize=MIN_FONT_PT, color="#6b6b6b",
             style="italic", gid=MARK_GID,
             transform=offset_copy(fig.transFigure, fig=fig, x=0, y=dy, units="points"))
    return fig


class SVGFigure:
    """A figure as the book shows it: SVG (sharp at any zoom, its text measurable by the browser
    tests), deterministic bytes. Jupyter displays it through :meth:`_repr_svg_`."""

    def __init__(self, fig: Figure, alt: str = ""):
        import io

        buf = io.StringIO()
        with figure_style():
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                        bbox_inches="tight")
        self.svg = buf.getvalue()
        self.alt = alt
        self.reconstructed = any(t.get_gid() == MARK_GID for t in fig.texts)
        plt.close(fig)  # shown once, here, not again by the inline backend

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<figure (SVG, {len(self.svg) // 1024} kB{', reconstructed cohort' if self.reconstructed else ''})>"


def show(fig: Figure, reconstructed: bool = False, width: float | None = None,
         plain_logs: bool = False) -> SVGFigure:
    """``fig`` as the book shows it (SVG).

    ``reconstructed`` adds :func:`mark_reconstructed` if the figure does not carry the mark yet;
    ``width`` (inches) resizes a figure drawn elsewhere to the width it is shown at (its text keeps
    its size in points, so it is displayed at the book's scale) and lays it out again;
    ``plain_logs`` gives every log axis plain tick labels (:func:`plain_log_axis`)."""
    if width is not None:
        fig.set_size_inches(width, fig.get_figheight())
        if fig.get_layout_engine() is None:
            fig.tight_layout()
    if plain_logs:
        for ax in fig.axes:
            for axis in ("x", "y"):
                if (ax.get_xscale() if axis == "x" else ax.get_yscale()) == "log":
                    plain_log_axis(ax, axis)
    if reconstructed and not any(t.get_gid() == MARK_GID for t in fig.texts):
        mark_reconstructed(fig)
    return SVGFigure(fig)


def _labels_for(levels: list, labels) -> dict:
    if labels is None:
        return {lv: str(lv) for lv in levels}
    if isinstance(labels, Mapping):
        return {lv: str(labels.get(lv, labels.get(str(lv), lv))) for lv in levels}
    labels = list(labels)
    if len(labels) != len(levels):
        raise ValueError(f"{len(labels)} labels given for {len(levels)} groups {levels}")
    return dict(zip(levels, map(str, labels)))


#: Width of the book's text column in inches: a figure this wide is shown at about its own size
#: (8-9 pt text stays 8-9 pt), not shrunk as a wider figure would be.
BOOK_WIDTH = 7.0
#: Width of a full-width figure (text column and margin, ``:figclass: full-width``), in inches.
FULL_WIDTH = 9.4


def _draw(ax, ax_risk, df: pd.DataFrame, duration: str, event: str, group: str | None,
          labels, times_at_risk, ref, hr_method: str, show_ci: bool, xlabel: str,
          annotate: bool, per_panel_note: bool = False) -> tuple[list, list[str], str | None]:
    """Draw curves into ``ax`` and the at-risk counts into ``ax_risk``.

    Returns the legend handles, the at-risk row labels (one per group, in row order) and the
    hazard-ratio orientation note ("B vs A (logrank method)") or None.
    """
    sv._check_columns(df, [duration, event, group])
    data = sv._survival_frame(df, duration, event, [group] if group else [])
    levels = sv._groups(data, group)
    names = _labels_for(levels, labels)
    if len(levels) > len(OKABE_ITO):
        raise ValueError(f"at most {len(OKABE_ITO)} groups can be drawn, got {len(levels)}")
    tmax = float(data[duration].max()) if len(data) else 1.0
    if times_at_risk is None:
        times_at_risk = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 3, 5, 10]).tick_values(0, tmax)
        times_at_risk = [t for t in times_at_risk if 0 <= t <= tmax]
    times_at_risk = [float(t) for t in times_at_risk]

    handles = [_curve(ax, sv._subset(data, group, lv), duration, event, names[lv], lv,
                      OKABE_ITO[i], show_ci) for i, lv in enumerate(levels)]

    ax.set_ylim(0, 105)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("Survival (%)")
    lo, hi = min(times_at_risk + [0.0]), max(times_at_risk + [tmax])
    ax.set_xlim(lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo))
    ax.set_xticks(times_at_risk)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_xlabel(xlabel)

    note = None
    if annotate and group is not None and len(levels) >= 2:
        note = _test_statistics(ax, data, duration, event, group, levels, names, ref, hr_method,
                                per_panel_note)
    _at_risk_rows(ax, ax_risk, data, duration, event, group, levels, times_at_risk)
    row_labels = [names[lv] for lv in levels] if group is not None else [_ONE_ROW]
    return handles, row_labels, note


def _curve(ax, sub: pd.DataFrame, duration: str, event: str, name: str, lv, colour,
           show_ci: bool):
    """One group's Kaplan-Meier step curve, its censoring ticks and (optionally) its CI band."""
    kmf = KaplanMeierFitter().fit(sub[duration], sub[event], label=name)
    sf = kmf.survival_function_.iloc[:, 0]
    t = np.append(sf.index.to_numpy(float), float(sub[duration].max()))
    s = np.append(sf.to_numpy(float), sf.iloc[-1]) * 100
    (line,) = ax.step(t, s, where="post", color=colour, label=f"{name} (n = {len(sub)})")
    line.set_gid(f"km-curve-{lv}")
    cens = np.sort(sub.loc[sub[event] == 0, duration].to_numpy(float))
    if cens.size:
        y = kmf.survival_function_at_times(cens).to_numpy(float) * 100
        (ticks,) = ax.plot(cens, y, linestyle="none", marker="|", markersize=5,
                           markeredgewidth=0.9, color=colour)
        ticks.set_gid(f"km-censor-{lv}")
    if show_ci:
        ci = kmf.confidence_interval_
        band = ax.fill_between(ci.index.to_numpy(float), ci.iloc[:, 0] * 100,
                               ci.iloc[:, 1] * 100, step="post", color=colour, alpha=0.15,
                               linewidth=0)
        band.set_gid(f"km-ci-{lv}")
    return line


def _test_statistics(ax, data: pd.DataFrame, duration: str, event: str, group: str, levels,
                     names: dict, ref, hr_method: str, per_panel_note: bool) -> str | None:
    """The log-rank P (and for two groups the HR) in a small text block between the panel title
    and the plot, where it can never cover a curve; the title is lifted by the block's height (see
    _title). Returns the HR's orientation (long group names), for one note per figure."""
    note = None
    lr = sv.logrank(data, duration, event, group)
    stats_text = f"Log-rank {_fmt_p(lr['p'])}"
    if len(levels) == 2:
        ref_level = levels[0] if ref is None else ref
        hr = sv.logrank_hr(data, duration, event, group, ref=ref_level).loc[hr_method]
        stats_text += "\n" + fmt_hr(hr["hr"], hr["ci_lower"], hr["ci_upper"])
        note = f"HR: {names[hr['group']]} vs {names[ref_level]} ({_HR_LABEL[hr_method]})"
        if per_panel_note:  # this panel's HR has its own orientation: say which, under it
            stats_text += f"\n   {names[hr['group']]} vs {names[ref_level]}"
    else:
        stats_text += f" ({lr['df']} df)"
    ax.text(0.0, 1.02, stats_text, transform=ax.transAxes, ha="left", va="bottom",
            fontsize=STYLE["legend.fontsize"] - 0.5, gid="km-stats", linespacing=1.3)
    return note


def _at_risk_rows(ax, ax_risk, data: pd.DataFrame, duration: str, event: str, group: str | None,
                  levels, times_at_risk: list[float]) -> None:
    """Number-at-risk rows: one per group, each count centred under its x tick (same x limits as
    the curves). Drawn here rather than with lifelines' add_at_risk_counts so the numbers are
    exactly cart19.stats.survival.number_at_risk (subjects with duration >= t, R's convention);
    lifelines' default counts at the end of each period instead. The row labels go in a separate
    column left of the first panel (see _at_risk_labels), so panels keep equal widths."""
    nar = sv.number_at_risk(data, duration, event, group, times_at_risk)
    _risk_axis(ax_risk, len(levels))
    ax_risk.set_xlim(ax.get_xlim())
    for i, lv in enumerate(levels):
        for t in times_at_risk:
            ax_risk.text(t, i, str(int(nar.loc[lv, t])), ha="center", va="center",
                         color=OKABE_ITO[i], fontsize=STYLE["xtick.labelsize"])
    ax_risk.set_gid("km-at-risk")


def _risk_axis(ax, n_rows: int) -> None:
    """An invisible axis whose rows 0..n-1 run top to bottom."""
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.patch.set_visible(False)


#: the at-risk row label of a single (ungrouped) curve, which needs no heading
_ONE_ROW = "No. at risk"


def _at_risk_labels(ax, row_labels: list[str]) -> None:
    """The at-risk row labels, right-aligned, each in its group's colour, under a heading."""
    _risk_axis(ax, len(row_labels))
    ax.set_xlim(0, 1)
    for i, label in enumerate(row_labels):
        ax.text(1.0, i, label, ha="right", va="center", fontsize=STYLE["xtick.labelsize"],
                color=OKABE_ITO[i] if label != _ONE_ROW else "black",
                fontweight="bold" if label == _ONE_ROW else "normal")
    if row_labels != [_ONE_ROW]:
        ax.text(1.0, -0.5, "Number at risk", ha="right", va="bottom", fontweight="bold",
                fontsize=STYLE["xtick.labelsize"])
    ax.set_gid("km-at-risk-labels")


def _title(ax, text: str) -> None:
    """Panel title, lifted above the statistics block if there is one."""
    stats = [t for t in ax.texts if t.get_gid() == "km-stats"]
    lines = stats[0].get_text().count("\n") + 1 if stats else 0
    ax.set_title(text, loc="left", fontweight="bold", pad=4 + 11 * lines)


def _text_width(labels: Sequence[str], fontsize: float) -> float:
    """Width in inches of the widest label (plus the bold heading) when rendered."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    bold = FontProperties(weight="bold")
    widths = [TextPath((0, 0), s, size=fontsize, prop=bold if s == _ONE_ROW else None)
              .get_extents().width for s in labels]
    if list(labels) != [_ONE_ROW]:
        widths.append(TextPath((0, 0), "Number at risk", size=fontsize, prop=bold)
                      .get_extents().width)
    return max(widths) / 72.0


def _layout(n_panels: int, ncols: int, n_groups: int, row_labels: Sequence[str],
            width: float, height: float):
    """Figure and (curve axis, at-risk axis) per panel, row-major; one label column at the left.

    Each panel row is two grid rows: the curves (``height`` inches) and the at-risk counts
    (0.17 in per group). The left column holds the at-risk row labels once per panel row.
    """
    nrows = -(-n_panels // ncols)
    risk_h = 0.17 * n_groups + 0.06
    label_w = _text_width(row_labels, STYLE["xtick.labelsize"]) + 0.05
    panel_w = max((width - label_w) / ncols, 1.0)
    # constrained layout leaves room for tick labels, axis labels, titles and the top legend
    fig = plt.figure(figsize=(label_w + panel_w * ncols, nrows * (height + risk_h + 0.75)),
                     layout="constrained")
    fig.get_layout_engine().set(h_pad=0.03, w_pad=0.04, hspace=0.02, wspace=0.04)
    gs = fig.add_gridspec(2 * nrows, 1 + ncols, width_ratios=[label_w] + [panel_w] * ncols,
                          height_ratios=[height, risk_h] * nrows)
    pairs, label_axes = [], []
    for k in range(n_panels):
        r, c = divmod(k, ncols)
        ax = fig.add_subplot(gs[2 * r, 1 + c])
        ax_risk = fig.add_subplot(gs[2 * r + 1, 1 + c])
        pairs.append((ax, ax_risk))
    for r in range(nrows):
        label_axes.append(fig.add_subplot(gs[2 * r + 1, 0]))
    return fig, pairs, label_axes


def _n_groups(df: pd.DataFrame, group: str | None) -> int:
    if group is None:
        return 1
    sv._check_columns(df, [group])
    return int(df[group].nunique())


def _finish(fig, label_axes, row_labels: list[str], handles: list, note: str | None,
            suptitle: str | None) -> None:
    """Row labels, one legend for the whole figure (above the panels) and the title."""
    for ax in label_axes:
        _at_risk_labels(ax, row_labels)
    if len(handles) > 1:
        # above the panels; below them if a suptitle takes the top (the two would overlap)
        where = "outside lower left" if suptitle else "outside upper left"
        legend = fig.legend(handles=handles, loc=where, ncols=len(handles),
                            frameon=False, handlelength=1.8, columnspacing=1.6, title=note,
                            title_fontsize=STYLE["legend.fontsize"] - 0.5, alignment="left")
        legend.set_gid("km-legend")
    if suptitle:
        fig.suptitle(suptitle, x=0.01, ha="left", fontweight="bold")


def km_figure(df: pd.DataFrame, duration: str, event: str, group: str | None = None,
              labels: Sequence[str] | Mapping | None = None,
              times_at_risk: Sequence[float] | None = None, title: str | None = None, *,
              xlabel: str = "Days after CAR T-cell infusion", ref=None,
              hr_method: str = "logrank", show_ci: bool = False, annotate: bool = True,
              width: float = 4.8, height: float = 2.4) -> Figure:
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
        other group versus ``ref``, from :func:`cart19.stats.survival.logrank_hr` with ``hr_method``
        (``"logrank"`` or ``"mantel_haenszel"``); the legend's title names the orientation.
    show_ci:
        add the pointwise 95% log(-log) confidence band.
    width, height:
        figure width and height of the plotting area, in inches.

    Raises :class:`cart19.errors.InputError` (naming the column) when a column is missing.
    """
    return km_panel(df, [{"duration": duration, "event": event, "title": title or ""}],
                    group=group, labels=labels, times_at_risk=times_at_risk, letters="",
                    xlabel=xlabel, ref=ref, hr_method=hr_method, show_ci=show_ci,
                    annotate=annotate, width=width, height=height)


def _check_panels(df: pd.DataFrame, panels: Sequence[Mapping], group: str | None,
                  hr_method: str) -> None:
    """At least one panel, each with its duration and event columns, and a known HR method."""
    if not panels:
        raise ValueError("km_panel needs at least one panel")
    for m in {hr_method} | {p.get("hr_method", hr_method) for p in panels}:
        if m not in ("logrank", "mantel_haenszel"):
            raise ValueError(f"hr_method must be one of ['logrank', 'mantel_haenszel'], got {m!r}")
    for p in panels:
        missing = {"duration", "event"} - set(p)
        if missing:
            raise ValueError(f"panel {dict(p)} lacks {sorted(missing)}")
        sv._check_columns(p.get("df", df), [p["duration"], p["event"], group])


def _panel_row_labels(df: pd.DataFrame, panels: Sequence[Mapping], group: str | None,
                      labels) -> list[str]:
    """Every group name any panel shows (sizes the label column)."""
    if group is None:
        return [_ONE_ROW]
    return sorted({name for p in panels for name in _labels_for(sv._groups(
        sv._survival_frame(p.get("df", df), p["duration"], p["event"], [group]), group),
        labels).values()})


def km_panel(df: pd.DataFrame, panels: Sequence[Mapping], group: str | None = None,
             labels: Sequence[str] | Mapping | None = None,
             times_at_risk: Sequence[float] | None = None, *, letters: str = "ABCDEFGH",
             xlabel: str = "Days after CAR T-cell infusion", ref=None,
             hr_method: str = "logrank", show_ci: bool = False, annotate: bool = True,
             suptitle: str | None = None, ncols: int | None = None,
             width: float = BOOK_WIDTH, height: float = 2.4, mark: str | None = None) -> Figure:
    """Several KM panels, e.g. A = OS and B = LFS as in Figures 3-7 (A-D, 2 x 2, in Figure 2).

    ``panels`` is a list of mappings with keys ``duration``, ``event``, ``title`` and optionally
    ``df`` (a different data frame for that panel - e.g. LFS is defined only for patients in CR,
    Figure 2C-D), ``xlabel``, and ``ref``/``hr_method`` (that panel's hazard ratio: when panels
    differ, each names its own orientation above its statistics). ``mark``: text written small into
    the figure (:func:`mark_reconstructed`). ``ncols`` panels per row (default: up to 2, so a figure fits the
    book's text width); ``width`` is the whole figure's width and ``height`` each plotting area's
    height, in inches. The other arguments are as in :func:`km_figure` and apply to every panel.
    The at-risk rows are labelled once per row of panels, at the left, and one legend above the
    panels names the groups.
    """
    _check_panels(df, panels, group, hr_method)
    if ncols is None:
        ncols = min(len(panels), 2)
    if ncols < 1:
        raise ValueError("ncols must be at least 1")
    n_groups = max(_n_groups(p.get("df", df), group) for p in panels)
    row_labels = _panel_row_labels(df, panels, group, labels)
    with figure_style():
        fig, pairs, label_axes = _layout(len(panels), ncols, n_groups, row_labels, width, height)
        handles, notes = [], []
        refs = {p.get("ref", ref) for p in panels}
        methods = {p.get("hr_method", hr_method) for p in panels}
        per_panel = len(refs) > 1 or len(methods) > 1  # then each panel names its own HR
        for k, (p, (ax, ax_risk)) in enumerate(zip(panels, pairs)):
            h, rows, note = _draw(ax, ax_risk, p.get("df", df), p["duration"], p["event"], group,
                                  labels, times_at_risk, p.get("ref", ref),
                                  p.get("hr_method", hr_method), show_ci,
                                  p.get("xlabel", xlabel), annotate, per_panel)
            if len(h) > len(handles):
                handles, row_labels = h, rows
            notes.append(note)
            letter = letters[k] if k < len(letters) else ""
            title = p.get("title", "") or ""
            if letter or title:
                _title(ax, f"{letter}   {title}".strip())
        note = next((n for n in notes if n), None)
        if per_panel and note:  # orientation under each panel's HR; the method once, here
            note = f"HR: {_HR_LABEL[next(iter(methods))]}" + (
                " (as each caption of the paper orients it)" if len(refs) > 1 else "")
        _finish(fig, label_axes, row_labels, handles, note, suptitle)
        if mark:
            mark_reconstructed(fig, mark)
        _freeze_layout(fig)
    return fig


def _freeze_layout(fig: Figure) -> None:
    """Run the constrained layout once, round the axes positions and switch the engine off.

    The layout solver's last digits vary from run to run (~1e-16), and SVG clip-path ids hash
    the exact axes boxes; frozen, rounded positions keep saved files byte-identical.
    """
    fig.draw_without_rendering()
    for ax in fig.axes:
        ax.set_position([round(float(v), 6) for v in ax.get_position().bounds])
    fig.set_layout_engine("none")


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
