"""Bounds, medians and derived counts, and significance markers.
"""
from __future__ import annotations

from cart19.record.audit.base import Claims, Out, need
from cart19.stats import printed as S

# =========================================================================== bounds

def _bound(out, c, check_id, ids, ok, pub, rec, expl_ok, expl_bad):
    out.add(check_id, "bounds", ids, pub, rec, "consistent" if ok else "inconsistent",
            expl_ok if ok else expl_bad)


def bounds_checks(c: Claims, out: Out) -> None:
    _table_bounds(c, out)
    _subset_bounds(c, out)
    _median_bounds(c, out)
    _followup_bounds(c, out)


def _table_bounds(c: Claims, out: Out) -> None:
    """Table 4 against Table 1 and the Results: disease status, complex karyotype, grade 3-4 CRS."""
    # Table 4 disease status among CR vs Table 1 disease status among all
    ids = ["table4.status.refractory.hsct", "table4.status.refractory.no_hsct",
           "table4.status.relapsed_chemo.hsct", "table4.status.relapsed_chemo.no_hsct",
           "table4.status.post_hsct.hsct", "table4.status.post_hsct.no_hsct",
           "table1.status.refractory", "table1.status.relapsed", "table1.transplant.post",
           "results.cr_day30", "table1.n"]
    if need(out, c, "bounds.table4_status_vs_table1", "bounds", ids):
        ref = c.int(ids[0]) + c.int(ids[1])
        chemo = c.int(ids[2]) + c.int(ids[3])
        post = c.int(ids[4]) + c.int(ids[5])
        t1r, t1rel, t1post = c.int(ids[6]), c.int(ids[7]), c.int(ids[8])
        nr = c.int("table1.n") - c.int("results.cr_day30")
        miss = (t1r - ref) + (t1rel - t1post - chemo) + (t1post - post)
        ok = ref <= t1r and chemo <= t1rel - t1post and post <= t1post and miss == nr
        _bound(out, c, "bounds.table4_status_vs_table1", ids, ok,
               f"CR: refractory {ref}, relapsed after chemo {chemo}, after HSCT {post}",
               f"Table 1: {t1r}, {t1rel - t1post}, {t1post}",
               f"CR counts by disease status ({ref}, {chemo}, {post}) fit within Table 1's groups "
               f"and leave {t1r - ref} + {t1rel - t1post - chemo} + {t1post - post} = {miss} "
               f"non-responders, the {nr} of the paper.",
               "Table 4's disease-status counts do not fit Table 1.")
    # complex karyotype: Table 1 53 vs Table 4
    ids = ["table1.complex_karyotype", "table4.complex_karyotype.yes.hsct",
           "table4.complex_karyotype.yes.no_hsct", "results.cr_day30", "table1.n"]
    if need(out, c, "bounds.complex_karyotype", "bounds", ids):
        t1, t4 = c.int(ids[0]), c.int(ids[1]) + c.int(ids[2])
        nr = c.int("table1.n") - c.int("results.cr_day30")
        _bound(out, c, "bounds.complex_karyotype", ids, t4 <= t1 <= t4 + nr,
               f"Table 1: {t1}", f"Table 4 (CR): {t4}",
               f"{t4} complex karyotypes among CR patients leave {t1 - t4} among the {nr} "
               f"non-responders (possible{'; exactly all of them' if t1 - t4 == nr else ''}).",
               f"{t1} complex karyotypes cannot hold {t4} among CR patients plus at most {nr}.")
    # Table 4 CRS grade 3-4 among CR vs Table 3 overall
    ids = ["table4.crs.3_4.hsct", "table4.crs.3_4.no_hsct", "results.crs.grade34",
           "results.cr_day30", "table1.n"]
    if need(out, c, "bounds.crs34_cr", "bounds", ids):
        t4 = c.int(ids[0]) + c.int(ids[1])
        tot = c.int(ids[2])
        nr = c.int("table1.n") - c.int("results.cr_day30")
        _bound(out, c, "bounds.crs34_cr", ids, tot - nr <= t4 <= tot, f"Table 4: {t4}",
               f"total {tot}, non-responders {nr}",
               f"{t4} grade 3-4 CRS among CR patients leaves {tot - t4} among the {nr} "
               "non-responders: possible.", "Impossible split of grade 3-4 CRS.")


