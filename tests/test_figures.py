"""Tests for cart19.presentation.figures (Kaplan-Meier figures of Figures 2-7)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cart19.presentation import figures as fg  # noqa: E402
from cart19.stats import survival as sv  # noqa: E402
from cart19.errors import InputError  # noqa: E402

REF_DIR = Path(__file__).resolve().parent / "reference"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def leuk():
    return pd.read_csv(REF_DIR / "leukemia.csv")


def _gids(ax, prefix):
    return [a for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


def _axes(fig):
    curve = [ax for ax in fig.axes if ax.get_gid() is None]
    risk = [ax for ax in fig.axes if ax.get_gid() == "km-at-risk"]
    return curve, risk


def _row_labels(fig):
    """The at-risk row labels of the first row of panels (heading excluded), top to bottom."""
    (ax,) = [a for a in fig.axes if a.get_gid() == "km-at-risk-labels"][:1]
    rows = [t for t in ax.texts if t.get_text() != "Number at risk"]
    return [t.get_text() for t in sorted(rows, key=lambda t: t.get_position()[1])]


def _rows(ax_risk):
    return sorted({t.get_position()[1] for t in ax_risk.texts})


def test_km_figure_two_groups_lines_censor_ticks_and_at_risk(leuk):
    times = [0, 10, 20, 30]
    fig = fg.km_figure(leuk, "t", "status", "Rx", labels={0: "6-MP", 1: "Placebo"},
                       times_at_risk=times, title="Remission", xlabel="Weeks", ref=0)
    (ax,), (ax_risk,) = _axes(fig)
    curves = _gids(ax, "km-curve-")
    assert len(curves) == 2
    # censored subjects only in the 6-MP arm (Rx = 0): one censor-tick line for it
    censors = _gids(ax, "km-censor-")
    assert [c.get_gid() for c in censors] == ["km-censor-0"]
    assert len(censors[0].get_xdata()) == int((leuk.query("Rx == 0")["status"] == 0).sum())
    # % survival on y: curves start at 100
    for c in curves:
        assert c.get_ydata()[0] == pytest.approx(100.0)
        assert np.all(np.diff(c.get_ydata()) <= 1e-9)
    # at-risk table: one row per group, numbers = number_at_risk, under the x ticks
    assert _row_labels(fig) == ["6-MP", "Placebo"]
    nar = sv.number_at_risk(leuk, "t", "status", "Rx", times)
    shown = sorted((txt.get_position(), txt.get_text()) for txt in ax_risk.texts)
    expected = sorted(((float(t), float(i)), str(int(nar.loc[g, float(t)])))
                      for i, g in enumerate([0, 1]) for t in times)
    assert shown == expected
    assert list(ax.get_xticks()) == times and ax_risk.get_xlim() == ax.get_xlim()
    # journal style: no top/right spines, title present
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.get_title(loc="left") == "Remission"


def test_annotation_comes_from_survival_functions(leuk):
    fig = fg.km_figure(leuk, "t", "status", "Rx", labels=["6-MP", "Placebo"], ref=0,
                       hr_method="mantel_haenszel")
    (ax,), _ = _axes(fig)
    (stats_text,) = _gids(ax, "km-stats")
    hr = sv.logrank_hr(leuk, "t", "status", "Rx", ref=0).loc["mantel_haenszel"]
    text = stats_text.get_text()
    assert "P < 0.0001" in text  # survdiff chi2 = 16.8 on 1 df
    assert fg.fmt_hr(hr["hr"], hr["ci_lower"], hr["ci_upper"]) in text
    # the HR's orientation is said once per figure, in the legend's title
    (legend,) = fig.legends
    note = legend.get_title().get_text()
    assert "Placebo vs 6-MP" in note and "Mantel-Haenszel" in note
    assert [t.get_text() for t in legend.get_texts()] == ["6-MP (n = 21)", "Placebo (n = 21)"]


def test_single_curve_and_many_groups():
    lar = pd.read_csv(REF_DIR / "larynx.csv")
    fig = fg.km_figure(lar, "time", "death", None, xlabel="Years", show_ci=True)
    (ax,), (ax_risk,) = _axes(fig)
    assert len(_gids(ax, "km-curve-")) == 1 and len(_gids(ax, "km-ci-")) == 1
    assert not _gids(ax, "km-stats")  # nothing to compare
    assert _row_labels(fig) == ["No. at risk"] and len(_rows(ax_risk)) == 1
    assert not fig.legends  # one curve: nothing to tell apart
    fig4 = fg.km_figure(lar, "time", "death", "stage", labels=["I", "II", "III", "IV"])
    (ax4,), (risk4,) = _axes(fig4)
    assert len(_gids(ax4, "km-curve-")) == 4 and len(_rows(risk4)) == 4
    assert _row_labels(fig4) == ["I", "II", "III", "IV"]
    assert "(3 df)" in _gids(ax4, "km-stats")[0].get_text()


def test_km_panel_side_by_side(leuk):
    cr_only = leuk[leuk["sex"] == 1]  # a different data frame for panel B, as LFS is CR-only
    fig = fg.km_panel(leuk, [dict(duration="t", event="status", title="OS"),
                             dict(duration="t", event="status", title="LFS", df=cr_only)],
                      group="Rx", labels=["6-MP", "Placebo"], times_at_risk=[0, 10, 20])
    curve_axes, risk_axes = _axes(fig)
    assert len(curve_axes) == 2 and len(risk_axes) == 2
    assert [ax.get_title(loc="left") for ax in curve_axes] == ["A   OS", "B   LFS"]
    for ax, ax_risk in zip(curve_axes, risk_axes):
        assert len(_gids(ax, "km-curve-")) == 2
        assert len(_rows(ax_risk)) == 2
    # panel B really used its own data
    b_counts = sorted(int(t.get_text()) for t in risk_axes[1].texts)
    assert max(b_counts) == cr_only["Rx"].value_counts().max()


@pytest.mark.parametrize("kwargs,column", [
    (dict(duration="os_days", event="status", group="Rx"), "os_days"),
    (dict(duration="t", event="died", group="Rx"), "died"),
    (dict(duration="t", event="status", group="hsct"), "hsct"),
])
def test_missing_column_raises_clear_error(leuk, kwargs, column):
    leuk.attrs["source"] = "tests/reference/leukemia.csv"
    with pytest.raises(InputError) as exc:
        fg.km_figure(leuk, **kwargs)
    msg = str(exc.value)
    assert repr(column) in msg and "missing" in msg and "leukemia.csv" in msg
    with pytest.raises(InputError, match=column):
        fg.km_panel(leuk, [dict(duration=kwargs["duration"], event=kwargs["event"])],
                    group=kwargs["group"])


def test_bad_arguments(leuk):
    with pytest.raises(ValueError, match="labels"):
        fg.km_figure(leuk, "t", "status", "Rx", labels=["only one"])
    with pytest.raises(ValueError, match="hr_method"):
        fg.km_figure(leuk, "t", "status", "Rx", hr_method="cox")
    with pytest.raises(ValueError, match="lacks"):
        fg.km_panel(leuk, [dict(duration="t")], group="Rx")


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_figures_are_byte_identical_when_rebuilt(leuk, tmp_path, suffix):
    paths = []
    for k in range(2):
        fig = fg.km_panel(leuk, [dict(duration="t", event="status", title="OS"),
                                 dict(duration="t", event="status", title="LFS")],
                          group="Rx", labels=["6-MP", "Placebo"])
        paths.append(fg.save_figure(fig, tmp_path / f"f{k}.{suffix}"))
        plt.close(fig)
    a, b = (p.read_bytes() for p in paths)
    assert len(a) > 1000 and a == b
    if suffix == "svg":
        assert b"<dc:date>" not in a


# ------------------------------------------------------------------ legibility at the book's width
def _texts(fig):
    """Every visible, non-empty text of a drawn figure with its window extent (pixels)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += ax.texts + ax.get_xticklabels() + ax.get_yticklabels()
    for legend in fig.legends:
        texts += legend.get_texts() + [legend.get_title()]
    if fig._suptitle is not None:
        texts.append(fig._suptitle)
    unique = {id(t): t for t in texts}.values()  # the suptitle is also in fig.texts
    return [(t, t.get_window_extent(renderer)) for t in unique
            if t.get_visible() and t.get_text().strip()]


