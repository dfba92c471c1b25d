"""The statistics a reader of a reconstruction-based book would take from it.

Computed the same way on the true table and on each reconstruction, so that they can be set
side by side (:mod:`cart19.validation.compare`). Types:

``hr_uni``    univariate Cox ln HR of each characteristic (Figures 3-7, "no differences")
``p_uni``     log10 of its log-rank P
``hr_multi``  multivariable Cox ln HR, every characteristic at once (Table 5)
``p_multi``   log10 of its Wald P
``km``        Kaplan-Meier survival (percent) at times the paper does not print, and at the
              printed landmark for groups without a printed figure
``phi``       association (phi coefficient) of two characteristics whose cross-tabulation the
              paper does not print
``hr_tv``     ln HR of a time-dependent arm as a time-varying covariate, and by landmark
              analysis at its median switch day (chapter 23's immortal-time methods,
              :mod:`cart19.stats.timevarying`)

Whether a statistic was fitted at an information level is :func:`status`.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from cart19.reconstruction import general_survival as gs
from cart19.reconstruction.general_study import Study
from cart19.stats import timevarying
from cart19.stats.survival import cox
from cart19.validation.aggregates import targeted_comparisons

#: |ln HR| beyond this is a fit that separated (an arm without events): reported at the cap
LN_HR_CAP = 3.0
#: log10 P below this is reported at the floor (P < 1e-8 carries no more information here)
LOG10_P_FLOOR = -8.0


def _cox_terms(table: pd.DataFrame, ep: str, terms) -> pd.DataFrame:
    d = table[[f"{ep}_time", f"{ep}_event", *terms]].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cox(d, f"{ep}_time", f"{ep}_event", list(terms))
        except Exception:  # a singular or non-converging fit: no estimate
            return pd.DataFrame({"coef": np.nan, "se": np.nan, "p": np.nan}, index=list(terms))


def _hr_row(type_, ep, term, coef, se, p) -> list[dict]:
    ln = float(np.clip(coef, -LN_HR_CAP, LN_HR_CAP)) if np.isfinite(coef) else np.nan
    lp = float(max(np.log10(p), LOG10_P_FLOOR)) if np.isfinite(p) and p > 0 else \
        (LOG10_P_FLOOR if p == 0 else np.nan)
    return [{"stat": f"{type_}:{ep}:{term}", "type": type_, "endpoint": ep, "term": term,
             "value": ln, "se": float(se) if np.isfinite(se) else np.nan},
            {"stat": f"{type_.replace('hr', 'p')}:{ep}:{term}",
             "type": type_.replace("hr", "p"), "endpoint": ep, "term": term, "value": lp,
             "se": np.nan}]


def cox_stats(table: pd.DataFrame, study: Study) -> list[dict]:
    """Univariate and multivariable Cox ln HR (and P), per endpoint. The univariate P is the
    log-rank test's, as the paper's figures report it."""
    rows = []
    terms = [g for g in study.baseline if table[g].nunique() > 1]
    for e in study.endpoints:
        t, ev = table[f"{e.name}_time"].to_numpy(), table[f"{e.name}_event"].to_numpy()
        for g in terms:
            r = _cox_terms(table, e.name, [g]).loc[g]
            x = table[g].to_numpy() == 1
            p = gs.logrank(gs.risk_sets(t, ev, np.array([x, ~x])), 0, 1).p
            rows += _hr_row("hr_uni", e.name, g, r["coef"], r["se"], p)
        m = _cox_terms(table, e.name, terms)
        for g in terms:
            rows += _hr_row("hr_multi", e.name, g, m.loc[g, "coef"], m.loc[g, "se"], m.loc[g, "p"])
    return rows


def km_times(study: Study, table: pd.DataFrame) -> list[float]:
    """Untargeted KM times: the study's own, or half and one and a half landmarks (kept only
    while a tenth of the patients is still followed)."""
    if study.untargeted_km:
        return list(study.untargeted_km)
    t = table[f"{study.endpoints[0].name}_time"].to_numpy()
    horizon = float(np.quantile(t, 0.9))
    return [x for x in (0.5 * study.landmark, 1.5 * study.landmark) if x <= horizon]


def km_stats(table: pd.DataFrame, study: Study) -> list[dict]:
    """KM (percent) at untargeted times for the overall curve and every figure's arms, and at
    the landmark for both levels of every characteristic."""
    rows = []
    groups = [("all", ())] + [("&".join(w), w) for c in study.comparisons for w in (c.a, c.b)]
    groups += [(lit, (lit,)) for g in study.baseline for lit in (g, "~" + g)]
    groups = list(dict(groups).items())
    from cart19.reconstruction.targets import where_mask
    masks = np.array([where_mask(table, w) for _, w in groups])
    times_ = km_times(study, table)
    for e in study.endpoints:
        rs = gs.risk_sets(table[f"{e.name}_time"].to_numpy(), table[f"{e.name}_event"].to_numpy(),
                          masks)
        s = gs.km(rs, times_ + [study.landmark]) * 100.0
        for g, (name, _w) in enumerate(groups):
            cols = [(times_[j], s[g, j]) for j in range(len(times_))] if g < 1 + 2 * len(
                study.comparisons) else []
            cols.append((study.landmark, s[g, -1]))
            for at, v in cols:
                rows.append({"stat": f"km:{e.name}:{name}:{at:g}", "type": "km", "endpoint": e.name,
                             "term": f"{name}@{at:g}", "value": float(v), "se": np.nan})
    return rows


def phi_stats(table: pd.DataFrame, study: Study) -> list[dict]:
    """Phi coefficient of every pair of characteristics the paper does not cross-tabulate
    (pairs with the arm or the response are printed in Tables 3-4)."""
    printed = set(study.arm.literals) | ({study.response} if study.response else set())
    names = [g for g in study.baseline if g not in printed]
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = table[a].to_numpy(float), table[b].to_numpy(float)
            r = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else np.nan
            rows.append({"stat": f"phi:{a}:{b}", "type": "phi", "endpoint": "", "term": f"{a}~{b}",
                         "value": float(r), "se": np.nan})
    return rows


def switch_stats(table: pd.DataFrame, study: Study) -> list[dict]:
    """The time-dependent arm by chapter 23's methods: time-varying Cox and landmark at the
    median switch day (fixed-at-baseline is ``hr_uni`` of the switch attribute)."""
    if study.switch is None:
        return []
    ep = study.endpoints[0].name
    d = pd.DataFrame({"os_days": table[f"{ep}_time"].astype(float),
                      "os_event": table[f"{ep}_event"].astype(int),
                      "hsct": table[study.switch.attribute].astype(int),
                      "hsct_day": table["switch_time"].astype(float)})
    landmark = float(np.nanmedian(d["hsct_day"]))
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, f in (("time_varying", lambda: timevarying.time_varying_hr(d, "os")),
                        ("landmark", lambda: timevarying.landmark_hr(d, "os", landmark))):
            try:
                r = f()
                coef, p = np.log(r["hr"]), r["p"]
                se = (np.log(r["ci_high"]) - np.log(r["ci_low"])) / (2 * 1.959963984540054)
            except Exception:
                coef = se = p = np.nan
            rows += _hr_row("hr_tv", ep, f"{study.switch.attribute}:{name}", coef, se, p)
    return rows


def statistics(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Every statistic of a cohort, one row each: stat, type, endpoint, term, value, se."""
    rows = cox_stats(table, study) + km_stats(table, study) + phi_stats(table, study) + \
        switch_stats(table, study)
    return pd.DataFrame(rows).set_index("stat")


def status(stats: pd.DataFrame, study: Study, level) -> pd.Series:
    """Per statistic at an information level: ``fitted`` (printed), ``constrained`` (an HR
    whose P and landmarks are printed but not the HR itself) or ``emergent``."""
    tc = targeted_comparisons(study, level)
    figures = {"&".join(w) for c in study.comparisons for w in (c.a, c.b)}

    def one(row) -> str:
        typ, term = row["type"], str(row["term"])
        if typ == "hr_uni":
            return {"p+hr": "fitted", "p": "constrained"}.get(tc.get(term, ""), "emergent")
        if typ == "p_uni":
            return "fitted" if tc.get(term, "") else "emergent"
        if typ == "km" and term.endswith(f"@{study.landmark:g}"):
            name = term.split("@")[0]
            base = name.lstrip("~")
            printed = name == "all" or name in figures or (level == 2 and tc.get(base) == "p")
            return "fitted" if printed else "emergent"
        return "emergent"

    return stats.apply(one, axis=1)
