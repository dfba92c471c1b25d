"""Reproduce every published claim from the (reconstructed) patient-level cohort.

One function, :func:`reproduce_all`, returns one row per claim of ``data/published/claims.csv`` with
the reproduced value in the same fields the record uses (n, N, percent, median, min, max, mean,
dispersion, p, hr, ci_low, ci_high), its *basis* and the chapter that shows it:

- ``fitted``: the reconstruction was constrained to it (every count target of
  :mod:`cart19.reconstruction.targets`, the Kaplan-Meier landmarks, the time medians/ranges, the continuous
  summaries of :mod:`cart19.reconstruction.continuous`);
- ``derived``: follows arithmetically from fitted counts (a percentage of fitted counts, a
  chi-square P of a fitted 2x2 table);
- ``emergent``: never targeted (log-rank P values, hazard ratios, Cox models, t-tests on the
  reconstructed CAR T-cell peaks): these test the reconstruction.

Subgroups are written as conjunctions of literals over the binary attributes of the
reconstruction (``("cr", "~hsct")`` = responders not transplanted), the same language as
:mod:`cart19.reconstruction.targets`, so a claim and its target always mean the same patients. Nothing here
reads a published value to compute a reproduced one (the comparison is :mod:`cart19.comparison.scorecard`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from lifelines.exceptions import ConvergenceError

from cart19.record import design
from cart19.stats import survival
from cart19.reconstruction import targets as T
from cart19.errors import InputError
from cart19.reconstruction.times import SWITCH

# ------------------------------------------------------------------------------------------
# subgroups used by more than one table/figure (Zhang et al. Table 3 rows, Figures 3-7 arms)
# ------------------------------------------------------------------------------------------
def _t3(d):
    """Table 3 of the design: level key "factor.level" -> where, outcome -> where, factor keys."""
    levels = {f"{f}.{lv}": L.where for f, F in d.table3.factors.items() for lv, L in F.levels.items()}
    outcomes = {o: x.where for o, x in d.table3.outcomes.items() if x.where is not None}
    return levels, outcomes, tuple(d.table3.factors)


def _endpoint(name: str) -> tuple[str, str]:
    """(duration, event) columns of an endpoint of the design."""
    e = design.load().endpoints[name]
    return e.duration, e.event


def __getattr__(name: str):
    # design views for modules that read them by name (computed from design.yml on use, PEP 562)
    d = design.load()
    if name == "FIG_ARMS":  #: Figures 3-7: (arm a, arm b) as literal conjunctions
        return {k: (c.where("a"), c.where("b")) for k, c in d.comparisons.items()}
    if name == "ENDPOINTS":
        return {k: (e.duration, e.event) for k, e in d.endpoints.items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Table 5 covariates. The paper prints "A vs B" and HRs that are the hazard of B relative to A
#: (e.g. "bridged into allo-HSCT vs CAR T alone: 12.25" can only mean a 12-fold hazard WITHOUT
#: transplant); the indicator is therefore the second-named level. Which is the reading we adopt
#: for every row, and the audit chapter explains it.
TABLE5 = {
    "os": {"costim": ("~cd28",), "emd": ("~emd",), "prior_hsct": ("prior_hsct",),
           "blasts20": ("bl_gt20",), "tp53": ("~tp53",), "hsct": ("~hsct",)},
    "lfs": {"costim": ("~cd28",), "emd": ("emd",), "prior_hsct": ("prior_hsct",),
            "blasts20": ("bl_gt20",), "tp53": ("~tp53",), "hsct": ("~hsct",)},
}

CHAPTERS = (  # (id regex, chapter notebook) - first match wins
    (r"^(methods\.(ld|vein|bridging|costim|conditioning|manufactur|pbmc|dose)|fig1)", "01_design"),
    (r"^(table1|table2|title|abstract\.(enrolled|infused)|results\.(enrolled|infused|age|peds))",
     "04_patients"),
    (r"^(table3\.carpeak|results\.(carpeak|car_peak|transduction|dose)|discussion\.dose)",
     "05_products"),
    (r"^(table3\.cr\.|results\.(cr_day30|cr\.|cri|mrd|bcr_abl|tp53\.cr|emd|no_emd|"
     r"cns\.(n|cns3|no_bm|csf|cr|mrd)|"
     r"blasts|prior_hsct\.(n|dli|cr)|no_cns)|abstract\.(cr|mrd)|fig2\.cr)", "06_day30"),
    (r"^(table4|results\.(hsct|no_hsct)|abstract\.hsct|discussion\.(hsct|no_hsct|donor))",
     "08_transplant"),
    (r"^(fig[2-7]|results\.(fig|relapse|tp53|followup|prior_hsct|bcr_abl\.relapse)|abstract\.(os|lfs))",
     "07_longterm"),
    (r"^(table3\.(crs34|neuro23)|results\.(crs|neuro|cns\.neuro)|discussion\.(crs|neuro))",
     "09_safety"),
    (r"^(table5|abstract\.mv)", "10_multivariable"),
    (r"^discussion", "11_discussion"),
)


def chapter_of(claim_id: str) -> str:
    for pattern, chapter in CHAPTERS:
        if re.search(pattern, claim_id):
            return chapter
    return "12_scorecard"


# ------------------------------------------------------------------------------------------
# evaluation context
# ------------------------------------------------------------------------------------------
@dataclass
class Context:
    """The cohort as the reproduction sees it: its columns plus the binary attributes."""
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


def attribute_frame(cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort with the reconstruction's binary attributes added.

    The mapping cohort columns -> attributes is the reconstruction's own
    (:func:`cart19.reconstruction.pipeline.attributes_from_cohort`), so targets and reproductions share it.
    ``bm_zero`` (no marrow blasts) is added here: only the Results' CNS sentence needs it.
    """
    from cart19.reconstruction.pipeline import attributes_from_cohort
    attrs = attributes_from_cohort(cohort)
    extra = attrs[[c for c in attrs.columns if c not in cohort.columns]]
    out = pd.concat([cohort.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)
    out["bm_zero"] = (pd.to_numeric(out["bm_blasts_pct"], errors="coerce") == 0).astype(int)
    return out


# ------------------------------------------------------------------------------------------
# statistics, each returning the claims.csv fields it reproduces
# ------------------------------------------------------------------------------------------
def _pct(n: int, N: int) -> float:
    return 100.0 * n / N if N else float("nan")


def count(lits) -> Callable:
    f = lambda ctx: {"n": ctx.count(lits)}
    f.literals = (tuple(lits),)
    return f


def prop(num, den) -> Callable:
    def f(ctx):
        n, N = ctx.count(num), ctx.count(den)
        return {"n": n, "N": N, "percent": _pct(n, N)}
    f.literals = (tuple(num), tuple(den))
    return f


def median_of(column, lits=(), scale: float = 1.0) -> Callable:
    def f(ctx):
        x = scale * pd.to_numeric(ctx.subset(lits)[column], errors="coerce").dropna()
        if x.empty:
            return {}
        return {"median": float(x.median()), "min": float(x.min()), "max": float(x.max())}
    return f


def landmark_days(claim_id: str) -> float:
    """1y -> 365 days, 6m -> 182.5 days (the convention of cart19.reconstruction.targets.km_days)."""
    suffix = claim_id.split(".")[-1] if not claim_id.endswith(".rep2") else claim_id.split(".")[-2]
    num, unit = float(suffix[:-1]), suffix[-1]
    return num * 365.0 if unit == "y" else num * 365.25 / 12


def km_at(endpoint: str, lits, days: float) -> Callable:
    """KM landmark (Figures 2-7) and the tolerance the reconstruction was calibrated to:
    max(1.0 point, half a KM step at that time), a step being S(t)/n_at_risk(t)."""
    dur, ev = _endpoint(endpoint)

    def f(ctx):
        sub = ctx.subset(lits)
        tab = survival.km_table(sub, dur, ev, times=[days])
        s, at_risk = float(tab["survival"].iloc[0]), int(tab["n_at_risk"].iloc[0])
        half_step = 50.0 * s / at_risk if at_risk else 50.0 * s
        return {"percent": 100.0 * s, "tolerance": max(1.0, half_step)}
    f.km = None  # set by the registry to the target id this landmark was calibrated under
    return f


def _two_arm(ctx, a, b) -> pd.DataFrame:
    ma, mb = ctx.mask(tuple(a)), ctx.mask(tuple(b))
    sub = ctx.data.loc[ma | mb].copy()
    sub["_arm"] = np.where(ma[ma | mb], "a", "b")
    return sub


def logrank_p(endpoint, a, b) -> Callable:
    dur, ev = _endpoint(endpoint)
    return lambda ctx: {"p": survival.logrank(_two_arm(ctx, a, b), dur, ev, "_arm")["p"]}


def prism_hr(endpoint, a, b, method: str = "logrank") -> Callable:
    """GraphPad Prism's log-rank HR of the first-named arm relative to the second (captions)."""
    dur, ev = _endpoint(endpoint)

    def f(ctx):
        r = survival.logrank_hr(_two_arm(ctx, a, b), dur, ev, "_arm", ref="b").loc[method]
        return {"hr": float(r["hr"]), "ci_low": float(r["ci_lower"]), "ci_high": float(r["ci_upper"])}
    return f


#: SPSS prints several tests for a crosstab; which one each printed P comes from is established
#: by the audit (cart19.record.audit, check "p.<claim>": the tests that reproduce the printed P). Where
#: several do, the first in this order is used; where none does, Pearson's chi-square.
TEST_PREFERENCE = ("pearson", "yates", "fisher", "likelihood_ratio", "linear_by_linear")


def crosstab_p(table: np.ndarray, test: str = "pearson") -> float:
    from cart19.stats.printed import contingency_tests
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one outcome only: no association to test
        return 1.0
    return float(contingency_tests(table)[test])


def chi2_p(outcome, a, b, test: str = "pearson") -> Callable:
    """P of a 2x2 crosstab (Table 3; the CNS and costimulation comparisons of the text)."""
    def f(ctx):
        ka, na = ctx.count(tuple(a) + tuple(outcome)), ctx.count(a)
        kb, nb = ctx.count(tuple(b) + tuple(outcome)), ctx.count(b)
        return {"p": crosstab_p(np.array([[ka, na - ka], [kb, nb - kb]]), test), "test": test}
    f.literals = (tuple(a) + tuple(outcome), tuple(a), tuple(b) + tuple(outcome), tuple(b))
    return f


def chi2_arms_p(levels: list[tuple], arms: tuple[tuple, tuple], test: str = "pearson") -> Callable:
    """P of an arm x level crosstab (Table 4, 2x2 or 2x3)."""
    def f(ctx):
        table = np.array([[ctx.count(tuple(arm) + tuple(lv)) for lv in levels] for arm in arms])
        return {"p": crosstab_p(table, test), "test": test}
    return f


def tests_used(claims: pd.DataFrame) -> dict[str, str]:
    """claim id of a crosstab P -> the test that reproduces the printed value (audit)."""
    from cart19.record.audit import run_audit
    audit = run_audit(claims)
    out = {}
    for _, row in audit[audit["check_id"].str.startswith("p.")].iterrows():
        found = [t for t in str(row.get("tests") or "").split(",") if t]
        ranked = [t for t in TEST_PREFERENCE if t in found]
        p_ids = [c for c in str(row["claims"]).split(";") if c.endswith(".p")]
        for cid in p_ids:
            out[cid] = ranked[0] if ranked else "pearson"
    return out


def mean_se(column, lits) -> Callable:
    """Mean and standard error (the '± SD' of Table 3 is read as a standard error; see the audit)."""
    def f(ctx):
        x = pd.to_numeric(ctx.subset(lits)[column], errors="coerce").dropna()
        return {"mean": float(x.mean()), "dispersion": float(x.std(ddof=1) / np.sqrt(len(x)))}
    return f


def ttest_p(column, a, b) -> Callable:
    from scipy.stats import ttest_ind

    def f(ctx):
        xa = pd.to_numeric(ctx.subset(a)[column], errors="coerce").dropna()
        xb = pd.to_numeric(ctx.subset(b)[column], errors="coerce").dropna()
        return {"p": float(ttest_ind(xa, xb, equal_var=True).pvalue)}
    return f


def _cox_frame(ctx, endpoint, covs: dict, population=("cr",)) -> tuple[pd.DataFrame, str, str]:
    dur, ev = _endpoint(endpoint)
    sub = ctx.data.loc[ctx.mask(tuple(population)), [dur, ev]].copy()
    m = ctx.mask(tuple(population))
    for name, lits in covs.items():
        sub[name] = ctx.mask(tuple(lits))[m].astype(float)
    return sub, dur, ev


def cox_hr(endpoint: str, covariate: str, covs: dict) -> Callable:
    """Table 5: multivariable Cox model on the 102 responders with all six printed covariates."""
    def f(ctx):
        sub, dur, ev = _cox_frame(ctx, endpoint, covs)
        r = survival.cox(sub, dur, ev, list(covs)).loc[covariate]
        return {"hr": float(r["hr"]), "ci_low": float(r["ci_lower"]),
                "ci_high": float(r["ci_upper"]), "p": float(r["p"])}
    return f


def forward_hr(endpoint: str, covariate: str, covs: dict) -> Callable:
    """Abstract's multivariable HRs: the model that forward selection keeps (Methods)."""
    def f(ctx):
        sub, dur, ev = _cox_frame(ctx, endpoint, covs)
        fs = survival.forward_selection(sub, dur, ev, list(covs))
        if covariate not in fs.selected:
            return {"reason": f"forward selection did not keep {covariate} "
                              f"(kept: {', '.join(fs.selected) or 'none'})"}
        r = fs.model.loc[covariate]
        return {"hr": float(r["hr"]), "ci_low": float(r["ci_lower"]),
                "ci_high": float(r["ci_upper"]), "p": float(r["p"])}
    return f


def not_reproducible(reason: str) -> Callable:
    return lambda ctx: {"reason": reason}


# ------------------------------------------------------------------------------------------
# the registry: claim id -> (function, basis)
# ------------------------------------------------------------------------------------------
NOT_PATIENT_LEVEL = (
    (r"^(intro\.lit|discussion\.lit)", "a value from the literature the paper cites, not about "
     "this trial's patients"),
    (r"^methods\.(eligibility|cns[23]|mrd|ld\.(flu|cy|days|schedule)|manufacture|dose\.(prior|target)|"
     r"endpoint|crs\.severe|neuro\.severe|alpha|conditioning)",
     "a protocol constant or definition, not a patient-level quantity"),
    (r"\.footnote\.", "a table footnote (significance threshold)"),
    (r"(\.day$|\.day30$|\.cr_day$|\.d[36]0\.day$|\.window$|\.period$|\.hsct_window$|"
     r"\.groups$|\.threshold$|results\.dose\.(low|high)_target|results\.car_peak\.day|"
     r"results\.heading|prior_hsct\.dli\.min|discussion\.tp53\.relapse$)",
     "a time window, threshold or label that qualifies another claim, not a measured quantity"),
    (r"^(results\.prior_hsct\.second_hsct\.dfs|results\.prior_hsct\.mrd_neg_cr\.duration)",
     "follow-up after a second transplant is not part of the reconstructed cohort (see readings "
     "second_hsct_followup, mrd_neg_cr_duration: it exceeds the maximum follow-up)"),
    (r"^(abstract\.enrolled|results\.enrolled|methods\.ld\.n|methods\.manufactured)$",
     "the enrolment count needs data/cohort/not_infused.csv (the 5 enrolled patients who were not "
     "infused)"),
)


def _registry(claims: pd.DataFrame) -> dict[str, tuple[Callable, str]]:
    d = design.load()
    T3_LEVELS, T3_OUTCOMES, T3_FACTORS = _t3(d)
    FIG_ARMS = {k: (c.where("a"), c.where("b")) for k, c in d.comparisons.items()}
    arms = {k: a.where for k, a in d.table4.arms.items()}
    t4_levels = {f"{ch}.{lv}": L.where for ch, F in d.table4.characteristics.items()
                 if F.arms == "both" for lv, L in F.levels.items()}
    t4_hsct_only = {f"{ch}.{lv}": L.where for ch, F in d.table4.characteristics.items()
                    if F.arms == "hsct" for lv, L in F.levels.items()}
    reg: dict[str, tuple[Callable, str]] = {}
    ids = set(claims["id"])
    test_of = tests_used(claims)

    def put(cid, fn, basis):
        if cid in ids:
            reg[cid] = (fn, basis)

    # ---- fitted count targets (every CountTarget), with their denominators where printed ------
    by_claim: dict[str, dict[str, tuple]] = {}
    for t in T.COUNT_TARGETS:
        by_claim.setdefault(t.claim_id, {})[t.field] = t.where
    for cid, fields in by_claim.items():
        if "N" in fields:
            put(cid, prop(fields["n"], fields["N"]), "fitted")
        else:
            put(cid, count(fields["n"]), "fitted")

    # ---- Table 3: N of each subgroup, P values, CAR T-cell peak -------------------------------
    for out, ow in T3_OUTCOMES.items():
        for f in T3_FACTORS:
            lv = [k for k in T3_LEVELS if k.startswith(f + ".")]
            a, b = T3_LEVELS[lv[0]], T3_LEVELS[lv[1]]
            cid = f"table3.{out}.{f}.p"
            put(cid, chi2_p(ow, a, b, test_of.get(cid, "pearson")), "derived")
    for f in T3_FACTORS:
        lv = [k for k in T3_LEVELS if k.startswith(f + ".")]
        for k in lv:
            put(f"table3.carpeak.{k}", mean_se("car_peak_pct", T3_LEVELS[k]), "fitted")
        put(f"table3.carpeak.{f}.p", ttest_p("car_peak_pct", T3_LEVELS[lv[0]], T3_LEVELS[lv[1]]),
            "emergent")
    for k in ("blasts5.ge5", "blasts5.lt5", "costim.41bb", "costim.cd28", "emd.with", "emd.without"):
        put(f"results.carpeak.{k}", mean_se("car_peak_pct", T3_LEVELS[k]), "fitted")
    for f in ("blasts5", "costim", "emd"):
        lv = [k for k in T3_LEVELS if k.startswith(f + ".")]
        put(f"results.carpeak.{f}.p",
            ttest_p("car_peak_pct", T3_LEVELS[lv[0]], T3_LEVELS[lv[1]]), "emergent")

    # ---- Table 4: percentages of each arm, P values ------------------------------------------
    for lvl, lw in t4_levels.items():
        for arm, aw in arms.items():
            put(f"table4.{lvl}.{arm}", prop(aw + lw, aw), "fitted")
    for lvl, lw in t4_hsct_only.items():
        put(f"table4.{lvl}.hsct", prop(("hsct",) + lw, ("hsct",)), "fitted")
    chars: dict[str, list] = {}
    for lvl, lw in t4_levels.items():
        chars.setdefault(lvl.split(".")[0], []).append(lw)
    for ch, levels in chars.items():
        cid = f"table4.{ch}.p"
        put(cid, chi2_arms_p(levels, (arms["hsct"], arms["no_hsct"]), test_of.get(cid, "pearson")),
            "derived")
    put("table4.hsct_day", median_of("hsct_day", ("hsct",)), "fitted")

    # ---- Kaplan-Meier landmarks, log-rank P, Prism HR -----------------------------------------
    km_pop = {t.claim_id: (t.endpoint, t.where) for t in T.KM_TARGETS}
    aliases = {  # the same landmark printed elsewhere -> its figure id
        "abstract.os.all.1y": "fig2.os.all.1y", "abstract.lfs.all.1y": "fig2.lfs.all.1y",
        "results.fig2.os.all.1y": "fig2.os.all.1y", "results.fig2.lfs.all.1y": "fig2.lfs.all.1y",
        "results.fig2.os.cr.1y": "fig2.os.cr.1y", "results.fig2.lfs.cr.1y": "fig2.lfs.cr.1y",
        "abstract.os.hsct.1y": "fig3.os.hsct.1y", "abstract.os.no_hsct.1y": "fig3.os.no_hsct.1y",
        "abstract.lfs.hsct.1y": "fig3.lfs.hsct.1y", "abstract.lfs.no_hsct.1y": "fig3.lfs.no_hsct.1y",
        "discussion.os.cr.1y": "fig2.os.cr.1y", "discussion.lfs.cr.1y": "fig2.lfs.cr.1y",
        "discussion.os.hsct.1y": "fig3.os.hsct.1y", "discussion.lfs.hsct.1y": "fig3.lfs.hsct.1y",
        "discussion.os.no_hsct.1y": "fig3.os.no_hsct.1y",
        "discussion.lfs.no_hsct.1y": "fig3.lfs.no_hsct.1y",
    }
    for cid in ids:
        m = re.match(r"^(?:results\.)?(fig[2-7]\.(?:os|lfs)\.\w+\.\d+[ym])(?:\.rep2)?$", cid)
        fig_id = m.group(1) if m else aliases.get(cid)
        if fig_id is None:
            continue
        key = next((k for k in (cid, fig_id, "results." + fig_id) if k in km_pop), None)
        if key is None:  # every printed landmark is a target; anything else stays open
            continue
        ep, lits = km_pop[key]
        fn = km_at(ep, lits, landmark_days(fig_id))
        fn.km = key
        put(cid, fn, "fitted")
    for fig, (a, b) in FIG_ARMS.items():
        for ep in ("os", "lfs"):
            for src in ("", "results."):
                put(f"{src}{fig}.{ep}.p", logrank_p(ep, a, b), "emergent")
            put(f"{fig}.{ep}.hr", prism_hr(ep, a, b), "emergent")
            put(f"results.{fig}.{ep}.ci", prism_hr(ep, a, b), "emergent")
    put("abstract.os.p", logrank_p("os", *FIG_ARMS["fig3"]), "emergent")
    put("abstract.lfs.p", logrank_p("lfs", *FIG_ARMS["fig3"]), "emergent")
    put("abstract.os.ci", prism_hr("os", *FIG_ARMS["fig3"]), "emergent")
    put("abstract.lfs.ci", prism_hr("lfs", *FIG_ARMS["fig3"]), "emergent")

    # ---- Table 5 and the abstract's multivariable HRs ------------------------------------------
    for ep, covs in TABLE5.items():
        for name in covs:
            put(f"table5.{ep}.{name}", cox_hr(ep, name, covs), "emergent")
    put("abstract.mv.hsct.hr", forward_hr("os", "hsct", TABLE5["os"]), "emergent")
    put("abstract.mv.tp53.hr", forward_hr("os", "tp53", TABLE5["os"]), "emergent")

    # ---- continuous summaries (cart19.reconstruction.continuous) and times (stage 2) --------------------------
    for cid, col, lits, *scale in (  # scale: the cohort stores doses in 10^5 cells/kg
        ("table1.age", "age_years", ()), ("results.age.range", "age_years", ()),
        ("table1.bm_blasts", "bm_blasts_pct", ()),
        ("results.dose.median", "dose_per_kg", (), 1e5), ("discussion.dose.median", "dose_per_kg", (), 1e5),
        ("results.transduction", "transduction_pct", ()), ("results.car_peak", "car_peak_pct", ()),
        ("results.emd.pb_blasts", "pb_blasts_pct", ("emd",)),
        ("results.no_emd.pb_blasts", "pb_blasts_pct", ("~emd",)),
        ("results.cns.csf_blasts", "csf_blasts_per_ml", ("cns",)),
        ("results.followup", "followup_day", ()), ("results.hsct.day", "hsct_day", ("hsct",)),
        ("results.tp53.relapse_time", "relapse_day", ("tp53", "relapse")),
        ("discussion.tp53.relapse_time", "relapse_day", ("tp53", "relapse")),
        ("results.tp53.death_time", "death_day", ("tp53", "death")),
        ("results.hsct.relapse_time", "relapse_day", ("hsct", "relapse")),
        ("results.no_hsct.relapse_time", "relapse_day", ("cr", "~hsct", "relapse")),
        ("results.bcr_abl.relapse_time", "relapse_day", ("bcr_abl", "relapse")),
    ):
        put(cid, median_of(col, lits, *scale), "fitted")

    # ---- text counts and percentages not covered by a target id -------------------------------
    text = {
        "table2.relapse_time.ge18": prop(("child", "t2_rel_ge18"), ("child",)),
        "table2.relapse_time.lt18": prop(("child", "~t2_rel_ge18"), ("child",)),
        "table2.best_response.cr1": prop(("t2_cr1",), ("child",)),
        "table2.best_response.cr2": prop(("t2_cr2",), ("child",)),
        "table2.best_response.nr": prop(("t2_nr",), ("child",)),
        "results.cr_day30": prop(("cr",), ()), "results.mrd_neg_cr": prop(("mrd_neg",), ()),
        "results.crs.any": prop(("~crs0",), ()), "results.crs.grade12": prop(("crs12",), ()),
        "results.crs.grade34": prop(("crs34",), ()), "results.neuro.any": prop(("~neuro0",), ()),
        "results.neuro.grade23": prop(("neuro23",), ()), "results.neuro.grade1": prop(("neuro1",), ()),
        "results.neuro.seizure": prop(("seizure",), ()),
        "title.n_patients": count(()), "table3.n": count(()), "results.fig2.n_total": count(()),
        "results.fig2.n_cr": count(("cr",)), "results.fig5.mrd_pos.n": count(("cr", "~mrd_neg")), "abstract.infused": count(()), "abstract.os.all.n": count(()),
        "results.infused": count(()), "table1.n": count(()), "results.neuro.n": count(()),
        "fig2.title.n_total": count(()), "fig2.n_total": count(()),
        "table2.n": count(("child",)), "results.age.2_14": count(("child",)),
        "results.peds.n": count(("child",)),
        "abstract.cr": prop(("cr",), ()), "discussion.cr": prop(("cr",), ()),
        "fig2.cr": prop(("cr",), ()), "abstract.mrd_neg": prop(("mrd_neg",), ()),
        "discussion.mrd_neg_cr": prop(("mrd_neg",), ()),
        "fig2.title.n_cr": count(("cr",)), "fig2.n_cr": count(("cr",)), "fig4.title.n": count(("cr",)),
        "fig4.n_cr": count(("cr",)), "fig5.title.n": count(("cr",)), "fig6.n": count(("cr",)),
        "fig7.n_cr": count(("cr",)), "discussion.n_cr": count(("cr",)),
        "abstract.hsct.n": prop(("hsct",), ("cr",)), "fig3.hsct.n": prop(("hsct",), ("cr",)),
        "results.hsct.n": prop(("hsct",), ("cr",)),
        "fig3.no_hsct.n": count(("cr", "~hsct")), "results.no_hsct.n": count(("cr", "~hsct")),
        "discussion.no_hsct.n": count(("cr", "~hsct")),
        "results.cri": prop(("cri",), ("cr",)), "fig4.cri": prop(("cri",), ("cr",)),
        "fig5.mrd_neg": prop(("mrd_neg",), ("cr",)), "fig5.mrd_pos.n": count(("cr", "~mrd_neg")),
        "results.mrd_pos_cr": prop(("cr", "~mrd_neg"), ("cr",)),
        "results.bcr_abl.n": count(("bcr_abl",)), "discussion.bcr_abl.n": count(("bcr_abl",)),
        "discussion.bcr_abl.cml_bc": count(("cml_bc",)),
        "discussion.bcr_abl.cr": prop(("bcr_abl", "cr"), ("bcr_abl",)),
        "results.bcr_abl.mrd_neg": prop(("bcr_abl", "mrd_neg"), ("bcr_abl",)),
        "results.bcr_abl.molecular_neg.d30": prop(("bcr_neg_d30",), ("bcr_abl",)),
        "results.bcr_abl.molecular_neg.d60": prop(("bcr_neg_d60",), ("bcr_abl",)),
        "discussion.bcr_abl.molecular_neg.d30": prop(("bcr_neg_d30",), ("bcr_abl",)),
        "discussion.bcr_abl.molecular_neg.d60": prop(("bcr_neg_d60",), ("bcr_abl",)),
        "results.bcr_abl.relapse": prop(("bcr_abl", "relapse"), ("bcr_abl",)),
        "results.tp53.n": count(("tp53",)), "discussion.tp53.n": count(("tp53",)),
        "results.tp53.cr": prop(("tp53", "cr"), ("tp53",)),
        "discussion.tp53.cr": prop(("tp53", "cr"), ("tp53",)),
        "results.tp53.relapse": prop(("tp53", "relapse"), ("tp53", "cr")),
        "results.tp53.relapse.emd": count(("tp53", "rel_emd")),
        "results.tp53.deaths": count(("tp53", "death")),
        "results.tp53.deaths.gvhd": count(("tp53", "dc_gvhd")),
        "results.tp53.deaths.infection": count(("tp53", "dc_infection")),
        "results.tp53.deaths.relapse": count(("tp53", "dc_relapse")),
        "results.emd.n": count(("emd",)), "discussion.emd.n": count(("emd",)),
        "results.no_emd.n": count(("~emd",)),
        "discussion.emd.cr": prop(("emd", "cr"), ("emd",)),
        "results.cns.cns3": prop(("cns3",), ("cns",)), "discussion.cns.cns3": count(("cns3",)),
        "discussion.cns.n": prop(("cns",), ("emd",)),
        "results.cns.no_bm_blasts": count(("cns", "bm_zero")),
        "results.cns.cr_rate": prop(("cns", "cr"), ("cns",)),
        "discussion.cns.cr_rate": prop(("cns", "cr"), ("cns",)),
        "results.no_cns.cr_rate": prop(("~cns", "cr"), ("~cns",)),
        "discussion.no_cns.cr_rate": prop(("~cns", "cr"), ("~cns",)),
        "results.cns.cr_rate.p": chi2_p(("cr",), ("cns",), ("~cns",)),
        "discussion.cns.cr_rate.p": chi2_p(("cr",), ("cns",), ("~cns",)),
        "results.cns.mrd_pos": prop(("cns", "cr", "~mrd_neg"), ("cr", "~mrd_neg")),
        "results.blasts20.gt20.n": count(("bl_gt20",)),
        "results.cr.blasts20.gt20": prop(("bl_gt20", "cr"), ("bl_gt20",)),
        "results.cr.blasts20.le20": prop(("~bl_gt20", "cr"), ("~bl_gt20",)),
        "discussion.cr.blasts20.gt20": prop(("bl_gt20", "cr"), ("bl_gt20",)),
        "discussion.cr.blasts20.le20": prop(("~bl_gt20", "cr"), ("~bl_gt20",)),
        "results.cr.blasts5.ge5": prop(("~bl_lt5", "cr"), ("~bl_lt5",)),
        "results.cr.blasts5.lt5": prop(("bl_lt5", "cr"), ("bl_lt5",)),
        "results.cr.blasts20.p": chi2_p(("cr",), ("~bl_gt20",), ("bl_gt20",)),
        "discussion.cr.blasts20.p": chi2_p(("cr",), ("~bl_gt20",), ("bl_gt20",)),
        "results.cr.blasts5.p": chi2_p(("cr",), ("bl_lt5",), ("~bl_lt5",)),
        "results.prior_hsct.n": count(("prior_hsct",)), "discussion.prior_hsct.n": count(("prior_hsct",)),
        "results.prior_hsct.dli": prop(("dli",), ("prior_hsct",)),
        "results.prior_hsct.cr": prop(("prior_hsct", "cr"), ("prior_hsct",)),
        "discussion.prior_hsct.cr": prop(("prior_hsct", "cr"), ("prior_hsct",)),
        "discussion.prior_hsct.second_hsct": count(("prior_hsct", "hsct")),
        "results.prior_hsct.second_hsct": count(("prior_hsct", "hsct")),
        "methods.pbmc.no_prior_hsct": count(("~prior_hsct",)),
        "methods.pbmc.post_hsct.donor": prop(("donor_pbmc",), ("prior_hsct",)),
        "methods.pbmc.post_hsct.autologous": prop(("prior_hsct", "~donor_pbmc"), ("prior_hsct",)),
        "results.dose.below_target.n": count(("dose_lt1",)),
        "results.relapse.total": prop(("relapse",), ("cr",)),
        "results.hsct.mrd_neg": count(("hsct", "mrd_neg")),
        "results.hsct.mrd_pos": count(("hsct", "~mrd_neg")),
        "results.hsct.relapse": prop(("hsct", "relapse"), ("hsct",)),
        "discussion.hsct.relapse": prop(("hsct", "relapse"), ("hsct",)),
        "results.hsct.relapse.bm": count(("hsct", "relapse", "~rel_emd")),
        "results.hsct.relapse.emd": count(("hsct", "rel_emd")),
        "results.hsct.relapse.mrd_neg": prop(("hsct", "mrd_neg", "relapse"), ("hsct", "mrd_neg")),
        "results.hsct.relapse.mrd_pos": prop(("hsct", "~mrd_neg", "relapse"), ("hsct", "~mrd_neg")),
        "results.hsct.deaths": count(("hsct", "death")),
        "results.hsct.deaths.sepsis": count(("hsct", "dc_infection")),
        "results.hsct.deaths.gvhd": count(("hsct", "dc_gvhd")),
        "results.hsct.deaths.relapse": count(("hsct", "dc_relapse")),
        "discussion.hsct.trm": prop(("hsct", "death", "~dc_relapse"), ("hsct",)),
        "discussion.donor.haplo": prop(("hsct", "donor_haplo"), ("hsct",)),
        "results.no_hsct.prior_hsct.n": count(("cr", "~hsct", "prior_hsct")),
        "results.no_hsct.prior_hsct.early_relapse":
            prop(("cr", "~hsct", "prior_hsct", "rel_early"), ("cr", "~hsct", "prior_hsct")),
        "results.no_hsct.prior_hsct.early_death":
            prop(("cr", "~hsct", "prior_hsct", "death_early", "~rel_early"),
                 ("cr", "~hsct", "prior_hsct")),
        "results.no_hsct.prior_hsct.other":
            prop(("cr", "~hsct", "prior_hsct", "~death_early", "~rel_early"),
                 ("cr", "~hsct", "prior_hsct")),
        "results.no_hsct.no_prior_hsct.n": count(("cr", "~hsct", "~prior_hsct")),
        "results.no_hsct.no_prior_hsct.early_relapse":
            prop(("cr", "~hsct", "~prior_hsct", "rel_early"), ("cr", "~hsct", "~prior_hsct")),
        "results.no_hsct.no_prior_hsct.short_followup":
            prop(("cr", "~hsct", "~prior_hsct", "short_fu"), ("cr", "~hsct", "~prior_hsct")),
        "results.no_hsct.no_prior_hsct.other":
            prop(("cr", "~hsct", "~prior_hsct", "~rel_early", "~short_fu"),
                 ("cr", "~hsct", "~prior_hsct")),
        "results.no_hsct.relapse": prop(("cr", "~hsct", "relapse"), ("cr", "~hsct")),
        "discussion.no_hsct.relapse": prop(("cr", "~hsct", "relapse"), ("cr", "~hsct")),
        "results.no_hsct.relapse.cd19_pos":
            prop(("cr", "~hsct", "relapse", "~rel_cd19neg"), ("cr", "~hsct", "relapse")),
        "results.no_hsct.relapse.cd19_neg":
            prop(("cr", "~hsct", "rel_cd19neg"), ("cr", "~hsct", "relapse")),
        "results.cns.neuro": prop(("cns", "~neuro0"), ("cns",)),
        "results.cns.neuro.cns3": count(("cns3", "neuro1")),
        "results.cns.neuro.cns1": count(("cns", "~cns2", "~cns3", "~neuro0")),
        "discussion.crs.grade34": prop(("crs34",), ()),
        "discussion.crs34.costim.cd28": prop(("cd28", "crs34"), ("cd28",)),
        "discussion.crs34.costim.41bb": prop(("~cd28", "crs34"), ("~cd28",)),
        "discussion.neuro23.costim.cd28": prop(("cd28", "neuro23"), ("cd28",)),
        "discussion.neuro23.costim.41bb": prop(("~cd28", "neuro23"), ("~cd28",)),
        "discussion.crs34.costim.p": chi2_p(("crs34",), ("cd28",), ("~cd28",)),
        "discussion.neuro23.costim.p": chi2_p(("neuro23",), ("cd28",), ("~cd28",)),
    }
    put("discussion.subgroup_cr.range", _subgroup_cr_range, "derived")
    derived_ids = {k for k, v in text.items() if k.endswith((".p",))}
    for cid, fn in text.items():  # the text's specs carry denominators: they take priority
        put(cid, fn, "derived" if cid in derived_ids else "fitted")
    return _honest_basis(reg, claims)


def _honest_basis(reg: dict, claims: pd.DataFrame) -> dict:
    """A count is "fitted" only if the reconstruction really constrained those patients.

    The basis written above is what each number *would* be; here it is checked against the targets
    actually bound from this claims.csv (a target whose claim id is absent or overridden was not
    imposed): a count or percentage whose patient sets are not all targeted, and a P value over
    untargeted counts, is relabelled "emergent". Kaplan-Meier and time targets likewise.
    """
    bound = T.bind(claims.set_index("id", drop=False))
    targeted = {frozenset(t.where) for t, _ in bound.counts} | {frozenset()}
    km_ids = {t.claim_id for t, _, _ in bound.km}
    kind = claims.set_index("id")["kind"]
    out = {}
    for cid, (fn, basis) in reg.items():
        lits = getattr(fn, "literals", None)
        if lits is not None and basis in ("fitted", "derived") and \
                not all(frozenset(x) in targeted for x in lits):
            basis = "emergent"
        elif basis == "fitted" and (cid in T.OVERRIDDEN or overridden_fields(cid)):
            # the reconstruction was fitted to another reading of this claim, or of one of its
            # fields (a reading of data/published/readings.csv, e.g. tp53_relapse_minimum drops
            # only the minimum of a range): the value shown follows from what was fitted
            basis = "derived"
        elif lits is not None and basis == "fitted" and kind.get(cid) == "percent":
            # a percentage printed without its counts follows from fitted counts: the
            # reconstruction matched the counts, the printed rounding is the paper's
            basis = "derived"
        out[cid] = (fn, basis)
    for cid, (fn, basis) in list(out.items()):
        if getattr(fn, "km", None) and not ({cid, fn.km} & km_ids):
            out[cid] = (fn, "emergent")
    return out


def reading_label(d) -> str:
    return f"{d.key} ({d.alias})" if d.alias else d.key


def overridden_fields(claim_id: str) -> dict[str, str]:
    """Fields of a claim that a reading drops on their own (``"<id>:<field>"`` in
    :data:`cart19.reconstruction.targets.OVERRIDDEN`, e.g. the minimum of
    ``results.tp53.relapse_time``): field -> the reading's label."""
    out = {}
    for d in T.DECISIONS:
        for o in d.overridden:
            cid, _, fld = o.partition(":")
            if fld and cid == claim_id:
                out[fld] = reading_label(d)
    return out


def override_note(claim_id: str, claims: pd.DataFrame) -> str:
    """Why a reproduced claim is not a target: the reading(s) of data/published/readings.csv that
    drop it as a whole or field by field ("" when none does)."""
    whole = [reading_label(d) for d in T.DECISIONS if claim_id in d.overridden]
    if whole:
        return (f"dropped by reading {', '.join(whole)} (data/published/readings.csv): not a "
                "target of the reconstruction")
    fields = overridden_fields(claim_id)
    if not fields:
        return ""
    row = claims.loc[claims["id"] == claim_id]
    printed = [f for f in FIELDS if not row.empty and f in row.columns and pd.notna(row[f].iloc[0])]
    kept = [f for f in printed if f not in fields]
    by_key: dict[str, list[str]] = {}
    for f, key in fields.items():
        by_key.setdefault(key, []).append(f)
    parts = [f"{', '.join(fs)} dropped by reading {key} (data/published/readings.csv)"
             for key, fs in by_key.items()]
    return "; ".join(parts) + (f": not targeted; {', '.join(kept)} fitted" if kept else "")


# ------------------------------------------------------------------------------------------
# treatment course (cart19.reconstruction.treatment) and costimulatory-domain periods (Methods)
# ------------------------------------------------------------------------------------------
#: "4-1BB ... was used after November 2017 for all subsequent 68 enrolled patients" (Methods,
#: "Clinical procedures"), read as infused from 1 November 2017 on - the reading of the
#: reconstruction's stage 2, whose date this is. Not a number of the record.
COSTIM_SWITCH = pd.Timestamp(SWITCH)
_TREATMENT_REASON = ("the cohort has no {col!r} column: cart19.reconstruction.treatment.assign_treatment adds it "
                     "(the paper gives only this summary)")


def _needs(ctx: Context, col: str) -> str | None:
    return None if col in ctx.data.columns else _TREATMENT_REASON.format(col=col)


def vein_to_vein(not_infused: pd.DataFrame | None) -> Callable:
    """Methods: leukapheresis -> infusion, median (range), over every patient who has the interval
    (the infused: the not-infused have none, see cart19.reconstruction.treatment)."""
    col = "leukapheresis_to_infusion_days"

    def f(ctx):
        if (why := _needs(ctx, col)) is not None:
            return {"reason": why}
        x = ctx.data[col]
        if not_infused is not None and col in not_infused.columns:
            x = pd.concat([x, not_infused[col]], ignore_index=True)
        x = pd.to_numeric(x, errors="coerce").dropna()
        return {"median": float(x.median()), "min": float(x.min()), "max": float(x.max()),
                "detail": f"over the {len(x)} patients with an infusion"} if len(x) else {}
    return f


def bridging_count(levels: tuple[str, ...], not_infused: pd.DataFrame | None,
                   with_total: bool) -> Callable:
    """Methods: patients (of all enrolled) whose bridging label is one of ``levels``."""
    def f(ctx):
        if (why := _needs(ctx, "bridging")) is not None:
            return {"reason": why}
        if not_infused is None or "bridging" not in not_infused.columns:
            return {"reason": "the bridging counts are over all enrolled patients: they need "
                              "data/cohort/not_infused.csv with a 'bridging' column"}
        lab = pd.concat([ctx.data["bridging"], not_infused["bridging"]], ignore_index=True)
        n = int(lab.isin(levels).sum())
        return {"n": n, "N": len(lab), "percent": _pct(n, len(lab))} if with_total else {"n": n}
    return f


def cycles_median(status: str) -> Callable:
    """Table 1 row labels: median chemotherapy cycles before CAR T, by disease status."""
    def f(ctx):
        if (why := _needs(ctx, "prior_chemo_cycles")) is not None:
            return {"reason": why}
        x = pd.to_numeric(ctx.data.loc[ctx.data["disease_status"] == status, "prior_chemo_cycles"],
                          errors="coerce").dropna()
        return {"median": float(x.median()), "min": float(x.min()), "max": float(x.max())} \
            if len(x) else {}
    return f


def costim_period(which: str) -> Callable:
    """Methods: 21 CD28 and 21 4-1BB patients before the switch ("initial"), 4-1BB only after
    it ("later_41bb"), from the cohort's infusion_date and costim columns."""
    def f(ctx):
        d = ctx.data
        early = pd.to_datetime(d["infusion_date"]) < COSTIM_SWITCH
        cd28, bb = d["costim"] == "CD28", d["costim"] == "4-1BB"
        a, b = int((early & cd28).sum()), int((early & bb).sum())
        c, e = int((~early & bb).sum()), int((~early & cd28).sum())
        detail = (f"infused before {COSTIM_SWITCH.date()}: {a} CD28, {b} 4-1BB; "
                  f"from then on: {c} 4-1BB, {e} CD28")
        if which == "later_41bb":
            return {"n": c, "detail": detail}
        if a != b:  # "each group" presupposes equal groups: shown as a difference, never averaged
            return {"mismatch": f"the two groups at the start are unequal ({a} CD28, {b} 4-1BB)",
                    "detail": detail}
        return {"n": a, "detail": detail}
    return f


def treatment_rules(not_infused: pd.DataFrame | None) -> dict[str, tuple[Callable, str]]:
    """claim id -> (function, basis) for the treatment-course claims. The cart19.reconstruction.treatment targets
    are "fitted" (assign_treatment places them exactly); the costimulatory-domain periods are
    "derived": they follow from the fitted Table 3 domain counts and the reconstruction's dating of
    infusions, not from a target bound to these claims."""
    from cart19.reconstruction.treatment import BRIDGING, BRIDGING_INTENSIVE, BRIDGING_LOW, CYCLES, VEIN_TO_VEIN
    rules = {
        VEIN_TO_VEIN: (vein_to_vein(not_infused), "fitted"),
        BRIDGING: (bridging_count(("low-moderate", "intensive"), not_infused, True), "fitted"),
        BRIDGING_LOW: (bridging_count(("low-moderate",), not_infused, False), "fitted"),
        BRIDGING_INTENSIVE: (bridging_count(("intensive",), not_infused, False), "fitted"),
        "methods.costim.initial": (costim_period("initial"), "derived"),
        "methods.costim.later_41bb": (costim_period("later_41bb"), "derived"),
    }
    for status, cid in CYCLES.items():
        rules[cid] = (cycles_median(status), "fitted")
    return rules


def _subgroup_cr_range(ctx) -> dict:
    """Discussion: CR rate across the high-risk subgroups (BCR-ABL+, TP53, EMD, CNS, post-HSCT)."""
    groups = [("bcr_abl",), ("tp53",), ("emd",), ("cns",), ("prior_hsct",)]
    rates = [100.0 * ctx.count(g + ("cr",)) / ctx.count(g) for g in groups if ctx.count(g)]
    return {"min": min(rates), "max": max(rates)}


FIELDS = ("n", "N", "percent", "mean", "dispersion", "median", "min", "max", "value", "hr",
          "ci_low", "ci_high", "p")


ENROLMENT_IDS = ("abstract.enrolled", "results.enrolled", "methods.ld.n", "methods.manufactured")


def reproduce_all(cohort: pd.DataFrame, claims: pd.DataFrame,
                  not_infused: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim: reproduced fields, basis, chapter, tolerance, reason (if not reproducible).

    ``not_infused`` (data/cohort/not_infused.csv) gives the enrolment counts (115 enrolled,
    110 infused) of the Abstract, Methods and Results, and - with its ``bridging`` column from
    :func:`cart19.reconstruction.treatment.assign_treatment` - the bridging counts over all enrolled patients.
    Further columns, read by :func:`cart19.comparison.scorecard.compare_claim`: ``override`` (the decision that
    overrides the claim or one of its fields), ``detail`` (what the value was computed over) and
    ``mismatch`` (a reproduction that exists but cannot be written in the claim's field, shown as
    "differs").
    """
    ctx = Context(attribute_frame(cohort))
    reg = _registry(claims)
    ids = set(claims["id"])
    for cid, (fn, basis) in treatment_rules(not_infused).items():
        if cid in ids:
            reg[cid] = (fn, "derived" if basis == "fitted" and
                        (cid in T.OVERRIDDEN or overridden_fields(cid)) else basis)
    n_inf = len(cohort)
    for cid in ENROLMENT_IDS:
        if not_infused is None:
            continue
        n_enr = n_inf + len(not_infused)
        fn = (lambda ctx, a=n_inf, b=n_enr: {"n": a, "N": b, "percent": _pct(a, b)}) \
            if cid == "methods.manufactured" else (lambda ctx, b=n_enr: {"n": b})
        reg[cid] = (fn, "fitted")
    rows = []
    for cid in claims["id"]:
        row = {"id": cid, "chapter": chapter_of(cid)}
        reason = next((r for pat, r in NOT_PATIENT_LEVEL if re.search(pat, cid)), None)
        if cid in reg:
            fn, basis = reg[cid]
            try:
                row.update(fn(ctx))
            except KeyError as exc:  # an attribute the cohort does not carry
                row["reason"] = f"the cohort has no {exc.args[0]!r} attribute"
            except (ConvergenceError, InputError, ValueError, ZeroDivisionError,
                    np.linalg.LinAlgError) as exc:
                # A statistic can be undefined on a given cohort (a covariate with no events in
                # one level, an empty arm): report it on that claim, never crash the scorecard.
                row["reason"] = f"not computable on this cohort: {type(exc).__name__}: {exc}"[:300]
            row["basis"] = basis if "reason" not in row else "not applicable"
            if "reason" not in row and (note := override_note(cid, claims)):
                row["override"] = note
        elif reason:
            row.update(reason=reason, basis="not applicable")
        else:
            row.update(reason="no reproduction defined for this claim yet", basis="not applicable")
        rows.append(row)
    out = pd.DataFrame(rows)
    for f in FIELDS + ("tolerance", "reason", "basis", "override", "detail", "mismatch"):
        if f not in out.columns:
            out[f] = np.nan
    return out
