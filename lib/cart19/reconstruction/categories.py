"""The categorical cohort as the continuous stage reads it (Zhang et al. 2020, Table 1 and Table 4).

The integer program gives each patient categories (age group, blast category, dose group,
conditioning, ...). :func:`read_codes` reads them, under the spellings a patient-level table may
use, into normalised codes per logical column; where a readable column is absent it derives it from
the stage-1 0/1 attributes. A value it cannot read raises :class:`CohortColumnError` naming the
column and the row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.errors import InputError

#: logical column -> column name in the categorical cohort
COLUMNS = {
    "age_group": "age_group",        # "2-14" / "15-61"
    "sex": "sex",                    # "M"/"F" or "male"/"female"
    "blasts_cat": "blasts_cat",      # "<5" / "5-20" / ">20"
    "emd": "emd",                    # 0/1
    "cns_leukemia": "cns_leukemia",  # 0/1
    "cns_status": "cns_status",      # optional: "CNS-2"/"CNS-3"/...
    "tp53": "tp53",                  # 0/1
    "bcr_abl": "bcr_abl",            # 0/1
    "costim": "costim",              # "CD28" / "4-1BB"
    "prior_hsct": "prior_hsct",      # 0/1
    "dose_group": "dose_group",      # "<3" / ">=3"  (x 1e5 cells/kg)
    "response": "response",          # day-30 response (CR / CRi / NR) or 0/1
    "hsct_after": "hsct_after",      # 0/1 bridged to allo-HSCT
    "conditioning": "conditioning",  # "TBI" / "Bu" / empty
    "age_le5": "age_le5",            # optional 0/1: aged <= 5 (stage-1 attribute)
    "dose_lt1": "dose_lt1",          # optional 0/1: dose < 1e5/kg (stage-1 attribute)
}
OPTIONAL = {"cns_status", "age_le5", "dose_lt1"}

# Fallback: when a readable column above is absent, derive it from the 0/1
# attributes of the stage-1 integer program (cart19.reconstruction.milp.ATTRS).
ATTR_FALLBACK = {
    "age_group": ("child",), "sex": ("male",), "blasts_cat": ("bl_lt5", "bl_gt20"),
    "cns_leukemia": ("cns",), "cns_status": ("cns2", "cns3"), "costim": ("cd28",),
    "dose_group": ("dose_ge3",), "response": ("cr",), "hsct_after": ("hsct",),
    "conditioning": ("hsct", "cond_bu"),
}

SOURCE = "<cohort frame>"


class CohortColumnError(InputError, ValueError):
    """A needed categorical column is missing or holds an unreadable value.

    Subclasses ValueError (what callers of a pure function expect) and
    InputError (the project's rule: name file, column, row and rule).
    """


def _norm(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    s = str(value).strip().lower().replace("≥", ">=").replace("≤", "<=")
    for ch in " _-–":
        s = s.replace(ch, "")
    if s.endswith(".0"):
        s = s[:-2]
    return s


_TRUE = {"1", "true", "yes", "y", "pos", "positive", "+", "with"}
_FALSE = {"0", "false", "no", "n", "neg", "negative", "-", "without"}
_SPELLINGS = {
    "age_group": {"214": "child", "child": "child", "pediatric": "child", "paediatric": "child",
                  "1561": "adult", "adult": "adult", ">14": "adult"},
    "sex": {"f": "female", "female": "female", "m": "male", "male": "male"},
    "blasts_cat": {"<5": "lt5", "lt5": "lt5", "520": "5_20", "5to20": "5_20", "5to<=20": "5_20",
                   "5<=20": "5_20", ">20": "gt20", "gt20": "gt20"},
    "costim": {"cd28": "cd28", "41bb": "41bb"},
    "dose_group": {"<3": "lt3", "lt3": "lt3", ">=3": "ge3", "ge3": "ge3"},
    "conditioning": {"tbi": "tbi", "bu": "bu", "busulfan": "bu", "": "none", "none": "none",
                     "nan": "none", "na": "none"},
    "response": {"cr": 1, "cri": 1, "mcr": 1, "1": 1, "true": 1, "yes": 1,
                 "nr": 0, "0": 0, "false": 0, "no": 0},
}
_BINARY = ("emd", "cns_leukemia", "tp53", "bcr_abl", "prior_hsct", "hsct_after")


def _flag_values(cohort: pd.DataFrame, col: str) -> np.ndarray:
    out = []
    for row, value in enumerate(cohort[col].tolist(), start=1):
        s = _norm(value)
        if s in _TRUE:
            out.append(1)
        elif s in _FALSE:
            out.append(0)
        else:
            raise CohortColumnError(SOURCE, "expected 0/1", column=col, row=row, value=value)
    return np.array(out, dtype=int)


def _from_attrs(cohort: pd.DataFrame, key: str) -> np.ndarray:
    """Readable category `key` derived from stage-1 0/1 attributes."""
    f = {c: _flag_values(cohort, c) for c in ATTR_FALLBACK[key]}
    if key == "age_group":
        return np.where(f["child"] == 1, "child", "adult").astype(object)
    if key == "sex":
        return np.where(f["male"] == 1, "male", "female").astype(object)
    if key == "blasts_cat":
        return np.where(f["bl_lt5"] == 1, "lt5",
                        np.where(f["bl_gt20"] == 1, "gt20", "5_20")).astype(object)
    if key == "cns_status":
        return np.where(f["cns3"] == 1, "cns3", np.where(f["cns2"] == 1, "cns2", "")).astype(object)
    if key == "costim":
        return np.where(f["cd28"] == 1, "cd28", "41bb").astype(object)
    if key == "dose_group":
        return np.where(f["dose_ge3"] == 1, "ge3", "lt3").astype(object)
    if key == "conditioning":
        return np.where(f["hsct"] == 0, "none",
                        np.where(f["cond_bu"] == 1, "bu", "tbi")).astype(object)
    return next(iter(f.values()))          # cns_leukemia, response, hsct_after: 0/1 as is


def read_codes(cohort: pd.DataFrame) -> dict[str, np.ndarray]:
    """Normalised category codes per logical column; errors name column and row.

    Reads the readable columns of COLUMNS; where one is absent but the stage-1
    0/1 attributes it derives from (ATTR_FALLBACK) are present, uses those."""
    codes: dict[str, np.ndarray] = {}
    for key, col in COLUMNS.items():
        if col not in cohort.columns:
            alt = ATTR_FALLBACK.get(key, ())
            if alt and all(a in cohort.columns for a in alt):
                codes[key] = _from_attrs(cohort, key)
                continue
            if key in OPTIONAL:
                continue
            also = f" (or stage-1 attribute(s) {list(alt)})" if alt else ""
            raise CohortColumnError(SOURCE, f"needed categorical column {col!r}{also} is "
                                    f"missing (categories.COLUMNS[{key!r}])", column=col)
        if key in _BINARY or key in ("age_le5", "dose_lt1"):
            codes[key] = _flag_values(cohort, col)
            continue
        out = []
        for row, value in enumerate(cohort[col].tolist(), start=1):
            s = _norm(value)
            if key in _SPELLINGS:
                if s not in _SPELLINGS[key]:
                    raise CohortColumnError(SOURCE, "unknown category "
                                            f"(accepted: {sorted(set(_SPELLINGS[key]))})",
                                            column=col, row=row, value=value)
                out.append(_SPELLINGS[key][s])
            else:  # cns_status: free text, only ranked
                out.append(s)
        codes[key] = np.array(out, dtype=object)
    codes["response"] = codes["response"].astype(int)
    return codes
