"""Tests for cart19.presentation.swimmer (synthetic cohort from test_flow; not the trial's data)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
from hypothesis import given, settings, strategies as st

from cart19.presentation.swimmer import GROUPS, swimmer_figure, swimmer_lanes
from test_flow import synthetic_cohort


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_lanes_one_per_patient_sorted(seed):
    c = synthetic_cohort(seed)
    lanes = swimmer_lanes(c)
    assert len(lanes) == len(c) and set(lanes["patient_id"]) == set(c["patient_id"])
    g = lanes["group"].map({g: i for i, g in enumerate(GROUPS)}).to_numpy()
    assert (np.diff(g) >= 0).all()
    for _, part in lanes.groupby("group"):
        assert (np.diff(part["end_day"].to_numpy()) <= 0).all()
    # every event marker lies on its bar
    assert (lanes["hsct_day"].dropna() <= lanes.loc[lanes["hsct_day"].notna(), "end_day"]).all()
    assert (lanes["relapse_day"].dropna()
            <= lanes.loc[lanes["relapse_day"].notna(), "end_day"]).all()


def test_groups_and_markers_match_cohort():
    c = synthetic_cohort(5)
    lanes = swimmer_lanes(c).set_index("patient_id")
    hs = c.loc[c["hsct_after"] == 1, "patient_id"]
    assert (lanes.loc[hs, "group"] == GROUPS[0]).all()
    assert lanes["hsct_day"].notna().sum() == (c["hsct_after"] == 1).sum()
    assert lanes["relapse_cd19neg"].sum() == (c["relapse_cd19"] == "CD19-").sum()
    assert lanes["died"].sum() == c["os_event"].sum()


def test_figure_draws_a_bar_per_patient():
    c = synthetic_cohort(6)
    fig = swimmer_figure(c)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_height() > 0.5]
    assert len(bars) == len(c)
    assert sorted(round(b.get_width(), 6) for b in bars) == sorted(
        round(float(v), 6) for v in c["os_days"])
    assert fig.legends, "the markers are explained in a legend"
    assert any(t.get_gid() == "cart19-reconstructed" for t in fig.texts)


def test_nullable_integer_days_are_accepted():
    # the reconstruction writes day columns as pandas nullable Int64
    c = synthetic_cohort(7)
    for col in ("hsct_day", "relapse_day", "death_day"):
        c[col] = c[col].round().astype("Int64")
    lanes = swimmer_lanes(c)
    assert lanes["hsct_day"].dtype == float and lanes["hsct_day"].notna().sum() == c["hsct_after"].sum()
