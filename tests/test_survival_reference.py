"""cart19.stats.survival against an independent implementation: R's survival package.

The reference values are in tests/reference/survival_reference.json, written by
tests/reference/make_reference.R from the CSVs beside it (public data sets bundled with lifelines).
CI does not run R; this test reads only the committed files. See tests/reference/README.md.

Tolerance: 1e-6 (absolute, or relative for unbounded quantities) for everything. Known, explained
differences are tested as such rather than hidden:

* KM at S = 0: R returns NA for the SE and every CI type, and so do we (NaN).
* KM "log-log" CI where S = 1: R gives [1, 1] before a group's first observed time but NA at or
  after it (e.g. after an early censoring, when no event has happened yet: log(-log 1) is
  undefined). We give [1, 1] throughout, like lifelines; the test checks exactly that at those
  points.
* Cox: lifelines and R stop Newton-Raphson at different points. At their default tolerances the
  coefficients differ by up to 5e-7 and P values by up to 6e-6 (relative), so cart19.cox
  converges tighter (Newton step < 1e-11) and make_reference.R runs coxph with eps = 1e-12; the
  remaining difference is far below 1e-6.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart19.stats import survival as sv

REF_DIR = Path(__file__).resolve().parent / "reference"
REF = json.loads((REF_DIR / "survival_reference.json").read_text())
ATOL = 1e-6


def _data(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF_DIR / f"{name}.csv")
    df.attrs["source"] = f"tests/reference/{name}.csv"
    return df


def _num(values) -> np.ndarray:
    """JSON list with nulls (R's NA) -> float array with NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _close(actual, expected, rel=False):
    actual, expected = np.atleast_1d(np.asarray(actual, float)), _num(np.atleast_1d(expected))
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    ok = ~np.isnan(expected)
    if rel:
        np.testing.assert_allclose(actual[ok], expected[ok], rtol=ATOL, atol=1e-12)
    else:
        np.testing.assert_allclose(actual[ok], expected[ok], rtol=0, atol=ATOL)


def _id(case, *keys):
    return "-".join(str(case.get(k)) for k in ("dataset", "group", *keys))


def test_reference_file_is_from_r_survival():
    assert REF["meta"]["generated_by"] == "tests/reference/make_reference.R"
    assert REF["meta"]["survival_version"]
    # the fixture covers every kind of quantity we compare
    for key in ("km", "median", "logrank", "prism_hr", "cox", "score", "forward"):
        assert REF[key], key


@pytest.mark.parametrize("case", REF["km"], ids=lambda c: _id(c, "conf_type"))
def test_km_estimate_and_ci_match_r(case):
    df = _data(case["dataset"])
    times = sorted(set(case["time"]))
    tab = sv.km_table(df, case["duration"], case["event"], case["group"], times=times,
                      ci_type=case["conf_type"])
    tab["level"] = tab["group"].astype(str)
    ref = pd.DataFrame({k: case[k] for k in ("level", "time", "n_risk", "surv", "std_err",
                                             "lower", "upper")})
    merged = ref.merge(tab, on=["level", "time"], how="left", validate="one_to_one")
    assert merged["survival"].notna().all(), "every R row has a cart19 row"
    np.testing.assert_array_equal(merged["n_at_risk"], merged["n_risk"])
    _close(merged["survival"], merged["surv"])
    _close(merged["se"], merged["std_err"])
    # documented difference: R's NA for log-log at S = 1 (see module docstring) -> ours is [1, 1]
    r_na_at_one = (merged["surv"] == 1) & merged["lower"].isna()
    if case["conf_type"] != "log-log":
        assert not r_na_at_one.any()
    assert (merged.loc[r_na_at_one, ["ci_lower", "ci_upper"]] == 1.0).all().all()
    keep = ~r_na_at_one
    _close(merged.loc[keep, "ci_lower"], merged.loc[keep, "lower"])
    _close(merged.loc[keep, "ci_upper"], merged.loc[keep, "upper"])


@pytest.mark.parametrize("case", REF["median"], ids=lambda c: _id(c))
def test_km_median_matches_r(case):
    df = _data(case["dataset"])
    med = sv.km_median(df, case["duration"], case["event"], case["group"], rule="midpoint")
    assert [str(g) for g in med["group"]] == [str(v) for v in case["level"]]
    _close(med["median"], case["median"])


def test_flat_half_case_really_exercises_the_midpoint_rule():
    """The 'first' rule (lifelines) differs from R on this curve; 'midpoint' is what R does."""
    case = next(c for c in REF["median"] if c["dataset"] == "flat_half")
    first = sv.km_median(_data("flat_half"), "time", "event", rule="first")["median"].iloc[0]
    assert first != case["median"][0] == 2.5


@pytest.mark.parametrize("case", REF["logrank"], ids=lambda c: _id(c))
def test_logrank_matches_survdiff(case):
    df = _data(case["dataset"])
    res = sv.logrank(df, case["duration"], case["event"], case["group"])
    assert [str(g) for g in res["groups"]] == case["level"]
    assert res["df"] == case["df"]
    _close(res["chi2"], case["chisq"], rel=True)
    _close(res["p"], case["p"], rel=True)
    _close(list(res["observed"].values()), case["obs"])
    _close(list(res["expected"].values()), case["exp"])


@pytest.mark.parametrize("case", REF["prism_hr"], ids=lambda c: _id(c, "level"))
def test_prism_hazard_ratios_match_hand_computation_from_survdiff(case):
    df = _data(case["dataset"])
    levels = {str(v): v for v in pd.unique(df[case["group"]])}
    res = sv.logrank_hr(df, case["duration"], case["event"], case["group"],
                        ref=levels[case["ref"]])
    assert str(res["group"].iloc[0]) == case["level"]
    _close(res.loc["logrank", "E_group"], case["E"])
    _close(res.loc["logrank", "V"], case["V"])
    for method in ("logrank", "mantel_haenszel"):
        ref = case[method]
        _close(res.loc[method, ["hr", "ci_lower", "ci_upper"]].to_numpy(float),
               [ref["hr"], ref["lower"], ref["upper"]], rel=True)


@pytest.mark.parametrize("case", REF["cox"], ids=lambda c: _id(c, "covariates"))
def test_cox_matches_coxph_efron(case):
    df = _data(case["dataset"])
    res = sv.cox(df, case["duration"], case["event"], case["covariates"], ties="efron")
    assert list(res.index) == case["covariates"]
    for ours, theirs in [("coef", "coef"), ("se", "se"), ("hr", "hr"), ("ci_lower", "lower"),
                         ("ci_upper", "upper"), ("z", "z"), ("p", "p")]:
        _close(res[ours].to_numpy(float), case[theirs], rel=True)
    _close(res.attrs["log_likelihood"], case["loglik"], rel=True)


@pytest.mark.parametrize("case", REF["score"], ids=lambda c: _id(c, "covariates"))
def test_score_statistic_at_a_given_point_matches_coxph_init(case):
    df = _data(case["dataset"])
    _, U, info = sv.efron_loglik_score_info(df, case["duration"], case["event"],
                                            case["covariates"], case["init"])
    _close(float(U @ np.linalg.solve(info, U)), case["score"], rel=True)


@pytest.mark.parametrize("case", REF["forward"], ids=lambda c: _id(c))
def test_forward_selection_matches_r_loop(case):
    df = _data(case["dataset"])
    fs = sv.forward_selection(df, case["duration"], case["event"], case["candidates"],
                              enter=case["enter"], remove=case["remove"], test="score")
    assert fs.selected == case["selected"]
    ref = pd.DataFrame(case["steps"])
    assert list(fs.steps["action"]) == list(ref["action"])
    assert list(fs.steps["variable"]) == list(ref["variable"])
    _close(fs.steps["statistic"].to_numpy(float), ref["statistic"].to_numpy(float), rel=True)
    _close(fs.steps["p"].to_numpy(float), ref["p"].to_numpy(float), rel=True)
