"""How much do the emergent statistics depend on which reconstruction we drew?

Serves the "Beyond the paper" chapter 25. Many patient-level cohorts fit the published
aggregates equally well; statistics the reconstruction was never fitted to (log-rank P
and Prism HR of Figures 3-7, the Table 5 Cox HRs, the CAR T-cell peak t-tests of Table 3)
vary between them. ``ensemble_stats`` computes every such statistic on each cohort of an
ensemble (in parallel with joblib); ``ensemble_summary`` gives its median and 95% interval
over the ensemble beside the published value, and how often the published conclusion
(significant or not at .05, and the direction) holds.

The statistics are computed with cart19.stats.survival (logrank, logrank_hr, cox) and
cart19.presentation.forest/cart19.stats.printed (Table 3 2x2 tests); the arms and orientations follow the
paper's wording: Figures 3-7 compare the first-named arm with the second within the CR/CRi
patients; Table 5's "A vs B" hazard ratios are read as the hazard of B relative to A (the
only reading under which "bridged into allo-HSCT vs CAR T alone: 12.25" fits the text).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from matplotlib.figure import Figure
from scipy import stats

from cart19.stats import survival
from cart19.presentation.flow import _check_response, _flag
from cart19.presentation.forest import FACTORS, subgroup_levels, subgroup_rates

ENDPOINTS = {"os": ("os_days", "os_event"), "lfs": ("lfs_days", "lfs_event")}


def _cr_frame(cohort: pd.DataFrame) -> pd.DataFrame:
    """CR/CRi patients with the 0/1 indicators every comparison below uses."""
    resp = _check_response(cohort)
    d = cohort.loc[resp.isin(["CR", "CRi"]).to_numpy()].copy()
    lv = subgroup_levels(d)
    d["_hsct"] = _flag(d["hsct_after"]).astype(int)
    d["_cr_full"] = (d["response"].astype(str).str.strip() == "CR").astype(int)
    d["_mrd_neg"] = _flag(d["mrd_negative"]).astype(int)
    d["_tp53"] = _flag(d["tp53"]).astype(int)
    d["_prior"] = _flag(d["prior_hsct"]).astype(int)
    d["_emd"] = _flag(d["emd"]).astype(int)
    d["_41bb"] = (lv["costim"] == "41bb").astype(int)
    d["_gt20"] = (lv["blasts20"] == "gt20").astype(int)
    for dur, ev in ENDPOINTS.values():
        d[dur] = pd.to_numeric(d[dur]).astype(float)
        d[ev] = _flag(d[ev]).astype(int)
    return d.reset_index(drop=True)


#: Figures 3-7: figure -> (indicator of the first-named arm, first arm key, second arm key,
#: landmark suffix of the published KM claims). Arm keys follow ID_CONVENTIONS.md.
FIGURES = {
    "fig3": ("_hsct", "hsct", "no_hsct", "1y"),
    "fig4": ("_cr_full", "cr", "cri", "1y"),
    "fig5": ("_mrd_neg", "mrd_neg", "mrd_pos", "1y"),
    "fig6": ("_tp53", "tp53_pos", "tp53_neg", "6m"),
    "fig7": ("_prior", "post_hsct", "no_prior_hsct", "1y"),
}

#: Table 5 covariates (indicator = the SECOND-named level, so exp(coef) is the printed HR).
TABLE5 = {
    "os": {"costim": "_41bb", "emd": "_no_emd", "prior_hsct": "_prior", "blasts20": "_gt20",
           "tp53": "_tp53_neg", "hsct": "_no_hsct"},
    "lfs": {"costim": "_41bb", "emd": "_emd", "prior_hsct": "_prior", "blasts20": "_gt20",
            "tp53": "_tp53_neg", "hsct": "_no_hsct"},
}


def figure_stats(cohort: pd.DataFrame) -> pd.DataFrame:
    """Figures 3-7, OS and LFS: log-rank P, Prism log-rank HR of the first-named arm relative
    to the second (95% CI), and direction (+1: first arm has fewer events than expected)."""
    d = _cr_frame(cohort)
    rows = []
    for fig, (ind, a, b, _) in FIGURES.items():
        for ep, (dur, ev) in ENDPOINTS.items():
            sub = d.dropna(subset=[dur, ev]).assign(_arm=lambda x: np.where(x[ind] == 1, a, b))
            row = {"stat": f"{fig}.{ep}", "family": "figure", "p": np.nan, "hr": np.nan,
                   "ci_low": np.nan, "ci_high": np.nan, "direction": np.nan}
            if sub["_arm"].nunique() == 2 and sub[ev].sum() > 0:
                lr = survival.logrank(sub, dur, ev, "_arm")
                hr = survival.logrank_hr(sub, dur, ev, "_arm", ref=b).loc["logrank"]
                row.update(p=lr["p"], hr=float(hr["hr"]), ci_low=float(hr["ci_lower"]),
                           ci_high=float(hr["ci_upper"]),
                           direction=float(np.sign(lr["expected"][a] - lr["observed"][a])))
            rows.append(row)
    return pd.DataFrame(rows)


def table5_stats(cohort: pd.DataFrame) -> pd.DataFrame:
    """Table 5: multivariable Cox model (all six printed covariates) on the CR/CRi patients,
    HR in the printed orientation, Wald P; direction = sign(log HR)."""
    d = _cr_frame(cohort)
    d["_no_emd"], d["_no_hsct"], d["_tp53_neg"] = 1 - d["_emd"], 1 - d["_hsct"], 1 - d["_tp53"]
    rows = []
    for ep, covs in TABLE5.items():
        dur, ev = ENDPOINTS[ep]
        sub = d.dropna(subset=[dur, ev])
        try:
            fit = survival.cox(sub, dur, ev, list(covs.values()))
        except Exception:  # a degenerate cohort (e.g. no events): record NaN, do not stop
            fit = None
        for name, col in covs.items():
            row = {"stat": f"table5.{ep}.{name}", "family": "table5", "p": np.nan, "hr": np.nan,
                   "ci_low": np.nan, "ci_high": np.nan, "direction": np.nan}
            if fit is not None:
                r = fit.loc[col]
                row.update(p=float(r["p"]), hr=float(r["hr"]), ci_low=float(r["ci_lower"]),
                           ci_high=float(r["ci_upper"]), direction=float(np.sign(np.log(r["hr"]))))
            rows.append(row)
    return pd.DataFrame(rows)


def table3_stats(cohort: pd.DataFrame) -> pd.DataFrame:
    """Table 3 between-level P values: CR, grade 3-4 CRS, grade 2-3 neurotoxicity (Pearson
    chi-square, with Fisher's exact P beside it) and the CAR T-cell peak (Student t-test);
    direction = sign(first level - second level) of the rate or mean."""
    rates = subgroup_rates(cohort)
    rows = []
    for (outcome, factor), g in rates.groupby(["outcome", "factor"], sort=False):
        g = g.set_index("level")
        first, second = [k for k, _ in FACTORS[factor][1]]
        rows.append({"stat": f"table3.{outcome}.{factor}", "family": "table3",
                     "p": g["p_chi2"].iloc[0], "p_fisher": g["p_fisher"].iloc[0],
                     "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                     "direction": float(np.sign(g.loc[first, "rate"] - g.loc[second, "rate"]))})
    lv = subgroup_levels(cohort)
    peak = pd.to_numeric(cohort["car_peak_pct"], errors="coerce")
    for factor, (_, levels) in FACTORS.items():
        first, second = [k for k, _ in levels]
        xa, xb = peak[lv[factor] == first].dropna(), peak[lv[factor] == second].dropna()
        p = float(stats.ttest_ind(xa, xb).pvalue) if len(xa) > 1 and len(xb) > 1 else np.nan
        rows.append({"stat": f"table3.carpeak.{factor}", "family": "table3", "p": p,
                     "p_fisher": np.nan, "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                     "direction": float(np.sign(xa.mean() - xb.mean()))})
    return pd.DataFrame(rows)


def cohort_stats(cohort: pd.DataFrame) -> pd.DataFrame:
    """Every statistic of :func:`ensemble_stats` for one cohort."""
    return pd.concat([figure_stats(cohort), table5_stats(cohort), table3_stats(cohort)],
                     ignore_index=True)


def ensemble_stats(cohorts: Sequence[pd.DataFrame], n_jobs: int = 2,
                   stat_fn: Callable[[pd.DataFrame], pd.DataFrame] = cohort_stats) -> pd.DataFrame:
    """``stat_fn`` (default :func:`cohort_stats`) on every cohort, in parallel (joblib).

    Returns the rows of all cohorts stacked, with a ``cohort`` column (0-based position in
    ``cohorts``): cohort, stat, family, p, hr, ci_low, ci_high, direction (and p_fisher for
    Table 3).
    """
    parts = Parallel(n_jobs=n_jobs)(delayed(stat_fn)(c) for c in cohorts)
    return pd.concat([p.assign(cohort=i) for i, p in enumerate(parts)], ignore_index=True)


# --------------------------------------------------------------------------------------------
# the published side
# --------------------------------------------------------------------------------------------
def _get(c: pd.DataFrame, cid: str, col: str) -> float:
    if cid in c.index and col in c.columns and pd.notna(c.loc[cid, col]):
        return float(c.loc[cid, col])
    return np.nan


def published_stats(claims: pd.DataFrame) -> pd.DataFrame:
    """The published value of every statistic of :func:`cohort_stats`, read from claims.csv.

    Columns: stat, p_id, p, p_cmp, significant, hr_id, hr_printed (+ CI), hr (+ ci_low,
    ci_high) in the orientation of :func:`cohort_stats`, direction, note. For Figures 3-7 the
    direction comes from the printed KM landmarks (first-named arm higher = +1) because the
    captions print HRs in both orientations; a caption HR that contradicts that direction is
    inverted (1/HR, and the CI swapped) and the note says so.
    """
    c = claims.set_index("id")
    rows = []
    for fig, (_, a, b, t) in FIGURES.items():
        for ep in ENDPOINTS:
            sa, sb = _get(c, f"{fig}.{ep}.{a}.{t}", "percent"), _get(c, f"{fig}.{ep}.{b}.{t}", "percent")
            direction = float(np.sign(sa - sb)) if np.isfinite(sa) and np.isfinite(sb) else np.nan
            hr, lo, hi = (_get(c, f"{fig}.{ep}.hr", k) for k in ("hr", "ci_low", "ci_high"))
            note = ""
            ohr, olo, ohi = hr, lo, hi
            if np.isfinite(hr) and np.isfinite(direction) and np.sign(-np.log(hr)) != direction:
                ohr, olo, ohi = 1 / hr, 1 / hi, 1 / lo
                note = "caption HR inverted to the first-named arm's hazard relative to the second"
            rows.append({"stat": f"{fig}.{ep}", "p_id": f"{fig}.{ep}.p", "hr_id": f"{fig}.{ep}.hr",
                         "hr_printed": hr, "hr": ohr, "ci_low": olo, "ci_high": ohi,
                         "direction": direction, "note": note})
    for ep, covs in TABLE5.items():
        for name in covs:
            cid = f"table5.{ep}.{name}"
            hr = _get(c, cid, "hr")
            rows.append({"stat": cid, "p_id": cid, "hr_id": cid, "hr_printed": hr, "hr": hr,
                         "ci_low": _get(c, cid, "ci_low"), "ci_high": _get(c, cid, "ci_high"),
                         "direction": float(np.sign(np.log(hr))) if np.isfinite(hr) else np.nan,
                         "note": ""})
    for outcome in ("cr", "crs34", "neuro23", "carpeak"):
        col = "mean" if outcome == "carpeak" else "percent"
        for factor, (_, levels) in FACTORS.items():
            first, second = [k for k, _ in levels]
            va = _get(c, f"table3.{outcome}.{factor}.{first}", col)
            vb = _get(c, f"table3.{outcome}.{factor}.{second}", col)
            note = ("printed level labels look swapped (see the audit); direction as printed"
                    if factor in ("tp53", "prior_hsct") else "")
            rows.append({"stat": f"table3.{outcome}.{factor}", "p_id": f"table3.{outcome}.{factor}.p",
                         "hr_id": None, "hr_printed": np.nan, "hr": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan,
                         "direction": float(np.sign(va - vb)) if np.isfinite(va + vb) else np.nan,
                         "note": note})
    out = pd.DataFrame(rows)
    out["p"] = [_get(c, i, "p") for i in out["p_id"]]
    out["p_cmp"] = [c.loc[i, "p_cmp"] if i in c.index else None for i in out["p_id"]]
    out["significant"] = [
        (p <= 0.05 if cmp == "<" else (False if cmp == ">" else p < 0.05)) if np.isfinite(p)
        else np.nan for p, cmp in zip(out["p"], out["p_cmp"])]
    return out


def _verdict(frac: float) -> str:
    if not np.isfinite(frac):
        return "not assessable"
    if frac >= 0.95:
        return "holds in >=95% of cohorts"
    if frac < 0.05:
        return "holds in <5% of cohorts"
    return "holds in some cohorts"


def ensemble_summary(stats_: pd.DataFrame, claims: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Median and 95% interval (2.5th-97.5th percentile over cohorts) of every statistic,
    the published value beside it, and how often the published conclusion holds.

    The published conclusion is "significant at ``alpha``, in the published direction" when
    the printed P is below ``alpha``, and "not significant" otherwise; a cohort agrees when
    its P (and, for a significant claim, its direction) says the same. ``verdict``: holds in
    >=95% / some / <5% of cohorts. HRs are compared on the orientation of ``cohort_stats``.
    ``p_constant``: the P is the same in every cohort (a statistic of fitted counts);
    ``p_fisher_median``: Fisher's exact P beside the chi-square one (Table 3 rates).
    """
    pub = published_stats(claims).set_index("stat")
    rows = []
    for stat, g in stats_.groupby("stat", sort=False):
        p = g["p"].to_numpy(float)
        hr = g["hr"].to_numpy(float)
        ok = np.isfinite(p)
        row = {"stat": stat, "family": g["family"].iloc[0], "n_cohorts": int(ok.sum()),
               "p_median": np.nanmedian(p) if ok.any() else np.nan,
               "p_lo": np.nanpercentile(p, 2.5) if ok.any() else np.nan,
               "p_hi": np.nanpercentile(p, 97.5) if ok.any() else np.nan,
               "frac_significant": float(np.mean(p[ok] < alpha)) if ok.any() else np.nan}
        if "p_fisher" in g.columns and g["p_fisher"].notna().any():
            row["p_fisher_median"] = float(g["p_fisher"].median())
        row["p_constant"] = bool(ok.any() and np.nanmax(p) - np.nanmin(p) < 1e-12)
        hr = hr[np.isfinite(hr)]  # an HR is infinite when an arm has no events
        if len(hr):
            row.update(hr_median=np.median(hr), hr_lo=np.percentile(hr, 2.5),
                       hr_hi=np.percentile(hr, 97.5))
        if stat in pub.index:
            pr = pub.loc[stat]
            row.update(published_p=pr["p"], published_p_cmp=pr["p_cmp"],
                       published_significant=pr["significant"], published_hr=pr["hr"],
                       published_hr_printed=pr["hr_printed"], published_ci_low=pr["ci_low"],
                       published_ci_high=pr["ci_high"], published_direction=pr["direction"],
                       note=pr["note"])
            d = g["direction"].to_numpy(float)
            if np.isfinite(pr["direction"]):
                row["frac_same_direction"] = float(np.mean(d[ok] == pr["direction"])) if ok.any() \
                    else np.nan
            sig_pub = pr["significant"]
            if isinstance(sig_pub, (bool, np.bool_)) and ok.any():
                sig = p[ok] < alpha
                agree = sig == bool(sig_pub)
                if sig_pub and np.isfinite(pr["direction"]):
                    agree &= d[ok] == pr["direction"]
                row["frac_holds"] = float(np.mean(agree))
        row["verdict"] = _verdict(row.get("frac_holds", np.nan))
        rows.append(row)
    cols = ["stat", "family", "n_cohorts", "published_p_cmp", "published_p", "p_median", "p_lo",
            "p_hi", "p_constant", "p_fisher_median", "frac_significant", "published_significant", "published_hr_printed",
            "published_hr", "published_ci_low", "published_ci_high", "hr_median", "hr_lo", "hr_hi",
            "published_direction", "frac_same_direction", "frac_holds", "verdict", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


def chain_diagnostics(stats_: pd.DataFrame) -> pd.DataFrame:
    """How independent are the cohorts of the ensemble's chains (cart19.reconstruction.pipeline.ensemble)?

    Per statistic with a P that varies: the lag-1 autocorrelation of log10 P between consecutive
    cohorts of a chain (pooled over chains), and the effective number of independent cohorts
    K (1 - r) / (1 + r) (the AR(1) approximation, r clipped at 0). Consecutive cohorts share most
    patients, so r > 0 is expected; a small effective size means the ensemble's intervals are
    rougher than K suggests. Columns: stat, family, n_cohorts, lag1_r, effective_n.
    """
    if "chain" not in stats_.columns:
        raise ValueError("ensemble statistics lack the 'chain' column (drawn before chains?)")
    rows = []
    for stat, g in stats_.groupby("stat", sort=False):
        g = g.sort_values(["chain", "cohort"])
        lp = np.log10(np.clip(g["p"].to_numpy(float), 1e-300, 1))
        if not np.isfinite(lp).all() or np.nanstd(lp) < 1e-12:
            continue
        x, y = [], []
        for _, h in g.assign(_lp=lp).groupby("chain"):
            v = h["_lp"].to_numpy()
            x.append(v[:-1])
            y.append(v[1:])
        x, y = np.concatenate(x), np.concatenate(y)
        r = float(np.corrcoef(x, y)[0, 1]) if len(x) > 2 and x.std() > 0 and y.std() > 0 else np.nan
        k = len(g)
        rc = max(r, 0.0) if np.isfinite(r) else np.nan
        rows.append({"stat": stat, "family": g["family"].iloc[0], "n_cohorts": k, "lag1_r": r,
                     "effective_n": k * (1 - rc) / (1 + rc) if np.isfinite(rc) else np.nan})
    return pd.DataFrame(rows, columns=["stat", "family", "n_cohorts", "lag1_r", "effective_n"])


def ensemble_figure(stats_: pd.DataFrame, summary: pd.DataFrame, family: str = "figure") -> Figure:
    """Spread of P values over the ensemble (one strip per statistic, log axis) with the
    published P as a red mark and the .05 line; for ``family`` figure/table5/table3."""
    s = summary[summary["family"] == family].reset_index(drop=True)
    fig = Figure(figsize=(8, 0.32 * len(s) + 1.4))
    ax = fig.subplots()
    for i, r in s.iterrows():
        p = stats_.loc[stats_["stat"] == r["stat"], "p"].to_numpy(float)
        p = np.clip(p[np.isfinite(p)], 1e-12, 1)
        jitter = (np.random.default_rng(i).random(len(p)) - 0.5) * 0.35  # fixed seed: deterministic
        ax.scatter(p, i + jitter, s=12, color="#1f4e79", alpha=0.5, lw=0)
        if np.isfinite(r["published_p"]):
            mk = "<" if r["published_p_cmp"] == "<" else "|"
            ax.scatter([r["published_p"]], [i], marker=mk, color="#c0392b", s=80, zorder=4)
    ax.axvline(0.05, color="#888888", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(s)))
    ax.set_yticklabels(s["stat"], fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel("P value (log scale); dots: reconstructed cohorts, red: published")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# the committed ensemble: drawn once, read by the book and by nbval
# ------------------------------------------------------------------------------------------
#: Code whose change invalidates a drawn ensemble (the reconstruction and what it reads).
ENSEMBLE_CODE = tuple(f"cart19.{m}" for m in (
    "reconstruction.pipeline", "reconstruction.milp", "reconstruction.times", "reconstruction.targets",
    "reconstruction.continuous", "reconstruction.treatment", "comparison.ensemble", "stats.survival",
    "stats.printed", "presentation.forest"))


def ensemble_key(size: int, seed: int, claims_path) -> dict:
    """What a drawn ensemble depends on: its size, seed, the claims and the reconstruction code."""
    from cart19.reconstruction.pipeline import inputs_hash
    from cart19.reconstruction.targets import inputs_digest

    return {"ensemble_size": int(size), "seed": int(seed),
            "inputs_sha256": inputs_hash(claims_path, ENSEMBLE_CODE, inputs_digest())}


def load_or_draw(size: int, seed: int, claims_path, stats_path, cohort_dir, n_jobs: int = 2
                 ) -> pd.DataFrame:
    """The ensemble statistics for (size, seed): read from ``stats_path`` when its sidecar key
    (``<stats_path>.json``) matches, otherwise draw ``size`` cohorts and recompute.

    Drawing takes about a second per cohort, but the book still commits the statistics of its
    default ensemble
    (a cache keyed on content, like the build's); any other size, seed, claims or reconstruction
    code draws afresh, so a stale file is never shown.
    """
    import json
    from pathlib import Path as _P

    from cart19.cohort.schema import load_cohort
    from cart19.reconstruction.pipeline import ensemble as draw

    stats_path = _P(stats_path)
    key_path = stats_path.with_suffix(".json")
    key = ensemble_key(size, seed, claims_path)
    if stats_path.exists() and key_path.exists() and json.loads(key_path.read_text()) == key:
        return pd.read_csv(stats_path)
    paths = draw(size, cohort_dir, claims_path, base_seed=seed, n_jobs=n_jobs)
    stats_ = ensemble_stats([load_cohort(p) for p in paths], n_jobs=n_jobs)
    # which chain each cohort belongs to (files are cohort_c<chain>_<position>.csv)
    chain_of = [int(_P(p).stem.split("_")[1][1:]) for p in paths]
    stats_["chain"] = [chain_of[i] for i in stats_["cohort"]]
    from cart19 import io
    # the key last: a crash in between leaves an old key beside new statistics, which is redrawn
    io.write_csv(stats_path, stats_, parents=True, float_format="%.10g")
    io.write_json(key_path, key)
    return pd.read_csv(stats_path)  # the same values whether drawn now or read back
