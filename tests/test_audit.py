"""Tests of cart19.record.audit: pinned verdicts, specific findings, robustness, readings and CLI."""
from __future__ import annotations

import csv
import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from cart19.record import audit as A
from cart19 import cli
from cart19.stats import printed as S
from cart19.record.claims import load_claims
from cart19.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "audit_verdicts.json"


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return load_claims()


@pytest.fixture(scope="module")
def audit(claims) -> pd.DataFrame:
    return A.run_audit(claims)


def _row(audit, check_id) -> pd.Series:
    hit = audit[audit["check_id"] == check_id]
    assert len(hit) == 1, f"no check {check_id}"
    return hit.iloc[0]


# ----------------------------------------------------------------- pinned verdicts

def test_pinned_verdicts(audit):
    """Every check's verdict equals the pinned one; lists every change, appearance, removal.

    After a deliberate change, review the listed checks and regenerate the fixture.
    """
    pinned = json.loads(FIXTURE.read_text())
    now = dict(zip(audit["check_id"], audit["verdict"]))
    changed = [f"{k}: {pinned[k]} -> {now[k]}" for k in sorted(pinned.keys() & now.keys())
               if pinned[k] != now[k]]
    appeared = [f"{k} (new, {now[k]})" for k in sorted(now.keys() - pinned.keys())]
    vanished = [f"{k} (gone, was {pinned[k]})" for k in sorted(pinned.keys() - now.keys())]
    problems = changed + appeared + vanished
    assert not problems, "audit verdicts differ from the pinned ones:\n" + "\n".join(problems)


# ----------------------------------------------------------------- shape of the output

def test_output_schema(audit, claims):
    assert list(audit.columns[:7]) == A.COLUMNS
    assert audit["check_id"].is_unique
    assert set(audit["verdict"]) <= set(A.VERDICTS)
    assert set(audit["category"]) <= set(A.CATEGORIES)
    known = set(claims["id"])
    for _, r in audit.iterrows():
        ids = r["claims"].split(";")
        assert ids and all(i in known for i in ids), r["check_id"]
        assert r["explanation"].strip(), r["check_id"]


def test_every_category_is_exercised(audit):
    counts = audit["category"].value_counts()
    for cat in A.CATEGORIES:
        assert counts.get(cat, 0) > 0, cat


def test_every_percentage_is_checked(audit, claims):
    with_pct = claims[claims["n"].notna() & claims["N"].notna() & claims["percent"].notna()]
    checked = set(audit.loc[audit["category"] == "percent", "check_id"])
    assert {f"pct.{i}" for i in with_pct["id"]} == checked


def test_every_table_p_is_recomputed(audit, claims):
    p_ids = claims.loc[claims["id"].str.match(r"^table[34]\.[a-z0-9_]+\.[a-z0-9_]+\.p$")
                       & claims["p"].notna(), "id"]
    involved = set(";".join(audit.loc[audit["category"].isin(["p_contingency", "p_ttest"]),
                                      "claims"]).split(";"))
    assert set(p_ids) <= involved


def test_every_hr_is_checked(audit, claims):
    hrs = claims.loc[claims["kind"] == "hr", "id"]
    for h in hrs:
        assert f"hr.symmetry.{h}" in set(audit["check_id"])


def test_summary_adds_up(audit):
    t = A.summary(audit)
    assert t.loc["total", "checks"] == len(audit)
    assert (t[list(A.VERDICTS)].sum(axis=1) == t["checks"]).all()


# ----------------------------------------------------------------- specific findings

def test_blasts20_cr_p_not_reproduced(audit):
    r = _row(audit, "p.table3.cr.blasts20")
    assert r["verdict"] == "not reproduced" and r["tests"] == ""
    res = S.two_by_two_tests(65, 66, 37, 44)
    assert f"Yates {A.fp(res['yates'])}" in r["recomputed"]


def test_test_choice_per_row(audit):
    assert _row(audit, "p.table3.cr.sex")["tests"] == "fisher"
    assert _row(audit, "p.table3.cr.bcr_abl")["tests"] == "yates"
    assert "pearson" in _row(audit, "p.table3.crs34.age")["tests"].split(",")
    assert _row(audit, "p.table3.carpeak.dose")["tests"] == "se_student"
    assert _row(audit, "p.table4.bm_blasts")["tests"] == "pearson"


