"""Tests for cart19.stats.timevarying (synthetic cohort from test_flow; not the trial's data)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from cart19.stats.timevarying import (cr_patients, fixed_hr, time_varying_hr, immortal_person_time, immortal_time_figure,
                                immortal_time_table, landmark_frame, long_format)
from test_flow import synthetic_cohort


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10_000))
def test_time_varying_equals_fixed_when_hsct_at_day0(seed):
    t = immortal_time_table(synthetic_cohort(seed, hsct_at_zero=True), 63).set_index(
        ["endpoint", "method"])
    for ep in ("os", "lfs"):
        a, b = t.loc[(ep, "fixed")], t.loc[(ep, "time_varying")]
        assert np.isclose(a["hr"], b["hr"], rtol=1e-4)  # two Newton solvers
        assert np.isclose(a["ci_low"], b["ci_low"], rtol=1e-4)
        assert np.isclose(a["p"], b["p"], rtol=1e-4, atol=1e-12)


def test_long_format_splits_at_hsct_day():
    d = cr_patients(synthetic_cohort(3))
    long = long_format(d, "os")
    # one row per patient without HSCT, two with; the pieces tile [0, os_days]
    assert len(long) == len(d) + int(d["hsct"].sum())
    for i, g in long.groupby("id"):
        assert g["start"].min() == 0 and np.isclose(g["stop"].max(), d.loc[i, "os_days"])
        assert g["E"].iloc[:-1].sum() == 0 and g["E"].iloc[-1] == d.loc[i, "os_event"]
        if d.loc[i, "hsct"] == 1:
            assert list(g["hsct"]) == [0, 1] and g["start"].iloc[1] == d.loc[i, "hsct_day"]
        else:
            assert list(g["hsct"]) == [0]


def test_immortal_time_favours_hsct_in_fixed_analysis():
    """With no true HSCT effect, the fixed-at-infusion HR is biased below 1 and the
    time-dependent one is not (averaged over many synthetic cohorts)."""
    fixed, tv = [], []
    for seed in range(8):
        c = synthetic_cohort(seed)
        rng = np.random.default_rng(seed)
        # remove any real effect: death times independent of HSCT, HSCT only if still alive
        n = len(c)
        t = np.round(rng.exponential(250, n)) + 31
        fu = c["followup_day"].to_numpy(float)
        dead = t < fu
        c["os_days"], c["os_event"] = np.where(dead, t, fu), dead.astype(int)
        cr = c["response"] != "NR"
        hd = rng.integers(36, 121, n).astype(float)
        h = cr & (hd < c["os_days"]) & (rng.random(n) < 0.75)
        c["hsct_after"], c["hsct_day"] = h.astype(int), np.where(h, hd, np.nan)
        d = cr_patients(c)
        fixed.append(np.log(fixed_hr(d, "os")["hr"]))
        tv.append(np.log(time_varying_hr(d, "os")["hr"]))
    assert np.mean(fixed) < -0.3
    assert abs(np.mean(tv)) < abs(np.mean(fixed))


def test_landmark_frame():
    d = cr_patients(synthetic_cohort(4))
    lm = landmark_frame(d, "os", 63)
    assert (lm["os_days"] > 0).all() and len(lm) == (d["os_days"] > 63).sum()
    assert lm["hsct"].sum() == ((d["hsct_day"] <= 63) & (d["os_days"] > 63)).sum()


def test_person_time_and_figure():
    c = synthetic_cohort(5)
    pt = immortal_person_time(c)
    h = c[c["hsct_after"] == 1]
    assert pt["n_hsct"] == len(h) and pt["immortal_days"] == h["hsct_day"].sum()
    tab = immortal_time_table(c, [63, 90])
    assert len(tab) == 8 and set(tab["method"]) == {"fixed", "time_varying", "landmark"}
    fig = immortal_time_figure(tab)
    assert len(fig.axes) == 2


def test_missing_hsct_day_is_an_error():
    c = synthetic_cohort(6)
    i = c.index[c["hsct_after"] == 1][0]
    c.loc[i, "hsct_day"] = np.nan
    with pytest.raises(ValueError, match="hsct_day"):
        immortal_time_table(c)


def test_nullable_integer_days_are_accepted():
    c = synthetic_cohort(8)
    c["hsct_day"] = c["hsct_day"].round().astype("Int64")
    d = cr_patients(c)
    assert d["hsct_day"].dtype == float
    assert len(long_format(d, "os")) == len(d) + int(d["hsct"].sum())


def test_lfs_counted_from_cr_is_put_on_the_infusion_clock():
    c = synthetic_cohort(9)
    base = immortal_time_table(c, 63)
    shifted = c.copy()
    cr = shifted["response"] != "NR"
    shifted["cr_day"] = np.where(cr, 30.0, np.nan)
    shifted.loc[cr, "lfs_days"] = shifted.loc[cr, "lfs_days"] - 30  # LFS from CR, as the paper
    again = immortal_time_table(shifted, 63)
    pd.testing.assert_frame_equal(base, again)