def _overlaps(fig, slack=0.5):
    boxes = _texts(fig)
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if (min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > slack
                    and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > slack):
                out.append((a.get_text(), b.get_text()))
    return out


def _check_journal_layout(fig):
    """No two texts overlap; each at-risk count sits centred under its x tick (same x limits)."""
    assert not _overlaps(fig), _overlaps(fig)
    curve, risk = _axes(fig)
    assert len(curve) == len(risk)
    for ax, ax_risk in zip(curve, risk):
        ticks = list(ax.get_xticks())
        assert ax_risk.get_xlim() == ax.get_xlim()
        xs = sorted({t.get_position()[0] for t in ax_risk.texts})
        assert xs == sorted(ticks)
        assert all(t.get_ha() == "center" for t in ax_risk.texts)
    # the figure fits the book's text width, so 8-9 pt text is shown at about 8-9 pt
    assert fig.get_figwidth() <= fg.BOOK_WIDTH + 0.5


def test_km_panels_have_no_overlapping_text(leuk):
    fig = fg.km_panel(leuk, [dict(duration="t", event="status", title="OS"),
                             dict(duration="t", event="status", title="LFS")],
                      group="Rx", labels=["6-MP maintenance", "Placebo"], ref=0,
                      suptitle="A long title above both panels")
    _check_journal_layout(fig)
    four = fg.km_panel(leuk, [dict(duration="t", event="status", title=f"Panel {k}")
                              for k in range(4)])
    _check_journal_layout(four)
    assert len({round(ax.get_position().x0, 3) for ax in _axes(four)[0]}) == 2  # 2 x 2


