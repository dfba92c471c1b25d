"""Which statistic reproduces each claim, family by family, all read from the paper's design.

Each family returns ``{claim id: (function, basis)}`` for one part of the paper, built from
``data/published/design.yml`` (:mod:`cart19.record.design`): the counts of Tables 1-4 and the
text, the Table 3 and Table 4 P values and CAR T-cell peaks, the Kaplan-Meier landmarks and the
two-arm comparisons of Figures 2-7, the Cox models of Table 5, the medians and ranges, and the
numbers printed again in the text. The basis written here is what each number would be;
:mod:`cart19.comparison.basis` checks it against the targets actually bound.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cart19.comparison import reproducers as R
from cart19.reconstruction.targets import km_days

Registry = dict[str, tuple[Callable, str]]


def tests_used(claims: pd.DataFrame) -> dict[str, str]:
    """claim id of a crosstab P -> the test that reproduces the printed value (the audit's check
    ``p.<claim>``; first in :data:`reproducers.TEST_PREFERENCE`, Pearson where none does)."""
    from cart19.record.audit import run_audit
    audit = run_audit(claims)
    out = {}
    for _, row in audit[audit["check_id"].str.startswith("p.")].iterrows():
        found = [t for t in str(row.get("tests") or "").split(",") if t]
        ranked = [t for t in R.TEST_PREFERENCE if t in found]
        for cid in (c for c in str(row["claims"]).split(";") if c.endswith(".p")):
            out[cid] = ranked[0] if ranked else "pearson"
    return out


def counts(d) -> Registry:
    """Every count and proportion (Tables 1-4, text): n over its denominator where printed."""
    return {cid: (R.prop(s.n, s.N) if s.N is not None else R.count(s.n), "fitted")
            for cid, s in d.count_specs().items()}


def _levels(fac) -> list[tuple[str, tuple[str, ...]]]:
    return [(lv, level.where) for lv, level in fac.levels.items()]


def table3(d, test_of: dict[str, str]) -> Registry:
    """Table 3: crosstab P of each rate, CAR T-cell peak mean (SE) per level and its t-test."""
    reg: Registry = {}
    for f, fac in d.table3.factors.items():
        (l1, a), (l2, b) = _levels(fac)
        for o, out in d.table3.outcomes.items():
            cid = f"table3.{o}.{f}.p"
            if out.where is not None:
                reg[cid] = (R.chi2_p(out.where, a, b, test_of.get(cid, "pearson")), "derived")
            elif out.statistic == "mean_se":
                for lv, w in ((l1, a), (l2, b)):
                    reg[f"table3.{o}.{f}.{lv}"] = (R.mean_se(out.column, w), "fitted")
                # Student's t of two fitted means and standard errors: fixed by the fit
                reg[cid] = (R.ttest_p(out.column, a, b), "derived")
    return reg


def table4(d, test_of: dict[str, str]) -> Registry:
    """Table 4: crosstab P of each characteristic printed for both arms."""
    arms = (d.table4.arms["hsct"].where, d.table4.arms["no_hsct"].where)
    reg: Registry = {}
    for ch, fac in d.table4.characteristics.items():
        if fac.arms == "both":
            cid = f"table4.{ch}.p"
            levels = [w for _, w in _levels(fac)]
            reg[cid] = (R.chi2_arms_p(levels, arms, test_of.get(cid, "pearson")), "derived")
    return reg


def landmarks(d, claims: pd.DataFrame) -> Registry:
    """Every printed Kaplan-Meier landmark of Figures 2-7 (and its repeats in the text)."""
    reg: Registry = {}
    idx = claims.set_index("id", drop=False)
    for r in d.landmark_table().itertuples():
        if r.claim in idx.index:
            fn = R.km_at(r.endpoint, tuple(r.where), km_days(idx, r.claim), target=r.first)
            reg[r.claim] = (fn, "fitted")
    return reg


def comparisons(d, orientation: str | None = None, variant: str | None = None) -> Registry:
    """Figures 3-7: log-rank P of every comparison and its Prism HR (and CIs printed alone).

    ``orientation``/``variant`` None take each printed HR's own from the design; a value forces
    one for every HR."""
    reg: Registry = {}
    for c in d.comparisons.values():
        a, b = c.where("a"), c.where("b")
        for ep, spec in c.endpoints.items():
            for cid in spec.p:
                reg[cid] = (R.logrank_p(ep, a, b), "emergent")
            if spec.hr is None:
                continue
            for cid, orient in [(spec.hr.claim, spec.hr.orientation)] + \
                    [(x.claim, x.orientation) for x in spec.hr.ci]:
                fn = R.prism_hr(ep, a, b, orientation or orient, variant or spec.hr.variant)
                reg[cid] = (fn, "emergent")
    return reg


def rate_comparisons(d, test_of: dict[str, str]) -> Registry:
    return {cid: (R.chi2_p(rc.outcome, rc.arms["a"].where, rc.arms["b"].where,
                           test_of.get(cid, "pearson")), "derived")
            for rc in d.rate_comparisons.values() for cid in rc.p}


def table5(d, natural: bool = False) -> Registry:
    """Table 5 and the Abstract's multivariable HRs: Cox models on the responders with all six
    covariates. ``natural``: each covariate is its exposed level (hazard of exposed vs
    reference); otherwise the level whose hazard the printed HR is."""
    t5 = d.table5
    pop = d.groups[t5.population].where
    reg: Registry = {}
    covs_of = {}
    for ep in d.endpoints:
        covs = {}
        for name, cov in t5.covariates.items():
            side = "exposed" if natural else t5.printed_hr_of(name, ep)
            covs[name] = getattr(cov, side).where
        covs_of[ep] = covs
        for name in covs:
            reg[f"table5.{ep}.{name}"] = (R.cox_hr(ep, name, covs, pop), "emergent")
    for cid, ab in t5.abstract.items():
        reg[cid] = (R.forward_hr(ab.endpoint, ab.covariate, covs_of[ab.endpoint], pop), "emergent")
    return reg


def summaries(d) -> Registry:
    """Medians and ranges of a cohort column over a group (days, continuous columns)."""
    return {cid: (R.median_of(s.column, s.where, s.scale or 1.0), "fitted")
            for cid, s in d.summaries.items()}


def ranges(d) -> Registry:
    return {cid: (R.rate_range(r.outcome, r.groups), "derived") for cid, r in d.ranges.items()}


def repeats(d, reg: Registry, test_of: dict[str, str]) -> Registry:
    """Numbers printed again in the text: the statistic of the cell they repeat; a repeated
    crosstab P with the test that reproduces its own printed value (reading
    crosstab_test_per_row), as every crosstab P."""
    out: Registry = {}
    t3 = {f"table3.{o}.{f}.p": (x.where, fac) for f, fac in d.table3.factors.items()
          for o, x in d.table3.outcomes.items() if x.where is not None}
    for cid, orig in d.repeats.items():
        if orig in t3:
            outcome, fac = t3[orig]
            (_, a), (_, b) = _levels(fac)
            out[cid] = (R.chi2_p(outcome, a, b, test_of.get(cid, "pearson")), "derived")
        elif orig in reg:
            out[cid] = reg[orig]
    return out


def registry(claims: pd.DataFrame, d) -> Registry:
    """Every family together (later families never redefine an earlier claim)."""
    test_of = tests_used(claims)
    reg: Registry = {}
    for part in (counts(d), table3(d, test_of), table4(d, test_of), landmarks(d, claims),
                 comparisons(d), rate_comparisons(d, test_of), table5(d), summaries(d), ranges(d)):
        clash = set(part) & set(reg)
        if clash:
            raise ValueError(f"claims defined by two families: {sorted(clash)[:5]}")
        reg.update(part)
    reg.update(repeats(d, reg, test_of))
    ids = set(claims["id"])
    return {k: v for k, v in reg.items() if k in ids}
