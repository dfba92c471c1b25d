"""Caption log-rank P values and hazard ratios of Figures 3-7 (issue 16, item 2): which printed
triples are self-consistent, and whether the arms' events allow them."""
from __future__ import annotations

import math

import numpy as np
import pytest
from cart19.cohort.schema import load_cohort
from cart19.comparison import reproducers as R
from cart19.paths import CLAIMS_CSV, COHORT_CSV
from cart19.reconstruction import captions as C
from cart19.record import design
from cart19.record.claims import load_claims
from cart19.stats import survival
from scipy import stats


@pytest.fixture(scope="module")
def claims():
    return load_claims(CLAIMS_CSV).set_index("id")


def test_fig7_os_is_self_consistent(claims):
    """HR 5.27 (1.51-18.48): SE(ln HR) = 0.639, Wald P = .009 as printed."""
    chk = C.consistency(claims, "fig7.os.hr", "fig7.os.p")
    assert chk["consistent"]
    assert chk["implied_p"][0] <= 0.0095 and 0.0085 <= chk["implied_p"][1]


def test_fig5_lfs_contradicts_itself(claims):
    chk = C.consistency(claims, "fig5.lfs.hr", "fig5.lfs.p")
    assert not chk["consistent"] and chk["implied_p"][0] > 0.4


def test_p_window():
    assert C.p_window(".136", "=") == pytest.approx((0.1355, 0.1365))
    assert C.p_window(".0001", "<") == (0.0, 0.0001)


def test_feasibility_arithmetic():
    k, win = math.log(2.0), (0.0495, 0.0505)
    chi2 = 0.5 * (stats.chi2.isf(win[1], 1) + stats.chi2.isf(win[0], 1))
    f = C.feasibility(k, win, "=", 30, 30)
    assert f["v_needed"] == pytest.approx(chi2 / k ** 2)
    e_a = 30 - chi2 / k
    assert f["v_max"] == pytest.approx(e_a * (60 - e_a) / 60) and f["feasible"]
    assert not C.feasibility(k, win, "=", 3, 3)["feasible"]


def test_variance_bound_holds_on_the_cohort():
    """V = (O - E)^2 / chi2 <= E_a E_b / D for every caption comparison of the committed cohort."""
    ctx = R.Context(R.attribute_frame(load_cohort(COHORT_CSV)))
    for c in design.load().comparisons.values():
        for ep in c.endpoints:
            dur, ev = R.endpoint_columns(ep)
            lr = survival.logrank(R.two_arm(ctx, c.where("a"), c.where("b")), dur, ev, "_arm")
            o, e = lr["observed"]["a"], lr["expected"]["a"]
            d = o + lr["observed"]["b"]
            v = (o - e) ** 2 / lr["chi2"]
            assert v <= e * (d - e) / d + 1e-9


def test_caption_table(claims):
    t = C.caption_table(load_cohort(COHORT_CSV), load_claims(CLAIMS_CSV))
    assert len(t) == 10 and set(t["variant"]) <= {"mantel_haenszel", "logrank"}
    assert int(t["consistent"].sum()) == 9
    assert (t["target"] == (t["consistent"] & t["feasible"])).all()
    assert t.loc[~t["consistent"], "comparison"].tolist() == ["fig5.lfs"]
    ok = np.abs(np.log(t["reproduced_hr"] / t["printed_hr"])) <= C.LOG_HR_TOL
    assert (ok == t["hr_met"]).all()
