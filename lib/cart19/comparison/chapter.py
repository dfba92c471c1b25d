"""What a chapter notebook needs in one call: the record, the cohort, the reproduced claims.

A chapter (notebooks/NN_*.md) calls :func:`load` with its parameters and gets the published
claims, the reconstructed cohort, and its slice of the one reproduction of the whole paper
(:func:`cart19.comparison.scorecard.compute_all`), so the notebook itself stays a few lines and
a claim reads the same on every page.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cart19.comparison import scorecard

CAVEAT = ("The patient-level data of this trial are not public. Every number computed here comes "
          "from a *reconstructed* cohort: pseudo patient-level data built to agree with the "
          "published aggregates (see the chapter on the reconstruction). It is not the trial's data.")


@dataclass
class Chapter:
    name: str
    claims: pd.DataFrame       #: the whole published record
    cohort: pd.DataFrame       #: the reconstructed cohort, as loaded and validated
    card: pd.DataFrame         #: this chapter's scorecard rows
    reproduced: pd.DataFrame   #: this chapter's reproduced values (claims.csv fields)
    published: pd.DataFrame    #: this chapter's published rows

    def compare(self, prefix: str | None = None) -> pd.DataFrame:
        from cart19.presentation.tables import comparison
        return comparison(self.card, prefix=prefix)

    def show(self, prefix: str | None = None):
        """:meth:`compare` as the book shows it (no row index)."""
        from cart19.presentation.tables import show
        return show(self.compare(prefix))

    def value(self, claim_id: str, field: str | None = None, which: str = "reproduced") -> float:
        """A reproduced (or published) number for glue, by claim id."""
        frame = self.reproduced if which == "reproduced" else self.published
        row = frame.set_index("id").loc[claim_id]
        if field is None:
            field = self.card.set_index("id").loc[claim_id, "field"]
        return float(row[field])

    def scaled(self, claim_id: str, field: str | None = None, which: str = "reproduced") -> float:
        """:meth:`value` in the power of ten the paper prints it in (``value / 10**k`` for a claim
        printed "m x 10^k", :func:`cart19.record.claims.printed_power`): the number to write
        before "x 10<sup>k</sup>" in prose."""
        from cart19.record.claims import printed_power
        k = printed_power(self.claims.set_index("id").loc[claim_id, "printed"])
        return self.value(claim_id, field, which) / 10 ** k

    def status_counts(self) -> pd.Series:
        return self.card["status"].value_counts().reindex(list(scorecard.STATUSES), fill_value=0)


def load(name: str, claims_path, cohort_path, ids: list[str] | None = None) -> Chapter:
    """One chapter's slice of the whole paper's reproduction (the claims
    :func:`reproduce.chapter_of` assigns it, plus any extra ``ids``): every claim has the value,
    status, basis and note it has on every other page and in the scorecard."""
    r = scorecard.compute_all(claims_path, cohort_path)
    mine = r.card["chapter"] == name
    if ids:
        mine |= r.card["id"].isin(ids)
    keep = set(r.card.loc[mine, "id"])
    card = r.card.loc[mine].reset_index(drop=True)
    reproduced = r.reproduced.loc[r.reproduced["id"].isin(keep)].reset_index(drop=True)
    published = r.claims.loc[r.claims["id"].isin(keep)].reset_index(drop=True)
    return Chapter(name, r.claims, r.cohort, card, reproduced, published)
