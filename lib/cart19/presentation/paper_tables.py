"""The paper's Tables 1-5 in the book's style (:mod:`cart19.presentation.journal`), published beside
reproduced (Zhang et al. 2020, Tables 1-5).

Each takes a chapter-like object with ``published`` and ``reproduced`` (claim-shaped frames) and
``card`` (their scorecard rows): a reproduced cell whose claim the scorecard calls "differs" is
marked, and every reproduced cell carries its claim's status and basis as a tooltip. Published
cells are the paper's printed text (claims.csv ``printed``), so they keep its digits.
"""
from __future__ import annotations

import re

import pandas as pd

from cart19.presentation import journal as J

PUBLISHED, REPRODUCED = "Published", "Reproduced"
_SIG_NOTE = "*P < .05. †P < .01 (on the reproduced values too)."
_CELL_NOTE = ("A reproduced value in <span style=\"{}\">red</span> differs from the paper (the "
              "scorecard's verdict); the pointer on a reproduced value shows its status and basis."
              ).format(J.DIFFERS_STYLE)


class _Values:
    """Published text, reproduced numbers and scorecard rows of one chapter, by claim id."""

    def __init__(self, ch):
        self.pub = ch.published.set_index("id")
        self.rep = ch.reproduced.set_index("id") if "id" in ch.reproduced.columns else ch.reproduced
        self.card = ch.card.set_index("id")

    def printed(self, cid: str, part: int | None = None) -> str:
        if cid not in self.pub.index:
            return ""
        text = str(self.pub.at[cid, "printed"] or "")
        if part is not None:
            bits = [b.strip() for b in text.split("|")]
            text = bits[part] if part < len(bits) else ""
        return J.esc(text)

    def field(self, cid: str, name: str, which: str = "rep"):
        frame = self.rep if which == "rep" else self.pub
        if cid not in frame.index or name not in frame.columns:
            return None
        v = frame.at[cid, name]
        return None if J._missing(v) else v

    def status(self, cid: str) -> tuple[str, str]:
        if cid not in self.card.index:
            return "", ""
        r = self.card.loc[cid]
        return str(r.get("status", "")), str(r.get("basis", ""))

    def reproduced(self, cid: str, text: str) -> str:
        """A reproduced cell: marked if its claim differs, with status and basis as tooltip."""
        status, basis = self.status(cid)
        body = J.esc(text)
        if not status:
            return body
        return J.tip(J.mark(body, status == "differs"), f"{status}; basis: {basis}; claim {cid}")


def _decimals(text: str) -> int:
    """Decimals of the first number in ``text`` ("27.12" -> 2, ".837" -> 3, "14" -> 0)."""
    m = re.search(r"\d*\.(\d+)|\d+", text or "")
    return len(m.group(1)) if m and m.group(1) else 0


def _p_rep(v: _Values, cid: str) -> str:
    """A reproduced P at the precision the paper prints that P (like for like), with the
    paper's significance marks."""
    p = v.field(cid, "p")
    if p is None:
        return ""
    printed = re.sub(r"[^0-9.]", "", v.printed(cid).split("|")[-1])
    decimals = max(_decimals(printed), 2) if printed and "<" not in v.printed(cid) else 3
    text = J.fmt_p(p, decimals=decimals)
    return text + ("†" if p < 0.01 else "*" if p < 0.05 else "")


def _count_rep(v: _Values, cid: str, decimals: int = 1) -> str:
    return J.fmt_count(v.field(cid, "n"), v.field(cid, "N"), v.field(cid, "percent"), decimals)


def _median_rep(v: _Values, cid: str) -> str:
    med = v.field(cid, "median")
    if med is None:
        return ""
    lo, hi = v.field(cid, "min"), v.field(cid, "max")
    rng = f" ({J.fmt_num(lo)}-{J.fmt_num(hi)})" if lo is not None and hi is not None else ""
    return f"{J.fmt_num(med)}{rng}"


