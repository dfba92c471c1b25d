"""Table 5 held out (issue 16, item 3): Breslow's Cox fit, and the held-out table of the
committed ensemble."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cart19.reconstruction import heldout
from cart19.record.claims import load_claims
from cart19.stats import survival

REF = Path(__file__).parent / "reference"
ROOT = Path(__file__).resolve().parents[1]


def test_breslow_matches_the_textbook():
    """Gehan's leukaemia remission data, treatment only: Breslow coef 1.509 (SE 0.410) in
    Kleinbaum & Klein, Survival Analysis, ch. 3; Efron's is R's 1.572 (tests/reference)."""
    d = pd.read_csv(REF / "leukemia.csv")
    b = heldout.cox_breslow(d, "t", "status", ["Rx"])
    assert b.loc["Rx", "coef"] == pytest.approx(1.509, abs=5e-4)
    assert b.loc["Rx", "se"] == pytest.approx(0.410, abs=5e-4)
    e = survival.cox(d, "t", "status", ["Rx"])
    assert abs(b.loc["Rx", "coef"] - e.loc["Rx", "coef"]) > 0.05   # the data have ties


def test_without_ties_breslow_is_efron():
    d = pd.read_csv(REF / "leukemia.csv")
    d["t"] = d["t"] + np.arange(len(d)) * 1e-3  # every time distinct
    b = heldout.cox_breslow(d, "t", "status", ["Rx", "logWBC"])
    e = survival.cox(d, "t", "status", ["Rx", "logWBC"])
    assert np.allclose(b["coef"], e["coef"], atol=1e-6)
    assert np.allclose(b["ci_upper"], e["ci_upper"], rtol=1e-5)


def test_degenerate_data_raise():
    d = pd.DataFrame({"t": [1.0, 2, 3], "e": [0, 0, 0], "x": [0.0, 1, 0]})
    with pytest.raises(ValueError):
        heldout.cox_breslow(d, "t", "e", ["x"])


def _stats(hrs, printed_ci=(0.5, 2.0)):
    rows = [{"stat": "table5.os.tp53", "family": "table5", "hr": h, "hr_breslow": h * 1.1,
             "ci_low": h * printed_ci[0], "ci_high": h * printed_ci[1], "cohort": i}
            for i, h in enumerate(hrs)]
    return pd.DataFrame(rows)


def test_heldout_table_arithmetic():
    claims = pd.DataFrame({"hr": [2.0]}, index=["table5.os.tp53"])
    hrs = 2.0 * np.exp(np.linspace(-1, 1, 101))
    t = heldout.heldout_table(_stats(hrs), claims)
    r = t.iloc[0]
    assert r["dlog_efron"] == pytest.approx(0.0, abs=1e-12)
    assert r["dlog_low_efron"] == pytest.approx(-0.95) and r["dlog_high_efron"] == pytest.approx(0.95)
    assert r["dlog_breslow"] == pytest.approx(np.log(1.1))
    assert r["abs_dlog_efron"] == pytest.approx(0.5)
    # the printed 2.0 is inside [0.5 h, 2 h] for h in [1, 4]: ln(h/2) within +-ln 2
    assert r["covered"] == pytest.approx(np.mean(np.abs(np.log(hrs / 2)) <= np.log(2) + 1e-12))
    v = heldout.verdict(t)
    assert v["inside_efron"] == 1 and v["same_direction"] == 1
    assert v["max_tie_gap"] == pytest.approx(np.log(1.1))
    far = heldout.heldout_table(_stats(hrs * 20), claims)
    assert heldout.verdict(far)["inside_efron"] == 0


def test_committed_ensemble_has_both_tie_rules():
    stats = pd.read_csv(ROOT / "data" / "ensemble" / "ensemble_stats.csv")
    t5 = stats[stats["family"] == "table5"]
    assert t5["cohort"].nunique() >= 100
    assert t5["hr"].notna().all() and t5["hr_breslow"].notna().all()
    # ties move every HR a little, never the direction of a clear effect
    assert (np.abs(np.log(t5["hr_breslow"] / t5["hr"])) < 0.25).all()
    t = heldout.heldout_table(stats, load_claims(ROOT / "data" / "published" / "claims.csv"))
    assert len(t) == 12 and (t["n_cohorts"] >= 100).all()
    assert np.all(t["dlog_low_efron"] <= t["dlog_efron"]) and np.all(t["dlog_efron"] <= t["dlog_high_efron"])
