"""Patient flow (CONSORT-style) of the trial, computed from a cohort table.

Serves the "Beyond the paper" chapter 20: the paper gives the flow only in prose
(Results: 115 enrolled, 110 infused, 102 CR on day 30, 96 MRD-negative, 75 bridged
into allo-HSCT, 23 relapses; Figure 1 is a treatment schedule, not a flow diagram).
Every count here is computed from the cohort rows; nothing is typed in.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

RESPONSES = ("CR", "CRi", "NR")


def _flag(s: pd.Series) -> pd.Series:
    """0/1, True/False or 'yes'/'no' -> bool (missing -> False)."""
    if s.dtype == object:
        s = s.astype(str).str.strip().str.lower().map(
            {"1": True, "true": True, "yes": True, "y": True, "1.0": True}).fillna(False)
        return s.astype(bool)
    return s.fillna(0).astype(float).astype(bool)


def _check_response(cohort: pd.DataFrame) -> pd.Series:
    resp = cohort["response"].astype(str).str.strip()
    bad = ~resp.isin(RESPONSES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"column 'response', row {i + 1}: value {resp.iloc[i]!r} is not one of "
                         f"{RESPONSES}")
    return resp


def flow_counts(cohort: pd.DataFrame, not_infused: pd.DataFrame) -> pd.DataFrame:
    """Counts for every box of the patient-flow diagram.

    Columns: ``node`` (stable key), ``label`` (what the box says), ``n``, ``of`` (the
    parent node the count is a part of) and ``pct`` (100 * n / n(parent)). Nodes:
    enrolled, not_infused, infused, cr (CR or CRi on day 30), cr_only, cri, nr, mrd_neg,
    mrd_pos (among CR/CRi), hsct / no_hsct (CR/CRi patients bridged or not into allo-HSCT),
    and for each of hsct, no_hsct, nr: ``.relapse`` (with ``.relapse_cd19neg``) and
    ``.death``. Serves Results ("115 ... enrolled", "110 ... infused", "102 (92.7%)",
    "96 (87.3%)", "75 ... allo-HSCT", "10 (13.3%) of 75", "13 (48.2%) of 27").
    """
    resp = _check_response(cohort)
    cr = resp.isin(["CR", "CRi"])
    hsct = _flag(cohort["hsct_after"]) & cr
    relapse = _flag(cohort["relapse"])
    death = _flag(cohort["death"])
    mrd = _flag(cohort["mrd_negative"])
    cd19neg = cohort["relapse_cd19"].astype(str).str.strip().str.lower().isin(
        ["cd19-", "cd19neg", "neg", "negative", "cd19−", "0"]) & relapse

    rows = []

    def add(node, label, mask_or_n, of=None):
        n = int(mask_or_n.sum()) if isinstance(mask_or_n, pd.Series) else int(mask_or_n)
        rows.append({"node": node, "label": label, "n": n, "of": of})

    n_inf = len(cohort)
    add("enrolled", "Enrolled", n_inf + len(not_infused))
    add("not_infused", "Not infused", len(not_infused), "enrolled")
    add("infused", "Infused with CAR T cells", n_inf, "enrolled")
    add("cr", "CR or CRi on day 30", cr, "infused")
    add("cr_only", "CR", resp == "CR", "cr")
    add("cri", "CRi", resp == "CRi", "cr")
    add("nr", "No response", resp == "NR", "infused")
    add("mrd_neg", "MRD-negative", cr & mrd, "cr")
    add("mrd_pos", "MRD-positive", cr & ~mrd, "cr")
    add("hsct", "Bridged into allo-HSCT", hsct, "cr")
    add("no_hsct", "CAR T alone", cr & ~hsct, "cr")
    for arm, m in (("hsct", hsct), ("no_hsct", cr & ~hsct), ("nr", resp == "NR")):
        add(f"{arm}.relapse", "Relapsed", m & relapse, arm)
        add(f"{arm}.relapse_cd19neg", "of which CD19-negative", m & cd19neg, f"{arm}.relapse")
        add(f"{arm}.death", "Died", m & death, arm)
    out = pd.DataFrame(rows)
    parent_n = out.set_index("node")["n"]
    out["pct"] = [100 * r.n / parent_n[r.of] if isinstance(r.of, str) and parent_n[r.of] else
                  np.nan for r in out.itertuples()]
    return out


def _box(ax, x, y, text, w=0.27, h=0.085, color="#eef3fb"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.008",
                                fc=color, ec="#33415c", lw=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5, linespacing=1.25)


def _arrow(ax, xy_from, xy_to):
    ax.annotate("", xy=xy_to, xytext=xy_from,
                arrowprops=dict(arrowstyle="-|>", color="#33415c", lw=1.0, shrinkA=0, shrinkB=0))


def flow_figure(counts: pd.DataFrame) -> Figure:
    """CONSORT-style diagram of ``flow_counts`` output (boxes and arrows, fixed layout), at the
    text column's width, marked as drawn from the reconstructed cohort."""
    c = counts.set_index("node")
    n = c["n"].astype(int)

    def pct(node):
        return f" ({c.loc[node, 'pct']:.1f}%)" if np.isfinite(c.loc[node, "pct"]) else ""

    from cart19.presentation import figures as F

    fig = Figure(figsize=(F.BOOK_WIDTH, 6.6))
    ax = fig.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    h = 0.085
    y0, y1, y2, y3, y4 = 0.94, 0.75, 0.53, 0.31, 0.09
    _box(ax, 0.40, y0, f"Enrolled\nn = {n['enrolled']}")
    _box(ax, 0.80, (y0 + y1) / 2, f"Not infused\nn = {n['not_infused']}", color="#f4f4f4")
    _box(ax, 0.40, y1, f"Infused with CAR T cells\nn = {n['infused']}")
    _box(ax, 0.40, y2, (f"CR or CRi on day 30\nn = {n['cr']}{pct('cr')}\n"
                        f"CR {n['cr_only']}, CRi {n['cri']}\n"
                        f"MRD-neg {n['mrd_neg']}, MRD-pos {n['mrd_pos']}"), h=0.14)
    _box(ax, 0.82, y2, f"No response\nn = {n['nr']}{pct('nr')}", color="#fbeeee")
    _box(ax, 0.22, y3, f"Bridged into allo-HSCT\nn = {n['hsct']}{pct('hsct')}")
    _box(ax, 0.58, y3, f"CAR T alone\nn = {n['no_hsct']}{pct('no_hsct')}")
    for x, arm in ((0.22, "hsct"), (0.58, "no_hsct")):
        _box(ax, x, y4, (f"Relapsed {n[arm + '.relapse']}{pct(arm + '.relapse')}\n"
                         f"(CD19-neg {n[arm + '.relapse_cd19neg']})\n"
                         f"Died {n[arm + '.death']}{pct(arm + '.death')}"),
             w=0.24, h=0.12, color="#f7f7f0")
    # no remission, so no relapse: only deaths are shown for non-responders
    _box(ax, 0.82, y4, f"Died {n['nr.death']}{pct('nr.death')}", w=0.2, h=0.12, color="#f7f7f0")
    _arrow(ax, (0.40, y0 - h / 2), (0.40, y1 + h / 2))
    _arrow(ax, (0.40, (y0 + y1) / 2), (0.80 - 0.13, (y0 + y1) / 2))
    _arrow(ax, (0.40, y1 - h / 2), (0.40, y2 + 0.07))
    _arrow(ax, (0.40, y1 - h / 2 - 0.03), (0.82, y2 + h / 2))
    _arrow(ax, (0.40, y2 - 0.07), (0.22, y3 + h / 2))
    _arrow(ax, (0.40, y2 - 0.07), (0.58, y3 + h / 2))
    _arrow(ax, (0.22, y3 - h / 2), (0.22, y4 + 0.06))
    _arrow(ax, (0.58, y3 - h / 2), (0.58, y4 + 0.06))
    _arrow(ax, (0.82, y2 - h / 2), (0.82, y4 + 0.06))
    ax.text(0.0, 0.0, "Percentages are of the box above. Relapse and death: any time in follow-up.",
            fontsize=F.MIN_FONT_PT + 0.5, color="#555555", va="bottom")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    F.mark_reconstructed(fig)  # every count is a count of reconstructed patients
    return fig


