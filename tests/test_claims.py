"""Tests of the published record (data/published/claims.csv) and its loader (cart19.record.claims).

Three kinds of test:
* spot checks: hand-picked numbers read off the paper, compared with the record;
* bad input: malformed copies of the CSV must raise InputError naming file, column, row, rule;
* coverage: every number printed in the paper's title, abstract, introduction, methods,
  results, discussion, Tables 1-5 and figure captions must appear in the `printed` text of
  a row of the same source, as many times as it is printed there; every `printed` text must
  be a verbatim piece of its section; every parsed field must be a number of its `printed`.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from cart19 import paths
from cart19.record.claims import COLUMNS, KINDS, SOURCES, claim, load_claims
from cart19.errors import InputError

PAPER = Path(os.environ.get("CART19_PAPER", "/work/shared/paper/zhang2020_bloodadv_cd19_cart_ball.txt"))
EXPECTED_SHA_PREFIX = "ae00d5db1e495e53"  # sha256 of the transcribed paper text


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return load_claims()


# ------------------------------------------------------------------ the committed record


def test_committed_record_loads(claims):
    assert list(claims.columns) == COLUMNS
    assert len(claims) >= 500
    assert claims["id"].is_unique
    assert set(claims["source"]) <= SOURCES
    assert set(claims["kind"]) <= KINDS
    assert claims["n"].dtype == "Int64" and claims["N"].dtype == "Int64"


def test_every_table_and_caption_is_in_the_record(claims):
    have = set(claims["source"])
    for src in ["abstract", "intro", "methods", "results", "discussion", "table1", "table2", "table3",
                "table4", "table5", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7"]:
        assert src in have, src


def test_table3_is_complete(claims):
    """Table 3: 4 outcomes x 20 subgroup rows + 4 outcomes x 10 P values."""
    t3 = claims[claims["source"] == "table3"]
    cells = t3[t3["id"].str.count(r"\.") == 3]
    assert len(cells) == 80 + 40
    assert (cells["id"].str.endswith(".p") == (cells["kind"] == "p")).all()


def test_claim_lookup(claims):
    assert claim(claims, "table1.sex.male")["n"] == 68
    with pytest.raises(KeyError, match="no.such.id"):
        claim(claims, "no.such.id")


# ------------------------------------------------------------------ spot checks against the paper

SPOT = [
    # id, {column: expected}
    ("table3.cr.age.2_14", dict(n=66, N=71, percent=92.9, kind="proportion")),
    ("table3.cr.age.p", dict(p=1, p_cmp="=")),
    ("table3.cr.sex.p", dict(p=0.052, p_cmp="=")),
    ("table3.carpeak.tp53.neg", dict(mean=38.42, dispersion=6.641, dispersion_label="SD")),
    ("table3.cr.tp53.pos", dict(n=91, N=98, percent=92.9)),
    ("table3.cr.prior_hsct.none", dict(n=15, N=16, percent=93.8)),
    ("table3.crs34.blasts20.p", dict(p=0.002, p_cmp="=")),
    ("table3.neuro23.bcr_abl.pos", dict(n=0, N=14, percent=0)),
    ("table5.os.hsct", dict(hr=12.25, ci_low=4.774, ci_high=31.438, p=0.001, p_cmp="<")),
    ("table5.lfs.tp53", dict(hr=0.279, ci_low=0.092, ci_high=0.849, p=0.025, p_cmp="=")),
    ("table5.lfs.emd", dict(hr=1.192, ci_low=0.455, ci_high=3.123, p=0.72)),
    ("fig3.lfs.hr", dict(hr=35.45, ci_low=11.6, ci_high=108.4)),
    ("fig3.os.hr", dict(hr=0.048, ci_low=0.016, ci_high=0.148)),
    ("fig6.os.hr", dict(hr=61.75, ci_low=11.35, ci_high=336.1)),
    ("fig6.os.tp53_pos.6m", dict(percent=51.9, value=6, unit="months", kind="km_landmark")),
    ("fig4.cri", dict(n=61, N=102, percent=60)),
    ("fig7.os.p", dict(p=0.009, p_cmp="=")),
    ("table1.age", dict(median=12, min=2, max=61)),
    ("table1.bm_blasts", dict(median=8.75, min=0, max=96)),
    ("table1.status.relapsed.cycles", dict(median=10)),
    ("table2.response_after.nr", dict(n=7, N=8, percent=88)),
    ("table4.sex.male.no_hsct", dict(n=19, percent=76)),
    ("table4.status.p", dict(p=0.001, p_cmp="<")),
    ("table4.crs.p", dict(p=0.985)),
    ("table4.hsct_day", dict(median=63, min=36, max=120, unit="days")),
    ("results.followup", dict(median=233.5, min=27, max=478, unit="days")),
    ("results.mrd_neg_cr", dict(n=96, N=110, percent=87.3)),
    ("results.cr_day30", dict(n=102, percent=92.7)),
    ("results.relapse.total", dict(n=23, N=102, percent=22.5)),
    ("results.crs.grade34", dict(n=18, N=110, percent=16)),
    ("results.fig2.os.all.1y", dict(percent=63.9, value=1, unit="years")),
    ("results.cns.csf_blasts", dict(median=414, min=20, max=8415)),
    ("results.dose.median", dict(median=3e5, min=2e4, max=1e6)),
    ("results.no_hsct.relapse", dict(n=13, N=27, percent=48.2)),
    ("results.fig5.lfs.ci", dict(ci_low=0.22, ci_high=0.92, kind="ci")),
    ("abstract.mv.hsct.hr", dict(hr=16.546, ci_low=5.499, ci_high=49.786)),
    ("abstract.hsct.n", dict(n=75, percent=73.5)),
    ("discussion.lfs.hsct.1y", dict(percent=76.6)),
    ("discussion.neuro23.costim.p", dict(p=0.001, p_cmp="<")),
    ("methods.bridging", dict(n=85, N=115, percent=73.9)),
    ("methods.vein_to_vein", dict(median=14, min=9, max=35)),
]


@pytest.mark.parametrize("cid,expected", SPOT, ids=[s[0] for s in SPOT])
def test_spot_values(claims, cid, expected):
    row = claim(claims, cid)
    for col, want in expected.items():
        got = row[col]
        if isinstance(want, str):
            assert got == want, (cid, col, got, want)
        else:
            assert got == pytest.approx(want, rel=1e-9), (cid, col, got, want)


def test_suspicious_labels_are_kept_and_noted(claims):
    for cid in ["table3.cr.tp53.pos", "table3.cr.prior_hsct.none"]:
        assert "swapped" in claim(claims, cid)["note"]
    assert "76" in claim(claims, "table4.sex.male.no_hsct")["printed"]
    assert "70.4" in claim(claims, "table4.sex.male.no_hsct")["note"]


# ------------------------------------------------------------------ bad input


def _rows(path=paths.CLAIMS_CSV):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(tmp_path, rows, fields=COLUMNS, name="bad_claims.csv"):
    out = tmp_path / name
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out


def _row_of(rows, cid):
    return next(i for i, r in enumerate(rows) if r["id"] == cid)


def _assert_names(err: InputError, file: Path, column: str | None, row: int | None, *rule_bits: str):
    msg = str(err)
    assert file.name in msg, msg
    if column is not None:
        assert f"column {column!r}" in msg, msg
        assert err.column == column
    if row is not None:
        assert f"row {row}" in msg, msg
        assert err.row == row
    for bit in rule_bits:
        assert bit in msg, (bit, msg)
    assert err.failures if hasattr(err, "failures") else True


def _mutate(cid, **changes):
    def f(rows):
        i = _row_of(rows, cid)
        rows[i].update(changes)
        return i + 2  # the spreadsheet row: the header is row 1
    return f


BAD_CELLS = [
    # (label, mutation returning the spreadsheet row, column blamed, rule fragment)
    ("unparseable_p", _mutate("table3.cr.sex.p", p="abc"), "p", "not a number"),
    ("n_gt_N", _mutate("table3.cr.age.2_14", n="80"), "n", "n must not exceed N"),
    ("percent_120", _mutate("table3.cr.age.2_14", percent="120"), "percent", "0-100"),
    ("p_cmp_without_p", _mutate("table1.sex.male", p_cmp="="), "p_cmp", "p_cmp must be given exactly when p is given"),
    ("p_without_p_cmp", _mutate("table3.cr.sex.p", p_cmp=""), "p_cmp", "p_cmp must be given exactly when p is given"),
    ("p_above_1", _mutate("table3.cr.sex.p", p="1.2"), "p", "0-1"),
    ("negative_n", _mutate("table1.sex.male", n="-3"), "n", ">= 0"),
    ("fractional_n", _mutate("table1.sex.male", n="3.5"), "n", "whole number"),
    ("median_above_max", _mutate("table1.age", median="70"), "median", "median must be <= max"),
    ("ci_reversed", _mutate("table5.os.hsct", ci_low="40"), "ci_low", "ci_low must be <= ci_high"),
    ("hr_zero", _mutate("table5.os.hsct", hr="0"), "hr", "hr must be > 0"),
    ("bad_kind", _mutate("table1.sex.male", kind="tally"), "kind", "kind must be one of"),
    ("bad_source", _mutate("table1.sex.male", source="table9", id="table9.sex.male"), "source", "source must be one of"),
    ("id_not_under_source", _mutate("table1.sex.male", source="table2"), "id", "id must start with '<source>.'"),
    ("bad_id", _mutate("table1.sex.male", id="Table1 Sex"), "id", "id must match"),
    ("mean_without_dispersion", _mutate("table3.carpeak.age.2_14", dispersion=""), "dispersion",
     "mean and dispersion must be given together"),
    ("kind_fields", _mutate("table1.sex.male", n="", N=""), "kind", "fields its kind requires"),
    ("empty_printed", _mutate("table1.sex.male", printed=""), "printed", "must not be empty"),
]


@pytest.mark.parametrize("label,mutate,column,rule", BAD_CELLS, ids=[b[0] for b in BAD_CELLS])
def test_bad_cell_is_named(tmp_path, label, mutate, column, rule):
    rows = _rows()
    row = mutate(rows)
    path = _write(tmp_path, rows)
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, column, row, rule)
    assert len(ei.value.failures) >= 1


def test_duplicate_id(tmp_path):
    rows = _rows()
    rows[9]["id"] = rows[8]["id"]
    path = _write(tmp_path, rows)
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, "id", 11, "unique")


def test_all_failures_are_kept(tmp_path):
    rows = _rows()
    _mutate("table3.cr.age.2_14", percent="120")(rows)
    _mutate("table1.sex.male", n="-1")(rows)
    _mutate("table5.os.hsct", hr="0")(rows)
    path = _write(tmp_path, rows)
    with pytest.raises(InputError) as ei:
        load_claims(path)
    assert len(ei.value.failures) == 3
    assert "2 other failure" in str(ei.value)
    assert {f["column"] for f in ei.value.failures} == {"percent", "n", "hr"}


def test_missing_column(tmp_path):
    path = _write(tmp_path, _rows(), fields=[c for c in COLUMNS if c != "percent"])
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, "percent", None, "header row lacks required column")


def test_unknown_column(tmp_path):
    rows = _rows()
    for r in rows:
        r["extra"] = "x"
    path = _write(tmp_path, rows, fields=COLUMNS + ["extra"])
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, "extra", None, "unknown column")


def test_empty_file(tmp_path):
    path = tmp_path / "empty_claims.csv"
    path.write_text("")
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, None, None, "file is empty")


def test_header_only(tmp_path):
    path = _write(tmp_path, [])
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, None, None, "no data rows")


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, None, None, "missing")


def test_non_utf8(tmp_path):
    rows = _rows()
    path = _write(tmp_path, rows)
    data = path.read_bytes().split(b"\n")
    # data line 3 (physical line 4): put a Latin-1 byte into the `printed` cell
    target = rows[2]["printed"].encode("utf-8")
    assert target in data[3]
    data[3] = data[3].replace(target, target + b"\xb5", 1)
    path.write_bytes(b"\n".join(data))
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, "printed", 4, "not valid UTF-8")


def test_ragged_row(tmp_path):
    path = _write(tmp_path, _rows())
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[5] += ",surplus"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_claims(path)
    _assert_names(ei.value, path, None, 6, "fields, header has")


# ------------------------------------------------------------------ coverage against the paper text

# Line ranges (1-based, inclusive) of each part of the paper in the text file, and the
# figure-caption lines that interrupt the Results.  Lines outside every range (authors,
# affiliations, submission dates, DOI, copyright, download banner, acknowledgments,
# authorship, references) are not part of the record.
SECTIONS = [
    (3, 3, "title"), (9, 12, "key_points"), (14, 14, "abstract"), (16, 18, "intro"), (34, 34, "fig1"),
    (36, 36, "intro"), (38, 58, "methods"), (60, 96, "table1"), (98, 100, "methods"), (102, 117, "table2"),
    (119, 129, "methods"), (131, 170, "table3"), (172, 278, "results"), (280, 285, "discussion"),
    (286, 337, "table4"), (339, 347, "discussion"), (349, 369, "table5"), (373, 387, "discussion"),
]
CAPTIONS = {189: "fig2", 204: "fig3", 206: "fig3", 219: "fig4", 236: "fig5", 253: "fig6", 268: "fig7"}
TABLES = {"table1", "table2", "table3", "table4", "table5"}

# Numbers that are not values, removed before counting (pattern, reason).
EXCLUDED = [
    (r"\^\{[\d,\-–]+\}", "reference citation (superscript)"),
    (r"χ\^2", "chi-square symbol"),
    (r"\b(?:supplemental )?(?:Tables?|Figures?) S?\d+(?:[A-D](?:-[A-D])?)?(?: and \d+)?\.?", "table/figure number"),
    (r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December)\b",
     "day of a calendar date"),
    (r"\b(?:19|20)\d\d\b", "calendar year"),
    (r"\bNCT\d+", "trial registration number"),
    (r"CD ?19|CD28|CD3|CD8|4-1BB|IKZF1|TP53|BCR-ABL1?|TEL-AML1|E2A-PBX1|E2A-HLF|P190|P210|FMC63|X-VIVO 15|"
     r"interleukin-2", "gene, marker, construct or product name"),
    (r"\bCNS-\d", "CNS status label"),
    (r"\bCR ?[12]\b", "remission label (CR1/CR2)"),
    (r"phase 1/2", "trial phase label"),
    (r"\b[Gg]rades? \d(?: (?:to|or|and) (?:grade )?\d)?", "toxicity grade label"),
    (r"Prism 5|version 16\.0|2-sided", "software version / test sidedness"),
    (r"95% (?:CI|confidence interval)", "confidence level of a CI"),
    (r"\b(?:1|One|one)-year\b|at 6 months", "landmark time label (carried in value/unit of km_landmark rows)"),
    (r"\bages? (?:between )?2 (?:to|and) 14(?: years)?|older than (?:age )?14(?: years)?|age 2 and 14 years",
     "age-group label"),
    (r"BM blasts? (?:were )?[≥≤<>] ?\d+%|(?<=vs )[≥≤<>] ?\d+%", "BM-blast group label"),
    (r"[<≥] ?3 ?× ?10\^5(?: cells per kg)?", "dose-group label"),
]
WORDS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety").split()
WORD_RE = rf"\b(?:{'|'.join(WORDS)})(?:-(?:{'|'.join(WORDS[:9])}))?\b|\bhalf\b"
TOKEN_RE = re.compile(rf"\d+(?:\.\d+)?(?:\^\d+)?|\.\d+|{WORD_RE}", re.IGNORECASE)


def _latex(s: str) -> str:
    for a, b in [("$", ""), ("\\geq", "≥"), ("\\leq", "≤"), ("\\times", "×"), ("\\%", "%")]:
        s = s.replace(a, b)
    return re.sub(r"([≥≤<>]) +", r"\1", s)


def _squash(s: str) -> str:
    """Compare text ignoring whitespace, italics markup and table-cell separators."""
    s = _latex(s).replace("\t", "|").replace("*", "").replace("<i>", "").replace("</i>", "")
    return re.sub(r"\s+", "", s)


def _tokens(s: str) -> Counter:
    return Counter(t.lower() for t in TOKEN_RE.findall(s))


@pytest.fixture(scope="module")
def paper_sections() -> dict[str, list[str]]:
    if not PAPER.exists():
        pytest.skip(f"paper text not found at {PAPER} (set CART19_PAPER)")
    lines = PAPER.read_text(encoding="utf-8").split("\n")
    out: dict[str, list[str]] = {}
    for lo, hi, src in SECTIONS:
        for no in range(lo, hi + 1):
            out.setdefault(CAPTIONS.get(no, src), []).append(lines[no - 1])
    return out


def test_paper_is_the_transcribed_version(paper_sections):
    """The line ranges above belong to this exact text; a changed file must be re-mapped."""
    text = PAPER.read_bytes()
    assert hashlib.sha256(text).hexdigest().startswith(EXPECTED_SHA_PREFIX), "paper text changed: re-map SECTIONS"
    assert paper_sections["table3"][0].startswith("Table 3.")
    assert paper_sections["table5"][0].startswith("Table 5.")
    assert paper_sections["fig3"][0].startswith("Figure 3.")
    assert paper_sections["results"][0] == "Results"
    assert paper_sections["discussion"][0] == "Discussion"


def _countable(line: str, src: str) -> str:
    """The part of a paper line whose numbers are values (table row labels and exclusions removed)."""
    if src in TABLES and "\t" in line:
        label, *cells = line.split("\t")
        # numbers inside row labels are group names, except "median of N cycles" (Table 1)
        kept = re.findall(r"median of \d+ cycles", label)
        line = " ".join(kept + cells)
    line = _latex(line).replace("*", " ")
    for pat, _reason in EXCLUDED:
        line = re.sub(pat, " ", line)
    return line


def test_every_printed_number_is_recorded(claims, paper_sections):
    """Each number of each section appears in `printed` of that source's rows at least as often."""
    misses = []
    total = 0
    for src, lines in paper_sections.items():
        want = Counter()
        for line in lines:
            want += _tokens(_countable(line, src))
        total += sum(want.values())
        have = Counter()
        for printed in claims.loc[claims["source"] == src, "printed"]:
            have += _tokens(_latex(printed))
        missing = want - have
        misses += [f"{src}: {tok!r} x{k}" for tok, k in sorted(missing.items())]
    assert total > 900
    assert not misses, f"{len(misses)} printed number(s) of {total} not in the record:\n" + "\n".join(misses)


