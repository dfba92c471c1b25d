"""Treatment-course columns of the reconstruction (cart19.reconstruction.treatment) and their reproduction.

Expectations are computed from the claims table and the committed cohort, never typed in."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cart19.comparison import reproduce, scorecard
from cart19.reconstruction import targets as T, treatment as TR
from cart19.record.claims import load_claims
from cart19.cohort.schema import load_cohort
from cart19.errors import InputError
from cart19.paths import CLAIMS_CSV, COHORT_CSV, NOT_INFUSED_CSV

DAYS, CYC = "leukapheresis_to_infusion_days", "prior_chemo_cycles"


@pytest.fixture(scope="module")
def claims():
    return load_claims(CLAIMS_CSV)


@pytest.fixture(scope="module")
def cohort():
    # the committed cohort may or may not carry the columns yet: start from one without them
    return load_cohort(COHORT_CSV).drop(columns=list(TR.COLUMNS), errors="ignore")


@pytest.fixture(scope="module")
def not_infused():
    return pd.read_csv(NOT_INFUSED_CSV).drop(columns=list(TR.COLUMNS), errors="ignore")


def _pub(claims, cid, fld):
    return T.claim_value(claims.set_index("id", drop=False), cid, fld)


def _check_exact(co, ni, claims):
    d = pd.to_numeric(co[DAYS])
    for fld, got in (("median", d.median()), ("min", d.min()), ("max", d.max())):
        assert got == _pub(claims, TR.VEIN_TO_VEIN, fld), fld
    assert ni[DAYS].isna().all()                      # never infused: no interval
    lab = pd.concat([co["bridging"], ni["bridging"]], ignore_index=True)
    assert set(lab) <= set(TR.BRIDGING_LEVELS)
    assert len(lab) == _pub(claims, TR.BRIDGING, "N")
    assert (lab != "none").sum() == _pub(claims, TR.BRIDGING, "n")
    assert (lab == "low-moderate").sum() == _pub(claims, TR.BRIDGING_LOW, "n")
    assert (lab == "intensive").sum() == _pub(claims, TR.BRIDGING_INTENSIVE, "n")
    for status, cid in TR.CYCLES.items():
        x = co.loc[co["disease_status"] == status, CYC]
        assert x.median() == _pub(claims, cid, "median"), status
        assert (x >= 0).all()
    # no leukapheresis before enrolment opened
    leuka = pd.to_datetime(co["infusion_date"]) - pd.to_timedelta(co[DAYS], unit="D")
    assert (leuka >= TR.enrolment_opened()).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_published_summaries_hold_exactly_for_any_seed(cohort, not_infused, claims, seed):
    co, ni = TR.assign_treatment(cohort, not_infused, claims, seed)
    _check_exact(co, ni, claims)
    fit = TR.treatment_fit(co, ni, claims)
    assert fit["met"].all(), fit.loc[~fit["met"]]
    assert set(fit["claim_id"]) == set(TR.CLAIM_IDS)


def test_same_seed_same_frames_and_inputs_untouched(cohort, not_infused, claims):
    before = cohort.copy()
    a = TR.assign_treatment(cohort, not_infused, claims, 11)
    b = TR.assign_treatment(cohort, not_infused, claims, 11)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    pd.testing.assert_frame_equal(cohort, before)
    assert not any(c in cohort.columns for c in TR.COLUMNS)
    c = TR.assign_treatment(cohort, not_infused, claims, 12)[0]
    assert not a[0][DAYS].equals(c[DAYS]) or not a[0]["bridging"].equals(c["bridging"])


def test_dtypes(cohort, not_infused, claims):
    co, ni = TR.assign_treatment(cohort, not_infused, claims, 3)
    assert co[DAYS].dtype.kind == "i" and co[CYC].dtype.kind == "i"
    assert str(ni[DAYS].dtype) == "Int64" and CYC not in ni.columns


def test_independent_of_outcomes(cohort, not_infused, claims):
    """Scrambling every outcome column leaves the assignment unchanged: any association between
    these columns and an outcome is null by construction."""
    outcomes = ["response", "cri", "mrd_negative", "crs_grade", "neurotox_grade", "hsct_after",
                "relapse", "death", "os_days", "os_event", "lfs_days", "lfs_event", "car_peak_pct"]
    scrambled = cohort.copy()
    rng = np.random.default_rng(0)
    for c in outcomes:
        scrambled[c] = rng.permutation(scrambled[c].to_numpy())
    a, _ = TR.assign_treatment(cohort, not_infused, claims, 5)
    b, _ = TR.assign_treatment(scrambled, not_infused, claims, 5)
    for c in TR.COLUMNS:
        pd.testing.assert_series_equal(a[c], b[c])


def _edited(claims, cid, **fields):
    c = claims.copy()
    for f, v in fields.items():
        c.loc[c["id"] == cid, f] = v
    return c


@pytest.mark.parametrize("cid,fields,column", [
    (TR.VEIN_TO_VEIN, {"min": 20.0}, "min"),                 # min > median
    (TR.VEIN_TO_VEIN, {"max": 10.0}, "max"),                 # max < median
    (TR.VEIN_TO_VEIN, {"median": 14.3}, "median"),           # not a median of whole days
    (TR.BRIDGING_LOW, {"n": 70}, "n"),                       # 70 + 14 != 85
    (TR.BRIDGING, {"N": 120}, "N"),                          # not the number enrolled
    (TR.CYCLES["refractory"], {"min": 5.0, "max": 8.0}, "min"),  # printed range above the median
])
def test_impossible_claim_names_the_claim(cohort, not_infused, claims, cid, fields, column):
    bad = _edited(claims, cid, **fields)
    with pytest.raises(InputError) as e:
        TR.assign_treatment(cohort, not_infused, bad, 1)
    msg = str(e.value)
    assert e.value.column == column
    assert ("methods.bridging" in msg) if cid.startswith("methods.bridging") else (cid in msg)
    named = "methods.bridging" if cid.startswith("methods.bridging") else cid
    assert e.value.row == list(bad["id"]).index(named) + 1       # 1-based data row of claims.csv


def test_missing_claim_is_named(cohort, not_infused, claims):
    with pytest.raises(InputError, match="table1.status.relapsed.cycles"):
        TR.assign_treatment(cohort, not_infused,
                            claims[claims["id"] != TR.CYCLES["relapsed"]].reset_index(drop=True), 1)


def test_fit_reports_a_miss(cohort, not_infused, claims):
    co, ni = TR.assign_treatment(cohort, not_infused, claims, 2)
    co = co.copy()
    co.loc[co[DAYS].idxmax(), DAYS] += 1          # the maximum is no longer the published one
    fit = TR.treatment_fit(co, ni, claims).set_index("target")
    assert not fit.loc[f"max {DAYS}", "met"]
    assert fit.loc[f"median {DAYS}", "met"]


# ------------------------------------------------------------------------------------------
# schema: optional, but checked when present
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raw_with_columns(cohort, not_infused, claims):
    co, _ = TR.assign_treatment(cohort, not_infused, claims, 4)
    return co.astype(str).replace({"nan": ""})


def _write(tmp_path, df):
    p = tmp_path / "cohort.csv"
    df.to_csv(p, index=False)
    return p


def test_cohort_with_columns_loads(tmp_path, raw_with_columns):
    df = load_cohort(_write(tmp_path, raw_with_columns))
    assert df[DAYS].dtype.kind == "i" and set(df["bridging"]) <= set(TR.BRIDGING_LEVELS)


@pytest.mark.parametrize("column,value,rule", [
    ("bridging", "heavy", "bridging must be one of none, low-moderate, intensive"),
    (DAYS, "-2", "days must be >= 0"),
    (CYC, "-1", "cycles must be >= 0"),
    (CYC, "2.5", "must be a whole number"),
    (DAYS, "", "must be a whole number"),
])
def test_schema_rejects_bad_values(tmp_path, raw_with_columns, column, value, rule):
    df = raw_with_columns.copy()
    df.loc[6, column] = value
    p = _write(tmp_path, df)
    with pytest.raises(InputError) as e:
        load_cohort(p)
    assert (e.value.column, e.value.row, e.value.rule) == (column, 8, rule)  # spreadsheet row
    assert str(p) in str(e.value)


# ------------------------------------------------------------------------------------------
# reproduction (cart19.comparison.reproduce rules) and scorecard
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def card_with_columns(cohort, not_infused, claims):
    co, ni = TR.assign_treatment(cohort, not_infused, claims, 9)
    raw = pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)
    rep = reproduce.reproduce_all(co, claims, ni)
    return scorecard.build_scorecard(claims, raw, rep).set_index("id")


def test_treatment_claims_reproduced_exactly_and_fitted(card_with_columns):
    sel = card_with_columns.loc[list(TR.CLAIM_IDS)]
    assert (sel["status"] == "exact").all(), sel[["status", "note"]]
    assert (sel["basis"] == "fitted").all()


def test_costim_periods_from_dates(card_with_columns, cohort):
    early = pd.to_datetime(cohort["infusion_date"]) < reproduce.COSTIM_SWITCH
    later = int((~early & (cohort["costim"] == "4-1BB")).sum())
    row = card_with_columns.loc["methods.costim.later_41bb"]
    assert row["reproduced"] == later and row["basis"] == "derived"
    assert "CD28" in row["note"]


def test_costim_unequal_groups_differ_not_averaged():
    d = pd.DataFrame({"infusion_date": ["2017-05-01", "2017-05-02", "2017-05-03", "2018-01-01"],
                      "costim": ["CD28", "CD28", "4-1BB", "4-1BB"]})
    out = reproduce.costim_period("initial")(reproduce.Context(d))
    assert "mismatch" in out and "n" not in out
    pub = pd.Series({"id": "methods.costim.initial", "kind": "count", "n": 2.0})
    status, diff, note = scorecard.compare_claim(pub, pd.Series({"n": "2"}), pd.Series(out))
    assert status == "differs" and "unequal" in note and "2 CD28, 1 4-1BB" in note


def test_absent_columns_give_a_clear_reason(cohort, claims):
    ctx = reproduce.Context(cohort)
    for cid, (fn, _b) in reproduce.treatment_rules(None).items():
        if cid.startswith("methods.costim"):
            continue
        assert "assign_treatment" in fn(ctx)["reason"], cid


def test_bridging_needs_not_infused(cohort, not_infused, claims):
    co, _ = TR.assign_treatment(cohort, not_infused, claims, 1)
    fn, _b = reproduce.treatment_rules(None)[TR.BRIDGING]
    assert "not_infused.csv" in fn(reproduce.Context(co))["reason"]


@pytest.mark.parametrize("column,value,rule", [
    ("bridging", "heavy", "bridging must be one of none, low-moderate, intensive"),
    (DAYS, "12", "must be empty: a patient who was not infused has no interval to infusion"),
])
def test_not_infused_columns_checked(tmp_path, cohort, not_infused, claims, column, value, rule):
    from cart19.cohort.schema import validate_not_infused_treatment
    _, ni = TR.assign_treatment(cohort, not_infused, claims, 4)
    p = tmp_path / "not_infused.csv"
    ni.to_csv(p, index=False)
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert len(validate_not_infused_treatment(raw, p)) == len(ni)
    raw.loc[2, column] = value
    with pytest.raises(InputError) as e:
        validate_not_infused_treatment(raw, p)
    assert (e.value.column, e.value.row, e.value.rule) == (column, 3, rule)
    # a not_infused.csv written before the columns existed still passes
    assert len(validate_not_infused_treatment(not_infused, p)) == len(not_infused)
