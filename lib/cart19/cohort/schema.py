"""Schema and loader of the reconstructed cohort (data/cohort/cohort.csv).

The cohort is a RECONSTRUCTION from published aggregates (Zhang et al., Blood Adv 2020;4(10):
2325-2338), never the trial's data. This module states what a valid patient row is - types,
ranges, allowed categories and the clinical logic of Tables 3-4 and the Results (HSCT only after
CR/CRi, MRD-negative only in responders, relapse only after response, death not before relapse
or HSCT, follow-up covering every event, OS and LFS derived as Methods define them) - as a
pandera schema (the treatment-course columns of :mod:`cart19.reconstruction.treatment` are optional: checked when
present), and :func:`load_cohort` turns the first violation into
:class:`cart19.errors.InputError` naming file, column, 1-based row and rule.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError

from cart19.csvfile import read_frame
from cart19.errors import InputError
from cart19.paths import COHORT_CSV
from cart19.reconstruction.targets import CR_ASSESS_DAY
from cart19.reconstruction.treatment import BRIDGING_LEVELS

FLAGS = ["age_le5", "emd", "cns_leukemia", "testicular", "emd_diffuse", "emd_single_site",
         "bcr_abl", "cml_blast_crisis", "tel_aml1", "e2a_pbx1", "e2a_hlf", "ikzf1", "tp53",
         "other_mutation", "prior_hsct", "dli", "donor_derived_pbmc", "dose_lt1", "cri",
         "mrd_negative", "bcr_abl_neg_d30", "bcr_abl_neg_d60", "dexamethasone", "tocilizumab",
         "seizure", "hsct_after", "relapse", "death", "os_event", "lfs_event"]
DAYS = ["hsct_day", "relapse_day", "death_day", "cr_day"]           # empty when not applicable
DAYS_ALWAYS = ["followup_day", "os_days", "lfs_days"]
CATEGORIES = {
    "sex": ["M", "F"], "age_group": ["2-14", "15-61"], "blasts_cat": ["<5", "5-20", ">20"],
    "cns_status": ["CNS-1", "CNS-2", "CNS-3"], "complex_karyotype": ["yes", "no", "unknown"],
    "disease_status": ["refractory", "relapsed"], "costim": ["CD28", "4-1BB"],
    "dose_group": ["<3", ">=3"], "response": ["CR", "CRi", "NR"],
}
OPTIONAL_CATEGORIES = {
    "bcr_abl_type": ["P190", "P210"], "prior_relapse_time": [">=18 months", "<18 months"],
    "best_response_before": ["CR1", "CR2", "NR"],
    "donor_type": ["matched unrelated", "HLA-identical sibling", "haploidentical"],
    "conditioning": ["TBI", "Bu"], "relapse_cd19": ["CD19+", "CD19-"], "relapse_site": ["BM", "EMD"],
    "death_cause": ["leukemia", "GVHD", "infection", "other"],
    "gvhd_after_cart": ["acute grade 1", "acute grade 3", "chronic extensive"],
}
#: Treatment-course columns (cart19.reconstruction.treatment; Methods "Clinical procedures", Table 1 row labels).
#: OPTIONAL: checked whenever present, so a cohort written before they existed still loads.
TREATMENT_INTS = {"leukapheresis_to_infusion_days": "days must be >= 0",
                  "prior_chemo_cycles": "cycles must be >= 0"}
TREATMENT_CATEGORIES = {"bridging": list(BRIDGING_LEVELS)}
CONTINUOUS = {"age_years": (2, 75), "bm_blasts_pct": (0, 100), "dose_per_kg": (0, 100),
              "car_peak_pct": (0, 100), "transduction_pct": (0, 100)}
REQUIRED = (["patient_id", "infusion_date", "crs_grade", "neurotox_grade"] + FLAGS + DAYS + DAYS_ALWAYS
            + list(CATEGORIES) + list(OPTIONAL_CATEGORIES) + list(CONTINUOUS))


def _num(df, c):
    return pd.to_numeric(df[c], errors="coerce")


def _has(df, c):
    return _num(df, c).notna()


def _resp(df):
    return df["response"].isin(["CR", "CRi"])


def _implies(a, b):
    return ~a | b


#: Table 1's age groups ("2-14", "15-61" years): the youngest age of each
AGE_GROUPS = {"2-14": 2, "15-61": 15}


def _age_group_fits(d) -> pd.Series:
    age = _num(d, "age_years")
    return pd.Series(np.where(d["age_group"] == "2-14", age < AGE_GROUPS["15-61"],
                              age >= AGE_GROUPS["15-61"]), index=d.index)


# (rule, column blamed, vectorised check: True = row is fine)
LOGIC: list[tuple[str, str, callable]] = [
    ("age_group must match age_years (2-14: younger than 15 years; 15-61: 15 or older)", "age_group",
     _age_group_fits),
    ("age_le5 must be 1 exactly when age_years <= 5", "age_le5",
     lambda d: (d["age_le5"] == 1) == (_num(d, "age_years") <= 5)),
    ("HSCT after CAR T only after CR/CRi", "hsct_after", lambda d: _implies(d["hsct_after"] == 1, _resp(d))),
    ("MRD-negative only in responders", "mrd_negative", lambda d: _implies(d["mrd_negative"] == 1, _resp(d))),
    ("CRi only in responders", "cri", lambda d: (d["cri"] == 1) == (d["response"] == "CRi")),
    ("relapse only after a response", "relapse", lambda d: _implies(d["relapse"] == 1, _resp(d))),
    ("hsct_day given exactly when hsct_after = 1", "hsct_day", lambda d: _has(d, "hsct_day") == (d["hsct_after"] == 1)),
    ("relapse_day given exactly when relapse = 1", "relapse_day", lambda d: _has(d, "relapse_day") == (d["relapse"] == 1)),
    ("death_day given exactly when death = 1", "death_day", lambda d: _has(d, "death_day") == (d["death"] == 1)),
    ("cr_day given exactly for responders", "cr_day", lambda d: _has(d, "cr_day") == _resp(d)),
    ("relapse_cd19 given exactly when relapse = 1", "relapse_cd19",
     lambda d: (d["relapse_cd19"].fillna("") != "") == (d["relapse"] == 1)),
    ("death_cause given exactly when death = 1", "death_cause",
     lambda d: (d["death_cause"].fillna("") != "") == (d["death"] == 1)),
    ("donor_type given exactly when hsct_after = 1", "donor_type",
     lambda d: (d["donor_type"].fillna("") != "") == (d["hsct_after"] == 1)),
    ("relapse after the day-30 CR assessment", "relapse_day",
     lambda d: ~_has(d, "relapse_day") | (_num(d, "relapse_day") > _num(d, "cr_day").fillna(0))),
    ("relapse after HSCT (HSCT is given in CR)", "relapse_day",
     lambda d: ~(_has(d, "relapse_day") & _has(d, "hsct_day")) | (_num(d, "relapse_day") > _num(d, "hsct_day"))),
    ("death not before relapse", "death_day",
     lambda d: ~(_has(d, "relapse_day") & _has(d, "death_day")) | (_num(d, "death_day") >= _num(d, "relapse_day"))),
    ("death not before HSCT", "death_day",
     lambda d: ~(_has(d, "hsct_day") & _has(d, "death_day")) | (_num(d, "death_day") >= _num(d, "hsct_day"))),
    ("follow-up covers every event", "followup_day",
     lambda d: (_num(d, "followup_day") >= d[["hsct_day", "relapse_day", "death_day"]].apply(pd.to_numeric, errors="coerce").max(axis=1).fillna(0))),
    ("os_event equals death", "os_event", lambda d: d["os_event"] == d["death"]),
    ("os_days is the death day, else the last follow-up", "os_days",
     lambda d: _num(d, "os_days") == np.where(d["death"] == 1, _num(d, "death_day"), _num(d, "followup_day"))),
    ("lfs_event is relapse or death (non-responders: event at time 0)", "lfs_event",
     lambda d: d["lfs_event"] == np.where(_resp(d), ((d["relapse"] == 1) | (d["death"] == 1)).astype(int), 1)),
    ("lfs_days runs from the CR date to relapse, death or last follow-up (0 for non-responders)", "lfs_days",
     lambda d: _num(d, "lfs_days") == np.where(
         _resp(d),
         np.where(d["relapse"] == 1, _num(d, "relapse_day"),
                  np.where(d["death"] == 1, _num(d, "death_day"), _num(d, "followup_day")))
         - _num(d, "cr_day").fillna(CR_ASSESS_DAY), 0)),
]


def schema() -> pa.DataFrameSchema:
    """The pandera schema of one cohort table (types, ranges, categories, logic)."""
    # uniqueness as a check (not unique=True) so the error names the repeated row, not the first
    cols = {"patient_id": pa.Column(str, [pa.Check.str_matches(r"^\S+$"),
                                          pa.Check(lambda s: ~s.duplicated(keep="first"),
                                                   error="patient_id must be unique (duplicate id)")]),
            "infusion_date": pa.Column(str, [
                pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$", error="must be a date written YYYY-MM-DD"),
                pa.Check(lambda s: pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").notna(),
                         error="must be a real calendar date (YYYY-MM-DD)")]),
            "crs_grade": pa.Column(int, pa.Check.isin([0, 1, 2, 3, 4])),
            "neurotox_grade": pa.Column(int, pa.Check.isin([0, 1, 2, 3, 4]))}
    for c in FLAGS:
        cols[c] = pa.Column(int, pa.Check.isin([0, 1], error="flag must be 0 or 1"))
    for c in DAYS:
        cols[c] = pa.Column(float, pa.Check.ge(0, error="day must be >= 0"), nullable=True)
    for c in DAYS_ALWAYS:
        cols[c] = pa.Column(int, pa.Check.ge(0, error="day must be >= 0"))
    for c, allowed in CATEGORIES.items():
        cols[c] = pa.Column(str, pa.Check.isin(allowed))
    for c, allowed in OPTIONAL_CATEGORIES.items():
        cols[c] = pa.Column(str, pa.Check.isin(allowed + [""]))
    for c, (lo, hi) in CONTINUOUS.items():
        cols[c] = pa.Column(float, pa.Check.in_range(lo, hi, error=f"must be between {lo} and {hi}"))
    for c, rule in TREATMENT_INTS.items():
        cols[c] = pa.Column(int, pa.Check.ge(0, error=rule), required=False)
    for c, allowed in TREATMENT_CATEGORIES.items():
        cols[c] = pa.Column(str, pa.Check.isin(allowed, error=f"{c} must be one of {', '.join(allowed)}"),
                            required=False)
    checks = [pa.Check(fn, name=f"{col}: {rule}", error=rule) for rule, col, fn in LOGIC]
    return pa.DataFrameSchema(cols, checks=checks, strict=False, coerce=False)


def _read(path: Path) -> pd.DataFrame:
    """The file's cells as text (cart19.cohort.csvfile: structural faults named by row and column)."""
    return read_frame(path)


