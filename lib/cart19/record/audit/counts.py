"""Counts: percentages of n/N, subgroups summing to totals, the same count across sources,
and Table 3/4 labels.
"""
from __future__ import annotations

import pandas as pd

from cart19.record.audit.base import (
    Claims,
    Out,
    need,
    simplest_fraction,
    t3_factors,
    t3_outcomes,
    t3_totals,
    t4_arm_totals,
    t4_both_arms,
    t4_characteristics,
)
from cart19.stats import printed as S

# =========================================================================== percentages

def percent_checks(c: Claims, out: Out) -> None:
    """Every printed n/N (%) in tables and text: does n/N round to the percent?"""
    df = c.df
    rows = df[df["n"].notna() & df["N"].notna() & df["percent"].notna()]
    for cid, r in rows.iterrows():
        n, N = int(r["n"]), int(r["N"])
        ptxt = c.text(cid, "percent")
        res = S.percent_rounding(n, N, ptxt)
        exact = f"{res['exact']:.3f}%"
        if res["verdict"] == "consistent":
            expl = f"{n}/{N} = {exact} rounds to the printed {ptxt}%."
        elif res["verdict"] == "minor rounding":
            how = ("only truncation (not rounding) gives it" if res["modes"] == ["truncate"]
                   else f"it is {res['units_off']:.2f} units of the last digit away")
            expl = (f"{n}/{N} = {exact} should print as "
                    f"{S.round_decimal(S.exact_percent(n, N), res['decimals'])}; {how}. "
                    "Reading: the count is right, the percentage slightly mis-rounded.")
        else:
            frac = simplest_fraction(ptxt, N)
            expl = (f"{n}/{N} = {exact}, not {ptxt}%"
                    + (f" (the printed value is what {frac} gives)" if frac else "")
                    + ". Reading: the counts are kept, the printed percentage is a misprint.")
        out.add(f"pct.{cid}", "percent", [cid], f"{n}/{N} ({ptxt}%)", exact, res["verdict"],
                expl)


# =========================================================================== sums

def _sum_check(c, out, check_id, parts, total, what, total_value=None, fld_parts="n",
               fld_total="n", reading=""):
    ids = list(parts) + ([total] if total else [])
    if not need(out, c, check_id, "sums", ids):
        return
    vals = [c.int(p, fld_parts) for p in parts]
    if any(v is None for v in vals):
        out.add(check_id, "sums", ids, "", "", "not checkable", "a part has no count")
        return
    tot = total_value if total is None else c.int(total, fld_total)
    s = sum(vals)
    pub = " + ".join(map(str, vals)) + f" vs {tot}"
    if s == tot:
        out.add(check_id, "sums", ids, pub, str(s), "consistent",
                f"{what}: the parts add up to {tot}.")
    else:
        out.add(check_id, "sums", ids, pub, str(s), "inconsistent",
                f"{what}: the parts add up to {s}, not {tot}. {reading}".strip())


def _bm_reading(c: Claims) -> str:
    """Table 1's BM-blast 5-20% row from the other margins and Table 3's splits."""
    ids = ["table1.n", "table1.bm_blasts.lt5", "table1.bm_blasts.gt20", "table1.bm_blasts.5_20",
           "table3.cr.blasts20.le20", "table3.cr.blasts5.ge5"]
    if not c.has(*ids):
        return ""
    n, lt5, gt20, mid = (c.int(i) for i in ids[:4])
    le20, ge5 = c.int(ids[4], "N"), c.int(ids[5], "N")
    a, b, d = n - lt5 - gt20, le20 - lt5, ge5 - gt20
    if a == b == d != mid:
        return (f"Reading: the 5-20% row should be {a}, not {mid} ({n} - {lt5} - {gt20} = {a}; "
                f"Table 3 gives <=20%: {le20} - {lt5} = {b} and >=5%: {ge5} - {gt20} = {d}).")
    return ""


