"""What a chapter notebook needs in one call: the record, the cohort, the reproduced claims.

A chapter (notebooks/NN_*.md) calls :func:`load` with its parameters and gets the published
claims, the reconstructed cohort, every claim of that chapter reproduced from the cohort and
compared (the chapter's slice of the scorecard), so the notebook itself stays a few lines.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cart19.comparison import reproduce, scorecard

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

    def status_counts(self) -> pd.Series:
        return self.card["status"].value_counts().reindex(list(scorecard.STATUSES), fill_value=0)


def load(name: str, claims_path, cohort_path, ids: list[str] | None = None) -> Chapter:
    """Load and reproduce one chapter's claims (those :func:`reproduce.chapter_of` assigns it,
    plus any extra ``ids``)."""
    from cart19.record.claims import load_claims
    from cart19.cohort.schema import load_cohort

    claims = load_claims(claims_path)
    raw = pd.read_csv(claims_path, dtype=str, keep_default_na=False)
    cohort = load_cohort(cohort_path)
    mine = claims["id"].map(reproduce.chapter_of) == name
    if ids:
        mine |= claims["id"].isin(ids)
    published = claims.loc[mine].reset_index(drop=True)
    from cart19.cohort.validate import not_infused_beside

    reproduced = reproduce.reproduce_all(cohort, published, not_infused_beside(cohort_path))
    card = scorecard.build_scorecard(published, raw, reproduced)
    return Chapter(name, claims, cohort, card, reproduced, published)