def _subset_bounds(c: Claims, out: Out) -> None:
    """Subsets printed in the text: the under-dosed, MRD-positive CR, the CD19 split, CNS and
    EMD categories."""
    # under-dosed patients all in CR: must fit in the low-dose CR count
    ids = ["results.dose.below_target.n", "table3.cr.dose.lt3"]
    if need(out, c, "bounds.underdosed_cr", "bounds", ids):
        k, cr = c.int(ids[0]), c.int(ids[1])
        _bound(out, c, "bounds.underdosed_cr", ids, k <= cr, f"{k} under-dosed, all CR",
               f"{cr} CR in the <3e5/kg group", f"The {k} under-dosed patients fit among the {cr} "
               "CR of the low-dose group.", "They do not fit.")
    # MRD+ CR among CNS, all MRD+ bridged
    ids = ["results.cns.mrd_pos", "results.mrd_pos_cr", "results.hsct.mrd_pos"]
    if need(out, c, "bounds.mrd_pos", "bounds", ids):
        a, b, h = c.int(ids[0]), c.int(ids[1]), c.int(ids[2])
        _bound(out, c, "bounds.mrd_pos", ids, a <= b and h <= b, f"{a} CNS, {h} bridged",
               f"of {b}", f"Of the {b} MRD-positive CR patients, {a} had CNS leukemia and {h} were "
               f"bridged{' (all of them)' if h == b else ''}.", "More MRD-positive than exist.")
    # CD19 split without HSCT vs overall
    ids = ["results.no_hsct.relapse.cd19_neg", "results.no_hsct.relapse.cd19_pos",
           "results.relapse.cd19_neg", "results.relapse.cd19_pos", "results.hsct.relapse"]
    if need(out, c, "bounds.cd19_split", "bounds", ids):
        a, b, A, B, h = (c.int(i) for i in ids)
        ok = a <= A and b <= B and (A - a) + (B - b) == h
        _bound(out, c, "bounds.cd19_split", ids, ok, f"without HSCT: {b} CD19+, {a} CD19-",
               f"overall {B} CD19+, {A} CD19-",
               f"Leaves {B - b} CD19+ and {A - a} CD19- relapses after HSCT, summing to the "
               f"{h} printed.", "The CD19 split without HSCT does not fit the totals.")
    # CNS-2 + CNS-3 vs CNS leukemia; EMD categories vs EMD total
    ids = ["table1.emd.cns", "table1.emd.cns2", "table1.emd.cns3", "results.cns.neuro.cns1"]
    if need(out, c, "bounds.cns_status", "bounds", ids):
        cns, c2, c3 = c.int(ids[0]), c.int(ids[1]), c.int(ids[2])
        out.add("bounds.cns_status", "bounds", ids, f"CNS {cns}; CNS-2 {c2} + CNS-3 {c3}",
                f"{cns - c2 - c3} unaccounted", "not checkable",
                f"Table 1 lists {c2} CNS-2 and {c3} CNS-3 among {cns} CNS-leukemia patients; "
                f"the other {cns - c2 - c3} are presumably CNS-1 at infusion (the Results mention "
                "CNS-1 patients among those with CNS leukemia). Table 1 does not say.")
    ids = ["table1.emd.cns", "table1.emd.testicular", "table1.emd.diffuse",
           "table1.emd.single_site", "results.emd.n"]
    if need(out, c, "bounds.emd_categories", "bounds", ids):
        parts = [c.int(i) for i in ids[:4]]
        tot = c.int(ids[4])
        out.add("bounds.emd_categories", "bounds", ids, " + ".join(map(str, parts)) + f" vs {tot}",
                str(sum(parts)), "not checkable" if sum(parts) >= tot else "inconsistent",
                f"Table 1's EMD sites add up to {sum(parts)} against {tot} patients with EMD: at "
                f"least {sum(parts) - tot} patients must have two sites (e.g. CNS and testis); "
                "the table does not say whether the categories overlap.")


