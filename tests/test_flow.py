"""Tests for cart19.presentation.flow (patient-flow counts and CONSORT-style diagram).

This file also holds ``synthetic_cohort``: a small generator of a cohort with the
columns of data/cohort/cohort.csv and plausible internal logic (only CR patients
go to HSCT, relapse/death days inside follow-up ...). It is test scaffolding
only: nothing in lib/ or notebooks/ uses it. The other analysis test files
import it from here.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from cart19.presentation.flow import flow_counts, flow_figure


def synthetic_cohort(seed: int = 0, n: int = 110, hsct_at_zero: bool = False) -> pd.DataFrame:
    """A random cohort with the cohort.csv columns (test data, NOT the trial)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(2, 62, n)
    blasts = np.round(rng.choice([0.0, 2.0, 10.0, 40.0, 80.0], n), 1)
    emd = rng.random(n) < 0.2
    cns = emd & (rng.random(n) < 0.7)
    tp53 = rng.random(n) < 0.11
    prior = rng.random(n) < 0.15
    costim = np.where(rng.random(n) < 0.2, "CD28", "4-1BB")
    dose = np.round(rng.uniform(0.2, 10, n), 1)
    p_cr = 0.97 - 0.1 * (blasts > 20) - 0.1 * cns
    cr = rng.random(n) < p_cr
    response = np.where(cr, np.where(rng.random(n) < 0.6, "CRi", "CR"), "NR")
    mrd_neg = cr & (rng.random(n) < 0.94)
    fu = rng.integers(27, 479, n).astype(float)
    hsct = cr & ~prior & (rng.random(n) < 0.8)
    hsct_day = np.where(hsct, 0.0 if hsct_at_zero else rng.integers(36, 121, n), np.nan)
    # hazard: worse without HSCT and with TP53
    rate = 1 / 300 * (1 + 3 * tp53) * np.where(hsct, 0.4, 1.5)
    t_rel = rng.exponential(1 / rate)
    relapse = cr & (t_rel < fu) & (t_rel > 20)
    relapse_day = np.where(relapse, np.round(t_rel), np.nan)
    t_death = np.where(~cr, rng.uniform(25, 200, n),
                       np.where(relapse, relapse_day + rng.exponential(120, n),
                                rng.exponential(2000, n) + 30))
    death = t_death < fu
    death_day = np.where(death, np.round(t_death), np.nan)
    # an HSCT has to happen while the patient is alive and in remission
    bad = hsct & (((relapse_day <= hsct_day) & relapse) | ((death_day <= hsct_day) & death)
                  | (hsct_day >= fu))
    hsct = hsct & ~bad
    hsct_day = np.where(hsct, hsct_day, np.nan)
    os_days = np.where(death, death_day, fu)
    lfs_end = np.fmin(np.where(relapse, relapse_day, np.inf), np.where(death, death_day, np.inf))
    lfs_event = cr & np.isfinite(lfs_end)
    lfs_days = np.where(cr, np.where(lfs_event, lfs_end, fu), np.nan)
    return pd.DataFrame({
        "patient_id": [f"P{i + 1:03d}" for i in range(n)],
        "sex": np.where(rng.random(n) < 0.62, "M", "F"),
        "age_years": age,
        "bm_blasts_pct": blasts,
        "emd": emd.astype(int),
        "cns_leukemia": cns.astype(int),
        "cns_status": np.where(cns, "CNS-2", "CNS-1"),
        "testicular": (emd & ~cns).astype(int),
        "complex_karyotype": (rng.random(n) < 0.5).astype(int),
        "bcr_abl": (rng.random(n) < 0.13).astype(int),
        "tel_aml1": 0, "e2a_pbx1": 0, "e2a_hlf": 0,
        "ikzf1": (rng.random(n) < 0.1).astype(int),
        "tp53": tp53.astype(int),
        "disease_status": np.where(rng.random(n) < 0.13, "refractory", "relapsed"),
        "prior_hsct": prior.astype(int),
        "costim": costim,
        "dose_per_kg": dose * 1e5,
        "car_peak_pct": np.round(rng.uniform(0.1, 90, n), 1),
        "infusion_date": pd.Timestamp("2017-04-01") + pd.to_timedelta(rng.integers(0, 395, n), "D"),
        "response": response,
        "mrd_negative": mrd_neg.astype(int),
        "crs_grade": rng.choice([0, 1, 2, 3, 4], n, p=[0.08, 0.4, 0.36, 0.13, 0.03]),
        "neurotox_grade": rng.choice([0, 1, 2, 3], n, p=[0.79, 0.07, 0.08, 0.06]),
        "hsct_after": hsct.astype(int),
        "hsct_day": hsct_day,
        "relapse": relapse.astype(int),
        "relapse_day": relapse_day,
        "relapse_cd19": np.where(relapse, np.where(rng.random(n) < 0.7, "CD19+", "CD19-"), ""),
        "death": death.astype(int),
        "death_day": death_day,
        "death_cause": np.where(death, np.where(relapse, "relapse", "infection"), ""),
        "followup_day": os_days,
        "os_days": os_days,
        "os_event": death.astype(int),
        "lfs_days": lfs_days,
        "lfs_event": np.where(cr, lfs_event.astype(float), np.nan),
    })


