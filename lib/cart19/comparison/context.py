"""This trial's headline rates beside the literature ranges the paper itself cites.

Serves the "Beyond the paper" chapter 24. The Introduction and Discussion set the
trial against earlier CD19 CAR T trials (CR 68%-93%, relapse ~40%-50% and 41%-45%,
grade 3-4 CRS 26%-88%, Park et al's transplanted patients, Hay et al's relapses).
Every number comes from data/published/claims.csv by claim id; only the citation
pointers (section, reference numbers) are transcribed here, from the superscripts
next to each sentence in the paper.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cart19.presentation.forest import clopper_pearson

#: Literature claims: id -> (section, reference numbers the paper cites, who/what they are).
#: Reference list of Zhang et al. 2020: 5 Park 2018 NEJM, 6 Davila 2014 STM, 7 Maude 2014 NEJM,
#: 8 Lee 2015 Lancet, 9 Park 2016 Blood, 10 Turtle 2016 JCI, 11 Gardner 2017 Blood,
#: 12 Maude 2018 NEJM, 29 Hay 2019 Blood.
LITERATURE = {
    "intro.lit.cr_rate": ("Introduction", "5-10", "earlier CD19 CAR T trials"),
    "intro.lit.relapse": ("Introduction", "5, 11, 12", "earlier CD19 CAR T trials"),
    "discussion.lit.relapse": ("Discussion", "5, 11, 12", "earlier CD19 CAR T trials"),
    "discussion.lit.relapse_1y": ("Discussion", "7", "Maude et al (higher doses), at 1 year"),
    "discussion.lit.hay.relapse": ("Discussion", "29", "Hay et al (Fred Hutchinson)"),
    "discussion.lit.crs34": ("Discussion", "5, 12", "most other trials"),
    "discussion.lit.park.relapse": ("Discussion", "5", "Park et al (MSKCC), transplanted patients"),
    "discussion.lit.park.trm": ("Discussion", "5", "Park et al (MSKCC), transplanted patients"),
}

#: Comparisons: (topic, this trial's claim id, literature claim id, caveat). Numbers in a caveat
#: are written ``{claim_id:field}`` and filled from claims.csv by :func:`_fill`.
COMPARISONS = [
    ("CR rate", "results.cr_day30", "intro.lit.cr_rate",
     "day-30 morphologic CR (CR + CRi) among infused patients"),
    ("Relapse", "results.relapse.total", "intro.lit.relapse",
     "this trial: relapses among CR patients over a median follow-up of {results.followup:median} "
     "days; {results.hsct.n:n} of the {results.hsct.n:N} CR patients were transplanted"),
    ("Relapse", "results.relapse.total", "discussion.lit.relapse", ""),
    ("Relapse", "results.no_hsct.relapse", "discussion.lit.relapse_1y",
     "this trial: CAR T alone arm (no allo-HSCT)"),
    ("Relapse", "results.no_hsct.relapse", "discussion.lit.hay.relapse",
     "Hay et al: median time to relapse {discussion.lit.hay.relapse_time:median} months"),
    ("Grade 3-4 CRS", "results.crs.grade34", "discussion.lit.crs34",
     "grading systems differ between trials"),
    ("Relapse after allo-HSCT", "results.hsct.relapse", "discussion.lit.park.relapse", ""),
    ("Transplant-related mortality", "discussion.hsct.trm", "discussion.lit.park.trm",
     "this trial: TRM within the {discussion.hsct.trm.period:value}-year observation period"),
]


def _value(row: pd.Series) -> tuple[float, float, float, float, float, str]:
    """(point %, low %, high %, n, N, how) for one claim row."""
    n, N, pct = row.get("n"), row.get("N"), row.get("percent")
    lo, hi = row.get("min"), row.get("max")
    if row.get("kind") == "range" and pd.notna(lo) and pd.notna(hi):
        return (np.nan, float(lo), float(hi), np.nan, np.nan, "printed range")
    if pd.notna(pct):
        p = float(pct)
        return (p, p, p, float(n) if pd.notna(n) else np.nan, float(N) if pd.notna(N) else np.nan,
                "printed %")
    if pd.notna(n) and pd.notna(N) and float(N) > 0:
        p = 100 * float(n) / float(N)
        return (p, p, p, float(n), float(N), "derived from printed n/N")
    return (np.nan, np.nan, np.nan, np.nan, np.nan, "no usable number")


def _fill(template: str, c: pd.DataFrame) -> str:
    """Replace ``{claim.id:field}`` in a caveat with the claim's value (so no number is typed)."""
    def one(m):
        cid, field = m.group(1), m.group(2)
        if cid in c.index and field in c.columns and pd.notna(c.loc[cid, field]):
            return f"{c.loc[cid, field]:g}"
        return f"[missing claim {cid}]"
    return re.sub(r"\{([a-z0-9_.]+):([A-Za-z_]+)\}", one, template)


