"""Hazard ratios: each printed HR and CI against its P value (Prism's two variants), and the
direction of each HR against the caption's words.
"""
from __future__ import annotations

import re

from cart19.record.audit.base import (
    GROUP_WORDS,
    Claims,
    Out,
    fig_groups,
    fmt_num,
    fp,
    need,
    same_printed,
)
from cart19.stats import printed as S

# =========================================================================== hazard ratios

def _fig_p_id(cid: str) -> str | None:
    m = re.match(r"^(?:results\.)?fig(\d)\.(os|lfs)\.(?:hr|ci)$", cid)
    if m:
        return f"fig{m.group(1)}.{m.group(2)}.p"
    m = re.match(r"^abstract\.(os|lfs)\.ci$", cid)
    if m:
        return f"abstract.{m.group(1)}.p"
    return None


def hr_checks(c: Claims, out: Out) -> None:
    _printed_hr_checks(c, out)
    _ci_only_checks(c, out)


def _printed_hr_checks(c: Claims, out: Out) -> None:
    """Each printed HR with its CI against its P value, in both Prism variants."""
    df = c.df
    hr_rows = df[(df["kind"] == "hr") & df["hr"].notna() & df["ci_low"].notna()]
    for cid in hr_rows.index:
        hr, lo, hi = (float(c.val(cid, k)) for k in ("hr", "ci_low", "ci_high"))
        ht, lt, ut = c.text(cid, "hr"), c.text(cid, "ci_low"), c.text(cid, "ci_high")
        # log-symmetry
        gm = S.ci_geometric_mean(lo, hi)
        g_lo, g_hi = S.gm_range(lt, ut)
        h_lo, h_hi = S._rounding_box(ht)
        rel = abs(hr / gm - 1)
        if S.intervals_overlap((g_lo, g_hi), (h_lo, h_hi)):
            v, e = "consistent", (f"sqrt({lt} x {ut}) = {gm:.4g}, which rounds to the printed HR "
                                  f"{ht}: the CI is symmetric on the log scale.")
        elif rel < 0.01:
            v, e = "minor rounding", (f"sqrt({lt} x {ut}) = {gm:.4g} vs HR {ht} ({rel:.2%} apart, "
                                      "more than the printed digits allow). Reading: a small "
                                      "transcription error in one limit (for a CI centred on "
                                      f"{ht} with lower limit {lt} the upper limit would be "
                                      f"{hr ** 2 / lo:.4g}).")
        else:
            v, e = "inconsistent", (f"sqrt({lt} x {ut}) = {gm:.4g}, far from the HR {ht}: the "
                                    "CI does not belong to this HR.")
        out.add(f"hr.symmetry.{cid}", "hr", [cid], f"HR {ht} ({lt}-{ut})", f"centre {gm:.4g}", v, e)
        # implied P vs printed P
        pid = cid if c.val(cid, "p") is not None else _fig_p_id(cid)
        if pid is None or not c.has(pid):
            if cid.startswith("abstract.mv"):
                out.add(f"hr.p.{cid}", "hr", [cid], f"HR {ht} ({lt}-{ut})",
                        f"implied P {fp(S.p_from_ci(lo, hi, hr))}", "not checkable",
                        "No P is printed with this HR.")
            continue
        ptxt, cmp = c.p_text(pid)
        pr = S.p_range_from_ci(lt, ut, ht)
        ok = S.intervals_overlap(pr, S.p_interval(ptxt, cmp))
        sig_ci, sig_p = S.ci_excludes_one(lo, hi), S.p_interval(ptxt, cmp)[1] <= 0.05
        extra = ""
        if sig_ci != sig_p:
            extra = (f" The CI {'excludes' if sig_ci else 'includes'} 1 while P "
                     f"{'<' if sig_p else '>'} .05.")
        out.add(f"hr.p.{cid}", "hr", sorted({cid, pid}), f"HR {ht} ({lt}-{ut}), P {cmp} {ptxt}",
                f"implied P {fp(pr[0])}-{fp(pr[1])}", "consistent" if ok else "inconsistent",
                (f"The Wald P implied by the CI (z = ln HR / SE, SE = (ln {ut} - ln {lt})/3.92) is "
                 f"{fp(pr[0])}-{fp(pr[1])} over the rounding of the printed numbers"
                 + (", matching the printed P." if ok else f", not {ptxt}.") + extra
                 + ("" if ok else " Reading: the printed log-rank/Wald P is kept; this HR and CI "
                    "cannot both belong to it.")).strip())


