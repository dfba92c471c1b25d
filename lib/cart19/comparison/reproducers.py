"""The statistics a claim is reproduced with, each computed from the (reconstructed) cohort.

Every builder returns a function ``f(ctx) -> dict`` of claims.csv fields (n, N, percent, median,
min, max, mean, dispersion, p, hr, ci_low, ci_high) and carries two attributes:

- ``key``: the quantity it computes (statistic, patients, endpoint), the same for every claim
  that prints the same quantity: the headline counts distinct quantities by it;
- ``literals``: the patient sets it counts, where the basis depends on them (a count is fitted
  only when the reconstruction targeted exactly those patients).

Groups are conjunctions of literals over the binary attributes of the literal language
(:mod:`cart19.record.attributes`), the language of the targets, so a claim and its target
always mean the same patients. Nothing here reads a published value.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cart19.record import design
from cart19.stats import survival


# ------------------------------------------------------------------------------------------
# the cohort as the reproduction sees it
# ------------------------------------------------------------------------------------------
@dataclass
class Context:
    """The cohort's columns plus the binary attributes of the literal language."""
    data: pd.DataFrame

    def mask(self, lits: tuple[str, ...]) -> np.ndarray:
        m = np.ones(len(self.data), dtype=bool)
        for lit in lits:
            neg = lit.startswith("~")
            col = self.data[lit.lstrip("~")].fillna(0).astype(int).to_numpy() == 1
            m &= ~col if neg else col
        return m

    def count(self, lits) -> int:
        return int(self.mask(tuple(lits)).sum())

    def subset(self, lits) -> pd.DataFrame:
        return self.data.loc[self.mask(tuple(lits))]


