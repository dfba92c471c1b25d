"""The general reconstruction engine and the validation command (simulated cohorts; the public
trials are the benchmark's, see bench/bench_validation.py)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from cart19.errors import InputError
from cart19.reconstruction import general_milp
from cart19.reconstruction.general_pipeline import reconstruct
from cart19.reconstruction.general_study import load_study, study_from_dict
from cart19.reconstruction.general_targets import count_targets
from cart19.reconstruction.targets import where_mask
from cart19.validation import aggregates, compare, datasets
from cart19.validation.columns import patient_table
from cart19.validation.measures import statistics, status

MAP = {"study": "synthetic",
       "attributes": {"arm": {"column": "arm"}, "g1": {"column": "g1"},
                      "g2": {"column": "x", "above": 0.5}, "resp": {"column": "resp"}},
       "endpoints": [{"name": "os", "time": "time", "event": "dead"}],
       "arm": {"a": ["arm"]}, "figures": [{"name": "g1", "a": ["g1"]}], "response": "resp",
       "landmark": 365, "at_risk_every": 180}


def synth(n: int = 90, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    arm = r.random(n) < 0.5
    g1 = r.random(n) < 0.4
    x = r.random(n) + 0.3 * g1
    t = r.exponential(500 * np.exp(0.6 * arm - 0.9 * g1 - 0.4 * (x > 0.5)))
    c = r.uniform(150, 900, n)
    return pd.DataFrame({"arm": arm.astype(int), "g1": g1.astype(int), "x": x,
                         "resp": (r.random(n) < 0.6).astype(int),
                         "time": np.round(np.minimum(t, c)), "dead": (t <= c).astype(int)})


@pytest.fixture(scope="module")
def study():
    return study_from_dict(MAP)


@pytest.fixture(scope="module")
def table(study):
    return patient_table(synth(), study)


# ---- maps and columns: bad input names the column and the rule -------------------------------
@pytest.mark.parametrize("edit, column, rule", [
    (lambda d, m: d.drop(columns="g1"), "g1", "not in the data"),
    (lambda d, m: d.assign(g1=np.arange(len(d)) % 3), "g1", "must be binary"),
    (lambda d, m: d.assign(dead=0), "dead", "no events"),
    (lambda d, m: m["attributes"].update(extra={"column": "absent"}), "absent", "not in the data"),
    (lambda d, m: d.assign(arm=1), "arm", "constant"),
    (lambda d, m: d.assign(time=-1.0), "time", "times must be numbers >= 0"),
    (lambda d, m: d.assign(dead=np.arange(len(d)) % 3), "dead", "event column must be binary"),
])
def test_bad_input_names_column_and_rule(edit, column, rule):
    raw, m = synth(), yaml.safe_load(yaml.safe_dump(MAP))
    out = edit(raw, m)
    raw = out if isinstance(out, pd.DataFrame) else raw
    with pytest.raises(InputError) as exc:
        patient_table(raw, study_from_dict(m), "t.csv")
    assert exc.value.column == column and rule in str(exc.value)


def test_map_errors():
    bad = yaml.safe_load(yaml.safe_dump(MAP))
    bad["figures"] = [{"name": "f", "a": ["nope"]}]
    with pytest.raises(InputError, match="'nope', which is not an attribute"):
        study_from_dict(bad)
    bad = yaml.safe_load(yaml.safe_dump(MAP))
    bad["arm"]["hr"] = {"variant": "cox"}
    with pytest.raises(InputError, match="HR variant"):
        study_from_dict(bad)
    with pytest.raises(InputError, match="missing key 'endpoints'"):
        study_from_dict({k: v for k, v in MAP.items() if k != "endpoints"})


def test_missing_values_error_or_drop(study):
    raw = synth()
    raw.loc[3, "x"] = np.nan
    with pytest.raises(InputError) as exc:
        patient_table(raw, study, "t.csv")
    assert exc.value.column == "x" and exc.value.row == 4
    m = {**MAP, "missing": "drop"}
    t = patient_table(raw, study_from_dict(m), "t.csv")
    assert len(t) == len(raw) - 1 and t.attrs["dropped_missing"] == 1


def test_shipped_maps_apply_to_their_trials():
    for name in datasets.LOADERS:
        s = load_study(datasets.MAPS / f"{name}.yml")
        t = patient_table(datasets.load(name), s, name)
        assert len(t) >= 100 and all(t[a].nunique() == 2 for a in s.names)
        assert set(t[f"{s.endpoints[0].name}_event"].unique()) == {0, 1}
    st = patient_table(datasets.stanford(), load_study(datasets.MAPS / "stanford.yml"))
    assert len(st) == 103 and st["transplant"].sum() == 69   # Crowley & Hu: 69 of 103


# ---- aggregates -------------------------------------------------------------------------------
def test_aggregates_are_true_values_at_printed_precision(study, table):
    tg = {t.id: t for t in aggregates.derive(table, study, 1)}
    assert tg["count:arm"].value == table["arm"].sum()
    assert tg["count:arm&g1"].value == (table["arm"] & table["g1"]).sum()
    assert tg["count:g1&resp"].value == (table["g1"] & table["resp"]).sum()
    km = tg["km:os:g1:365"]
    assert km.lo <= km.value <= km.hi and km.hi - km.lo == pytest.approx(0.1)
    assert tg["time:followup:os:all:median"].value == np.median(table["os_time"])
    assert "p:os:g1" in tg and "hr:os:g1" in tg and "hr:os:arm" in tg
    l2 = {t.id for t in aggregates.derive(table, study, 2)}
    assert any(i.startswith("at_risk:os:arm:") for i in l2) and "p:os:g2" in l2
    assert "hr:os:g2" not in l2  # a supplementary figure prints P only
    margins = {t.id for t in aggregates.derive(table, study, "margins")}
    assert "count:arm&g1" not in margins and "km:os:all:365" in margins


def test_hr_orientation_follows_the_map(table):
    m = yaml.safe_load(yaml.safe_dump(MAP))
    m["arm"]["hr"] = {"orientation": "b_vs_a"}
    s = study_from_dict(m)
    a = {t.id: t for t in aggregates.derive(table, study_from_dict(MAP), 1)}["hr:os:arm"]
    b = {t.id: t for t in aggregates.derive(table, s, 1)}["hr:os:arm"]
    assert b.a == ("~arm",) and a.value * b.value == pytest.approx(1.0, abs=0.01)


# ---- the engine -------------------------------------------------------------------------------
def test_stage1_meets_every_count_and_differs_by_seed(study, table):
    tg = aggregates.derive(table, study, 1)
    cts = count_targets(tg)
    a0 = general_milp.solve(study, cts, len(table), 0)
    a1 = general_milp.solve(study, cts, len(table), 1)
    for t, v in cts:
        assert where_mask(a0, t.where).sum() == v
    assert (a0[list(study.names)].to_numpy() != a1[list(study.names)].to_numpy()).sum() > 20


def test_stage1_conflict_names_the_counts(study, table):
    tg = aggregates.derive(table, study, 1)
    cts = count_targets(tg)
    (t0, v0) = next((t, v) for t, v in cts if t.claim_id == "count:arm&g1")
    cts = [(t, v + 200 if t is t0 else v) for t, v in cts]
    with pytest.raises(general_milp.milp.ClaimConflict) as exc:
        general_milp.solve(study, cts, len(table), 0)
    assert "count:arm&g1" in str(exc.value)


def test_reconstruction_meets_its_targets(study, table):
    tg = aggregates.derive(table, study, 1)
    rec = reconstruct(study, tg, len(table), seed=3, iters=20000, explore=200)
    assert rec.fit["within_tolerance"].all(), rec.fit.loc[~rec.fit["within_tolerance"]]
    c = rec.cohort
    for col in ("arm", "g1", "g2", "resp", "os_time", "os_event"):
        assert col in c
    assert (c["os_time"] >= 0).all() and len(c) == len(table)
    again = reconstruct(study, tg, len(table), seed=3, iters=20000, explore=200)
    pd.testing.assert_frame_equal(c, again.cohort)   # a seed gives one cohort


def test_nested_endpoint_and_switch_are_respected():
    r = np.random.default_rng(5)
    n = 80
    g = r.random(n) < 0.5
    death = np.ceil(r.exponential(400, n))
    cens = r.integers(100, 700, n)
    os_t, os_e = np.minimum(death, cens), (death <= cens).astype(int)
    prog = np.ceil(r.uniform(0.2, 1.0, n) * os_t)
    pfs_e = np.where(os_e == 1, 1, (r.random(n) < 0.4).astype(int))
    pfs_t = np.where(pfs_e == 1, np.where(os_e == 1, np.minimum(prog, os_t), prog), os_t)
    tx = (r.random(n) < 0.5)
    wait = np.where(tx, np.floor(r.uniform(0, 1, n) * os_t), np.nan)
    raw = pd.DataFrame({"g": g.astype(int), "os_t": os_t, "os_e": os_e, "pfs_t": pfs_t,
                        "pfs_e": pfs_e, "tx": tx.astype(int), "wait": wait})
    m = {"study": "nested", "attributes": {"g": {"column": "g"}, "tx": {"column": "tx"}},
         "endpoints": [{"name": "os", "time": "os_t", "event": "os_e"},
                       {"name": "pfs", "time": "pfs_t", "event": "pfs_e", "within": "os"}],
         "arm": {"a": ["tx"]}, "switch": {"attribute": "tx", "time": "wait"},
         "figures": [{"name": "g", "a": ["g"]}], "landmark": 180}
    s = study_from_dict(m)
    table = patient_table(raw, s)
    rec = reconstruct(s, aggregates.derive(table, s, 1), n, seed=1, iters=8000, explore=100).cohort
    assert (rec["pfs_time"] <= rec["os_time"]).all()
    assert ((rec["os_event"] == 0) | (rec["pfs_event"] == 1)).all()
    assert (rec.loc[rec["pfs_event"] == 0, "pfs_time"] == rec.loc[rec["pfs_event"] == 0, "os_time"]).all()
    sw = rec["switch_time"]
    assert sw.notna().sum() == table["tx"].sum() and (sw.dropna() <= rec.loc[sw.notna(), "os_time"]).all()


# ---- statistics and comparison ------------------------------------------------------------------
def test_status_marks_what_was_printed(study, table):
    st = statistics(table, study)
    s1, s2 = status(st, study, 1), status(st, study, 2)
    assert s1["hr_uni:os:g1"] == "fitted" and s1["hr_uni:os:g2"] == "emergent"
    assert s2["hr_uni:os:g2"] == "constrained" and s2["p_uni:os:g2"] == "fitted"
    assert s1["hr_multi:os:g1"] == s2["hr_multi:os:g1"] == "emergent"
    assert s1["km:os:g2:365"] == "emergent" and s2["km:os:g2:365"] == "fitted"


def test_truth_compared_with_itself_has_no_error_and_full_coverage(study, table):
    st = statistics(table, study)
    sbs = compare.side_by_side(st, [st, st], {"margins": st, "shuffled": st}, status(st, study, 1))
    summ = compare.summarize(sbs)
    assert np.allclose(summ["mae"], 0.0) and (summ["coverage90"].dropna() == 1.0).all()
    sh = statistics(compare.shuffled(table, study, 0), study)
    assert not np.allclose(sh.loc[sh["type"] == "hr_uni", "value"],
                           st.loc[st["type"] == "hr_uni", "value"])


# ---- the command --------------------------------------------------------------------------------
def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cart19", "validate-method", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_cli_bad_input_one_line_and_exit_1(tmp_path):
    raw = synth()
    raw.to_csv(tmp_path / "d.csv", index=False)
    m = yaml.safe_load(yaml.safe_dump(MAP))
    m["attributes"]["g1"] = {"column": "G1"}
    (tmp_path / "m.yml").write_text(yaml.safe_dump(m))
    r = _cli("--data", "d.csv", "--columns", "m.yml", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "column 'G1'" in r.stderr and "not in the data" in r.stderr
    r = _cli("--data", "nope.csv", "--columns", "m.yml", cwd=tmp_path)
    assert r.returncode == 1 and "not found" in r.stderr


def test_cli_writes_json_and_table(tmp_path):
    synth(70, 2).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "m.yml").write_text(yaml.safe_dump(MAP))
    r = _cli("--data", "d.csv", "--columns", "m.yml", "--ensemble", "2", "--levels", "1",
             "--jobs", "1", "--out", "res.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "hr_multi" in r.stdout and "coverage90" in r.stdout
    doc = json.loads((tmp_path / "res.json").read_text())
    assert doc["patients"] == 70 and set(doc["levels"]) == {"1"}
    rows = pd.DataFrame(doc["levels"]["1"]["statistics"])
    assert {"truth", "single", "lo90", "hi90", "covered90", "margins", "shuffled"} <= set(rows)
