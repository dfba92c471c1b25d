"""Numbers in prose carry the unit and scale of what they glue (issue 14, item 5).

A chapter's prose writes units after glued numbers ("{glue:text}`dose_median` x 10<sup>5</sup>
CAR T cells/kg", "{glue:text}`fu_median` days", "{glue:text}`os_all`%"). Each such number, as
the committed notebook glued it, is checked against what it glues:

- a number glued from a claim (``ch.value("id", "field")``, ``ch.scaled(...)``,
  ``claims.loc["id", "field"]``) times the power of ten the prose writes must be the claim's
  printed value to within a factor of 3 (a reconstruction differs; a wrong scale is off by
  orders of magnitude), the power must be the one the paper prints the claim in, a "%" must
  glue a percentage, and days / months / years must be the claim's unit;
- a number the chapter computes must not be written with a power of ten (only a claim has one),
  a "%" must lie in [0, 100], a duration must not be negative.

The median-dose sentence of chapter 05 once read "300000 x 10^5 CAR T cells/kg" (the claim's
cells/kg value before its printed power of ten): the first rule catches it
(:func:`test_the_rules_catch_the_dose_scale_error`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cart19 import paths
from cart19.record.claims import load_claims, printed_power

NOTEBOOKS = paths.ROOT / "notebooks"
BOOK = paths.ROOT / "book"

_REF = re.compile(r"""(?:ch\.value|ch\.scaled)\(\s*['"]([\w.]+)['"](?:\s*,\s*['"](\w+)['"])?"""
                  r"""|\.loc\[\s*['"]([\w.]+)['"]\s*,\s*['"](\w+)['"]\s*\]""")
_GLUE = re.compile(r"""glue\(\s*['"](\w+)['"]\s*,(.*?)(?:,\s*display=False)?\)\s*(?:#.*)?$""", re.M)
#: a glued number in prose and the unit written right after it
_USE = re.compile(r"\{glue:text\}`(\w+)(?::[^`]*)?`"
                  r"(?P<unit>%|\s*(?:x|×)\s*10\s*(?:<sup>|\^)\s*(?P<pow>\d+)(?:</sup>)?"
                  r"|\s+(?:percentage points?|days?|months?|years?)\b)")
_WORDS = ("day", "month", "year")


def _glued(nb: Path) -> dict[str, str]:
    """glue key -> its text as the committed notebook glued it."""
    out = {}
    for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
        for o in cell.get("outputs", []):
            name = (o.get("metadata", {}).get("scrapbook", {}) or {}).get("name")
            text = o.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                text = "".join(text) if isinstance(text, list) else text
                out[name] = text.strip("'\"")
    return out


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("\u2212", "-"))
    except ValueError:
        return None


def _sources(md: str) -> tuple[str, dict[str, tuple[str, str | None, str]]]:
    """(prose, glue key -> (claim id, field, expression)) of a chapter's MyST source; a key whose
    expression names no claim, or more than one, maps to (None, None, expression)."""
    cells = re.split(r"^```\{code-cell\}[^\n]*\n(.*?)^```", md, flags=re.M | re.S)
    prose = "".join(cells[0::2])
    code = "\n".join(cells[1::2])
    keys = {}
    for key, expr in _GLUE.findall(code):
        refs = {(m[0] or m[2], m[1] or m[3] or None) for m in _REF.findall(expr)}
        keys[key] = (*refs.pop(), expr) if len(refs) == 1 else (None, None, expr)
    return prose, keys


def _unit(m: re.Match) -> tuple[str, int]:
    u = m.group("unit").strip()
    if m.group("pow"):
        return "power", int(m.group("pow"))
    if u == "%":
        return "%", 0
    return ("pp" if u.startswith("percentage") else u.rstrip("s") + "s"), 0