def synthetic_not_infused(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": [f"X{i + 1}" for i in range(n)],
                         "reason": ["manufacturing failure"] * n})


def test_counts_add_up():
    c = synthetic_cohort(1)
    f = flow_counts(c, synthetic_not_infused()).set_index("node")["n"]
    assert f["enrolled"] == 115 and f["not_infused"] == 5 and f["infused"] == 110
    assert f["cr"] + f["nr"] == f["infused"]
    assert f["cr"] == (c["response"] != "NR").sum()
    assert f["cr_only"] + f["cri"] == f["cr"]
    assert f["mrd_neg"] + f["mrd_pos"] == f["cr"]
    assert f["hsct"] + f["no_hsct"] == f["cr"]
    assert f["hsct.relapse"] == ((c["hsct_after"] == 1) & (c["relapse"] == 1)).sum()
    assert f["no_hsct.death"] == ((c["hsct_after"] == 0) & (c["response"] != "NR")
                                  & (c["death"] == 1)).sum()
    assert f["nr.death"] == ((c["response"] == "NR") & (c["death"] == 1)).sum()


def test_counts_follow_the_data():
    c = synthetic_cohort(2)
    before = flow_counts(c, synthetic_not_infused()).set_index("node")["n"]
    c.loc[c.index[:3], "response"] = "NR"
    after = flow_counts(c, synthetic_not_infused()).set_index("node")["n"]
    assert after["nr"] >= before["nr"] and after["infused"] == before["infused"]


def test_counts_reject_bad_response():
    c = synthetic_cohort(3)
    c.loc[4, "response"] = "PR"
    with pytest.raises(ValueError, match="response"):
        flow_counts(c, synthetic_not_infused())


def test_figure_has_a_box_per_node():
    counts = flow_counts(synthetic_cohort(4), synthetic_not_infused())
    fig = flow_figure(counts)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("Enrolled" in t and "115" in t for t in texts)
    assert len(fig.axes[0].patches) >= 8  # boxes (arrows are annotations)
    # deterministic: same counts -> same text layout
    fig2 = flow_figure(counts)
    assert [t.get_position() for t in fig.axes[0].texts] == \
        [t.get_position() for t in fig2.axes[0].texts]


def test_flow_vs_published_reads_claims():
    from cart19.presentation.flow import FLOW_CLAIMS, flow_vs_published
    counts = flow_counts(synthetic_cohort(9), synthetic_not_infused())
    claims = pd.DataFrame({"id": list(FLOW_CLAIMS.values()), "n": range(len(FLOW_CLAIMS)),
                           "printed": "x"})
    out = flow_vs_published(counts, claims).set_index("node")
    n = counts.set_index("node")["n"]
    for i, node in enumerate(FLOW_CLAIMS):
        assert out.loc[node, "published_n"] == i
        assert out.loc[node, "difference"] == n[node] - i
    missing = flow_vs_published(counts, claims.iloc[1:])
    assert missing["published_n"].isna().sum() == 1
