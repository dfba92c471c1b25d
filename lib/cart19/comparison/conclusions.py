"""The paper's conclusions, each beside what the reconstructed cohort says (Discussion chapter).

Zhang et al. 2020 draw a dozen conclusions in the Key Points, Abstract and Discussion. Each is a
claim about a comparison; :func:`conclusions` recomputes the comparison on the cohort (log-rank
tests for the survival statements, including the subgroups shown only in the paper's supplemental
Figure S2; chi-square for rates) and says whether the reconstructed data agree with the
statement at P < .05. Survival comparisons are emergent (never fitted), so agreement is
informative; rate comparisons follow from fitted counts.
"""
from __future__ import annotations

import pandas as pd

from cart19.comparison.reproducers import Context, attribute_frame, chi2_p, endpoint_columns, two_arm
from cart19.record import design
from cart19.stats import survival

#: (conclusion in our words, where the paper says it, kind, population, arm a, arm b, expects a
#: difference?) - arms are literal conjunctions over the reconstruction's attributes.
CONCLUSIONS = (
    ("CR rate does not differ between children (2-14) and older patients", "Abstract; Discussion",
     "rate", ("cr",), ("child",), ("~child",), False),
    ("OS does not differ between children and older patients", "Abstract; Discussion",
     "os", ("cr",), ("child",), ("~child",), False),
    ("LFS does not differ between children and older patients", "Abstract; Discussion",
     "lfs", ("cr",), ("child",), ("~child",), False),
    ("CR rate is higher with BM blasts <=20% than >20%", "Results; Discussion",
     "rate", ("cr",), ("~bl_gt20",), ("bl_gt20",), True),
    ("LFS does not differ by BM blasts <=20% vs >20%", "Discussion; supplemental Figure S2",
     "lfs", ("cr",), ("~bl_gt20",), ("bl_gt20",), False),
    ("CR rate is lower with CNS leukaemia", "Results; Discussion",
     "rate", ("cr",), ("cns",), ("~cns",), True),
    ("OS does not differ with vs without CNS leukaemia", "Discussion",
     "os", ("cr",), ("cns",), ("~cns",), False),
    ("OS does not differ with vs without EMD", "Results; supplemental Figure S2",
     "os", ("cr",), ("emd",), ("~emd",), False),
    ("OS does not differ between BCR-ABL+ and BCR-ABL-", "Discussion; supplemental Figure S2",
     "os", ("cr",), ("bcr_abl",), ("~bcr_abl",), False),
    ("LFS does not differ between BCR-ABL+ and BCR-ABL-", "Discussion; supplemental Figure S2",
     "lfs", ("cr",), ("bcr_abl",), ("~bcr_abl",), False),
    ("OS does not differ between the two dose groups", "Results; Discussion",
     "os", ("cr",), ("~dose_ge3",), ("dose_ge3",), False),
    ("TP53 mutation predicts worse OS", "Key Points; Figure 6; Table 5",
     "os", ("cr",), ("tp53",), ("~tp53",), True),
    ("TP53 mutation predicts worse LFS", "Figure 6; Table 5",
     "lfs", ("cr",), ("tp53",), ("~tp53",), True),
    ("Relapse after a previous transplant predicts worse OS", "Figure 7",
     "os", ("cr",), ("prior_hsct",), ("~prior_hsct",), True),
    ("Consolidative allo-HSCT is followed by better OS", "Key Points; Figure 3; Table 5",
     "os", ("cr",), ("hsct",), ("~hsct",), True),
    ("Consolidative allo-HSCT is followed by better LFS", "Key Points; Figure 3; Table 5",
     "lfs", ("cr",), ("hsct",), ("~hsct",), True),
    ("CD28 causes more grade 3-4 CRS than 4-1BB", "Discussion; Table 3",
     "crs34", (), ("cd28",), ("~cd28",), True),
    ("CD28 causes more grade 2-3 neurotoxicity than 4-1BB", "Discussion; Table 3",
     "neuro23", (), ("cd28",), ("~cd28",), True),
    ("Grade 3-4 CRS does not differ by age group", "Discussion; Table 3",
     "crs34", (), ("child",), ("~child",), False),
)


def conclusions(cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per conclusion: the test, its P on the reconstructed cohort, and agreement."""
    ctx = Context(attribute_frame(cohort))
    rows = []
    for text, where, kind, pop, a, b, expects in CONCLUSIONS:
        if kind in design.load().endpoints:
            dur, ev = endpoint_columns(kind)
            arms = two_arm(ctx, tuple(pop) + tuple(a), tuple(pop) + tuple(b))
            p = survival.logrank(arms, dur, ev, "_arm")["p"]
            test = f"log-rank, {kind.upper()}, responders"
            na, nb = int((arms["_arm"] == "a").sum()), int((arms["_arm"] == "b").sum())
        else:
            outcome = ("cr",) if kind == "rate" else (kind,)
            p = chi2_p(outcome, a, b)(ctx)["p"]
            test = f"Pearson chi-square, {'CR' if kind == 'rate' else kind}"
            na, nb = ctx.count(a), ctx.count(b)
        significant = p < 0.05
        rows.append({"conclusion": text, "where in the paper": where, "test": test,
                     "n (a / b)": f"{na} / {nb}", "P (reconstruction)": p,
                     "paper claims a difference": expects,
                     "reconstruction agrees": significant == expects})
    return pd.DataFrame(rows)
