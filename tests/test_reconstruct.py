"""The committed reconstruction meets its targets; re-solving is deterministic; conflicts are named.

Targets are evaluated on the CSV itself (cart19.reconstruction.pipeline.attributes_from_cohort), without
re-solving, against the values read from data/published/claims.csv.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from cart19.reconstruction import pipeline as R
from cart19.reconstruction import milp as M
from cart19.reconstruction import times as RT
from cart19.reconstruction import targets as T
from cart19.cohort.schema import load_cohort
from cart19.paths import CLAIMS_CSV, COHORT_CSV

# Time targets the committed cohort may miss (see data/cohort/fit.csv): none since the published
# minima and maxima became hard bounds of the stage-2 search. Kept (empty) so that a future miss
# has to be declared here, with its reason, rather than pass unnoticed.
KNOWN_TIME_MISSES: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def cohort():
    return load_cohort(COHORT_CSV)


@pytest.fixture(scope="module")
def bound():
    return T.bind(T.read_claims(CLAIMS_CSV), CLAIMS_CSV, strict=True)


@pytest.fixture(scope="module")
def attrs(cohort):
    return R.attributes_from_cohort(cohort)


def test_every_count_target_holds(attrs, bound):
    bad = [(t.claim_id, t.field, v, M.evaluate(attrs, t.where)) for t, v in bound.counts
           if M.evaluate(attrs, t.where) != v]
    assert not bad, bad
    assert len(bound.counts) > 250


def test_targets_read_from_claims(bound):
    """A value comes from claims.csv: Table 3 CD28 CR is 17 of 21 as printed."""
    vals = {(t.claim_id, t.field): v for t, v in bound.counts}
    claims = T.read_claims(CLAIMS_CSV)
    assert vals[("table3.cr.costim.cd28", "n")] == int(float(claims.loc["table3.cr.costim.cd28", "n"]))
    assert vals[("table3.cr.costim.cd28", "N")] == int(float(claims.loc["table3.cr.costim.cd28", "N"]))


def test_overridden_claims_are_not_targeted(bound):
    used = {t.claim_id for t, _ in bound.counts}
    assert not used & T.OVERRIDDEN
    assert "table1.bm_blasts.5_20" in T.OVERRIDDEN


def test_decisions_are_the_registry():
    # one registry of readings (data/published/readings.csv): no copy beside the cohort
    assert not (COHORT_CSV.parent / "decisions.csv").exists()
    assert {d.alias for d in T.DECISIONS} >= {f"D{k:02d}" for k in range(1, 16)}


@pytest.mark.parametrize("i", range(len(T.TIME_TARGETS)))
def test_time_targets(cohort, attrs, bound, i):
    t = T.TIME_TARGETS[i]
    vals = {(b.claim_id, b.stat): v for b, v in bound.times}
    if (t.claim_id, t.stat) not in vals:
        pytest.skip("overridden")
    x = pd.to_numeric(cohort[t.column], errors="coerce")[T.where_mask(attrs, t.where)].dropna()
    got = {"median": np.median, "min": np.min, "max": np.max}[t.stat](x.to_numpy())
    if (t.claim_id, t.stat) in KNOWN_TIME_MISSES:
        assert got != vals[(t.claim_id, t.stat)], "known miss now met: remove it from KNOWN_TIME_MISSES"
        pytest.xfail("known miss, see fit.csv")
    assert got == vals[(t.claim_id, t.stat)]


def test_km_landmarks_within_tolerance(cohort, attrs, bound):
    """Each landmark, recomputed with lifelines, within max(1 point, half a KM step)."""
    bad = []
    for t, pct, days in bound.km:
        m = T.where_mask(attrs, t.where)
        d = cohort[m]
        kmf = KaplanMeierFitter().fit(d[f"{t.endpoint}_days"], d[f"{t.endpoint}_event"])
        s = float(kmf.survival_function_at_times(days).iloc[0])
        s_own, n_risk = RT.km_at(d[f"{t.endpoint}_days"].to_numpy(float),
                                 d[f"{t.endpoint}_event"].to_numpy(int), days)
        assert abs(s - s_own) < 1e-9
        tol = RT.km_tolerance(s, n_risk)
        if abs(100 * s - pct) > tol + 1e-9:  # ties at the tolerance are within (scorecard rule)
            bad.append((t.claim_id, pct, round(100 * s, 1), round(tol, 1)))
    assert not bad, bad


def _km_deviations(cohort, attrs, bound):
    out = []
    for t, pct, days in bound.km:
        d = cohort[T.where_mask(attrs, t.where)]
        s, _ = RT.km_at(d[f"{t.endpoint}_days"].to_numpy(float), d[f"{t.endpoint}_event"].to_numpy(int), days)
        out.append(abs(100 * s - pct))
    return np.array(out)


# The KM landmarks must not only fall within their tolerance: half a KM step is 25-40 points
# where 1-2 patients are at risk, and an earlier search that stopped at the first feasible days
# had drifted to 183 points in total over the 24 landmarks (the worst 33). The polish brought the
# committed cohort to 53 points in total, the worst 8; a regression past these bounds fails here.
KM_TOTAL_DEVIATION_MAX = 80.0
KM_WORST_DEVIATION_MAX = 12.0


def test_km_landmarks_close_not_only_within(cohort, attrs, bound):
    dev = _km_deviations(cohort, attrs, bound)
    assert len(dev) == len(bound.km) > 20
    assert dev.sum() <= KM_TOTAL_DEVIATION_MAX, dev.round(1)
    assert dev.max() <= KM_WORST_DEVIATION_MAX, dev.round(1)


def test_infusions_spread_evenly(cohort):
    """Consecutive enrolment (modelling assumption, cart19.reconstruction.times.SPREAD_EDGES): every bin of
    the enrolment window holds its share of infusions within SPREAD_SLACK patients."""
    d = pd.to_datetime(cohort["infusion_date"])
    days = (d - d.min()).dt.days.to_numpy()
    got = RT.spread_counts(days)
    want = RT.spread_expected(len(cohort))
    assert got.sum() == len(cohort)
    assert (np.abs(got - want) <= RT.SPREAD_SLACK).all(), (got, want.round(1))


def test_fit_csv_is_current(cohort):
    from cart19.reconstruction.treatment import treatment_fit
    fit = pd.read_csv(COHORT_CSV.parent / "fit.csv")
    claims = T.read_claims(CLAIMS_CSV)
    not_inf = pd.read_csv(COHORT_CSV.parent / "not_infused.csv")
    fresh = pd.concat([R.fit_table(cohort, claims), treatment_fit(cohort, not_inf, claims)],
                      ignore_index=True)
    assert len(fit) == len(fresh)
    assert set(fit["basis"]) <= {"fitted", "overridden"}
    a = fit[fit.basis == "fitted"]["reconstructed"].to_numpy(float)
    b = fresh[fresh.basis == "fitted"]["reconstructed"].to_numpy(float)
    assert np.allclose(a, b, atol=0.01)


def test_lfs_convention_nr_event_at_zero(cohort):
    nr = cohort[cohort["response"] == "NR"]
    assert (nr["lfs_days"] == 0).all() and (nr["lfs_event"] == 1).all()


def test_costim_order(cohort):
    """The 21 CD28 patients are among the first 42 infusions; later infusions are 4-1BB."""
    c = cohort.sort_values("infusion_date", kind="stable").reset_index(drop=True)
    assert (c.loc[42:, "costim"] == "4-1BB").all()
    assert (c["costim"] == "CD28").sum() == 21


def test_resolve_is_identical(tmp_path):
    """Re-solving with the committed seed reproduces the committed file byte for byte."""
    out = tmp_path / "cohort.csv"
    assert R.main(["--seed", str(R.DEFAULT_SEED), "--out", str(out)]) == 0
    assert out.read_bytes() == COHORT_CSV.read_bytes()


def _arrays(state):
    attrs, days, allow = state
    return [attrs.to_numpy(), days.inf, days.early, days.h, days.r, days.d, allow[0], allow[1],
            np.array(allow[2])]


def test_committed_base_is_current(bound):
    """data/cohort/base.npz (what a fresh clone walks from) was computed for the current claims
    and reconstruction code; if this fails, run `python -m cart19 reconstruct` and commit it."""
    key = R._base_key(CLAIMS_CSV)
    assert R._load_base(R.BASE_NPZ, key, strict=True) is not None, (
        f"{R.BASE_NPZ} is stale (claims or {', '.join(R.BASE_CODE)} changed): "
        "run `python -m cart19 reconstruct` and commit it")


def test_base_resolve_matches_committed(bound):
    """Solving the base from scratch (integer program, cold stage-2 search, polish; no cache,
    committed file unread) gives the committed base.npz array for array."""
    fresh = R.base_state(CLAIMS_CSV, bound, cache=False)
    committed = R._load_base(R.BASE_NPZ, R._base_key(CLAIMS_CSV), strict=True)
    for got, want in zip(_arrays(fresh), _arrays(committed)):
        assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("damage", ["garbage", "missing_array", "wrong_shape"])
def test_malformed_committed_base_is_named(tmp_path, monkeypatch, bound, damage):
    """A damaged committed base is an InputError naming the file (and the array), not a crash
    deep in the search and not a silent re-solve; a stale one (other key) is simply re-solved."""
    from cart19.errors import InputError
    key, committed = R._base_key(CLAIMS_CSV), R.BASE_NPZ
    z = dict(np.load(committed))
    p = tmp_path / "base.npz"
    if damage == "garbage":
        p.write_bytes(b"not a zip file")
    elif damage == "missing_array":
        z.pop("allow_km")
        np.savez(p, **z)
    else:
        z["inf"] = z["inf"][:-1]
        np.savez(p, **z)
    monkeypatch.setattr(R, "BASE_NPZ", p)
    monkeypatch.setattr(R, "_cache_path", lambda k: tmp_path / "no-cache.npz")
    with pytest.raises(InputError) as e:
        R.base_state(CLAIMS_CSV, bound)
    assert str(p) in str(e.value)
    if damage != "garbage":
        assert {"missing_array": "allow_km", "wrong_shape": "inf"}[damage] in str(e.value)
    # a readable file computed for other claims or code is stale, not an error
    z = dict(np.load(committed))
    z["key"] = np.array("0" * 20)
    np.savez(p, **z)
    assert R._load_base(p, key, strict=True) is None


def _edited_claims(tmp_path, cid, field, value):
    c = pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)
    assert (c["id"] == cid).sum() == 1
    c.loc[c["id"] == cid, field] = str(value)
    p = tmp_path / "claims.csv"
    c.to_csv(p, index=False)
    return p


@pytest.mark.parametrize("cid,field,value", [("table3.cr.costim.cd28", "n", 25),
                                              ("results.cr_day30", "n", 120)])
def test_impossible_claim_is_named(tmp_path, cid, field, value):
    p = _edited_claims(tmp_path, cid, field, value)
    b = T.bind(T.read_claims(p), p, strict=True)
    with pytest.raises(M.ClaimConflict) as e:
        M.solve(b.counts, seed=1)
    err = e.value
    named = set(err.repair) | {c for alt in err.alternatives for c in alt}
    assert cid in named, str(err)
    assert err.cap >= 1
    assert cid in str(err) or any(cid in a for a in err.alternatives)
