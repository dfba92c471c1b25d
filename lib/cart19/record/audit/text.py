"""The same quantity printed in the text, the tables and the captions.
"""
from __future__ import annotations

from cart19.record.audit.base import (
    Claims,
    Out,
    design,
    fig_groups,
    fig_landmarks,
    fp,
    implied_count,
    need,
    same_printed,
    simplest_fraction,
)
from cart19.stats import printed as S

# =========================================================================== text vs source

def _same_value_check(c, out, check_id, ids, what, fld="percent", reading=""):
    if not need(out, c, check_id, "text_vs_source", ids):
        return
    toks = [(i, c.text(i, fld)) for i in ids]
    ref_id, ref = max(toks, key=lambda t: S.decimals_of(t[1]))
    bad = [(i, t) for i, t in toks if not same_printed(ref, t)]
    pub = "; ".join(f"{i}: {t}" for i, t in toks)
    if not bad:
        out.add(check_id, "text_vs_source", ids, pub, ref, "consistent",
                f"{what}: all sources agree at their printed precision ({ref}).")
        return
    minor = all(abs(float(S.to_decimal(t)) - float(S.to_decimal(ref)))
                <= 10 ** -S.decimals_of(t) + 1e-12 for _, t in bad)
    out.add(check_id, "text_vs_source", ids, pub, ref, "inconsistent" if not minor else
            "minor rounding",
            f"{what}: " + ", ".join(f"{i} prints {t}" for i, t in bad)
            + f" where {ref_id} prints {ref}. " + (reading or f"Reading: {ref}."))


def text_checks(c: Claims, out: Out) -> None:
    _repeated_value_checks(c, out)
    _repeated_p_checks(c, out)
    _pct_vs_count_checks(c, out)


#: how the audit names the landmarks of Figure 2's groups and Figure 3's arms, printed in several places
_LANDMARK_WORDS = {
    "os_all": "1-year OS, all {n}", "lfs_all": "1-year LFS, all",
    "os_cr": "1-year OS, CR patients", "lfs_cr": "1-year LFS, CR patients",
    "fig3.os.hsct": "1-year OS, bridged to HSCT", "fig3.lfs.hsct": "1-year LFS, bridged to HSCT",
    "fig3.os.no_hsct": "1-year OS, CAR T alone", "fig3.lfs.no_hsct": "1-year LFS, CAR T alone",
}


def _repeated_value_checks(c: Claims, out: Out) -> None:
    """The same landmark or percentage printed in a caption and in the Results (the claims that
    print each landmark: ``survival_groups`` and ``comparisons`` of design.yml)."""
    same = []
    for g, eps in design().survival_groups["fig2"].groups.items():
        for ep, ids in eps.items():
            same.append((f"{ep}_{g}", list(ids),
                         _LANDMARK_WORDS[f"{ep}_{g}"].format(n=c.int("results.infused"))))
    for k, (g1, g2, _) in fig_groups().items():
        arms = (("a", g1), ("b", g2))
        # Figure 3's checks run arm by arm, the others endpoint by endpoint (a stable order)
        order = ([(ep, a) for a in arms for ep in ("os", "lfs")] if k == 3 else
                 [(ep, a) for ep in ("os", "lfs") for a in arms])
        for ep, (arm, g) in order:
            key = f"fig{k}.{ep}.{g}"
            same.append((key, fig_landmarks(k, ep, arm),
                         _LANDMARK_WORDS.get(key, f"Figure {k} {ep.upper()} {g}")))
    for key, ids, what in same:
        _same_value_check(c, out, f"text.{key}", ids, what)


def _repeated_p_checks(c: Claims, out: Out) -> None:
    """P values printed twice."""
    # P values printed twice
    for k in fig_groups():
        for ep in ("os", "lfs"):
            ids = [f"fig{k}.{ep}.p", f"results.fig{k}.{ep}.p"] + (
                [f"abstract.{ep}.p"] if k == 3 else [])
            _same_value_check(c, out, f"text.p.fig{k}.{ep}", ids, f"Figure {k} {ep.upper()} P",
                              fld="p")
    for key, ids in [("cr.blasts20", ["table3.cr.blasts20.p", "results.cr.blasts20.p",
                                      "discussion.cr.blasts20.p"]),
                     ("cr.blasts5", ["table3.cr.blasts5.p", "results.cr.blasts5.p"]),
                     ("crs34.costim", ["table3.crs34.costim.p", "discussion.crs34.costim.p"]),
                     ("neuro23.costim", ["table3.neuro23.costim.p", "discussion.neuro23.costim.p"]),
                     ("carpeak.emd", ["table3.carpeak.emd.p", "results.carpeak.emd.p"]),
                     ("carpeak.blasts5", ["table3.carpeak.blasts5.p", "results.carpeak.blasts5.p"]),
                     ("carpeak.costim", ["table3.carpeak.costim.p", "results.carpeak.costim.p"]),
                     ("cns", ["results.cns.cr_rate.p", "discussion.cns.cr_rate.p"])]:
        reading = ""
        if "costim" in key and not key.startswith("carpeak"):
            o = key.split(".")[0]
            ids_t = [f"table3.{o}.costim.cd28", f"table3.{o}.costim.41bb"]
            reading = "Reading: Table 3 is the primary source."
            if c.has(*ids_t):
                r = S.two_by_two_tests(c.int(ids_t[0]), c.int(ids_t[0], "N"), c.int(ids_t[1]),
                                       c.int(ids_t[1], "N"))
                reading += (f" From the counts: Pearson {fp(r['pearson'])}, Yates "
                            f"{fp(r['yates'])}, Fisher {fp(r['fisher'])}.")
        _p_same(c, out, f"text.p.{key}", ids, reading)


