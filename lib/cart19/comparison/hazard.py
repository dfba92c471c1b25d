"""Hazard ratios like for like: the printed orientation, the variant, the log scale.

Every printed HR is compared in the orientation the paper's own words give it (design.yml:
``comparisons.<figure>.endpoints.<endpoint>.hr.orientation``; Table 5 ``printed_orientation``),
as the GraphPad variant the design records, on the log scale: the difference of a reproduced HR
from a printed one is ``ln(reproduced / published)``, never the difference of an HR and its
reciprocal. Table 5 is *shown* in one clinically natural direction, the hazard of the
higher-risk level relative to the other (:func:`table5_display`), the printed value turned to
match where it is printed the other way.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cart19.record import design


def turn(hr, lo, hi) -> tuple[float, float, float]:
    """HR and CI of the reversed comparison: (1/HR, 1/hi, 1/lo)."""
    return 1.0 / hr, 1.0 / hi, 1.0 / lo


def log_difference(reproduced: float, published: float) -> float:
    """ln(reproduced / published): the distance of two ratios on the scale they are estimated on."""
    if not (reproduced > 0 and published > 0):
        return float("nan")
    return math.log(reproduced) - math.log(published)


def caption_orientations() -> dict[str, str]:
    """claim id of every printed caption HR or CI -> what the ratio is, in words: whose hazard
    relative to whose, flagged where that is the reciprocal of the figure's "a vs b"."""
    out = {}
    for r in design.load().hr_table().itertuples():
        text = f"hazard of {r.numerator_label} relative to {r.denominator_label}"
        if r.reciprocal_of_label:
            text += f" (as printed: the reciprocal of the figure's '{r.denominator_label} vs " \
                    f"{r.numerator_label}')"
        out[r.claim] = text
    return out


def table5_orientations() -> dict[str, str]:
    """claim id of every Table 5 / Abstract HR -> whose hazard the printed value is, in words."""
    t5 = design.load().table5
    out = {}
    for name, cov in t5.covariates.items():
        for ep in cov.printed:
            hr_of = t5.printed_hr_of(name, ep)
            other = "reference" if hr_of == "exposed" else "exposed"
            out[f"table5.{ep}.{name}"] = (f"hazard of {getattr(cov, hr_of).label} relative to "
                                          f"{getattr(cov, other).label} (printed '{cov.labels[ep]}')")
    for cid, ab in t5.abstract.items():
        cov = t5.covariates[ab.covariate]
        other = "reference" if ab.hr_of == "exposed" else "exposed"
        out[cid] = f"hazard of {getattr(cov, ab.hr_of).label} relative to {getattr(cov, other).label}"
    return out


def _fmt_p(p: float, cmp: str | None = "=") -> str:
    """A P as the journal prints it: '.267', '<.001'."""
    if p is None or not np.isfinite(p):
        return ""
    if cmp == "<" or p < 0.001:
        return "<" + f"{max(p, 0.001):.3f}".lstrip("0")
    return f"{p:.3f}".lstrip("0")


def table5_display(published: pd.DataFrame, reproduced: pd.DataFrame) -> pd.DataFrame:
    """Table 5 in one direction: every row the hazard of the higher-risk level relative to the
    other (design.yml ``exposed`` vs ``reference``), published and reproduced side by side.

    Both frames are claim-shaped (``id``, ``hr``, ``ci_low``, ``ci_high``, ``p``), as printed
    orientation (the record, and :func:`cart19.comparison.reproduce.reproduce_all`). Where the
    paper prints a row the other way, both values are turned and the note says so."""
    t5 = design.load().table5
    pub, rep = (f.set_index("id") for f in (published, reproduced))
    rows = []
    for ep in ("os", "lfs"):
        for name, cov in t5.covariates.items():
            cid = f"table5.{ep}.{name}"
            flip = t5.printed_hr_of(name, ep) != "exposed"
            row = {"Endpoint": ep.upper(), "Covariate": f"{cov.exposed.label} vs {cov.reference.label}"}
            for side, frame in (("published", pub), ("reproduced", rep)):
                if cid not in frame.index or pd.isna(frame.at[cid, "hr"]):
                    row[f"HR (95% CI), {side}"], row[f"P, {side}"] = "", ""
                    continue
                hr, lo, hi = (float(frame.at[cid, k]) for k in ("hr", "ci_low", "ci_high"))
                if flip:
                    hr, lo, hi = turn(hr, lo, hi)
                row[f"HR (95% CI), {side}"] = f"{hr:.3f} ({lo:.3f}-{hi:.3f})"
                cmp = frame.at[cid, "p_cmp"] if "p_cmp" in frame.columns else "="
                row[f"P, {side}"] = _fmt_p(float(frame.at[cid, "p"]), cmp)
            if flip and cid in pub.index:
                row["note"] = (f"printed '{cov.labels[ep]}' {pub.at[cid, 'hr']:g}, the hazard of "
                               f"{cov.reference.label} relative to {cov.exposed.label}: turned")
            else:
                row["note"] = ""
            rows.append(row)
    return pd.DataFrame(rows)