#: flow node -> claim id whose ``n`` is the published count of that box
FLOW_CLAIMS = {
    "enrolled": "results.enrolled",
    "infused": "results.infused",
    "cr": "results.cr_day30",
    "cri": "fig4.cri",
    "mrd_neg": "results.mrd_neg_cr",
    "mrd_pos": "results.mrd_pos_cr",
    "hsct": "results.hsct.n",
    "no_hsct": "results.no_hsct.n",
    "hsct.relapse": "results.hsct.relapse",
    "hsct.death": "results.hsct.deaths",
    "no_hsct.relapse": "results.no_hsct.relapse",
    "no_hsct.relapse_cd19neg": "results.no_hsct.relapse.cd19_neg",
}


def flow_vs_published(counts: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Each flow box that the paper prints a count for: reproduced n, published n (claims.csv,
    by the id in ``FLOW_CLAIMS``), their difference and the claim's printed text."""
    c = claims.set_index("id")
    cnt = counts.set_index("node")
    rows = []
    for node, cid in FLOW_CLAIMS.items():
        pub = float(c.loc[cid, "n"]) if cid in c.index and pd.notna(c.loc[cid, "n"]) else np.nan
        rows.append({"node": node, "label": cnt.loc[node, "label"], "claim_id": cid,
                     "printed": c.loc[cid, "printed"] if cid in c.index else "(claim id missing)",
                     "published_n": pub, "reproduced_n": int(cnt.loc[node, "n"]),
                     "difference": int(cnt.loc[node, "n"]) - pub})
    return pd.DataFrame(rows)