def test_known_inconsistencies(audit):
    expected = {
        "sum.table1.bm_blasts": "inconsistent",
        "labels.table3.tp53": "inconsistent",
        "labels.table3.prior_hsct": "inconsistent",
        "pct.table4.sex.male.no_hsct": "inconsistent",
        "sum.table4.complex_karyotype.no_hsct": "inconsistent",
        "same.cri": "inconsistent",
        "text.fig3.lfs.hsct": "inconsistent",
        "text.pct.discussion.bcr_abl.molecular_neg.d60": "inconsistent",
        "text.pct.discussion.emd.cr": "minor rounding",
        "text.p.crs34.costim": "inconsistent",
        "hr.orientation.fig3": "inconsistent",
        "hr.p.fig5.lfs.hr": "inconsistent",
        "hr.text_vs_caption.abstract.os.ci": "inconsistent",
        "hr.direction.table5.os.tp53": "inconsistent",
        "hr.abstract_vs_table5.hsct": "inconsistent",
        "carpeak.dispersion_label": "inconsistent",
        "text.pct.results.no_hsct.relapse.cd19_pos": "inconsistent",
        "text.subgroup_cr_range": "inconsistent",
        "sum.text.costim_enrolment": "inconsistent",
        "text.abstract_hsct_denominator": "consistent",
        "hr.symmetry.fig3.os.hr": "consistent",
        "hr.p.fig4.os.hr": "consistent",
        "pct.table3.cr.costim.cd28": "minor rounding",
    }
    got = {k: _row(audit, k)["verdict"] for k in expected}
    assert got == expected


def test_readings_explain_inconsistencies(audit):
    bm = _row(audit, "sum.table1.bm_blasts")["explanation"]
    assert "should be 24" in bm
    ck = _row(audit, "sum.table4.complex_karyotype.no_hsct")["explanation"]
    assert "= 4 (15%)" in ck


# ----------------------------------------------------------------- robustness and sensitivity

def test_partial_record_is_not_checkable(claims):
    part = claims[~claims["id"].isin(["table1.bm_blasts.5_20", "table3.cr.sex.p",
                                      "fig3.lfs.hr"])].reset_index(drop=True)
    a = A.run_audit(part)
    for cid in ("sum.table1.bm_blasts", "p.table3.cr.sex", "hr.direction.fig3.lfs"):
        r = _row(a, cid)
        assert r["verdict"] == "not checkable" and "not in the record" in r["explanation"]


def test_checks_react_to_the_numbers(claims):
    c = claims.copy()
    i = c.index[c["id"] == "table1.bm_blasts.5_20"][0]
    c.loc[i, "n"] = 24
    j = c.index[c["id"] == "table3.cr.blasts20.p"][0]
    c.loc[j, ["p", "printed"]] = [0.013, ".013*"]
    k = c.index[c["id"] == "discussion.lfs.hsct.1y"][0]
    c.loc[k, ["percent", "printed"]] = [76.9, "LFS was 76.9%"]
    a = A.run_audit(c)
    assert _row(a, "sum.table1.bm_blasts")["verdict"] == "consistent"
    assert _row(a, "same.blasts_le20")["verdict"] == "consistent"
    assert _row(a, "p.table3.cr.blasts20")["tests"] == "yates"
    assert _row(a, "text.fig3.lfs.hsct")["verdict"] == "consistent"


def test_missing_column_is_input_error(claims):
    with pytest.raises(InputError) as e:
        A.run_audit(claims.drop(columns=["hr"]))
    assert "column 'hr'" in str(e.value)


# ----------------------------------------------------------------- readings

