"""The book's tables: journal formats (cart19.presentation.journal), the paper's Tables 1-5 and the
claim-by-claim comparisons (cart19.presentation.tables)."""
from __future__ import annotations

import base64
import html as htmllib
import io
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cart19.presentation import journal as J
from cart19.presentation import paper_tables, tables
from cart19.paths import CLAIMS_CSV, COHORT_CSV


# ------------------------------------------------------------------------------ number formats
@pytest.mark.parametrize("p, cmp, decimals, text", [
    (0.021, "=", 3, ".021"), (0.0004, "=", 3, "< .001"), (2e-10, "=", 3, "< .0001"),
    (0.0001, "<", 3, "< .0001"), (0.001, "<", 3, "< .001"), (1.0, "=", 3, "1"),
    (0.9996, "=", 3, "1"), (0.473, "=", 2, ".47"), (0.01, "=", 3, ".010"), (None, "=", 3, ""),
])
def test_fmt_p_as_journals_print_it(p, cmp, decimals, text):
    assert J.fmt_p(p, cmp, decimals=decimals) == text


def test_counts_and_signed_differences():
    assert J.fmt_count(66, 71) == "66/71 (93.0)"
    assert J.fmt_count(66, 71, 92.9) == "66/71 (92.9)"  # a printed percentage is kept
    assert J.fmt_count(12) == "12"
    assert J.fmt_signed(0.81, "pp", decimals=1) == "+0.8 pp"
    assert J.fmt_signed(-3, decimals=0) == "\u22123"
    assert J.fmt_signed(0.0, "pp", decimals=1) == "0.0 pp"  # no sign on zero
    assert J.fmt_num(-0.5, 1) == "\u22120.5"
    assert J.fmt_num(7.175e-07, sig=3) == "0.000000718"  # never scientific notation


def test_table_scopes_great_tables_css_and_offers_its_csv():
    frame = pd.DataFrame({"a": ["x &lt; 1"], "b": ["2"]})
    t = J.table(frame, "My table", data=pd.DataFrame({"a": ["x < 1"], "b": [2]}))
    markup = t._repr_html_()
    css = markup[markup.index("<style>"):markup.index("</style>")]
    for line in css.splitlines():
        selector = line.split("{")[0].strip()
        if "{" in line and selector:
            # every rule belongs to this table: great_tables 1.1 leaves two rules unscoped
            assert all(s.strip().startswith("#cart19-my-table") for s in selector.split(",")), line
    link = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="my-table.csv"',
                     markup)
    assert link, "no CSV download link"
    csv = pd.read_csv(io.StringIO(base64.b64decode(link.group(1)).decode()))
    assert csv.to_dict("list") == {"a": ["x < 1"], "b": [2]}
    assert "x &lt; 1" in markup


# ------------------------------------------------------------------------------- comparisons
def _card() -> pd.DataFrame:
    return pd.DataFrame([
        {"id": "fig3.os.p", "source": "fig3", "kind": "p", "chapter": "07_longterm",
         "quantity": "P, OS", "printed": "P < .0001", "field": "p", "published": 0.0001,
         "reproduced": 2.25e-10, "difference": -0.0001, "status": "exact", "basis": "emergent",
         "note": "same conclusion"},
        {"id": "fig3.hsct.n", "source": "fig3", "kind": "count", "chapter": "07_longterm",
         "quantity": "n HSCT", "printed": "75", "field": "n", "published": 75.0,
         "reproduced": np.nan, "difference": None, "status": "not reproducible",
         "basis": "fitted", "note": ""},
        {"id": "fig3.os.hsct.1y", "source": "fig3", "kind": "km_landmark",
         "chapter": "07_longterm", "quantity": "1-year OS", "printed": "79.1%",
         "field": "percent", "published": 79.1, "reproduced": 81.0, "difference": 1.9,
         "status": "within tolerance", "basis": "fitted", "note": "tolerance 3.68 pp"},
        {"id": "fig3.os.hr", "source": "fig3", "kind": "hr", "chapter": "07_longterm",
         "quantity": "HR, OS", "printed": "0.048", "field": "hr", "published": 0.048,
         "reproduced": 0.125, "difference": 0.077, "status": "differs", "basis": "emergent",
         "note": ""},
        {"id": "table1.age", "source": "table1", "kind": "median", "chapter": "04_patients",
         "quantity": "age", "printed": "12", "field": "median", "published": 12.0,
         "reproduced": 12.0, "difference": 0.0, "status": "exact", "basis": "fitted", "note": ""},
    ])


def test_comparison_keeps_numbers_and_extra_columns():
    card = _card().assign(fixed_by_fit=[True, False, True, False, True])  # a column added later
    out = tables.comparison(card, chapter="07_longterm")
    assert list(out["id"]) == ["fig3.os.p", "fig3.hsct.n", "fig3.os.hsct.1y", "fig3.os.hr"]
    assert list(out.columns[:7]) == ["id", "quantity", "published", "reproduced", "difference",
                                     "status", "basis"]
    assert "fixed_by_fit" in out.columns  # consumers tolerate new scorecard columns
    assert out.loc[0, "reproduced"] == 2.25e-10 and np.isnan(out.loc[1, "reproduced"])
    assert list(tables.comparison(card, exclude=["fig3.os"])["id"]) == ["fig3.hsct.n",
                                                                         "table1.age"]


