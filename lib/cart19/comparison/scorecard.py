"""Reproduction scorecard: every published claim beside its reproduced value (issue: Tables 1-5,
Figures 2-7 and every number in the text of Zhang et al., Blood Adv 2020;4(10):2325-2338).

The reproduced values come from :mod:`cart19.comparison.reproduce` (computed from the cohort); this module only
*compares* them with the published record and assigns a status:

- ``exact``: equal at the precision the paper prints (a count equal; a percentage, P, HR, median
  that rounds to the printed digits; a "P < x" whose reproduced P is below x);
- ``exact, test chosen per row``: a crosstab P reproduced only by a test other than Pearson's
  chi-square, the test chosen for that row because it matches (reading crosstab_test_per_row);
- ``within tolerance``: a Kaplan-Meier landmark within max(1.0 percentage point, half a KM step at
  that time) - the tolerance the reconstruction was calibrated to - or a mean within its printed
  dispersion;
- ``differs``: anything else, shown with the difference (never tuned away);
- ``not reproducible``: not a patient-level quantity (protocol constants, definitions, literature
  values) or not recorded in the reconstructed cohort; the reason is given.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cart19 import paths
from cart19.comparison import memo
from cart19.reconstruction.times import km_within
from cart19.record.design import VARIANT_LABELS

#: the crosstab tests SPSS prints, as the book names them
TEST_LABELS = {"pearson": "Pearson's chi-square", "yates": "Yates' corrected chi-square",
               "fisher": "Fisher's exact test", "likelihood_ratio": "the likelihood-ratio test",
               "linear_by_linear": "the linear-by-linear test"}

STATUSES = ("exact", "exact, test chosen per row", "within tolerance", "differs",
            "not reproducible")
#: statuses that count as reproduced
REPRODUCED = ("exact", "within tolerance")

#: Fields compared, in order of priority, for each kind of claim.
PRIMARY = {
    "count": ("n",),
    "proportion": ("n", "N"),
    "percent": ("percent",),
    "km_landmark": ("percent",),
    "median": ("median", "min", "max"),
    "range": ("min", "max"),
    "mean_dispersion": ("mean", "dispersion"),
    "p": ("p",),
    "hr": ("hr", "ci_low", "ci_high"),
    "ci": ("ci_low", "ci_high"),
    "value": ("value",),
}
NUMERIC = ("n", "N", "percent", "mean", "dispersion", "median", "min", "max", "value", "hr",
           "ci_low", "ci_high", "p")


def printed_decimals(raw: str | float | None) -> int | None:
    """Decimals printed in a numeric field as it stands in claims.csv ("92.9" -> 1, ".052" -> 3)."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    text = str(raw).strip()
    if not text:
        return None
    if "e" in text.lower():
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def _round_half_up(x: float, decimals: int) -> float:
    # Journals round half up; Python's round() is half-even, so it would call 7.45 -> 7.4 "exact"
    # against a printed 7.5. Decimal avoids binary-float surprises (2.675 etc.).
    from decimal import ROUND_HALF_UP, Decimal
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def _agrees(published: float, reproduced: float, decimals: int | None) -> bool:
    if decimals is None:
        return math.isclose(published, reproduced, rel_tol=1e-9, abs_tol=1e-12)
    return _round_half_up(reproduced, decimals) == _round_half_up(published, decimals)