def _pct_vs_count_checks(c: Claims, out: Out) -> None:
    """Percentages in the text against the counts they describe."""
    # percentages in text vs the counts they describe
    pct = [
        ("results.cr.blasts20.gt20", "table3.cr.blasts20.gt20"),
        ("results.cr.blasts20.le20", "table3.cr.blasts20.le20"),
        ("results.cr.blasts5.ge5", "table3.cr.blasts5.ge5"),
        ("results.cr.blasts5.lt5", "table3.cr.blasts5.lt5"),
        ("discussion.cr.blasts20.le20", "table3.cr.blasts20.le20"),
        ("discussion.cr.blasts20.gt20", "table3.cr.blasts20.gt20"),
        ("discussion.emd.cr", "table3.cr.emd.with"),
        ("discussion.tp53.cr", "results.tp53.cr"),
        ("discussion.bcr_abl.cr", "table3.cr.bcr_abl.pos"),
        ("discussion.bcr_abl.molecular_neg.d30", "results.bcr_abl.molecular_neg.d30"),
        ("discussion.bcr_abl.molecular_neg.d60", "results.bcr_abl.molecular_neg.d60"),
        ("discussion.crs34.costim.cd28", "table3.crs34.costim.cd28"),
        ("discussion.crs34.costim.41bb", "table3.crs34.costim.41bb"),
        ("discussion.neuro23.costim.cd28", "table3.neuro23.costim.cd28"),
        ("discussion.neuro23.costim.41bb", "table3.neuro23.costim.41bb"),
        ("discussion.crs.grade34", "results.crs.grade34"),
        ("discussion.cr", "results.cr_day30"),
        ("abstract.cr", "results.cr_day30"),
        ("abstract.mrd_neg", "results.mrd_neg_cr"),
        ("discussion.mrd_neg_cr", "results.mrd_neg_cr"),
        ("results.cri", "fig4.cri"),
        ("discussion.donor.haplo", "table4.donor.haplo.hsct"),
        ("discussion.prior_hsct.cr", "results.prior_hsct.cr"),
    ]
    for tid, src in pct:
        _pct_vs_counts(c, out, f"text.pct.{tid}", tid, src)
    ids = ["results.cri", "table4.response.cri.hsct", "table4.response.cri.no_hsct",
           "results.cr_day30"]
    if need(out, c, "text.pct.results.cri.table4", "text_vs_source", ids):
        k = c.int(ids[1]) + c.int(ids[2])
        N = c.int(ids[3])
        ptxt = c.text(ids[0], "percent")
        res = S.percent_rounding(k, N, ptxt)
        out.add("text.pct.results.cri.table4", "text_vs_source", ids, f"{ptxt}%",
                f"Table 4: {k}/{N} = {res['exact']:.2f}%", res["verdict"],
                f"Table 4's CRi total {k} of {N} is {res['exact']:.2f}%, "
                + ("which rounds to the Results' " if res["verdict"] == "consistent" else
                   "which does not round to the Results' ") + f"{ptxt}%.")
    special_text_checks(c, out)


def _p_same(c, out, check_id, ids, reading=""):
    if not need(out, c, check_id, "text_vs_source", ids):
        return
    pts = [(i,) + c.p_text(i) for i in ids]
    ref = pts[0]
    bad = [p for p in pts[1:] if (p[2], S.to_decimal(p[1])) != (ref[2], S.to_decimal(ref[1]))]
    pub = "; ".join(f"{i}: P {cmp} {t}" for i, t, cmp in pts)
    if not bad:
        out.add(check_id, "text_vs_source", ids, pub, f"P {ref[2]} {ref[1]}", "consistent",
                "The same P is printed in every place.")
    else:
        out.add(check_id, "text_vs_source", ids, pub, f"P {ref[2]} {ref[1]}", "inconsistent",
                f"{ref[0]} prints P {ref[2]} {ref[1]} but "
                + ", ".join(f"{i} prints P {cmp} {t}" for i, t, cmp in bad) + ". "
                + (reading or f"Reading: {ref[0]}."))