def _mean_rep(v: _Values, cid: str) -> str:
    mean, disp = v.field(cid, "mean"), v.field(cid, "dispersion")
    if mean is None:
        return ""
    printed = v.printed(cid)
    dm, dd = (printed.split("±") + [""])[:2] if "±" in printed else ("00.00", "0.000")
    return f"{J.fmt_num(mean, _decimals(dm))} ± {J.fmt_num(disp, max(_decimals(dd), 1))}"


def _side_by_side(rows: list[dict], value_cols: list[tuple[str, str]], name: str, *,
                  stub_label: str, notes=(), groups: bool = False) -> J.JournalTable:
    """rows: dicts with 'label', 'indent', 'bold', optional 'group', and for every value column key
    'pub:<key>' and 'rep:<key>' (HTML). value_cols: (key, heading)."""
    cols = {"label": [r["label"] for r in rows]}
    if groups:
        cols["group"] = [r.get("group", "") for r in rows]
    labels = {}
    for side in ("pub", "rep"):
        for key, heading in value_cols:
            cols[f"{side}:{key}"] = [r.get(f"{side}:{key}", "") for r in rows]
            labels[f"{side}:{key}"] = heading
    frame = pd.DataFrame(cols)
    spanners = [(PUBLISHED, [f"pub:{k}" for k, _ in value_cols]),
                (REPRODUCED, [f"rep:{k}" for k, _ in value_cols])]
    indent = {i: r["indent"] for i, r in enumerate(rows) if r.get("indent")}
    bold = [i for i, r in enumerate(rows) if r.get("bold")]
    data = frame.apply(lambda c: c.map(J.plain))
    data.columns = ([stub_label] + (["Group"] if groups else []) +
                    [f"{PUBLISHED}: {J.plain(h)}" for _, h in value_cols] +
                    [f"{REPRODUCED}: {J.plain(h)}" for _, h in value_cols])
    return J.table(frame, name, stub="label", groups="group" if groups else None, labels=labels,
                   spanners=spanners, align={c: "right" for c in frame.columns if ":" in c},
                   indent=indent, bold_rows=bold, notes=list(notes), stubhead=stub_label,
                   data=data)


