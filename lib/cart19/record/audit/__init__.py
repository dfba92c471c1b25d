"""Automated consistency audit of the numbers published in Zhang et al., Blood Adv 2020.

``run_audit(claims)`` takes the published record (``data/published/claims.csv``, read by
:func:`cart19.record.claims.load_claims`) and returns one row per check:

========== ============================================================================
column     meaning
========== ============================================================================
check_id   stable id (pinned in ``tests/fixtures/audit_verdicts.json``)
category   one of :data:`CATEGORIES`
claims     the claim ids involved, ``;``-separated
published  what the paper prints (compact)
recomputed what we compute from other printed numbers
verdict    one of :data:`VERDICTS`
explanation plain English; for an inconsistency, what the likely reading is
========== ============================================================================

Verdicts: ``consistent`` (reproduced at the printed precision), ``minor rounding`` (off by
at most one unit of the last printed digit, or reproduced only by truncation / within the
rounding of the inputs), ``inconsistent`` (two printed numbers contradict each other),
``not reproduced`` (a P value that none of the candidate tests gives), ``not checkable``
(the claims needed are missing or the check has no determinate answer).

The checks serve Tables 1-5, the captions of Figures 2-7, the Abstract, Results and
Discussion. ``adopted_readings()`` loads ``data/published/readings.csv``: which reading the
reconstruction adopts wherever the paper contradicts itself.

CLI: ``python -m cart19 audit [--json] [--claims PATH] [--readings PATH]``.

The checks live in one module per family: :mod:`~cart19.record.audit.counts` (percentages,
sums, the same count across sources, labels), :mod:`~cart19.record.audit.pvalues`,
:mod:`~cart19.record.audit.hazards`, :mod:`~cart19.record.audit.text` and
:mod:`~cart19.record.audit.bounds` (bounds and significance markers); their shared parts in
:mod:`~cart19.record.audit.base`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from cart19 import paths
from cart19.record import readings
from cart19.record.audit.base import CATEGORIES, COLUMNS, VERDICTS, Claims, Out, fp
from cart19.record.audit.bounds import bounds_checks, marker_checks
from cart19.record.audit.counts import (
    label_checks,
    percent_checks,
    same_count_checks,
    sum_checks,
)
from cart19.record.audit.hazards import hr_checks
from cart19.record.audit.pvalues import p_checks, ttest_checks
from cart19.record.audit.text import text_checks

__all__ = ["CATEGORIES", "COLUMNS", "READINGS_CSV", "READING_COLUMNS", "VERDICTS",
           "adopted_readings", "fp", "main", "run_audit", "summary", "tests_used"]


# =========================================================================== main

def run_audit(claims: pd.DataFrame) -> pd.DataFrame:
    """Run every consistency check on the published record (one row per check).

    ``claims`` is the frame of :func:`cart19.record.claims.load_claims`. Checks whose claims are
    absent come back as ``not checkable`` naming the missing ids, so a partial record still
    audits. Columns: :data:`COLUMNS` plus ``tests`` (which tests reproduce a P, if any).
    """
    c = Claims(claims)
    out = Out()
    for fn in (percent_checks, sum_checks, same_count_checks, bounds_checks, label_checks,
               p_checks, ttest_checks, hr_checks, text_checks, marker_checks):
        before = len(out.rows)
        try:
            fn(c, out)
        except (TypeError, ValueError, ArithmeticError) as exc:
            # a value that a check needs is empty in the record: report it as a check row
            # (visible in the summary and in the pinned verdicts) instead of losing the audit
            del out.rows[before:]
            out.add(f"error.{fn.__name__.strip('_')}", "bounds", [claims["id"].iloc[0]], "",
                    "", "not checkable",
                    f"the family {fn.__name__.strip('_')} could not run on this record "
                    f"({type(exc).__name__}: {exc}); some value it needs is empty.")
    res = pd.DataFrame(out.rows)
    if "tests" not in res:
        res["tests"] = ""
    res["tests"] = res["tests"].fillna("")
    dup = res["check_id"][res["check_id"].duplicated()]
    if len(dup):
        raise RuntimeError(f"duplicate check ids: {sorted(set(dup))}")
    return res[COLUMNS + ["tests"]].reset_index(drop=True)


def summary(audit: pd.DataFrame) -> pd.DataFrame:
    """Checks per category and verdict (rows: categories in :data:`CATEGORIES` order)."""
    t = pd.crosstab(audit["category"], audit["verdict"])
    t = t.reindex(index=[k for k in CATEGORIES if k in t.index],
                  columns=[v for v in VERDICTS], fill_value=0)
    t.insert(0, "checks", t.sum(axis=1))
    t.index = [CATEGORIES[k] for k in t.index]
    t.index.name = "category"
    t.loc["total"] = t.sum()
    return t


def tests_used(audit: pd.DataFrame) -> pd.DataFrame:
    """For each table, how many printed P values each test reproduces (Tables 3 and 4)."""
    rows = []
    for table, pat in (("Table 3 (CR, CRS, neurotoxicity)", r"^p\.table3\.(cr|crs34|neuro23)\."),
                       ("Table 3 (CAR T-cell peak)", r"^p\.table3\.carpeak\."),
                       ("Table 4", r"^p\.table4\."), ("text", r"^p\.text\.")):
        sub = audit[audit["check_id"].str.match(pat)]
        counts = {}
        for t in sub["tests"]:
            for name in filter(None, str(t).split(",")):
                counts[name] = counts.get(name, 0) + 1
        only = {}
        for t in sub["tests"]:
            names = [x for x in str(t).split(",") if x]
            if len(names) == 1:
                only[names[0]] = only.get(names[0], 0) + 1
        rows.append(dict(table=table, p_values=len(sub),
                         reproduced=int((sub["tests"] != "").sum()),
                         **{f"by {k}": v for k, v in sorted(counts.items())},
                         **{f"only {k}": v for k, v in sorted(only.items())}))
    df = pd.DataFrame(rows).fillna(0)
    num = [c for c in df.columns if c != "table"]
    df[num] = df[num].astype(int)
    return df[["table", "p_values", "reproduced"] + sorted(c for c in num if c.startswith("by "))
              + sorted(c for c in num if c.startswith("only "))]


# =========================================================================== readings

READINGS_CSV = readings.READINGS_CSV
READING_COLUMNS = readings.COLUMNS


def adopted_readings(path: str | Path = READINGS_CSV,
                     claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """The registry of readings (:func:`cart19.record.readings.load`), checked against
    ``claims``."""
    return readings.load(path, claims)


# =========================================================================== CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cart19 audit",
                                 description="Consistency audit of the published numbers.")
    ap.add_argument("--json", action="store_true", help="print every check as a JSON list")
    ap.add_argument("--claims", default=str(paths.CLAIMS_CSV), help="path of claims.csv")
    ap.add_argument("--readings", default=None,
                    help="also validate this readings.csv (default: the project's)")
    args = ap.parse_args(argv)
    from cart19.record.claims import load_claims
    claims = load_claims(args.claims)
    audit = run_audit(claims)
    if args.readings:
        adopted_readings(args.readings, claims)
    if args.json:
        recs = audit.rename(columns={"check_id": "id"})[
            ["id", "category", "claims", "published", "recomputed", "verdict", "explanation"]]
        recs = recs.assign(claims=recs["claims"].str.split(";"))
        json.dump(recs.to_dict("records"), sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    tab = summary(audit)
    print(f"Audit of {len(claims)} published numbers: {len(audit)} checks\n")
    print(tab.to_string())
    bad = audit[audit["verdict"].isin(["inconsistent", "not reproduced"])]
    print(f"\n{len(bad)} inconsistent or not reproduced:")
    for _, r in bad.iterrows():
        print(f"- [{r['verdict']}] {r['check_id']}: {r['explanation']}")
    return 0
