"""Reconstruct a pseudo patient-level cohort from the published aggregates.

THE TRIAL'S PATIENT-LEVEL DATA ARE NOT PUBLIC. This module builds one of many synthetic cohorts
of 110 infused patients that reproduce, exactly, every count the paper prints (Zhang et al., Blood
Adv 2020;4(10):2325-2338: Tables 1-4, Results text) and, within tolerance, its Kaplan-Meier
landmarks (Figures 2-7). It is a device for re-running the paper's analyses, never the trial data.

Pipeline (pure functions, one seed):

1. :func:`cart19.reconstruction.targets.bind` reads the claim values from ``data/published/claims.csv``;
2. :func:`cart19.reconstruction.milp.solve` - integer program for the categorical attributes;
3. :func:`cart19.reconstruction.times.assign_times` - days of HSCT, relapse, death and follow-up;
   :func:`cart19.reconstruction.printfit.print_fit` - the landmarks to their printed decimal and
   the caption HRs and P values of Figures 3-7 that can be targets;
4. :func:`to_cohort` - the patient table (columns documented in data/cohort/README.md);
5. ``cart19.reconstruction.continuous.assign_continuous`` (another module) - age, blasts, dose, CAR peak;
6. :func:`fit_table` - every target with published and reconstructed value (``fit.csv``).

CLI: ``python -m cart19 reconstruct --seed N --out data/cohort/cohort.csv``;
``python -m cart19 reconstruct --ensemble K --out-dir DIR`` draws K cohorts in parallel.
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from cart19.reconstruction import landmarks as landmarks_
from cart19.reconstruction import milp as milp_
from cart19.reconstruction import printfit
from cart19.reconstruction import times as times_
from cart19.reconstruction import targets as T
from cart19.paths import CLAIMS_CSV, COHORT_CSV

DEFAULT_SEED = 20200526  # the paper's online publication date
SA_ITERS = 20000

CONTINUOUS_COLS = ["age_years", "bm_blasts_pct", "dose_per_kg", "car_peak_pct", "transduction_pct"]

COLUMNS = [
    "patient_id", "infusion_date", "sex", "age_years", "age_group", "age_le5",
    "bm_blasts_pct", "blasts_cat", "emd", "cns_leukemia", "cns_status", "testicular",
    "emd_diffuse", "emd_single_site", "complex_karyotype", "bcr_abl", "bcr_abl_type",
    "cml_blast_crisis", "tel_aml1", "e2a_pbx1", "e2a_hlf", "ikzf1", "tp53", "other_mutation",
    "disease_status", "prior_hsct", "dli", "donor_derived_pbmc", "prior_relapse_time",
    "best_response_before", "costim", "dose_per_kg", "dose_group", "dose_lt1",
    "car_peak_pct", "transduction_pct", "response", "cri", "mrd_negative", "bcr_abl_neg_d30",
    "bcr_abl_neg_d60", "crs_grade", "dexamethasone", "tocilizumab", "neurotox_grade", "seizure",
    "hsct_after", "hsct_day", "donor_type", "conditioning", "relapse", "relapse_day",
    "relapse_cd19", "relapse_site", "death", "death_day", "death_cause", "gvhd_after_cart",
    "cr_day", "followup_day", "os_days", "os_event", "lfs_days", "lfs_event",
]

DAY_COLS = ["hsct_day", "relapse_day", "death_day", "cr_day"]


# ------------------------------------------------------------------------------------------
# attributes <-> cohort columns
# ------------------------------------------------------------------------------------------
def to_cohort(a: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Patient table from stage-1 attributes and stage-2 days; rows in infusion order."""
    a = a.reset_index(drop=True)
    days = days.reset_index(drop=True)
    b = lambda k: a[k].astype(int)
    pick = lambda conds, default="": np.select([a[k].astype(bool) for k, _ in conds],
                                               [v for _, v in conds], default)
    c = pd.DataFrame(index=a.index)
    c["infusion_date"] = days["infusion_date"].astype(str)
    c["sex"] = np.where(a["male"] == 1, "M", "F")
    for col in CONTINUOUS_COLS:
        c[col] = np.nan
    c["age_group"] = np.where(a["child"] == 1, "2-14", "15-61")
    c["age_le5"] = b("age_le5")
    c["blasts_cat"] = pick([("bl_lt5", "<5"), ("bl_5_20", "5-20"), ("bl_gt20", ">20")])
    c["emd"], c["cns_leukemia"] = b("emd"), b("cns")
    c["cns_status"] = pick([("cns3", "CNS-3"), ("cns2", "CNS-2")], "CNS-1")
    c["testicular"], c["emd_diffuse"], c["emd_single_site"] = b("testicular"), b("diffuse"), b("single_site")
    c["complex_karyotype"] = pick([("complex_yes", "yes"), ("complex_unk", "unknown")], "no")
    c["bcr_abl"] = b("bcr_abl")
    c["bcr_abl_type"] = np.where(a["bcr_abl"] == 1, np.where(a["bcr_p190"] == 1, "P190", "P210"), "")
    c["cml_blast_crisis"] = b("cml_bc")
    for k in ("tel_aml1", "e2a_pbx1", "e2a_hlf", "ikzf1", "tp53"):
        c[k] = b(k)
    c["other_mutation"] = b("other_mut")
    c["disease_status"] = np.where(a["refractory"] == 1, "refractory", "relapsed")
    c["prior_hsct"], c["dli"], c["donor_derived_pbmc"] = b("prior_hsct"), b("dli"), b("donor_pbmc")
    c["prior_relapse_time"] = np.where(a["child"] == 1,
                                       np.where(a["t2_rel_ge18"] == 1, ">=18 months", "<18 months"), "")
    c["best_response_before"] = pick([("t2_cr1", "CR1"), ("t2_cr2", "CR2"), ("t2_nr", "NR")])
    c["costim"] = np.where(a["cd28"] == 1, "CD28", "4-1BB")
    c["dose_group"] = np.where(a["dose_ge3"] == 1, ">=3", "<3")
    c["dose_lt1"] = b("dose_lt1")
    c["response"] = np.where(a["cr"] == 0, "NR", np.where(a["cri"] == 1, "CRi", "CR"))
    c["cri"], c["mrd_negative"] = b("cri"), b("mrd_neg")
    c["bcr_abl_neg_d30"], c["bcr_abl_neg_d60"] = b("bcr_neg_d30"), b("bcr_neg_d60")
    c["crs_grade"] = sum(k * a[f"crs{k}"] for k in range(5)).astype(int)
    c["dexamethasone"], c["tocilizumab"] = b("dex"), b("toci")
    c["neurotox_grade"] = sum(k * a[f"neuro{k}"] for k in range(4)).astype(int)
    c["seizure"] = b("seizure")
    c["hsct_after"] = b("hsct")
    c["donor_type"] = pick([("donor_mud", "matched unrelated"), ("donor_sib", "HLA-identical sibling"),
                            ("donor_haplo", "haploidentical")])
    c["conditioning"] = np.where(a["hsct"] == 1, np.where(a["cond_bu"] == 1, "Bu", "TBI"), "")
    c["relapse"] = b("relapse")
    c["relapse_cd19"] = np.where(a["relapse"] == 1, np.where(a["rel_cd19neg"] == 1, "CD19-", "CD19+"), "")
    c["relapse_site"] = np.where(a["relapse"] == 1, np.where(a["rel_emd"] == 1, "EMD", "BM"), "")
    c["death"] = b("death")
    c["death_cause"] = pick([("dc_relapse", "leukemia"), ("dc_gvhd", "GVHD"),
                             ("dc_infection", "infection"), ("dc_other", "other")])
    acute_rank = a["gvhd_acute"].cumsum()
    c["gvhd_after_cart"] = np.where(a["gvhd_acute"] == 1,
                                    np.where(acute_rank == 1, "acute grade 1", "acute grade 3"),
                                    np.where(a["gvhd_chronic"] == 1, "chronic extensive", ""))
    for col in ("hsct_day", "relapse_day", "death_day"):
        c[col] = days[col].where(days[col] >= 0).astype("Int64")
    c["cr_day"] = pd.Series(np.where(a["cr"] == 1, T.CR_ASSESS_DAY, -1)).where(a["cr"] == 1).astype("Int64")
    for col in ("followup_day", "os_days", "os_event", "lfs_days", "lfs_event"):
        c[col] = days[col].astype(int)
    c = c.sort_values(["infusion_date"], kind="stable").reset_index(drop=True)
    c.insert(0, "patient_id", [f"R{i + 1:03d}" for i in range(len(c))])
    return c[[k for k in COLUMNS if k in c.columns] + [k for k in c.columns if k not in COLUMNS]]