def _sub_rows(blocks: list[dict], value_cols: list[tuple[str, str]], name: str, *,
              stub_label: str, spanners, notes=()) -> J.JournalTable:
    """Tables 3 and 4: the paper's columns, each printed row followed by the reproduced row.

    blocks: dicts with 'label', 'indent', 'bold', 'pub' and 'rep' (dicts key -> HTML)."""
    labels_col, source_col, rows, indent, bold, rep_rows = [], [], [], {}, [], []
    for b in blocks:
        for side, who in (("pub", PUBLISHED), ("rep", REPRODUCED)):
            i = len(rows)
            labels_col.append(b["label"] if side == "pub" else "")
            source_col.append(J.small(who) if side == "pub" else
                              f'<span style="font-size:11px;color:#31587a">{who}</span>')
            rows.append({k: b[side].get(k, "") for k, _ in value_cols})
            if b.get("indent"):
                indent[i] = b["indent"]
            if b.get("bold") and side == "pub":
                bold.append(i)
            if side == "rep":
                rep_rows.append(i)
    frame = pd.DataFrame(rows, columns=[k for k, _ in value_cols])
    frame.insert(0, "source", source_col)
    frame.insert(0, "label", labels_col)
    # the reproduced row in the reconstruction's colour, so each pair reads as one
    for i in rep_rows:
        for k, _ in value_cols:
            cell = frame.at[i, k]
            if cell and "cart19-differs" not in cell:
                frame.at[i, k] = f'<span style="color:#31587a">{cell}</span>'
    data = frame.apply(lambda c: c.map(J.plain))
    data["label"] = [J.plain(blocks[i // 2]["label"]) for i in range(len(data))]
    over = {c: J.plain(sp[0]) for sp in spanners if sp[1] for c in sp[1]}
    data.columns = [stub_label, "Source"] + [
        f"{over[k]}: {J.plain(h)}" if k in over else J.plain(h) for k, h in value_cols]
    labels = {k: h for k, h in value_cols}
    labels["source"] = ""
    return J.table(frame, name, stub="label", labels=labels, spanners=spanners,
                   align={k: "right" for k, _ in value_cols}, indent=indent, bold_rows=bold,
                   notes=list(notes), stubhead=stub_label, data=data)


# Table 1 in the paper's nesting: (label HTML, indent, claim id or None, style)
PAPER_TABLE1 = (
    ("Sex", 0, None, None), ("Male", 1, "table1.sex.male", "n"),
    ("Female", 1, "table1.sex.female", "n"),
    ("Age, y", 0, "table1.age", "median"), ("2-14", 1, "table1.age.2_14", "n"),
    ("15-61", 1, "table1.age.15_61", "n"),
    ("Pretreatment disease burden", 0, None, None),
    ("Percent blasts in BM by morphology", 1, "table1.bm_blasts", "median"),
    ("&lt;5", 2, "table1.bm_blasts.lt5", "n"), ("5 to ≤20", 2, "table1.bm_blasts.5_20", "n"),
    ("&gt;20", 2, "table1.bm_blasts.gt20", "n"),
    ("With EMD", 0, None, None), ("CNS leukemia", 1, "table1.emd.cns", "n"),
    ("CNS-2", 2, "table1.emd.cns2", "n"), ("CNS-3", 2, "table1.emd.cns3", "n"),
    ("Testicular leukemia", 1, "table1.emd.testicular", "n"),
    ("Diffuse EMD", 1, "table1.emd.diffuse", "n"),
    ("Single-site EMD", 1, "table1.emd.single_site", "n"),
    ("Complex cytogenetics", 0, "table1.complex_karyotype", "n"),
    ("With fusion gene", 0, None, None), ("<i>BCR-ABL</i>", 1, "table1.fusion.bcr_abl", "n"),
    ("<i>TEL-AML1</i>", 1, "table1.fusion.tel_aml1", "n"),
    ("<i>E2A-PBX1</i>", 1, "table1.fusion.e2a_pbx1", "n"),
    ("<i>E2A-HLF</i>", 1, "table1.fusion.e2a_hlf", "n"),
    ("With gene mutation", 0, None, None), ("<i>IKZF1</i>", 1, "table1.mutation.ikzf1", "n"),
    ("<i>TP53</i>", 1, "table1.mutation.tp53", "n"), ("Other", 1, "table1.mutation.other", "n"),
    ("Disease status", 0, None, None),
    ("Refractory (median of 3 cycles of chemotherapy)", 1, "table1.status.refractory", "n"),
    ("Relapsed (median of 10 cycles of chemotherapy)", 1, "table1.status.relapsed", "n"),
    ("Transplant status", 0, None, None),
    ("Posttransplant relapse", 1, "table1.transplant.post", "n"),
    ("No previous transplant", 1, "table1.transplant.none", "n"),
)


def paper_table1(ch) -> J.JournalTable:
    """The paper's Table 1 (patient characteristics, N = 110), published beside reproduced."""
    v = _Values(ch)
    rows = []
    for label, ind, cid, style in PAPER_TABLE1:
        r = {"label": label, "indent": ind, "bold": ind == 0}
        if cid and style == "n":
            r["pub:n"] = v.printed(cid)
            r["rep:n"] = v.reproduced(cid, J.fmt_count(v.field(cid, "n")))
        elif cid:
            r["pub:med"] = v.printed(cid)
            r["rep:med"] = v.reproduced(cid, _median_rep(v, cid))
        rows.append(r)
    return _side_by_side(rows, [("n", "No."), ("med", "Median (range)")], "table1",
                         stub_label="Characteristic", notes=[_CELL_NOTE])


PAPER_TABLE2 = (
    ("Time to relapse before CAR T-cell therapy, mo", 0, None),
    ("≥18", 1, "table2.relapse_time.ge18"), ("&lt;18", 1, "table2.relapse_time.lt18"),
    ("Best response before CAR T-cell therapy", 0, None),
    ("CR1", 1, "table2.best_response.cr1"), ("CR2", 1, "table2.best_response.cr2"),
    ("NR", 1, "table2.best_response.nr"),
    ("Response after CAR T-cell therapy", 0, None),
    ("CR1", 1, "table2.response_after.cr1"), ("CR2", 1, "table2.response_after.cr2"),
    ("NR", 1, "table2.response_after.nr"),
)


def paper_table2(ch) -> J.JournalTable:
    """The paper's Table 2 (the 71 paediatric patients), published beside reproduced."""
    v = _Values(ch)
    rows = []
    for label, ind, cid in PAPER_TABLE2:
        r = {"label": label, "indent": ind, "bold": ind == 0}
        if cid:
            r["pub:n"], r["pub:pct"] = v.printed(cid, 0), v.printed(cid, 1)
            n, N = v.field(cid, "n"), v.field(cid, "N")
            with_n = "/" in v.printed(cid, 0)
            r["rep:n"] = v.reproduced(cid, f"{int(n)}/{int(N)}" if with_n and N else
                                      J.fmt_count(n))
            r["rep:pct"] = v.reproduced(cid, J.fmt_num(v.field(cid, "percent"),
                                                       _decimals(v.printed(cid, 1))))
        rows.append(r)
    return _side_by_side(rows, [("n", "n/N"), ("pct", "%")], "table2",
                         stub_label="Characteristic",
                         notes=["CR2, second complete remission; NR, no response.", _CELL_NOTE])


_GENES = re.compile(r"(BCR-ABL1?|TP53)([+-])?")
_SIGN = {"+": "<sup>+</sup>", "-": "<sup>−</sup>"}


def _html_label(text: str) -> str:
    """A row label of design.yml as the paper sets it: gene names in italics with their sign
    raised, <= and >= as one character, powers of ten raised."""
    t = J.esc(text).replace("&lt;=", "≤").replace("&gt;=", "≥").replace(" x 10^5",
                                                                       " × 10<sup>5</sup>")
    return _GENES.sub(lambda m: f"<i>{m.group(1)}</i>" + _SIGN.get(m.group(2) or "", ""), t)


def _factor_rows(factors) -> tuple:
    """(label HTML, factor key, ((level label HTML, level key), ...)) of each design factor."""
    return tuple((_html_label(fac.label), f, tuple((_html_label(lv.printed), k)
                                                   for k, lv in fac.levels.items()))
                 for f, fac in factors.items())


def _table3_layout() -> tuple[tuple, tuple]:
    """Table 3's factors and its outcomes (key, heading), from data/published/design.yml."""
    from cart19.record import design
    t3 = design.load().table3
    return _factor_rows(t3.factors), tuple((o, out.label) for o, out in t3.outcomes.items())


def paper_table3_ids(claims: pd.DataFrame) -> list[str]:
    """Every claim id of the paper's Table 3 (for ``chapter.load(..., ids=...)``)."""
    return [i for i in claims["id"] if str(i).startswith("table3.")]


def paper_table3(ch) -> J.JournalTable:
    """The paper's Table 3 whole: CR rate, grade 3-4 CRS, grade 2-3 neurotoxicity and CAR T-cell
    peak by subgroup, each printed row followed by the reproduced one."""
    v = _Values(ch)
    factors, outcomes = _table3_layout()
    cols = []
    for o, _ in outcomes:
        cols += [(f"{o}", "% ± SD" if o == "carpeak" else "n/N (%)"), (f"{o}.p", "<i>P</i>")]
    blocks = []
    for title, factor, levels in factors:
        pub = {f"{o}.p": v.printed(f"table3.{o}.{factor}.p") for o, _ in outcomes}
        rep = {f"{o}.p": v.reproduced(f"table3.{o}.{factor}.p", _p_rep(v, f"table3.{o}.{factor}.p"))
               for o, _ in outcomes}
        blocks.append({"label": title, "indent": 0, "bold": True, "pub": pub, "rep": rep})
        for label, lv in levels:
            pub, rep = {}, {}
            for o, _ in outcomes:
                cid = f"table3.{o}.{factor}.{lv}"
                pub[o] = v.printed(cid)
                rep[o] = v.reproduced(cid, _mean_rep(v, cid) if o == "carpeak" else
                                      _count_rep(v, cid))
            blocks.append({"label": label, "indent": 1, "pub": pub, "rep": rep})
    spanners = [(h, [o, f"{o}.p"]) for o, h in outcomes]
    notes = ["SD, standard deviation (as printed; the audit finds that the values behave as "
             "standard errors). Row labels as printed: the audit reads the <i>TP53</i> and "
             "previous-transplant labels as swapped.", _SIG_NOTE, _CELL_NOTE]
    return _sub_rows(blocks, cols, "table3", stub_label="Subgroup", spanners=spanners, notes=notes)


def paper_table4(ch) -> J.JournalTable:
    """The paper's Table 4: responders bridged into allo-HSCT (Yes) or not (No), each printed row
    followed by the reproduced one."""
    v = _Values(ch)
    cols = [("hsct.n", "No."), ("hsct.pct", "%"), ("no_hsct.n", "No."), ("no_hsct.pct", "%"),
            ("p", "<i>P</i>")]
    blocks = []
    from cart19.record import design
    for title, char, levels in _factor_rows(design.load().table4.characteristics):
        pcid = f"table4.{char}.p"
        p_on_level = char == "crs"  # the paper prints this P on the "0-2" row
        head = {"label": title, "indent": 0, "bold": True, "pub": {}, "rep": {}}
        if pcid in v.pub.index and not p_on_level:
            head["pub"]["p"] = v.printed(pcid)
            head["rep"]["p"] = v.reproduced(pcid, _p_rep(v, pcid))
        blocks.append(head)
        for k, (label, lv) in enumerate(levels):
            pub, rep = {}, {}
            for arm in ("hsct", "no_hsct"):
                cid = f"table4.{char}.{lv}.{arm}"
                if cid not in v.pub.index:
                    continue
                pub[f"{arm}.n"], pub[f"{arm}.pct"] = v.printed(cid, 0), v.printed(cid, 1)
                rep[f"{arm}.n"] = v.reproduced(cid, J.fmt_count(v.field(cid, "n")))
                rep[f"{arm}.pct"] = v.reproduced(cid, J.fmt_num(v.field(cid, "percent"),
                                                                _decimals(v.printed(cid, 1))))
            if p_on_level and k == 0 and pcid in v.pub.index:
                pub["p"], rep["p"] = v.printed(pcid), v.reproduced(pcid, _p_rep(v, pcid))
            blocks.append({"label": label, "indent": 1, "pub": pub, "rep": rep})
    cid = "table4.hsct_day"
    blocks.append({"label": "Median days to bridge into allo-HSCT (range)", "indent": 0,
                   "bold": True,
                   "pub": {"hsct.n": v.printed(cid, 0), "hsct.pct": v.printed(cid, 1)},
                   "rep": {"hsct.n": v.reproduced(cid, J.fmt_num(v.field(cid, "median"))),
                           "hsct.pct": v.reproduced(cid, "({}-{})".format(
                               J.fmt_num(v.field(cid, "min")), J.fmt_num(v.field(cid, "max"))))}})
    spanners = [("Yes", ["hsct.n", "hsct.pct"]), ("No", ["no_hsct.n", "no_hsct.pct"]),
                ("CAR T-cell therapy followed by allo-HSCT", None, ["Yes", "No"])]
    notes = [f"Among the {_published_count(ch, 'results.cr_day30')} patients in CR or CRi on "
             "day 30.", _SIG_NOTE, _CELL_NOTE]
    return _sub_rows(blocks, cols, "table4", stub_label="Characteristic", spanners=spanners,
                     notes=notes)


def _published_count(ch, cid: str) -> str:
    """A count as the paper prints it (claims.csv ``n``), from the whole record."""
    frame = getattr(ch, "claims", ch.published)
    n = frame.loc[frame["id"] == cid, "n"]
    return "" if not len(n) or pd.isna(n.iloc[0]) else f"{int(n.iloc[0])}"


def _label_text(text: str) -> str:
    """A design label as the book prints it (<= -> ≤, >= -> ≥, a minus sign)."""
    return J.esc(text).replace("&lt;=", "≤").replace("&gt;=", "≥")


def paper_table5(ch, note: str | None = None) -> J.JournalTable:
    """The paper's Table 5 (multivariable Cox models of OS and LFS), published beside reproduced,
    every row in one direction: the hazard of the higher-risk level relative to the other
    (``data/published/design.yml``: ``exposed`` vs ``reference``, as
    :func:`cart19.comparison.hazard.table5_display` reads it). Where the paper prints a row the
    other way round, both the printed and the reproduced values are turned (1/HR, 1/upper,
    1/lower) and a lettered footnote quotes the printed row. ``note``: how the reproduced hazard
    ratios were fitted (a footnote)."""
    from cart19.comparison.hazard import turn
    from cart19.record import design

    t5 = design.load().table5
    v = _Values(ch)
    rows, turned_notes = [], []
    for ep, name in (("os", "OS"), ("lfs", "LFS")):
        for factor, cov in t5.covariates.items():
            cid = f"table5.{ep}.{factor}"
            flip = t5.printed_hr_of(factor, ep) != "exposed"
            label = f"{_label_text(cov.exposed.label)} vs {_label_text(cov.reference.label)}"
            pub = [v.field(cid, f, "pub") for f in ("hr", "ci_low", "ci_high")]
            rep = [v.field(cid, f) for f in ("hr", "ci_low", "ci_high")]
            dec = max(_decimals(v.printed(cid, 0)), 2)
            if flip:
                pub = list(turn(*map(float, pub))) if None not in pub else pub
                rep = list(turn(*map(float, rep))) if None not in rep else rep
                letter = "abcdefghijklmnop"[len(turned_notes)]
                turned_notes.append(
                    f"<sup>{letter}</sup> Printed as '{J.esc(cov.labels[ep])}' "
                    f"{J.esc(v.printed(cid, 0))} ({J.esc(v.printed(cid, 1))}), the hazard of "
                    f"{_label_text(cov.reference.label)} relative to "
                    f"{_label_text(cov.exposed.label)}: turned here.")
                label += f"<sup>{letter}</sup>"

            def hr_text(x, lo, hi):
                if x is None or lo is None:
                    return "", ""
                return J.fmt_num(x, dec), f"{J.fmt_num(lo, dec)}-{J.fmt_num(hi, dec)}"

            pub_hr, pub_ci = hr_text(*pub)
            rep_hr, rep_ci = hr_text(*rep)
            rows.append({"label": label, "group": name,
                         "pub:hr": J.esc(pub_hr), "pub:ci": J.esc(pub_ci),
                         "pub:p": v.printed(cid, 2),
                         "rep:hr": v.reproduced(cid, rep_hr), "rep:ci": v.reproduced(cid, rep_ci),
                         "rep:p": v.reproduced(cid, _p_rep(v, cid))})
    notes = ["Every row is the hazard of the first-named level relative to the second (the "
             "higher-risk level first); the scorecard compares each row in the orientation the "
             "paper prints it, on the log scale."] + turned_notes
    notes += [n for n in (note, _SIG_NOTE, _CELL_NOTE) if n]
    return _side_by_side(rows, [("hr", "HR"), ("ci", "95% CI"), ("p", "<i>P</i>")], "table5",
                         stub_label="Subgroup", notes=notes, groups=True)