def _table3_n_check(c, out, cid, f, levels, ids) -> None:
    """Table 3 group sizes: equal across the three columns, summing to N."""
    if need(out, c, cid, "sums", ids + ["table3.n"]):
        Ns = {lv: {c.int(f"table3.{o}.{f}.{lv}", "N") for o in t3_outcomes()} for lv in levels}
        if any(None in v for v in Ns.values()):
            out.add(cid, "sums", ids + ["table3.n"], "", "", "not checkable",
                    "a group size is not in the record")
            return
        same = all(len(v) == 1 for v in Ns.values())
        tot = sum(min(v) for v in Ns.values())
        ok = same and tot == c.int("table3.n")
        out.add(cid, "sums", ids + ["table3.n"],
                " + ".join(str(sorted(v)[0]) for v in Ns.values()) + f" vs {c.int('table3.n')}",
                str(tot), "consistent" if ok else "inconsistent",
                f"Table 3 {f}: the group sizes are the same in the three columns and add up "
                f"to {tot}" if ok else f"Table 3 {f}: group sizes {Ns} do not add up to "
                f"{c.int('table3.n')} or differ between columns.")


def sum_checks(c: Claims, out: Out) -> None:
    _table_sums(c, out)
    _text_sums(c, out)


def _table_sums(c: Claims, out: Out) -> None:
    """Tables 1-4: subgroups summing to the tables' totals."""
    # ---- Table 1 margins
    for key, parts, reading in [
        ("sex", ["table1.sex.male", "table1.sex.female"], ""),
        ("age", ["table1.age.2_14", "table1.age.15_61"], ""),
        ("bm_blasts", ["table1.bm_blasts.lt5", "table1.bm_blasts.5_20", "table1.bm_blasts.gt20"],
         _bm_reading(c)),
        ("status", ["table1.status.refractory", "table1.status.relapsed"], ""),
        ("transplant", ["table1.transplant.post", "table1.transplant.none"], ""),
    ]:
        _sum_check(c, out, f"sum.table1.{key}", parts, "table1.n", f"Table 1 {key}",
                   reading=reading)
    # ---- Table 2
    _sum_check(c, out, "sum.table2.relapse_time",
               ["table2.relapse_time.ge18", "table2.relapse_time.lt18"], "table2.n",
               "Table 2 time to relapse")
    _sum_check(c, out, "sum.table2.best_response",
               [f"table2.best_response.{k}" for k in ("cr1", "cr2", "nr")], "table2.n",
               "Table 2 best response before CAR T")
    _sum_check(c, out, "sum.table2.response_after",
               [f"table2.response_after.{k}" for k in ("cr1", "cr2", "nr")], "table3.cr.age.2_14",
               "Table 2 responders after CAR T vs Table 3 CR among ages 2-14")
    for k in ("cr1", "cr2", "nr"):
        a, b = f"table2.response_after.{k}", f"table2.best_response.{k}"
        if need(out, c, f"sum.table2.denominator.{k}", "sums", [a, b]):
            na, nb = c.int(a, "N"), c.int(b)
            out.add(f"sum.table2.denominator.{k}", "sums", [a, b], f"N={na} vs {nb}", str(nb),
                    "consistent" if na == nb else "inconsistent",
                    f"Table 2: the denominator of the response after CAR T ({na}) "
                    f"{'equals' if na == nb else 'differs from'} the group size before ({nb}).")
    # ---- Table 3: N's per factor sum to the cohort and match across columns; outcome counts
    outcomes, totals = t3_outcomes(), t3_totals()
    for f, levels in t3_factors().items():
        ids = [f"table3.{o}.{f}.{lv}" for o in outcomes for lv in levels]
        cid = f"sum.table3.n.{f}"
        _table3_n_check(c, out, cid, f, levels, ids)
        for o in outcomes:
            _sum_check(c, out, f"sum.table3.{o}.{f}", [f"table3.{o}.{f}.{lv}" for lv in levels],
                       totals[o], f"Table 3 {outcomes[o]} by {f} vs the total in the text")
    # ---- Table 4: each arm's levels sum to the arm's size in the text
    arm_totals, both = t4_arm_totals(), t4_both_arms()
    for ch, levels in t4_characteristics().items():
        arms = tuple(arm_totals) if ch in both else ("hsct",)
        for arm in arms:
            total = arm_totals[arm]
            reading = ""
            if ch == "complex_karyotype" and arm == "no_hsct" and c.has(
                    total, *[f"table4.{ch}.{lv}.{arm}" for lv in levels]):
                t = c.int(total)
                y, no = c.int(f"table4.{ch}.yes.{arm}"), c.int(f"table4.{ch}.no.{arm}")
                u = t - y - no
                reading = (f"Reading: the 'Unknown' cell of the not-bridged arm should be "
                           f"{t} - {y} - {no} = {u} ({S.round_decimal(S.exact_percent(u, t), 0)}%)"
                           f", not the printed {c.int(f'table4.{ch}.unknown.{arm}')} "
                           f"({c.text(f'table4.{ch}.unknown.{arm}', 'percent')}%).")
            if ch == "response" and c.has("fig4.cri"):
                k, N = c.int("fig4.cri"), c.int("fig4.cri", "N")
                reading = (f"Reading: Figure 4 gives {k} CRi of {N} "
                           f"({100 * k / N:.1f}%, the Results' '60%'); Table 4's CR/CRi split "
                           "is off by one patient.")
            _sum_check(c, out, f"sum.table4.{ch}.{arm}",
                       [f"table4.{ch}.{lv}.{arm}" for lv in levels], total,
                       f"Table 4 {ch}, {'bridged' if arm == 'hsct' else 'not bridged'} arm",
                       reading=reading if reading and True else "")


