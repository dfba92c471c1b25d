"""Tests for cart19.comparison.ensemble (synthetic cohorts from test_flow; not the trial's data)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from cart19.stats import survival
from cart19.comparison.ensemble import (cohort_stats, ensemble_stats, ensemble_summary,
                             published_stats)
from cart19.presentation.ensemble import ensemble_figure  # the plot moved to presentation (reader)
from test_flow import synthetic_cohort


def _with_groups(c: pd.DataFrame) -> pd.DataFrame:
    """The categorical columns of cohort.csv that the design's groups read (age_group, blasts_cat,
    dose_group), derived from the synthetic cohort's numbers."""
    b = c["bm_blasts_pct"]
    return c.assign(age_group=np.where(c["age_years"] <= 14, "2-14", "15-61"),
                    blasts_cat=np.where(b < 5, "<5", np.where(b <= 20, "5-20", ">20")),
                    dose_group=np.where(c["dose_per_kg"] / 1e5 < 3, "<3", ">=3"))


@pytest.fixture(scope="module")
def cohorts():
    return [_with_groups(synthetic_cohort(s)) for s in range(3)]


@pytest.fixture(scope="module")
def stats_(cohorts):
    return ensemble_stats(cohorts, n_jobs=2)


def test_parallel_equals_sequential(cohorts, stats_):
    seq = pd.concat([cohort_stats(c).assign(cohort=i) for i, c in enumerate(cohorts)],
                    ignore_index=True)
    pd.testing.assert_frame_equal(stats_.reset_index(drop=True), seq, check_like=True)
    assert sorted(stats_["cohort"].unique()) == [0, 1, 2]


def test_stats_are_the_survival_module_on_the_right_arms(cohorts, stats_):
    c = cohorts[0]
    cr = c[c["response"] != "NR"].assign(arm=lambda x: np.where(x["hsct_after"] == 1, "h", "n"))
    p = survival.logrank(cr, "os_days", "os_event", "arm")["p"]
    # Figure 3 OS: the caption prints the hazard of the bridged arm relative to CAR T alone, as
    # Prism's Mantel-Haenszel HR (design.yml)
    hr = survival.logrank_hr(cr, "os_days", "os_event", "arm", ref="n").loc["mantel_haenszel", "hr"]
    row = stats_[(stats_["cohort"] == 0) & (stats_["stat"] == "fig3.os")].iloc[0]
    assert np.isclose(row["p"], p) and np.isclose(row["hr"], hr)


def test_orientations(stats_):
    # the synthetic cohorts give transplant a real benefit: Figure 3 HR (HSCT vs none) < 1,
    # Table 5 HR (hazard of "CAR T alone" relative to "bridged") > 1
    f3 = stats_[stats_["stat"] == "fig3.os"]
    t5 = stats_[stats_["stat"] == "table5.os.hsct"]
    assert (f3["hr"] < 1).all() and (f3["direction"] == 1).all()
    assert (t5["hr"] > 1).all()


def toy_claims():
    rows = [
        {"id": "fig4.os.cr.1y", "percent": 85.5}, {"id": "fig4.os.cri.1y", "percent": 59.7},
        {"id": "fig4.os.hr", "hr": 1.816, "ci_low": 0.739, "ci_high": 4.462},
        {"id": "fig4.os.p", "p": 0.193, "p_cmp": "="},
        {"id": "fig3.os.hsct.1y", "percent": 79.1}, {"id": "fig3.os.no_hsct.1y", "percent": 32.0},
        {"id": "fig3.os.hr", "hr": 0.048, "ci_low": 0.016, "ci_high": 0.148},
        {"id": "fig3.os.p", "p": 0.0001, "p_cmp": "<"},
        {"id": "table5.os.hsct", "hr": 12.25, "ci_low": 4.774, "ci_high": 31.438, "p": 0.001,
         "p_cmp": "<"},
    ]
    return pd.DataFrame(rows).reindex(columns=["id", "percent", "mean", "hr", "ci_low", "ci_high",
                                               "p", "p_cmp"])


def test_published_hr_is_compared_as_printed():
    pub = published_stats(toy_claims()).set_index("stat")
    # the caption prints 1.816 as the hazard of CRi relative to CR (design.yml): kept as printed,
    # and the cohorts compute the same orientation; CR is the better arm (direction +1)
    assert np.isclose(pub.loc["fig4.os", "hr"], 1.816) and pub.loc["fig4.os", "direction"] == 1
    assert "arm b relative to arm a" in pub.loc["fig4.os", "note"]
    assert np.isclose(pub.loc["fig3.os", "hr"], 0.048) and "arm b" not in pub.loc["fig3.os", "note"]
    assert pub.loc["fig3.os", "significant"] is True or pub.loc["fig3.os", "significant"] == True
    assert pub.loc["fig4.os", "significant"] == False
    assert pub.loc["table5.os.hsct", "direction"] == 1


def _fake_stats(stat, ps, dirs, family="figure"):
    return pd.DataFrame({"stat": stat, "family": family, "p": ps, "hr": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "direction": dirs, "cohort": range(len(ps))})


@pytest.mark.parametrize("ps,dirs,verdict", [
    ([0.001] * 20, [1] * 20, ">=95%"),
    ([0.001] * 10 + [0.3] * 10, [1] * 20, "some"),
    ([0.001] * 20, [-1] * 20, "<5%"),      # significant, but the wrong way round
    ([0.3] * 20, [1] * 20, "<5%"),
])
def test_summary_verdicts_significant_claim(ps, dirs, verdict):
    ps = [p * (1 + 0.01 * i) for i, p in enumerate(ps)]  # a P that varies between cohorts
    s = ensemble_summary(_fake_stats("fig3.os", ps, dirs), toy_claims()).iloc[0]
    assert verdict in s["verdict"]
    assert np.isclose(s["p_median"], np.median(ps))
    assert s["published_p"] == 0.0001 and s["published_p_cmp"] == "<"


