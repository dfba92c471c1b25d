"""Treatment-course quantities of the reconstructed cohort: vein-to-vein time, bridging, prior cycles.

The paper prints three patient-level quantities only as summaries (Zhang et al., Blood Adv
2020;4(10):2325-2338):

- Methods, "Clinical procedures": time from leukapheresis to CAR T-cell infusion, median 14 days
  (range 9-35) (claim ``methods.vein_to_vein``);
- Methods, "Clinical procedures": 85 (73.9%) of 115 enrolled patients had bridging chemotherapy
  between leukapheresis and lymphodepletion, 71 of low to medium intensity and 14 intensive or
  count-suppressive (``methods.bridging``, ``methods.bridging.low``, ``methods.bridging.intensive``);
- Table 1, row labels of "Disease status": median of 3 cycles of chemotherapy before CAR T for the
  refractory patients and 10 for the relapsed (``table1.status.refractory.cycles``,
  ``table1.status.relapsed.cycles``).

:func:`assign_treatment` gives every reconstructed patient a value of each, so that every printed
median, range and count holds EXACTLY on the reconstruction; :func:`treatment_fit` checks it. The
values are read from the claims table (never typed here); what the paper does not print (the shape
of each distribution, the range of the cycle counts) is an assumption stated below.

**Independent of outcomes by construction.** The paper says nothing about how these quantities
relate to response, toxicity, transplant, relapse or survival, so they are assigned by a seeded
random permutation that ignores every outcome column. Any association between them and an outcome
in the reconstruction is therefore null by construction and must not be interpreted. The only
link kept is a calendar one: no leukapheresis is dated before enrolment opened (1 April 2017,
Results, first paragraph), which restricts the interval of the few patients infused in the first
weeks (it depends on the infusion date alone, never on an outcome).

**Vein-to-vein time of the 5 patients who were never infused.** The Methods paragraph that gives
the 14-day median speaks of all 115 enrolled patients, but an interval *to infusion* exists only for
a patient who was infused. We read the median and range as computed over the patients who have
both dates, i.e. the 110 infused, and leave the value empty for the 5 enrolled patients who were not
infused (``not_infused.csv``): inventing an infusion that never happened would be dishonest. The
bridging label, in contrast, is given to all 115 (bridging happens before lymphodepletion, which
the Methods say all 115 received). Prior chemotherapy cycles are given to the 110 infused patients
only: Table 1 describes the infused cohort and ``disease_status`` (refractory/relapsed) is known only
for them.

This is a RECONSTRUCTION, never the trial's data.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cart19.reconstruction import targets as T
from cart19.errors import InputError
from cart19.paths import CLAIMS_CSV

VEIN_TO_VEIN = "methods.vein_to_vein"
BRIDGING = "methods.bridging"
BRIDGING_LOW = "methods.bridging.low"
BRIDGING_INTENSIVE = "methods.bridging.intensive"
CYCLES = {"refractory": "table1.status.refractory.cycles", "relapsed": "table1.status.relapsed.cycles"}
#: every claim :func:`assign_treatment` targets
CLAIM_IDS = (VEIN_TO_VEIN, BRIDGING, BRIDGING_LOW, BRIDGING_INTENSIVE, *CYCLES.values())

BRIDGING_LEVELS = ("none", "low-moderate", "intensive")
COLUMNS = ("leukapheresis_to_infusion_days", "bridging", "prior_chemo_cycles")

#: ASSUMPTION (the paper prints no range for the cycle counts): values lie between median / 2 and
#: 2 x median (e.g. 2-6 cycles around the refractory median of 3, 5-20 around the relapsed 10).
CYCLES_SPREAD = 2.0
#: ASSUMPTION on the shape above the median: intervals and cycle counts are right-skewed, so the
#: upper half is drawn with probability decaying as exp(-(v - median) / ((hi - median) / TAIL)).
TAIL = 3.0


def enrolment_opened() -> pd.Timestamp:
    """The day enrolment opened (Results, first paragraph; ``calendar.enrolment_start`` of
    ``data/published/design.yml``): no leukapheresis before it."""
    from cart19.record import design
    return pd.Timestamp(design.load().calendar["enrolment_start"].date)


def _claims_by_id(claims: pd.DataFrame) -> pd.DataFrame:
    if "id" in claims.columns and claims.index.name != "id":
        return claims.set_index("id", drop=False)
    return claims


def _src(claims: pd.DataFrame):
    return claims.attrs.get("source", CLAIMS_CSV)


def _row_of(claims: pd.DataFrame, cid: str) -> int | None:
    """1-based data row of a claim (claims frames keep the file's order)."""
    ids = list(claims["id"]) if "id" in claims.columns else list(claims.index)
    return ids.index(cid) + 1 if cid in ids else None


def _optional(claims: pd.DataFrame, cid: str, fld: str) -> float | None:
    try:
        return T.claim_value(claims, cid, fld, _src(claims))
    except InputError:
        return None


def _bad(claims: pd.DataFrame, cid: str, column: str, rule: str, value=None) -> InputError:
    return InputError(_src(claims), f"claim {cid!r}: {rule}", column=column,
                      row=_row_of(claims, cid), value=value)


def _integers_with_summary(rng: np.random.Generator, n: int, median: float, lo: float, hi: float,
                           pin_ends: bool, cid: str, claims: pd.DataFrame) -> np.ndarray:
    """n whole numbers in [lo, hi] whose median is exactly ``median`` (and whose minimum and maximum
    are exactly ``lo`` and ``hi`` when ``pin_ends``), in random order.

    Own code, not a library: no distribution in numpy/scipy lets one fix an order statistic
    exactly; this places the middle value(s) at the median, one patient at each printed end, and
    draws the rest within each half (uniform below the median, a decaying tail above it, see
    :data:`TAIL`). Raises InputError naming the claim when the summary cannot hold.
    """
    if n < 1:
        raise _bad(claims, cid, "median", "no patients to carry this summary")
    if not lo <= median:
        raise _bad(claims, cid, "min", f"min {lo:g} > median {median:g}: cannot hold", lo)
    if not median <= hi:
        raise _bad(claims, cid, "max", f"max {hi:g} < median {median:g}: cannot hold", hi)
    if pin_ends and (lo != math.floor(lo) or hi != math.floor(hi)):
        raise _bad(claims, cid, "min", f"range {lo:g}-{hi:g} is not in whole units")
    if (2 * median) % 1 or (n % 2 and median % 1):
        raise _bad(claims, cid, "median", f"median {median:g} is not a median of {n} whole numbers",
                   median)
    mid = [int(median)] if n % 2 else [math.floor(median), math.ceil(median)]
    k = (n - len(mid)) // 2                         # values on each side of the middle
    lo_i, hi_i = math.ceil(lo), math.floor(hi)
    if pin_ends and ((lo_i < mid[0] and k == 0) or (hi_i > mid[-1] and k == 0)):
        raise _bad(claims, cid, "median", f"{n} patients cannot carry median {median:g} and "
                   f"range {lo:g}-{hi:g} at once")
    lower = rng.integers(lo_i, mid[0] + 1, size=k)
    top = np.arange(mid[-1], hi_i + 1)
    scale = max((hi_i - mid[-1]) / TAIL, 1e-9)
    w = np.exp(-(top - mid[-1]) / scale)
    upper = rng.choice(top, size=k, p=w / w.sum())
    if pin_ends and k:
        lower[0], upper[0] = lo_i, hi_i
    return rng.permutation(np.concatenate([lower, mid, upper]).astype(int))


def _respect_enrolment(rng: np.random.Generator, values: np.ndarray, slack: np.ndarray,
                       claims: pd.DataFrame) -> np.ndarray:
    """Swap values so that no leukapheresis precedes enrolment (value <= slack), keeping the
    multiset (hence the median and range). Own code: a handful of random swaps, no library needed."""
    v = values.copy()
    for i in np.argsort(slack, kind="stable"):
        if v[i] <= slack[i]:
            continue
        ok = np.flatnonzero((v <= slack[i]) & (v[i] <= slack))
        if not len(ok):
            raise _bad(claims, VEIN_TO_VEIN, "max", f"{v[i]} days before infusion would predate "
                       f"enrolment ({enrolment_opened().date()}) and no patient can take it")
        j = int(rng.choice(ok))
        v[i], v[j] = v[j], v[i]
    return v


def assign_treatment(cohort: pd.DataFrame, not_infused: pd.DataFrame, claims: pd.DataFrame,
                     seed: int, *, claims_path=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of (cohort, not_infused) with ``leukapheresis_to_infusion_days``, ``bridging`` and
    (cohort only) ``prior_chemo_cycles`` added (Methods, "Clinical procedures"; Table 1).

    - ``leukapheresis_to_infusion_days`` (int, infused patients; empty, nullable Int64, for the
      not-infused): median, minimum and maximum equal those of ``methods.vein_to_vein`` over the
      infused patients;
    - ``bridging`` (``none`` / ``low-moderate`` / ``intensive``, all enrolled patients): counts equal
      ``methods.bridging`` (n of N = every enrolled patient), ``.low`` and ``.intensive``;
    - ``prior_chemo_cycles`` (int, infused patients): within each ``disease_status`` the median equals
      the Table 1 row label (``table1.status.<status>.cycles``); the range is the assumption
      :data:`CYCLES_SPREAD` unless the claim prints min/max.

    Assigned with ``numpy.random.default_rng`` (one independent stream per quantity, from ``seed``),
    by random permutation, independently of every outcome (see the module docstring: associations
    with outcomes are null by construction). Same seed, same frames. Raises
    :class:`cart19.errors.InputError` naming the claim (and ``claims_path``, default
    ``claims.attrs["source"]`` or data/published/claims.csv) when a published summary cannot hold.
    """
    claims = _claims_by_id(claims)
    if claims_path is not None:
        claims = claims.copy()
        claims.attrs["source"] = str(claims_path)
    for cid in CLAIM_IDS:
        if cid not in claims.index:
            raise InputError(_src(claims), f"claim id {cid!r} needed by cart19.reconstruction.treatment is missing",
                             column="id")
    rng_v, rng_b, rng_c = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    co, ni = cohort.copy(), not_infused.copy()
    co["leukapheresis_to_infusion_days"] = _vein_to_vein_days(rng_v, co, claims)
    ni["leukapheresis_to_infusion_days"] = pd.array([pd.NA] * len(ni), dtype="Int64")
    labels = _bridging_labels(rng_b, len(co), len(ni), claims)
    co["bridging"] = labels[:len(co)].astype(str)
    ni["bridging"] = labels[len(co):].astype(str)
    co["prior_chemo_cycles"] = _prior_cycles(rng_c, co, claims)
    return co, ni


def _vein_to_vein_days(rng, co: pd.DataFrame, claims: pd.DataFrame) -> np.ndarray:
    """Leukapheresis to infusion, infused patients only (``methods.vein_to_vein``)."""
    med = T.claim_value(claims, VEIN_TO_VEIN, "median", _src(claims))
    lo, hi = (T.claim_value(claims, VEIN_TO_VEIN, f, _src(claims)) for f in ("min", "max"))
    days = _integers_with_summary(rng, len(co), med, lo, hi, True, VEIN_TO_VEIN, claims)
    if "infusion_date" in co.columns:
        slack = (pd.to_datetime(co["infusion_date"]) - enrolment_opened()).dt.days.to_numpy()
        days = _respect_enrolment(rng, days, slack, claims)
    return days.astype(int)


def _bridging_labels(rng, n_infused: int, n_not: int, claims: pd.DataFrame) -> np.ndarray:
    """Bridging chemotherapy of every enrolled patient, infused first (``methods.bridging*``)."""
    n_enrolled = n_infused + n_not
    n_br = T.claim_value(claims, BRIDGING, "n", _src(claims))
    big_n = _optional(claims, BRIDGING, "N")
    n_low = T.claim_value(claims, BRIDGING_LOW, "n", _src(claims))
    n_int = T.claim_value(claims, BRIDGING_INTENSIVE, "n", _src(claims))
    if big_n is not None and big_n != n_enrolled:
        raise _bad(claims, BRIDGING, "N", f"counts bridging over {big_n:g} patients but the "
                   f"reconstruction enrols {n_enrolled} ({n_infused} infused + {n_not} not)", big_n)
    if n_low + n_int != n_br:
        raise _bad(claims, BRIDGING, "n", f"{n_br:g} bridged but {BRIDGING_LOW!r} + "
                   f"{BRIDGING_INTENSIVE!r} = {n_low:g} + {n_int:g}", n_br)
    if not 0 <= n_br <= n_enrolled or min(n_low, n_int) < 0:
        raise _bad(claims, BRIDGING, "n", f"{n_br:g} bridged is not a count of {n_enrolled}", n_br)
    labels = np.array(["low-moderate"] * int(n_low) + ["intensive"] * int(n_int)
                      + ["none"] * (n_enrolled - int(n_br)), dtype=object)
    return rng.permutation(labels)


def _prior_cycles(rng, co: pd.DataFrame, claims: pd.DataFrame) -> np.ndarray:
    """Prior chemotherapy cycles of the infused patients, by disease status (Table 1 row labels)."""
    cycles = np.zeros(len(co), dtype=int)
    status = co["disease_status"].astype(str).to_numpy()
    for st, cid in CYCLES.items():
        where = np.flatnonzero(status == st)
        if not len(where):
            continue
        m = T.claim_value(claims, cid, "median", _src(claims))
        c_lo, c_hi = _optional(claims, cid, "min"), _optional(claims, cid, "max")
        pin = c_lo is not None and c_hi is not None
        if not pin:
            c_lo = min(max(1.0, math.ceil(m / CYCLES_SPREAD)), math.floor(m)) if c_lo is None else c_lo
            c_hi = math.floor(m * CYCLES_SPREAD) if c_hi is None else c_hi
        cycles[where] = _integers_with_summary(rng, len(where), m, c_lo, c_hi, pin, cid, claims)
    return cycles


def _summary(x: pd.Series) -> dict:
    x = pd.to_numeric(x, errors="coerce").dropna()
    if x.empty:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": float(x.median()), "min": float(x.min()), "max": float(x.max())}


def treatment_fit(cohort: pd.DataFrame, not_infused: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """One row per target of :func:`assign_treatment`, in the layout of ``data/cohort/fit.csv``:
    claim_id, target, published, reconstructed, tolerance (0: exact), basis ("fitted"), met.

    Reconstructed values are computed from the frames (the infused patients' intervals, every
    enrolled patient's bridging label, the cycle counts by disease status).
    """
    claims = _claims_by_id(claims)
    rows = []

    def add(cid, target, fld, value):
        pub = _optional(claims, cid, fld)
        rows.append({"claim_id": cid, "target": target, "published": pub, "reconstructed": value,
                     "tolerance": 0.0, "basis": "fitted",
                     "met": bool(pub is not None and not pd.isna(value) and float(value) == pub)})

    col = "leukapheresis_to_infusion_days"
    both = pd.concat([cohort.get(col, pd.Series(dtype=float)),
                      not_infused.get(col, pd.Series(dtype=float))], ignore_index=True)
    s = _summary(both)
    for fld in ("median", "min", "max"):
        add(VEIN_TO_VEIN, f"{fld} {col}", fld, s[fld])
    lab = pd.concat([cohort.get("bridging", pd.Series(dtype=object)),
                     not_infused.get("bridging", pd.Series(dtype=object))], ignore_index=True)
    add(BRIDGING, "count n bridging != none", "n", float((lab.isin(["low-moderate", "intensive"])).sum()))
    add(BRIDGING, "count N enrolled", "N", float(len(cohort) + len(not_infused)))
    add(BRIDGING_LOW, "count n bridging == low-moderate", "n", float((lab == "low-moderate").sum()))
    add(BRIDGING_INTENSIVE, "count n bridging == intensive", "n", float((lab == "intensive").sum()))
    for st, cid in CYCLES.items():
        sub = cohort.loc[cohort["disease_status"] == st, "prior_chemo_cycles"] \
            if "prior_chemo_cycles" in cohort.columns else pd.Series(dtype=float)
        add(cid, f"median prior_chemo_cycles ({st})", "median", _summary(sub)["median"])
    return pd.DataFrame(rows, columns=["claim_id", "target", "published", "reconstructed",
                                       "tolerance", "basis", "met"])