def _coerce(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Parse each column to its type, reporting the first cell that does not parse."""
    out = df.copy()
    for c in REQUIRED:
        if c not in out.columns:
            raise InputError(path, "required column is missing", column=c)
    ints = FLAGS + DAYS_ALWAYS + ["crs_grade", "neurotox_grade"] + [c for c in TREATMENT_INTS
                                                                     if c in out.columns]
    floats = DAYS + list(CONTINUOUS)
    rows = df.attrs.get("rows")
    for c in ints + floats:
        s = out[c].str.strip()
        num = pd.to_numeric(s, errors="coerce")
        bad = ((s != "") & num.isna()) | (num.notna() & ~np.isfinite(num))  # 'inf' parses as a number
        if c in ints or c in CONTINUOUS:
            bad |= s == ""
        if c in ints:
            bad |= num.notna() & np.isfinite(num) & (num != np.round(num))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            rule = ("must be a whole number" if c in ints else
                    "must be a finite number (every patient has one)" if c in CONTINUOUS else
                    "must be a finite number or empty")
            where = {"row": rows[i] if rows else i + 1}
            raise InputError(path, rule, column=c, value=df[c].iloc[i], **where)
        out[c] = num.astype(int) if c in ints else num.astype(float)
    return out


def validate(df: pd.DataFrame, path: str | Path = "<cohort>") -> pd.DataFrame:
    """Run the schema on a parsed cohort; raise InputError at the first violation."""
    return _validate_with(schema(), df, Path(path))


def not_infused_treatment_schema() -> pa.DataFrameSchema:
    """The treatment-course columns of not_infused.csv (cart19.reconstruction.treatment), optional: the bridging
    label in the allowed set; no leukapheresis-to-infusion interval (these patients were never
    infused, Methods: 110 of 115 products infused)."""
    allowed = TREATMENT_CATEGORIES["bridging"]
    return pa.DataFrameSchema({
        "bridging": pa.Column(str, pa.Check.isin(allowed, error=f"bridging must be one of {', '.join(allowed)}"),
                              required=False),
        "leukapheresis_to_infusion_days": pa.Column(
            object, pa.Check(lambda s: s.isna() | (s.astype(str).str.strip() == ""),
                             element_wise=False,
                             error="must be empty: a patient who was not infused has no interval to infusion"),
            required=False, nullable=True),
    }, strict=False, coerce=False)


def validate_not_infused_treatment(df: pd.DataFrame, path: str | Path = "<not_infused>") -> pd.DataFrame:
    """Check the optional treatment-course columns of data/cohort/not_infused.csv (as read by
    ``pd.read_csv(path, dtype=str, keep_default_na=False)`` or by pandas' defaults); InputError
    names file, column, row and rule."""
    df = df.copy()
    if "bridging" in df.columns:
        df["bridging"] = df["bridging"].fillna("").astype(str)
    if "leukapheresis_to_infusion_days" in df.columns:
        df["leukapheresis_to_infusion_days"] = df["leukapheresis_to_infusion_days"].astype(object)
    return _validate_with(not_infused_treatment_schema(), df, Path(path))


def _column_and_rule(err: SchemaError, df: pd.DataFrame) -> tuple[str | None, str]:
    """The column blamed and the rule broken, as the schema words them."""
    col = err.schema.name if getattr(err.schema, "name", None) in df.columns else None
    rule = str(err.check) if err.check is not None else str(err)
    if isinstance(err.check, pa.Check):
        rule = err.check.error or err.check.name or rule
        if err.check.name and ": " in str(err.check.name):
            col = str(err.check.name).split(": ", 1)[0]
    if "unique" in str(err).lower() or "duplicate" in str(err).lower():
        rule = "patient_id must be unique (duplicate id)"
    return col, rule


def _row_and_value(err: SchemaError, df: pd.DataFrame, col: str | None):
    """The 1-based row of the first failure and the value in it (None, None when unknown)."""
    fc = err.failure_cases
    if fc is None or not len(fc):
        return None, None
    idx = fc["index"].iloc[0] if "index" in fc.columns else None
    row = int(idx) + 1 if idx is not None and pd.notna(idx) else None
    if col is not None and row is not None:
        value = df[col].iloc[row - 1]
        return row, value.item() if isinstance(value, np.generic) else value  # 5, not np.int64(5)
    return row, fc["failure_case"].iloc[0] if "failure_case" in fc.columns else None


def _validate_with(sch: pa.DataFrameSchema, df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``sch`` on ``df``; the first failure as an InputError (the file's spreadsheet row when ``df``
    came from a file, else the frame's 1-based row)."""
    try:
        return sch.validate(df, lazy=False)
    except SchemaError as err:
        col, rule = _column_and_rule(err, df)
        row, value = _row_and_value(err, df, col)
        rows = df.attrs.get("rows")
        if rows and row is not None and row <= len(rows):
            row = rows[row - 1]
        raise InputError(path, rule, column=col, row=row, value=value) from None


def load_cohort(path: str | Path = COHORT_CSV) -> pd.DataFrame:
    """Read and validate data/cohort/cohort.csv (a reconstruction, not trial data)."""
    path = Path(path)
    df = _read(path)
    df = _coerce(df, path)
    for c in list(CATEGORIES) + list(OPTIONAL_CATEGORIES) + [c for c in TREATMENT_CATEGORIES
                                                             if c in df.columns]:
        df[c] = df[c].fillna("").astype(str)
    df = validate(df, path)
    df.attrs.pop("rows", None)  # the file's row numbers: for messages only
    df.attrs["source"] = str(path)
    return df