def _ci_only_checks(c: Claims, out: Out) -> None:
    """CIs printed without their HR (Abstract, Results)."""
    df = c.df
    ci_rows = df[(df["kind"] == "ci") & df["ci_low"].notna()]
    for cid in ci_rows.index:
        lo, hi = float(c.val(cid, "ci_low")), float(c.val(cid, "ci_high"))
        lt, ut = c.text(cid, "ci_low"), c.text(cid, "ci_high")
        pid = _fig_p_id(cid)
        m = re.search(r"fig(\d)\.(os|lfs)", cid)
        cap = f"fig{m.group(1)}.{m.group(2)}.hr" if m else (
            "fig3." + cid.split(".")[1] + ".hr" if cid.startswith("abstract.") else None)
        if cap and c.has(cap):
            clt, cut = c.text(cap, "ci_low"), c.text(cap, "ci_high")
            same = all(same_printed(a, b) for a, b in ((lt, clt), (ut, cut)))
            recip = all(same_printed(a, fmt_num(round(1 / float(b), 4))) for a, b in
                        ((lt, cut), (ut, clt)))
            where = "The Abstract" if cid.startswith("abstract.") else "The Results text"
            expl = (f"{where} prints {lt}-{ut}; the Figure caption {clt}-{cut} "
                    f"(HR {c.text(cap, 'hr')})")
            units = [abs(float(S.to_decimal(a)) - float(S.to_decimal(b)))
                     / 10 ** -max(S.decimals_of(a), S.decimals_of(b))
                     for a, b in ((lt, clt), (ut, cut))]
            if same:
                v, expl = "consistent", expl + ": the same interval at the printed precision."
            elif max(units) <= 1 + 1e-9:
                v, expl = "minor rounding", expl + (": one limit differs by one unit of the last "
                                                   "digit. Reading: the caption's limits.")
            else:
                v = "inconsistent"
                gm = S.ci_geometric_mean(lo, hi)
                expl += (f": different intervals (this one is centred on {gm:.3g}"
                         + (", the reciprocal of the caption's" if recip else "") + "). "
                         "Reading: the caption's HR and CI are adopted, since they belong together "
                         "(see hr.symmetry of the caption); this interval is not used.")
            out.add(f"hr.text_vs_caption.{cid}", "hr", [cid, cap], f"{lt}-{ut}", f"{clt}-{cut}",
                    v, expl)
        if pid and c.has(pid):
            ptxt, cmp = c.p_text(pid)
            pr = S.p_range_from_ci(lt, ut)
            ok = S.intervals_overlap(pr, S.p_interval(ptxt, cmp))
            sig_ci, sig_p = S.ci_excludes_one(lo, hi), S.p_interval(ptxt, cmp)[1] <= 0.05
            out.add(f"hr.p.{cid}", "hr", [cid, pid], f"CI {lt}-{ut}, P {cmp} {ptxt}",
                    f"implied P {fp(pr[0])}-{fp(pr[1])}", "consistent" if ok else "inconsistent",
                    f"Centring the CI on its log-midpoint, the implied Wald P is "
                    f"{fp(pr[0])}-{fp(pr[1])}" + (", matching the printed P." if ok else
                                                  f", not {ptxt}.")
                    + ("" if sig_ci == sig_p else
                       f" The CI {'excludes' if sig_ci else 'includes'} 1 while P "
                       f"{'<' if sig_p else '>'} .05, which cannot both hold."))
    hr_direction_checks(c, out)


def hr_direction_checks(c: Claims, out: Out) -> None:
    _figure_hr_directions(c, out)
    _table5_hr_directions(c, out)


def _figure_hr_directions(c: Claims, out: Out) -> None:
    """Figures 3-7: the orientation of each HR against the caption's landmarks."""
    # Figures 3-7: orientation of each HR against its landmarks
    for k, (g1, g2, t) in fig_groups().items():
        orient = {}
        for ep in ("os", "lfs"):
            hid, a, b = f"fig{k}.{ep}.hr", f"fig{k}.{ep}.{g1}.{t}", f"fig{k}.{ep}.{g2}.{t}"
            cid = f"hr.direction.fig{k}.{ep}"
            if not need(out, c, cid, "hr", [hid, a, b]):
                continue
            hr = float(c.val(hid, "hr"))
            s1, s2 = c.val(a, "percent") / 100, c.val(b, "percent") / 100
            better_first = s1 > s2
            expected = "< 1" if better_first else "> 1"
            matches = (hr < 1) == better_first
            orient[ep] = matches
            lm = S.landmark_hr(s1, s2)
            if matches:
                v = "consistent"
                e = (f"{GROUP_WORDS[g1]} ({s1:.1%}) vs {GROUP_WORDS[g2]} ({s2:.1%}): an HR of the "
                     f"first vs the second group should be {expected}; it is {c.text(hid, 'hr')}.")
            else:
                v = "inconsistent"
                rh, rl, rhh = S.reciprocal(hr, float(c.val(hid, "ci_low")),
                                           float(c.val(hid, "ci_high")))
                e = (f"{GROUP_WORDS[g1]} ({s1:.1%}) vs {GROUP_WORDS[g2]} ({s2:.1%}) is printed "
                     f"first, so its HR should be {expected}, but it is {c.text(hid, 'hr')}. "
                     f"Reading: this HR is {GROUP_WORDS[g2]} vs {GROUP_WORDS[g1]}; in the "
                     f"caption's order it is {rh:.3g} ({rl:.3g}-{rhh:.3g}).")
            e += (f" For scale: under proportional hazards the landmarks alone imply an HR of "
                  f"about {lm:.2f} (first vs second); Prism's Mantel-Haenszel HR can be more "
                  "extreme with small groups.")
            out.add(cid, "hr", [hid, a, b], f"HR {c.text(hid, 'hr')}", f"expected {expected}",
                    v, e)
        if len(orient) == 2:
            same = orient["os"] == orient["lfs"]
            ids = [f"fig{k}.os.hr", f"fig{k}.lfs.hr"]
            out.add(f"hr.orientation.fig{k}", "hr", ids,
                    f"OS HR {c.text(ids[0], 'hr')}, LFS HR {c.text(ids[1], 'hr')}", "",
                    "consistent" if same else "inconsistent",
                    f"Figure {k}: OS and LFS favour the same group and the two HRs "
                    + ("point the same way." if same else
                       "point in opposite directions: the two HRs of one caption compare the "
                       "groups in opposite orders. Reading: both are reported in the caption's "
                       "order (first vs second group) after inverting the reversed one."))