def compare_claim(pub: pd.Series, raw: pd.Series, rep: pd.Series) -> tuple[str, float | None, str]:
    """Status, signed difference (reproduced - published, on the primary field) and a note.

    Besides the claim's fields, ``rep`` may carry (from :func:`cart19.comparison.reproduce.reproduce_all`):
    ``mismatch`` - the reproduction exists but cannot be written in the claim's field (e.g. "21 in
    each group" when the groups are unequal): status "differs" with that text; ``detail`` - what
    the value was computed over; ``override`` - the reading (data/published/readings.csv) that
    overrides the claim or one of its fields. Both are appended to the note.
    """
    mismatch = rep.get("mismatch")
    if isinstance(mismatch, str) and mismatch:
        status, diff, note = "differs", None, mismatch
    else:
        status, diff, note = _compare(pub, raw, rep)
    if pub["kind"] in ("hr", "ci") and status != "not reproducible":
        diff, note = _ratio_difference(pub, rep, note)
    test = rep.get("test")
    if status == "exact" and isinstance(test, str) and test and test != "pearson":
        # reproduced only by a test other than the chi-square the paper names, chosen because it
        # matches (reading crosstab_test_per_row): not plainly exact
        status = "exact, test chosen per row"
        p_pearson = float(rep["p_pearson"])
        other = ((p_pearson < 0.05) != (float(rep["p"]) < 0.05))
        note = "; ".join(x for x in (note, f"{TEST_LABELS.get(test, test)} chosen per row (Pearson's "
                                           f"chi-square gives {p_pearson:.3g}"
                                           + (", a different conclusion at P<.05)" if other else ")"))
                         if x)
    extra = [rep.get(k) for k in ("detail", "override")]
    extra = [x for x in extra if isinstance(x, str) and x and status != "not reproducible"]
    return status, diff, "; ".join([n for n in [note] + extra if n])


def _ratio_difference(pub: pd.Series, rep: pd.Series, note: str) -> tuple[float, str]:
    """A hazard ratio (or its CI) is compared on the log scale in the printed orientation, with
    the variant named and the other Prism variant beside it (cart19.comparison.hazard)."""
    from cart19.comparison.hazard import log_difference
    main = _main_field(pub)
    diff = log_difference(float(rep[main]), float(pub[main]))
    parts = [note, "difference on the log scale, ln(reproduced/published)"]
    if isinstance(rep.get("orientation"), str) and rep["orientation"]:
        parts.append(rep["orientation"])
    variant = rep.get("variant")
    if isinstance(variant, str) and variant:
        alt = rep.get("alt_variant")
        parts.append(f"{VARIANT_LABELS[variant]} HR (design.yml); {VARIANT_LABELS[alt]} HR "
                     f"{float(rep['alt_hr']):.3g} ({float(rep['alt_ci_low']):.3g}-"
                     f"{float(rep['alt_ci_high']):.3g})")
    return diff, "; ".join(x for x in parts if x)


def _compare(pub: pd.Series, raw: pd.Series, rep: pd.Series) -> tuple[str, float | None, str]:
    if isinstance(rep.get("reason"), str) and rep.get("reason") and _isnan(rep.get(_main_field(pub))):
        return "not reproducible", None, rep["reason"]
    kind = pub["kind"]
    fields = [f for f in PRIMARY.get(kind, ("value",)) if not _isnan(pub.get(f))]
    if not fields:  # e.g. a "range" printed only as a percent, or a value claim: fall back
        fields = [f for f in NUMERIC if not _isnan(pub.get(f))]
    if not fields:
        return "not reproducible", None, "the claim carries no numeric field to compare"
    missing = [f for f in fields if _isnan(rep.get(f))]
    if missing:
        return "not reproducible", None, (rep.get("reason") or
                                          f"no reproduced value for {', '.join(missing)}")
    diff = float(rep[fields[0]]) - float(pub[fields[0]])
    if kind == "p" or fields[0] == "p":
        return _compare_p(pub, raw, rep, diff)
    if kind == "km_landmark":
        return _compare_landmark(pub, raw, rep, diff)
    if kind == "mean_dispersion":
        return _compare_mean(pub, raw, rep, fields, diff)
    return _compare_fields(pub, raw, rep, fields, diff)


def _compare_p(pub, raw, rep, diff: float) -> tuple[str, float, str]:
    """A P value: within its printed bound, or equal at the printed precision."""
    cmp_ = pub.get("p_cmp") or "="
    p_pub, p_rep = float(pub["p"]), float(rep["p"])
    if cmp_ == "<":
        ok = p_rep < p_pub
    elif cmp_ == ">":
        ok = p_rep > p_pub
    else:
        ok = _agrees(p_pub, p_rep, printed_decimals(raw.get("p")))
    same_side = (p_rep < 0.05) == ((p_pub < 0.05) if cmp_ != ">" else False)
    note = "same conclusion at P<.05" if same_side else "conclusion at P<.05 differs"
    return ("exact" if ok else "differs"), diff, note