def context_table(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison in ``COMPARISONS``: this trial's published rate (with an exact
    95% CI where n/N is printed, derived here) beside a literature figure the paper cites.

    Columns: topic, trial_id, trial_quantity, trial_printed, trial_pct, trial_how (printed % or
    derived from n/N), trial_n, trial_N, trial_ci_low,
    trial_ci_high, lit_id, lit_printed, lit_low, lit_high, lit_how, section, refs, cited,
    caveat, status ("ok", or which claim id is missing from claims.csv).
    """
    c = claims.set_index("id")
    rows = []
    for topic, tid, lid, caveat in COMPARISONS:
        missing = [i for i in (tid, lid) if i not in c.index]
        section, refs, cited = LITERATURE[lid]
        row = {"topic": topic, "trial_id": tid, "lit_id": lid, "section": section, "refs": refs,
               "cited": cited, "caveat": _fill(caveat, c),
               "status": "ok" if not missing else "missing claim id: " + ", ".join(missing)}
        if tid in c.index:
            t = c.loc[tid]
            p, _, _, n, N, how = _value(t)
            lo, hi = clopper_pearson(int(n), int(N)) if np.isfinite(n) and np.isfinite(N) else (
                np.nan, np.nan)
            row.update(trial_quantity=t["quantity"], trial_printed=t["printed"], trial_pct=p,
                       trial_how=how, trial_n=n, trial_N=N,
                       trial_ci_low=100 * lo, trial_ci_high=100 * hi)
        if lid in c.index:
            li = c.loc[lid]
            _, lo, hi, _, _, how = _value(li)
            row.update(lit_printed=li["printed"], lit_low=lo, lit_high=hi, lit_how=how)
        rows.append(row)
    cols = ["topic", "trial_id", "trial_quantity", "trial_printed", "trial_pct", "trial_how",
            "trial_n", "trial_N",
            "trial_ci_low", "trial_ci_high", "lit_id", "lit_printed", "lit_low", "lit_high",
            "lit_how", "section", "refs", "cited", "caveat", "status"]
    return pd.DataFrame(rows).reindex(columns=cols)


def context_figure(table: pd.DataFrame) -> Figure:
    """Dot (this trial, exact 95% CI) beside a bar (literature range, or a point for a single
    cited value) for each row of :func:`context_table`."""
    t = table.reset_index(drop=True)
    fig = Figure(figsize=(9, 0.55 * len(t) + 1.5))
    ax = fig.subplots()
    for i, r in t.iterrows():
        if pd.notna(r["lit_low"]):
            if r["lit_high"] > r["lit_low"]:
                ax.plot([r["lit_low"], r["lit_high"]], [i + 0.12] * 2, color="#999999", lw=6,
                        solid_capstyle="butt", label="cited literature (range)" if i == 0 else None)
            else:
                ax.scatter([r["lit_low"]], [i + 0.12], marker="s", color="#999999", s=40,
                           label="cited literature (single value)")
        if pd.notna(r["trial_pct"]):
            err = None
            if pd.notna(r["trial_ci_low"]):
                err = [[r["trial_pct"] - r["trial_ci_low"]], [r["trial_ci_high"] - r["trial_pct"]]]
            ax.errorbar([r["trial_pct"]], [i - 0.12], xerr=err, fmt="o", color="#1f4e79",
                        capsize=3, ms=6, label="this trial (published; exact 95% CI)")
    labels = [f"{r.topic} - this trial: {r.trial_quantity}\nvs {r.cited} [ref {r.refs}; {r.section}]"
              for r in t.itertuples()]
    ax.set_yticks(range(len(t)))
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of patients")
    ax.grid(axis="x", color="#eeeeee")
    h, lab = ax.get_legend_handles_labels()
    uniq = dict(zip(lab, h))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7.5, loc="lower right")
    fig.tight_layout()
    return fig
