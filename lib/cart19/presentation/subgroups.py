"""Chapter 22's tables: Table 3 rates with exact confidence intervals, Table 5 hazard ratios.

The rates, intervals and P values are computed by :mod:`cart19.presentation.forest`
(``subgroup_rates``, ``published_subgroup_rates``) and the Cox model by
:func:`cart19.comparison.ensemble.table5_stats`; this module lays them out as journal tables.
Kept apart from ``forest`` because that module's computations are part of the ensemble's cache key
(``cart19.comparison.ensemble.ENSEMBLE_CODE``): a change of layout must not redraw 100 cohorts.
"""
from __future__ import annotations

import pandas as pd

from cart19.presentation import journal as J
from cart19.presentation.forest import FACTORS, OUTCOMES, TABLE5, _hr_columns

#: level labels as a reader writes them (forest.FACTORS keeps the ASCII forms)
LEVEL_TEXT = {"<=20%": "≤20%", ">=5%": "≥5%", "<3e5/kg": "<3 × 10⁵/kg", ">=3e5/kg": "≥3 × 10⁵/kg",
              "BCR-ABL-": "BCR-ABL−", "TP53-": "TP53−"}
COVARIATE_TEXT = {"blasts20": "BM blasts ≤20% vs >20%", "tp53": "TP53+ vs TP53−"}


def level_text(label: str) -> str:
    return LEVEL_TEXT.get(label, label)


def forest_table(tbl: pd.DataFrame):
    """The rates of :func:`forest_figure` as a journal table: one row group per outcome, one row
    per subgroup level; the reconstructed n/N (%) with its exact 95% CI beside the printed n/N (%),
    the difference of the rates, and the factor's P by Fisher and Pearson beside the printed P.

    ``tbl``: :func:`subgroup_rates` joined with :func:`published_subgroup_rates` (columns
    ``published_n, published_N, published_rate, published_p, rate_difference``)."""

    rows = []
    for r in tbl.itertuples():
        first = r.level == FACTORS[r.factor][1][0][0]  # P once per factor, on its first level
        rows.append({
            "outcome": OUTCOMES[r.outcome],
            "subgroup": J.esc(f"{r.factor_label}: {level_text(r.level_label)}"),
            "rep": J.esc(J.fmt_count(r.n, r.N, r.rate)),
            "ci": J.esc(f"{J.fmt_num(r.ci_low, 1)}-{J.fmt_num(r.ci_high, 1)}"),
            "pub": J.esc(J.fmt_count(r.published_n, r.published_N, r.published_rate)),
            "diff": J.esc(J.fmt_signed(r.rate_difference, "pp", decimals=1)),
            "p_fisher": J.esc(J.fmt_p(r.p_fisher)) if first else "",
            "p_chi2": J.esc(J.fmt_p(r.p_chi2)) if first else "",
            "p_pub": J.esc(J.fmt_p(r.published_p, decimals=2 if len(f"{r.published_p:g}") <= 4
                                   else 3)) if first and not pd.isna(r.published_p) else "",
        })
    cells = pd.DataFrame(rows)
    labels = {"subgroup": "Subgroup", "rep": "n/N (%)", "ci": "95% CI", "pub": "n/N (%)",
              "diff": "Difference", "p_fisher": "Fisher", "p_chi2": "Pearson", "p_pub": "Printed"}
    spanners = [("Reproduced", ["rep", "ci"]), ("Table 3", ["pub"]),
                ("<i>P</i>", ["p_fisher", "p_chi2", "p_pub"])]
    return J.table(cells, "subgroup-rates", groups="outcome", labels=labels, spanners=spanners,
                   align={c: "right" for c in labels if c != "subgroup"}, data=tbl, wide=True,
                   notes=["Rates in percent; difference: reproduced minus printed rate, in "
                          "percentage points (pp). Exact (Clopper-Pearson) 95% CIs."])


def hr_table(published: pd.DataFrame, reproduced: pd.DataFrame):
    """Table 5 hazard ratios (the inputs of :func:`hr_forest`) as a journal table, published beside
    reproduced, with whether the reproduced HR falls inside the published 95% CI."""

    pub, rep = _hr_columns(published), _hr_columns(reproduced)
    p_idx = pub.set_index(["endpoint", "factor"])
    rows, data = [], []
    for r in rep.itertuples():
        q = p_idx.loc[(r.endpoint, r.factor)]
        inside = bool(q["ci_low"] <= r.hr <= q["ci_high"])
        rows.append({"endpoint": "Overall survival" if r.endpoint == "os" else
                     "Leukemia-free survival",
                     "covariate": J.esc(COVARIATE_TEXT.get(r.factor, TABLE5.get(r.factor, r.factor))),
                     "pub_hr": J.fmt_num(q["hr"], 3), "pub_ci": f"{J.fmt_num(q['ci_low'], 3)}-"
                     f"{J.fmt_num(q['ci_high'], 3)}", "pub_p": J.fmt_p(q["p"], q.get("p_cmp")),
                     "rep_hr": J.fmt_num(r.hr, 3),
                     "rep_ci": f"{J.fmt_num(r.ci_low, 3)}-{J.fmt_num(r.ci_high, 3)}",
                     "rep_p": J.fmt_p(r.p), "inside": "yes" if inside else
                     J.mark("no", True)})
        data.append({"endpoint": r.endpoint, "factor": r.factor, "published_hr": q["hr"],
                     "published_ci_low": q["ci_low"], "published_ci_high": q["ci_high"],
                     "published_p": q["p"], "reproduced_hr": r.hr, "reproduced_ci_low": r.ci_low,
                     "reproduced_ci_high": r.ci_high, "reproduced_p": r.p,
                     "inside_published_ci": inside})
    cells = pd.DataFrame(rows)
    labels = {"covariate": "Covariate", "pub_hr": "HR", "pub_ci": "95% CI", "pub_p": "<i>P</i>",
              "rep_hr": "HR", "rep_ci": "95% CI", "rep_p": "<i>P</i>",
              "inside": "Inside the published CI"}
    return J.table(cells, "table5-hazard-ratios", groups="endpoint", labels=labels,
                   spanners=[("Published", ["pub_hr", "pub_ci", "pub_p"]),
                             ("Reproduced", ["rep_hr", "rep_ci", "rep_p"])],
                   align={c: "right" for c in labels if c != "covariate"},
                   data=pd.DataFrame(data), wide=True)
