"""Reconstructed statistics beside the truth: errors, significance, coverage.

For every statistic of :mod:`cart19.validation.measures` computed on the true table and on each
reconstruction, this gives the error of a single reconstruction (what a book built on one
committed cohort reports), of the ensemble median, and whether the ensemble's central intervals
(50%, 80%, 90%) contain the true value: the *coverage*. An honest ensemble's 90% interval
contains the truth about 90% of the time; much less means the reconstructions agree with each
other more than with the truth, i.e. the spread understates how little the aggregates fix.

Baselines, compared on the same statistics: ``margins`` (a reconstruction from the margins
only: what the engine knows without any cross-tabulation or comparison) and ``shuffled`` (the
true characteristics with survival permuted against them: every association with survival
destroyed, the margins kept).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NOMINAL = (0.5, 0.8, 0.9)
#: the scale on which each type's error is read
UNITS = {"hr_uni": "ln HR", "hr_multi": "ln HR", "hr_tv": "ln HR", "p_uni": "log10 P",
         "p_multi": "log10 P", "p_tv": "log10 P", "km": "percentage points", "phi": "phi"}


def shuffled(table: pd.DataFrame, study, seed: int) -> pd.DataFrame:
    """The table with every endpoint's (time, event) rows permuted together against the
    characteristics (a switch day later than the new end of follow-up is moved onto it)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(table))
    out = table.copy()
    cols = [c for e in study.endpoints for c in (f"{e.name}_time", f"{e.name}_event")]
    out[cols] = table[cols].to_numpy()[perm]
    if "switch_time" in table:
        end = out[f"{study.endpoints[0].name}_time"].to_numpy(float)
        sw = table["switch_time"].to_numpy(float)
        out["switch_time"] = np.where(np.isnan(sw), np.nan, np.minimum(sw, end))
    return out


def side_by_side(truth: pd.DataFrame, members: list[pd.DataFrame], baselines: dict,
                 status: pd.Series) -> pd.DataFrame:
    """One row per statistic: truth, single reconstruction, ensemble quantiles, baselines."""
    out = truth[["type", "endpoint", "term", "value", "se"]].rename(
        columns={"value": "truth", "se": "truth_se"})
    out["status"] = status.reindex(out.index)
    ens = pd.concat([m["value"].rename(k) for k, m in enumerate(members)], axis=1).reindex(out.index)
    out["single"] = ens[0] if len(members) else np.nan
    out["ensemble_median"] = ens.median(axis=1)
    out["ensemble_k"] = ens.notna().sum(axis=1)
    for lv in NOMINAL:
        q_lo, q_hi = ens.quantile((1 - lv) / 2, axis=1), ens.quantile((1 + lv) / 2, axis=1)
        out[f"lo{int(lv * 100)}"], out[f"hi{int(lv * 100)}"] = q_lo, q_hi
        out[f"covered{int(lv * 100)}"] = (out["truth"] >= q_lo - 1e-9) & (out["truth"] <= q_hi + 1e-9)
    for name, b in baselines.items():
        out[name] = b["value"].reindex(out.index)
    return out


def summarize(sbs: pd.DataFrame, methods=("single", "ensemble_median", "margins", "shuffled"),
              by=("type", "status")) -> pd.DataFrame:
    """Per (type, status) and method: n, bias, mean absolute error, agreement of
    significance at .05 (P types) and, for the ensemble, coverage of its intervals."""
    rows = []
    d = sbs.dropna(subset=["truth"])
    for key, g in d.groupby(list(by)):
        key = key if isinstance(key, tuple) else (key,)
        for m in methods:
            if m not in g or g[m].isna().all():
                continue
            ok = g[m].notna()
            err = (g.loc[ok, m] - g.loc[ok, "truth"])
            row = dict(zip(by, key), method=m, n=int(ok.sum()), bias=float(err.mean()),
                       mae=float(err.abs().mean()), rmse=float(np.sqrt((err ** 2).mean())))
            if str(dict(zip(by, key)).get("type", "")).startswith("p_"):
                lg = np.log10(0.05)
                row["sig_agree"] = float(((g.loc[ok, m] < lg) == (g.loc[ok, "truth"] < lg)).mean())
            se = g.loc[ok, "truth_se"]
            if se.notna().any():
                row["mae_in_se"] = float((err.abs() / se).replace(np.inf, np.nan).median())
            if m == "ensemble_median":
                for lv in NOMINAL:
                    row[f"coverage{int(lv * 100)}"] = float(g.loc[ok, f"covered{int(lv * 100)}"].mean())
            rows.append(row)
    return pd.DataFrame(rows)