def _table5_hr_directions(c: Claims, out: Out) -> None:
    """Table 5 and the Abstract: each HR's orientation against the text's statements."""
    # Table 5 (and abstract): HR orientation vs the text's statements
    stated = [
        ("table5.os.tp53", "TP53 mutation is reported as harmful (inferior OS)", True),
        ("table5.lfs.tp53", "TP53 mutation is reported as harmful (inferior LFS)", True),
        ("table5.os.hsct", "bridging to HSCT is reported as beneficial", False),
        ("table5.lfs.hsct", "bridging to HSCT is reported as beneficial", False),
        ("table5.os.blasts20", "BM blasts <=20% had the higher OS", False),
        ("table5.os.prior_hsct", "a previous transplant carries the worse OS (Figure 7)", False),
        ("table5.lfs.prior_hsct", "a previous transplant carries the worse LFS (Figure 7)", False),
        ("abstract.mv.tp53.hr", "TP53 mutation is called a variable correlated with worse "
                                "outcomes", True),
        ("abstract.mv.hsct.hr", "bridging to HSCT is reported as beneficial", False),
    ]
    for cid, why, first_worse in stated:
        ck = f"hr.direction.{cid}"
        if not need(out, c, ck, "hr", [cid]):
            continue
        hr = float(c.val(cid, "hr"))
        label = c.val(cid, "group") or {"abstract.mv.tp53.hr": "TP53 mutation (Abstract)",
                                        "abstract.mv.hsct.hr": "allo-HSCT after CAR T "
                                                               "(Abstract)"}.get(cid, cid)
        expected = "> 1" if first_worse else "< 1"
        ok = (hr > 1) == first_worse
        rh, rl, rhh = S.reciprocal(hr, float(c.val(cid, "ci_low")), float(c.val(cid, "ci_high")))
        out.add(ck, "hr", [cid], f"{label}: HR {c.text(cid, 'hr')}", f"expected {expected}",
                "consistent" if ok else "inconsistent",
                f"{why}, so the HR for '{label}' should be {expected}; it is {c.text(cid, 'hr')}."
                + ("" if ok else f" Reading: the HR is the second-named group vs the first "
                   f"(in the printed order {rh:.3g}, {rl:.3g}-{rhh:.3g})."))
    for ck, ab, t5 in (("hr.abstract_vs_table5.hsct", "abstract.mv.hsct.hr",
                        ["table5.os.hsct", "table5.lfs.hsct"]),
                       ("hr.abstract_vs_table5.tp53", "abstract.mv.tp53.hr",
                        ["table5.os.tp53", "table5.lfs.tp53"])):
        if not need(out, c, ck, "hr", [ab] + t5):
            continue
        a = c.text(ab, "hr")
        tv = [c.text(i, "hr") for i in t5]
        ok = any(same_printed(a, t) for t in tv)
        out.add(ck, "hr", [ab] + t5, f"abstract HR {a}", f"Table 5: OS {tv[0]}, LFS {tv[1]}",
                "consistent" if ok else "inconsistent",
                f"The Abstract's multivariable HR {a} ({c.text(ab, 'ci_low')}-"
                f"{c.text(ab, 'ci_high')}) "
                + ("matches Table 5." if ok else
                   f"is neither Table 5's OS HR ({tv[0]}) nor its LFS HR ({tv[1]}). Reading: "
                   "Table 5 is adopted; the Abstract seems to quote another model."))