def attributes_from_cohort(c: pd.DataFrame) -> pd.DataFrame:
    """The stage-1 binary attributes recomputed from the patient table (to check targets on a CSV)."""
    f = lambda col: pd.to_numeric(c[col], errors="coerce").fillna(0).astype(int)
    s = lambda col: c[col].fillna("").astype(str)
    a = pd.DataFrame(index=c.index)
    a["male"] = (s("sex") == "M").astype(int)
    a["child"] = (s("age_group") == "2-14").astype(int)
    a["age_le5"] = f("age_le5")
    a["bl_lt5"] = (s("blasts_cat") == "<5").astype(int)
    a["bl_5_20"] = (s("blasts_cat") == "5-20").astype(int)
    a["bl_gt20"] = (s("blasts_cat") == ">20").astype(int)
    a["cns"], a["emd"] = f("cns_leukemia"), f("emd")
    a["cns2"] = (s("cns_status") == "CNS-2").astype(int) * a["cns"]
    a["cns3"] = (s("cns_status") == "CNS-3").astype(int) * a["cns"]
    a["testicular"], a["diffuse"], a["single_site"] = f("testicular"), f("emd_diffuse"), f("emd_single_site")
    a["complex_yes"] = (s("complex_karyotype") == "yes").astype(int)
    a["complex_unk"] = (s("complex_karyotype") == "unknown").astype(int)
    for k in ("bcr_abl", "tel_aml1", "e2a_pbx1", "e2a_hlf", "ikzf1", "tp53"):
        a[k] = f(k)
    a["bcr_p190"] = (s("bcr_abl_type") == "P190").astype(int)
    a["cml_bc"] = f("cml_blast_crisis")
    a["other_mut"] = f("other_mutation")
    a["refractory"] = (s("disease_status") == "refractory").astype(int)
    a["prior_hsct"], a["dli"], a["donor_pbmc"] = f("prior_hsct"), f("dli"), f("donor_derived_pbmc")
    a["cd28"] = (s("costim") == "CD28").astype(int)
    a["dose_ge3"] = (s("dose_group") == ">=3").astype(int)
    a["dose_lt1"] = f("dose_lt1")
    a["t2_rel_ge18"] = (s("prior_relapse_time") == ">=18 months").astype(int)
    for k in ("cr1", "cr2", "nr"):
        a[f"t2_{k}"] = (s("best_response_before") == k.upper()).astype(int)
    a["cr"] = s("response").isin(["CR", "CRi"]).astype(int)
    a["cri"] = (s("response") == "CRi").astype(int)
    a["mrd_neg"] = f("mrd_negative")
    g = f("crs_grade")
    for k in range(5):
        a[f"crs{k}"] = (g == k).astype(int)
    a["crs12"], a["crs34"] = g.isin([1, 2]).astype(int), g.isin([3, 4]).astype(int)
    g = f("neurotox_grade")
    for k in range(4):
        a[f"neuro{k}"] = (g == k).astype(int)
    a["neuro23"] = g.isin([2, 3]).astype(int)
    a["seizure"], a["dex"], a["toci"] = f("seizure"), f("dexamethasone"), f("tocilizumab")
    a["bcr_neg_d30"], a["bcr_neg_d60"] = f("bcr_abl_neg_d30"), f("bcr_abl_neg_d60")
    a["hsct"] = f("hsct_after")
    a["donor_mud"] = (s("donor_type") == "matched unrelated").astype(int)
    a["donor_sib"] = (s("donor_type") == "HLA-identical sibling").astype(int)
    a["donor_haplo"] = (s("donor_type") == "haploidentical").astype(int)
    a["cond_bu"] = (s("conditioning") == "Bu").astype(int)
    a["relapse"] = f("relapse")
    a["rel_cd19neg"] = (s("relapse_cd19") == "CD19-").astype(int)
    a["rel_emd"] = (s("relapse_site") == "EMD").astype(int)
    rd = pd.to_numeric(c["relapse_day"], errors="coerce")
    dd = pd.to_numeric(c["death_day"], errors="coerce")
    a["rel_early"] = ((a["relapse"] == 1) & (rd <= T.EARLY_DAY)).astype(int)
    a["death"] = f("death")
    for k, v in (("dc_relapse", "leukemia"), ("dc_gvhd", "GVHD"), ("dc_infection", "infection"),
                 ("dc_other", "other")):
        a[k] = (s("death_cause") == v).astype(int)
    a["death_early"] = ((a["death"] == 1) & (dd <= T.EARLY_DAY)).astype(int)
    a["short_fu"] = ((a["death"] == 0) & (a["relapse"] == 0) & (a["cr"] == 1) & (a["hsct"] == 0)
                     & (f("os_days") < T.EARLY_DAY)).astype(int)
    a["gvhd_acute"] = s("gvhd_after_cart").str.startswith("acute").astype(int)
    a["gvhd_chronic"] = s("gvhd_after_cart").str.startswith("chronic").astype(int)
    a["lfs_ev"] = ((a["relapse"] == 1) | (a["death"] == 1) | (a["cr"] == 0)).astype(int)
    a["hsct_after"] = a["hsct"]
    return a


