"""The last stage of the day search (issue 16, items 1-2): Kaplan-Meier landmarks pulled into their
printed windows and the caption comparisons of Figures 3-7 fitted, every stage-2 target kept."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart19.cohort.schema import load_cohort
from cart19.paths import CLAIMS_CSV, COHORT_CSV
from cart19.reconstruction import captions as C
from cart19.reconstruction import landmarks as L
from cart19.reconstruction import pipeline as R
from cart19.reconstruction import printfit as F
from cart19.reconstruction import targets as T
from cart19.reconstruction import times as RT
from cart19.record import design
from cart19.record.claims import load_claims
from cart19.stats import survival


@pytest.fixture(scope="module")
def claims():
    return load_claims(CLAIMS_CSV).set_index("id")


@pytest.fixture(scope="module")
def bound():
    return T.bind(T.read_claims(CLAIMS_CSV), CLAIMS_CSV, strict=True)


@pytest.fixture(scope="module")
def cohort():
    return load_cohort(COHORT_CSV)


@pytest.fixture(scope="module")
def base(bound):
    return R.base_state(CLAIMS_CSV, bound)


@pytest.fixture(scope="module")
def searcher(base, bound, claims):
    attrs, days, allow = base
    _f, _d, s = F.print_fit(attrs, bound, days, 1, 0, L.landmarks_of(),
                            captions=F.caption_targets(claims, attrs))
    return s


def test_caption_targets_are_the_consistent_feasible_ones(claims, cohort):
    """The targets are exactly the comparisons captions.caption_table calls possible targets
    (same event counts: the cohort's stage-1 attributes)."""
    attrs = R.attributes_from_cohort(cohort)
    got = [t.comparison for t in F.caption_targets(claims, attrs)]
    table = C.caption_table(cohort, claims)
    assert got == table.loc[table["target"], "comparison"].tolist()
    assert len(got) == 7 and "fig5.lfs" not in got
    left = F.caption_targets(claims, attrs, leave_out=("fig7.os",))
    assert [t.comparison for t in left] == [c for c in got if c != "fig7.os"]


def test_caption_stats_equal_the_survival_module(searcher, base):
    """The in-search O, E, V (one bincount pass) give the same ln HR, in each target's variant
    and orientation, and chi-square as cart19.stats.survival on the same days."""
    attrs, days, _ = base
    s = searcher
    f = s.cut - s.inf
    os_t, os_e, lfs_t, lfs_e = RT._os_lfs(s.p, f, s.h, s.r, s.d)
    lhr, chi2 = s.caption_stats(np.concatenate([os_t, lfs_t]).astype(int),
                                np.concatenate([os_e, lfs_e]).astype(float))
    for c, t in enumerate(s.captions):
        ma, mb = T.where_mask(attrs, t.a), T.where_mask(attrs, t.b)
        tt, ee = (os_t, os_e) if t.endpoint == "os" else (lfs_t, lfs_e)
        df = pd.DataFrame({"t": tt, "e": ee, "arm": np.where(ma, "a", "b")})[ma | mb]
        hr = survival.logrank_hr(df, "t", "e", "arm", ref="b").loc[t.variant, "hr"]
        lr = survival.logrank(df, "t", "e", "arm")
        assert lhr[c] == pytest.approx(np.log(hr), abs=1e-9)
        assert chi2[c] == pytest.approx(lr["chi2"], rel=1e-9)


def test_aims_follow_the_landmark_audit(searcher):
    """A landmark that follows from another has no window of its own; one no cohort can print is
    aimed between the two reachable values either side."""
    lms = {lm.target.claim_id: lm for lm in L.landmarks_of()}
    for k, row in enumerate(searcher.km):
        lm = lms[row[0]]
        if lm.aim is None:
            assert searcher.aim_lo[k] == -np.inf and searcher.aim_hi[k] == np.inf
        else:
            assert (searcher.aim_lo[k], searcher.aim_hi[k]) == lm.aim
    assert any(lm.status == "unreachable" and lm.aim[1] - lm.aim[0] > 0.1 for lm in lms.values())


def test_fit_keeps_every_stage2_target_and_never_raises_its_loss(base, bound, claims):
    """The annealing keeps the best state it visits (the start among them) and only states that
    meet every stage-2 target."""
    attrs, days, allow = base
    _f, _d, s = F.print_fit(attrs, bound, days, 3, 0, L.landmarks_of(), allow,
                            F.caption_targets(claims, attrs))
    before = s.loss(s.evaluate()[1])
    after = s.fit(1500)
    hard, soft = s.evaluate()
    assert hard == 0.0
    assert after == pytest.approx(s.loss(soft)) and after <= before
    assert all(s.ok(i) for i in range(s.p.n))


#: measured on the committed cohort (chapter 03): 9 of the 24 distinct landmarks round to print
#: (1 before this stage), mean |difference| 1.59 points (2.19 before); 3 of the 10 caption P
#: values within the printed precision; a regression fails here
ROUNDING_MIN = 9
MEAN_DIFFERENCE_MAX = 1.7
CAPTION_P_MET_MIN = 3


def test_committed_cohort_prints_at_least_as_measured(cohort, claims):
    summary = L.summary(L.audit_cohort(cohort))
    assert summary["distinct_rounding"] >= ROUNDING_MIN
    assert summary["mean_abs_difference"] <= MEAN_DIFFERENCE_MAX
    table = C.caption_table(cohort, claims)
    assert int(table["p_met"].sum()) >= CAPTION_P_MET_MIN


def test_design_lists_ten_caption_comparisons():
    assert sum(len(c.endpoints) for c in design.load().comparisons.values()) == 10


def test_leave_one_out_table_is_current():
    """data/cohort/leave_one_out.csv was computed from the current base cohort (its key), for
    every caption target; recompute with `python -m cart19 reconstruct --leave-one-out`."""
    loo = pd.read_csv(COHORT_CSV.with_name("leave_one_out.csv"))
    assert set(loo["base_key"]) == {R._base_key(CLAIMS_CSV)}
    with np.load(R.BASE_NPZ) as z:
        import cart19.reconstruction.milp as M
        attrs = pd.DataFrame(z["attrs"], columns=list(M.ATTRS))
    claims = load_claims(CLAIMS_CSV)
    assert loo["comparison"].tolist() == [t.comparison for t in F.caption_targets(claims, attrs)]


def test_caption_targets_are_fitted_in_the_scorecard(claims):
    """The P, HR and CI claims of every caption target get basis "fitted" (never agreement); the
    comparisons that cannot be targets keep theirs."""
    from cart19.comparison import reproduce

    raw = load_claims(CLAIMS_CSV)
    fitted = C.targeted_claims(raw)
    assert {"fig7.os.p", "fig7.os.hr", "fig3.os.p"} <= fitted
    assert not {"fig5.lfs.p", "fig5.lfs.hr", "fig4.os.p"} & fitted
    reg = reproduce.registry(raw)
    assert reg["fig7.os.p"][1] == "fitted" and reg["fig3.lfs.hr"][1] == "fitted"
    assert reg["fig5.lfs.p"][1] == "emergent"
