"""Honest counts for headlines: distinct quantities, and only what the fit does not fix.

The front page, the scorecard chapter and the ensemble chapter quote counts of agreement; these
functions make them. A number printed several times (the same P in a caption, the Results and
the Abstract) is one quantity; a statistic the reconstruction fixes (a count it was fitted to, a
P computed from fitted counts, a t-test of fitted means) is never counted as agreement.
"""
from __future__ import annotations

import pandas as pd

#: ensemble verdicts of statistics the fit does not fix, in the order the chapter reads them
FREE_VERDICTS = ("holds in >=95% of cohorts", "holds in some cohorts", "holds in <5% of cohorts",
                 "not assessable")


def ensemble_verdicts(summary: pd.DataFrame) -> dict[str, int]:
    """Counts over :func:`cart19.comparison.ensemble.ensemble_summary`'s rows: ``n_stats``,
    ``n_fixed`` (fixed by the fit, not counted), ``n_free`` (the others) and, among those,
    ``n_hold`` / ``n_some`` / ``n_never`` / ``n_unassessable`` by verdict."""
    free = summary.loc[~summary["fixed"].astype(bool)]
    v = free["verdict"].value_counts()
    return {"n_stats": len(summary), "n_fixed": int(summary["fixed"].astype(bool).sum()),
            "n_free": len(free), "n_hold": int(v.get(FREE_VERDICTS[0], 0)),
            "n_some": int(v.get(FREE_VERDICTS[1], 0)), "n_never": int(v.get(FREE_VERDICTS[2], 0)),
            "n_unassessable": int(v.get(FREE_VERDICTS[3], 0))}


#: how far a status is from agreement (a quantity takes the worst of its printings)
_RANK = {"exact": 0, "within tolerance": 1, "exact, test chosen per row": 2, "differs": 3}
#: how much the fit fixes a basis (a quantity takes the most fixed of its printings)
_FIXED = {"fitted": 0, "derived": 1, "emergent": 2}


def quantities(card: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct reproduced quantity of the scorecard (``quantity_key``): how many
    printed numbers show it, its status (the worst among the printings no reading drops: a
    misprinted repeat whose reading was dropped does not count against it) and basis (the most
    fixed: a percentage of fitted counts is the fitted count). Not reproducible claims have no
    quantity and are left out."""
    c = card.loc[card["status"] != "not reproducible"].copy()
    key = c["quantity_key"] if "quantity_key" in c else c["id"]
    c["_key"] = key.where(key.astype(str) != "", c["id"])
    c["_dropped"] = c["note"].astype(str).str.contains("dropped by reading", regex=False)
    rows = []
    for k, g in c.groupby("_key", sort=False):
        kept = g.loc[~g["_dropped"]] if (~g["_dropped"]).any() else g
        status = max(kept["status"], key=lambda s: _RANK.get(s, 9))
        basis = min(g["basis"], key=lambda b: _FIXED.get(b, 9))
        rows.append({"quantity_key": k, "claims": ";".join(g["id"]), "n_printed": len(g),
                     "status": status, "basis": basis})
    return pd.DataFrame(rows, columns=["quantity_key", "claims", "n_printed", "status", "basis"])


def headline(card: pd.DataFrame) -> dict[str, int]:
    """The scorecard's headline, counting distinct quantities (a P printed in a caption, the
    Results and the Abstract is one):

    ``n_claims`` printed numbers; ``n_notrep`` of them not patient-level quantities; the others
    are ``n_quantities`` distinct quantities, of which ``n_repro`` reproduced (exact or within
    tolerance), ``n_chosen`` exact only with a test chosen per row, ``n_differs`` differ;
    ``n_emergent`` quantities that nothing in the fit fixes, ``n_emergent_ok`` of them reproduced.
    """
    q = quantities(card)
    em = q["basis"] == "emergent"
    ok = q["status"].isin(["exact", "within tolerance"])
    return {"n_claims": len(card), "n_notrep": int((card["status"] == "not reproducible").sum()),
            "n_quantities": len(q), "n_repro": int(ok.sum()),
            "n_chosen": int((q["status"] == "exact, test chosen per row").sum()),
            "n_differs": int((q["status"] == "differs").sum()),
            "n_emergent": int(em.sum()), "n_emergent_ok": int((em & ok).sum())}
