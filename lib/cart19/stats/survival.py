"""Survival statistics behind the paper's Kaplan-Meier figures and Cox table.

The paper (Zhang et al., Blood Adv 2020;4(10):2325-2338, Statistical analysis) estimated OS and LFS
by Kaplan-Meier, compared groups with the log-rank test in GraphPad Prism 5 (Figures 2-7, whose
captions also print a Prism hazard ratio with 95% CI), and fitted multivariable Cox models after
forward selection in SPSS 16 (Table 5). This module gives thin, documented wrappers over
``lifelines`` for each of those steps:

==========================  =====================================================  ================
function                    what                                                    paper
==========================  =====================================================  ================
:func:`km_table`            KM survival + 95% CI at landmark times, median          Figures 2-7
:func:`km_median`           KM median survival per group                            Figures 2-7
:func:`number_at_risk`      numbers at risk under the curves                        Figures 2-7
:func:`logrank`             log-rank chi-square test, 2 or more groups              Figures 3-7
:func:`logrank_hr`          Prism's two hazard ratios beside a log-rank test        Figures 3-7
:func:`cox`                 Cox proportional-hazards fit (Efron ties)              Table 5
:func:`forward_selection`   forward stepwise variable selection for Cox             Table 5
==========================  =====================================================  ================

Every function takes a DataFrame and column names and returns a new DataFrame (or a dict / named
tuple for single tests); nothing is cached between calls. Bad input raises
:class:`cart19.errors.InputError` naming the file (``df.attrs["source"]`` if the caller set it), the
column, the 1-based row and the rule.

Where this module computes something itself rather than calling lifelines, a comment says why. The
results are checked against R's ``survival`` package in ``tests/test_survival_reference.py``.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy import stats

from cart19.errors import InputError

#: Confidence-interval transforms for the KM curve. All use Greenwood's variance.
#: ``"log-log"``: lifelines' only CI and Prism 5's default ("asymmetrical") interval;
#: R's survfit ``conf.type="log-log"``.
#: ``"log"``: R survfit's default (``conf.type="log"``).
#: ``"plain"``: linear Greenwood interval S +/- z*SE, clipped to [0, 1] (Prism's "symmetrical"
#: interval; R's ``conf.type="plain"``).
CI_TYPES = ("log-log", "log", "plain")

#: Median conventions. ``"midpoint"``: R's survfit and Prism - where the curve sits exactly at 50%
#: over an interval, the median is the midpoint of that interval. ``"first"``: lifelines - the first
#: time the curve is at or below 50%.
MEDIAN_RULES = ("midpoint", "first")

_TOL = np.sqrt(np.finfo(float).eps)  # the tolerance R's survival package uses to call S "exactly" 0.5


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------
def _source(df: pd.DataFrame) -> str:
    return str(df.attrs.get("source", "<DataFrame>"))


def _check_columns(df: pd.DataFrame, columns: Iterable[str]) -> None:
    for col in columns:
        if col is not None and col not in df.columns:
            raise InputError(_source(df), f"required column is missing (have: {list(df.columns)})",
                             column=col)


def _row(df: pd.DataFrame, mask: np.ndarray) -> int:
    """1-based data row of the first True in ``mask`` (header excluded)."""
    return int(np.flatnonzero(mask)[0]) + 1


def _survival_frame(df: pd.DataFrame, duration: str, event: str,
                    extra: Sequence[str] = ()) -> pd.DataFrame:
    """Validated copy with float durations >= 0 and 0/1 events; no missing values allowed."""
    _check_columns(df, [duration, event, *extra])
    out = df[[duration, event, *[c for c in extra if c not in (duration, event)]]].copy()
    dur = pd.to_numeric(out[duration], errors="coerce")
    bad = dur.isna().to_numpy() | ~np.isfinite(dur.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        r = _row(out, bad)
        raise InputError(_source(df), "duration must be a finite number", column=duration, row=r,
                         value=out[duration].iloc[r - 1])
    neg = (dur < 0).to_numpy()
    if neg.any():
        r = _row(out, neg)
        raise InputError(_source(df), "duration must be >= 0", column=duration, row=r,
                         value=out[duration].iloc[r - 1])
    ev = out[event]
    okev = ev.isin([0, 1, True, False]).to_numpy() & ev.notna().to_numpy()
    if not okev.all():
        r = _row(out, ~okev)
        raise InputError(_source(df), "event must be 0 (censored) or 1 (event)", column=event,
                         row=r, value=ev.iloc[r - 1])
    for col in extra:
        miss = out[col].isna().to_numpy()
        if miss.any():
            r = _row(out, miss)
            raise InputError(_source(df), "missing value not allowed here", column=col, row=r)
    out[duration] = dur.astype(float)
    out[event] = ev.astype(int)
    return out


def _groups(data: pd.DataFrame, group: str | None) -> list:
    """Group levels in sorted order (stable, so results do not depend on row order)."""
    if group is None:
        return ["all"]
    levels = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(data[group])]
    try:
        return sorted(levels)
    except TypeError:
        return sorted(levels, key=str)


def _subset(data: pd.DataFrame, group: str | None, level) -> pd.DataFrame:
    return data if group is None else data[data[group] == level]


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------
def _fit_km(sub: pd.DataFrame, duration: str, event: str, label) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(sub[duration], sub[event], label=str(label))


def _greenwood_at(kmf: KaplanMeierFitter, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """KM estimate and Greenwood sum  sum_{t_i <= t} d_i / (n_i (n_i - d_i))  at ``times``.

    Own code because lifelines exposes only the log(-log) interval at its own time grid; the
    Greenwood sum is needed to build the "log" and "plain" intervals too. The survival value is
    lifelines' (right-continuous: events at t are included at t, as R's summary(times=) does).
    """
    et = kmf.event_table
    n, d = et["at_risk"].to_numpy(float), et["observed"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
    cum = np.cumsum(term)
    idx = np.searchsorted(et.index.to_numpy(float), times, side="right") - 1
    gw = np.where(idx >= 0, cum[np.clip(idx, 0, None)], 0.0)
    surv = kmf.survival_function_at_times(times).to_numpy(float)
    return surv, gw


def _ci(surv: np.ndarray, gw: np.ndarray, ci_type: str, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI for S(t) from Greenwood's variance of log S (= ``gw``), as R's survfit does.

    Edge cases follow R: before the first event (S = 1, variance 0) the interval is [1, 1] for
    every type; once S = 0 the Greenwood variance is infinite (the last subject at risk had the
    event) and the interval is NA (NaN here), for every type.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    se = np.sqrt(gw)  # SE of log S (= SE of the cumulative hazard), Greenwood
    with np.errstate(divide="ignore", invalid="ignore"):
        if ci_type == "plain":
            half = z * se * surv
            half = np.where(surv == 0, 0.0, half)
            lo, hi = np.clip(surv - half, 0, 1), np.clip(surv + half, 0, 1)
        elif ci_type == "log":
            lo = np.where(surv > 0, np.exp(np.log(surv) - z * se), np.nan)
            hi = np.where(surv > 0, np.minimum(np.exp(np.log(surv) + z * se), 1.0), np.nan)
        elif ci_type == "log-log":
            ok = (surv > 0) & (surv < 1)
            s = np.where(ok, surv, 0.5)
            c = np.log(-np.log(s))
            w = z * se / np.log(s)
            lo = np.where(ok, np.exp(-np.exp(c - w)), np.nan)
            hi = np.where(ok, np.exp(-np.exp(c + w)), np.nan)
        else:
            raise ValueError(f"ci_type must be one of {CI_TYPES}, got {ci_type!r}")
    one, zero = surv >= 1, surv <= 0
    lo, hi = np.where(one, 1.0, lo), np.where(one, 1.0, hi)
    lo, hi = np.where(zero, np.nan, lo), np.where(zero, np.nan, hi)
    return lo, hi


def _median(kmf: KaplanMeierFitter, durations: np.ndarray, rule: str) -> float:
    """KM median. ``"first"`` is lifelines' ``median_survival_time_``. ``"midpoint"`` follows R's
    survival:::findq (and Prism): if S equals 0.5 (within sqrt(machine eps)) on a flat stretch, the
    median is the midpoint between the time S reached 0.5 and the next drop (or the last follow-up
    time if it never drops); otherwise the first time S < 0.5. NaN when S never reaches 0.5."""
    if rule == "first":
        m = float(kmf.median_survival_time_)
        return m if np.isfinite(m) else float("nan")
    if rule != "midpoint":
        raise ValueError(f"median rule must be one of {MEDIAN_RULES}, got {rule!r}")
    sf = kmf.survival_function_.iloc[:, 0]
    t, s = sf.index.to_numpy(float), sf.to_numpy(float)
    at_half = np.flatnonzero(np.abs(s - 0.5) < _TOL)
    if at_half.size:
        t_reach = t[at_half[0]]
        below = np.flatnonzero(s < 0.5 - _TOL)
        t_next = t[below[0]] if below.size else float(np.max(durations))
        return float((t_reach + t_next) / 2)
    below = np.flatnonzero(s < 0.5)
    return float(t[below[0]]) if below.size else float("nan")


def km_median(df: pd.DataFrame, duration: str, event: str, group: str | None = None,
              rule: str = "midpoint") -> pd.DataFrame:
    """Kaplan-Meier median survival per group (Figures 2-7 give medians implicitly via the curves).

    Returns one row per group: ``group, n, events, median`` (NaN if the curve never reaches 50%).
    ``rule`` is ``"midpoint"`` (R survfit / Prism convention, default) or ``"first"`` (lifelines).
    """
    data = _survival_frame(df, duration, event, [group] if group else [])
    rows = []
    for level in _groups(data, group):
        sub = _subset(data, group, level)
        kmf = _fit_km(sub, duration, event, level)
        rows.append({"group": level, "n": len(sub), "events": int(sub[event].sum()),
                     "median": _median(kmf, sub[duration].to_numpy(float), rule)})
    return pd.DataFrame(rows)


def km_table(df: pd.DataFrame, duration: str, event: str, group: str | None = None,
             times: Iterable[float] = (365.0,), ci_type: str = "log-log", alpha: float = 0.05,
             median_rule: str = "midpoint") -> pd.DataFrame:
    """Kaplan-Meier survival with a pointwise 95% CI at given times, per group.

    Serves the landmark numbers of Figures 2-7 (e.g. 1-year OS 63.9% for all 110 patients,
    Figure 2A; 6-month OS by TP53 status, Figure 6A).

    Parameters
    ----------
    times:
        landmark times in the units of ``duration`` (the paper's are days: 1 year = 365 days,
        6 months = 182.5 days is a choice the caller makes, not this function).
    ci_type:
        ``"log-log"`` (default: lifelines' interval and GraphPad Prism 5's default "asymmetrical"
        interval), ``"log"`` (R survfit's default) or ``"plain"`` (linear Greenwood). All use
        Greenwood's variance; see :data:`CI_TYPES`.

    Returns
    -------
    DataFrame with one row per (group, time): ``group, time, n_at_risk`` (subjects with
    duration >= time), ``survival, se`` (Greenwood SE of S; NaN once S = 0),
    ``ci_lower, ci_upper, ci_type`` and
    the group's ``median`` (rule ``median_rule``, see :func:`km_median`).
    """
    if ci_type not in CI_TYPES:
        raise ValueError(f"ci_type must be one of {CI_TYPES}, got {ci_type!r}")
    times = np.atleast_1d(np.asarray(list(times), dtype=float))
    data = _survival_frame(df, duration, event, [group] if group else [])
    rows = []
    for level in _groups(data, group):
        sub = _subset(data, group, level)
        kmf = _fit_km(sub, duration, event, level)
        surv, gw = _greenwood_at(kmf, times)
        lo, hi = _ci(surv, gw, ci_type, alpha)
        med = _median(kmf, sub[duration].to_numpy(float), median_rule)
        dur = sub[duration].to_numpy(float)
        with np.errstate(invalid="ignore"):
            se = np.where(surv > 0, surv * np.sqrt(gw), np.nan)  # NA once S = 0, as R
        for i, t in enumerate(times):
            rows.append({"group": level, "time": t, "n_at_risk": int((dur >= t).sum()),
                         "survival": surv[i], "se": se[i],
                         "ci_lower": lo[i], "ci_upper": hi[i], "ci_type": ci_type, "median": med})
    return pd.DataFrame(rows)


def number_at_risk(df: pd.DataFrame, duration: str, event: str, group: str | None,
                   times: Iterable[float]) -> pd.DataFrame:
    """Number of subjects still at risk (duration >= t) at each time, per group.

    This is the table printed beneath the KM curves of Figures 2-7 and the ``n.risk`` of R's
    ``summary(survfit, times=)``. Index: group; columns: the times.
    """
    times = [float(t) for t in times]
    data = _survival_frame(df, duration, event, [group] if group else [])
    out = {}
    for level in _groups(data, group):
        dur = _subset(data, group, level)[duration].to_numpy(float)
        out[level] = [int((dur >= t).sum()) for t in times]
    res = pd.DataFrame.from_dict(out, orient="index", columns=times)
    res.index.name = "group"
    return res


# --------------------------------------------------------------------------------------------
# log-rank test and Prism hazard ratios
# --------------------------------------------------------------------------------------------
def _observed_expected(data: pd.DataFrame, duration: str, event: str, group: str,
                       levels: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed and expected events per group and the hypergeometric (co)variance matrix.

    Own code because lifelines' log-rank functions return only the statistic, not O, E and V, and
    Prism's hazard ratios are built from them. This is the Mantel-Haenszel form used by R's
    survdiff (rho = 0) and by lifelines: at each distinct event time with n at risk and d events,
    E_g += d n_g / n and V_gh += d (n - d)/(n - 1) * n_g/n * (delta_gh - n_h/n).
    """
    t = data[duration].to_numpy(float)
    e = data[event].to_numpy(int)
    g = data[group].to_numpy()
    k = len(levels)
    member = np.stack([g == lv for lv in levels])  # k x N
    O = np.array([e[m].sum() for m in member], dtype=float)
    E = np.zeros(k)
    V = np.zeros((k, k))
    for tj in np.unique(t[e == 1]):
        at_risk = t >= tj
        n_g = (member & at_risk).sum(axis=1).astype(float)
        n = n_g.sum()
        d = float(((t == tj) & (e == 1)).sum())
        frac = n_g / n
        E += d * frac
        if n > 1:
            V += d * (n - d) / (n - 1) * (np.diag(frac) - np.outer(frac, frac))
    return O, E, V


def logrank(df: pd.DataFrame, duration: str, event: str, group: str) -> dict:
    """Log-rank (Mantel-Cox) test of equal survival across 2 or more groups.

    The test Prism 5 reports as "Log-rank (Mantel-Cox)" for Figures 3-7 and R's ``survdiff``.
    Two groups use ``lifelines.statistics.logrank_test``, more use
    ``multivariate_logrank_test``; both give the chi-square on (groups - 1) df.

    Returns ``{"chi2", "df", "p", "groups", "observed", "expected", "n"}`` (observed/expected are
    dicts group -> events, from :func:`_observed_expected`).
    """
    data = _survival_frame(df, duration, event, [group])
    levels = _groups(data, group)
    if len(levels) < 2:
        raise InputError(_source(df), "log-rank test needs at least 2 groups, found "
                         f"{len(levels)}", column=group)
    if len(levels) == 2:
        a, b = (_subset(data, group, lv) for lv in levels)
        res = logrank_test(a[duration], b[duration], a[event], b[event])
    else:
        res = multivariate_logrank_test(data[duration], data[group], data[event])
    O, E, _ = _observed_expected(data, duration, event, group, levels)
    return {"chi2": float(res.test_statistic), "df": int(res.degrees_of_freedom),
            "p": float(res.p_value), "groups": levels,
            "n": {lv: int((data[group] == lv).sum()) for lv in levels},
            "observed": dict(zip(levels, O.tolist())), "expected": dict(zip(levels, E.tolist()))}


def logrank_hr(df: pd.DataFrame, duration: str, event: str, group: str, ref,
               alpha: float = 0.05) -> pd.DataFrame:
    """The two hazard ratios GraphPad Prism reports beside a two-group log-rank test.

    The paper prints a Prism HR (95% CI) in the captions of Figures 3-7 without saying which of
    Prism's methods it is, nor which group is the numerator (its captions mix directions, e.g.
    Figure 3 OS HR 0.048 and LFS HR 35.45 both favour transplant). So both are returned, for the
    non-reference group ``a`` versus ``ref`` = ``b``; swap ``ref`` for the reciprocal.

    Prism documents (after Machin, Cheung & Parmar, *Survival Analysis*, ch. 3):

    * ``"logrank"``: HR = (O_a/E_a) / (O_b/E_b), 95% CI exp(ln HR +/- z sqrt(1/E_a + 1/E_b)).
    * ``"mantel_haenszel"``: K = (O_a - E_a)/V, HR = exp(K), 95% CI exp(K +/- z/sqrt(V)), with V
      the hypergeometric variance summed over event times (the log-rank test's variance).

    O, E, V are computed as in R's survdiff (see :func:`_observed_expected`).

    Returns a DataFrame indexed by method with columns ``hr, ci_lower, ci_upper, group, ref,
    O_group, E_group, O_ref, E_ref, V``.
    """
    data = _survival_frame(df, duration, event, [group])
    levels = _groups(data, group)
    if len(levels) != 2:
        raise InputError(_source(df), f"hazard ratio needs exactly 2 groups, found {len(levels)}: "
                         f"{levels}", column=group)
    if ref not in levels:
        raise InputError(_source(df), f"reference group {ref!r} is not one of {levels}",
                         column=group)
    a = levels[0] if levels[1] == ref else levels[1]
    O, E, V = _observed_expected(data, duration, event, group, [a, ref])
    z = stats.norm.ppf(1 - alpha / 2)
    v = V[0, 0]
    common = {"group": a, "ref": ref, "O_group": O[0], "E_group": E[0], "O_ref": O[1],
              "E_ref": E[1], "V": v}
    # an arm without events has a log-rank HR of 0 or infinity (its CI likewise): no warning
    with np.errstate(divide="ignore", invalid="ignore"):
        hr_lr = (O[0] / E[0]) / (O[1] / E[1])
        se_lr = np.sqrt(1 / E[0] + 1 / E[1])
        k = (O[0] - E[0]) / v
        rows = {
            "logrank": {"hr": hr_lr, "ci_lower": np.exp(np.log(hr_lr) - z * se_lr),
                        "ci_upper": np.exp(np.log(hr_lr) + z * se_lr), **common},
            "mantel_haenszel": {"hr": np.exp(k), "ci_lower": np.exp(k - z / np.sqrt(v)),
                                "ci_upper": np.exp(k + z / np.sqrt(v)), **common},
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "method"
    return out


# --------------------------------------------------------------------------------------------
# Cox regression
# --------------------------------------------------------------------------------------------
def _cox_frame(df: pd.DataFrame, duration: str, event: str, covariates: Sequence[str]) -> pd.DataFrame:
    data = _survival_frame(df, duration, event, list(covariates))
    for c in covariates:
        num = pd.to_numeric(data[c], errors="coerce")
        bad = num.isna().to_numpy()
        if bad.any():
            r = _row(data, bad)
            raise InputError(_source(df), "Cox covariate must be numeric (code categories as 0/1)",
                             column=c, row=r, value=data[c].iloc[r - 1])
        data[c] = num.astype(float)
    return data


def cox(df: pd.DataFrame, duration: str, event: str, covariates: Sequence[str],
        ties: str = "efron", alpha: float = 0.05) -> pd.DataFrame:
    """Cox proportional-hazards regression (Table 5's multivariable models).

    Fitted by ``lifelines.CoxPHFitter`` (Newton-Raphson on Efron's partial likelihood; lifelines
    implements only Efron's tie handling, which is also R coxph's default - SPSS uses Breslow's,
    which differs when event times are tied). Wald SE from the observed information.

    Returns a DataFrame indexed by covariate: ``coef, se, hr, ci_lower, ci_upper, z, p`` with the
    CI for the HR = exp(coef +/- z se); ``attrs["log_likelihood"]`` holds the maximised log
    partial likelihood.
    """
    if ties != "efron":
        raise ValueError("only ties='efron' is available (lifelines' CoxPHFitter uses Efron)")
    covariates = list(covariates)
    if not covariates:
        raise ValueError("cox() needs at least one covariate")
    data = _cox_frame(df, duration, event, covariates)
    cph = CoxPHFitter(alpha=alpha)
    # lifelines' defaults stop Newton-Raphson with the last step unapplied, leaving the score at
    # ~1e-6 and coefficients ~5e-7 from the maximum (measured on the reference data sets). Asking
    # for a step norm < 1e-20 makes it iterate until the step is exactly zero (a few more
    # iterations), so estimates match R's coxph to ~1e-13. A genuinely non-converging fit still
    # stops at max_steps with lifelines' ConvergenceWarning.
    cph.fit(data[[duration, event, *covariates]], duration_col=duration, event_col=event,
            fit_options={"precision": 1e-20, "r_precision": 0.0, "max_steps": 60})
    s = cph.summary
    zcrit = stats.norm.ppf(1 - alpha / 2)
    out = pd.DataFrame({
        "coef": s["coef"], "se": s["se(coef)"], "hr": s["exp(coef)"],
        "ci_lower": np.exp(s["coef"] - zcrit * s["se(coef)"]),
        "ci_upper": np.exp(s["coef"] + zcrit * s["se(coef)"]),
        "z": s["z"], "p": s["p"],
    })
    out.index.name = "covariate"
    out.attrs["log_likelihood"] = float(cph.log_likelihood_)
    return out


def efron_loglik_score_info(data: pd.DataFrame, duration: str, event: str,
                            covariates: Sequence[str], beta: Sequence[float]
                            ) -> tuple[float, np.ndarray, np.ndarray]:
    """Efron log partial likelihood, its gradient (score) and observed information at ``beta``.

    Own code because lifelines offers no public way to evaluate the score at a *given* point, which
    the score test for entering a variable (:func:`forward_selection`) needs: the score of the
    bigger model at (current estimates, 0). Checked against lifelines' maximised likelihood and
    R's ``coxph(init=..., iter.max=0)$score`` in the tests.
    """
    X = data[list(covariates)].to_numpy(float) if covariates else np.zeros((len(data), 0))
    t = data[duration].to_numpy(float)
    e = data[event].to_numpy(int)
    beta = np.atleast_1d(np.asarray(beta, dtype=float))
    p = X.shape[1]
    eta = X @ beta if p else np.zeros(len(t))
    eta_shift = eta.max() if len(eta) else 0.0  # for numerical stability; cancels in ratios
    r = np.exp(eta - eta_shift)
    ll, U, info = 0.0, np.zeros(p), np.zeros((p, p))
    for tj in np.unique(t[e == 1]):
        risk = t >= tj
        dead = risk & (t == tj) & (e == 1)
        d = int(dead.sum())
        rr, rd = r[risk], r[dead]
        S0, A0 = rr.sum(), rd.sum()
        S1, A1 = rr @ X[risk], rd @ X[dead]
        S2 = (X[risk] * rr[:, None]).T @ X[risk]
        A2 = (X[dead] * rd[:, None]).T @ X[dead]
        ll += eta[dead].sum()
        U += X[dead].sum(axis=0)
        for l in range(d):
            c = l / d
            den = S0 - c * A0
            m1 = (S1 - c * A1) / den
            ll -= np.log(den) + eta_shift
            U -= m1
            info += (S2 - c * A2) / den - np.outer(m1, m1)
    return float(ll), U, info


class ForwardSelection(NamedTuple):
    """Result of :func:`forward_selection`."""
    selected: list          #: covariates in the final model, in order of entry
    steps: pd.DataFrame     #: one row per step: step, action, variable, statistic, df, p
    model: pd.DataFrame     #: :func:`cox` on the selected covariates (empty if none entered)


def _cox_loglik(data: pd.DataFrame, duration: str, event: str,
                cols: list[str]) -> tuple[float, np.ndarray]:
    """Log partial likelihood (Efron) of the Cox model on ``cols`` and its coefficients."""
    if not cols:
        return efron_loglik_score_info(data, duration, event, [], [])[0], np.zeros(0)
    m = cox(data, duration, event, cols)
    return m.attrs["log_likelihood"], m["coef"].to_numpy()


def _best_entry(data: pd.DataFrame, duration: str, event: str, outside: list[str],
                selected: list[str], beta_cur: np.ndarray, ll_cur: float, test: str):
    """(candidate, statistic, P) of the candidate with the smallest entry P, or None."""
    best = None
    for c in outside:
        if test == "score":
            _, U, info = efron_loglik_score_info(data, duration, event, selected + [c],
                                                 np.append(beta_cur, 0.0))
            try:
                stat = float(U @ np.linalg.solve(info, U))
            except np.linalg.LinAlgError:
                continue
        else:
            stat = 2 * (_cox_loglik(data, duration, event, selected + [c])[0] - ll_cur)
        pval = float(stats.chi2.sf(stat, 1))
        if best is None or pval < best[2]:
            best = (c, stat, pval)
    return best


def forward_selection(df: pd.DataFrame, duration: str, event: str, candidates: Sequence[str],
                      enter: float = 0.05, remove: float | None = 0.10, test: str = "score",
                      max_steps: int = 100) -> ForwardSelection:
    """Forward stepwise selection of Cox covariates, as SPSS's "Forward: LR" method (Table 5).

    The paper says only "forward selection ... P < .05". SPSS's COXREG ``METHOD=FSTEP(LR)``
    (documented in IBM's COXREG syntax reference; defaults ``PIN(0.05) POUT(0.10)``) does:

    1. **Entry**: for every candidate not in the model, the score test of adding it (score at the
       current estimates with the new coefficient at 0, 1 df). The candidate with the smallest P
       enters if P < ``enter`` (SPSS default 0.05). ``test="lr"`` uses the likelihood-ratio test
       instead.
    2. **Removal**: after each entry, the likelihood-ratio test of dropping each variable in the
       model; the one with the largest P is removed if P > ``remove`` (SPSS default 0.10).
       ``remove=None`` disables removal (pure forward selection).
    3. Stop when no candidate enters (or after ``max_steps`` steps, a guard against cycling).

    Ties are handled by Efron's method here (SPSS uses Breslow's), so with tied event times the
    statistics differ slightly from SPSS's.
    """
    if test not in ("score", "lr"):
        raise ValueError("test must be 'score' or 'lr'")
    candidates = list(candidates)
    data = _cox_frame(df, duration, event, candidates)
    selected: list[str] = []
    steps = []

    def loglik(cols: list[str]) -> tuple[float, np.ndarray]:
        return _cox_loglik(data, duration, event, cols)

    ll_cur, beta_cur = loglik(selected)
    for step in range(1, max_steps + 1):
        best = _best_entry(data, duration, event, [c for c in candidates if c not in selected],
                           selected, beta_cur, ll_cur, test)
        if best is None or not best[2] < enter:
            break
        selected.append(best[0])
        steps.append({"step": step, "action": "enter", "variable": best[0],
                      "statistic": best[1], "df": 1, "p": best[2], "test": test})
        ll_cur, beta_cur = loglik(selected)
        if remove is not None and len(selected) > 1:
            worst = None
            for c in selected:
                stat = 2 * (ll_cur - loglik([s for s in selected if s != c])[0])
                pval = float(stats.chi2.sf(stat, 1))
                if worst is None or pval > worst[2]:
                    worst = (c, stat, pval)
            if worst[2] > remove:
                selected.remove(worst[0])
                steps.append({"step": step, "action": "remove", "variable": worst[0],
                              "statistic": worst[1], "df": 1, "p": worst[2], "test": "lr"})
                ll_cur, beta_cur = loglik(selected)
    steps_df = pd.DataFrame(steps, columns=["step", "action", "variable", "statistic", "df", "p",
                                            "test"])
    model = cox(data, duration, event, selected) if selected else pd.DataFrame(
        columns=["coef", "se", "hr", "ci_lower", "ci_upper", "z", "p"])
    return ForwardSelection(selected, steps_df, model)
