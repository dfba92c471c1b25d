"""Tests for cart19.presentation.forest (synthetic cohort from test_flow; not the trial's data)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st
from scipy import stats

import pytest

from cart19.presentation import forest as F
from cart19.presentation.forest import (FACTORS, OUTCOMES, clopper_pearson,
                                        published_subgroup_rates, subgroup_rates, two_by_two_p)
from cart19.presentation.subgroups import forest_figure, hr_forest
from test_flow import synthetic_cohort as _flow_cohort


def synthetic_cohort(seed: int) -> pd.DataFrame:
    """test_flow's synthetic cohort (not the trial) with the categorical columns of cohort.csv
    that design.yml's attributes read, derived as the schema defines them."""
    c = _flow_cohort(seed)
    blasts = c["bm_blasts_pct"].astype(float)
    return c.assign(age_group=np.where(c["age_years"] < 15, "2-14", "15-61"),
                    blasts_cat=np.where(blasts < 5, "<5", np.where(blasts <= 20, "5-20", ">20")),
                    dose_group=np.where(_dose_e5(c) < 3, "<3", ">=3"))


def _dose_e5(c: pd.DataFrame) -> np.ndarray:
    d = c["dose_per_kg"].astype(float)
    return (d if d.max() < 1000 else d / 1e5).to_numpy()


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_clopper_pearson_contains_estimate(kn):
    k, n = kn
    lo, hi = clopper_pearson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    if k == 0:
        assert lo == 0
    if k == n:
        assert hi == 1


def test_clopper_pearson_known_value():
    # 102/110 (the paper's day-30 CR): exact interval from the beta quantiles
    lo, hi = clopper_pearson(102, 110)
    assert np.isclose(lo, stats.beta.ppf(0.025, 102, 9))
    assert np.isclose(hi, stats.beta.ppf(0.975, 103, 8))


def test_subgroup_rates_partition_the_cohort():
    c = synthetic_cohort(7)
    r = subgroup_rates(c)
    assert len(r) == len(OUTCOMES) * sum(len(v[1]) for v in FACTORS.values())
    for (outcome, factor), g in r.groupby(["outcome", "factor"]):
        assert g["N"].sum() == len(c), (outcome, factor)
        assert g["p_fisher"].nunique() == 1
    cr = r[(r["outcome"] == "cr") & (r["factor"] == "age")]["n"].sum()
    assert cr == c["response"].isin(["CR", "CRi"]).sum()
    assert ((r["ci_low"] <= r["rate"]) & (r["rate"] <= r["ci_high"])).all()
    bcr = r[(r["outcome"] == "crs34") & (r["factor"] == "bcr_abl") & (r["level"] == "pos")].iloc[0]
    m = c["bcr_abl"] == 1
    assert bcr["N"] == m.sum() and bcr["n"] == (c.loc[m, "crs_grade"] >= 3).sum()


def test_two_by_two_matches_scipy_and_paper_style():
    # Table 3 age/CR: 66/71 vs 36/39 -> printed P = 1 (Fisher gives 1.0, Pearson does not)
    p = two_by_two_p(66, 71, 36, 39)
    assert np.isclose(p["p_fisher"], 1.0)
    assert p["p_chi2"] < 1.0
    assert np.isclose(p["p_chi2"], stats.chi2_contingency([[66, 5], [36, 3]], correction=False)[1])


def test_published_rates_reads_claim_ids():
    claims = pd.DataFrame({"id": ["table3.cr.age.2_14", "table3.cr.age.15_61", "table3.cr.age.p"],
                           "n": [66, 36, np.nan], "N": [71, 39, np.nan],
                           "percent": [92.9, 92.3, np.nan], "p": [np.nan, np.nan, 1.0]})
    pub = published_subgroup_rates(claims)
    assert list(pub["level"]) == ["2_14", "15_61"] and (pub["p"] == 1.0).all()


def test_figures_draw():
    c = synthetic_cohort(8)
    fig = forest_figure(subgroup_rates(c))
    assert len(fig.axes) == 4  # the label column and one panel per outcome
    assert any(t.get_gid() == "cart19-reconstructed" for t in fig.texts)
    pub = pd.DataFrame({"endpoint": ["os", "lfs"], "factor": ["tp53", "hsct"], "hr": [0.2, 26.4],
                        "ci_low": [0.07, 7.3], "ci_high": [0.49, 95.8]})
    rep = pd.DataFrame({"endpoint": ["os", "lfs"], "factor": ["tp53", "hsct"], "hr": [0.3, 10.0],
                        "ci_lower": [0.1, 3.0], "ci_upper": [0.9, 30.0]})
    fig = hr_forest(pub, rep)
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes) == 2


def test_levels_follow_the_design_readings():
    """Each level holds the patients design.yml's rule for the printed row names: the row printed
    'TP53-' is the TP53-mutated patients and the row printed 'No previous transplant' the
    post-transplant relapses (readings D02, D03); the labels say so."""
    c = synthetic_cohort(9)
    lv = F.subgroup_levels(c)
    assert ((lv["tp53"] == "neg") == (c["tp53"] == 1)).all()
    assert ((lv["prior_hsct"] == "none") == (c["prior_hsct"] == 1)).all()
    assert ((lv["bcr_abl"] == "pos") == (c["bcr_abl"] == 1)).all()
    assert ((lv["age"] == "2_14") == (c["age_years"] < 15)).all()
    assert lv.notna().all().all()
    labels = dict(FACTORS["tp53"][1])
    assert labels == {"pos": "TP53 wild type", "neg": "TP53 mutation"}
    assert dict(FACTORS["bcr_abl"][1])["pos"] == "BCR-ABL+"


def test_forest_factors_must_match_the_design():
    with pytest.raises(ValueError):
        F._factors({"age": ("Age, y", [("2_14", "2-14"), ("15_61", "15-61")])})
    bad = dict(F._PRINTED, tp53=("TP53 mutation", [("neg", "TP53−"), ("pos", "TP53+")]))
    with pytest.raises(ValueError):
        F._factors(bad)
