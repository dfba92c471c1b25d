"""Tests for cart19.presentation.tables: the published-vs-reproduced tables every chapter shows."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.presentation import tables


def _card() -> pd.DataFrame:
    return pd.DataFrame([
        {"id": "fig3.os.p", "chapter": "07_longterm", "quantity": "P, OS", "printed": "P < .0001",
         "field": "p", "published": 0.0001, "reproduced": 2.25e-10, "difference": -0.0001,
         "status": "exact", "basis": "emergent", "note": "same conclusion"},
        {"id": "fig3.hsct.n", "chapter": "07_longterm", "quantity": "n HSCT", "printed": "75",
         "field": "n", "published": 75.0, "reproduced": np.nan, "difference": None,
         "status": "not reproduced", "basis": "fitted", "note": ""},
        {"id": "table1.age", "chapter": "04_patients", "quantity": "age", "printed": "12",
         "field": "median", "published": 12.0, "reproduced": 12.0, "difference": 0.0,
         "status": "exact", "basis": "fitted", "note": ""},
    ])


def test_comparison_shows_published_reproduced_difference_and_basis_first():
    out = tables.comparison(_card(), chapter="07_longterm")
    assert list(out["id"]) == ["fig3.os.p", "fig3.hsct.n"]
    cols = list(out.columns)
    # the comparison comes before the wording, so it is on screen even when a table scrolls
    assert cols[:7] == ["id", "quantity", "published", "reproduced", "difference", "status", "basis"]
    assert cols.index("printed") > cols.index("basis")
    assert out.loc[0, "reproduced"] == "2.25e-10" and out.loc[0, "published"] == "0.0001"
    assert out.loc[1, "reproduced"] == "" and out.loc[1, "difference"] == ""  # missing: blank


def test_comparison_by_prefix_and_show_hides_the_index():
    out = tables.comparison(_card(), prefix="table1.")
    assert list(out["id"]) == ["table1.age"]
    html = tables.show(out).to_html()
    assert "<table" in html and ">table1.age<" in html
    assert "row_heading" not in html  # no row index column
