"""Kaplan-Meier landmarks to the printed decimal (issue 16, item 1): which values a group can
reach, the conflicts the record itself contains, and the committed cohort beside the print."""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from cart19.cohort.schema import load_cohort
from cart19.paths import COHORT_CSV
from cart19.reconstruction import landmarks as LM
from lifelines import KaplanMeierFitter


def _brute(n: int) -> set[Fraction]:
    """Every KM value n patients give: each leaves the risk set by an event or a censoring."""
    out = set()
    for pattern in itertools.product((0, 1), repeat=n):
        s, k = Fraction(1), n
        out.add(s)
        for ev in pattern:
            if ev:
                s *= Fraction(k - 1, k)
            k -= 1
            out.add(s)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_reachable_is_exact(n):
    assert set(LM.reachable(n, 0.0, 1.0)) == _brute(n)


def test_three_sevenths_needs_seven_patients():
    assert LM.reachable(6, 0.4285, 0.4295) == []
    assert LM.reachable(7, 0.4285, 0.4295) == [Fraction(3, 7)]
    assert LM.witness(6, 0.4285, 0.4295) is None
    assert LM.witness(40, 0.4285, 0.4295) is not None


def _attrs():
    from cart19.comparison.reproducers import attribute_frame
    return attribute_frame(load_cohort(COHORT_CSV))


@pytest.fixture(scope="module")
def table():
    return LM.audit_cohort(load_cohort(COHORT_CSV))


def test_every_printed_landmark_is_audited(table):
    assert table["target"].nunique() == 24
    assert len(table) == table["claim_id"].nunique() >= 60
    assert set(table["status"]) <= {"reachable", "unreachable", "follows", "conflict", "overridden"}


def test_mrd_positive_lfs_is_unreachable_with_its_group_size(table):
    rows = table[table["target"] == "fig5.lfs.mrd_pos.1y"]
    assert set(rows["status"]) == {"unreachable"}
    conflict = rows["conflict"].iloc[0].split("; ")
    assert "fig5.lfs.mrd_pos.1y" in conflict and any(c.startswith("results.mrd_pos") for c in conflict)
    # the group of that size really is the one the cohort has
    a = _attrs()
    assert "6 patients" in rows["reason"].iloc[0]
    assert int((a["cr"].astype(bool) & ~a["mrd_neg"].astype(bool)).sum()) == 6


def test_all_patient_lfs_follows_from_the_responders(table):
    """The identity behind the 'follows' conflict holds on the cohort: with the non-responders an
    LFS event at time 0, S_all(t) = (responders / all) * S_responders(t)."""
    rows = table[table["target"] == "results.fig2.lfs.all.1y"]
    assert set(rows["status"]) == {"follows"}
    all_ = rows["reproduced"].iloc[0]
    cr = table.loc[table["target"] == "results.fig2.lfs.cr.1y", "reproduced"].iloc[0]
    a = _attrs()
    ratio = a["cr"].sum() / len(a)
    assert all_ == pytest.approx(cr * ratio, abs=0.011)
    assert not (rows["window_low"].max() <= 63.15 * ratio and 63.25 * ratio <= rows["window_high"].min())


def test_reproduced_is_lifelines(table):
    a = _attrs()
    sub = a[a["hsct"].astype(bool)]
    kmf = KaplanMeierFitter().fit(sub["os_days"], sub["os_event"])
    rep = table.loc[table["target"] == "fig3.os.hsct.1y", "reproduced"].iloc[0]
    assert rep == pytest.approx(100 * float(kmf.survival_function_at_times(365.0).iloc[0]), abs=0.006)


def test_rounds_means_inside_the_printed_window(table):
    inside = (table["reproduced"] >= table["window_low"] - 1e-9) & (table["reproduced"] <= table["window_high"] + 1e-9)
    assert (table["rounds"] == inside).all()
    s = LM.summary(table)
    assert s["distinct"] == 24 and 0 <= s["distinct_rounding"] <= 24
    assert s["mean_abs_difference"] == pytest.approx(
        table.drop_duplicates("target")["difference"].abs().mean())


def test_by_landmark_one_row_each(table):
    b = LM.by_landmark(table)
    assert len(b) == 24 and b["claims"].sum() == len(table)
    assert np.all(b["window_low"] <= b["window_high"])
