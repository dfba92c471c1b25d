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