def _text_sums(c: Claims, out: Out) -> None:
    """Sums printed in the text."""
    # ---- text sums
    text_sums = [
        ("relapse_cd19", ["results.relapse.cd19_neg", "results.relapse.cd19_pos"],
         "results.relapse.total", "relapses by CD19 status"),
        ("relapse_arms", ["results.hsct.relapse", "results.no_hsct.relapse"],
         "results.relapse.total", "relapses in the bridged and not-bridged arms"),
        ("hsct_relapse_site", ["results.hsct.relapse.bm", "results.hsct.relapse.emd"],
         "results.hsct.relapse", "relapses after HSCT by site"),
        ("hsct_relapse_mrd", ["results.hsct.relapse.mrd_neg", "results.hsct.relapse.mrd_pos"],
         "results.hsct.relapse", "relapses after HSCT by MRD status"),
        ("hsct_mrd", ["results.hsct.mrd_neg", "results.hsct.mrd_pos"], "results.hsct.n",
         "bridged patients by MRD status"),
        ("hsct_deaths", ["results.hsct.deaths.sepsis", "results.hsct.deaths.gvhd",
                         "results.hsct.deaths.relapse"], "results.hsct.deaths",
         "deaths after HSCT by cause"),
        ("tp53_deaths", ["results.tp53.deaths.gvhd", "results.tp53.deaths.infection",
                         "results.tp53.deaths.relapse"], "results.tp53.deaths",
         "deaths among TP53-mutated patients by cause"),
        ("no_hsct_prior", ["results.no_hsct.prior_hsct.early_relapse",
                           "results.no_hsct.prior_hsct.early_death",
                           "results.no_hsct.prior_hsct.other"], "results.no_hsct.prior_hsct.n",
         "reasons for no HSCT, previously transplanted"),
        ("no_hsct_no_prior", ["results.no_hsct.no_prior_hsct.early_relapse",
                              "results.no_hsct.no_prior_hsct.short_followup",
                              "results.no_hsct.no_prior_hsct.other"],
         "results.no_hsct.no_prior_hsct.n", "reasons for no HSCT, not previously transplanted"),
        ("no_hsct_groups", ["results.no_hsct.prior_hsct.n", "results.no_hsct.no_prior_hsct.n"],
         "results.no_hsct.n", "not-bridged patients with and without a previous transplant"),
        ("arms", ["results.hsct.n", "results.no_hsct.n"], "results.cr_day30",
         "bridged + not-bridged vs CR patients"),
        ("mrd", ["results.mrd_neg_cr", "results.mrd_pos_cr"], "results.cr_day30",
         "MRD-negative + MRD-positive CR vs CR"),
        ("crs_grades", ["results.crs.grade12", "results.crs.grade34"], "results.crs.any",
         "CRS grade 1-2 + grade 3-4 vs any CRS"),
        ("crs34", ["results.crs.grade3", "results.crs.grade4"], "results.crs.grade34",
         "grade 3 + grade 4 CRS"),
        ("neuro", ["results.neuro.grade23", "results.neuro.grade1"], "results.neuro.any",
         "neurotoxicity grade 2-3 + grade 1"),
        ("bridging", ["methods.bridging.low", "methods.bridging.intensive"], "methods.bridging",
         "bridging chemotherapy by intensity"),
        ("pbmc_post", ["methods.pbmc.post_hsct.autologous", "methods.pbmc.post_hsct.donor"],
         "table1.transplant.post", "PBMC source after transplant vs Table 1"),
        ("pbmc_all", ["methods.pbmc.no_prior_hsct", "table1.transplant.post"], "table1.n",
         "PBMC sources vs infused"),
        ("bcr_abl_type", ["results.bcr_abl.p190", "results.bcr_abl.p210"], "results.bcr_abl.n",
         "BCR-ABL P190 + P210"),
        ("no_hsct_cd19", ["results.no_hsct.relapse.cd19_pos", "results.no_hsct.relapse.cd19_neg"],
         "results.no_hsct.relapse", "CD19+ and CD19- relapses without HSCT"),
        ("cns_trio", ["results.cns.neuro.cns3", "results.cns.neuro.cns1"], "results.cns.neuro",
         "neurotoxicity among CNS-leukemia patients by CNS status"),
    ]
    for key, parts, total, what in text_sums:
        _sum_check(c, out, f"sum.text.{key}", parts, total, what)
    # enrolment by costimulatory domain: 21 + 21 + 68
    ids = ["methods.costim.initial", "methods.costim.later_41bb", "results.enrolled",
           "results.infused", "table3.cr.costim.cd28", "table3.cr.costim.41bb"]
    if need(out, c, "sum.text.costim_enrolment", "sums", ids):
        a, b = c.int("methods.costim.initial"), c.int("methods.costim.later_41bb")
        enr, inf = c.int("results.enrolled"), c.int("results.infused")
        cd28, bb = c.int("table3.cr.costim.cd28", "N"), c.int("table3.cr.costim.41bb", "N")
        tot = 2 * a + b
        ok_inf = tot == inf and a == cd28 and a + b == bb
        out.add("sum.text.costim_enrolment", "sums", ids,
                f"{a} + {a} + {b} 'enrolled' vs {enr} enrolled", str(tot),
                "inconsistent" if tot != enr else "consistent",
                f"The Methods' {a} CD28 + {a} 4-1BB + {b} later 4-1BB = {tot} patients called "
                f"'enrolled', but {enr} were enrolled and {inf} infused. "
                + (f"Reading: the counts are of infused patients - they match Table 3 "
                   f"(CD28 {cd28}, 4-1BB {bb} = {a} + {b})." if ok_inf else ""))


