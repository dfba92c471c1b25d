"""Continuous variables of the reconstructed cohort (issue 4, item 3).

The integer program (``cart19.reconstruction.pipeline``) gives each of the 110 infused
patients categories only (age group, blast category, dose group, ...).  This
module adds plausible continuous values that agree with those categories and
reproduce the published summaries of Zhang et al., Blood Adv 2020;4(10):2325:

* ``age_years``          Table 1 "Age, y 12 (2-61)"; Methods: busulfan-based
                         conditioning for age <= 5 y, TBI-based for > 5 y
                         (Table 4: Bu 6, TBI 69).
* ``bm_blasts_pct``      Table 1 "Percent blasts in BM 8.75 (0-96)"; Results:
                         only one patient with CNS leukaemia had no BM blasts.
* ``dose_per_kg``        Results: median 3 (0.2-10) x 1e5 CAR T cells/kg; five
                         patients below 1 x 1e5/kg, all in CR on day 30.
* ``car_peak_pct``       Results: peak 23.9% (0.1-90.6) of PB lymphocytes, and
                         Table 3 last column (20 subgroup means with dispersion).
* ``transduction_pct``   Results: transduction efficiency 51.4% (8.7-90.2).
* ``pb_blasts_pct``      Results: circulating blasts 6.5% (0-30) with EMD,
                         0% (0-65) without.
* ``csf_blasts_per_ml``  Results: CSF blasts 414 /mL (20-8415), CNS leukaemia
                         patients only (NaN for everyone else).

Every published number is read from ``data/published/claims.csv`` (via
``cart19.record.claims.load_claims``); nothing the paper prints is typed in here.
What *is* written here are definitions (category boundaries, the conditioning
age rule) and modelling assumptions (distribution shapes), each marked below.
These values are a reconstruction, not the trial's data: medians, ranges,
threshold counts and Table 3's subgroup means are *fitted*; everything else
about them (shape, correlations with outcomes) is an assumption or emergent.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cart19.errors import InputError

# --------------------------------------------------------------------------
# Column names of the categorical cohort (one-line change if they move).
# --------------------------------------------------------------------------
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

# Output columns added by assign_continuous.
OUT = ("age_years", "bm_blasts_pct", "dose_per_kg", "car_peak_pct",
       "transduction_pct", "pb_blasts_pct", "csf_blasts_per_ml")

# --------------------------------------------------------------------------
# Claim ids of the targets (data/published/ID_CONVENTIONS.md).  Several
# candidates are tried in order, so a renamed text claim is a one-line fix.
# --------------------------------------------------------------------------
TARGET_IDS = {
    "age": ["table1.age"],
    "bm_blasts": ["table1.bm_blasts"],
    "dose": ["results.dose.median", "results.dose"],
    "dose_below_target": ["results.dose.below_target.n", "results.dose.below_target"],
    "dose_threshold": ["results.dose.below_target.threshold"],     # value, cells/kg
    "dose_low_group": ["results.dose.low_target"],                  # min/max, cells/kg
    "car_peak": ["results.car_peak", "results.carpeak"],
    "transduction": ["results.transduction", "results.transduction_efficiency"],
    "pb_blasts_emd": ["results.emd.pb_blasts", "results.pb_blasts.emd"],
    "pb_blasts_no_emd": ["results.no_emd.pb_blasts", "results.pb_blasts.no_emd"],
    "csf_blasts": ["results.cns.csf_blasts", "results.csf_blasts"],
    "cns_no_bm_blasts": ["results.cns.no_bm_blasts"],
}
# Our dose column is in units of 1e5 CAR T cells/kg (the paper's unit); claims
# whose unit is plain cells per kg are divided by this.
DOSE_UNIT = 1e5
_PER_KG_UNITS = {"car t cells per kg", "cells per kg", "cells/kg", "car t cells/kg"}

# Table 3 factors: factor -> (level_a, level_b, function(cohort codes) -> bool mask of level_a).
# Level names are those of the claim ids table3.<outcome>.<factor>.<level>.
TABLE3_FACTORS = {
    "age": ("2_14", "15_61"),
    "sex": ("female", "male"),
    "bcr_abl": ("pos", "neg"),
    "tp53": ("pos", "neg"),
    "emd": ("without", "with"),
    "blasts20": ("le20", "gt20"),
    "blasts5": ("lt5", "ge5"),
    "costim": ("cd28", "41bb"),
    "prior_hsct": ("none", "post"),
    "dose": ("lt3", "ge3"),
}

# Definitions (not published numbers): category boundaries on the value grid
# used for each variable, and the conditioning age rule of the Methods.
AGE_CHILD = (2, 14)        # "2-14" group, the paper's paediatric group (inclusive)
AGE_ADULT_LO = 15          # "15-61" group starts at 15
BU_MAX_AGE = 5             # Methods: busulfan-based regimen for age 5 y or younger
BLAST_LT5_HI = 4.9         # "<5" on a 0.1 grid
BLAST_MID = (5.0, 20.0)    # "5 to <=20"
BLAST_GT20_LO = 20.1       # ">20" on a 0.1 grid
# Dose thresholds (x 1e5/kg) are read from claims when present (Methods/Results:
# targeted dose >= 1; dose groups "<3" / ">=3"); these defaults are the same
# definitions for a claims file without them.
DOSE_TARGET_LO = 1.0
DOSE_SPLIT = 3.0

_SOURCE = "<cohort frame>"
N_ASSIGN = 1000     # candidate rank assignments scored for the CAR T-cell peak
N_RESTART = 1       # best-scoring assignments fitted in full; the best fit is kept
SWAP_ROUNDS = 3     # rounds of median-side swaps per fit


class CohortColumnError(InputError, ValueError):
    """A needed categorical column is missing or holds an unreadable value.

    Subclasses ValueError (what callers of a pure function expect) and
    InputError (the project's rule: name file, column, row and rule).
    """


class TargetError(InputError, ValueError):
    """A published target needed here is absent from claims.csv."""


# ==========================================================================
# Reading the categorical cohort
# ==========================================================================
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
            raise CohortColumnError(_SOURCE, "expected 0/1", column=col, row=row, value=value)
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


def _read_codes(cohort: pd.DataFrame) -> dict[str, np.ndarray]:
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
            raise CohortColumnError(_SOURCE, f"needed categorical column {col!r}{also} is "
                                    f"missing (continuous.COLUMNS[{key!r}])", column=col)
        if key in _BINARY or key in ("age_le5", "dose_lt1"):
            codes[key] = _flag_values(cohort, col)
            continue
        out = []
        for row, value in enumerate(cohort[col].tolist(), start=1):
            s = _norm(value)
            if key in _SPELLINGS:
                if s not in _SPELLINGS[key]:
                    raise CohortColumnError(_SOURCE, "unknown category "
                                            f"(accepted: {sorted(set(_SPELLINGS[key]))})",
                                            column=col, row=row, value=value)
                out.append(_SPELLINGS[key][s])
            else:  # cns_status: free text, only ranked
                out.append(s)
        codes[key] = np.array(out, dtype=object)
    codes["response"] = codes["response"].astype(int)
    return codes


# ==========================================================================
# Reading the published targets
# ==========================================================================
@dataclass(frozen=True)
class MedianRange:
    claim_id: str
    median: float
    lo: float
    hi: float


def _claim_row(claims: pd.DataFrame, key: str) -> pd.Series:
    ids = claims["id"].astype(str)
    for cid in TARGET_IDS[key]:
        hit = claims[ids == cid]
        if len(hit):
            return hit.iloc[0]
    raise TargetError("data/published/claims.csv",
                      f"no claim for target {key!r}; tried ids {TARGET_IDS[key]} "
                      "(continuous.TARGET_IDS)", column="id")


def _unit_scale(row: pd.Series, key: str) -> float:
    if key.startswith("dose"):
        unit = str(row.get("unit") or "").strip().lower()
        if unit in _PER_KG_UNITS:
            return 1.0 / DOSE_UNIT
    return 1.0


def _median_range(claims: pd.DataFrame, key: str) -> MedianRange:
    r = _claim_row(claims, key)
    k = _unit_scale(r, key)
    vals = []
    for c in ("median", "min", "max"):
        v = pd.to_numeric(r.get(c), errors="coerce")
        if pd.isna(v):
            raise TargetError("data/published/claims.csv", f"claim {r['id']} lacks {c}",
                              column=c)
        vals.append(round(float(v) * k, 10))
    return MedianRange(str(r["id"]), *vals)


def _dose_thresholds(claims: pd.DataFrame) -> tuple[float, float]:
    """(targeted minimum, group split) in 1e5/kg, from claims where printed."""
    lo, split = DOSE_TARGET_LO, DOSE_SPLIT
    try:
        r = _claim_row(claims, "dose_threshold")
        v = pd.to_numeric(r.get("value"), errors="coerce")
        if not pd.isna(v):
            lo = round(float(v) * _unit_scale(r, "dose"), 10)
    except TargetError:
        pass
    try:
        r = _claim_row(claims, "dose_low_group")
        v = pd.to_numeric(r.get("max"), errors="coerce")
        if not pd.isna(v):
            split = round(float(v) * _unit_scale(r, "dose"), 10)
    except TargetError:
        pass
    return lo, split


def _count(claims: pd.DataFrame, key: str) -> tuple[str, int]:
    r = _claim_row(claims, key)
    n = pd.to_numeric(r.get("n"), errors="coerce")
    if pd.isna(n):
        n = pd.to_numeric(r.get("value"), errors="coerce")
    if pd.isna(n):
        raise TargetError("data/published/claims.csv", f"claim {r['id']} lacks n", column="n")
    return str(r["id"]), int(n)


def _load_claims() -> pd.DataFrame:
    from cart19.record.claims import load_claims  # local import: module owned by another engineer
    return load_claims()


# ==========================================================================
# Table 3 CAR T-cell peak groups (with the TP53 / previous-transplant swap)
# ==========================================================================
def _level_masks(codes: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """factor -> (mask of level_a, mask of level_b) in TABLE3_FACTORS order."""
    bl = codes["blasts_cat"]
    a = {
        "age": codes["age_group"] == "child",
        "sex": codes["sex"] == "female",
        "bcr_abl": codes["bcr_abl"] == 1,
        "tp53": codes["tp53"] == 1,
        "emd": codes["emd"] == 0,
        "blasts20": bl != "gt20",
        "blasts5": bl == "lt5",
        "costim": codes["costim"] == "cd28",
        "prior_hsct": codes["prior_hsct"] == 0,
        "dose": codes["dose_group"] == "lt3",
    }
    return {f: (m.astype(bool), ~m.astype(bool)) for f, m in a.items()}


@dataclass(frozen=True)
class PeakGroup:
    factor: str
    level: str            # level of the patients (our coding)
    claim_id: str         # claim whose mean/dispersion is the target for these patients
    mask: np.ndarray
    mean: float
    se: float             # printed dispersion (labelled SD), used as a standard error
    note: str


def _peak_groups(claims: pd.DataFrame, masks) -> list[PeakGroup]:
    """Attach each Table 3 CAR-peak row to a patient group.

    Rows are matched to groups by size: a row's N is read from the CR-rate
    claim of the same printed row (table3.cr.<factor>.<level>).  When the
    sizes say the printed labels are swapped (TP53 and previous transplant,
    cf. Table 1: 12 TP53-mutated, 16 post-transplant), the row goes to the
    group of matching size and the note says so.  Without usable N the
    printed label is used.
    """
    ids = claims["id"].astype(str)

    def row(cid):
        hit = claims[ids == cid]
        if not len(hit):
            raise TargetError("data/published/claims.csv", f"missing claim {cid}", column="id")
        return hit.iloc[0]

    groups = []
    for f, (la, lb) in TABLE3_FACTORS.items():
        ma, mb = masks[f]
        na, nb = int(ma.sum()), int(mb.sum())
        printed_N = {}
        for lev in (la, lb):
            hit = claims[ids == f"table3.cr.{f}.{lev}"]
            N = pd.to_numeric(hit.iloc[0].get("N"), errors="coerce") if len(hit) else np.nan
            printed_N[lev] = None if pd.isna(N) else int(N)
        swapped = (na != nb and printed_N[la] == nb and printed_N[lb] == na)
        for lev, mask, n in ((la, ma, na), (lb, mb, nb)):
            src = (lb if lev == la else la) if swapped else lev
            r = row(f"table3.carpeak.{f}.{src}")
            mean = float(pd.to_numeric(r.get("mean"), errors="coerce"))
            se = float(pd.to_numeric(r.get("dispersion"), errors="coerce"))
            if np.isnan(mean) or np.isnan(se):
                raise TargetError("data/published/claims.csv",
                                  f"claim {r['id']} lacks mean/dispersion", column="mean")
            note = ""
            if swapped:
                note = (f"printed row '{src}' (N={printed_N[src]}) assigned to the {n} "
                        f"patients with level '{lev}': labels swapped by group size")
            elif printed_N[lev] is not None and printed_N[lev] != n:
                note = f"group size {n} differs from printed N={printed_N[lev]}"
            groups.append(PeakGroup(f, lev, str(r["id"]), mask, mean, se, note))
    return groups


# ==========================================================================
# Order-statistic pinned sampling
# ==========================================================================
def _grid(x, dec):
    return np.round(np.asarray(x, dtype=float), dec)


def _median_pair(rng, median, dec, lo_seg, hi_seg, n_choices=3):
    """Two middle values (L, U) on the grid with (L+U)/2 == median,
    lo_seg <= L <= U <= hi_seg.  Picks one of the few closest pairs at random."""
    q = 10.0 ** -dec
    base = np.floor(median / q + 1e-9) * q
    cands = []
    for k in range(0, 50):
        L = round(base - k * q, dec)
        U = round(2 * median - L, dec)
        if abs((L + U) / 2 - median) > 1e-9 or L > U + 1e-12:
            continue
        if L < lo_seg - 1e-9 or U > hi_seg + 1e-9:
            break
        cands.append((L, U))
        if len(cands) == n_choices:
            break
    if not cands:
        raise ValueError(f"median {median} cannot be the midpoint of two grid values in "
                         f"[{lo_seg}, {hi_seg}] at {dec} decimals")
    # the exact median itself (or the closest pair) is the most likely choice
    w = 1.0 / (1.0 + np.arange(len(cands))) ** 2
    return cands[rng.choice(len(cands), p=w / w.sum())]


def _draw_between(rng, dist, a, b, size, dec):
    """`size` draws of `dist` truncated to [a, b], rounded to the grid, sorted.

    Inverse-CDF sampling over [a - q/2, b + q/2] so both end points of the grid
    interval are as likely as interior grid points after rounding."""
    if size <= 0:
        return np.empty(0)
    if b < a - 1e-12:
        raise ValueError(f"empty interval [{a}, {b}]")
    if b - a < 1e-12:
        return np.full(size, a)
    q = 10.0 ** -dec
    lo_c, hi_c = dist.cdf(a - q / 2), dist.cdf(b + q / 2)
    u = rng.uniform(lo_c, hi_c, size)
    if hi_c - lo_c < 1e-12:  # far tail: fall back to uniform
        v = rng.uniform(a, b, size)
    else:
        v = dist.ppf(u)
    return np.sort(np.clip(_grid(v, dec), a, b))


def _pinned_sorted(rng, segments, target: MedianRange, dec, dist, seg_dists=None):
    """Sorted sample with exact median, minimum and maximum.

    segments: list of (count, lo, hi) in increasing order, the category
    intervals on the value grid (e.g. blasts <5, 5-20, >20).  Position 0 gets
    target.lo, position n-1 target.hi, the middle position(s) the median (or a
    pair of grid values averaging it).  Every other position is drawn from
    `dist` (or ``seg_dists[s]`` for segment s) truncated to the intersection
    of its category interval and the interval between the neighbouring pinned
    values, so the published order statistics hold exactly whatever the draw.
    """
    n = sum(c for c, _, _ in segments)
    if n < 3 or (n % 2 == 0 and n < 4):
        raise ValueError(f"{n} values cannot carry a separate minimum, median and maximum")
    seg_of = np.repeat(np.arange(len(segments)), [c for c, _, _ in segments])
    seg_lo = np.array([segments[s][1] for s in seg_of])
    seg_hi = np.array([segments[s][2] for s in seg_of])
    pins = {0: target.lo, n - 1: target.hi}
    if n % 2:
        pins[n // 2] = target.median
    else:
        m = n // 2
        pins[m - 1], pins[m] = _median_pair(rng, target.median, dec,
                                            seg_lo[m - 1], seg_hi[m])
    for p, v in pins.items():
        if not (seg_lo[p] - 1e-9 <= v <= seg_hi[p] + 1e-9) and p not in (0, n - 1):
            raise ValueError(f"pinned value {v} at sorted position {p + 1} falls outside its "
                             f"category [{seg_lo[p]}, {seg_hi[p]}]: categories and published "
                             "median are incompatible")
    if target.lo > seg_hi[0] + 1e-9:
        raise ValueError(f"published minimum {target.lo} above the lowest category")
    if target.hi < seg_lo[-1] - 1e-9:
        raise ValueError(f"published maximum {target.hi} below the highest category")
    out = np.empty(n)
    anchors = sorted(pins)
    for p, v in pins.items():
        out[p] = v
    # blocks of free positions between consecutive anchors, split by segment
    for a_pos, b_pos in zip(anchors[:-1], anchors[1:]):
        free = np.arange(a_pos + 1, b_pos)
        if not len(free):
            continue
        for s in np.unique(seg_of[free]):
            idx = free[seg_of[free] == s]
            lo = max(segments[s][1], pins[a_pos])
            hi = min(segments[s][2], pins[b_pos])
            d = dist if seg_dists is None else seg_dists[s]
            out[idx] = _draw_between(rng, d, lo, hi, len(idx), dec)
    return out


# ==========================================================================
# Individual variables
# ==========================================================================
def _assign_age(rng, codes, target: MedianRange) -> np.ndarray:
    """Age in whole years (Table 1; Methods' conditioning rule; Table 4).

    Children (2-14) are split into 2-5 y and 6-14 y: busulfan-conditioned
    patients must be <= 5 y, TBI-conditioned > 5 y, the others are 2-5 y with
    the probability a uniform age over 2-14 gives (an assumption: no age
    distribution is published beyond median and range)."""
    child = codes["age_group"] == "child"
    cond = codes["conditioning"]
    hsct = codes["hsct_after"] == 1
    bu = hsct & (cond == "bu")
    tbi = hsct & (cond == "tbi")
    if np.any(bu & ~child):
        row = int(np.flatnonzero(bu & ~child)[0]) + 1
        raise CohortColumnError(_SOURCE, f"busulfan conditioning requires age <= {BU_MAX_AGE} "
                                "but the patient is in the 15-61 group",
                                column=COLUMNS["conditioning"], row=row)
    n_child, n_adult = int(child.sum()), int((~child).sum())
    if "age_le5" in codes:
        # the integer program already decided who is <= 5 y: respect it
        young = codes["age_le5"] == 1
        for bad, rule in ((young & ~child, "aged <= 5 but in the 15-61 group"),
                          (bu & ~young, "busulfan conditioning but not aged <= 5"),
                          (tbi & young, "TBI conditioning but aged <= 5")):
            if bad.any():
                raise CohortColumnError(_SOURCE, rule, column=COLUMNS["age_le5"],
                                        row=int(np.flatnonzero(bad)[0]) + 1)
        young_pat = np.flatnonzero(young)
        old_pat = np.flatnonzero(child & ~young)
    else:
        free = np.flatnonzero(child & ~bu & ~tbi)
        p_young = (BU_MAX_AGE - AGE_CHILD[0] + 1) / (AGE_CHILD[1] - AGE_CHILD[0] + 1)
        young_free = rng.random(len(free)) < p_young
        if not (bu & child).any() and not young_free.any() and len(free):
            young_free[rng.integers(len(free))] = True   # someone must be the 2-year-old
        young_pat = np.concatenate([np.flatnonzero(bu & child), free[young_free]])
        old_pat = np.concatenate([np.flatnonzero(tbi & child), free[~young_free]])
    n_young = len(young_pat)
    if n_young == 0 and target.lo <= BU_MAX_AGE:
        raise CohortColumnError(_SOURCE, f"no child can be aged {target.lo:g}: no patient may "
                                f"be <= {BU_MAX_AGE} y", column=COLUMNS["age_group"])
    # Assumption: adult ages skew young (log-normal centred on 28 y); children uniform.
    adult_dist = stats.lognorm(s=0.45, scale=28.0)
    child_dist = stats.uniform(AGE_CHILD[0] - 0.5, AGE_CHILD[1] - AGE_CHILD[0] + 1)
    segs = [(n_young, AGE_CHILD[0], BU_MAX_AGE), (n_child - n_young, BU_MAX_AGE + 1, AGE_CHILD[1]),
            (n_adult, AGE_ADULT_LO, target.hi)]
    dists = [child_dist, child_dist, adult_dist]
    keep = [i for i, sg in enumerate(segs) if sg[0] > 0]
    vals = _pinned_sorted(rng, [segs[i] for i in keep], target, 0, None,
                          seg_dists=[dists[i] for i in keep])
    young_vals = rng.permutation(vals[:n_young])
    old_vals = rng.permutation(vals[n_young:n_child])
    adult_vals = rng.permutation(vals[n_child:])
    age = np.empty(len(child))
    age[young_pat] = young_vals
    age[old_pat] = old_vals
    age[np.flatnonzero(~child)] = adult_vals
    return age


def _assign_bm_blasts(rng, codes, target: MedianRange, zero_cns: int) -> np.ndarray:
    """BM blasts % (Table 1), one decimal; the minimum (0%) goes to a CNS-leukaemia
    patient with <5% blasts and every other patient gets >= 0.1%, so exactly
    `zero_cns` (=1, Results) CNS patient has no BM blasts."""
    cat = codes["blasts_cat"]
    cns = codes["cns_leukemia"] == 1
    counts = [(cat == c).sum() for c in ("lt5", "5_20", "gt20")]
    if zero_cns != 1:
        raise ValueError(f"only one CNS patient without BM blasts is supported, got {zero_cns}")
    cand = np.flatnonzero((cat == "lt5") & cns)
    if target.lo == 0 and len(cand) == 0:
        raise CohortColumnError(_SOURCE, "no CNS-leukaemia patient has <5% BM blasts, so none "
                                "can have 0% (Results: one CNS patient without BM blasts)",
                                column=COLUMNS["blasts_cat"])
    # Assumption: blast % roughly log-uniform (many low values, a long tail).
    dist = stats.loguniform(0.05, 100.0)
    q = 0.1
    segs = [(counts[0], target.lo + q, BLAST_LT5_HI), (counts[1], *BLAST_MID),
            (counts[2], BLAST_GT20_LO, target.hi)]
    nz = [(c, a, b) for c, a, b in segs if c > 0]
    vals = _pinned_sorted(rng, nz, target, 1, dist)
    out = np.empty(len(cat))
    start = 0
    for (c, _, _), name in zip(segs, ("lt5", "5_20", "gt20")):
        block = vals[start:start + c]
        start += c
        pts = np.flatnonzero(cat == name)
        if name == "lt5" and c:
            zero_pat = rng.choice(cand)
            rest = rng.permutation(pts[pts != zero_pat])
            out[zero_pat] = block[0]
            out[rest] = block[1:]
        else:
            out[rng.permutation(pts)] = block
    return out


def _assign_dose(rng, codes, target: MedianRange, n_low: int,
                 thresholds: tuple[float, float]) -> np.ndarray:
    """Dose x 1e5 CAR T cells/kg (Results), one decimal.  The patients below the
    targeted minimum are those of the `dose_lt1` column when the cohort has it,
    else `n_low` (=5) drawn among the day-30 responders of the <3 group
    (Results: all achieved CR)."""
    lo_target, split = thresholds
    grp = codes["dose_group"]
    resp = codes["response"] == 1
    lt3 = np.flatnonzero(grp == "lt3")
    ge3 = np.flatnonzero(grp == "ge3")
    if "dose_lt1" in codes:
        low = codes["dose_lt1"] == 1
        for bad, rule in ((low & (grp != "lt3"), "dose below target but in the >=3 group"),
                          (low & ~resp, "dose below target but not a day-30 responder "
                           "(Results: all five achieved CR)")):
            if bad.any():
                raise CohortColumnError(_SOURCE, rule, column=COLUMNS["dose_lt1"],
                                        row=int(np.flatnonzero(bad)[0]) + 1)
        low_pat = np.flatnonzero(low)
    else:
        elig = np.flatnonzero((grp == "lt3") & resp)
        if len(elig) < n_low:
            raise CohortColumnError(_SOURCE, f"only {len(elig)} responders in the <3 dose "
                                    f"group; {n_low} low-dose patients must all be responders",
                                    column=COLUMNS["response"])
        low_pat = rng.choice(elig, n_low, replace=False)
    n_low = len(low_pat)
    # Assumption: within each interval doses are roughly log-uniform.
    dist = stats.loguniform(0.1, 12.0)
    segs = [(n_low, target.lo, round(lo_target - 0.1, 1)),
            (len(lt3) - n_low, lo_target, round(split - 0.1, 1)),
            (len(ge3), split, target.hi)]
    vals = _pinned_sorted(rng, [s for s in segs if s[0] > 0], target, 1, dist)
    out = np.empty(len(grp))
    mid_pat = rng.permutation(np.setdiff1d(lt3, low_pat))
    out[rng.permutation(low_pat)] = vals[:n_low]
    out[mid_pat] = vals[n_low:len(lt3)]
    out[rng.permutation(ge3)] = vals[len(lt3):]
    return out


def _simple(rng, n, target: MedianRange, dec, dist) -> np.ndarray:
    """n values (random order) with the published median and range."""
    if n == 0:
        return np.empty(0)
    return rng.permutation(_pinned_sorted(rng, [(n, target.lo, target.hi)], target, dec, dist))


def _comonotone(rng, score: np.ndarray, values: np.ndarray, rho: float) -> np.ndarray:
    """Give sorted `values` to patients in the order of a noisy `score`
    (Gaussian copula with correlation about rho on normal scores)."""
    n = len(score)
    if n == 0:
        return values
    ranks = stats.rankdata(score + rng.random(n) * 1e-6) / (n + 1)
    z = rho * stats.norm.ppf(ranks) + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    out = np.empty(n)
    out[np.argsort(z, kind="stable")] = np.sort(values)
    return out


# ==========================================================================
# CAR T-cell peak
# ==========================================================================
def _group_stats(x, groups):
    means = np.array([x[g.mask].mean() for g in groups])
    ses = np.array([x[g.mask].std(ddof=1) / np.sqrt(g.mask.sum()) if g.mask.sum() > 1 else 0.0
                    for g in groups])
    return means, ses


def _calibrated_gamma(target: MedianRange, mean: float, sd: float):
    """Gamma with the published median whose median-pinned, range-truncated
    sample has about the given mean and SD (closed-form partial moments:
    E[X^p; a<X<b] uses the gamma CDF with shape k+p).  A sample drawn so needs
    less correction later, so fewer values end up on the bounds."""
    a, m, b = target.lo, target.median, target.hi

    def moments(k):
        th = m / stats.gamma(k).median()
        def part(p, lo, hi):
            c = np.prod([k + j for j in range(p)]) * th ** p
            z = stats.gamma(k, scale=th)
            zp = stats.gamma(k + p, scale=th)
            return c * (zp.cdf(hi) - zp.cdf(lo)) / (z.cdf(hi) - z.cdf(lo))
        m1 = 0.5 * part(1, a, m) + 0.5 * part(1, m, b)
        m2 = 0.5 * part(2, a, m) + 0.5 * part(2, m, b)
        return m1, np.sqrt(max(m2 - m1 ** 2, 0.0)), th

    def loss(logk):
        m1, s1, _ = moments(np.exp(logk))
        return ((m1 - mean) / mean) ** 2 + ((s1 - sd) / sd) ** 2

    res = optimize.minimize_scalar(loss, bounds=(np.log(0.2), np.log(20.0)), method="bounded",
                                   options={"xatol": 1e-3})
    k = float(np.exp(res.x))
    return stats.gamma(k, scale=moments(k)[2])


def _assign_car_peak(rng, codes, target: MedianRange, groups: list[PeakGroup]) -> np.ndarray:
    """CAR T-cell peak (% of PB lymphocytes): Results median/range and Table 3.

    1. Quantile-matched draws: 110 values with the published median, minimum
       and maximum, from a gamma calibrated so the sample's mean and SD are
       about those implied by Table 3 (mean = pooled group means, SD = printed
       dispersion x sqrt(n), pooled over the groups).
    2. Assignment: an additive model fitted to the 20 subgroup means gives each
       patient an expected peak; values go to patients in the order of that
       expectation plus noise (best of N_ASSIGN noise draws), so subgroup
       means start near their targets.  The maximum goes to a patient whose
       subgroups can absorb it without exceeding their printed spread.
    3. Bounded linear least squares (lsq_linear): subgroup means are linear in
       the values, so they are met by the smallest move from step 2.  The
       minimum, maximum and the two middle order statistics are held fixed and
       every other value is bounded to its side of the median, which keeps the
       published median and range exact.  The 20 targets are not mutually
       consistent (each pair of rows implies a total: EMD and dose imply sums
       ~3151 and ~3159 where the others imply ~3148), so they are met in the
       least-squares sense, not exactly.
    4. SE step (least_squares, same bounds): the within-group spreads are
       quadratic, so a small nonlinear least squares nudges the values towards
       the printed dispersions read as standard errors while keeping the means.
    """
    n = len(codes["sex"])
    means_t = np.array([g.mean for g in groups])
    ses_t = np.array([g.se for g in groups])
    sizes = np.array([g.mask.sum() for g in groups])
    M = np.array([g.mask for g in groups], dtype=float) / sizes[:, None]   # group-mean operator

    # -- 1. marginal draws
    # implied overall mean: each factor's two rows imply one total; average them
    tot = [(means_t[i] * sizes[i] + means_t[i + 1] * sizes[i + 1]) / n
           for i in range(0, len(groups), 2)]
    mu_all = float(np.mean(tot))
    sd_all = float(np.sqrt(np.mean(ses_t ** 2 * sizes)))
    vals = _pinned_sorted(rng, [(n, target.lo, target.hi)], target, 1,
                          _calibrated_gamma(target, mu_all, sd_all))

    # -- 2. additive expectation and noisy rank assignment
    Z = np.column_stack([np.ones(n)] + [g.mask for g in groups[0::2]]).astype(float)
    beta, *_ = np.linalg.lstsq(M @ Z, means_t, rcond=None)
    expect = Z @ beta
    noise_sd = np.sqrt(max(sd_all ** 2 - expect.var(), 1.0))
    # Best of N_ASSIGN noisy rankings (closest subgroup means and SEs before any
    # optimisation): the less steps 3-4 must move values, the fewer end up
    # stacked on the bounds (median, extremes), which would look artificial.
    scores = expect + rng.normal(0, noise_sd, (N_ASSIGN, n))
    ranks = np.argsort(np.argsort(scores, axis=1, kind="stable"), axis=1)
    cand = vals[ranks]                                          # (N_ASSIGN, n)
    mu_c = cand @ M.T
    sd_c = np.sqrt(np.maximum((cand ** 2) @ M.T - mu_c ** 2, 0) * (sizes / (sizes - 1)))
    se_c = sd_c / np.sqrt(sizes)
    miss = (((mu_c - means_t) / ses_t) ** 2).sum(1) + (((se_c - ses_t) / ses_t * 10) ** 2).sum(1)
    sd_t = ses_t * np.sqrt(sizes)

    def absorbs(i, v):
        cost = [(v - means_t[k]) ** 2 / ((sizes[k] - 1) * sd_t[k] ** 2)
                for k, g in enumerate(groups) if g.mask[i] and sizes[k] > 1]
        return max(cost, default=0.0) <= 0.5

    best = None
    for c in np.argsort(miss)[:N_RESTART]:
        order = list(np.argsort(scores[c], kind="stable"))
        # The published extremes go to patients whose subgroups can absorb them:
        # e.g. 90.6 in a group of 16 with mean 23.75 alone implies an SD above
        # the printed 3.723 * sqrt(16), so such patients cannot hold the maximum.
        for v, top in ((target.hi, True), (target.lo, False)):
            cands = order[::-1] if top else order
            holder = next((i for i in cands if absorbs(i, v)), cands[0])
            order.remove(holder)
            order.append(holder) if top else order.insert(0, holder)
        x, cost = _fit_peak(np.array(order), vals, target, M, means_t, ses_t, groups, sd_all)
        if best is None or cost < best[1] - 1e-12:
            best = (x, cost)
    return _grid(best[0], 1)


def _fit_peak(order, vals, target, M, means_t, ses_t, groups, sd_all):
    """Steps 3-4 of _assign_car_peak for one rank assignment; returns (x, cost).

    Each patient's side of the median is fixed by its rank (that keeps the
    median exact).  A patient pushed against the median from below and one
    pushed against it from above would both gain by changing sides, so such
    pairs swap sides and the fit is repeated (up to SWAP_ROUNDS times)."""
    n = len(order)
    x0 = np.empty(n)
    x0[order] = vals                                  # rank r gets the r-th smallest value
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    m = n // 2
    fixed_ranks = {0, n - 1} | ({m - 1, m} if n % 2 == 0 else {m})
    fixed = np.isin(rank, list(fixed_ranks))
    free = ~fixed
    lo_med = vals[m - 1] if n % 2 == 0 else vals[m]
    hi_med = vals[m]
    below = rank < min(fixed_ranks - {0})
    w_mean, lam, w_se, lam2 = 50.0, 1.0 / sd_all, 10.0, 0.2 / sd_all
    Mf = M[:, free]
    masks_f = [g.mask[free] for g in groups]
    start = x0[free]
    for _ in range(SWAP_ROUNDS + 1):
        # values other than the published maximum stay one grid step below it
        # (a tie at the very top would be an artefact of the bounds, not data)
        lb = np.where(below, target.lo, hi_med)[free]
        ub = np.where(below, lo_med, target.hi - 0.1)[free]
        start = np.clip(start, lb, ub)
        # -- 3. linear step: min  w^2 |M x - t|^2 + lam^2 |x - start|^2  within bounds
        rhs = means_t - M[:, fixed] @ x0[fixed]
        A = np.vstack([w_mean * Mf, lam * np.eye(free.sum())])
        b = np.concatenate([w_mean * rhs, lam * start])
        x1f = optimize.lsq_linear(A, b, bounds=(lb, ub), method="trf",
                                  lsq_solver="lsmr", tol=1e-7).x

        # -- 4. SE step
        def full(xf):
            x = x0.copy()
            x[free] = xf
            return x

        def resid(xf):
            mu, se = _group_stats(full(xf), groups)
            return np.concatenate([w_mean * (mu - means_t), w_se * (se - ses_t),
                                   lam2 * (xf - x1f)])

        def jac(xf):
            x = full(xf)
            J_se = np.zeros((len(groups), free.sum()))
            for k, g in enumerate(groups):
                ng = g.mask.sum()
                xs = x[g.mask]
                sd = xs.std(ddof=1)
                if sd > 0:
                    d = (x - xs.mean()) / ((ng - 1) * sd * np.sqrt(ng))
                    J_se[k] = np.where(masks_f[k], d[free], 0.0)
            return np.vstack([w_mean * Mf, w_se * J_se, lam2 * np.eye(free.sum())])

        # lsmr trust-region solver: no dense SVD per iteration (dense LAPACK
        # calls are slow when BLAS threads compete on a busy 2-core machine);
        # ftol 1e-6 stops once the cost stalls at the floor set by the
        # inconsistent means.
        x2f = np.clip(optimize.least_squares(
            resid, np.clip(x1f, lb, ub), jac=jac, bounds=(lb, ub), method="trf",
            tr_solver="lsmr", max_nfev=100, xtol=1e-6, ftol=1e-6).x, lb, ub)
        x = full(x2f)
        mu, se = _group_stats(x, groups)
        cost = float((w_mean ** 2) * ((mu - means_t) ** 2).sum()
                     + (w_se ** 2) * ((se - ses_t) ** 2).sum())
        # patients stuck on the median bound, by side
        idx_free = np.flatnonzero(free)
        up = idx_free[below[free] & (x2f >= ub - 0.05)]      # below, want up
        down = idx_free[~below[free] & (x2f <= lb + 0.05)]   # above, want down
        k = min(len(up), len(down))
        if k == 0:
            break
        below[up[:k]] = False
        below[down[:k]] = True
        # restart the swapped values a little inside their new side, so the
        # proximity term does not hold them on the median
        full_start = full(x2f)
        full_start[up[:k]] += 1.0
        full_start[down[:k]] -= 1.0
        start = full_start[free]
    return x, cost


# ==========================================================================
# Public API
# ==========================================================================
def assign_continuous(cohort: pd.DataFrame, seed: int,
                      claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add continuous columns (see module docstring) to the categorical cohort.

    Pure and deterministic for a seed: returns a new frame (rows in the input
    order) with the columns of ``OUT`` added.  ``claims`` defaults to
    ``cart19.record.claims.load_claims()``.  Raises CohortColumnError (a ValueError)
    naming the column when a needed categorical column is missing or
    unreadable, or when the categories make a published summary impossible.
    """
    if claims is None:
        claims = _load_claims()
    codes = _read_codes(cohort)
    rng = np.random.default_rng(seed)
    n = len(cohort)
    out = cohort.copy()

    out["age_years"] = _assign_age(rng, codes, _median_range(claims, "age")).astype(int)
    _, zero_cns = _count(claims, "cns_no_bm_blasts")
    out["bm_blasts_pct"] = _assign_bm_blasts(rng, codes, _median_range(claims, "bm_blasts"),
                                             zero_cns)
    _, n_low = _count(claims, "dose_below_target")
    out["dose_per_kg"] = _assign_dose(rng, codes, _median_range(claims, "dose"), n_low,
                                      _dose_thresholds(claims))

    groups = _peak_groups(claims, _level_masks(codes))
    out["car_peak_pct"] = _assign_car_peak(rng, codes, _median_range(claims, "car_peak"), groups)

    # Assumption: transduction efficiency roughly normal around the median, SD 18 points.
    tr = _median_range(claims, "transduction")
    out["transduction_pct"] = _simple(rng, n, tr, 1, stats.norm(tr.median, 18.0))

    # Circulating PB blasts: published median/range per EMD status; given to
    # patients in the (noisy) order of their BM blasts (assumption: rho 0.7).
    pb = np.empty(n)
    for emd_value, key in ((1, "pb_blasts_emd"), (0, "pb_blasts_no_emd")):
        pts = np.flatnonzero(codes["emd"] == emd_value)
        t = _median_range(claims, key)
        dist = stats.expon(scale=max(t.median, 1.0) * 2)   # assumption: right-skewed
        v = _pinned_sorted(rng, [(len(pts), t.lo, t.hi)], t, 1, dist) if len(pts) else pts
        pb[pts] = _comonotone(rng, out["bm_blasts_pct"].to_numpy()[pts], v, 0.7)
    out["pb_blasts_pct"] = pb

    # CSF blasts for CNS-leukaemia patients only (integer cells/mL, log-scale
    # draws).  Assumption: higher CNS status tends to higher counts.
    csf = np.full(n, np.nan)
    cns = np.flatnonzero(codes["cns_leukemia"] == 1)
    t = _median_range(claims, "csf_blasts")
    if len(cns):
        v = _pinned_sorted(rng, [(len(cns), t.lo, t.hi)], t, 0, stats.loguniform(t.lo, t.hi))
        status = codes.get("cns_status")
        score = (np.array([{"cns3": 2.0, "cns2": 1.0}.get(s, 0.0) for s in status[cns]])
                 if status is not None else np.zeros(len(cns)))
        csf[cns] = _comonotone(rng, score, v, 0.5)
    out["csf_blasts_per_ml"] = csf
    return out


def continuous_fit(cohort: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Published vs reconstructed for every summary the continuous columns target.

    One row per (claim, statistic): columns id, stat, group, published,
    reconstructed, difference (reconstructed - published), basis ("fitted"),
    note.  Serves the fit table of the reconstruction chapter (Table 1 age and
    BM blasts; Results dose, transduction, CAR peak, PB and CSF blasts;
    Table 3 CAR-peak means and their printed dispersion read as SE).
    """
    for col in OUT:
        if col not in cohort.columns:
            raise CohortColumnError(_SOURCE, "continuous column missing: run "
                                    "assign_continuous first", column=col)
    codes = _read_codes(cohort)
    rows = []  # (id, stat, group, published, reconstructed, note)

    def add_mr(key, values, group):
        t = _median_range(claims, key)
        v = np.asarray(values, dtype=float)
        v = v[~np.isnan(v)]
        note = "in units of 1e5 cells/kg" if key == "dose" else ""
        for stat, pub, rec in (("median", t.median, np.median(v)), ("min", t.lo, v.min()),
                               ("max", t.hi, v.max())):
            rows.append((t.claim_id, stat, group, pub, float(rec), note))

    emd = codes["emd"] == 1
    cns = codes["cns_leukemia"] == 1
    add_mr("age", cohort["age_years"], "all")
    add_mr("bm_blasts", cohort["bm_blasts_pct"], "all")
    add_mr("dose", cohort["dose_per_kg"], "all")
    add_mr("car_peak", cohort["car_peak_pct"], "all")
    add_mr("transduction", cohort["transduction_pct"], "all")
    add_mr("pb_blasts_emd", cohort["pb_blasts_pct"][emd], "with EMD")
    add_mr("pb_blasts_no_emd", cohort["pb_blasts_pct"][~emd], "without EMD")
    add_mr("csf_blasts", cohort["csf_blasts_per_ml"][cns], "CNS leukaemia")

    cid, n_low = _count(claims, "dose_below_target")
    low = cohort["dose_per_kg"].to_numpy() < _dose_thresholds(claims)[0]
    rows.append((cid, "count", "dose < 1e5/kg", n_low, int(low.sum()), ""))
    rows.append((cid, "count_cr", "dose < 1e5/kg and day-30 CR", n_low,
                 int((low & (codes["response"] == 1)).sum()), "all low-dose patients in CR"))
    cid, n0 = _count(claims, "cns_no_bm_blasts")
    rows.append((cid, "count", "CNS leukaemia with 0% BM blasts", n0,
                 int((cns & (cohort["bm_blasts_pct"].to_numpy() == 0)).sum()), ""))

    peak = cohort["car_peak_pct"].to_numpy(dtype=float)
    for g in _peak_groups(claims, _level_masks(codes)):
        xs = peak[g.mask]
        label = f"{g.factor}={g.level} (n={g.mask.sum()})"
        rows.append((g.claim_id, "mean", label, g.mean, float(xs.mean()), g.note))
        rows.append((g.claim_id, "se", label, g.se, float(xs.std(ddof=1) / np.sqrt(len(xs))),
                     "printed as SD; compared as standard error of the mean"
                     + (f"; {g.note}" if g.note else "")))
        # the Results text repeats some rows rounded (results.carpeak.<factor>.<level>);
        # those factors carry no label problem, so they name the patients' own level
        text = claims[claims["id"].astype(str) == f"results.carpeak.{g.factor}.{g.level}"]
        if len(text):
            t = text.iloc[0]
            rows.append((str(t["id"]), "mean", label, float(t["mean"]), float(xs.mean()),
                         "Results text, rounded"))
            if not pd.isna(pd.to_numeric(t.get("dispersion"), errors="coerce")):
                rows.append((str(t["id"]), "se", label, float(t["dispersion"]),
                             float(xs.std(ddof=1) / np.sqrt(len(xs))),
                             "Results text, rounded; compared as standard error"))

    df = pd.DataFrame(rows, columns=["id", "stat", "group", "published", "reconstructed", "note"])
    df["published"] = df["published"].astype(float)
    df["reconstructed"] = df["reconstructed"].astype(float)
    df["difference"] = df["reconstructed"] - df["published"]
    df["basis"] = "fitted"
    return df[["id", "stat", "group", "published", "reconstructed", "difference", "basis", "note"]]