def test_adopted_readings_load_and_point_at_real_checks(claims, audit):
    r = A.adopted_readings(claims=claims)
    assert list(r.columns) == A.READING_COLUMNS
    assert r["reading_id"].is_unique and len(r) >= 10
    checks = set(audit["check_id"])
    for _, x in r.iterrows():
        named = [ck for ck in x["checks"].split(";") if ck]
        for ck in named:
            assert ck in checks, (x["reading_id"], ck)
        # a conflict the audit shows is one it finds a problem with
        if x["kind"] == "conflict" and named:
            verdicts = {_row(audit, ck)["verdict"] for ck in named}
            assert verdicts - {"consistent"}, x["reading_id"]
    bm = r.set_index("reading_id").loc["table1_bm_blasts_5_20"]
    assert (bm["field"], bm["adopted_value"], bm["effect"]) == ("n", "24", "drop")


def _write_readings(tmp_path, mutate) -> Path:
    rows = list(csv.reader(open(A.READINGS_CSV, newline="", encoding="utf-8")))
    mutate(rows)
    p = tmp_path / "readings.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return p


def test_readings_bad_claim_id(tmp_path, claims):
    def m(rows):
        rows[2][4] = "table9.nothing"
    with pytest.raises(InputError) as e:
        A.adopted_readings(_write_readings(tmp_path, m), claims)
    msg = str(e.value)
    assert "column 'claims'" in msg and "row 3" in msg and "table9.nothing" in msg  # header = row 1


def test_readings_empty_cell_and_bad_header(tmp_path, claims):
    def m(rows):
        rows[1][8] = ""
    with pytest.raises(InputError) as e:
        A.adopted_readings(_write_readings(tmp_path, m), claims)
    assert "column 'reading'" in str(e.value) and "row 2" in str(e.value)

    def h(rows):
        rows[0][0] = "id"
    with pytest.raises(InputError):
        A.adopted_readings(_write_readings(tmp_path, h), claims)


# ----------------------------------------------------------------- CLI

def test_cli_json(capsys):
    assert A.main(["--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert {"id", "claims", "published", "recomputed", "verdict", "explanation"} <= set(recs[0])
    assert any(r["id"] == "p.table3.cr.blasts20" and r["verdict"] == "not reproduced"
               for r in recs)


def test_cli_summary(capsys):
    assert cli.main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "hazard ratios and confidence intervals" in out and "total" in out


def test_cli_bad_claims_file(tmp_path):
    bad = tmp_path / "claims.csv"
    shutil.copy(Path(A.paths.CLAIMS_CSV), bad)
    text = bad.read_text(encoding="utf-8").splitlines()
    parts = next(csv.reader([text[5]]))
    parts[6] = "many"                       # column n of data row 4
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(parts)
    text[5] = buf.getvalue()
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        rc = cli.main(["audit", "--claims", str(bad)])
    assert rc != 0
    assert "column 'n'" in err.getvalue() and "row" in err.getvalue()


def test_empty_cells_are_not_checkable(claims):
    c = claims.copy()
    for cid, col in [("table3.cr.sex.male", "N"), ("table3.carpeak.emd.with", "dispersion"),
                     ("table4.age.2_14.hsct", "n"), ("table1.sex.male", "n")]:
        c.loc[c["id"] == cid, col] = None
    a = A.run_audit(c)
    for cid in ("p.table3.cr.sex", "p.table3.carpeak.emd", "p.table4.age", "sum.table1.sex"):
        assert _row(a, cid)["verdict"] == "not checkable", cid
    assert not a["check_id"].str.startswith("error.").any(), \
        a.loc[a["check_id"].str.startswith("error."), "explanation"].tolist()
    gone = set(A.run_audit(claims)["check_id"]) - set(a["check_id"])
    # only checks that need the emptied values to exist at all may vanish
    assert all(g.startswith(("pct.", "carpeak.overall_mean.")) for g in gone), gone


def test_tests_used_table(audit):
    t = A.tests_used(audit).set_index("table")
    row = t.loc["Table 3 (CR, CRS, neurotoxicity)"]
    assert row["p_values"] == 30
    assert row["by pearson"] == sum("pearson" in x.split(",") for x in audit.loc[
        audit["check_id"].str.match(r"^p\.table3\.(cr|crs34|neuro23)\."), "tests"])
    assert t.loc["Table 3 (CAR T-cell peak)", "by se_student"] >= 7
