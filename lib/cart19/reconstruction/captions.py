"""The log-rank P values and hazard ratios of Figures 3-7: which printed triples can be targets
(issue 16, item 2).

Each caption of Figures 3-7 (Zhang et al., Blood Adv 2020;4(10):2325-2338) compares two arms of
the 102 responders on OS and LFS and prints a log-rank P with a GraphPad Prism hazard ratio and
95% CI. Orientation (whose hazard the printed HR is) and variant (Mantel-Haenszel or log-rank)
are the design's readings (``design.comparisons[fig].endpoints[ep].hr``). With O, E (expected
under the null) and V (log-rank variance) of arm a:

* Prism's Mantel-Haenszel HR is exp((O - E)/V) with CI exp((O - E)/V +- 1.96/sqrt V), and the
  log-rank chi-square is (O - E)^2/V: HR, CI and P share one V. A printed triple is
  *self-consistent* when the Wald P of its HR and CI (every value within its printed rounding)
  meets its P at the printed precision (:func:`consistency`).
* A self-consistent triple fixes ln HR = k and chi-square, hence O - E = chi2/k and
  V = chi2/k^2. V can never exceed E_a E_b / D (D events in all; Jensen's inequality on
  p(1 - p), p the share of arm a at risk), with E_a = O_a - (O - E), E_b = O_b + (O - E). So the
  arms' event counts, which the reconstruction fits exactly, decide whether a triple can be met
  at all (:func:`feasibility`).

:func:`caption_table` sets every caption beside a cohort's values: the inputs for fitting these
numbers, and the reasons where they cannot be fitted.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from scipy import stats

from cart19.record import design

#: files read (:func:`targeted_claims`: the committed base cohort), for the build's declared reads
DATA_READS = ("data/cohort/base.npz", "data/published/claims.csv", "data/published/design.yml")
#: the HR tolerance on the log scale (issue 16: within 2%)
LOG_HR_TOL = 0.02
_Z = 1.959963984540054
#: significant digits of the computed columns of :func:`caption_table`: the last bits of a
#: log-rank P differ between BLAS builds, and a table must read the same on every machine
SIG = 4


def _sig(x: float) -> float:
    return float(f"{x:.{SIG}g}") if np.isfinite(x) else x


def _printed_as(text, value: float) -> str:
    """The number in a printed text that stands for ``value`` (the closest)."""
    nums = re.findall(r"\d*\.\d+|\d+", str(text))
    return min(nums, key=lambda s: abs(float(s) - value)) if nums else repr(value)


def _half_unit(s: str) -> float:
    return 0.5 * 10.0 ** -(len(s.split(".")[1]) if "." in s else 0)


def p_window(text: str, cmp: str) -> tuple[float, float]:
    """The P values that print as ``text`` (``cmp`` "<": an upper bound)."""
    v = float(text)
    if cmp == "<":
        return 0.0, v
    h = _half_unit(text)
    return max(0.0, v - h), min(1.0, v + h)


def consistency(claims: pd.DataFrame, hr_claim: str, p_claim: str) -> dict:
    """Wald P implied by the printed HR and CI (every value within its printed rounding) against
    the printed P. ``claims`` indexed by claim id."""
    row, prow = claims.loc[hr_claim], claims.loc[p_claim]
    hr_s, lo_s, hi_s = (_printed_as(row["printed"], float(row[c])) for c in ("hr", "ci_low", "ci_high"))
    p_s = _printed_as(prow["printed"], float(prow["p"]))
    cmp = str(prow.get("p_cmp", "=") or "=")
    cmp = "<" if cmp.strip() == "<" else "="
    zs = []
    for h in (float(hr_s) - _half_unit(hr_s), float(hr_s) + _half_unit(hr_s)):
        for lo in (float(lo_s) - _half_unit(lo_s), float(lo_s) + _half_unit(lo_s)):
            for hi in (float(hi_s) - _half_unit(hi_s), float(hi_s) + _half_unit(hi_s)):
                zs.append(abs(math.log(h)) / (math.log(hi / max(lo, 1e-12)) / (2 * _Z)))
    implied = (2 * stats.norm.sf(max(zs)), 2 * stats.norm.sf(min(zs)))
    w = p_window(p_s, cmp)
    return {"hr": hr_s, "ci": (lo_s, hi_s), "p": p_s, "p_cmp": cmp, "implied_p": implied,
            "p_window": w, "consistent": bool(implied[0] <= w[1] and w[0] <= implied[1])}


def feasibility(k: float, p_win: tuple[float, float], cmp: str, o_a: int, o_b: int) -> dict:
    """Can arms with o_a and o_b events meet ln HR (arm a vs b) = k and a log-rank P in
    ``p_win``? The smallest chi-square the P allows needs V = chi2/k^2 and O - E = chi2/k; the
    bound is V <= E_a E_b / D (module docstring)."""
    chi2 = float(stats.chi2.isf(p_win[1], 1))
    if cmp != "<" and p_win[0] > 0:
        chi2 = 0.5 * (chi2 + float(stats.chi2.isf(p_win[0], 1)))
    d = o_a + o_b
    if k == 0 or d == 0:
        return {"v_needed": np.nan, "v_max": np.nan, "feasible": False, "o_minus_e": np.nan,
                "short_arm": ""}
    v, delta = chi2 / k ** 2, chi2 / k
    e_a, e_b = o_a - delta, o_b + delta
    v_max = e_a * e_b / d if (e_a > 0 and e_b > 0) else 0.0
    return {"v_needed": v, "v_max": v_max, "feasible": bool(v <= v_max), "o_minus_e": delta,
            "short_arm": "a" if e_a <= 0 else "b" if e_b <= 0 else ""}


def caption_table(cohort: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """One row per caption comparison of Figures 3-7 (10): the printed HR (CI) and P in the
    design's orientation and variant, the Wald P its HR and CI imply and whether the triple is
    self-consistent; the arms' events in ``cohort`` and whether they allow the triple; the
    cohort's HR and P (as the scorecard computes them) and whether they meet the print (HR
    within 2% on the log scale, P at the printed precision). ``claims`` from load_claims."""
    from cart19.comparison import ensemble as E
    from cart19.comparison import reproducers as R

    claims = claims.set_index("id") if "id" in claims.columns else claims
    ctx = R.Context(R.attribute_frame(cohort))
    rep = E.figure_stats(cohort, ctx).set_index("stat")
    rows = []
    for fig, c in design.load().comparisons.items():
        for ep, spec in c.endpoints.items():
            chk = consistency(claims, spec.hr.claim, spec.p[0])
            sign = 1.0 if spec.hr.orientation == "a_vs_b" else -1.0
            k = sign * math.log(float(chk["hr"]))
            ev = R.endpoint_columns(ep)[1]
            o_a = int(cohort.loc[ctx.mask(c.where("a")), ev].sum())
            o_b = int(cohort.loc[ctx.mask(c.where("b")), ev].sum())
            feas = feasibility(k, chk["p_window"], chk["p_cmp"], o_a, o_b)
            r = rep.loc[f"{fig}.{ep}"]
            hr_ok = abs(math.log(r["hr"] / float(chk["hr"]))) <= LOG_HR_TOL
            p_ok = chk["p_window"][0] <= r["p"] <= chk["p_window"][1]
            if not chk["consistent"]:
                reason = (f"HR {chk['hr']} ({chk['ci'][0]}-{chk['ci'][1]}) implies P "
                          f"{chk['implied_p'][0]:.2g}-{chk['implied_p'][1]:.2g}, not {chk['p_cmp']} "
                          f"{chk['p']}: the triple cannot share one variance")
            elif feas["short_arm"]:
                arm, o = feas["short_arm"], (o_a if feas["short_arm"] == "a" else o_b)
                reason = (f"self-consistent, but arm {arm} would need more than "
                          f"{abs(feas['o_minus_e']):.2f} events (observed minus expected "
                          f"{feas['o_minus_e']:+.2f} for arm a); this cohort's arm {arm} has {o}")
            elif not feas["feasible"]:
                reason = (f"self-consistent, but needs V = {feas['v_needed']:.1f} and this cohort's arms' "
                          f"{o_a} + {o_b} events allow at most {feas['v_max']:.1f}")
            else:
                reason = "self-consistent and allowed by this cohort's events: could be a target"
            rows.append({"comparison": f"{fig}.{ep}", "hr_claim": spec.hr.claim, "p_claim": spec.p[0],
                         "orientation": spec.hr.orientation, "variant": spec.hr.variant,
                         "printed_hr": float(chk["hr"]), "printed_ci": f"{chk['ci'][0]}-{chk['ci'][1]}",
                         "printed_p": f"{'<' if chk['p_cmp'] == '<' else ''}{chk['p']}",
                         "implied_p_low": _sig(chk["implied_p"][0]),
                         "implied_p_high": _sig(chk["implied_p"][1]),
                         "consistent": chk["consistent"], "events_a": o_a, "events_b": o_b,
                         "v_needed": _sig(feas["v_needed"]), "v_max": _sig(feas["v_max"]),
                         "feasible": feas["feasible"], "target": chk["consistent"] and feas["feasible"],
                         "reproduced_hr": _sig(float(r["hr"])), "reproduced_p": _sig(float(r["p"])),
                         "hr_met": bool(hr_ok), "p_met": bool(p_ok), "reason": reason})
    return pd.DataFrame(rows)


def targeted_claims(claims) -> set[str]:
    """Claim ids the day search fits (basis "fitted" in the scorecard):
    :func:`cart19.reconstruction.printfit.targeted_claims`, which reads the committed base cohort
    (declared here, in :data:`DATA_READS`, for the chapters that build the scorecard). A partial
    record without every caption's printed HR and P (a test's toy claims) has none."""
    from cart19.reconstruction import printfit
    idx = claims.set_index("id") if "id" in claims.columns else claims
    needed = {x for c in design.load().comparisons.values() for spec in c.endpoints.values()
              for x in (spec.hr.claim, spec.p[0])}
    if "printed" not in idx.columns or not needed <= set(idx.index):
        return set()
    return printfit.targeted_claims(idx)
