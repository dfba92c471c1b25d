"""The landmark-conflict solver (cart19.reconstruction.landmark_conflicts; issue 16, item 1)."""
from dataclasses import replace
from fractions import Fraction

import pandas as pd
import pytest

from cart19.reconstruction import landmark_conflicts as C
from cart19.reconstruction import landmarks as L


def test_dc_table_small_case_by_hand():
    # 3 patients: an event then a censoring gives 2/3, a censoring then an event 1/2
    ok = C.dc_table(3, 0.49, 0.51)
    assert ok[1, 1] and not ok[1, 0] and not ok[0, 1] and not ok[0, 0]
    ok = C.dc_table(3, 0.66, 0.67)
    assert ok[1, 0] and ok[1, 1] and ok[1, 2] and not ok[2, 0]


@pytest.mark.parametrize("n,lo,hi", [(6, 0.4285, 0.4295), (6, 0.495, 0.505), (11, 0.5185, 0.5195),
                                     (15, 0.2535, 0.2545), (9, 0.30, 0.31)])
def test_dc_table_agrees_with_the_exact_enumeration(n, lo, hi):
    assert C.dc_table(n, lo, hi).any() == bool(L.reachable(n, lo, hi))


def test_bounds_relaxation_contains_every_exact_pair():
    n, lo, hi = 30, 0.40, 0.41
    ok = C.dc_table(n, lo, hi)
    for d in range(n + 1):
        for c in range(n + 1 - d):
            if ok[d, c]:
                assert C.dc_bounds_ok(n, d, c, lo, hi)


def _toy(conflict: bool) -> C.Program:
    prog = C.Program()
    x, y = prog.var("x"), prog.var("y")
    prog.add("a", {x: 1.0, y: 1.0}, 2, 2)            # x = y = 1
    prog.add("b", {x: 1.0}, 0, 0 if conflict else 1)  # x = 0 conflicts with a
    prog.add("c", {y: 1.0}, 0, 1)                    # never binding
    return prog


def test_toy_conflict_and_toy_feasible():
    assert C.solve(_toy(False)).feasible is True
    assert C.solve(_toy(True)).feasible is False
    groups, _sec = C.irreducible(_toy(True))
    assert groups == ["a", "b"]
    with pytest.raises(ValueError):
        C.irreducible(_toy(False))


@pytest.fixture(scope="module")
def committed():
    return C.problem()


def test_committed_cohort_is_a_point_of_the_relaxation(committed):
    # every structure and day-target row holds for the committed cohort's own days (else the
    # programme would not be a relaxation), and so do the rows of every landmark it prints
    prog, _lms, bound, cohort = committed
    bad = set(C.violated(prog, C.committed_point(prog, bound, cohort)))
    assert not bad - set(prog.report)
    table = L.by_landmark(L.audit_cohort(cohort))
    printed = set(table.loc[table["rounds"], "landmark"])
    assert not bad & printed


def test_injected_conflict_is_found_and_irreducible(committed):
    # TP53-positive responders alive at 6 months at 99-100% cannot hold with the TP53 death-day
    # median (at least 4 of the 7 deaths by day 142, at most one outside the responders)
    prog, lms, bound, cohort = committed
    from cart19.comparison import reproducers as Rp
    from cart19.reconstruction import milp as M

    attrs = Rp.attribute_frame(cohort)[list(M.ATTRS)].astype(int)
    fake = [replace(lm, aim=(99.0, 100.0)) if lm.target.claim_id == "fig6.os.tp53_pos.6m" else lm
            for lm in lms]
    bad = C.build(attrs, bound, fake, cuts=False)  # the counts suffice; the cuts slow each solve
    assert C.solve(bad).feasible is False
    groups, _sec = C.irreducible(bad)
    assert "fig6.os.tp53_pos.6m" in groups and "results.tp53.death_time:median" in groups
    others = frozenset(bad.groups()) - set(groups)
    assert C.solve(bad, others).feasible is False
    for g in groups:  # minimal: without any one of them the rest is feasible
        assert C.solve(bad, others | {g}).feasible is True


def test_dc_values_are_exact_fractions():
    # 2 of 5 events first, no censoring: 3/5 exactly
    ok = C.dc_table(5, float(Fraction(3, 5)) - 1e-6, float(Fraction(3, 5)) + 1e-6)
    assert ok[2, 0] and not ok[1, 0] and not ok[3, 0]


def test_committed_table_is_current():
    # the committed result (read by chapter 02) is what the solver gives now; the witness counts
    # are one solution among many and are not compared, only that there is one
    rows, info = C.read()
    new = C.compute()
    fixed = [c for c in rows.columns if not c.startswith("witness_")]
    pd.testing.assert_frame_equal(rows[fixed].reset_index(drop=True), new[fixed].reset_index(drop=True),
                                  check_dtype=False)
    assert bool(info["feasible"]) == bool(new["programme_feasible"].iloc[0])
    assert info["irreducible"] == [g for g in new["irreducible"].iloc[0].split("; ") if g]
    assert info["rows"] == new["programme_rows"].iloc[0]