def test_summary_fixed_statistic_is_not_counted_as_holding():
    """A P identical in every cohort is fixed by the fit: its verdict says so, not "holds"."""
    s = ensemble_summary(_fake_stats("fig3.os", [0.001] * 20, [1] * 20), toy_claims()).iloc[0]
    assert s["fixed"] and s["verdict"] == "fixed by the fit" and s["frac_holds"] == 1.0
    t = ensemble_summary(_fake_stats("table3.carpeak.emd", [0.01, 0.02], [1, 1], "table3"),
                         toy_claims()).iloc[0]
    assert t["fixed"] and not t["p_constant"]


def test_summary_nonsignificant_claim_ignores_direction():
    s = ensemble_summary(_fake_stats("fig4.os", [0.4 + 0.01 * i for i in range(10)], [-1] * 10),
                         toy_claims()).iloc[0]
    assert s["frac_holds"] == 1.0 and s["frac_same_direction"] == 0.0


def test_figure(stats_):
    summ = ensemble_summary(stats_, toy_claims())
    fig = ensemble_figure(stats_, summ, "figure")
    assert len(fig.axes[0].get_yticklabels()) == (summ["family"] == "figure").sum()


def test_summary_flags_constant_p_and_reports_fisher(stats_):
    s = ensemble_summary(stats_, toy_claims()).set_index("stat")
    assert s.loc["table3.cr.age", "p_fisher_median"] == pytest.approx(
        stats_.loc[stats_["stat"] == "table3.cr.age", "p_fisher"].median())
    assert np.isnan(s.loc["fig3.os", "p_fisher_median"])
    const = ensemble_summary(_fake_stats("fig3.os", [0.01] * 5, [1] * 5), toy_claims()).iloc[0]
    varying = ensemble_summary(_fake_stats("fig3.os", [0.01, 0.02], [1, 1]), toy_claims()).iloc[0]
    assert const["p_constant"] and not varying["p_constant"]


def test_chain_diagnostics_sees_correlation():
    """A slowly drifting P (strong lag-1 correlation) has a small effective size; independent
    P values have one close to K; constant P values are left out."""
    from cart19.comparison.ensemble import chain_diagnostics
    rng = np.random.default_rng(0)
    k = 200
    walk = np.cumsum(rng.normal(0, 0.05, k)) - 2
    rows = []
    for i in range(k):
        chain = i // (k // 2)
        rows += [{"stat": "drift", "family": "figure", "cohort": i, "chain": chain, "p": 10 ** walk[i]},
                 {"stat": "iid", "family": "figure", "cohort": i, "chain": chain,
                  "p": 10 ** rng.normal(-2, 0.5)},
                 {"stat": "const", "family": "table3", "cohort": i, "chain": chain, "p": 0.01}]
    d = chain_diagnostics(pd.DataFrame(rows)).set_index("stat")
    assert "const" not in d.index
    assert d.loc["drift", "lag1_r"] > 0.8 and d.loc["drift", "effective_n"] < 0.15 * k
    assert abs(d.loc["iid", "lag1_r"]) < 0.2 and d.loc["iid", "effective_n"] > 0.6 * k


def test_chain_diagnostics_needs_chain_column():
    from cart19.comparison.ensemble import chain_diagnostics
    with pytest.raises(ValueError, match="chain"):
        chain_diagnostics(pd.DataFrame({"stat": ["a"], "family": ["f"], "cohort": [0], "p": [0.1]}))


def test_stated_conclusions_are_tested_as_on_the_verdict_page(cohorts, stats_):
    """The comparisons the paper states without a P (supplemental Figure S2, the Discussion) get
    the very P the verdict page computes on the same cohort; none is typed in or fixed."""
    from cart19.comparison.conclusions import CONCLUSIONS, conclusions, stat_for, stated_conclusions

    stated = stated_conclusions()
    assert stated, "every conclusion matched a design comparison: nothing to test here"
    here = conclusions(cohorts[0]).set_index("conclusion")["P (reconstruction)"]
    got = stats_[stats_["cohort"] == 0].set_index("stat")
    for stat, text, *_ in stated:
        assert got.loc[stat, "family"] == "stated"
        assert np.isclose(got.loc[stat, "p"], here[text]), stat
    # every conclusion has its statistic in the ensemble
    ids = {stat_for(kind, pop, a, b) for _, _, kind, pop, a, b, _ in CONCLUSIONS}
    assert ids <= set(stats_["stat"]), ids - set(stats_["stat"])


def test_stated_conclusions_are_judged_by_their_words():
    """No P printed: the published side is the statement itself (a difference or none), with no
    direction; a cohort agrees with "no difference" when its P is .05 or more."""
    from cart19.comparison.conclusions import stated_conclusions
    from cart19.record.claims import load_claims

    pub = published_stats(load_claims()).set_index("stat")
    for stat, _text, _where, _kind, _pop, _a, _b, expects in stated_conclusions():
        assert np.isnan(pub.loc[stat, "p"]) and pub.loc[stat, "significant"] == expects
        assert np.isnan(pub.loc[stat, "direction"])
    stat = next(s for s, *_, e in stated_conclusions() if not e)
    ps = [0.01, 0.2, 0.5, 0.9]
    s = ensemble_summary(_fake_stats(stat, ps, [1, -1, 1, -1], "stated"), load_claims()).iloc[0]
    assert s["frac_holds"] == 0.75 and not s["fixed"] and s["verdict"] == "holds in some cohorts"
