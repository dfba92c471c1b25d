"""Tests for cart19.comparison.context (numbers from claims.csv by id; a toy claims table here)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from cart19.comparison.context import COMPARISONS, LITERATURE, context_figure, context_table


def toy_claims(drop: str | None = None) -> pd.DataFrame:
    ids = sorted({t for _, t, _, _ in COMPARISONS} | set(LITERATURE))
    rows = []
    for i, cid in enumerate(ids):
        if cid == drop:
            continue
        if cid in ("intro.lit.cr_rate", "intro.lit.relapse", "discussion.lit.relapse",
                   "discussion.lit.crs34"):
            rows.append({"id": cid, "kind": "range", "min": 10.0 + i, "max": 60.0 + i,
                         "printed": "x", "quantity": cid})
        elif cid.startswith("discussion.lit.park"):
            rows.append({"id": cid, "kind": "proportion", "n": 6, "N": 16, "printed": "6",
                         "quantity": cid})
        else:
            rows.append({"id": cid, "kind": "proportion", "n": 3 + i, "N": 50,
                         "percent": 100 * (3 + i) / 50, "printed": "x", "quantity": cid})
    return pd.DataFrame(rows)


def test_numbers_come_from_the_claims():
    claims = toy_claims()
    t = context_table(claims)
    assert len(t) == len(COMPARISONS) and (t["status"] == "ok").all()
    c = claims.set_index("id")
    for r in t.itertuples():
        assert r.trial_n == c.loc[r.trial_id, "n"]
        if c.loc[r.lit_id, "kind"] == "range":
            assert (r.lit_low, r.lit_high) == (c.loc[r.lit_id, "min"], c.loc[r.lit_id, "max"])
        assert r.trial_ci_low <= r.trial_pct <= r.trial_ci_high
    park = t[t["lit_id"] == "discussion.lit.park.relapse"].iloc[0]
    assert np.isclose(park["lit_low"], 37.5) and park["lit_how"] == "derived from printed n/N"


def test_changing_a_claim_changes_the_table():
    claims = toy_claims()
    a = context_table(claims)
    claims.loc[claims["id"] == "intro.lit.cr_rate", "max"] = 99.0
    b = context_table(claims)
    assert b.loc[b["lit_id"] == "intro.lit.cr_rate", "lit_high"].iloc[0] == 99.0
    assert a.loc[a["lit_id"] == "intro.lit.cr_rate", "lit_high"].iloc[0] != 99.0


def test_missing_id_is_reported_not_invented():
    t = context_table(toy_claims(drop="discussion.lit.crs34"))
    r = t[t["lit_id"] == "discussion.lit.crs34"].iloc[0]
    assert "missing claim id: discussion.lit.crs34" in r["status"] and np.isnan(r["lit_low"])
    fig = context_figure(t)
    assert len(fig.axes[0].get_yticklabels()) == len(COMPARISONS)


def test_every_cited_number_carries_section_and_reference():
    t = context_table(toy_claims())
    assert t["section"].isin(["Introduction", "Discussion"]).all()
    assert t["refs"].str.match(r"^\d").all()


def test_caveat_numbers_are_filled_from_claims():
    from cart19.comparison.context import _fill
    c = pd.DataFrame({"median": [233.5]}, index=["results.followup"])
    assert _fill("median {results.followup:median} days", c) == "median 233.5 days"
    assert "missing claim" in _fill("{results.nothing:n}", c)