def test_printed_is_verbatim(claims, paper_sections):
    """`printed` is a piece of its own section's text (ignoring whitespace and italics markup)."""
    squashed = {src: _squash("\n".join(lines)) for src, lines in paper_sections.items()}
    bad = [f"{r.id}: {r.printed!r}" for r in claims.itertuples()
           if _squash(r.printed) not in squashed.get(r.source, "")]
    assert not bad, "printed text not found in its section:\n" + "\n".join(bad)


def _numbers_in(printed: str) -> set[float]:
    """Every number a `printed` text can stand for (absolute values; 'a × 10^k' scaled; words)."""
    words = {w: i + 1 for i, w in enumerate(WORDS[:19])}
    words.update({w: 10 * (i + 2) for i, w in enumerate(WORDS[19:])})
    s = _latex(printed).replace("⁵", "^5").replace("⁶", "^6")
    out = set()
    for tok in TOKEN_RE.findall(s):
        t = tok.lower()
        if t == "half":
            out.add(0.5)
        elif t[0].isalpha():
            parts = t.split("-")
            out.add(float(sum(words[p] for p in parts)))
        elif "^" not in t:
            out.add(float(t))
    for k in re.findall(r"10 ?\^(\d)", s):
        out |= {x * 10 ** int(k) for x in list(out)}
    return out


