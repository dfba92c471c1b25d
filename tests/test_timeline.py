"""Figure 1B's enrolment periods come from the design's calendar (lib/cart19/presentation/timeline.py).

Issue 14 found the 4-1BB switch dated 2017-11-01 in the reconstruction and 2017-12-01 in the
timeline. Both now read data/published/design.yml, so the two must agree."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from cart19.comparison.course import costim_switch
from cart19.presentation import timeline
from cart19.record import design


def test_periods_follow_the_design_calendar():
    cal = design.load().calendar
    p = timeline.periods()
    assert list(p["period"]) == ["CD28 or 4-1BB", "4-1BB only"]
    assert p["start"].iloc[0] == pd.Timestamp(cal["enrolment_start"].date)
    assert p["end"].iloc[1] == pd.Timestamp(cal["enrolment_end"].date)
    assert p["start"].iloc[1] == costim_switch()  # the day the cohort's constructs switch
    assert p["end"].iloc[0] == costim_switch() - pd.Timedelta(days=1)
    assert set(p["reading"]) == {"costim_switch_date"}


def test_a_moved_switch_moves_the_figure():
    d = design.load()
    cal = dict(d.calendar)
    cal["costim_switch"] = cal["costim_switch"].model_copy(update={"date": dt.date(2017, 12, 1)})
    p = timeline.periods(d.model_copy(update={"calendar": cal}))
    assert p["start"].iloc[1] == pd.Timestamp("2017-12-01")
    assert p["end"].iloc[0] == pd.Timestamp("2017-11-30")