# =========================================================================== same counts

def _same_count(c, out, check_id, items, what, reading=""):
    """items: list of (label, [ids], field) whose summed field must be equal."""
    ids = [i for _, group, _ in items for i in group]
    if not need(out, c, check_id, "same_count", ids):
        return
    vals = []
    for label, group, fld in items:
        v = [c.int(i, fld) for i in group]
        vals.append((label, None if any(x is None for x in v) else sum(v)))
    got = [v for _, v in vals if v is not None]
    pub = "; ".join(f"{lab} {v}" for lab, v in vals)
    if len(got) < 2:
        out.add(check_id, "same_count", ids, pub, "", "not checkable",
                f"{what}: fewer than two sources carry a value.")
        return
    if len(set(got)) == 1:
        out.add(check_id, "same_count", ids, pub, str(got[0]), "consistent",
                f"{what}: every source gives {got[0]}.")
    else:
        modes = pd.Series(got).mode()
        if len(modes) > 1:
            out.add(check_id, "same_count", ids, pub, "no majority", "inconsistent",
                    f"{what}: the sources disagree (" + ", ".join(f"{lab} {v}" for lab, v in vals)
                    + "). " + reading)
            return
        maj = modes.iloc[0]
        odd = [f"{lab} ({v})" for lab, v in vals if v != maj]
        out.add(check_id, "same_count", ids, pub, f"majority {maj}", "inconsistent",
                f"{what}: most sources give {maj}, but " + ", ".join(odd) + " differ. "
                + (reading or f"Reading: {maj}."))


# sources of a count for SAME_COUNT_GROUPS: (label, claim ids summed, field)
def _n(*ids: str) -> list:
    """Each claim's count."""
    return [(i, [i], "n") for i in ids]


def _N(*ids: str) -> list:
    """Each claim's denominator."""
    return [(i + " (N)", [i], "N") for i in ids]


def _S(label: str, ids, fld: str = "n") -> list:
    """The sum of several claims' counts."""
    return [(label, list(ids), fld)]


