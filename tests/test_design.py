"""The paper's design as data (data/published/design.yml) and the registry of readings."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cart19 import paths
from cart19.cohort.schema import load_cohort
from cart19.errors import InputError
from cart19.record import audit as A
from cart19.record import design
from cart19.record import readings as R
from cart19.record.claims import load_claims

PAPER = Path(os.environ.get("CART19_PAPER", "/work/shared/paper/zhang2020_bloodadv_cd19_cart_ball.txt"))


@pytest.fixture(scope="module")
def d():
    return design.load()


@pytest.fixture(scope="module")
def claims():
    return load_claims()


@pytest.fixture(scope="module")
def attrs(d, claims):
    return d.attribute_frame(load_cohort(paths.COHORT_CSV), claims)


def _count(attrs, where) -> int:
    m = pd.Series(True, index=attrs.index)
    for lit in where:
        col = attrs[lit.lstrip("~")] == 1
        m &= ~col if lit.startswith("~") else col
    return int(m.sum())


# ------------------------------------------------------------------ the committed design

def test_committed_design_covers_the_paper(d):
    hr = d.hr_table()
    assert sorted(d.comparisons) == ["fig3", "fig4", "fig5", "fig6", "fig7"]
    assert (hr["kind"] == "hr").sum() == 10 and (hr["kind"] == "ci").sum() == 12
    assert hr["claim"].is_unique
    assert len(d.table3.factors) == 10 and len(d.table5.covariates) == 6
    # every printed landmark of Figures 2-7 is named once; 24 distinct landmarks
    lm = d.landmark_table()
    assert lm["claim"].is_unique and lm["first"].nunique() == 24


def test_reciprocal_orientations_are_the_six_the_captions_print(d):
    """Which caption HRs are arm b relative to arm a, from the captions' own words."""
    hr = d.hr_table()
    rev = set(hr.loc[(hr["kind"] == "hr") & hr["reciprocal_of_label"], "claim"])
    assert rev == {"fig3.lfs.hr", "fig4.os.hr", "fig5.os.hr", "fig5.lfs.hr", "fig6.lfs.hr",
                   "fig7.lfs.hr"}


def test_attributes_match_the_reconstruction(d, claims):
    """The rules in design.yml give the reconstruction's attributes on the committed cohort."""
    from cart19.reconstruction.pipeline import attributes_from_cohort
    cohort = load_cohort(paths.COHORT_CSV)
    ours = d.attribute_frame(cohort, claims)
    theirs = attributes_from_cohort(cohort)
    assert set(ours.columns) - set(theirs.columns) == {"bm_zero"}
    for col in theirs.columns:
        assert (ours[col].to_numpy() == theirs[col].to_numpy()).all(), col


def test_table3_levels_give_the_printed_group_sizes(d, claims, attrs):
    """Read with the swapped labels, every Table 3 row has its printed N in the cohort."""
    idx = claims.set_index("id")
    for f, fac in d.table3.factors.items():
        for lv, level in fac.levels.items():
            assert _count(attrs, level.where) == idx.at[f"table3.cr.{f}.{lv}", "N"], (f, lv)


def test_table4_arms_and_levels_give_the_printed_counts(d, claims, attrs):
    idx = claims.set_index("id")
    ov = R.overridden(R.load(), claims)
    for ch, fac in d.table4.characteristics.items():
        arms = ("hsct", "no_hsct") if fac.arms == "both" else ("hsct",)
        for lv, level in fac.levels.items():
            for arm in arms:
                cid = f"table4.{ch}.{lv}.{arm}"
                if cid in ov:
                    continue
                got = _count(attrs, d.table4.arms[arm].where + level.where)
                assert got == idx.at[cid, "n"], cid


def test_days_are_read_from_claims(d, claims):
    from cart19.reconstruction import targets as T
    assert d.day("cr_assessment", claims) == T.CR_ASSESS_DAY
    assert d.day("early_day", claims) == T.EARLY_DAY
    changed = claims.copy()
    changed.loc[changed["id"] == "fig2.cr_day", "value"] = 28.0
    assert d.day("early_day", changed) == 118


def test_variant_criterion_agrees_with_the_audit(d, claims):
    """'wald_equals_logrank' exactly where the printed HR, CI and P agree (audit hr.p.<HR>)."""
    audit = A.run_audit(claims).set_index("check_id")
    for name, c in d.comparisons.items():
        for ep, spec in c.endpoints.items():
            verdict = audit.at[f"hr.p.{spec.hr.claim}", "verdict"]
            expect = "wald_equals_logrank" if verdict == "consistent" else "same_software"
            assert spec.hr.criterion == expect, (name, ep, verdict)


def _norm(text: str) -> str:
    text = text.replace("⁺", "+").replace("⁻", "-").replace("$", "").replace("*", "")
    return re.sub(r"\s+", " ", text)


def test_quotes_are_the_papers_words(d):
    if not PAPER.exists():
        pytest.skip(f"paper text not found at {PAPER} (set CART19_PAPER)")
    paper = _norm(PAPER.read_text(encoding="utf-8"))
    quotes = [("endpoints." + k, e.quote) for k, e in d.endpoints.items()]
    quotes += [(f"comparisons.{k}", c.quote) for k, c in d.comparisons.items()]
    quotes += [(f"{r.comparison}.{r.endpoint}.{r.claim}", r.quote) for r in d.hr_table().itertuples()]
    quotes += [("table5", d.table5.quote)] + [(k, a.quote) for k, a in d.table5.abstract.items()]
    quotes += [(f"calendar.{k}", c.quote) for k, c in d.calendar.items()]
    for where, q in quotes:
        for part in _norm(q).split(" ... "):
            assert part.strip() in paper, (where, part)