def test_parsed_fields_come_from_printed(claims):
    """Every parsed number (except N and value, which may come from context) is a number of `printed`."""
    cols = ["n", "percent", "mean", "dispersion", "median", "min", "max", "hr", "ci_low", "ci_high", "p"]
    bad = []
    for r in claims.to_dict("records"):
        nums = _numbers_in(r["printed"])
        for c in cols:
            v = r[c]
            if v is None or pd.isna(v):
                continue
            if not any(abs(abs(float(v)) - x) <= 1e-9 * max(1.0, x) for x in nums):
                bad.append(f"{r['id']}.{c}={v} not in {r['printed']!r}")
    assert not bad, "\n".join(bad)


def test_exclusion_patterns_are_live_and_narrow(paper_sections):
    """Each exclusion pattern hits the paper at least once (no dead rules), and none swallows a
    count or a percentage written next to a label."""
    text = _latex("\n".join(line for lines in paper_sections.values() for line in lines))
    for pat, reason in EXCLUDED:
        assert re.search(pat, text), f"exclusion never used: {reason}"
    probe = "84 (76%) of the 110 patients had grade 1 to 2 CRS; BM blasts ≥5% (88.2% vs 100%)"
    for pat, _ in EXCLUDED:
        probe = re.sub(pat, " ", probe)
    assert _tokens(probe) == _tokens("84 76 110 88.2 100")


