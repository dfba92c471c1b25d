"""The verdict page (cart19.presentation.verdicts, notebooks/00_verdict.md): each conclusion of the
paper matched to the ensemble statistic that tests it, and a plain verdict that never counts a
fitted statistic as support."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart19.comparison.conclusions import CONCLUSIONS
from cart19.presentation import verdicts as V

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind,pop,a,b,want", [
    ("os", ("cr",), ("hsct",), ("~hsct",), "fig3.os"),     # design: hsct vs cr & ~hsct
    ("lfs", ("cr",), ("~hsct",), ("hsct",), "fig3.lfs"),   # arms in the other order
    ("os", ("cr",), ("tp53",), ("~tp53",), "fig6.os"),
    ("os", ("cr",), ("prior_hsct",), ("~prior_hsct",), "fig7.os"),
    ("rate", ("cr",), ("~bl_gt20",), ("bl_gt20",), "table3.cr.blasts20"),
    ("crs34", (), ("cd28",), ("~cd28",), "table3.crs34.costim"),
    ("neuro23", (), ("~cd28",), ("cd28",), "table3.neuro23.costim"),
    ("rate", ("cr",), ("cns",), ("~cns",), "rate.cns_cr"),  # a rate printed in the text
    ("rate", ("cr",), ("~cns",), ("cns",), "rate.cns_cr"),
    # no comparison of design.yml: the ensemble's own statistic of a statement in words
    ("os", ("cr",), ("bcr_abl",), ("~bcr_abl",), "stated.os.bcr_abl"),
    ("lfs", ("cr",), ("child",), ("~child",), "stated.lfs.child"),
])
def test_ensemble_stat_is_found_from_the_design(kind, pop, a, b, want):
    assert V.ensemble_stat_for(kind, pop, a, b) == want


def _summary(stat: str, verdict: str, frac: float) -> pd.DataFrame:
    return pd.DataFrame([{"stat": stat, "verdict": verdict, "frac_holds": frac,
                          "fixed": verdict == "fixed by the fit"}])


def _cohort():
    from cart19.cohort.schema import load_cohort
    return load_cohort(ROOT / "data" / "cohort" / "cohort.csv")


def test_plain_verdicts_follow_the_ensemble_and_never_count_the_fit():
    cohort = _cohort()
    base = V.verdicts(cohort, pd.DataFrame(columns=["stat", "verdict", "frac_holds", "fixed"]))
    # with no ensemble, every conclusion is judged on this reconstruction alone
    assert set(base["verdict"]) <= {V.PLAIN["single_yes"], V.PLAIN["single_no"]}
    assert (base["verdict"] == V.PLAIN["single_yes"]).sum() == base["agrees"].sum()

    hsct = next(i for i, c in enumerate(CONCLUSIONS) if c[2] == "os" and c[4] == ("hsct",))
    for verdict, frac, want in [("holds in >=95% of cohorts", 0.99, "supported"),
                                ("holds in some cohorts", 0.5, "undecided"),
                                ("holds in <5% of cohorts", 0.01, "contradicted"),
                                ("fixed by the fit", 1.0, "fixed")]:
        v = V.verdicts(cohort, _summary("fig3.os", verdict, frac))
        row = v.iloc[hsct]
        expected = V.PLAIN[want] if want != "supported" or row["agrees"] else \
            V.PLAIN["supported_ensemble"]
        assert row["verdict"] == expected, (verdict, row["verdict"])
        if want == "fixed":
            assert np.isnan(row["frac_holds"])  # a fixed statistic shows no share
        else:
            assert row["frac_holds"] == frac


def test_counts_add_up():
    from cart19.comparison.ensemble import ensemble_summary
    from cart19.record.claims import load_claims

    stats = pd.read_csv(ROOT / "data" / "ensemble" / "ensemble_stats.csv")
    summary = ensemble_summary(stats, load_claims(ROOT / "data" / "published" / "claims.csv"))
    v = V.verdicts(_cohort(), summary)
    c = V.verdict_counts(v)
    assert c["n_conclusions"] == len(CONCLUSIONS) == len(v)
    assert sum(c[f"n_{k}"] for k in V.PLAIN) == c["n_conclusions"]
    # every conclusion the ensemble marks as fixed is a rate (counts are fitted), none a survival one
    fixed = v[v["verdict"] == V.PLAIN["fixed"]]
    assert all(str(s).startswith(("table3.", "rate.")) for s in fixed["ensemble_stat"])
    # every conclusion is answered across the ensemble (issue 15: 9 of 19 were not)
    assert c["n_single"] == 0 and c["n_tested_ensemble"] == len(v)
    assert set(v["ensemble_stat"]) <= set(summary["stat"])
    assert c["n_stated"] == (summary["family"] == "stated").sum() > 0
    # the committed verdict page shows these very counts (it is regenerated with the data)
    nb = ROOT / "book" / "00_verdict.ipynb"
    glued = {}
    for cell in json.loads(nb.read_text())["cells"]:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook", {})
            text = out.get("data", {}).get(meta.get("mime_prefix", "") + "text/plain")
            if meta.get("name") and text is not None:
                glued[meta["name"]] = text
    for key in ("n_conclusions", "n_agree", "n_supported", "n_fixed", "n_undecided", "n_single"):
        assert glued[key] == str(c[key]), key
