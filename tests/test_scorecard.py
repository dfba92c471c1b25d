"""Scorecard comparisons, table layouts and reproducers, on hand-worked cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import chi2_contingency

from cart19.comparison import basis, reproduce, reproducers, scorecard


def _pub(**kw):
    base = {"id": "x", "kind": "count", "source": "results", "quantity": "q", "printed": "p",
            "p_cmp": ""}
    base.update(kw)
    return pd.Series(base)


def _raw(**kw):
    return pd.Series({k: str(v) for k, v in kw.items()})


@pytest.mark.parametrize("text,dec", [("92.9", 1), (".052", 3), ("100", 0), ("0.0001", 4),
                                      ("", None), (None, None)])
def test_printed_decimals(text, dec):
    assert scorecard.printed_decimals(text) == dec


def test_round_half_up_not_half_even():
    # 7.45 must round to 7.5 as a journal does (Python's round gives 7.4 or 7.5 depending on binary)
    assert scorecard._round_half_up(7.45, 1) == 7.5
    assert scorecard._round_half_up(2.675, 2) == 2.68
    assert scorecard._round_half_up(0.0525, 3) == 0.053


def test_count_exact_and_differs():
    pub, raw = _pub(kind="count", n=14), _raw(n=14)
    assert scorecard.compare_claim(pub, raw, pd.Series({"n": 14}))[0] == "exact"
    status, diff, _ = scorecard.compare_claim(pub, raw, pd.Series({"n": 24}))
    assert (status, diff) == ("differs", 10)


def test_proportion_counts_equal_but_printed_percent_wrong_is_exact_with_note():
    # Table 3 prints 66/71 (92.9) although 66/71 = 92.96 -> 93.0
    pub = _pub(kind="proportion", n=66, N=71, percent=92.9)
    raw = _raw(n=66, N=71, percent="92.9")
    status, _, note = scorecard.compare_claim(pub, raw, pd.Series({"n": 66, "N": 71,
                                                                   "percent": 100 * 66 / 71}))
    assert status == "exact" and "printed percent" in note


def test_percent_rounds_at_printed_precision():
    pub, raw = _pub(kind="percent", percent=93.0), _raw(percent="93")
    assert scorecard.compare_claim(pub, raw, pd.Series({"percent": 92.727}))[0] == "exact"
    assert scorecard.compare_claim(pub, raw, pd.Series({"percent": 92.4}))[0] == "differs"


def test_p_with_less_than_comparator():
    pub, raw = _pub(kind="p", p=0.0001, p_cmp="<"), _raw(p=".0001")
    assert scorecard.compare_claim(pub, raw, pd.Series({"p": 3e-6}))[0] == "exact"
    status, _, note = scorecard.compare_claim(pub, raw, pd.Series({"p": 0.2}))
    assert status == "differs" and "differs" in note


def test_p_equal_at_three_decimals():
    pub, raw = _pub(kind="p", p=0.015, p_cmp="="), _raw(p=".015")
    assert scorecard.compare_claim(pub, raw, pd.Series({"p": 0.01496}))[0] == "exact"
    assert scorecard.compare_claim(pub, raw, pd.Series({"p": 0.0162}))[0] == "differs"


def test_km_landmark_tolerance():
    pub, raw = _pub(kind="km_landmark", percent=63.9), _raw(percent="63.9")
    rep = pd.Series({"percent": 64.6, "tolerance": 1.0})
    assert scorecard.compare_claim(pub, raw, rep)[0] == "within tolerance"
    rep = pd.Series({"percent": 66.0, "tolerance": 1.0})
    assert scorecard.compare_claim(pub, raw, rep)[0] == "differs"
    rep = pd.Series({"percent": 66.0, "tolerance": 2.5})  # half a KM step in a small group
    assert scorecard.compare_claim(pub, raw, rep)[0] == "within tolerance"


def test_not_reproducible_keeps_reason():
    pub, raw = _pub(kind="value", value=30.0), _raw(value="30")
    status, diff, note = scorecard.compare_claim(pub, raw, pd.Series({"reason": "protocol dose"}))
    assert status == "not reproducible" and diff is None and note == "protocol dose"


def test_missing_reproduction_is_never_exact():
    pub, raw = _pub(kind="count", n=3), _raw(n=3)
    assert scorecard.compare_claim(pub, raw, pd.Series(dtype=object))[0] == "not reproducible"


# ------------------------------------------------------------------------------------------
# reproducers on a tiny hand-built frame of binary attributes
# ------------------------------------------------------------------------------------------
@pytest.fixture
def ctx():
    rows = []
    # 6 patients: attributes cr, cd28, crs34 and survival columns
    for cr, cd28, crs34, os_d, os_e in [(1, 1, 1, 100, 1), (1, 1, 0, 400, 0), (0, 1, 1, 30, 1),
                                        (1, 0, 0, 380, 0), (1, 0, 0, 200, 1), (1, 0, 1, 390, 0)]:
        rows.append({"cr": cr, "cd28": cd28, "crs34": crs34, "os_days": os_d, "os_event": os_e,
                     "lfs_days": os_d, "lfs_event": os_e, "car_peak_pct": 10.0 * (1 + cd28) + os_d / 100})
    return reproducers.Context(pd.DataFrame(rows))


def test_literals(ctx):
    assert ctx.count(("cr",)) == 5
    assert ctx.count(("cr", "~cd28")) == 3
    assert ctx.count(()) == 6


def test_prop_and_count(ctx):
    assert reproducers.prop(("cd28", "crs34"), ("cd28",))(ctx) == {"n": 2, "N": 3, "percent": 200 / 3}
    assert reproducers.count(("crs34",))(ctx) == {"n": 3}


def test_chi2_matches_scipy(ctx):
    got = reproducers.chi2_p(("crs34",), ("cd28",), ("~cd28",))(ctx)["p"]
    want = chi2_contingency(np.array([[2, 1], [1, 2]]), correction=False)[1]
    assert got == pytest.approx(want)


def test_km_landmark_and_half_step(ctx):
    # all 6: events at 30, 100, 200; at t=365 at risk: 400, 380, 390 -> 3
    # S = (5/6)(4/5)(3/4) = 0.5 ; half step = 50 * 0.5 / 3
    out = reproducers.km_at("os", (), 365.0)(ctx)
    assert out["percent"] == pytest.approx(50.0)
    assert out["tolerance"] == pytest.approx(max(1.0, 50 * 0.5 / 3))


def test_median_of(ctx):
    out = reproducers.median_of("os_days", ("cr",))(ctx)
    assert out == {"median": 380.0, "min": 100.0, "max": 400.0}


def test_landmark_days_read_from_the_claims():
    from cart19.reconstruction.targets import km_days
    claims = _claims_frame().set_index("id", drop=False)
    assert km_days(claims, "fig3.os.hsct.1y") == 365.0
    assert km_days(claims, "results.fig6.os.tp53_pos.6m") == pytest.approx(182.625)
    assert km_days(claims, "results.fig3.os.hsct.1y.rep2") == 365.0


def test_chapter_assignment():
    assert reproduce.chapter_of("table1.sex.male") == "04_patients"
    assert reproduce.chapter_of("table3.carpeak.emd.with") == "05_products"
    assert reproduce.chapter_of("table3.cr.emd.with") == "06_day30"
    assert reproduce.chapter_of("table3.crs34.emd.p") == "09_safety"
    assert reproduce.chapter_of("fig6.os.hr") == "07_longterm"
    assert reproduce.chapter_of("table4.sex.p") == "08_transplant"
    assert reproduce.chapter_of("table5.os.hsct") == "10_multivariable"


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 50), st.integers(1, 50))
def test_proportion_exact_iff_counts_equal(n, extra):
    N = n + extra
    pub = _pub(kind="proportion", n=n, N=N, percent=round(100 * n / N, 1))
    raw = _raw(n=n, N=N, percent=f"{round(100 * n / N, 1)}")
    same = pd.Series({"n": n, "N": N, "percent": 100 * n / N})
    other = pd.Series({"n": n + 1, "N": N, "percent": 100 * (n + 1) / N})
    assert scorecard.compare_claim(pub, raw, same)[0] == "exact"
    assert scorecard.compare_claim(pub, raw, other)[0] == "differs"


def test_crs_claims_are_not_taken_for_cr_claims():
    # "results.crs.any" starts with "results.cr": it belongs to the safety chapter
    assert reproduce.chapter_of("results.crs.any") == "09_safety"
    assert reproduce.chapter_of("results.cr_day30") == "06_day30"
    assert reproduce.chapter_of("results.cr.blasts5.p") == "06_day30"


# ------------------------------------------------------------------------------------------
# overrides (readings with effect "drop" in data/published/readings.csv): whole claims and fields
# ------------------------------------------------------------------------------------------
def test_field_overrides_read_from_the_decisions():
    from cart19.reconstruction import targets as T
    field_level = [o for o in T.OVERRIDDEN if ":" in o]
    assert field_level, "the decisions override no single field: nothing to check"
    for o in field_level:
        cid, fld = o.split(":")
        key = basis.overridden_fields(cid)[fld]
        assert any(basis.reading_label(d) == key and o in d.overridden for d in T.DECISIONS)
    assert basis.overridden_fields("table1.sex.male") == {}


def _claims_frame():
    from cart19.record.claims import load_claims
    from cart19.paths import CLAIMS_CSV
    return load_claims(CLAIMS_CSV)


def test_field_level_override_is_not_a_fitted_claim(monkeypatch):
    """A decision that overrides only the maximum of table1.age makes the claim derived, and its
    note names the decision, exactly as a whole-claim override would."""
    from cart19.reconstruction import targets as T
    claims = _claims_frame()
    fake = T.Decision("D99", "test", ("table1.age:max",), "test reading", "test")
    monkeypatch.setattr(T, "DECISIONS", T.DECISIONS + [fake])
    monkeypatch.setattr(T, "OVERRIDDEN", T.OVERRIDDEN | {"table1.age:max"})
    fn = reproducers.median_of("age_years")
    out = basis.honest_basis({"table1.age": (fn, "fitted"), "table1.bm_blasts": (fn, "fitted")},
                                  claims)
    assert out["table1.age"][1] == "derived"
    assert out["table1.bm_blasts"][1] == "fitted"
    note = basis.override_note("table1.age", claims)
    assert "max dropped by reading D99" in note and "median" in note and "min" in note
    assert basis.override_note("table1.bm_blasts", claims) == ""


def test_override_note_reaches_the_scorecard_note():
    pub = _pub(kind="median", median=56.0, min=40.0, max=225.0)
    raw = _raw(median="56", min="40", max="225")
    rep = pd.Series({"median": 56.0, "min": 52.0, "max": 225.0,
                     "override": "min dropped by reading tp53_relapse_minimum (D15) (data/published/readings.csv)"})
    status, _, note = scorecard.compare_claim(pub, raw, rep)
    assert status == "differs" and "D15" in note


@pytest.fixture(scope="module")
def committed_card():
    return scorecard.compute()


def test_no_fitted_claim_differs_because_of_an_override(committed_card):
    from cart19.reconstruction import targets as T
    card = committed_card.set_index("id")
    overridden = {o.split(":")[0] for o in T.OVERRIDDEN} & set(card.index)
    assert overridden
    for cid in overridden:
        row = card.loc[cid]
        assert row["basis"] != "fitted", cid
        if row["status"] != "not reproducible":
            keys = {d.key for d in T.DECISIONS if any(o.split(":")[0] == cid for o in d.overridden)}
            assert any(k in row["note"] for k in keys), (cid, row["note"])


def test_every_chapter_agrees_with_the_scorecard():
    """A chapter's slice (cart19.comparison.chapter.load) gives each of its claims the status and value the
    scorecard page gives it: both read the not-infused patients stored beside the cohort (they
    once differed on the enrolment and bridging claims of chapters 01 and 04)."""
    from cart19.comparison import chapter
    from cart19 import paths

    full = scorecard.compute().set_index("id")
    claims = pd.read_csv(paths.CLAIMS_CSV, dtype=str, keep_default_na=False)
    names = sorted(set(claims["id"].map(reproduce.chapter_of).dropna()))
    assert len(names) >= 10
    for name in names:
        card = chapter.load(name, paths.CLAIMS_CSV, paths.COHORT_CSV).card.set_index("id")
        for col in ("status", "reproduced"):
            mine, theirs = card[col].astype(str), full.loc[card.index, col].astype(str)
            assert mine.equals(theirs), (name, col, mine[mine != theirs].to_dict())
