"""How much do the emergent statistics depend on which reconstruction we drew?

Serves the "Beyond the paper" chapter 25. Many patient-level cohorts fit the published
aggregates equally well; statistics the reconstruction was never fitted to (log-rank P and Prism
HR of Figures 3-7, the Table 5 Cox HRs) vary between them, while others are fixed by the fit (the
Table 3 crosstab P values of fitted counts, the CAR T-cell peak t-tests of fitted means and
standard errors), and the comparisons the paper states in words without a printed statistic
(supplemental Figure S2 and the Discussion: no difference in OS or LFS by age, BM blasts, CNS
leukaemia, EMD, BCR-ABL or dose), which the verdict page (chapter 00) tests across the ensemble.
``ensemble_stats`` computes every such statistic on each cohort of an ensemble
(in parallel with joblib); ``ensemble_summary`` gives its median and 95% interval over the
ensemble beside the published value, how often the published conclusion (significant or not at
.05, and the direction) holds, and whether the fit fixes the statistic.

Arms, orientations and variants are the paper's design (data/published/design.yml): Figures 3-7
compare arm a with arm b within the responders, each HR in the orientation its caption prints and
as the Prism variant the design records; Table 5's HRs in their printed orientation (the hazard
of the second-named level relative to the first); Table 3's levels as printed, read with the
swapped-label readings.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from cart19.comparison import conclusions
from cart19.comparison import reproducers as R
from cart19.reconstruction import heldout
from cart19.record import design
from cart19.stats import survival
from cart19.stats.printed import two_by_two_tests

_EMPTY = {"p": np.nan, "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "hr_alt": np.nan,
          "direction": np.nan}


def _context(cohort: pd.DataFrame) -> R.Context:
    return R.Context(R.attribute_frame(cohort))


def figure_stats(cohort: pd.DataFrame, ctx: R.Context | None = None) -> pd.DataFrame:
    """Figures 3-7, OS and LFS: log-rank P, the Prism HR (95% CI) in the caption's orientation
    and variant (``hr_alt``: the other Prism variant), and direction (+1: arm a has fewer events
    than expected)."""
    ctx = ctx or _context(cohort)
    rows = []
    for fig, c in design.load().comparisons.items():
        a, b = c.where("a"), c.where("b")
        for ep, spec in c.endpoints.items():
            dur, ev = R.endpoint_columns(ep)
            sub = R.two_arm(ctx, a, b).dropna(subset=[dur, ev])
            row = {"stat": f"{fig}.{ep}", "family": "figure", **_EMPTY}
            if sub["_arm"].nunique() == 2 and sub[ev].sum() > 0:
                lr = survival.logrank(sub, dur, ev, "_arm")
                hr = R.prism_hr(ep, a, b, spec.hr.orientation, spec.hr.variant)(ctx)
                row.update(p=lr["p"], hr=hr["hr"], ci_low=hr["ci_low"], ci_high=hr["ci_high"],
                           hr_alt=hr["alt_hr"],
                           direction=float(np.sign(lr["expected"]["a"] - lr["observed"]["a"])))
            rows.append(row)
    return pd.DataFrame(rows)


def table5_stats(cohort: pd.DataFrame, ctx: R.Context | None = None) -> pd.DataFrame:
    """Table 5: multivariable Cox model (all six printed covariates) on the responders, each HR
    in its printed orientation (the covariate is the level whose hazard the printed HR is), Wald
    P; direction = sign(log HR)."""
    ctx = ctx or _context(cohort)
    d = design.load()
    t5 = d.table5
    rows = []
    for ep in d.endpoints:
        covs = {name: getattr(cov, t5.printed_hr_of(name, ep)).where
                for name, cov in t5.covariates.items()}
        try:
            fit = R.cox_fit(ctx, ep, covs, d.groups[t5.population].where)
        except Exception:  # noqa: BLE001 - a degenerate cohort (e.g. no events): NaN, do not stop
            fit = None
        try:  # Breslow's ties, as SPSS (issue 16 item 3: cart19.reconstruction.heldout)
            bres = heldout.cox_breslow(*R._cox_frame(ctx, ep, covs, d.groups[t5.population].where),
                                       list(covs), start=None if fit is None else fit["coef"])
        except Exception:  # noqa: BLE001 - degenerate cohort: NaN, as above
            bres = None
        for name in covs:
            row = {"stat": f"table5.{ep}.{name}", "family": "table5", **_EMPTY}
            if fit is not None:
                r = fit.loc[name]
                row.update(p=float(r["p"]), hr=float(r["hr"]), ci_low=float(r["ci_lower"]),
                           ci_high=float(r["ci_upper"]), direction=float(np.sign(np.log(r["hr"]))))
            if bres is not None:
                b = bres.loc[name]
                row.update(hr_breslow=float(b["hr"]), ci_low_breslow=float(b["ci_lower"]),
                           ci_high_breslow=float(b["ci_upper"]), p_breslow=float(b["p"]))
            rows.append(row)
    return pd.DataFrame(rows)


def table3_stats(cohort: pd.DataFrame, ctx: R.Context | None = None) -> pd.DataFrame:
    """Table 3 between-level P values: CR, grade 3-4 CRS, grade 2-3 neurotoxicity (Pearson
    chi-square, with Fisher's exact P beside it) and the CAR T-cell peak (Student t-test);
    direction = sign(first level - second level) of the rate or mean, levels as printed."""
    ctx = ctx or _context(cohort)
    t3 = design.load().table3
    rows = []
    for o, out in t3.outcomes.items():
        for f, fac in t3.factors.items():
            (_, a), (_, b) = ((lv, x.where) for lv, x in fac.levels.items())
            row = {"stat": f"table3.{o}.{f}", "family": "table3", **_EMPTY, "p_fisher": np.nan}
            if out.where is not None:
                k1, n1 = ctx.count(a + out.where), ctx.count(a)
                k2, n2 = ctx.count(b + out.where), ctx.count(b)
                p = two_by_two_tests(k1, n1, k2, n2)
                row.update(p=p["pearson"], p_fisher=p["fisher"],
                           direction=float(np.sign(k1 / n1 - k2 / n2)) if n1 and n2 else np.nan)
            else:
                xa = pd.to_numeric(ctx.subset(a)[out.column], errors="coerce").dropna()
                xb = pd.to_numeric(ctx.subset(b)[out.column], errors="coerce").dropna()
                ok = len(xa) > 1 and len(xb) > 1
                row.update(p=float(stats.ttest_ind(xa, xb).pvalue) if ok else np.nan,
                           direction=float(np.sign(xa.mean() - xb.mean())))
            rows.append(row)
    return pd.DataFrame(rows)


def rate_stats(cohort: pd.DataFrame, ctx: R.Context | None = None) -> pd.DataFrame:
    """The two-group rate comparisons printed in the text (``design.yml`` ``rate_comparisons``,
    e.g. CR with vs without CNS leukaemia): Pearson chi-square P (Fisher's exact P beside it);
    direction = sign(rate of arm a - rate of arm b)."""
    ctx = ctx or _context(cohort)
    rows = []
    for name, rc in design.load().rate_comparisons.items():
        a, b, out = tuple(rc.arms["a"].where), tuple(rc.arms["b"].where), tuple(rc.outcome)
        k1, n1, k2, n2 = ctx.count(a + out), ctx.count(a), ctx.count(b + out), ctx.count(b)
        p = two_by_two_tests(k1, n1, k2, n2)
        rows.append({"stat": f"rate.{name}", "family": "rate", **_EMPTY, "p": p["pearson"],
                     "p_fisher": p["fisher"],
                     "direction": float(np.sign(k1 / n1 - k2 / n2)) if n1 and n2 else np.nan})
    return pd.DataFrame(rows)


def stated_stats(cohort: pd.DataFrame, ctx: R.Context | None = None) -> pd.DataFrame:
    """The conclusions the paper states in words without a printed statistic (no difference in
    OS or LFS by age, BM blasts, CNS leukaemia, EMD, BCR-ABL or dose: supplemental Figure S2 and
    the Discussion), each tested as on the verdict page
    (:func:`cart19.comparison.conclusions.comparison_test`: log-rank among the responders);
    which ones they are is :func:`cart19.comparison.conclusions.stated_conclusions` (those no
    comparison of ``design.yml`` tests). direction: +1 when arm a has fewer events than
    expected."""
    ctx = ctx or _context(cohort)
    rows = []
    for stat, _text, _where, kind, pop, a, b, _expects in conclusions.stated_conclusions():
        t = conclusions.comparison_test(ctx, kind, pop, a, b)
        rows.append({"stat": stat, "family": "stated", **_EMPTY, "p": t["p"],
                     "direction": t["direction"]})
    return pd.DataFrame(rows)


def cohort_stats(cohort: pd.DataFrame) -> pd.DataFrame:
    """Every statistic of :func:`ensemble_stats` for one cohort."""
    ctx = _context(cohort)
    return pd.concat([figure_stats(cohort, ctx), table5_stats(cohort, ctx),
                      table3_stats(cohort, ctx), rate_stats(cohort, ctx),
                      stated_stats(cohort, ctx)], ignore_index=True)


def ensemble_stats(cohorts: Sequence[pd.DataFrame], n_jobs: int = 2,
                   stat_fn: Callable[[pd.DataFrame], pd.DataFrame] = cohort_stats) -> pd.DataFrame:
    """``stat_fn`` (default :func:`cohort_stats`) on every cohort, in parallel (joblib).

    Returns the rows of all cohorts stacked, with a ``cohort`` column (0-based position in
    ``cohorts``): cohort, stat, family, p, hr, ci_low, ci_high, hr_alt, direction (and p_fisher
    for Table 3).
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


def _dropped_by() -> dict[str, list[str]]:
    """claim id -> the readings that drop it as a target (the project's readings.csv, checked
    against the project's claims.csv)."""
    from cart19.record import readings

    out: dict[str, list[str]] = {}
    for rid, ids in readings.claims_of(readings.load(), None, "drop").items():
        for cid in ids:
            out.setdefault(cid.split(":")[0], []).append(rid)
    return out


def _published_rows(c: pd.DataFrame) -> list[dict]:
    d = design.load()
    rows = []
    for fig, comp in d.comparisons.items():
        for ep, spec in comp.endpoints.items():
            hid = spec.hr.claim
            rows.append({"stat": f"{fig}.{ep}", "p_id": spec.p[0], "hr_id": hid,
                         "hr": _get(c, hid, "hr"), "ci_low": _get(c, hid, "ci_low"),
                         "ci_high": _get(c, hid, "ci_high"),
                         "direction": 1.0 if comp.better == "a" else -1.0,
                         "note": "as printed: the caption's orientation" + (
                             " (arm b relative to arm a)" if spec.hr.orientation == "b_vs_a" else "")})
    for ep in d.endpoints:
        for name in d.table5.covariates:
            cid = f"table5.{ep}.{name}"
            hr = _get(c, cid, "hr")
            rows.append({"stat": cid, "p_id": cid, "hr_id": cid, "hr": hr,
                         "ci_low": _get(c, cid, "ci_low"), "ci_high": _get(c, cid, "ci_high"),
                         "direction": float(np.sign(np.log(hr))) if np.isfinite(hr) else np.nan,
                         "note": "as printed"})
    for o, out in d.table3.outcomes.items():
        col = "percent" if out.where is not None else "mean"
        for f, fac in d.table3.factors.items():
            first, second = fac.levels
            va = _get(c, f"table3.{o}.{f}.{first}", col)
            vb = _get(c, f"table3.{o}.{f}.{second}", col)
            rows.append({"stat": f"table3.{o}.{f}", "p_id": f"table3.{o}.{f}.p", "hr_id": None,
                         "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                         "direction": float(np.sign(va - vb)) if np.isfinite(va + vb) else np.nan,
                         "note": (f"levels as printed, read with reading {fac.reading}"
                                  if fac.reading else "")})
    dropped = _dropped_by()
    for name, rc in d.rate_comparisons.items():
        va, vb = _get(c, rc.rates["a"][0], "percent"), _get(c, rc.rates["b"][0], "percent")
        why = sorted({r for cid in rc.rates["a"] + rc.rates["b"] for r in dropped.get(cid, ())})
        rows.append({"stat": f"rate.{name}", "p_id": rc.p[0], "hr_id": None, "hr": np.nan,
                     "ci_low": np.nan, "ci_high": np.nan,
                     "direction": float(np.sign(va - vb)) if np.isfinite(va + vb) else np.nan,
                     "note": f"printed in the text ({rc.source})" + (
                         f"; its rates are not fitted (reading {', '.join(why)}: they conflict "
                         "with other printed counts)" if why else "")})
    for stat, _text, where, _kind, _pop, _a, _b, expects in conclusions.stated_conclusions(d):
        rows.append({"stat": stat, "p_id": None, "hr_id": None, "hr": np.nan, "ci_low": np.nan,
                     "ci_high": np.nan, "direction": np.nan, "stated_significant": bool(expects),
                     "note": f"stated in words, no P printed ({where})"})
    return rows


def published_stats(claims: pd.DataFrame) -> pd.DataFrame:
    """The published value of every statistic of :func:`cohort_stats`, read from claims.csv.

    Columns: stat, p_id, p, p_cmp, significant, hr_id, hr (+ ci_low, ci_high) as printed (the
    orientation :func:`cohort_stats` computes in), direction, note. For Figures 3-7 the
    direction is the arm the caption calls better (+1: arm a). A comparison the paper states in
    words only (``stated.*``) has no P; ``significant`` is what its words say (a difference or
    none).
    """
    c = claims.set_index("id")
    out = pd.DataFrame(_published_rows(c))
    out["hr_printed"] = out["hr"]
    out["p"] = [_get(c, i, "p") if i else np.nan for i in out["p_id"]]
    out["p_cmp"] = [c.loc[i, "p_cmp"] if i and i in c.index else None for i in out["p_id"]]
    out["significant"] = [
        (p <= 0.05 if cmp == "<" else (False if cmp == ">" else p < 0.05)) if np.isfinite(p)
        else np.nan for p, cmp in zip(out["p"], out["p_cmp"])]
    # a conclusion stated in words: its words say whether there is a difference
    if "stated_significant" in out:
        stated = out["stated_significant"].notna()
        out.loc[stated, "significant"] = out.loc[stated, "stated_significant"]
        out = out.drop(columns="stated_significant")
    return out


def _verdict(frac: float) -> str:
    if not np.isfinite(frac):
        return "not assessable"
    if frac >= 0.95:
        return "holds in >=95% of cohorts"
    if frac < 0.05:
        return "holds in <5% of cohorts"
    return "holds in some cohorts"


#: statistics the fit fixes even where they vary a little between cohorts: the CAR T-cell peak
#: t-tests follow from the fitted group means and standard errors (Table 3)
FOLLOWS_FROM_FIT = r"^table3\.carpeak\."


def ensemble_summary(stats_: pd.DataFrame, claims: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Median and 95% interval (2.5th-97.5th percentile over cohorts) of every statistic,
    the published value beside it, and how often the published conclusion holds.

    The published conclusion is "significant at ``alpha``, in the published direction" when
    the printed P is below ``alpha``, and "not significant" otherwise; a cohort agrees when
    its P (and, for a significant claim, its direction) says the same. ``verdict``: holds in
    >=95% / some / <5% of cohorts, or ``fixed by the fit`` (``fixed``): a P identical in every
    cohort (``p_constant``: a statistic of fitted counts) or one that follows from fitted means
    and standard errors; such a statistic says nothing about the reconstruction, however often
    it "holds". HRs are compared in the orientation of ``cohort_stats`` (as printed).
    ``p_fisher_median``: Fisher's exact P beside the chi-square one (Table 3 rates).
    """
    pub = published_stats(claims).set_index("stat")
    rows = [_summary_row(stat, g, pub, alpha) for stat, g in stats_.groupby("stat", sort=False)]
    from cart19.reconstruction.captions import targeted_claims
    fitted = targeted_claims(claims)  # caption P values the day search fits (issue 16)
    for r in rows:
        if r["stat"] in pub.index and pub.loc[r["stat"], "p_id"] in fitted:
            r["fixed"], r["verdict"] = True, "fixed by the fit"
    cols = ["stat", "family", "n_cohorts", "published_p_cmp", "published_p", "p_median", "p_lo",
            "p_hi", "p_constant", "fixed", "p_fisher_median", "frac_significant",
            "published_significant", "published_hr_printed", "published_hr", "published_ci_low",
            "published_ci_high", "hr_median", "hr_lo", "hr_hi", "hr_alt_median",
            "published_direction", "frac_same_direction", "frac_holds", "verdict", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


def _summary_row(stat: str, g: pd.DataFrame, pub: pd.DataFrame, alpha: float) -> dict:
    p = g["p"].to_numpy(float)
    ok = np.isfinite(p)
    row = {"stat": stat, "family": g["family"].iloc[0], "n_cohorts": int(ok.sum()),
           "p_median": np.nanmedian(p) if ok.any() else np.nan,
           "p_lo": np.nanpercentile(p, 2.5) if ok.any() else np.nan,
           "p_hi": np.nanpercentile(p, 97.5) if ok.any() else np.nan,
           "frac_significant": float(np.mean(p[ok] < alpha)) if ok.any() else np.nan}
    if "p_fisher" in g.columns and g["p_fisher"].notna().any():
        row["p_fisher_median"] = float(g["p_fisher"].median())
    row["p_constant"] = bool(ok.any() and np.nanmax(p) - np.nanmin(p) < 1e-12)
    row["fixed"] = row["p_constant"] or bool(pd.Series([stat]).str.match(FOLLOWS_FROM_FIT).iloc[0])
    hr = g["hr"].to_numpy(float)
    hr = hr[np.isfinite(hr)]  # an HR is infinite when an arm has no events
    if len(hr):
        row.update(hr_median=np.median(hr), hr_lo=np.percentile(hr, 2.5),
                   hr_hi=np.percentile(hr, 97.5))
    if "hr_alt" in g.columns and np.isfinite(g["hr_alt"].to_numpy(float)).any():
        row["hr_alt_median"] = float(np.nanmedian(g["hr_alt"].to_numpy(float)))
    if stat in pub.index:
        row.update(_against_published(pub.loc[stat], g["direction"].to_numpy(float), p, ok, alpha))
    row["verdict"] = "fixed by the fit" if row["fixed"] else _verdict(row.get("frac_holds", np.nan))
    return row


def _against_published(pr: pd.Series, d: np.ndarray, p: np.ndarray, ok: np.ndarray,
                       alpha: float) -> dict:
    out = {"published_p": pr["p"], "published_p_cmp": pr["p_cmp"],
           "published_significant": pr["significant"], "published_hr": pr["hr"],
           "published_hr_printed": pr["hr_printed"], "published_ci_low": pr["ci_low"],
           "published_ci_high": pr["ci_high"], "published_direction": pr["direction"],
           "note": pr["note"]}
    if np.isfinite(pr["direction"]):
        out["frac_same_direction"] = float(np.mean(d[ok] == pr["direction"])) if ok.any() else np.nan
    sig_pub = pr["significant"]
    if isinstance(sig_pub, (bool, np.bool_)) and ok.any():
        agree = (p[ok] < alpha) == bool(sig_pub)
        if sig_pub and np.isfinite(pr["direction"]):
            agree &= d[ok] == pr["direction"]
        out["frac_holds"] = float(np.mean(agree))
    return out


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


# ------------------------------------------------------------------------------------------
# the committed ensemble: drawn once, read by the book and by nbval
# ------------------------------------------------------------------------------------------
#: Code whose change invalidates the drawn cohorts (the reconstruction and what it reads) ...
COHORT_CODE = tuple(f"cart19.{m}" for m in (
    "reconstruction.pipeline", "reconstruction.milp", "reconstruction.times", "reconstruction.targets",
    "reconstruction.continuous", "reconstruction.categories", "reconstruction.summaries",
    "reconstruction.pinned", "reconstruction.carpeak", "reconstruction.treatment",
    "reconstruction.printfit", "reconstruction.landmarks"))
#: ... and the code that computes their statistics
STATS_CODE = tuple(f"cart19.{m}" for m in (
    "comparison.ensemble", "comparison.reproducers", "record.design", "record.attributes",
    "stats.survival", "stats.printed", "reconstruction.heldout", "comparison.conclusions"))
ENSEMBLE_CODE = COHORT_CODE + STATS_CODE


def ensemble_key(size: int, seed: int, claims_path) -> dict:
    """What the ensemble's statistics depend on: its size and seed, the claims, the targets, the
    reconstruction code (``cohorts_sha256``: the drawn cohorts) and the statistics' code
    (``stats_sha256``)."""
    from cart19.reconstruction.pipeline import inputs_hash
    from cart19.reconstruction.targets import inputs_digest

    return {"ensemble_size": int(size), "seed": int(seed),
            "cohorts_sha256": inputs_hash(claims_path, COHORT_CODE, inputs_digest()),
            "stats_sha256": inputs_hash(claims_path, STATS_CODE, inputs_digest())}


def _drawn(size: int, seed: int, claims_path, cohort_dir, key: dict, n_jobs: int) -> list:
    """The cohort files of (size, seed): those already in ``cohort_dir`` when its key file says
    they were drawn from the same claims, targets and reconstruction code, else drawn now."""
    import json
    from pathlib import Path as _P

    from cart19 import io
    from cart19.reconstruction.pipeline import ensemble as draw

    mark = _P(cohort_dir) / "cohorts.json"
    want = {k: key[k] for k in ("ensemble_size", "seed", "cohorts_sha256")}
    if mark.exists():
        have = json.loads(mark.read_text())
        files = [_P(cohort_dir) / f for f in have.pop("files", [])]
        if have == want and len(files) == size and all(f.exists() for f in files):
            return [str(f) for f in files]
    paths = draw(size, cohort_dir, claims_path, base_seed=seed, n_jobs=n_jobs)
    io.write_json(mark, {**want, "files": [_P(p).name for p in paths]})
    return paths


def load_or_draw(size: int, seed: int, claims_path, stats_path, cohort_dir, n_jobs: int = 2
                 ) -> pd.DataFrame:
    """The ensemble statistics for (size, seed): read from ``stats_path`` when its sidecar key
    (``<stats_path>.json``) matches; otherwise computed on the drawn cohorts, which are drawn
    afresh unless ``cohort_dir`` holds those of the same claims, targets and reconstruction code
    (then only the statistics are recomputed).

    Drawing takes about a second per cohort, so the book commits the statistics of its default
    ensemble (a cache keyed on content, like the build's); any other size, seed, claims or code
    recomputes, so a stale file is never shown.
    """
    import json
    from pathlib import Path as _P

    from cart19 import io
    from cart19.cohort.schema import load_cohort

    stats_path = _P(stats_path)
    key_path = stats_path.with_suffix(".json")
    key = ensemble_key(size, seed, claims_path)
    if stats_path.exists() and key_path.exists() and json.loads(key_path.read_text()) == key:
        return pd.read_csv(stats_path)
    paths = _drawn(size, seed, claims_path, cohort_dir, key, n_jobs)
    stats_ = ensemble_stats([load_cohort(p) for p in paths], n_jobs=n_jobs)
    # which chain each cohort belongs to (files are cohort_c<chain>_<position>.csv)
    chain_of = [int(_P(p).stem.split("_")[1][1:]) for p in paths]
    stats_["chain"] = [chain_of[i] for i in stats_["cohort"]]
    # the key last: a crash in between leaves an old key beside new statistics, which is redrawn
    io.write_csv(stats_path, stats_, parents=True, float_format="%.10g")
    io.write_json(key_path, key)
    return pd.read_csv(stats_path)  # the same values whether drawn now or read back
