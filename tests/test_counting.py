"""Honest status semantics and headline counts (cart19.comparison.counting, scorecard statuses)."""
from __future__ import annotations

import pandas as pd
import pytest

from cart19 import paths
from cart19.cohort.schema import load_cohort
from cart19.comparison import counting, scorecard
from cart19.record import design


@pytest.fixture(scope="module")
def card() -> pd.DataFrame:
    return scorecard.compute()


def test_a_number_printed_three_times_is_one_quantity(card):
    q = counting.quantities(card).set_index("quantity_key")
    fig3_os = card.set_index("id").loc["fig3.os.p", "quantity_key"]
    assert set(q.loc[fig3_os, "claims"].split(";")) == {"fig3.os.p", "results.fig3.os.p",
                                                        "abstract.os.p"}
    # each distinct "P < .0001" comparison once: Figure 3 OS, Figure 3 LFS, Figure 6 OS
    below = card[(card["printed"].str.contains("< .0001", regex=False)) & (card["kind"] == "p")]
    assert len(below) == 8 and below["quantity_key"].nunique() == 3


def test_headline_counts_distinct_quantities(card):
    h = counting.headline(card)
    q = counting.quantities(card)
    assert h["n_quantities"] == len(q) < h["n_claims"] - h["n_notrep"]
    assert h["n_repro"] + h["n_chosen"] + h["n_differs"] == h["n_quantities"]
    assert h["n_emergent_ok"] <= h["n_emergent"] == int((q["basis"] == "emergent").sum())


def test_worst_printing_counts_unless_a_reading_drops_it():
    c = pd.DataFrame({
        "id": ["a", "b", "c", "d"], "quantity_key": ["k", "k", "m", "m"],
        "status": ["exact", "differs", "exact", "differs"], "basis": ["fitted", "derived"] * 2,
        "note": ["", "", "", "dropped by reading x (D12) (data/published/readings.csv)"]})
    q = counting.quantities(c).set_index("quantity_key")
    assert q.loc["k", "status"] == "differs" and q.loc["k", "basis"] == "fitted"
    assert q.loc["m", "status"] == "exact"


def test_fixed_statistics_are_not_emergent(card):
    c = card.set_index("id")
    # Student's t of fitted means and SEs; a count fixed as 16 - 2; the continuous stage's count
    assert (c.loc[c.index.str.match(r"^(table3|results)\.carpeak\.\w+\.p$"), "basis"] == "derived").all()
    assert c.loc["methods.pbmc.post_hsct.autologous", "basis"] == "derived"
    assert c.loc["discussion.hsct.trm", "basis"] == "derived"
    assert c.loc["results.cns.no_bm_blasts", "basis"] == "fitted"


def test_p_matched_only_by_a_chosen_test_is_not_plainly_exact(card):
    c = card.set_index("id")
    chosen = c[c["status"] == "exact, test chosen per row"]
    assert len(chosen) and chosen.index.str.match(r"^table[34]\.").all()
    assert chosen["note"].str.contains("chosen per row (Pearson's chi-square gives", regex=False).all()
    # Table 3's sex P: Fisher gives the printed .052, Pearson .026 would change the conclusion
    assert "a different conclusion at P<.05" in c.loc["table3.cr.sex.p", "note"]


def test_ensemble_counts_leave_out_what_the_fit_fixes():
    s = pd.DataFrame({"fixed": [True, True, False, False, False],
                      "verdict": ["fixed by the fit"] * 2 + ["holds in >=95% of cohorts",
                                                             "holds in some cohorts",
                                                             "holds in >=95% of cohorts"]})
    v = counting.ensemble_verdicts(s)
    assert (v["n_stats"], v["n_fixed"], v["n_free"], v["n_hold"], v["n_some"]) == (5, 2, 3, 2, 1)


def test_implications_hold_in_the_committed_cohort():
    """Every implication of design.yml holds for every patient (they mirror the integer
    program's hard logic; a set a fitted count fixes is computed with them)."""
    d = design.load()
    a = d.attribute_frame(load_cohort(paths.COHORT_CSV))
    for x, implied in d.implications.items():
        for y in implied:
            assert ((a[x] == 0) | (a[y] == 1)).all(), f"{x} does not imply {y}"


def test_the_committed_pages_show_the_distinct_quantity_headline(card):
    """Chapter 12 (and through it the front page) glues counting.headline of the scorecard."""
    import json
    nb = json.loads((paths.ROOT / "book" / "12_scorecard.ipynb").read_text(encoding="utf-8"))
    glued = {}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            name = (o.get("metadata", {}).get("scrapbook", {}) or {}).get("name")
            text = o.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                glued[name] = "".join(text) if isinstance(text, list) else text
    h = counting.headline(card)
    assert {k: int(glued[k]) for k in h} == h
    intro = (paths.ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    for key in ("n_quantities", "n_chosen", "n_emergent", "n_emergent_ok"):
        assert f"12_scorecard.ipynb::{key}" in intro