def test_overlap_check_can_fail(leuk):
    """The check above does see crowded ticks (guards against a test that cannot fail)."""
    fig = fg.km_figure(leuk, "t", "status", "Rx", times_at_risk=list(range(0, 36)), width=3)
    assert _overlaps(fig)


@pytest.fixture(scope="module")
def cohort():
    from cart19.cohort.schema import load_cohort
    from cart19.paths import COHORT_CSV

    if not COHORT_CSV.is_file():
        pytest.skip(f"{COHORT_CSV} not present")
    return load_cohort(COHORT_CSV)


@pytest.mark.parametrize("which", ["fig2", "fig3", "fig4", "fig5", "fig6", "fig7"])
def test_paper_figures_read_like_journal_figures(cohort, which):
    from cart19.presentation import paper_figures as pf

    fig = pf.figure2(cohort) if which == "fig2" else pf.paper_figure(cohort, which)
    _check_journal_layout(fig)
    curve, risk = _axes(fig)
    assert len(curve) == (4 if which == "fig2" else 2)
    for ax in curve:
        assert list(ax.get_xticks()) == list(pf.AT_RISK_MONTHS)  # every 3 months
        assert ax.get_xlabel() == pf.XLABEL
    if which != "fig2":
        data = pf.arm_frame(cohort, which)
        months = data["os_days"] / pf.DAYS_PER_MONTH
        first = min(data["arm"].unique())  # rows follow the sorted arm labels
        expected = [int((months[data["arm"] == first] >= m).sum()) for m in pf.AT_RISK_MONTHS]
        shown = sorted((t for t in risk[0].texts if t.get_position()[1] == 0),
                       key=lambda t: t.get_position()[0])
        assert [int(t.get_text()) for t in shown] == expected


def test_hr_labels_use_one_precision():
    # the smallest of the three keeps two significant digits, and all three share its decimals
    assert fg.fmt_hr(0.125, 0.0466, 0.334) == "HR 0.125 (95% CI 0.047\u20130.334)"
    assert fg.fmt_hr(35.45, 11.6, 108.4) == "HR 35.5 (95% CI 11.6\u2013108.4)"
    assert fg.fmt_hr(5.15, 2.4, 11.3) == "HR 5.2 (95% CI 2.4\u201311.3)"


def test_log_axis_reads_plain_numbers():
    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.set_xlim(0.01, 100)
    fg.plain_log_axis(ax, "x")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0.01", "0.1", "1", "10", "100"]


def test_reconstructed_mark_is_in_the_svg_and_bytes_are_stable(leuk):
    def draw():
        fig = fg.km_figure(leuk, "t", "status", "Rx", ref=0)
        return fg.show(fig, reconstructed=True).svg

    svg = draw()
    assert 'id="cart19-reconstructed"' in svg and "<!-- Reconstructed cohort" in svg
    assert svg == draw()  # deterministic: same data, same bytes
    assert "<dc:date>" not in svg


def test_paper_figure_prints_each_caption_hr_like_for_like():
    from cart19.cohort.schema import load_cohort
    from cart19.paths import COHORT_CSV
    from cart19.presentation import paper_figures

    fig = paper_figures.paper_figure(load_cohort(COHORT_CSV), "fig3")
    stats_ = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "km-stats"]
    # Figure 3's caption prints the OS HR as transplanted vs alone and the LFS HR the other way
    assert "Bridged into allo-HSCT vs CAR T alone" in stats_[0]
    assert "CAR T alone vs Bridged into allo-HSCT" in stats_[1]
    assert any(t.get_gid() == fg.MARK_GID for t in fig.texts)
