"""Tests of cart19.stats.printed against hand-worked values and direct scipy calls."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as ss

from cart19.stats import printed as S


# ----------------------------------------------------------------- rounding

def test_decimals_of():
    assert S.decimals_of("7.5") == 1
    assert S.decimals_of("100") == 0
    assert S.decimals_of(".015") == 3
    assert S.decimals_of("<.0001") == 4
    assert S.decimals_of("32.0") == 1


def test_round_decimal_ties_exact():
    # 11/16 = 68.75% exactly: half-up -> 68.8, half-even -> 68.8 (8 is even), truncate -> 68.7
    x = S.exact_percent(11, 16)
    assert x == Fraction(275, 4)
    assert str(S.round_decimal(x, 1, "half_up")) == "68.8"
    assert str(S.round_decimal(x, 1, "half_even")) == "68.8"
    assert str(S.round_decimal(x, 1, "truncate")) == "68.7"
    # 7/8 = 87.5%: 0 decimals half-up 88, half-even 88; 1/8 = 12.5%: half-up 13, half-even 12
    assert str(S.round_decimal(S.exact_percent(1, 8), 0, "half_up")) == "13"
    assert str(S.round_decimal(S.exact_percent(1, 8), 0, "half_even")) == "12"


def test_percent_rounding_paper_cases():
    # Table 3: 65/66 printed 98.5 -> 98.4848.. rounds to 98.5
    assert S.percent_rounding(65, 66, "98.5")["verdict"] == "consistent"
    # Table 3: 17/21 printed 80.9 (80.952...): only truncation gives 80.9
    r = S.percent_rounding(17, 21, "80.9")
    assert r["modes"] == ["truncate"] and r["verdict"] == "minor rounding"
    # Table 3: 5/66 printed 7.5 (7.5757...): truncation
    assert S.percent_rounding(5, 66, "7.5")["verdict"] == "minor rounding"
    # Results: 13/27 printed 48.2 (48.148...): no rule, but within one unit of the last digit
    r = S.percent_rounding(13, 27, "48.2")
    assert r["modes"] == [] and r["verdict"] == "minor rounding"
    # Results: 7/13 printed 55.6 (53.8): inconsistent
    assert S.percent_rounding(7, 13, "55.6")["verdict"] == "inconsistent"
    # Table 4: 19/27 printed 76 (70.4)
    assert S.percent_rounding(19, 27, "76")["verdict"] == "inconsistent"
    # 100 with 0 decimals
    assert S.percent_rounding(14, 14, "100")["verdict"] == "consistent"


def test_p_matches():
    assert S.p_matches(0.01339, ".013")
    assert not S.p_matches(0.01339, ".015")
    assert S.p_matches(0.0358, ".04")          # 2-decimal print
    assert S.p_matches(0.6962, ".7")           # 1-decimal print
    assert S.p_matches(0.99999, "1")
    assert not S.p_matches(0.90, "1")          # "1" stands for SPSS's 1.000
    assert S.p_matches(0.00004, ".0001", "<")
    assert not S.p_matches(0.0002, ".0001", "<")
    assert not S.p_matches(float("nan"), ".5")


# ----------------------------------------------------------------- contingency tables

def _hand_pearson_yates(a, b, c, d):
    n = a + b + c + d
    den = (a + b) * (c + d) * (a + c) * (b + d)
    chi = n * (a * d - b * c) ** 2 / den
    yates = n * max(0.0, abs(a * d - b * c) - n / 2) ** 2 / den
    return ss.chi2.sf(chi, 1), ss.chi2.sf(yates, 1)


def _hand_g(t):
    t = np.asarray(t, float)
    e = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / t.sum()
    g = 2 * np.sum(np.where(t > 0, t * np.log(np.where(t > 0, t, 1) / e), 0.0))
    return ss.chi2.sf(g, (t.shape[0] - 1) * (t.shape[1] - 1))


def _hand_fisher(a, b, c, d):
    n1, n2, k = a + b, c + d, a + c
    probs = {x: math.comb(n1, x) * math.comb(n2, k - x) / math.comb(n1 + n2, k)
             for x in range(max(0, k - n2), min(k, n1) + 1)}
    return sum(p for p in probs.values() if p <= probs[a] * (1 + 1e-7))


def test_table3_blasts20_cr_all_four_tests():
    """Table 3 BM blasts <=20% vs >20%, CR 65/66 vs 37/44, printed P = .015.

    Hand-worked: ad - bc = 65*7 - 1*37 = 418; margins 66, 44, 102, 8; N = 110;
    Pearson chi2 = 110*418^2/(66*44*102*8) = 8.111 -> P = .0044;
    Yates chi2 = 110*(418-55)^2/(66*44*102*8) = 6.117 -> P = .0134.
    None of the tests gives .015 at three decimals.
    """
    res = S.two_by_two_tests(65, 66, 37, 44)
    p, y = _hand_pearson_yates(65, 1, 37, 7)
    assert 110 * 418 ** 2 / (66 * 44 * 102 * 8) == pytest.approx(8.1107, abs=1e-4)
    assert res["pearson"] == pytest.approx(p, rel=1e-12)
    assert res["yates"] == pytest.approx(y, rel=1e-12)
    assert res["pearson"] == pytest.approx(0.004400, abs=5e-6)
    assert res["yates"] == pytest.approx(0.013391, abs=5e-6)
    assert res["likelihood_ratio"] == pytest.approx(_hand_g([[65, 1], [37, 7]]), rel=1e-10)
    assert res["fisher"] == pytest.approx(_hand_fisher(65, 1, 37, 7), rel=1e-10)
    assert S.reproducing_tests(res, ".015") == []


def test_table3_sex_cr_is_fisher():
    # Female 36/42 vs male 66/68, printed .052: only Fisher's exact gives .052
    res = S.two_by_two_tests(36, 42, 66, 68)
    assert S.reproducing_tests(res, ".052") == ["fisher"]
    assert res["fisher"] == pytest.approx(ss.fisher_exact([[36, 6], [66, 2]]).pvalue)


def test_table3_age_crs_is_pearson():
    res = S.two_by_two_tests(12, 71, 6, 39)
    assert "pearson" in S.reproducing_tests(res, ".837")
    assert res["pearson"] == pytest.approx(
        ss.chi2_contingency([[12, 59], [6, 33]], correction=False).pvalue)


def test_linear_by_linear_is_n_minus_1_over_n_pearson_for_2x2():
    t = [[8, 13], [10, 79]]
    chi = ss.chi2_contingency(t, correction=False).statistic
    n = 110
    assert S.linear_by_linear_p(t) == pytest.approx(ss.chi2.sf(chi * (n - 1) / n, 1), rel=1e-10)


def test_yates_only_for_2x2_and_g_for_rxc():
    t = [[2, 66, 7], [13, 11, 3]]
    res = S.contingency_tests(t)
    assert math.isnan(res["yates"])
    assert res["likelihood_ratio"] == pytest.approx(_hand_g(t), rel=1e-10)
    assert res["pearson"] == pytest.approx(ss.chi2_contingency(t).pvalue)


def test_freeman_halton_equals_scipy_fisher_on_2x2():
    for t in ([[36, 6], [66, 2]], [[3, 13], [12, 82]], [[0, 14], [15, 81]], [[5, 0], [0, 5]]):
        assert S.fisher_freeman_halton(t) == pytest.approx(ss.fisher_exact(t).pvalue, rel=1e-9)


def test_freeman_halton_hand_3x2():
    # 3 x 2 table [[1,0],[0,1],[1,1]]: margins rows (1,1,2), cols (2,2), N = 4.
    # Tables with these margins: x = first-column counts (x1, x2, x3) with x1+x2+x3 = 2.
    # P(table) = prod(row!) prod(col!) / (N! prod(cell!)) = 1*1*2*2*2 / (24 * prod cell!)
    # observed [[1,0],[0,1],[1,1]] -> 8/24 = 1/3; the others: (1,1,0)->8/(24*2)=1/6,
    # (0,0,2) -> 1/6, (0,1,1) -> 1/3. Tables no more likely than 1/3: all -> P = 1.
    assert S.fisher_freeman_halton([[1, 0], [0, 1], [1, 1]]) == pytest.approx(1.0)
    # [[2,0],[0,2],[0,0]] is invalid (empty row) for chi-square but fine for Fisher
    assert S.fisher_freeman_halton([[2, 0], [0, 2], [1, 1]]) < 1


def test_freeman_halton_against_monte_carlo():
    t = np.array([[2, 66, 7], [13, 11, 3]]).T  # Table 4 disease status, 3 x 2
    exact = S.fisher_freeman_halton(t)
    t2 = np.array([[36, 36, 3], [9, 14, 4]]).T
    exact2 = S.fisher_freeman_halton(t2)
    mc = ss.fisher_exact(t2, method=ss.MonteCarloMethod(n_resamples=20000,
                                                         rng=np.random.default_rng(1))).pvalue
    assert exact < 1e-6
    assert exact2 == pytest.approx(mc, abs=0.01)


def test_rejects_bad_tables():
    with pytest.raises(ValueError):
        S.table_from_counts(5, 4, 1, 2)
    with pytest.raises(ValueError):
        S.contingency_tests([[1, -1], [2, 3]])
    with pytest.raises(ValueError):
        S.contingency_tests([1, 2, 3])


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.data())
def test_yates_never_below_pearson(n1, n2, data):
    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2))
    assume(0 < k1 + k2 < n1 + n2)
    res = S.two_by_two_tests(k1, n1, k2, n2)
    assert res["yates"] >= res["pearson"] - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 40), st.integers(2, 40), st.data())
def test_fisher_bounded_and_symmetric(n1, n2, data):
    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2))
    a = S.two_by_two_tests(k1, n1, k2, n2)["fisher"]
    b = S.two_by_two_tests(k2, n2, k1, n1)["fisher"]
    assert 0 < a <= 1 and a == pytest.approx(b, rel=1e-9)


# ----------------------------------------------------------------- t-tests

def test_ttest_readings_match_scipy():
    # Table 3 BM blasts <5% vs >=5%: 19.62 +/- 2.812 (n=42) vs 34.17 +/- 2.933 (n=68), P = .001
    r = S.ttest_readings(19.62, 2.812, 42, 34.17, 2.933, 68)
    sd1, sd2 = 2.812 * math.sqrt(42), 2.933 * math.sqrt(68)
    assert r["se_student"] == pytest.approx(
        ss.ttest_ind_from_stats(19.62, sd1, 42, 34.17, sd2, 68, equal_var=True).pvalue)
    assert r["se_welch"] == pytest.approx(
        ss.ttest_ind_from_stats(19.62, sd1, 42, 34.17, sd2, 68, equal_var=False).pvalue)
    assert r["sd_student"] == pytest.approx(
        ss.ttest_ind_from_stats(19.62, 2.812, 42, 34.17, 2.933, 68).pvalue)
    assert r["sd_student"] < 1e-20          # read as SD the difference would be enormous
    assert S.p_matches(r["se_student"], ".001")


def test_ttest_hand_welch_se():
    # Welch with SE reading: t = (m1-m2)/sqrt(se1^2+se2^2)
    m1, s1, n1, m2, s2, n2 = 17.42, 3.017, 21, 31.26, 2.557, 89
    t = (m1 - m2) / math.sqrt(s1 ** 2 + s2 ** 2)
    v = (s1 ** 2 + s2 ** 2) ** 2 / (s1 ** 4 / (n1 - 1) + s2 ** 4 / (n2 - 1))
    p = 2 * ss.t.sf(abs(t), v)
    assert S.ttest_from_summary(m1, s1, n1, m2, s2, n2, "se", False) == pytest.approx(p, rel=1e-9)


def test_ttest_bad_dispersion():
    with pytest.raises(ValueError):
        S.ttest_from_summary(1, 1, 5, 2, 1, 5, dispersion="iqr")


def test_pooled_mean_sd_against_raw_data():
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 3, 17), rng.normal(14, 5, 23)
    m, s = S.pooled_mean_sd([(17, a.mean(), a.std(ddof=1)), (23, b.mean(), b.std(ddof=1))])
    both = np.concatenate([a, b])
    assert m == pytest.approx(both.mean()) and s == pytest.approx(both.std(ddof=1))


# ----------------------------------------------------------------- hazard ratios

def test_hr_log_symmetry_and_implied_p_fig4_os():
    # Figure 4 OS: HR 1.816 (0.739-4.462), log-rank P = .193
    assert S.ci_geometric_mean(0.739, 4.462) == pytest.approx(1.8159, abs=1e-4)
    se = (math.log(4.462) - math.log(0.739)) / (2 * 1.959964)
    assert S.se_from_ci(0.739, 4.462) == pytest.approx(se, rel=1e-6)
    z = math.log(1.816) / se
    assert S.p_from_ci(0.739, 4.462, 1.816) == pytest.approx(2 * ss.norm.sf(abs(z)))
    assert S.p_from_ci(0.739, 4.462, 1.816) == pytest.approx(0.193, abs=0.001)


def test_fig5_lfs_ci_inconsistent_with_p():
    lo, hi = S.p_range_from_ci("0.38", "7.0", "1.62")
    assert lo > 0.4                       # printed P .135 is far outside
    assert not S.intervals_overlap((lo, hi), S.p_interval(".135"))
    assert S.ci_excludes_one(0.22, 0.92) and not S.ci_excludes_one(0.38, 7.0)


def test_reciprocal():
    hr, lo, hi = S.reciprocal(0.048, 0.016, 0.148)
    assert hr == pytest.approx(20.833, abs=1e-3)
    assert lo == pytest.approx(1 / 0.148) and hi == pytest.approx(1 / 0.016)


def test_p_interval():
    assert S.p_interval(".015") == pytest.approx((0.0145, 0.0155))
    assert S.p_interval(".0001", "<") == (0.0, 0.0001)


def test_landmark_hr():
    assert S.landmark_hr(0.305, 0.792) == pytest.approx(math.log(0.305) / math.log(0.792))
    with pytest.raises(ValueError):
        S.landmark_hr(1.0, 0.5)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.02, 50), st.floats(0.01, 2.0))
def test_ci_round_trip(hr, se):
    lo, hi = S.ci_from_se(hr, se)
    assert S.se_from_ci(lo, hi) == pytest.approx(se, rel=1e-9)
    assert S.ci_geometric_mean(lo, hi) == pytest.approx(hr, rel=1e-9)
    assert S.log_asymmetry(hr, lo, hi) == pytest.approx(0, abs=1e-9)
    z = math.log(hr) / se
    assert S.p_from_ci(lo, hi, hr) == pytest.approx(2 * ss.norm.sf(abs(z)), rel=1e-6, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.05, 20), st.floats(0.05, 1.5), st.floats(1.01, 3.0))
def test_implied_p_monotone_in_ci_width(hr, se, factor):
    assume(abs(math.log(hr)) > 1e-3)
    narrow = S.ci_from_se(hr, se)
    wide = S.ci_from_se(hr, se * factor)
    assert S.p_from_ci(*wide, hr) >= S.p_from_ci(*narrow, hr)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.05, 20), st.floats(0.05, 1.5))
def test_p_below_05_iff_ci_excludes_one(hr, se):
    lo, hi = S.ci_from_se(hr, se)
    assume(min(abs(math.log(lo)), abs(math.log(hi))) > 1e-6)
    assert (S.p_from_ci(lo, hi, hr) < 0.05) == S.ci_excludes_one(lo, hi)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500), st.data())
def test_percent_rounding_self_consistent(N, data):
    n = data.draw(st.integers(0, N))
    dec = data.draw(st.integers(0, 2))
    printed = str(S.round_decimal(S.exact_percent(n, N), dec, "half_up"))
    assert S.percent_rounding(n, N, printed)["verdict"] == "consistent"