def _t4(ch: str, lv: str) -> list:
    """A Table 4 level summed over both arms."""
    return _S(f"table4.{ch}.{lv} (both arms)",
              [f"table4.{ch}.{lv}.hsct", f"table4.{ch}.{lv}.no_hsct"])


#: (key, what, sources): one count, printed in several places
SAME_COUNT_GROUPS = [
    ("infused", "patients infused", _n("title.n_patients", "abstract.infused", "results.infused",
                                      "table1.n", "table3.n", "fig2.n_total",
                                      "results.fig2.n_total", "abstract.os.all.n",
                                      "methods.manufactured")),
    ("enrolled", "patients enrolled", _n("abstract.enrolled", "results.enrolled", "methods.ld.n")
     + _N("methods.bridging", "methods.manufactured")),
    ("cr", "patients in CR on day 30",
     _n("results.cr_day30", "fig2.cr", "fig2.n_cr", "fig2.title.n_cr", "fig4.n_cr",
       "fig4.title.n", "fig5.title.n", "fig6.n", "fig7.n_cr", "discussion.n_cr",
       "results.fig2.n_cr")
     + _N("fig3.hsct.n", "results.hsct.n", "results.relapse.total", "results.mrd_pos_cr",
         "fig4.cri", "fig5.mrd_neg")),
    ("age_2_14", "patients aged 2-14", _n("table1.age.2_14", "table2.n", "results.age.2_14",
                                         "results.peds.n") + _N("table3.cr.age.2_14")),
    ("age_15_61", "patients aged 15-61", _n("table1.age.15_61") + _N("table3.cr.age.15_61")),
    ("male", "male patients", _n("table1.sex.male") + _N("table3.cr.sex.male")),
    ("female", "female patients", _n("table1.sex.female") + _N("table3.cr.sex.female")),
    ("bcr_abl", "BCR-ABL+ patients",
     _n("table1.fusion.bcr_abl", "results.bcr_abl.n", "discussion.bcr_abl.n")
     + _N("table3.cr.bcr_abl.pos", "results.bcr_abl.mrd_neg",
         "results.bcr_abl.molecular_neg.d30", "results.bcr_abl.molecular_neg.d60",
         "results.bcr_abl.relapse")),
    ("bcr_abl_cml", "BCR-ABL+ from CML blast crisis",
     _n("results.bcr_abl.cml_bc", "discussion.bcr_abl.cml_bc")),
    ("tp53", "TP53-mutated patients", _n("table1.mutation.tp53", "results.tp53.n",
                                        "discussion.tp53.n") + _N("results.tp53.cr")),
    ("emd", "patients with EMD", _n("results.emd.n", "discussion.emd.n")
     + _N("table3.cr.emd.with", "discussion.cns.n")),
    ("no_emd", "patients without EMD", _n("results.no_emd.n") + _N("table3.cr.emd.without")),
    ("cns", "patients with CNS leukemia", _n("table1.emd.cns", "discussion.cns.n")
     + _N("results.cns.cns3", "results.cns.neuro")),
    ("cns3", "CNS-3 patients", _n("table1.emd.cns3", "results.cns.cns3", "discussion.cns.cns3")),
    ("prior_hsct", "patients relapsed after allo-HSCT",
     _n("table1.transplant.post", "results.prior_hsct.n", "discussion.prior_hsct.n")
     + _N("results.prior_hsct.cr", "discussion.prior_hsct.cr", "results.prior_hsct.dli",
         "methods.pbmc.post_hsct.autologous")),
    ("no_prior_hsct", "patients without previous transplant",
     _n("table1.transplant.none", "methods.pbmc.no_prior_hsct")),
    ("blasts_gt20", "patients with BM blasts >20%",
     _n("table1.bm_blasts.gt20", "results.blasts20.gt20.n") + _N("table3.cr.blasts20.gt20")),
    ("blasts_lt5", "patients with BM blasts <5%", _n("table1.bm_blasts.lt5")
     + _N("table3.cr.blasts5.lt5")),
    ("blasts_le20", "patients with BM blasts <=20%",
     _S("table1 <5 + 5-20", ["table1.bm_blasts.lt5", "table1.bm_blasts.5_20"])
     + _N("table3.cr.blasts20.le20")),
    ("blasts_ge5", "patients with BM blasts >=5%",
     _S("table1 5-20 + >20", ["table1.bm_blasts.5_20", "table1.bm_blasts.gt20"])
     + _N("table3.cr.blasts5.ge5")),
    ("cd28", "CD28 patients", _n("methods.costim.initial") + _N("table3.cr.costim.cd28")),
    ("41bb", "4-1BB patients", _S("methods 21 + 68", ["methods.costim.initial",
                                                     "methods.costim.later_41bb"])
     + _N("table3.cr.costim.41bb")),
    ("hsct", "patients bridged to HSCT",
     _n("results.hsct.n", "fig3.hsct.n", "abstract.hsct.n")
     + _N("results.hsct.relapse", "discussion.hsct.relapse", "discussion.hsct.trm")),
    ("no_hsct", "patients not bridged", _n("results.no_hsct.n", "fig3.no_hsct.n",
                                          "discussion.no_hsct.n")
     + _N("results.no_hsct.relapse", "discussion.no_hsct.relapse")),
    ("mrd_neg_cr", "MRD-negative CR", _n("results.mrd_neg_cr", "fig5.mrd_neg")),
    ("mrd_pos_cr", "MRD-positive CR",
     _n("results.mrd_pos_cr", "results.fig5.mrd_pos.n", "fig5.mrd_pos.n", "results.hsct.mrd_pos",
       "table4.mrd_pre_hsct.pos.hsct")
     + _N("results.cns.mrd_pos", "results.hsct.relapse.mrd_pos")),
    ("hsct_mrd_neg", "bridged MRD-negative", _n("results.hsct.mrd_neg",
                                               "table4.mrd_pre_hsct.neg.hsct")
     + _N("results.hsct.relapse.mrd_neg")),
    ("relapse", "relapses among CR patients", _n("results.relapse.total")),
    ("hsct_relapse", "relapses after HSCT", _n("results.hsct.relapse", "discussion.hsct.relapse")),
    ("no_hsct_relapse", "relapses without HSCT", _n("results.no_hsct.relapse",
                                                   "discussion.no_hsct.relapse")),
    ("prior_hsct_cr", "CR among previously transplanted",
     _n("results.prior_hsct.cr", "discussion.prior_hsct.cr") + _N("results.prior_hsct.mrd_neg_cr")
     + _t4("status", "post_hsct")),
    ("second_hsct", "second allo-HSCT", _n("results.prior_hsct.second_hsct",
                                          "discussion.prior_hsct.second_hsct",
                                          "table4.status.post_hsct.hsct")),
    ("no_hsct_prior_hsct", "not bridged after previous HSCT",
     _n("results.no_hsct.prior_hsct.n", "table4.status.post_hsct.no_hsct")),
    ("tp53_cr", "CR among TP53-mutated", _n("results.tp53.cr") + _N("results.tp53.relapse")
     + _t4("tp53", "pos")),
    ("bcr_abl_cr", "CR among BCR-ABL+", _n("table3.cr.bcr_abl.pos") + _t4("bcr_abl", "pos")),
    ("bcr_abl_neg_cr", "CR among BCR-ABL-", _n("table3.cr.bcr_abl.neg") + _t4("bcr_abl", "neg")),
    ("male_cr", "CR among males", _n("table3.cr.sex.male") + _t4("sex", "male")),
    ("female_cr", "CR among females", _n("table3.cr.sex.female") + _t4("sex", "female")),
    ("age_2_14_cr", "CR among ages 2-14", _n("table3.cr.age.2_14") + _t4("age", "2_14")),
    ("age_15_61_cr", "CR among ages 15-61", _n("table3.cr.age.15_61") + _t4("age", "15_61")),
    ("blasts_le20_cr", "CR with BM blasts <=20%", _n("table3.cr.blasts20.le20")
     + _t4("bm_blasts", "le20")),
    ("blasts_gt20_cr", "CR with BM blasts >20%", _n("table3.cr.blasts20.gt20")
     + _t4("bm_blasts", "gt20")),
    ("cri", "CRi among CR patients", _n("fig4.cri") + _t4("response", "cri")),
    ("crs34", "grade 3-4 CRS", _n("results.crs.grade34")),
    ("neuro23", "grade 2-3 neurotoxicity", _n("results.neuro.grade23")),
    ("haplo", "haploidentical donors", _n("table4.donor.haplo.hsct")),
]
#: the reading adopted where the sources disagree
SAME_COUNT_READINGS = {
    "blasts_le20": "Reading: Table 1's 5-20% row is a misprint for 24 (then 42 + 24 = 66).",
    "blasts_ge5": "Reading: Table 1's 5-20% row is a misprint for 24 (then 24 + 44 = 68).",
    "cri": ("Reading: the Figure 4 caption's count; the Results' rounded '60%' fits it "
            "(see text.pct.results.cri) and not Table 4's total (see "
            "text.pct.results.cri.table4)."),
    "enrolled": "",
}