def _pct_vs_counts(c, out, check_id, tid, src, N_override=None):
    if not need(out, c, check_id, "text_vs_source", [tid, src]):
        return
    n, N = c.int(src), N_override or c.int(src, "N")
    ptxt = c.text(tid, "percent")
    res = S.percent_rounding(n, N, ptxt)
    if res["verdict"] == "inconsistent":
        frac = simplest_fraction(ptxt, N)
        e = (f"{tid} prints {ptxt}% but {src} gives {n}/{N} = {res['exact']:.2f}%"
             + (f" ({ptxt}% is what {frac} gives)" if frac else "")
             + f". Reading: {n}/{N} = {S.round_decimal(S.exact_percent(n, N), res['decimals'])}%.")
    elif res["verdict"] == "minor rounding":
        e = (f"{tid} prints {ptxt}% for {n}/{N} = {res['exact']:.3f}%, which rounds to "
             f"{S.round_decimal(S.exact_percent(n, N), res['decimals'])}"
             + (" (truncated, not rounded)" if res["modes"] == ["truncate"] else "") + ".")
    else:
        e = f"{ptxt}% is {n}/{N} = {res['exact']:.2f}% rounded."
    out.add(check_id, "text_vs_source", [tid, src], f"{ptxt}%", f"{n}/{N} = {res['exact']:.2f}%",
            res["verdict"], e)


def special_text_checks(c: Claims, out: Out) -> None:
    _derived_count_checks(c, out)
    _statement_checks(c, out)


def _derived_count_checks(c: Claims, out: Out) -> None:
    """Counts the text implies: the Abstract's transplant denominator, the CD19 split, the CNS
    CR counts."""
    # abstract "Seventy-five ... (73.5%)": which denominator?
    ids = ["abstract.hsct.n", "results.cr_day30", "results.infused"]
    if need(out, c, "text.abstract_hsct_denominator", "text_vs_source", ids):
        ptxt = c.text("abstract.hsct.n", "percent")
        n = c.int("abstract.hsct.n")
        fits = [d for d in (c.int("results.cr_day30"), c.int("results.infused"))
                if S.percent_rounding(n, d, ptxt)["verdict"] == "consistent"]
        out.add("text.abstract_hsct_denominator", "text_vs_source", ids, f"{n} ({ptxt}%)",
                ", ".join(f"{n}/{d} = {100 * n / d:.1f}%" for d in (c.int("results.cr_day30"),
                                                                   c.int("results.infused"))),
                "consistent" if fits == [c.int("results.cr_day30")] else "inconsistent",
                f"The Abstract's {ptxt}% is {n} of the {c.int('results.cr_day30')} CR patients "
                f"(not of the {c.int('results.infused')} infused, which would be "
                f"{100 * n / c.int('results.infused'):.1f}%); the sentence does not name the "
                "denominator, but the arithmetic fixes it.")
    # CD19 split of the not-bridged relapses
    for lv in ("cd19_pos", "cd19_neg"):
        tid = f"results.no_hsct.relapse.{lv}"
        cid = f"text.pct.{tid}"
        if need(out, c, cid, "text_vs_source", [tid, "results.no_hsct.relapse"]):
            n, N = c.int(tid), c.int("results.no_hsct.relapse")
            ptxt = c.text(tid, "percent")
            res = S.percent_rounding(n, N, ptxt)
            out.add(cid, "text_vs_source", [tid, "results.no_hsct.relapse"], f"{n} ({ptxt}%)",
                    f"{n}/{N} = {res['exact']:.1f}%", res["verdict"],
                    f"{n} of the {N} relapses without HSCT is {res['exact']:.1f}%, not {ptxt}% "
                    f"({ptxt}% is {simplest_fraction(ptxt, N)}). The counts agree with the totals "
                    "(see bounds.cd19_split). Reading: the counts are kept, the percentages are "
                    "wrong." if res["verdict"] != "consistent" else
                    f"{n}/{N} rounds to {ptxt}%.")
    # CNS leukemia CR rates: derive the counts
    ids = ["results.cns.cr_rate", "results.no_cns.cr_rate", "table1.emd.cns", "results.cr_day30",
           "table1.n"]
    if need(out, c, "text.cns_cr_counts", "text_vs_source", ids):
        n_cns = c.int("table1.emd.cns")
        k = implied_count(c.text("results.cns.cr_rate", "percent"), n_cns)
        cr, tot = c.int("results.cr_day30"), c.int("table1.n")
        if k is None:
            out.add("text.cns_cr_counts", "text_vs_source", ids, "", "", "inconsistent",
                    "No count of 17 gives the printed CNS CR rate.")
        else:
            rest = S.percent_rounding(cr - k, tot - n_cns, c.text("results.no_cns.cr_rate",
                                                                  "percent"))
            out.add("text.cns_cr_counts", "text_vs_source", ids,
                    f"{c.text(ids[0], 'percent')}% vs {c.text(ids[1], 'percent')}%",
                    f"{k}/{n_cns} vs {cr - k}/{tot - n_cns}", rest["verdict"],
                    f"Only {k}/{n_cns} gives {c.text(ids[0], 'percent')}%; the remaining "
                    f"{cr - k} CR among the other {tot - n_cns} patients give "
                    f"{rest['exact']:.2f}%, which "
                    + ("matches the printed rate." if rest["verdict"] == "consistent" else
                       "does not match the printed rate."))


