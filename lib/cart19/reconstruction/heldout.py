"""Table 5 as a held-out test of the reconstruction (issue 16, item 3).

The reconstruction is fitted to counts, days and Kaplan-Meier landmarks; the multivariable Cox
hazard ratios of Table 5 (Zhang et al., Blood Adv 2020;4(10):2325-2338; six covariates, the 102
CR/CRi patients, OS and LFS) are never targeted. How close a reconstructed cohort comes to them
therefore measures what the fitted aggregates carry about the joint survival of the subgroups.

Per covariate: the |ln HR| difference from the printed value (each HR in its printed
orientation, as the design records it), on every cohort of the ensemble, with Efron's tie
handling (lifelines, R's default) and with Breslow's (what SPSS 16, the paper's software, uses).

Why statsmodels for Breslow: lifelines implements only Efron's partial likelihood;
``statsmodels.duration.PHReg`` has both (its Efron fit equals R's coxph on the reference data,
its Breslow fit the textbook value, see tests/test_reconstruct_heldout.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg

#: the ensemble statistics' columns this module adds (per Table 5 row of every cohort)
BRESLOW_COLUMNS = ("hr_breslow", "ci_low_breslow", "ci_high_breslow", "p_breslow")
_Z = 1.959963984540054


def cox_breslow(df: pd.DataFrame, duration: str, event: str, covariates, start=None) -> pd.DataFrame:
    """Cox model with Breslow's ties, indexed by covariate: ``coef, se, hr, ci_lower, ci_upper,
    p`` (Wald, SE from the observed information).

    Newton-Raphson starts from ``start`` (coefficients), by default Efron's estimate
    (:func:`cart19.stats.survival.cox`), which is close to Breslow's: from zero, statsmodels'
    undamped Newton overflows on some reconstructed cohorts with large effects (measured: 2 of 100
    ensemble cohorts). A fit whose score is not ~0 raises ``ValueError``, as do degenerate data."""
    covariates = list(covariates)
    x = df[covariates].to_numpy(dtype=float)
    if not np.asarray(df[event]).sum():
        raise ValueError("no events")
    if np.any(x.std(axis=0) == 0):
        raise ValueError("a covariate is constant")
    if start is None:
        from cart19.stats import survival

        start = survival.cox(df, duration, event, covariates)["coef"].to_numpy()
    model = PHReg(df[duration].to_numpy(dtype=float), x, status=df[event].to_numpy(dtype=float),
                  ties="breslow")
    fit = model.fit(start_params=np.asarray(start, dtype=float), disp=False)
    coef, se = np.asarray(fit.params), np.asarray(fit.bse)
    score = model.score(coef)
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(se)) and np.abs(score).max() < 1e-6):
        raise ValueError("Breslow Cox fit did not converge")
    from scipy import stats

    return pd.DataFrame({"coef": coef, "se": se, "hr": np.exp(coef),
                         "ci_lower": np.exp(coef - _Z * se), "ci_upper": np.exp(coef + _Z * se),
                         "p": 2 * stats.norm.sf(np.abs(coef / se))}, index=covariates)


def heldout_table(stats: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """One row per Table 5 HR: the printed HR, and over the ensemble the median ln(HR
    reconstructed / printed) with its 2.5-97.5% interval and the median |ln| difference, for
    Efron and for Breslow ties; ``covered``: share of cohorts whose 95% CI (Efron) holds the
    printed HR. ``stats``: :func:`cart19.comparison.ensemble.ensemble_stats` with the Breslow
    columns; ``claims`` indexed by claim id or with an ``id`` column."""
    claims = claims.set_index("id") if "id" in claims.columns else claims
    t5 = stats[stats["family"] == "table5"]
    rows = []
    for stat, g in t5.groupby("stat", sort=False):
        printed = float(claims.loc[stat, "hr"])
        row = {"stat": stat, "endpoint": stat.split(".")[1], "covariate": stat.split(".")[2],
               "printed": printed, "n_cohorts": int(g["hr"].notna().sum())}
        for name, col in (("efron", "hr"), ("breslow", "hr_breslow")):
            d = np.log(pd.to_numeric(g[col], errors="coerce").to_numpy() / printed)
            d = d[np.isfinite(d)]
            lo, med, hi = (np.quantile(d, [0.025, 0.5, 0.975]) if len(d) else (np.nan,) * 3)
            row.update({f"median_hr_{name}": printed * np.exp(med), f"dlog_{name}": med,
                        f"dlog_low_{name}": lo, f"dlog_high_{name}": hi,
                        f"abs_dlog_{name}": float(np.median(np.abs(d))) if len(d) else np.nan})
        ok = g["ci_low"].notna()
        row["covered"] = float(((g["ci_low"] <= printed) & (printed <= g["ci_high"]))[ok].mean()) \
            if ok.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(table: pd.DataFrame) -> dict:
    """Counts for the text: how many printed HRs lie inside the ensemble's 95% interval (Efron,
    Breslow), how many point the same way as the ensemble's median, the median |ln HR|
    difference over all rows (Efron, Breslow), the largest shift of a median that the tie rule
    makes and the median width of the Efron intervals (both on the log scale)."""
    def inside(name):
        return int(((table[f"dlog_low_{name}"] <= 0) & (0 <= table[f"dlog_high_{name}"])).sum())

    same = np.sign(np.log(table["median_hr_efron"])) == np.sign(np.log(table["printed"]))
    return {"n_rows": len(table), "inside_efron": inside("efron"),
            "inside_breslow": inside("breslow"), "same_direction": int(same.sum()),
            "median_abs_dlog_efron": float(table["abs_dlog_efron"].median()),
            "median_abs_dlog_breslow": float(table["abs_dlog_breslow"].median()),
            "max_tie_gap": float((table["dlog_breslow"] - table["dlog_efron"]).abs().max()),
            "median_width_efron": float((table["dlog_high_efron"] - table["dlog_low_efron"]).median())}
