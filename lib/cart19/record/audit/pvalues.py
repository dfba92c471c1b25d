"""P values: 2x2 / r x c comparisons recomputed from printed counts with every crosstab test
SPSS prints, and the CAR T-cell peak t-tests from printed means and dispersions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.record.audit.base import (
    TEST_NAMES,
    Claims,
    Out,
    fp,
    implied_count,
    need,
    t3_factors,
    t3_outcomes,
    t4_arm_totals,
    t4_both_arms,
    t4_characteristics,
)
from cart19.stats import printed as S

# =========================================================================== P values

def _p_contingency(c, out, check_id, ids, table, p_id, label, extra="", alt=None):
    """Recompute one P from counts with all tests; verdict by reproduction."""
    pt = c.p_text(p_id)
    if pt is None:
        out.add(check_id, "p_contingency", ids + [p_id], "", "", "not checkable", "no P printed")
        return
    ptxt, cmp = pt
    res = S.contingency_tests(table)
    repro = S.reproducing_tests(res, ptxt, cmp)
    printed = f"{label}: P {'=' if cmp == '=' else cmp} {ptxt}"
    rec = "; ".join(f"{TEST_NAMES[k]} {fp(v)}" for k, v in res.items() if np.isfinite(v))
    if repro:
        expl = (f"Reproduced by {', '.join(TEST_NAMES[k] for k in repro)} "
                f"({rec}).")
        verdict = "consistent"
    else:
        expl = f"None of the SPSS crosstab tests gives {cmp if cmp != '=' else ''}{ptxt} ({rec})."
        verdict = "not reproduced"
        if alt is not None:
            alt_table, alt_label = alt
            r2 = S.contingency_tests(alt_table)
            rep2 = S.reproducing_tests(r2, ptxt, cmp)
            expl += (f" Under the alternative reading {alt_label}: "
                     + "; ".join(f"{TEST_NAMES[k]} {fp(v)}" for k, v in r2.items()
                                 if np.isfinite(v))
                     + (f" - reproduced by {', '.join(TEST_NAMES[k] for k in rep2)}." if rep2
                        else " - still not reproduced."))
    out.add(check_id, "p_contingency", ids + [p_id], printed, rec, verdict,
            (expl + " " + extra).strip())
    out.rows[-1]["tests"] = ",".join(repro)


def p_checks(c: Claims, out: Out) -> None:
    _table3_p_checks(c, out)
    _table4_p_checks(c, out)


def _table3_pair(c: Claims, out: Out, cid: str, o: str, f: str, pid: str, where: str = "") -> None:
    """One Table 3 comparison (outcome ``o`` across factor ``f``) recomputed from its counts."""
    l1, l2 = t3_factors()[f]
    a, b = f"table3.{o}.{f}.{l1}", f"table3.{o}.{f}.{l2}"
    if not need(out, c, cid, "p_contingency", [a, b, pid]):
        return
    k1, n1, k2, n2 = c.int(a), c.int(a, "N"), c.int(b), c.int(b, "N")
    if None in (k1, n1, k2, n2):
        out.add(cid, "p_contingency", [a, b, pid], "", "", "not checkable",
                "a count or denominator of the comparison is not in the record")
        return
    _p_contingency(c, out, cid, [a, b], S.table_from_counts(k1, n1, k2, n2), pid,
                   f"{t3_outcomes()[o]} {k1}/{n1} vs {k2}/{n2}{where}")


def _table3_p_checks(c: Claims, out: Out) -> None:
    """Table 3 and its comparisons printed again in the text."""
    for o in t3_outcomes():
        for f in t3_factors():
            _table3_pair(c, out, f"p.table3.{o}.{f}", o, f, f"table3.{o}.{f}.p")
    # the same comparisons printed in the text
    for cid, pid, o, f in [
        ("p.text.results.cr.blasts20", "results.cr.blasts20.p", "cr", "blasts20"),
        ("p.text.discussion.cr.blasts20", "discussion.cr.blasts20.p", "cr", "blasts20"),
        ("p.text.results.cr.blasts5", "results.cr.blasts5.p", "cr", "blasts5"),
        ("p.text.discussion.crs34.costim", "discussion.crs34.costim.p", "crs34", "costim"),
        ("p.text.discussion.neuro23.costim", "discussion.neuro23.costim.p", "neuro23", "costim"),
    ]:
        _table3_pair(c, out, cid, o, f, pid, " (text)")
    # CNS leukemia: counts derived from the printed rates (13/17 and 89/93)
    for cid, pid in (("p.text.results.cns_cr", "results.cns.cr_rate.p"),
                     ("p.text.discussion.cns_cr", "discussion.cns.cr_rate.p")):
        ids = ["table1.emd.cns", "results.cns.cr_rate", "results.cr_day30", "table1.n", pid]
        if not need(out, c, cid, "p_contingency", ids):
            continue
        k_cns = implied_count(c.text("results.cns.cr_rate", "percent"), c.int("table1.emd.cns"))
        if k_cns is None:
            out.add(cid, "p_contingency", ids, "", "", "not checkable",
                    "no count reproduces the printed CNS CR rate")
            continue
        n_cns, cr, tot = c.int("table1.emd.cns"), c.int("results.cr_day30"), c.int("table1.n")
        _p_contingency(c, out, cid, ids[:-1],
                       S.table_from_counts(k_cns, n_cns, cr - k_cns, tot - n_cns), pid,
                       f"CR with vs without CNS leukemia {k_cns}/{n_cns} vs "
                       f"{cr - k_cns}/{tot - n_cns} (derived)",
                       extra=f"Counts derived: the only count of {n_cns} giving "
                             f"{c.text('results.cns.cr_rate', 'percent')}% is {k_cns}; the "
                             f"rest of the {cr} CR among the other {tot - n_cns} patients.")


def _table4_p_checks(c: Claims, out: Out) -> None:
    """Table 4."""
    # ---- Table 4
    for ch in t4_both_arms():
        levels = t4_characteristics()[ch]
        ids = [f"table4.{ch}.{lv}.{arm}" for lv in levels for arm in ("hsct", "no_hsct")]
        pid = f"table4.{ch}.p"
        cid = f"p.table4.{ch}"
        if not need(out, c, cid, "p_contingency", ids + [pid]):
            continue
        cells = [[c.int(f"table4.{ch}.{lv}.hsct"), c.int(f"table4.{ch}.{lv}.no_hsct")]
                 for lv in levels]
        if any(x is None for r in cells for x in r):
            out.add(cid, "p_contingency", ids + [pid], "", "", "not checkable",
                    "a cell of the table is not in the record")
            continue
        table = np.array(cells)
        label = f"Table 4 {ch} " + ", ".join(f"{lv} {r[0]}/{r[1]}" for lv, r in
                                             zip(levels, table))
        alt = None
        alt = _table4_alternative(c, ch, table)
        _p_contingency(c, out, cid, ids, table, pid, label, alt=alt)
        if ch == "response" and out.rows[-1]["verdict"] == "consistent":
            r2 = S.contingency_tests([[31, 10], [44, 17]])
            out.rows[-1]["explanation"] += (
                f" Note: the printed '.7' is also what Pearson gives ({fp(r2['pearson'])}) if the "
                "bridged arm were 31 CR / 44 CRi, which would make 61 CRi in all as in Figure 4.")


# =========================================================================== CAR T-cell peak

def _table4_alternative(c: Claims, ch: str, table: np.ndarray):
    """The reading of a Table 4 crosstab that the audit tries beside the printed one, or None:
    the not-bridged 'Unknown' karyotypes as the arm's remainder, the bridged arm's CRi as the rest
    of the CRi count of Figure 4, the CRS table with the arms as rows."""
    arms = t4_arm_totals()
    if ch == "complex_karyotype" and c.has(arms["no_hsct"]):
        t2 = table.copy()
        t2[2, 1] = c.int(arms["no_hsct"]) - t2[0, 1] - t2[1, 1]
        return t2, f"unknown = {t2[2, 1]} in the not-bridged arm"
    if ch == "response" and c.has(arms["hsct"], "fig4.cri"):
        cri_all = c.int("fig4.cri")
        cri = cri_all - int(table[1, 1])
        cr = c.int(arms["hsct"]) - cri
        return (np.array([[cr, table[0, 1]], [cri, table[1, 1]]]),
                f"bridged arm {cr} CR / {cri} CRi ({cri_all} CRi in all)")
    if ch == "crs":
        return table.T, "arms as rows (same table)"
    return None


def _carpeak(c, f, lv):
    cid = f"table3.carpeak.{f}.{lv}"
    return (c.val(cid, "mean"), c.val(cid, "dispersion"), c.int(f"table3.cr.{f}.{lv}", "N"),
            c.text(cid, "mean"), c.text(cid, "dispersion"))


def _ttest_box(m1t, s1t, n1, m2t, s2t, n2, reading):
    """Range of the P over every mean/dispersion that rounds to the printed text."""
    boxes = [S._rounding_box(t) for t in (m1t, s1t, m2t, s2t)]
    ps = []
    for m1 in boxes[0]:
        for s1 in boxes[1]:
            for m2 in boxes[2]:
                for s2 in boxes[3]:
                    disp, ev = reading.split("_")
                    ps.append(S.ttest_from_summary(m1, s1, n1, m2, s2, n2, disp,
                                                   ev == "student"))
    return min(ps), max(ps)


def ttest_checks(c: Claims, out: Out) -> None:
    _table3_ttests(c, out)
    _carpeak_text_checks(c, out)


def _table3_ttests(c: Claims, out: Out) -> None:
    """Table 3: the CAR T-cell peak P values from the printed means and dispersions."""
    pooled = {}
    for f, (l1, l2) in t3_factors().items():
        ids = [f"table3.carpeak.{f}.{l1}", f"table3.carpeak.{f}.{l2}", f"table3.carpeak.{f}.p",
               f"table3.cr.{f}.{l1}", f"table3.cr.{f}.{l2}"]
        cid = f"p.table3.carpeak.{f}"
        if not need(out, c, cid, "p_ttest", ids):
            continue
        m1, s1, n1, m1t, s1t = _carpeak(c, f, l1)
        m2, s2, n2, m2t, s2t = _carpeak(c, f, l2)
        if None in (m1, s1, n1, m2, s2, n2) or c.p_text(ids[2]) is None:
            out.add(cid, "p_ttest", ids, "", "", "not checkable",
                    "a mean, dispersion, group size or P is not in the record")
            continue
        ptxt, cmp = c.p_text(ids[2])
        res = S.ttest_readings(m1, s1, n1, m2, s2, n2)
        repro = [k for k, v in res.items() if S.p_matches(v, ptxt, cmp)]
        rec = "; ".join(f"{k.replace('_', ' ')} {fp(v)}" for k, v in res.items())
        pub = f"{m1t} ± {s1t} (n={n1}) vs {m2t} ± {s2t} (n={n2}), P = {ptxt}"
        if repro:
            verdict = "consistent"
            expl = (f"Reproduced by: {', '.join(r.replace('_', ' + ') for r in repro)} ({rec}). "
                    "Read as SD the difference would be overwhelmingly significant, so the "
                    "printed '± SD' is a standard error.")
        else:
            inbox = [r for r in res if S.intervals_overlap(_ttest_box(m1t, s1t, n1, m2t, s2t, n2, r),
                                                           S.p_interval(ptxt, cmp))]
            if inbox:
                verdict = "minor rounding"
                expl = (f"No reading reproduces {ptxt} from the printed values exactly ({rec}), "
                        f"but {', '.join(r.replace('_', ' + ') for r in inbox)} does within the "
                        "rounding of the printed means and dispersions.")
            else:
                verdict = "not reproduced"
                expl = f"No reading reproduces {ptxt} ({rec})."
        out.add(cid, "p_ttest", ids, pub, rec, verdict, expl)
        out.rows[-1]["tests"] = ",".join(repro)
        sd1, sd2 = S.sd_from_se(s1, n1), S.sd_from_se(s2, n2)
        pooled[f] = (S.pooled_mean_sd([(n1, m1, sd1), (n2, m2, sd2)]),
                     S.pooled_mean_sd([(n1, m1, s1), (n2, m2, s2)]), ids[:2])
    if not pooled:
        return
    # every factor splits the same patients: the overall mean must agree
    n_all = c.int("table3.n")
    means = pd.Series({f: v[0][0] for f, v in pooled.items()})
    consensus = float(means.median())
    for f, ((m, sd), _, ids) in pooled.items():
        d = m - consensus
        ok = abs(d) <= 0.01   # each factor's overall mean carries +/-.005 from rounding
        out.add(f"carpeak.overall_mean.{f}", "carpeak", ids, f"overall mean via {f}: {m:.3f}",
                f"median over factors {consensus:.3f}", "consistent" if ok else "inconsistent",
                f"Weighting the two {f} group means by their sizes gives an overall CAR T-cell "
                f"peak mean of {m:.3f}%, {'within rounding of' if ok else f'{abs(d):.3f} points from'}"
                f" the {consensus:.3f}% that the other factors give."
                + ("" if ok else " Reading: the group means or sizes of this row are not those "
                   f"of the {n_all} patients (e.g. a few missing peak values); a small "
                   "discrepancy."))
    sds = pd.Series({f: v[0][1] for f, v in pooled.items()})
    sds_sd = pd.Series({f: v[1][1] for f, v in pooled.items()})
    ids = [i for v in pooled.values() for i in v[2]]
    out.add("carpeak.dispersion_label", "carpeak", ids, "'% ± SD' (Table 3 header)",
            f"SE reading: overall SD {sds.min():.2f}-{sds.max():.2f}; SD reading: "
            f"{sds_sd.min():.2f}-{sds_sd.max():.2f}", "inconsistent",
            f"Table 3 labels the dispersion SD, but read as SD the ten splits of the same {n_all} "
            f"patients imply overall SDs from {sds_sd.min():.2f} to {sds_sd.max():.2f} (and the "
            f"t-tests would give P far below the printed values), whereas read as standard errors "
            f"every split implies an overall SD of {sds.min():.2f}-{sds.max():.2f}, plausible for "
            f"a peak ranging 0.1-90.6% with median 23.9%. Reading: '± SD' is '± SE'.")


def _carpeak_text_checks(c: Claims, out: Out) -> None:
    """The CAR T-cell peak means printed in the text against Table 3."""
    # text means vs table
    for f, lv in (("blasts5", "ge5"), ("blasts5", "lt5"), ("costim", "41bb"), ("costim", "cd28"),
                  ("emd", "with"), ("emd", "without")):
        t, r = f"table3.carpeak.{f}.{lv}", f"results.carpeak.{f}.{lv}"
        cid = f"text.carpeak.{f}.{lv}"
        if not need(out, c, cid, "text_vs_source", [t, r]):
            continue
        if None in [c.val(i, k) for i in (t, r) for k in ("mean", "dispersion")]:
            out.add(cid, "text_vs_source", [t, r], "", "", "not checkable",
                    "a mean or dispersion is not in the record")
            continue
        ok = all(S.round_decimal(S.to_decimal(c.text(t, k)), S.decimals_of(c.text(r, k)))
                 == S.to_decimal(c.text(r, k)) for k in ("mean", "dispersion"))
        out.add(cid, "text_vs_source", [t, r], f"text {c.text(r, 'mean')} ± {c.text(r, 'dispersion')}",
                f"Table 3 {c.text(t, 'mean')} ± {c.text(t, 'dispersion')}",
                "consistent" if ok else "inconsistent",
                "The Results round Table 3's mean and dispersion correctly." if ok else
                "The Results do not round Table 3's values.")
