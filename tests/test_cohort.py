"""Schema of the reconstructed cohort and the loader's error messages (cart19.cohort.schema)."""
from __future__ import annotations


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
    with pytest.raises(InputError, match="no data rows"):
        load_cohort(p)


def test_not_utf8(tmp_path):
    src = COHORT_CSV.read_bytes()
    p = tmp_path / "cohort.csv"
    lines = src.split(b"\n")
    lines[3] = lines[3].replace(b"R003", b"R\xff03", 1)
    p.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match="UTF-8") as e:
        load_cohort(p)
    assert e.value.row == 4  # physical line 4: the header is row 1


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
    assert (e.value.column, e.value.row) == ("crs_grade", 6)


def test_negative_day(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["hsct_after"] == "1")
    df.loc[i, "hsct_day"] = "-3"
    with pytest.raises(InputError, match=">= 0") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("hsct_day", i + 2)


def test_flag_not_binary(tmp_path, raw):
    df = raw.copy()
    df.loc[7, "tp53"] = "2"
    with pytest.raises(InputError, match="0 or 1") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("tp53", 9)


def test_duplicate_id(tmp_path, raw):
    df = raw.copy()
    df.loc[9, "patient_id"] = df.loc[2, "patient_id"]
    with pytest.raises(InputError, match="unique") as e:
        load_cohort(_write(tmp_path, df))
    assert e.value.column == "patient_id"
    assert e.value.row == 11  # the repeat (data row 10, spreadsheet row 11), not the original


def test_death_before_relapse(tmp_path, raw):
    df = raw.copy()
    i = _first(df, (df["relapse"] == "1") & (df["death"] == "1"))
    df.loc[i, "death_day"] = str(int(float(df.loc[i, "relapse_day"])) - 1)
    with pytest.raises(InputError, match="death not before relapse") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("death_day", i + 2)


def test_hsct_in_non_responder(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["response"] == "NR")
    df.loc[i, "hsct_after"] = "1"
    with pytest.raises(InputError, match="HSCT") as e:
        load_cohort(_write(tmp_path, df))
    assert (e.value.column, e.value.row) == ("hsct_after", i + 2)


def test_os_must_be_derived(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["death"] == "0")
    df.loc[i, "os_days"] = str(int(df.loc[i, "os_days"]) - 1)
    with pytest.raises(InputError, match="os_days") as e:
        load_cohort(_write(tmp_path, df))
    assert e.value.row == i + 2


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="missing"):
        load_cohort(tmp_path / "nope.csv")


# ---------------------------------------------------------------- issue 18: what was accepted or crashed
def _lines(raw: pd.DataFrame) -> list[str]:
    return raw.to_csv(index=False, lineterminator="\n").split("\n")


def _fails(tmp_path, text: str | bytes, match: str, column, row):
    p = tmp_path / "cohort.csv"
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(InputError, match=match) as e:
        load_cohort(p)
    assert (e.value.column, e.value.row) == (column, row), str(e.value)
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("column", ["os_days", "tp53", "crs_grade"])
def test_inf_in_an_integer_column_is_named(tmp_path, raw, column):
    df = raw.copy()
    df.loc[3, column] = "inf"
    _fails(tmp_path, df.to_csv(index=False), "whole number", column, 5)


def test_inf_in_a_day_or_measurement_is_named(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["hsct_after"] == "1")
    df.loc[i, "hsct_day"] = "inf"
    _fails(tmp_path, df.to_csv(index=False), "finite number", "hsct_day", i + 2)
    df = raw.copy()
    df.loc[6, "age_years"] = "-inf"
    _fails(tmp_path, df.to_csv(index=False), "finite number", "age_years", 8)


def test_a_missing_age_is_refused(tmp_path, raw):
    df = raw.copy()
    df.loc[4, "age_years"] = ""
    _fails(tmp_path, df.to_csv(index=False), "every patient has one", "age_years", 6)


def test_age_must_match_its_age_group(tmp_path, raw):
    df = raw.copy()
    i = _first(df, df["age_group"] == "2-14")
    df.loc[i, "age_years"] = "30"
    _fails(tmp_path, df.to_csv(index=False), "age_group must match age_years", "age_group", i + 2)
    df = raw.copy()
    i = _first(df, (df["age_le5"] == "0") & (df["age_group"] == "2-14"))
    df.loc[i, "age_years"] = "4"
    _fails(tmp_path, df.to_csv(index=False), "age_le5 must be 1 exactly when", "age_le5", i + 2)


@pytest.mark.parametrize("date", ["2017-13-45", "2018-02-30", "17-05-01", ""])
def test_an_invalid_infusion_date_is_refused(tmp_path, raw, date):
    df = raw.copy()
    df.loc[2, "infusion_date"] = date
    _fails(tmp_path, df.to_csv(index=False), "date", "infusion_date", 4)


def test_a_ragged_row_is_named(tmp_path, raw):
    lines = _lines(raw)
    lines[5] = lines[5] + ",extra"
    _fails(tmp_path, "\n".join(lines), "row has .* fields, header has", None, 6)
    lines = _lines(raw)
    lines[5] = lines[5].rsplit(",", 3)[0]
    cols = list(raw.columns)
    _fails(tmp_path, "\n".join(lines), "fields, header has", cols[len(cols) - 3], 6)


def test_an_unterminated_quote_is_named(tmp_path, raw):
    lines = _lines(raw)
    cells = lines[7].split(",")
    cells[2] = '"' + cells[2]
    lines[7] = ",".join(cells)
    _fails(tmp_path, "\n".join(lines), "never closed", raw.columns[2], 8)


def test_a_carriage_return_in_a_line_is_named(tmp_path, raw):
    lines = _lines(raw)
    cells = lines[3].split(",")
    cells[4] = cells[4] + "\r" + "x"
    lines[3] = ",".join(cells)
    _fails(tmp_path, "\n".join(lines), "carriage return", raw.columns[4], 4)


def test_binary_and_nul_bytes_are_named(tmp_path):
    _fails(tmp_path, b"\x89PNG\r\n\x1a\n\0\0\0", "NUL byte", None, 3)


def test_blank_lines_are_counted_like_a_spreadsheet(tmp_path, raw):
    df = raw.copy()
    df.loc[4, "tp53"] = "2"
    lines = _lines(df)
    lines[2:2] = ["", ""]  # two blank lines after data row 1
    msg = _fails(tmp_path, "\n".join(lines), "0 or 1", "tp53", 8)
    assert "row 8" in msg