def check(md: str, glued: dict[str, str], claims) -> list[str]:
    """Every problem of one chapter (its MyST source and its glued values) under the rules of
    the module docstring."""
    prose, keys = _sources(md)
    c = claims.set_index("id")
    problems = []
    for m in _USE.finditer(prose):
        key = m.group(1)
        unit, k = _unit(m)
        where = f"{{glue:text}}`{key}`{m.group('unit')}"
        v = _number(glued.get(key, ""))
        if key not in glued or v is None:
            problems.append(f"{where}: glued value {glued.get(key)!r} is not a number")
            continue
        cid, field, expr = keys.get(key, (None, None, ""))
        fields = set(claims.columns)
        if cid in c.index and field in fields:
            row = c.loc[cid]
            if unit == "power" and printed_power(row["printed"]) != k:
                problems.append(f"{where}: {cid} is printed {row['printed']!r}, not in 10^{k}")
            unit_text = str(row.get("unit") or "")
            target_field = field
            if unit == "%" and field != "percent" and "%" not in unit_text:
                if "100" in expr and row.get("percent") == row.get("percent"):
                    target_field = "percent"  # 100 * n / N: compared with the printed percent
                else:
                    problems.append(f"{where}: {cid}.{field} is in {unit_text or 'no unit'}, "
                                    f"not %")
            pub = row.get(target_field)
            if unit in ("days", "months", "years") and field in ("median", "mean", "min", "max",
                                                                 "value") \
                    and unit_text and unit[:-1] not in unit_text:
                problems.append(f"{where}: {cid} is in {unit_text!r}")
            if pub is not None and pub == pub and pub != 0 and v != 0:
                ratio = v * 10 ** k / float(pub)
                if not 1 / 3 <= ratio <= 3:
                    problems.append(f"{where}: {v:g} x 10^{k} in the prose, {cid}.{target_field}"
                                    f" is {float(pub):g} (ratio {ratio:.3g})")
        else:
            if unit == "power":
                problems.append(f"{where}: a computed number written x 10^{k} (only a claim is "
                                f"printed in a power of ten)")
            elif unit == "%" and not 0 <= v <= 100:
                problems.append(f"{where}: {v:g}% is not a percentage")
            elif unit in ("days", "months", "years") and v < 0:
                problems.append(f"{where}: a negative duration {v:g}")
    return problems


@pytest.fixture(scope="module")
def claims():
    return load_claims(paths.CLAIMS_CSV)


def _chapters():
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.md") if (BOOK / f"{p.stem}.ipynb").exists())


@pytest.mark.parametrize("chapter", _chapters())
def test_numbers_in_prose_have_the_unit_and_scale_of_what_they_glue(chapter, claims):
    md = (NOTEBOOKS / f"{chapter}.md").read_text(encoding="utf-8")
    problems = check(md, _glued(BOOK / f"{chapter}.ipynb"), claims)
    assert not problems, "\n".join(problems)


def test_the_dose_sentence_is_right(claims):
    """Chapter 05: the median dose is written as the paper prints it, m x 10^5 CAR T cells/kg,
    and m is the reconstructed cohort's median in that scale."""
    md = (NOTEBOOKS / "05_products.md").read_text(encoding="utf-8")
    assert "{glue:text}`dose_median` x 10<sup>5</sup> CAR T cells/kg" in md
    v = float(_glued(BOOK / "05_products.ipynb")["dose_median"])
    pub = claims.set_index("id").loc["results.dose.median"]
    assert printed_power(pub["printed"]) == 5
    assert 0.2 <= v <= 10 and abs(v * 1e5 - pub["median"]) / pub["median"] < 0.5


def test_the_rules_catch_the_dose_scale_error(claims):
    md = ("The median dose was {glue:text}`dose_median` x 10<sup>5</sup> CAR T cells/kg.\n"
          "```{code-cell} ipython3\n"
          "glue(\"dose_median\", f\"{ch.value('results.dose.median', 'median'):g}\", display=False)\n"
          "```\n")
    (problem,) = check(md, {"dose_median": "300000"}, claims)
    assert "ratio 1e+05" in problem
    assert check(md, {"dose_median": "3"}, claims) == []


@pytest.mark.parametrize("prose, glued, expr, expect", [
    ("{glue:text}`x` days", "233.5", "claims.loc['table1.age', 'median']", "is in 'years'"),
    ("{glue:text}`x`%", "12", "ch.value('table1.age', 'median')", "not %"),
    ("{glue:text}`x` x 10<sup>3</sup>", "300", "ch.value('results.dose.median', 'median')",
     "not in 10^3"),
    ("{glue:text}`x` x 10<sup>5</sup>", "3", "n / 2", "a computed number"),
    ("{glue:text}`x`%", "140", "100 * a / b", "not a percentage"),
    ("{glue:text}`x` days", "-3", "d.min()", "negative duration"),
    ("{glue:text}`x`%", "abc", "s", "not a number"),
])
def test_each_rule_can_fail(prose, glued, expr, expect, claims):
    md = f"{prose}\n```{{code-cell}} ipython3\nglue(\"x\", {expr}, display=False)\n```\n"
    problems = check(md, {"x": glued}, claims)
    assert problems and expect in problems[0], problems