def _compare_landmark(pub, raw, rep, diff: float) -> tuple[str, float, str]:
    """A Kaplan-Meier landmark: at the printed precision, else within the claim's tolerance."""
    tol = rep.get("tolerance")
    tol = 1.0 if _isnan(tol) else float(tol)
    if _agrees(float(pub["percent"]), float(rep["percent"]), printed_decimals(raw.get("percent"))):
        return "exact", diff, f"tolerance {tol:.2f} pp"
    status = "within tolerance" if km_within(abs(diff), tol) else "differs"
    return status, diff, f"tolerance {tol:.2f} pp"


def _compare_mean(pub, raw, rep, fields, diff: float) -> tuple[str, float, str]:
    """A mean with its dispersion: exact at the printed precision, or within the dispersion."""
    if all(_agrees(float(pub[f]), float(rep[f]), printed_decimals(raw.get(f))) for f in fields):
        return "exact", diff, ""
    disp = float(pub["dispersion"]) if not _isnan(pub.get("dispersion")) else float("nan")
    if not math.isnan(disp) and abs(diff) <= disp:
        return "within tolerance", diff, "mean within the printed dispersion"
    return "differs", diff, ""


def _compare_fields(pub, raw, rep, fields, diff: float) -> tuple[str, float, str]:
    """Every other claim: each field equal at its printed precision (a proportion by its counts,
    with a note when the printed percent is not their ratio)."""
    notes = []
    agree = [(_agrees(float(pub[f]), float(rep[f]), printed_decimals(raw.get(f)))) for f in fields]
    if pub["kind"] == "proportion" and all(agree[:2 if "N" in fields else 1]):
        pct_ok = _isnan(pub.get("percent")) or _isnan(rep.get("percent")) or _agrees(
            float(pub["percent"]), float(rep["percent"]), printed_decimals(raw.get("percent")))
        if not pct_ok:
            notes.append(f"counts equal; printed percent {pub['percent']} is not their "
                         f"ratio {float(rep['percent']):.2f} (see the audit)")
        return "exact", diff, "; ".join(notes)
    return ("exact" if all(agree) else "differs"), diff, "; ".join(notes)


def _main_field(pub: pd.Series) -> str:
    fields = [f for f in PRIMARY.get(pub["kind"], ("value",)) if not _isnan(pub.get(f))]
    return fields[0] if fields else "value"


def _isnan(x) -> bool:
    if x is None:
        return True
    if isinstance(x, str):
        return x.strip() == ""
    try:
        return bool(pd.isna(x))  # NaN, None and pandas' NA (nullable integer columns)
    except (TypeError, ValueError):
        return False


