"""Claims of the treatment course and the costimulatory-domain periods (Methods), reproduced.

The columns come from :func:`cart19.reconstruction.treatment.assign_treatment` (vein-to-vein days,
bridging chemotherapy, cycles before CAR T) and from the infusion dates and constructs of the
cohort; the enrolment counts need the enrolled patients who were not infused
(``data/cohort/not_infused.csv``).
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cart19.comparison.reproducers import Context, percent_of, tagged
from cart19.record import design


def costim_switch() -> pd.Timestamp:
    """The day from which only 4-1BB CAR T cells were infused (design.yml calendar.costim_switch,
    reading costim_switch_date): "4-1BB ... was used after November 2017 for all subsequent 68
    enrolled patients" (Methods, "Clinical procedures")."""
    return pd.Timestamp(design.load().calendar["costim_switch"].date)


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
        return {"n": n, "N": len(lab), "percent": percent_of(n, len(lab))} if with_total else {"n": n}
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
        switch = costim_switch()
        early = pd.to_datetime(d["infusion_date"]) < switch
        cd28, bb = d["costim"] == "CD28", d["costim"] == "4-1BB"
        a, b = int((early & cd28).sum()), int((early & bb).sum())
        c, e = int((~early & bb).sum()), int((~early & cd28).sum())
        detail = (f"infused before {switch.date()}: {a} CD28, {b} 4-1BB; "
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
    from cart19.reconstruction.treatment import (
        BRIDGING,
        BRIDGING_INTENSIVE,
        BRIDGING_LOW,
        CYCLES,
        VEIN_TO_VEIN,
    )
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

#: the enrolment claims: counted over the infused patients and those enrolled but not infused
ENROLMENT_IDS = ("abstract.enrolled", "results.enrolled", "methods.ld.n", "methods.manufactured")


def enrolment_rules(n_infused: int, not_infused: pd.DataFrame | None) -> dict[str, tuple[Callable, str]]:
    """The enrolment counts (115 enrolled, 110 manufactured and infused): fitted, since the
    reconstruction writes exactly the enrolled patients who were not infused."""
    if not_infused is None:
        return {}
    n_enr = n_infused + len(not_infused)
    rules = {}
    for cid in ENROLMENT_IDS:
        if cid == "methods.manufactured":
            fn = tagged(lambda ctx, a=n_infused, b=n_enr: {"n": a, "N": b, "percent": 100.0 * a / b},
                      "enrolment[infused]/[enrolled]")
        else:
            fn = tagged(lambda ctx, b=n_enr: {"n": b}, "enrolment[enrolled]")
        rules[cid] = (fn, "fitted")
    return rules