# ------------------------------------------------------------------ bad design files

def _copy(tmp_path, mutate) -> Path:
    raw = yaml.safe_load(design.DESIGN_YML.read_text(encoding="utf-8"))
    mutate(raw)
    p = tmp_path / "design.yml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    shutil.copy(R.READINGS_CSV, tmp_path / "readings.csv")
    return p


@pytest.mark.parametrize("mutate,pattern", [
    (lambda r: r["comparisons"]["fig3"]["arms"].pop("b"),
     r"key comparisons\.fig3\.arms: a comparison has exactly the arms a and b"),
    (lambda r: r["comparisons"]["fig3"]["endpoints"]["lfs"]["hr"].update(orientation="a_vs_b"),
     (r"key comparisons\.fig3\.endpoints\.lfs\.hr\.orientation: a_vs_b with arm a called better "
      r"needs the printed value below 1, fig3\.lfs\.hr prints 35\.45")),
    (lambda r: r["groups"]["no_hsct"].update(where=["cr", "~hsct_typo"]),
     r"key groups\.no_hsct\.where: literal '~hsct_typo' names no attribute"),
    (lambda r: r["comparisons"]["fig4"]["endpoints"]["os"].update(p=["fig4.os.nope"]),
     r"key comparisons\.fig4\.endpoints\.os\.p: claim 'fig4\.os\.nope' is not in claims\.csv"),
    (lambda r: r["comparisons"]["fig4"]["endpoints"]["os"].update(p=["fig4.os.hr"]),
     r"claim 'fig4\.os\.hr' is of kind 'hr', expected p"),
    (lambda r: r["table3"]["factors"]["tp53"].update(reading="no_such_reading"),
     r"key table3\.factors\.tp53\.reading: reading 'no_such_reading' is not in readings\.csv"),
    (lambda r: r["comparisons"]["fig6"]["endpoints"]["os"]["hr"].update(variant="prism"),
     r"key comparisons\.fig6\.endpoints\.os\.hr\.variant: input should be"),
    (lambda r: r["table5"].pop("covariates"), r"key table5\.covariates: field required"),
    (lambda r: r["attributes"].update(child={"column": "age_group", "equals": 214}),
     r"key attributes\.child\.equals: compares text: quote the value"),
    (lambda r: r["attributes"].update(male="female", female="male"),
     r"key attributes\.\w+: is defined through itself"),
    (lambda r: r["attributes"].update(rel_early={"all": ["relapse", {"number": "relapse_day", "le": "late_day"}]}),
     r"'late_day' is neither a number nor a day of days:"),
])
def test_bad_design_is_refused_with_key_and_rule(tmp_path, mutate, pattern):
    with pytest.raises(InputError, match=pattern) as e:
        design.load(_copy(tmp_path, mutate))
    assert "design.yml" in str(e.value) and "\n" not in str(e.value)


def test_unquoted_numeric_key_and_bad_yaml(tmp_path):
    text = design.DESIGN_YML.read_text(encoding="utf-8")
    shutil.copy(R.READINGS_CSV, tmp_path / "readings.csv")
    p = tmp_path / "design.yml"
    p.write_text(text.replace('"2_14": {printed: "2-14"', '2_14: {printed: "2-14"', 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"key table3\.factors\.age\.levels\.214"):
        design.load(p)
    p.write_text(text.replace("groups:\n  all:", "groups:\n all: [", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid YAML at line \d+"):
        design.load(p)


# ------------------------------------------------------------------ the registry of readings

def test_one_registry_holds_every_decision(claims):
    from cart19.reconstruction import targets as T
    reg = R.load(claims=claims)
    assert R.overridden(reg, claims) == T.OVERRIDDEN
    assert {x.alias for x in T.DECISIONS if x.alias} == {f"D{k:02d}" for k in range(1, 16)}
    assert [x.key for x in T.DECISIONS] == list(reg["reading_id"])
    pats = R.claims_of(reg, claims)["crosstab_test_per_row"]
    assert "table3.cr.tp53.p" in pats and "table4.response.p" in pats
    assert not any(x.startswith("table3.carpeak") for x in pats)


def _write(tmp_path, rows) -> Path:
    import csv
    p = tmp_path / "readings.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return p


def _rows():
    import csv
    return list(csv.reader(open(R.READINGS_CSV, newline="", encoding="utf-8")))


def test_registry_without_why_is_refused(tmp_path, claims):
    rows = [[c for j, c in enumerate(r) if j != R.COLUMNS.index("why")] for r in _rows()]
    with pytest.raises(InputError, match=r"header row lacks required column\(s\): why"):
        R.load(_write(tmp_path, rows), claims)


@pytest.mark.parametrize("col,value,pattern", [
    ("why", "", r"column 'why', row 2: must not be empty"),  # spreadsheet rows: header is row 1
    ("effect", "ignore", r"column 'effect', row 2, value 'ignore': effect must be one of"),
    ("kind", "guess", r"kind must be one of"),
    ("claims", "table9.*", r"column 'claims', row 2, value 'table9\.\*': claim id not in claims\.csv"),
    ("claims", "results.tp53.relapse_time:minimum", r"field after ':' must be one of"),
    ("alias", "D02", r"alias must be unique"),
])
def test_bad_registry_row(tmp_path, claims, col, value, pattern):
    rows = _rows()
    rows[1][R.COLUMNS.index(col)] = value
    with pytest.raises(InputError, match=pattern):
        R.load(_write(tmp_path, rows), claims)