def test_comparison_table_reads_like_a_journal():
    t = tables.show(tables.comparison(_card(), chapter="07_longterm"))
    markup = t._repr_html_()
    body = markup[markup.index("</style>"):].replace("<wbr>", "")
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", body))
    assert "Figure 3 caption" in text  # rows grouped by the part of the paper
    assert "< .0001" in text  # printed bound kept; reproduced P below it
    assert "+1.9\u00a0pp" in text  # a difference carries its sign and unit
    assert "\u00d72.6" in text  # hazard ratios compared as a ratio (log scale)
    assert 'class="cart19-differs"' in markup  # the differing value is marked
    assert "fig3.os.hr" in text  # the claim id, in the last small column
    assert t.name == "numbers-fig3"  # distinct names for distinct tables of a page
    assert "..." not in text and "rows \u00d7" not in text


# ------------------------------------------------------------------------- the paper's tables
@pytest.fixture(scope="module")
def paper():
    """The published record, reproduced from the committed cohort, as a chapter sees it."""
    from cart19.comparison import scorecard

    card = scorecard.compute(CLAIMS_CSV, COHORT_CSV)
    from cart19.cohort.schema import load_cohort
    from cart19.cohort.validate import not_infused_beside
    from cart19.comparison.reproduce import reproduce_all
    from cart19.record.claims import load_claims

    claims = load_claims(CLAIMS_CSV)
    reproduced = reproduce_all(load_cohort(COHORT_CSV), claims, not_infused_beside(COHORT_CSV))
    return SimpleNamespace(published=claims, reproduced=reproduced, card=card)


def _cells(t: J.JournalTable) -> str:
    markup = t._repr_html_()
    return markup[markup.index("</style>"):]


@pytest.mark.parametrize("k, rows", [(1, 34), (2, 11), (3, 60), (4, 86), (5, 12)])
def test_each_paper_table_is_whole_with_every_claim(paper, k, rows):
    t = getattr(paper_tables, f"paper_table{k}")(paper)
    assert len(t.data) == rows
    ids = [i for i in paper.published["id"] if i.startswith(f"table{k}.")
           and not re.search(r"\.(n|footnote\.\w+|cycles)$", i)]
    body = _cells(t)
    missing = [i for i in ids if f"claim {i}" not in body]  # each reproduced cell names its claim
    assert not missing, f"Table {k} lacks {missing}"
    # published cells are the printed text
    printed = paper.published.set_index("id")["printed"]
    for cid in ids[:5]:
        first = str(printed[cid]).split("|")[0].strip()
        assert htmllib.escape(first, quote=False) in body, (cid, first)


def test_table3_keeps_the_papers_layout(paper):
    t = paper_tables.paper_table3(paper)
    data = t.data
    assert list(data.columns[:4]) == ["Subgroup", "Source", "CR rate: n/N (%)", "CR rate: P"]
    assert data["Subgroup"].tolist()[:6] == ["Age, y"] * 2 + ["2-14"] * 2 + ["15-61"] * 2
    assert set(data["Source"]) == {"Published", "Reproduced"}
    assert data.loc[0, "CR rate: P"] == "1" and data.loc[2, "CR rate: n/N (%)"] == "66/71 (92.9)"


def test_reproduced_p_printed_at_the_papers_precision(paper):
    body = _cells(paper_tables.paper_table4(paper))
    # Table 4 prints "Sex ... .47": the reproduced P has two decimals too
    assert re.search(r"claim table4\.sex\.p[^>]*>(<span[^>]*>)?\.\d\d<", body), body[:2000]


def test_interactive_scorecard_loads_nothing_remote():
    from cart19.presentation import interactive

    t = interactive.interactive_scorecard(_card(), {"07_longterm": "Long-term efficacy"})
    markup = t._repr_html_()
    imports = re.findall(r"""(?:import[^'"]*from|href=|src=)\s*['"]([^'"]+)['"]""", markup)
    remote = [u for u in imports if u.startswith(("http:", "https:", "//"))
              and not u.startswith("https://itables.org")]  # itables' help links are <a>, not loads
    assert not remote, remote
    assert interactive.DT_URL in markup and interactive.DT_URL[:-3] + ".css" in markup
    assert '<a href="07_longterm.html">Long-term efficacy</a>' in markup
    assert "Differences only" in markup and "searchPanes" in markup
    frame = interactive.scorecard_frame(_card())
    assert list(frame.columns) == list(interactive.COLUMNS.values())
    assert frame.loc[2, "Difference"] == "+1.9 pp" and frame.loc[0, "Paper"] == "&lt; .0001"  # cells are HTML
