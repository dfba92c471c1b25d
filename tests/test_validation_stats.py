"""The general engine's own survival statistics against lifelines and cart19.stats.survival
(simulated data, not any trial's)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

from cart19.reconstruction import general_survival as gs
from cart19.reconstruction.general_targets import p_to_z, printed_hr, printed_p, printed_percent
from cart19.stats.survival import logrank_hr


def _data(seed: int, n: int = 80):
    r = np.random.default_rng(seed)
    g = r.random(n) < 0.45
    t = np.ceil(r.exponential(np.where(g, 200, 350))).astype(int)
    c = r.integers(20, 500, n)
    return np.minimum(t, c), (t <= c).astype(int), g


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_km_and_at_risk_match_lifelines(seed):
    t, e, g = _data(seed)
    masks = np.array([np.ones_like(g), g, ~g])
    rs = gs.risk_sets(t, e, masks)
    at = [50, 150.5, 365]
    s = gs.km(rs, at)
    nr = gs.at_risk(t, masks, at)
    for row, m in enumerate(masks):
        kmf = KaplanMeierFitter().fit(t[m], e[m])
        np.testing.assert_allclose(s[row], kmf.survival_function_at_times(at).to_numpy(), atol=1e-12)
        np.testing.assert_array_equal(nr[row], [(t[m] >= a).sum() for a in at])


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_logrank_and_prism_hrs_match(seed):
    t, e, g = _data(seed)
    lr = gs.logrank(gs.risk_sets(t, e, np.array([g, ~g])), 0, 1)
    ref = logrank_test(t[g], t[~g], e[g], e[~g])
    assert lr.p == pytest.approx(ref.p_value, rel=1e-9)
    df = pd.DataFrame({"t": t, "e": e, "g": np.where(g, "a", "b")})
    hr = logrank_hr(df, "t", "e", "g", "b")
    assert lr.hr("logrank") == pytest.approx(hr.loc["logrank", "hr"], rel=1e-9)
    assert lr.hr("mantel_haenszel") == pytest.approx(hr.loc["mantel_haenszel", "hr"], rel=1e-9)
    many = gs.logrank_many(gs.risk_sets(t, e, np.array([g, ~g])), np.array([0]), np.array([1]))
    assert many[1][0] == pytest.approx(lr.e_a) and many[4][0] == pytest.approx(lr.v)


def test_km_without_events_is_one():
    rs = gs.risk_sets(np.array([3, 5]), np.array([0, 0]), np.array([[True, True]]))
    assert gs.km(rs, [1, 10]).tolist() == [[1.0, 1.0]]


def test_printed_precision():
    assert printed_percent(0.63949)[:3] == pytest.approx((63.9, 63.85, 63.95))
    assert printed_p(0.19312)[:4] == (0.193, 0.1925, 0.1935, "=")
    assert printed_p(0.00021)[3:] == ("=", "P = .0002")
    assert printed_p(3e-6)[:4] == (0.0001, 0.0, 0.0001, "<")
    assert printed_p(0.0123)[4] == "P = .012"
    v, lo, hi, text = printed_hr(1.81634)
    assert (v, text) == (1.82, "1.82") and lo == pytest.approx(1.815) and hi == pytest.approx(1.825)
    assert printed_hr(0.6)[3] == "0.600"
    assert p_to_z(0.05) == pytest.approx(1.959964, rel=1e-6)