def same_count_checks(c: Claims, out: Out) -> None:
    """Each count of :data:`SAME_COUNT_GROUPS` is the same in every source that prints it."""
    for key, what, items in SAME_COUNT_GROUPS:
        if len(items) < 2:
            continue
        _same_count(c, out, f"same.{key}", items, what, SAME_COUNT_READINGS.get(key, ""))


# =========================================================================== labels

def label_checks(c: Claims, out: Out) -> None:
    for f, ref, lvl_true, lvl_other, words in [
        ("tp53", "table1.mutation.tp53", "pos", "neg", ("TP53+", "TP53-")),
        ("prior_hsct", "table1.transplant.post", "post", "none",
         ("Posttransplant relapse", "No previous transplant")),
    ]:
        a, b = f"table3.cr.{f}.{lvl_true}", f"table3.cr.{f}.{lvl_other}"
        cid = f"labels.table3.{f}"
        if not need(out, c, cid, "labels", [a, b, ref]):
            continue
        k = c.int(ref)
        na, nb = c.int(a, "N"), c.int(b, "N")
        if na == k:
            out.add(cid, "labels", [a, b, ref], f"{words[0]} N={na}", f"Table 1: {k}",
                    "consistent", f"The row labelled {words[0]} has N = {k} as in Table 1.")
        elif nb == k:
            out.add(cid, "labels", [a, b, ref], f"{words[0]} N={na}; {words[1]} N={nb}",
                    f"Table 1: {words[0]} = {k}", "inconsistent",
                    f"Table 1 counts {k} {words[0]} patients, but in Table 3 N = {k} sits on "
                    f"the row labelled {words[1]}. Reading: the two Table 3 row labels are "
                    f"swapped (all four columns of these rows belong to the other group); the "
                    f"Results and Table 4 agree with the swapped reading.")
        else:
            out.add(cid, "labels", [a, b, ref], f"N={na}, {nb}", str(k), "inconsistent",
                    f"Neither Table 3 row matches Table 1's {k}.")
    # the swap is confirmed by the CR counts of Table 4 / Results
    for cid, t3, t4ids, what in [
        ("labels.table3.tp53.table4", "table3.cr.tp53.neg",
         ["table4.tp53.pos.hsct", "table4.tp53.pos.no_hsct"], "TP53+ CR"),
        ("labels.table3.prior_hsct.table4", "table3.cr.prior_hsct.none",
         ["table4.status.post_hsct.hsct", "table4.status.post_hsct.no_hsct"],
         "post-transplant CR"),
    ]:
        if not need(out, c, cid, "labels", [t3] + t4ids):
            continue
        k3, k4 = c.int(t3), sum(c.int(i) for i in t4ids)
        out.add(cid, "labels", [t3] + t4ids, f"Table 3 row {t3.split('.')[-1]}: {k3} CR",
                f"Table 4: {k4}", "inconsistent" if k3 == k4 else "not checkable",
                f"Table 4 counts {k4} {what} patients; the Table 3 row printed under the "
                f"opposite label has {k3} CR: " + ("this confirms the swapped Table 3 labels."
                                                   if k3 == k4 else "no confirmation."))
    # Table 5: EMD comparison printed in opposite orders for OS and LFS
    ids = ["table5.os.emd", "table5.lfs.emd"]
    if need(out, c, "labels.table5.emd", "labels", ids):
        g = [str(c.val(i, "group") or c.val(i, "location")) for i in ids]
        same = g[0].lower() == g[1].lower()
        out.add("labels.table5.emd", "labels", ids, f"OS: {g[0]}; LFS: {g[1]}", "",
                "consistent" if same else "inconsistent",
                "Table 5 names the EMD comparison the same way for OS and LFS." if same else
                "Table 5 prints the EMD comparison as 'With vs without' for OS and 'Without vs "
                "with' for LFS. Reading: one label is reversed; as both HRs are far from "
                "significance the orientation cannot be settled from the paper.")