# ------------------------------------------------------------------------------------------
# the fit table
# ------------------------------------------------------------------------------------------
def fit_table(cohort: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Every target: published vs reconstructed, tolerance, basis (fitted / overridden)."""
    bound = T.bind(claims)
    a = attributes_from_cohort(cohort)
    rows = []
    for t, val in bound.counts:
        got = milp_.evaluate(a, t.where)
        rows.append(dict(claim_id=t.claim_id, target=f"count {t.field}", published=val,
                         reconstructed=got, tolerance=0.0, basis="fitted", met=got == val))
    day = {k: pd.to_numeric(cohort[k], errors="coerce") for k in ("os_days", "hsct_day", "relapse_day", "death_day")}
    for t, val in bound.times:
        x = day[t.column][T.where_mask(a, t.where)].dropna().to_numpy(float)
        got = {"median": np.median, "min": np.min, "max": np.max}[t.stat](x) if len(x) else np.nan
        rows.append(dict(claim_id=t.claim_id, target=f"{t.stat} {t.column}", published=val,
                         reconstructed=float(got), tolerance=0.0, basis="fitted", met=bool(got == val)))
    for t, pct, days in bound.km:
        m = T.where_mask(a, t.where)
        tt = pd.to_numeric(cohort[f"{t.endpoint}_days"]).to_numpy(float)[m]
        ee = pd.to_numeric(cohort[f"{t.endpoint}_event"]).to_numpy(int)[m]
        s, nr = times_.km_at(tt, ee, days)
        tol = times_.km_tolerance(s, nr)
        rows.append(dict(claim_id=t.claim_id, target=f"KM {t.endpoint} at {days:g} d",
                         published=pct, reconstructed=round(100 * s, 2), tolerance=round(tol, 2),
                         basis="fitted", met=bool(times_.km_within(abs(100 * s - pct), tol))))
    for cid in sorted(T.OVERRIDDEN):
        base = cid.split(":")[0]
        pub = claims.loc[base].get("n", "") if base in claims.index else ""
        rows.append(dict(claim_id=cid, target="overridden (decisions.csv)", published=pub,
                         reconstructed=np.nan, tolerance=np.nan, basis="overridden", met=np.nan))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------
# one reconstruction
# ------------------------------------------------------------------------------------------
#: neighbourhood moves (8 patients each) from the base cohort for one reconstruction
SINGLE_MOVES = 12
#: moves between consecutive cohorts of an ensemble chain
CHAIN_MOVES = 3
#: target-preserving random moves of the days after the targets hold (diversity of the days)
EXPLORE = 300
#: independent chains of an ensemble (fixed, so that K cohorts do not depend on n_jobs)
CHAINS = 2
#: stage-2 iterations of a warm start before the step is retried with another walk
WARM_ITERS = 4000
#: attempts at one step before giving up (a warm stage 2 that cannot reach its goal)
TRIES = 5
BASE_CODE = ("cart19.reconstruction.milp", "cart19.reconstruction.times", "cart19.reconstruction.targets",
             "cart19.reconstruction.printfit", "cart19.reconstruction.landmarks", "cart19.reconstruction.days")


def _continuous(cohort: pd.DataFrame, seed: int, claims: pd.DataFrame) -> pd.DataFrame:
    from cart19.reconstruction.continuous import assign_continuous
    return assign_continuous(cohort, seed, claims)


def _treatment(cohort, not_inf, claims, seed):
    from cart19.reconstruction.treatment import assign_treatment, treatment_fit
    c, ni = assign_treatment(cohort, not_inf, claims, seed)
    return c, ni, treatment_fit(c, ni, claims)


def inputs_hash(claims_path, code: tuple[str, ...], *extra: str) -> str:
    """sha256 over the claims file, the named cart19 modules (dotted name and bytes) and ``extra``:
    the content key of anything computed from them (the base cohort, a drawn ensemble)."""
    import hashlib
    import importlib.util
    h = hashlib.sha256(Path(claims_path).read_bytes())
    for name in code:
        h.update(name.encode())
        h.update(Path(importlib.util.find_spec(name).origin).read_bytes())
    for x in extra:
        h.update(x.encode())
    return h.hexdigest()


def _base_key(claims_path) -> str:
    return inputs_hash(claims_path, BASE_CODE, str(DEFAULT_SEED), T.inputs_digest())[:20]


#: the committed base cohort (same format as the cache file, plus its key): a fresh clone with
#: unchanged claims and reconstruction code starts every reconstruction from it, without the
#: one-off base solve (integer program + cold stage-2 search + polish, ~15-20 s)
BASE_NPZ = COHORT_CSV.parent / "base.npz"


def _save_base(path: Path, key: str, attrs, days, allow) -> None:
    from cart19 import io
    with io.atomic_open(path, "wb", parents=True) as fh:  # own temp file: workers may race
        np.savez_compressed(fh, key=np.array(key), attrs=attrs.to_numpy(), inf=days.inf,
                            early=days.early, h=days.h, r=days.r, d=days.d, allow_t=allow[0],
                            allow_km=allow[1], allow_spread=allow[2])


_BASE_ARRAYS = ("key", "attrs", "inf", "early", "h", "r", "d", "allow_t", "allow_km", "allow_spread")


def _read_base(path: Path, key: str):
    """The base state stored at ``path``; None when there is no file or it was computed for
    other claims or code (stale, not an error). InputError, naming the file and the array,
    when the file is not a well-formed base."""
    from cart19.errors import InputError
    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            x = {k: z[k] for k in z.files}
    except Exception as e:  # a truncated or non-npz file
        raise InputError(path, f"not a readable .npz base cohort ({type(e).__name__}: {e}); "
                               "regenerate it with `python -m cart19 reconstruct`") from None
    missing = [k for k in _BASE_ARRAYS if k not in x]
    if missing:
        raise InputError(path, f"the base cohort must hold arrays {', '.join(_BASE_ARRAYS)}",
                         column=missing[0])
    if str(x["key"]) != key:
        return None
    n = milp_.N_PATIENTS
    shapes = {"attrs": (n, len(milp_.ATTRS)), **{k: (n,) for k in ("inf", "early", "h", "r", "d")}}
    for k, shape in shapes.items():
        if x[k].shape != shape:
            raise InputError(path, f"array {k} must have shape {shape}, not {x[k].shape}", column=k)
    attrs = pd.DataFrame(x["attrs"], columns=list(milp_.ATTRS))
    return (attrs, times_.Days(x["inf"], x["early"], x["h"], x["r"], x["d"]),
            (x["allow_t"], x["allow_km"], float(x["allow_spread"])))


def _load_base(path: Path, key: str, strict: bool):
    """:func:`_read_base`, except that a malformed file is None unless ``strict`` (the
    committed file is an input and must be right; a cache file is simply re-solved)."""
    from cart19.errors import InputError
    try:
        return _read_base(path, key)
    except InputError:
        if strict:
            raise
        return None


def _cache_path(key: str) -> Path:
    from cart19.paths import ROOT
    return ROOT / ".cache" / "cart19" / f"base-{key}.npz"


def base_state(claims_path, bound, cache: bool = True):
    """The base cohort every reconstruction walks from: a full integer-program solve with the
    objective of ``DEFAULT_SEED`` and a cold stage-2 search, polished (together ~15-20 s).

    With ``cache``, read first from ``.cache/cart19/`` (git-ignored), then from the committed
    ``data/cohort/base.npz``, each only if it was computed for the same claims file and
    reconstruction code (the key); otherwise, or with ``cache=False``, solved and written to
    ``.cache``. Both solves are deterministic, so the result is the same from any source (a
    test re-solves and compares with the committed file). Returns (attrs, Days, allow):
    ``allow`` says which time / KM targets the base misses and by how much
    (:func:`cart19.reconstruction.times.allowances`); no walked cohort may miss more.
    """
    key = _base_key(claims_path)
    if cache:
        for path, strict in ((_cache_path(key), False), (BASE_NPZ, True)):
            st = _load_base(path, key, strict)
            if st is not None:
                return st
    attrs = milp_.solve(bound.counts, DEFAULT_SEED, planning=T.planning_windows(bound))
    _, _, days = times_.assign_times(attrs, bound, DEFAULT_SEED, max_iters=SA_ITERS,
                                     polish=times_.POLISH_BASE)
    _, days, _ = printfit.print_fit(attrs, bound, days, DEFAULT_SEED, printfit.PRINT_BASE,
                                    landmarks_.landmarks_of(claims_path),
                                    captions=printfit.caption_targets(T.read_claims(claims_path), attrs))
    allow = times_.allowances(attrs, bound, days)
    _save_base(_cache_path(key), key, attrs, days, allow)
    return attrs, days, allow


def _commit_base(claims_path) -> None:
    """Copy the base of the current claims and code to BASE_NPZ, where a fresh clone finds it
    (after a reconstruction: if the committed copy is not current, the base was just solved
    and cached). A no-op when the committed copy is current."""
    from cart19 import io
    key = _base_key(claims_path)
    if _load_base(BASE_NPZ, key, strict=False) is None:
        io.write_bytes(BASE_NPZ, _cache_path(key).read_bytes())


def step(attrs, days, allow, bound, seed: int, moves: int, explore: int = EXPLORE,
         polish: int = times_.POLISH_STEP, fit: int = printfit.PRINT_STEP, landmarks=None,
         captions=None):
    """From one cohort (attributes and days) to the next: ``moves`` neighbourhood moves of the
    integer program, then stage 2 warm-started from the previous days. If stage 2 cannot meet
    every target (within ``allow``) the step is retried with the next sub-seed (at most ``TRIES`` times).
    Then ``fit`` iterations pull the landmarks into their printed windows
    and the caption comparisons towards their printed HR and P
    (:func:`cart19.reconstruction.printfit.print_fit`; ``landmarks``, ``captions``: default, the
    committed claims'). Returns (attrs, day frame, Days)."""
    planning = T.planning_windows(bound)
    pinned = times_.extreme_holders(attrs, bound, days)
    for attempt in range(TRIES):
        sub = int(np.random.SeedSequence([seed, attempt]).generate_state(1)[0])
        new = milp_.walk(attrs, bound.counts, planning, sub, moves, pinned=pinned)
        frame, hard, new_days = times_.assign_times(new, bound, sub, explore=explore,
                                                    warm=(attrs, days), allow=allow,
                                                    max_iters=WARM_ITERS, polish=polish)
        if hard == 0.0:
            if fit:
                lms = landmarks_.landmarks_of() if landmarks is None else landmarks
                caps = printfit.caption_targets(T.read_claims(), new) if captions is None else captions
                frame, new_days, _ = printfit.print_fit(new, bound, new_days, sub, fit, lms, allow, caps)
            return new, frame, new_days
    raise RuntimeError(f"stage 2 could not meet the time targets after {TRIES} attempts "
                       f"(seed {seed})")


def _finish(attrs, frame, claims, seed, fit: bool = True):
    """Patient table, continuous and treatment columns, and (with ``fit``) the fit table."""
    cohort = _continuous(to_cohort(attrs, frame), seed, claims)
    not_inf = not_infused_table(len(cohort))
    cohort, not_inf, tfit = _treatment(cohort, not_inf, claims, seed)
    if not fit:
        return cohort, not_inf, None
    return cohort, not_inf, pd.concat([fit_table(cohort, claims), tfit], ignore_index=True)


def reconstruct(claims_path: str | Path = CLAIMS_CSV, seed: int = DEFAULT_SEED,
                moves: int = SINGLE_MOVES, cache: bool = True):
    """One cohort: the base cohort, ``moves`` neighbourhood moves drawn with ``seed``, stage 2
    warm-started from the base days, then the continuous variables. Returns
    (cohort, not_infused, fit)."""
    claims = T.read_claims(claims_path)
    bound = T.bind(claims, claims_path, strict=True)
    quick = milp_.explain_infeasibility(bound.counts, milp_.N_PATIENTS, lp_only=True)
    if quick is not None:  # an impossible claim is reported before any long solve
        raise quick
    attrs, days, allow = base_state(claims_path, bound, cache)
    attrs, frame, _ = step(attrs, days, allow, bound, seed, moves, polish=times_.POLISH_SINGLE,
                           fit=printfit.PRINT_SINGLE, landmarks=landmarks_.landmarks_of(claims_path),
                           captions=printfit.caption_targets(claims, attrs))
    return _finish(attrs, frame, claims, seed)


def not_infused_table(n_infused: int, n_enrolled: int = 115) -> pd.DataFrame:
    """The enrolled patients who were not infused (Methods: 110 of 115 products infused)."""
    k = n_enrolled - n_infused
    return pd.DataFrame({
        "patient_id": [f"X{i + 1:03d}" for i in range(k)],
        "status": ["enrolled, not infused"] * k,
        "reason": ["CAR T-cell product not manufactured or not infused (reason not published)"] * k,
    })


def write_outputs(cohort, not_inf, fit, out: Path) -> None:
    """The cohort and its siblings, all replaced in one step or none (cart19.io.write_all); the
    directory of ``out`` must exist."""
    from cart19 import io
    out = Path(out)
    csv = {"index": False, "lineterminator": "\n"}
    io.write_all({out: cohort.to_csv(**csv), out.parent / "not_infused.csv": not_inf.to_csv(**csv),
                  out.parent / "fit.csv": fit.to_csv(**csv)})


def chain_seed(base_seed: int, chain: int, j: int) -> int:
    """Seed of the j-th cohort of a chain (distinct for every chain and position)."""
    return int(np.random.SeedSequence([base_seed, chain, j]).generate_state(1)[0])


def _chain(chain: int, length: int, claims_path: str, out_dir: str, base_seed: int) -> list[str]:
    """``length`` cohorts, each ``CHAIN_MOVES`` moves on from the one before (the first from the
    base cohort); written as cohort_c{chain}_{j}.csv."""
    from cart19 import io
    claims = T.read_claims(claims_path)
    bound = T.bind(claims, claims_path, strict=True)
    attrs, days, allow = base_state(claims_path, bound)
    lms = landmarks_.landmarks_of(claims_path)
    caps = printfit.caption_targets(claims, attrs)
    out = []
    for j in range(length):
        seed = chain_seed(base_seed, chain, j)
        attrs, frame, days = step(attrs, days, allow, bound, seed, CHAIN_MOVES, landmarks=lms,
                                  captions=caps)
        cohort, _ni, _ = _finish(attrs, frame, claims, seed, fit=False)
        p = Path(out_dir) / f"cohort_c{chain}_{j:03d}.csv"
        io.write_csv(p, cohort)
        out.append(str(p))
    return out


def ensemble(k: int, out_dir: str | Path, claims_path=CLAIMS_CSV, base_seed: int = DEFAULT_SEED,
             n_jobs: int = 2, chains: int = CHAINS) -> list[str]:
    """K distinct cohorts for the uncertainty analysis, as ``chains`` Markov chains over the
    feasible cohorts, run in parallel with joblib.

    Each chain starts at the base cohort; every next cohort is ``CHAIN_MOVES`` neighbourhood
    moves (8 patients re-solved each) and a warm stage 2 away from the one before, so every
    cohort meets every target the base meets. Consecutive cohorts of a chain are correlated
    (they share most patients); the ensemble chapter reports how much. The cohorts depend on
    (K, base_seed, chains) only, not on ``n_jobs``. Returns the paths in chain order.
    """
    from joblib import Parallel, delayed
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    claims = T.read_claims(claims_path)
    base_state(claims_path, T.bind(claims, claims_path, strict=True))  # solve once, then cached
    lengths = [k // chains + (1 if c < k % chains else 0) for c in range(chains)]
    parts = Parallel(n_jobs=n_jobs)(delayed(_chain)(c, n, str(claims_path), str(out_dir), base_seed)
                                    for c, n in enumerate(lengths) if n)
    return [p for part in parts for p in part]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cart19 reconstruct",
                                 description="Reconstruct a pseudo patient-level cohort (not trial data).")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=str(COHORT_CSV),
                    help="cohort CSV; siblings not_infused/fit (and, for the default "
                         "claims and directory, base.npz: the base cohort, committed)")
    ap.add_argument("--claims", default=str(CLAIMS_CSV))
    ap.add_argument("--moves", type=int, default=SINGLE_MOVES,
                    help="neighbourhood moves from the base cohort")
    ap.add_argument("--no-cache", action="store_true", help="re-solve the base cohort")
    ap.add_argument("--ensemble", type=int, default=0, metavar="K")
    ap.add_argument("--out-dir", default="data/cohort/ensemble")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--leave-one-out", metavar="CSV", default="",
                    help="write the leave-one-out check of the caption targets (issue 16) to CSV")
    args = ap.parse_args(argv)
    from cart19.errors import InputError  # argument rules, checked before any solve (issue 18)
    for name, lo in (("seed", 0), ("moves", 0), ("ensemble", 0), ("jobs", 1)):
        if getattr(args, name) < lo:
            raise InputError(f"command line (--{name})", f"must be a whole number >= {lo}",
                             value=getattr(args, name))
    if not args.ensemble and not Path(args.out).parent.is_dir():
        raise InputError("command line (--out)", f"directory {Path(args.out).parent} does not exist "
                                                 "(create it first; nothing written)", value=args.out)
    if args.leave_one_out:
        from cart19 import io
        io.write_csv(Path(args.leave_one_out), printfit.leave_one_out_table(args.claims))
        print(f"wrote {args.leave_one_out}")
        return 0
    if args.ensemble:
        paths = ensemble(args.ensemble, args.out_dir, args.claims, args.seed, args.jobs)
        print(f"wrote {len(paths)} cohorts to {args.out_dir}")
        return 0
    cohort, not_inf, fit = reconstruct(args.claims, args.seed, args.moves, cache=not args.no_cache)
    write_outputs(cohort, not_inf, fit, Path(args.out))
    if (Path(args.out).resolve().parent == BASE_NPZ.parent.resolve()
            and Path(args.claims).resolve() == Path(CLAIMS_CSV).resolve()):
        _commit_base(args.claims)  # the base this cohort walked from, for fresh clones
    n_miss = int((fit["met"] == False).sum())  # noqa: E712
    print(f"wrote {args.out}: {len(cohort)} patients; {len(fit)} targets, {n_miss} not met")
    return 0
