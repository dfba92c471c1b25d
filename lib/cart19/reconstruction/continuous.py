"""Continuous variables of the reconstructed cohort.

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
``cart19.reconstruction.summaries``); nothing the paper prints is typed in here.
What *is* written here are definitions (category boundaries, the conditioning
age rule) and modelling assumptions (distribution shapes), each marked below.
These values are a reconstruction, not the trial's data: medians, ranges,
threshold counts and Table 3's subgroup means are *fitted*; everything else
about them (shape, correlations with outcomes) is an assumption or emergent.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cart19.reconstruction.carpeak import assign_car_peak, level_masks, peak_groups
from cart19.reconstruction.categories import COLUMNS, SOURCE, CohortColumnError, read_codes
from cart19.reconstruction.pinned import pinned_sorted
from cart19.reconstruction.summaries import (MedianRange, claim_count, default_claims,
                                             dose_thresholds, median_range)

__all__ = ["COLUMNS", "OUT", "CohortColumnError", "assign_continuous", "continuous_fit"]

OUT = ("age_years", "bm_blasts_pct", "dose_per_kg", "car_peak_pct",
       "transduction_pct", "pb_blasts_pct", "csf_blasts_per_ml")

# Definitions (not published numbers): category boundaries on the value grid
# used for each variable, and the conditioning age rule of the Methods.
AGE_CHILD = (2, 14)        # "2-14" group, the paper's paediatric group (inclusive)
AGE_ADULT_LO = 15          # "15-61" group starts at 15
BU_MAX_AGE = 5             # Methods: busulfan-based regimen for age 5 y or younger
BLAST_LT5_HI = 4.9         # "<5" on a 0.1 grid
BLAST_MID = (5.0, 20.0)    # "5 to <=20"
BLAST_GT20_LO = 20.1       # ">20" on a 0.1 grid


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
        raise CohortColumnError(SOURCE, f"busulfan conditioning requires age <= {BU_MAX_AGE} "
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
                raise CohortColumnError(SOURCE, rule, column=COLUMNS["age_le5"],
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
        raise CohortColumnError(SOURCE, f"no child can be aged {target.lo:g}: no patient may "
                                f"be <= {BU_MAX_AGE} y", column=COLUMNS["age_group"])
    # Assumption: adult ages skew young (log-normal centred on 28 y); children uniform.
    adult_dist = stats.lognorm(s=0.45, scale=28.0)
    child_dist = stats.uniform(AGE_CHILD[0] - 0.5, AGE_CHILD[1] - AGE_CHILD[0] + 1)
    segs = [(n_young, AGE_CHILD[0], BU_MAX_AGE), (n_child - n_young, BU_MAX_AGE + 1, AGE_CHILD[1]),
            (n_adult, AGE_ADULT_LO, target.hi)]
    dists = [child_dist, child_dist, adult_dist]
    keep = [i for i, sg in enumerate(segs) if sg[0] > 0]
    vals = pinned_sorted(rng, [segs[i] for i in keep], target, 0, None,
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
        raise CohortColumnError(SOURCE, "no CNS-leukaemia patient has <5% BM blasts, so none "
                                "can have 0% (Results: one CNS patient without BM blasts)",
                                column=COLUMNS["blasts_cat"])
    # Assumption: blast % roughly log-uniform (many low values, a long tail).
    dist = stats.loguniform(0.05, 100.0)
    q = 0.1
    segs = [(counts[0], target.lo + q, BLAST_LT5_HI), (counts[1], *BLAST_MID),
            (counts[2], BLAST_GT20_LO, target.hi)]
    nz = [(c, a, b) for c, a, b in segs if c > 0]
    vals = pinned_sorted(rng, nz, target, 1, dist)
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
                raise CohortColumnError(SOURCE, rule, column=COLUMNS["dose_lt1"],
                                        row=int(np.flatnonzero(bad)[0]) + 1)
        low_pat = np.flatnonzero(low)
    else:
        elig = np.flatnonzero((grp == "lt3") & resp)
        if len(elig) < n_low:
            raise CohortColumnError(SOURCE, f"only {len(elig)} responders in the <3 dose "
                                    f"group; {n_low} low-dose patients must all be responders",
                                    column=COLUMNS["response"])
        low_pat = rng.choice(elig, n_low, replace=False)
    n_low = len(low_pat)
    # Assumption: within each interval doses are roughly log-uniform.
    dist = stats.loguniform(0.1, 12.0)
    segs = [(n_low, target.lo, round(lo_target - 0.1, 1)),
            (len(lt3) - n_low, lo_target, round(split - 0.1, 1)),
            (len(ge3), split, target.hi)]
    vals = pinned_sorted(rng, [s for s in segs if s[0] > 0], target, 1, dist)
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
    return rng.permutation(pinned_sorted(rng, [(n, target.lo, target.hi)], target, dec, dist))


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
        claims = default_claims()
    codes = read_codes(cohort)
    rng = np.random.default_rng(seed)
    n = len(cohort)
    out = cohort.copy()

    out["age_years"] = _assign_age(rng, codes, median_range(claims, "age")).astype(int)
    _, zero_cns = claim_count(claims, "cns_no_bm_blasts")
    out["bm_blasts_pct"] = _assign_bm_blasts(rng, codes, median_range(claims, "bm_blasts"),
                                             zero_cns)
    _, n_low = claim_count(claims, "dose_below_target")
    out["dose_per_kg"] = _assign_dose(rng, codes, median_range(claims, "dose"), n_low,
                                      dose_thresholds(claims))

    groups = peak_groups(claims, level_masks(codes))
    out["car_peak_pct"] = assign_car_peak(rng, codes, median_range(claims, "car_peak"), groups)

    # Assumption: transduction efficiency roughly normal around the median, SD 18 points.
    tr = median_range(claims, "transduction")
    out["transduction_pct"] = _simple(rng, n, tr, 1, stats.norm(tr.median, 18.0))

    # Circulating PB blasts: published median/range per EMD status; given to
    # patients in the (noisy) order of their BM blasts (assumption: rho 0.7).
    pb = np.empty(n)
    for emd_value, key in ((1, "pb_blasts_emd"), (0, "pb_blasts_no_emd")):
        pts = np.flatnonzero(codes["emd"] == emd_value)
        t = median_range(claims, key)
        dist = stats.expon(scale=max(t.median, 1.0) * 2)   # assumption: right-skewed
        v = pinned_sorted(rng, [(len(pts), t.lo, t.hi)], t, 1, dist) if len(pts) else pts
        pb[pts] = _comonotone(rng, out["bm_blasts_pct"].to_numpy()[pts], v, 0.7)
    out["pb_blasts_pct"] = pb

    # CSF blasts for CNS-leukaemia patients only (integer cells/mL, log-scale
    # draws).  Assumption: higher CNS status tends to higher counts.
    csf = np.full(n, np.nan)
    cns = np.flatnonzero(codes["cns_leukemia"] == 1)
    t = median_range(claims, "csf_blasts")
    if len(cns):
        v = pinned_sorted(rng, [(len(cns), t.lo, t.hi)], t, 0, stats.loguniform(t.lo, t.hi))
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
            raise CohortColumnError(SOURCE, "continuous column missing: run "
                                    "assign_continuous first", column=col)
    codes = read_codes(cohort)
    rows = []  # (id, stat, group, published, reconstructed, note)

    def add_mr(key, values, group):
        t = median_range(claims, key)
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

    cid, n_low = claim_count(claims, "dose_below_target")
    low = cohort["dose_per_kg"].to_numpy() < dose_thresholds(claims)[0]
    rows.append((cid, "count", "dose < 1e5/kg", n_low, int(low.sum()), ""))
    rows.append((cid, "count_cr", "dose < 1e5/kg and day-30 CR", n_low,
                 int((low & (codes["response"] == 1)).sum()), "all low-dose patients in CR"))
    cid, n0 = claim_count(claims, "cns_no_bm_blasts")
    rows.append((cid, "count", "CNS leukaemia with 0% BM blasts", n0,
                 int((cns & (cohort["bm_blasts_pct"].to_numpy() == 0)).sum()), ""))

    peak = cohort["car_peak_pct"].to_numpy(dtype=float)
    for g in peak_groups(claims, level_masks(codes)):
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