def _statement_checks(c: Claims, out: Out) -> None:
    """Statements in words: the Discussion's CR range, the LFS of all patients, "half of them
    relapsed"."""
    # the Discussion's 87%-100% CR range of high-risk subgroups
    ids = ["discussion.subgroup_cr.range", "table3.cr.bcr_abl.pos", "results.tp53.cr",
           "table3.cr.emd.with", "results.cns.cr_rate", "results.prior_hsct.cr"]
    if need(out, c, "text.subgroup_cr_range", "text_vs_source", ids):
        lo, hi = c.val(ids[0], "min"), c.val(ids[0], "max")
        rates = {"BCR-ABL+": 100 * c.int(ids[1]) / c.int(ids[1], "N"),
                 "TP53": 100 * c.int(ids[2]) / c.int(ids[2], "N"),
                 "EMD": 100 * c.int(ids[3]) / c.int(ids[3], "N"),
                 "CNS leukemia": c.val(ids[4], "percent"),
                 "post-transplant": 100 * c.int(ids[5]) / c.int(ids[5], "N")}
        outside = {k: v for k, v in rates.items() if not lo - 0.5 <= v <= hi + 0.5}
        out.add("text.subgroup_cr_range", "text_vs_source", ids, f"{lo:g}% to {hi:g}%",
                ", ".join(f"{k} {v:.1f}%" for k, v in rates.items()),
                "consistent" if not outside else "inconsistent",
                "The Discussion says every high-risk subgroup (BCR-ABL+, TP53, EMD, CNS leukemia, "
                f"post-transplant relapse) had a CR rate of {lo:g}%-{hi:g}%; "
                + ("all do." if not outside else
                   ", ".join(f"{k} had {v:.1f}%" for k, v in outside.items())
                   + ". Reading: the range holds for the other subgroups only."))
    # LFS is defined from the date of CR, yet a 1-year LFS is printed for all 110 patients
    ids = ["results.fig2.lfs.all.1y", "results.fig2.lfs.cr.1y", "results.cr_day30", "table1.n"]
    if need(out, c, "text.lfs_all_definition", "text_vs_source", ids):
        s_cr = c.val(ids[1], "percent")
        cr, tot = c.int(ids[2]), c.int(ids[3])
        implied = s_cr * cr / tot
        out.add("text.lfs_all_definition", "text_vs_source", ids,
                f"LFS all {c.text(ids[0], 'percent')}%, CR {c.text(ids[1], 'percent')}%",
                f"{implied:.1f}% if non-responders fail at time 0", "not checkable",
                f"LFS is defined from the date of CR, so it does not exist for the {tot - cr} "
                f"non-responders, yet a 1-year LFS is printed for all {tot} patients. Counting "
                f"non-responders as failures at time 0 would give {s_cr:g}% x {cr}/{tot} = "
                f"{implied:.1f}% against the printed {c.text(ids[0], 'percent')}%; the remaining "
                "gap may come from measuring time from infusion rather than from CR, which the "
                "paper does not say. The reconstruction follows the definition (LFS among CR "
                "patients) and treats the all-patient LFS as emergent.")
    # "half of them relapsed" vs 5 of 11
    ids = ["discussion.tp53.relapse", "results.tp53.relapse"]
    if need(out, c, "text.tp53_half", "text_vs_source", ids):
        n, N = c.int(ids[1]), c.int(ids[1], "N")
        out.add("text.tp53_half", "text_vs_source", ids, "half", f"{n}/{N} = {n / N:.0%}",
                "consistent" if abs(n / N - 0.5) < 0.1 else "inconsistent",
                f"'Half' of the TP53-mutated CR patients relapsed: the Results give {n} of {N} "
                f"({n / N:.0%}), a fair verbal rounding.")