def build_scorecard(claims: pd.DataFrame, raw_claims: pd.DataFrame,
                    reproduced: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: published, reproduced, difference, status, basis, where reproduced.

    ``reproduced`` is indexed by claim id (from :func:`cart19.comparison.reproduce.reproduce_all`), with the
    numeric fields of claims.csv plus ``basis``, ``chapter``, ``tolerance`` and ``reason``.
    Besides the contract's columns: ``scale`` (``log`` for hazard ratios and their CIs, whose
    difference is ln(reproduced/published)), ``orientation`` (whose hazard relative to whose the
    printed ratio is), ``variant`` (which Prism HR) and ``quantity_key`` (claims printing the same
    quantity share it).
    """
    rows = []
    rep_idx = reproduced.set_index("id") if "id" in reproduced.columns else reproduced
    raw_idx = raw_claims.set_index("id")
    empty = pd.Series(dtype=object)
    for _, pub in claims.iterrows():
        cid = pub["id"]
        rep = rep_idx.loc[cid] if cid in rep_idx.index else empty
        status, diff, note = compare_claim(pub, raw_idx.loc[cid], rep)
        main = _main_field(pub)
        rows.append({
            "id": cid, "source": pub["source"], "kind": pub["kind"], "quantity": pub["quantity"],
            "printed": pub["printed"], "field": main,
            "published": None if _isnan(pub.get(main)) else float(pub[main]),
            "reproduced": None if _isnan(rep.get(main)) else float(rep[main]),
            "difference": diff, "status": status,
            "basis": rep.get("basis") if isinstance(rep.get("basis"), str) else "not applicable",
            "chapter": rep.get("chapter") if isinstance(rep.get("chapter"), str) else "",
            "note": note,
            "scale": "log" if pub["kind"] in ("hr", "ci") else "",
            "orientation": rep.get("orientation") if isinstance(rep.get("orientation"), str) else "",
            "variant": VARIANT_LABELS.get(rep.get("variant"), "") if isinstance(rep.get("variant"), str)
            else "",
            "quantity_key": rep.get("quantity_key") if isinstance(rep.get("quantity_key"), str)
            else cid,
        })
    out = pd.DataFrame(rows)
    if status_missing := set(out["status"]) - set(STATUSES):
        raise AssertionError(f"unknown status {status_missing}")
    return out


def summarise(card: pd.DataFrame, by: str = "source") -> pd.DataFrame:
    """Counts of each status by table/figure/section (the "Reproduction scorecard" page)."""
    tab = pd.crosstab(card[by], card["status"]).reindex(columns=list(STATUSES), fill_value=0)
    tab["total"] = tab.sum(axis=1)
    return tab


@dataclass(frozen=True)
class Result:
    """One reproduction of the whole paper: every page shows a slice of it."""
    claims: pd.DataFrame       #: the published record (load_claims)
    raw: pd.DataFrame          #: the record as text (printed decimals)
    cohort: pd.DataFrame       #: the reconstructed cohort
    reproduced: pd.DataFrame   #: reproduce_all's rows (claims.csv fields, basis, chapter, key)
    card: pd.DataFrame         #: build_scorecard's rows


def _stamp(path) -> tuple[str, int]:
    p = Path(path)
    return str(p.resolve()), p.stat().st_mtime_ns if p.exists() else 0


@lru_cache(maxsize=4)
def _compute(claims_key, cohort_key, inputs) -> Result:
    from cart19.cohort.schema import load_cohort
    from cart19.cohort.validate import not_infused_beside
    from cart19.comparison.reproduce import reproduce_all
    from cart19.record.claims import load_claims

    claims_path, cohort_path = claims_key[0], cohort_key[0]

    def compute() -> Result:
        claims = load_claims(claims_path)
        raw = pd.read_csv(claims_path, dtype=str, keep_default_na=False)
        cohort = load_cohort(cohort_path)
        reproduced = reproduce_all(cohort, claims, not_infused_beside(cohort_path))
        return Result(claims, raw, cohort, reproduced, build_scorecard(claims, raw, reproduced))

    # on disk too: the book's kernels share one reproduction (cart19.comparison.memo)
    return memo.cached([claims_path, cohort_path, *(i[0] for i in inputs)], compute)


def compute_all(claims_path=None, cohort_path=None) -> Result:
    """Load the record and the cohort, reproduce every claim of the paper at once, compare.

    Cached per state of the input files (claims, cohort, the not-infused patients beside it, the
    design and the readings), so every chapter of one kernel shares the one result; the frames
    returned are copies."""
    from cart19.record import design, readings
    claims_path = claims_path or paths.CLAIMS_CSV
    cohort_path = cohort_path or paths.COHORT_CSV
    inputs = tuple(_stamp(p) for p in (Path(cohort_path).with_name("not_infused.csv"),
                                       design.DESIGN_YML, readings.READINGS_CSV))
    r = _compute(_stamp(claims_path), _stamp(cohort_path), inputs)
    return Result(*(x.copy() for x in (r.claims, r.raw, r.cohort, r.reproduced, r.card)))


def compute(claims_path=None, cohort_path=None) -> pd.DataFrame:
    """The scorecard of the whole paper (:func:`compute_all`'s card)."""
    return compute_all(claims_path, cohort_path).card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cart19 scorecard",
                                 description="Every published claim with its reproduced value.")
    ap.add_argument("--json", action="store_true", help="print every claim as JSON")
    ap.add_argument("--claims", default=None, help="claims.csv (default data/published/claims.csv)")
    ap.add_argument("--cohort", default=None, help="cohort.csv (default data/cohort/cohort.csv)")
    args = ap.parse_args(argv)
    card = compute(args.claims, args.cohort)
    if args.json:
        # 15 significant digits: the default (10 decimals) prints a P of 8.9e-10 as 9e-10
        records = json.loads(card.to_json(orient="records", double_precision=15))
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        with pd.option_context("display.width", 160, "display.max_rows", 200):
            print(summarise(card).to_string())
            print()
            print(card["status"].value_counts().to_string())
    return 0
