"""Immortal-time bias in the allo-HSCT comparison (Figure 3, Table 5).

Serves the "Beyond the paper" chapter 23. The paper compares the 75 CR patients who
went on to allo-HSCT with the 27 who did not as if the groups were fixed on the day of
CAR T-cell infusion, though the transplants happened at day 36-120 (median 63, Table 4).
A patient can only be counted in the transplant group by surviving (and, for LFS, staying
in remission) until the transplant; that guaranteed event-free stretch is "immortal
time" and it biases a fixed-at-infusion comparison in favour of transplant. Three
estimates of the same hazard ratio (HSCT vs no HSCT; < 1 favours HSCT):

(a) ``fixed``: Cox model with HSCT as a baseline covariate (what Figure 3 / Table 5 do);
(b) ``time_varying``: HSCT as a time-dependent covariate, 0 before ``hsct_day`` and 1
    from then on (lifelines ``CoxTimeVaryingFitter`` on a start/stop table);
(c) ``landmark``: only patients still at risk for the endpoint at a landmark day,
    grouped by HSCT status at the landmark, time counted from the landmark.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxTimeVaryingFitter
from lifelines.utils import add_covariate_to_timeline, to_long_format
from matplotlib.figure import Figure
from scipy import stats

from cart19.presentation.flow import _check_response, _flag
from cart19.stats.survival import cox

#: endpoint -> (duration, event) columns of :func:`cr_patients`, both counted from infusion
ENDPOINTS = {"os": ("os_days", "os_event"), "lfs": ("lfs_from_infusion", "lfs_event")}
#: the claim whose median is the default landmark: the paper's median day of allo-HSCT (Table 4)
LANDMARK_CLAIM = "table4.hsct_day"


def cr_patients(cohort: pd.DataFrame) -> pd.DataFrame:
    """The 102-patient population of Figure 3: CR or CRi on day 30, with numeric columns
    ``hsct`` (0/1, bridged into allo-HSCT at any time) and ``hsct_day`` (NaN if never)."""
    resp = _check_response(cohort)
    d = cohort.loc[resp.isin(["CR", "CRi"]).to_numpy()].copy()
    d["hsct"] = _flag(d["hsct_after"]).astype(int)
    d["hsct_day"] = np.where(d["hsct"] == 1, pd.to_numeric(d["hsct_day"]).astype(float), np.nan)
    if d.loc[d["hsct"] == 1, "hsct_day"].isna().any():
        i = d.index[(d["hsct"] == 1) & d["hsct_day"].isna()][0]
        raise ValueError(f"column 'hsct_day', row {cohort.index.get_loc(i) + 1}: missing for a "
                         "patient with hsct_after = 1")
    d["os_days"] = pd.to_numeric(d["os_days"]).astype(float)
    # The paper counts LFS from the date of CR; the cohort's lfs_days follows it (lfs_days +
    # cr_day = day of relapse/death/last follow-up). HSCT days and landmarks are days from
    # infusion, so LFS is put on the same clock. Without a cr_day column lfs_days is taken
    # to be counted from infusion already.
    offset = (pd.to_numeric(d["cr_day"]).astype(float).fillna(0.0) if "cr_day" in d.columns
              else 0.0)
    d["lfs_from_infusion"] = pd.to_numeric(d["lfs_days"]).astype(float) + offset
    for dur, ev in ENDPOINTS.values():
        d[ev] = _flag(d[ev]).astype(int)
    return d.reset_index(drop=True)


def immortal_person_time(cohort: pd.DataFrame) -> dict:
    """Person-days between infusion and allo-HSCT in the transplant group: time in which,
    by construction, no transplanted patient could die or relapse (Figure 3's HSCT arm)."""
    d = cr_patients(cohort)
    h = d[d["hsct"] == 1]
    return {"n_hsct": int(len(h)), "immortal_days": float(h["hsct_day"].sum()),
            "hsct_group_days_os": float(h["os_days"].sum()),
            "median_hsct_day": float(h["hsct_day"].median()) if len(h) else np.nan,
            "min_hsct_day": float(h["hsct_day"].min()) if len(h) else np.nan,
            "max_hsct_day": float(h["hsct_day"].max()) if len(h) else np.nan}


def _row(method, endpoint, res: pd.Series, n, events, landmark=np.nan, n_hsct=np.nan) -> dict:
    return {"endpoint": endpoint, "method": method, "landmark_day": landmark, "n": int(n),
            "events": int(events), "n_hsct": n_hsct, "hr": float(res["hr"]),
            "ci_low": float(res["ci_lower"]), "ci_high": float(res["ci_upper"]),
            "p": float(res["p"])}


def fixed_hr(d: pd.DataFrame, endpoint: str, covariates: Sequence[str] = ()) -> dict:
    """(a) HSCT as a covariate fixed at infusion (Figure 3 / Table 5 design)."""
    dur, ev = ENDPOINTS[endpoint]
    res = cox(d, dur, ev, ["hsct", *covariates]).loc["hsct"]
    return _row("fixed", endpoint, res, len(d), d[ev].sum(), n_hsct=int(d["hsct"].sum()))


def long_format(d: pd.DataFrame, endpoint: str, covariates: Sequence[str] = ()) -> pd.DataFrame:
    """Start/stop table: each patient's follow-up split at ``hsct_day`` (hsct 0 before, 1 from
    then on), built with lifelines' ``to_long_format`` and ``add_covariate_to_timeline``."""
    dur, ev = ENDPOINTS[endpoint]
    base = pd.DataFrame({"id": np.arange(len(d)), "T": d[dur].to_numpy(float),
                         "E": d[ev].to_numpy(int)})
    for c in covariates:
        base[c] = pd.to_numeric(d[c]).to_numpy(float)
    long = to_long_format(base, duration_col="T")
    changes = pd.concat([
        pd.DataFrame({"id": np.arange(len(d)), "t": 0.0, "hsct": 0}),
        pd.DataFrame({"id": np.flatnonzero(d["hsct"].to_numpy() == 1),
                      "t": d.loc[d["hsct"] == 1, "hsct_day"].to_numpy(float), "hsct": 1}),
    ])
    # a switch on day 0 replaces the baseline 0 (keep the last row per id and time)
    changes = changes.drop_duplicates(["id", "t"], keep="last")
    long = add_covariate_to_timeline(long, changes, duration_col="t", id_col="id", event_col="E")
    return long[long["stop"] > long["start"]].reset_index(drop=True)


def time_varying_hr(d: pd.DataFrame, endpoint: str, covariates: Sequence[str] = ()) -> dict:
    """(b) HSCT as a time-dependent covariate (lifelines CoxTimeVaryingFitter, Efron ties)."""
    long = long_format(d, endpoint, covariates)
    ctv = CoxTimeVaryingFitter()
    ctv.fit(long[["id", "start", "stop", "E", "hsct", *covariates]], id_col="id",
            event_col="E", start_col="start", stop_col="stop")
    s = ctv.summary.loc["hsct"]
    z = stats.norm.ppf(0.975)
    res = pd.Series({"hr": np.exp(s["coef"]), "ci_lower": np.exp(s["coef"] - z * s["se(coef)"]),
                     "ci_upper": np.exp(s["coef"] + z * s["se(coef)"]), "p": s["p"]})
    dur, ev = ENDPOINTS[endpoint]
    return _row("time_varying", endpoint, res, len(d), d[ev].sum(), n_hsct=int(d["hsct"].sum()))


def landmark_frame(d: pd.DataFrame, endpoint: str, landmark: float) -> pd.DataFrame:
    """Patients still at risk for ``endpoint`` after ``landmark`` days (for OS: alive; for LFS:
    alive and in remission), with ``hsct`` = transplanted on or before the landmark and the
    duration counted from the landmark. Transplants after the landmark count as no HSCT."""
    dur, ev = ENDPOINTS[endpoint]
    at_risk = d[d[dur] > landmark].copy()
    at_risk["hsct"] = (at_risk["hsct_day"] <= landmark).astype(int)
    at_risk[dur] = at_risk[dur] - landmark
    return at_risk


def landmark_hr(d: pd.DataFrame, endpoint: str, landmark: float,
                covariates: Sequence[str] = ()) -> dict:
    """(c) Landmark analysis at ``landmark`` days after infusion."""
    dur, ev = ENDPOINTS[endpoint]
    lm = landmark_frame(d, endpoint, landmark)
    n_h = int(lm["hsct"].sum())
    if n_h == 0 or n_h == len(lm) or lm[ev].sum() == 0:
        nan = pd.Series({"hr": np.nan, "ci_lower": np.nan, "ci_upper": np.nan, "p": np.nan})
        return _row("landmark", endpoint, nan, len(lm), lm[ev].sum(), landmark, n_h)
    res = cox(lm, dur, ev, ["hsct", *covariates]).loc["hsct"]
    return _row("landmark", endpoint, res, len(lm), lm[ev].sum(), landmark, n_h)


def paper_landmark_day() -> float:
    """The paper's median day of allo-HSCT after infusion (claims.csv ``table4.hsct_day``)."""
    from cart19.record.claims import load_claims
    claims = load_claims()
    return float(claims.loc[claims["id"] == LANDMARK_CLAIM, "median"].iloc[0])


def immortal_time_table(cohort: pd.DataFrame, landmark_days: float | Iterable[float] | None = None,
                        covariates: Sequence[str] = ()) -> pd.DataFrame:
    """HR of allo-HSCT vs none for OS and LFS by the three methods (Figure 3 / Table 5 question).

    Population: CR/CRi patients (Figure 3's 102). Durations from infusion (``os_days``, and
    ``lfs_days + cr_day`` for LFS, see :func:`cr_patients`). ``landmark_days``: one day or
    several (one landmark row each); default :func:`paper_landmark_day`.
    ``covariates``: extra baseline columns (numeric 0/1) adjusted for in every model.
    Columns: endpoint, method, landmark_day, n, events, n_hsct, hr, ci_low, ci_high, p.
    """
    d = cr_patients(cohort)
    if landmark_days is None:
        landmark_days = paper_landmark_day()
    lms = np.atleast_1d(np.asarray(landmark_days if not np.isscalar(landmark_days)
                                   else [landmark_days], dtype=float))
    rows = []
    for ep in ENDPOINTS:
        dd = d.dropna(subset=list(ENDPOINTS[ep]))
        rows.append(fixed_hr(dd, ep, covariates))
        rows.append(time_varying_hr(dd, ep, covariates))
        rows += [landmark_hr(dd, ep, lm, covariates) for lm in lms]
    return pd.DataFrame(rows)


def immortal_time_figure(table: pd.DataFrame) -> Figure:
    """HSCT-vs-none hazard ratios by method (log axis), one panel per endpoint."""
    eps = [e for e in ENDPOINTS if e in set(table["endpoint"])]
    fig = Figure(figsize=(5.2 * len(eps), 0.45 * (len(table) // len(eps)) + 2.0))
    axes = fig.subplots(1, len(eps))
    axes = np.atleast_1d(axes)
    colors = {"fixed": "#c0392b", "time_varying": "#1f4e79", "landmark": "#2e8b57"}
    for ax, ep in zip(axes, eps):
        t = table[table["endpoint"] == ep].reset_index(drop=True)
        labels = []
        for i, r in t.iterrows():
            ok = np.isfinite(r["hr"])
            if ok:
                ax.errorbar([r["hr"]], [i], xerr=[[r["hr"] - r["ci_low"]], [r["ci_high"] - r["hr"]]],
                            fmt="o", color=colors[r["method"]], capsize=3, ms=6)
                ax.text(r["ci_high"] * 1.15, i, f"{r['hr']:.2f} (P={r['p']:.3g})", va="center",
                        fontsize=8)
            lab = {"fixed": "(a) fixed at infusion", "time_varying": "(b) time-dependent HSCT",
                   "landmark": f"(c) landmark day {r['landmark_day']:.0f}"}[r["method"]]
            labels.append(f"{lab}\nn={r['n']}, events={r['events']}, HSCT={r['n_hsct']:.0f}")
        ax.axvline(1, color="#888888", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_yticks(range(len(t)))
        ax.set_yticklabels(labels, fontsize=8)
        lo = np.nanmin(t["ci_low"]) if t["ci_low"].notna().any() else 0.01
        hi = np.nanmax(t["ci_high"]) if t["ci_high"].notna().any() else 10
        ax.set_xlim(min(lo, 0.5) / 1.5, max(hi, 2) * 8)
        ax.set_title("Overall survival" if ep == "os" else "Leukemia-free survival", fontsize=10)
        ax.set_xlabel("HR, allo-HSCT vs none (95% CI, log scale; < 1 favours HSCT)")
        ax.invert_yaxis()
    fig.tight_layout()
    return fig