def _median_bounds(c: Claims, out: Out) -> None:
    """Each printed median lies in the category the printed counts put it in."""
    # medians inside the right category
    for ck, med, groups, what in [
        ("bounds.median.age", "table1.age", ["table1.age.2_14"], "age 2-14"),
        ("bounds.median.bm_blasts", "table1.bm_blasts",
         ["table1.bm_blasts.lt5", "table1.bm_blasts.5_20"], "BM blasts"),
        ("bounds.median.dose", "results.dose.median", ["table3.cr.dose.lt3"], "dose <3e5/kg"),
    ]:
        ids = [med] + groups + ["table1.n"]
        if not need(out, c, ck, "bounds", ids):
            continue
        N = c.int("table1.n")
        mid = (N + 1) / 2
        m = c.val(med, "median")
        if ck.endswith("bm_blasts"):
            below, upto = c.int(groups[0]), c.int(groups[0]) + c.int(groups[1])
            ok = below < mid <= upto + 0.5 and 5 <= m <= 20
            e = (f"The median {m:g}% lies in 5-20%, so more than {N // 2} patients must be at "
                 f"<= 20% and fewer than {N // 2} below 5%: {below} below 5% and {upto} up to 20%.")
        elif ck.endswith("age"):
            k = c.int(groups[0], "n" if groups[0].startswith("table1") else "N")
            ok = (m <= 14) == (k > N / 2)
            e = f"Median age {m:g} years with {k} of {N} aged 2-14: " + ("fits." if ok else
                                                                          "does not fit.")
        else:
            k = c.int(groups[0], "N")
            ok = (m >= 3e5) == (k < N / 2)
            e = (f"Median dose {m:.0f}/kg with {k} of {N} below 3e5/kg: "
                 + ("fits (the median itself sits at 3e5, so several patients got exactly "
                    "3e5/kg)." if ok else "does not fit."))
        out.add(ck, "bounds", ids, f"median {m:g}", what, "consistent" if ok else "inconsistent",
                e)


def _followup_bounds(c: Claims, out: Out) -> None:
    """Times and durations within the longest follow-up."""
    # time bounds vs follow-up
    ids_f = "results.followup"
    if c.has(ids_f):
        fmax = c.val(ids_f, "max")
        for cid in ("results.hsct.relapse_time", "results.no_hsct.relapse_time",
                    "results.tp53.relapse_time", "results.tp53.death_time",
                    "results.bcr_abl.relapse_time", "results.hsct.day"):
            if c.has(cid):
                mx = c.val(cid, "max")
                _bound(out, c, f"bounds.followup.{cid}", [cid, ids_f], mx <= fmax,
                       f"max {mx:g} days", f"follow-up max {fmax:g} days",
                       f"{mx:g} days is within the longest follow-up ({fmax:g} days).",
                       f"{mx:g} days exceeds the longest follow-up ({fmax:g} days).")
        for cid, extra_days, what in (
                ("results.prior_hsct.mrd_neg_cr.duration", 0, "MRD-negative CR lasting up to"),
                ("results.prior_hsct.second_hsct.dfs1", 36, "disease-free after a second "
                                                            "transplant for")):
            if not c.has(cid):
                continue
            months = c.val(cid, "max") if c.val(cid, "max") is not None else c.val(cid, "value")
            max_months = fmax / (365.25 / 12)
            ok = round(max_months) >= months or months * 365.25 / 12 + extra_days <= fmax
            if extra_days:
                ok = months * 365.25 / 12 + extra_days <= fmax
            out.add(f"bounds.followup.{cid}", "bounds", [cid, ids_f], f"{months:g} months",
                    f"follow-up max {fmax:g} days = {max_months:.1f} months",
                    "consistent" if ok else "inconsistent",
                    f"{what} {months:g} months "
                    + (f"fits a longest follow-up of {max_months:.1f} months (rounded)." if ok else
                       f"is more than the longest follow-up from infusion ({max_months:.1f} "
                       f"months; a second transplant comes at least {extra_days} days after "
                       "infusion). Reading: this follow-up was measured at a later date than the "
                       "cohort's data cut-off; not used as a target."))


# =========================================================================== markers

def marker_checks(c: Claims, out: Out) -> None:
    df = c.df
    rows = df[df["id"].str.match(r"^table[345]\.") & df["p"].notna()]
    for cid in rows.index:
        printed = str(c.val(cid, "printed"))
        ptxt, cmp = c.p_text(cid)
        val = float(S.to_decimal(ptxt))
        star, dag = "*" in printed, "†" in printed
        if cmp == "<":
            should = "†" if val <= 0.01 else ("*" if val <= 0.05 else "")
        else:
            should = "†" if val < 0.01 else ("*" if val < 0.05 else "")
        has = "†" if dag else ("*" if star else "")
        ok = has == should
        out.add(f"marker.{cid}", "markers", [cid], printed.split("|")[-1].strip(),
                should or "none", "consistent" if ok else "inconsistent",
                f"P {cmp} {ptxt} should carry {should or 'no marker'}; it carries "
                f"{has or 'none'}." + ("" if ok else " Reading: the P value is kept, the marker "
                                       "is a typesetting slip."))
