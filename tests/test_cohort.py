"""Schema of the reconstructed cohort and the loader's error messages (cart19.cohort.schema)."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from cart19.cohort.schema import load_cohort
from cart19.errors import InputError
from cart19.paths import COHORT_CSV


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(COHORT_CSV, dtype=str, keep_default_na=False)


def _write(tmp_path, df: pd.DataFrame):
    p = tmp_path / "cohort.csv"
    df.to_csv(p, index=False)
    return p


def _first(df, mask):
    return int(mask.to_numpy().nonzero()[0][0])


def test_committed_cohort_passes_schema():
    c = load_cohort(COHORT_CSV)
    assert len(c) == 110
    assert c["patient_id"].is_unique


def test_committed_not_infused():
    ni = pd.read_csv(COHORT_CSV.parent / "not_infused.csv")
    assert len(ni) == 5 and ni["patient_id"].is_unique


def test_empty_file(tmp_path):
    p = tmp_path / "cohort.csv"
    p.write_text("")
    with pytest.raises(InputError, match="empty") as e:
        load_cohort(p)
    assert str(p) in str(e.value)


def test_header_only(tmp_path, raw):
    p = _write(tmp_path, raw.iloc[:0])
    with pytest.raises(InputError, match="no patient rows"):
        load_cohort(p)


def test_not_utf8(tmp_path):
    src = COHORT_CSV.read_bytes()
    p = tmp_path / "cohort.csv"
    lines = src.split(b"\n")
    lines[3] = lines[3].replace(b"R003", b"R\xff03", 1)
    p.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match="UTF-8") as e:
        load_cohort(p)
    assert e.value.row == 3


def test_missing_column(tmp_path, raw):
    p = _write(tmp_path, raw.drop(columns=["relapse_day"]))
    with pytest.raises(InputError, match="missing") as e:
        load_cohort(p)
    assert e.value.column == "relapse_day"


def test_wrong_type(tmp_path, raw):
    df = raw.copy()
    df.loc[4, "crs_grade"] = "two"
    with pytest.raises(InputError, match="whole number") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("crs_grade", 5)


def test_negative_day(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["hsct_after"] == "1")
    df.loc[i, "hsct_day"] = "-3"
    with pytest.raises(InputError, match=">= 0") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("hsct_day", i + 1)


def test_flag_not_binary(tmp_path, raw):
    df = raw.copy()
    df.loc[7, "tp53"] = "2"
    with pytest.raises(InputError, match="0 or 1") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("tp53", 8)


def test_duplicate_id(tmp_path, raw):
    df = raw.copy()
    df.loc[9, "patient_id"] = df.loc[2, "patient_id"]
    with pytest.raises(InputError, match="unique") as e:
        load_cohort(_write(tmp_path, df))
    assert e.value.column == "patient_id"
    assert e.value.row in (3, 10)


def test_death_before_relapse(tmp_path, raw):
    df = raw.copy()
    i = _first(df, (df["relapse"] == "1") & (df["death"] == "1"))
    df.loc[i, "death_day"] = str(int(float(df.loc[i, "relapse_day"])) - 1)
    with pytest.raises(InputError, match="death not before relapse") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("death_day", i + 1)


def test_hsct_in_non_responder(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["response"] == "NR")
    df.loc[i, "hsct_after"] = "1"
    with pytest.raises(InputError, match="HSCT") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("hsct_after", i + 1)


def test_os_must_be_derived(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["death"] == "0")
    df.loc[i, "os_days"] = str(int(df.loc[i, "os_days"]) - 1)
    with pytest.raises(InputError, match="os_days") as e:
        load_cohort(_write(tmp_path, df))
    assert e.value.row == i + 1


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_cohort(tmp_path / "nope.csv")