def attribute_frame(cohort: pd.DataFrame, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cohort with every attribute of design.yml added (:meth:`Design.attribute_frame`)."""
    attrs = design.load().attribute_frame(cohort, claims)
    extra = attrs[[c for c in attrs.columns if c not in cohort.columns]]
    return pd.concat([cohort.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)


def endpoint_columns(name: str) -> tuple[str, str]:
    """(duration, event) columns of an endpoint of the design."""
    e = design.load().endpoints[name]
    return e.duration, e.event


def _w(lits) -> str:
    return ",".join(lits) or "all"


def tagged(f: Callable, key: str, literals=None) -> Callable:
    f.key = key
    if literals is not None:
        f.literals = literals
    return f


def percent_of(n: int, N: int) -> float:
    return 100.0 * n / N if N else float("nan")


# ------------------------------------------------------------------------------------------
# counts, summaries, landmarks
# ------------------------------------------------------------------------------------------
def count(lits) -> Callable:
    return tagged(lambda ctx: {"n": ctx.count(lits)}, f"count[{_w(lits)}]", (tuple(lits),))


def prop(num, den) -> Callable:
    def f(ctx):
        n, N = ctx.count(num), ctx.count(den)
        return {"n": n, "N": N, "percent": percent_of(n, N)}
    return tagged(f, f"count[{_w(num)}]/[{_w(den)}]", (tuple(num), tuple(den)))


def median_of(column, lits=(), scale: float = 1.0) -> Callable:
    def f(ctx):
        x = scale * pd.to_numeric(ctx.subset(lits)[column], errors="coerce").dropna()
        if x.empty:
            return {}
        return {"median": float(x.median()), "min": float(x.min()), "max": float(x.max())}
    return tagged(f, f"median[{column}|{_w(lits)}|x{scale:g}]")


def rate_range(outcome, groups) -> Callable:
    """The lowest and highest rate of ``outcome`` over several groups (Discussion)."""
    def f(ctx):
        rates = [100.0 * ctx.count(tuple(g) + tuple(outcome)) / ctx.count(g) for g in groups
                 if ctx.count(g)]
        return {"min": min(rates), "max": max(rates)}
    return tagged(f, f"range[{_w(outcome)}|" + ";".join(_w(g) for g in groups) + "]")


def km_at(endpoint: str, lits, days: float, target: str | None = None) -> Callable:
    """KM landmark (Figures 2-7) and the tolerance the reconstruction was calibrated to:
    max(1.0 point, half a KM step at that time), a step being S(t)/n_at_risk(t). ``target`` is
    the claim id the reconstruction fitted this landmark under (its first printing)."""
    dur, ev = endpoint_columns(endpoint)

    def f(ctx):
        sub = ctx.subset(lits)
        tab = survival.km_table(sub, dur, ev, times=[days])
        s, at_risk = float(tab["survival"].iloc[0]), int(tab["n_at_risk"].iloc[0])
        half_step = 50.0 * s / at_risk if at_risk else 50.0 * s
        return {"percent": 100.0 * s, "tolerance": max(1.0, half_step)}
    f.km = target
    return tagged(f, f"km[{endpoint}|{_w(lits)}|{days:g}]")


# ------------------------------------------------------------------------------------------
# two-arm survival comparisons (Figures 3-7)
# ------------------------------------------------------------------------------------------
def two_arm(ctx: Context, a, b) -> pd.DataFrame:
    """The patients of arms ``a`` and ``b`` with an ``_arm`` column ("a"/"b")."""
    ma, mb = ctx.mask(tuple(a)), ctx.mask(tuple(b))
    sub = ctx.data.loc[ma | mb].copy()
    sub["_arm"] = np.where(ma[ma | mb], "a", "b")
    return sub


def logrank_p(endpoint, a, b) -> Callable:
    dur, ev = endpoint_columns(endpoint)
    return tagged(lambda ctx: {"p": survival.logrank(two_arm(ctx, a, b), dur, ev, "_arm")["p"]},
                f"logrank[{endpoint}|{_w(a)}|{_w(b)}]")


def prism_hr(endpoint, a, b, orientation: str = "a_vs_b", variant: str = "mantel_haenszel"
             ) -> Callable:
    """GraphPad Prism's HR and 95% CI in the printed ``orientation`` (``a_vs_b``: the hazard of
    arm a relative to arm b), as the recorded ``variant``; the other Prism variant beside it
    (``alt_*``), so a table can show both."""
    dur, ev = endpoint_columns(endpoint)
    ref = "b" if orientation == "a_vs_b" else "a"
    other = {"mantel_haenszel": "logrank", "logrank": "mantel_haenszel"}[variant]

    def f(ctx):
        t = survival.logrank_hr(two_arm(ctx, a, b), dur, ev, "_arm", ref=ref)
        r, o = t.loc[variant], t.loc[other]
        return {"hr": float(r["hr"]), "ci_low": float(r["ci_lower"]),
                "ci_high": float(r["ci_upper"]), "variant": variant, "alt_variant": other,
                "alt_hr": float(o["hr"]), "alt_ci_low": float(o["ci_lower"]),
                "alt_ci_high": float(o["ci_upper"])}
    return tagged(f, f"hr[{endpoint}|{_w(a)}|{_w(b)}|{variant}]")


# ------------------------------------------------------------------------------------------
# crosstabs and t-tests (Tables 3, 4; text)
# ------------------------------------------------------------------------------------------
#: SPSS prints several tests for a crosstab; which one each printed P comes from is established
#: by the audit (check "p.<claim>": the tests that reproduce the printed P). Where several do,
#: the first in this order is used; where none does, Pearson's chi-square (reading
#: crosstab_test_per_row of data/published/readings.csv).
TEST_PREFERENCE = ("pearson", "yates", "fisher", "likelihood_ratio", "linear_by_linear")


def crosstab_p(table: np.ndarray, test: str = "pearson") -> float:
    from cart19.stats.printed import contingency_tests
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one outcome only: no association to test
        return 1.0
    return float(contingency_tests(table)[test])


def _crosstab_result(table: np.ndarray, test: str) -> dict:
    out = {"p": crosstab_p(table, test), "test": test}
    if test != "pearson":
        out["p_pearson"] = crosstab_p(table, "pearson")
    return out


def chi2_p(outcome, a, b, test: str = "pearson") -> Callable:
    """P of a 2x2 crosstab (Table 3; the CNS and costimulation comparisons of the text)."""
    def f(ctx):
        ka, na = ctx.count(tuple(a) + tuple(outcome)), ctx.count(a)
        kb, nb = ctx.count(tuple(b) + tuple(outcome)), ctx.count(b)
        return _crosstab_result(np.array([[ka, na - ka], [kb, nb - kb]]), test)
    return tagged(f, f"crosstab[{_w(outcome)}|{_w(a)}|{_w(b)}]",
                (tuple(a) + tuple(outcome), tuple(a), tuple(b) + tuple(outcome), tuple(b)))


def chi2_arms_p(levels: list[tuple], arms: tuple[tuple, tuple], test: str = "pearson") -> Callable:
    """P of an arm x level crosstab (Table 4, 2x2 or 2x3). No ``literals``: every cell is a
    target or the remainder of fitted totals (readings cri_total_61,
    table4_karyotype_unknown_no_hsct), so the P follows from the fit as the family says."""
    def f(ctx):
        table = np.array([[ctx.count(tuple(arm) + tuple(lv)) for lv in levels] for arm in arms])
        return _crosstab_result(table, test)
    cells = [tuple(arm) + tuple(lv) for arm in arms for lv in levels]
    return tagged(f, "crosstab[" + ";".join(_w(x) for x in cells) + "]")


def mean_se(column, lits) -> Callable:
    """Mean and standard error (Table 3's '± SD' is read as a standard error: reading
    table3_carpeak_dispersion_is_se)."""
    def f(ctx):
        x = pd.to_numeric(ctx.subset(lits)[column], errors="coerce").dropna()
        return {"mean": float(x.mean()), "dispersion": float(x.std(ddof=1) / np.sqrt(len(x)))}
    return tagged(f, f"mean[{column}|{_w(lits)}]")


def ttest_p(column, a, b) -> Callable:
    from scipy.stats import ttest_ind

    def f(ctx):
        xa = pd.to_numeric(ctx.subset(a)[column], errors="coerce").dropna()
        xb = pd.to_numeric(ctx.subset(b)[column], errors="coerce").dropna()
        return {"p": float(ttest_ind(xa, xb, equal_var=True).pvalue)}
    return tagged(f, f"ttest[{column}|{_w(a)}|{_w(b)}]")


# ------------------------------------------------------------------------------------------
# Cox models (Table 5, Abstract)
# ------------------------------------------------------------------------------------------
def _cox_frame(ctx, endpoint, covs: dict, population) -> tuple[pd.DataFrame, str, str]:
    dur, ev = endpoint_columns(endpoint)
    m = ctx.mask(tuple(population))
    sub = ctx.data.loc[m, [dur, ev]].copy()
    for name, lits in covs.items():
        sub[name] = ctx.mask(tuple(lits))[m].astype(float)
    return sub, dur, ev


def _hr_row(r) -> dict:
    return {"hr": float(r["hr"]), "ci_low": float(r["ci_lower"]), "ci_high": float(r["ci_upper"]),
            "p": float(r["p"])}


def cox_fit(ctx: Context, endpoint: str, covs: dict, population=("cr",)) -> pd.DataFrame:
    """One multivariable Cox model (:func:`cart19.stats.survival.cox`): ``covs`` maps a covariate
    name to the literals of its indicator; fitted on ``population``."""
    sub, dur, ev = _cox_frame(ctx, endpoint, covs, population)
    return survival.cox(sub, dur, ev, list(covs))


def cox_hr(endpoint: str, covariate: str, covs: dict, population=("cr",)) -> Callable:
    """Table 5: multivariable Cox model with all printed covariates; exp(coef) is the hazard of
    the covariate's indicator level relative to the other."""
    def f(ctx):
        return _hr_row(cox_fit(ctx, endpoint, covs, population).loc[covariate])
    return tagged(f, f"cox[{endpoint}|{covariate}|" + ";".join(sorted(covs)) + "]")


def forward_hr(endpoint: str, covariate: str, covs: dict, population=("cr",)) -> Callable:
    """The Abstract's multivariable HRs: the model that forward selection keeps (Methods)."""
    def f(ctx):
        sub, dur, ev = _cox_frame(ctx, endpoint, covs, population)
        fs = survival.forward_selection(sub, dur, ev, list(covs))
        if covariate not in fs.selected:
            return {"reason": f"forward selection did not keep {covariate} "
                              f"(kept: {', '.join(fs.selected) or 'none'})"}
        return _hr_row(fs.model.loc[covariate])
    return tagged(f, f"forward[{endpoint}|{covariate}]")


def not_reproducible(reason: str) -> Callable:
    return tagged(lambda ctx: {"reason": reason}, f"none[{reason}]")
