"""The audit's P-value tables: which candidate test gives each printed P value (Zhang et al. 2020,
Tables 3 and 4 and the Results' comparisons; :mod:`cart19.record.audit`).
"""
from __future__ import annotations

import re

import pandas as pd

from cart19.presentation import journal as J

#: the audit's candidate tests, as a reader names them (keys of cart19.record.audit.tests_used)
TEST_NAMES = {"pearson": "Pearson chi-square", "yates": "Chi-square with Yates' correction",
              "fisher": "Fisher's exact test", "likelihood_ratio": "Likelihood-ratio (G) test",
              "linear_by_linear": "Linear-by-linear association",
              "se_student": "Student's t (dispersion read as SE)",
              "se_welch": "Welch's t (dispersion read as SE)"}


def audit_tests_table(used: pd.DataFrame) -> J.JournalTable:
    """:func:`cart19.record.audit.tests_used` turned so that it fits a page: one row per candidate
    test, and for each group of printed P values (the table spanners) how many that test gives
    ("gives it") and how many only that test gives ("only it")."""
    groups = list(used["table"])
    tests = [t for t in TEST_NAMES if f"by {t}" in used.columns or f"only {t}" in used.columns]
    rows = [{"test": "Printed P values", **{f"{g}|by": int(r["p_values"]) for g, (_, r) in
                                             zip(groups, used.iterrows())}},
            {"test": "reproduced by some test", **{f"{g}|by": int(r["reproduced"]) for g, (_, r)
                                                    in zip(groups, used.iterrows())}}]
    for t in tests:
        row = {"test": TEST_NAMES[t]}
        for g, (_, r) in zip(groups, used.iterrows()):
            row[f"{g}|by"] = int(r.get(f"by {t}", 0) or 0)
            row[f"{g}|only"] = int(r.get(f"only {t}", 0) or 0)
        rows.append(row)
    frame = pd.DataFrame(rows)
    cells = frame.apply(lambda c: c.map(lambda v: "" if J._missing(v) else J.esc(
        v if isinstance(v, str) else f"{int(v)}")))
    labels = {c: ("gives it" if c.endswith("|by") else "only it") for c in frame.columns if "|" in c}
    spanners = [(J.esc(g), [c for c in (f"{g}|by", f"{g}|only") if c in frame.columns])
                for g in groups]
    data = frame.rename(columns=lambda c: c.replace("|by", ": gives it").replace("|only", ": only it"))
    return J.table(cells, "audit-tests", stub="test", labels=labels, spanners=spanners,
                   align={c: "right" for c in frame.columns if "|" in c}, bold_rows=[0, 1],
                   stubhead="Test", data=data,
                   notes=["A test <i>gives</i> a printed P when it reproduces it at the printed "
                          "precision; <i>only it</i>: no other candidate does."])


_AUDIT_TEST_KEYS = {"Pearson": "pearson", "Yates": "yates", "likelihood-ratio": "likelihood_ratio",
                    "Fisher": "fisher", "linear-by-linear": "linear_by_linear",
                    "sd student": "sd_student", "sd welch": "sd_welch",
                    "se student": "se_student", "se welch": "se_welch"}
_AUDIT_TEST_HEAD = {"pearson": "Pearson", "yates": "Yates", "likelihood_ratio": "G",
                    "fisher": "Fisher", "linear_by_linear": "Linear", "sd_student": "Student",
                    "sd_welch": "Welch", "se_student": "Student", "se_welch": "Welch"}


def audit_p_table(pvals: pd.DataFrame, name: str) -> J.JournalTable:
    """The audit's recomputed P values (checks of one category) with one column per candidate
    test: the printed comparison, the printed P, each test's P (in bold where it gives the
    printed value) and the verdict."""
    rows, data, keys = [], [], []
    for r in pvals.to_dict("records"):
        printed = str(r["published"])
        m = re.match(r"^(.*?)[:,] P = (.+)$", printed)
        comparison, p_printed = (m.group(1), m.group(2)) if m else (printed, "")
        values = {}
        for part in str(r["recomputed"]).split("; "):
            label, _, value = part.rpartition(" ")
            key = _AUDIT_TEST_KEYS.get(label, label)
            values[key] = float(value)
            if key not in keys:
                keys.append(key)
        gives = set(str(r.get("tests") or "").split(","))
        row = {"comparison": J.esc(comparison), "printed": J.esc(p_printed.replace("P ", "")),
               "verdict": J.mark(J.esc(r["verdict"]), r["verdict"] in ("inconsistent",
                                                                        "not reproduced")),
               "check": J._id_cell(r["check_id"])}
        for key, value in values.items():
            text = J.esc(J.fmt_num(value, 4) if value >= 0.0001 else f"{value:.1e}")
            row[key] = f"<b>{text}</b>" if key in gives else text
        rows.append(row)
        data.append({"comparison": comparison, "printed_p": p_printed, **values,
                     "tests_giving_it": r.get("tests"), "verdict": r["verdict"],
                     "check_id": r["check_id"]})
    cols = ["comparison", "printed"] + keys + ["verdict", "check"]
    cells = pd.DataFrame(rows).reindex(columns=cols).fillna("")
    labels = {"comparison": "Comparison", "printed": "Printed <i>P</i>", "verdict": "Verdict",
              "check": '<span style="font-size:11px">Check</span>',
              **{k: _AUDIT_TEST_HEAD.get(k, k) for k in keys}}
    spanners = []
    if any(k.startswith("sd_") for k in keys):
        spanners = [("Dispersion read as SD", [k for k in keys if k.startswith("sd_")]),
                    ("Dispersion read as SE", [k for k in keys if k.startswith("se_")])]
    else:
        spanners = [("<i>P</i> by each candidate test", keys)]
    notes = ["In bold: the tests that give the printed <i>P</i> at its printed precision. "
             + ("G: likelihood-ratio test; Linear: linear-by-linear association; Yates: "
                "chi-square with continuity correction." if "pearson" in keys else
                "Student's and Welch's t-tests from the printed means, dispersions and group "
                "sizes.")]
    return J.table(cells, name, labels=labels, spanners=spanners,
                   align={k: "right" for k in keys + ["printed"]}, notes=notes,
                   data=pd.DataFrame(data), wide=True)