def _printed_decimals(printed: str, value: float) -> int:
    """Decimals with which `value` is written in `printed` ("87.0" -> 1, "63" -> 0)."""
    for tok in re.findall(r"\d+(?:\.\d+)?", printed):
        if float(tok) == value:
            return len(tok.split(".")[1]) if "." in tok else 0
    raise AssertionError(f"{value} not written in {printed!r}")


def test_odd_percentages_carry_a_note(claims):
    """Where the printed % is not n/N rounded to the printed decimals, the row says so in `note`."""
    bad = []
    for r in claims.dropna(subset=["n", "N", "percent"]).itertuples():
        exact = 100 * int(r.n) / int(r.N)
        d = _printed_decimals(r.printed, r.percent)
        if abs(exact - r.percent) > 0.5 * 10 ** -d + 1e-9 and not r.note:
            bad.append(f"{r.id}: {r.printed!r} ({int(r.n)}/{int(r.N)} = {exact:.2f}%)")
    assert not bad, "percentages that do not match n/N and have no note:\n" + "\n".join(bad)


def test_landmark_times_have_units(claims):
    km = claims[claims["kind"] == "km_landmark"]
    assert len(km) >= 60
    assert set(km["unit"]) <= {"days", "months", "years"}
    assert (km["value"] > 0).all()
