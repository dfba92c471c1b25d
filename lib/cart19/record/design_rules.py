"""The rules ``data/published/design.yml`` must satisfy, checked by :func:`cart19.record.design.load`.

:func:`parse` reads the file into a :class:`~cart19.record.design.Design` (YAML, then pydantic for
the structure); :func:`check_structure` checks its references (every literal names an attribute,
every group exists, each claim is defined once); :func:`check_against` checks it against
claims.csv and readings.csv (every claim and reading exists, every orientation agrees with the
printed value and the arm the caption calls better). A broken rule raises
:class:`cart19.errors.InputError` naming the file, the key path and the rule.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from cart19.errors import InputError

if TYPE_CHECKING:
    from cart19.record.design import Design


def _fail(path, where: str, rule: str):
    raise InputError(path, f"key {where}: {rule}" if where else rule)


def _loc(loc) -> str:
    return ".".join(str(x) for x in loc)


def parse(path: Path) -> Design:
    """design.yml as a :class:`~cart19.record.design.Design`, its structure checked."""
    from cart19.record.design import Design
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(path, f"not valid YAML{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        _fail(path, "", "the file must hold a mapping of sections")
    try:
        d = Design.model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        _fail(path, _loc(e["loc"]), e["msg"].lower() + more)
    comps = {k: c.model_copy(update={"name": k, "groups": d.groups})
             for k, c in d.comparisons.items()}
    return d.model_copy(update={"comparisons": comps, "path": str(path)})


def _literals(d: Design):
    """(key path, literal list) of every ``where`` in the design."""
    yield from _group_literals(d)
    yield from _table_literals(d)
    yield from _row_literals(d)


def _group_literals(d: Design):
    """Groups, rate comparisons and the outcomes of Table 3."""
    for k, g in d.groups.items():
        yield f"groups.{k}.where", g.where
    for k, rc in d.rate_comparisons.items():
        yield f"rate_comparisons.{k}.outcome", rc.outcome
        for a, arm in rc.arms.items():
            yield f"rate_comparisons.{k}.arms.{a}.where", arm.where
    for o, out in d.table3.outcomes.items():
        if out.where is not None:
            yield f"table3.outcomes.{o}.where", out.where


def _table_literals(d: Design):
    """The levels and arms of Tables 3-4, implications, the populations of Tables 1-2."""
    for tab, factors in (("table3.factors", d.table3.factors),
                         ("table4.characteristics", d.table4.characteristics)):
        for f, fac in factors.items():
            for lv, level in fac.levels.items():
                yield f"{tab}.{f}.levels.{lv}.where", level.where
    for a, arm in d.table4.arms.items():
        yield f"table4.arms.{a}.where", arm.where
    for k, implied in d.implications.items():
        yield f"implications.{k}", (k,) + tuple(implied)
    for tab in ("table1", "table2"):
        yield f"{tab}.population", getattr(d, tab).population


def _row_literals(d: Design):
    """The counts of Tables 1-2 and the text, summaries, ranges, Table 5's covariates."""
    for key, _, spec in _row_specs(d):
        yield f"{key}.n", spec.n
        if spec.N is not None:
            yield f"{key}.N", spec.N
        for i, a in enumerate(spec.also):
            yield f"{key}.also.{i}", a.where
    for cid, sm in d.summaries.items():
        yield f"summaries.{cid}.where", sm.where
    for cid, rg in d.ranges.items():
        yield f"ranges.{cid}.outcome", rg.outcome
        for i, g in enumerate(rg.groups):
            yield f"ranges.{cid}.groups.{i}", g
    for k, cov in d.table5.covariates.items():
        yield f"table5.covariates.{k}.exposed.where", cov.exposed.where
        yield f"table5.covariates.{k}.reference.where", cov.reference.where


def _row_specs(d: Design):
    """(key path, claim id, CountSpec) of Tables 1-2 and the text counts."""
    for tab in ("table1", "table2"):
        for cid, spec in getattr(d, tab).rows.items():
            yield f"{tab}.rows.{cid}", cid, spec
    for cid, spec in d.counts.items():
        yield f"counts.{cid}", cid, spec


_COUNT_KINDS = {"count", "proportion", "percent"}


def _claim_refs(d: Design):
    """(key path, claim id, kinds allowed or None) of every claim the design names."""
    yield from _day_claim_refs(d)
    yield from _survival_claim_refs(d)
    yield from _comparison_claim_refs(d)
    yield from _table_claim_refs(d)


def _day_claim_refs(d: Design):
    for k, day in d.days.items():
        for fld in ("claim", "plus_claim"):
            if getattr(day, fld):
                yield f"days.{k}.{fld}", getattr(day, fld), None


def _survival_claim_refs(d: Design):
    for f, sg in d.survival_groups.items():
        for g, eps in sg.groups.items():
            for ep, ids in eps.items():
                for cid in ids:
                    yield f"survival_groups.{f}.groups.{g}.{ep}", cid, {"km_landmark"}


def _comparison_claim_refs(d: Design):
    for name, c in d.comparisons.items():
        for ep, spec in c.endpoints.items():
            base = f"comparisons.{name}.endpoints.{ep}"
            for arm, ids in spec.landmarks.items():
                for cid in ids:
                    yield f"{base}.landmarks.{arm}", cid, {"km_landmark"}
            for cid in spec.p:
                yield f"{base}.p", cid, {"p"}
            if spec.hr:
                yield f"{base}.hr.claim", spec.hr.claim, {"hr"}
                for i, ci in enumerate(spec.hr.ci):
                    yield f"{base}.hr.ci.{i}.claim", ci.claim, {"ci"}
    yield from _rate_claim_refs(d)


def _rate_claim_refs(d: Design):
    for k, rc in d.rate_comparisons.items():
        for cid in rc.p:
            yield f"rate_comparisons.{k}.p", cid, {"p"}
        for arm, ids in rc.rates.items():
            for cid in ids:
                yield f"rate_comparisons.{k}.rates.{arm}", cid, None


def _table_claim_refs(d: Design):
    for o, out in d.table3.outcomes.items():
        if out.total:
            yield f"table3.outcomes.{o}.total", out.total, None
    for a, arm in d.table4.arms.items():
        yield f"table4.arms.{a}.total", arm.total, None
    for key, cid, _ in _row_specs(d):
        yield key, cid, _COUNT_KINDS
    for cid in d.summaries:
        yield f"summaries.{cid}", cid, {"median", "range"}
    for cid in d.ranges:
        yield f"ranges.{cid}", cid, {"range"}
    for cid, orig in d.repeats.items():
        yield f"repeats.{cid}", cid, None
        yield f"repeats.{cid}", orig, None
    for cid in d.table5.abstract:
        yield f"table5.abstract.{cid}", cid, {"hr"}


def _reading_refs(d: Design):
    for k, day in d.days.items():
        yield f"days.{k}.reading", day.reading
    for k, e in d.endpoints.items():
        yield f"endpoints.{k}.reading", e.reading
    for name, c in d.comparisons.items():
        for ep, spec in c.endpoints.items():
            if spec.hr:
                yield f"comparisons.{name}.endpoints.{ep}.hr.reading", spec.hr.reading
    for o, out in d.table3.outcomes.items():
        yield f"table3.outcomes.{o}.reading", out.reading
    for tab, factors in (("table3.factors", d.table3.factors),
                         ("table4.characteristics", d.table4.characteristics)):
        for f, fac in factors.items():
            yield f"{tab}.{f}.reading", fac.reading
    yield "table5.reading", d.table5.reading
    for k, c in d.calendar.items():
        yield f"calendar.{k}.reading", c.reading


def check_structure(d: Design, path) -> None:
    """Rules within the file: literals, groups, criteria, Table 3 factors, Table 5 endpoints."""
    from cart19.record.attributes import check_rules
    check_rules(d.attributes, path, set(d.days))
    known = set(d.attributes)
    for where, lits in _literals(d):
        for lit in lits:
            if lit.lstrip("~") not in known:
                _fail(path, where, f"literal {lit!r} names no attribute (see attributes:)")
    _check_comparisons(d, path)
    _check_survival_groups(d, path)
    _check_tables(d, path)


def _check_comparisons(d: Design, path) -> None:
    """Each comparison: its groups defined, arms a and b, its endpoints and HR criteria defined."""
    for name, c in d.comparisons.items():
        base = f"comparisons.{name}"
        for key, g in [("population", c.population)] + [(f"arms.{a}.group", arm.group)
                                                          for a, arm in c.arms.items()]:
            if g not in d.groups:
                _fail(path, f"{base}.{key}", f"group {g!r} is not defined under groups:")
        if set(c.arms) != {"a", "b"}:
            _fail(path, f"{base}.arms", "a comparison has exactly the arms a and b")
        for ep, spec in c.endpoints.items():
            if ep not in d.endpoints:
                _fail(path, f"{base}.endpoints.{ep}", "endpoint is not defined under endpoints:")
            if spec.hr and spec.hr.criterion not in d.hr_criteria:
                _fail(path, f"{base}.endpoints.{ep}.hr.criterion",
                      f"criterion {spec.hr.criterion!r} is not defined under hr_criteria:")


def _check_survival_groups(d: Design, path) -> None:
    for f, sg in d.survival_groups.items():
        for g, eps in sg.groups.items():
            if g not in d.groups:
                _fail(path, f"survival_groups.{f}.groups.{g}", "group is not defined under groups:")
            for ep in eps:
                if ep not in d.endpoints:
                    _fail(path, f"survival_groups.{f}.groups.{g}.{ep}", "endpoint is not defined")


def _check_tables(d: Design, path) -> None:
    """Table 3 factors have two levels; Table 5 covariates name defined endpoints, exposed and
    reference once each; the Abstract's HRs name a covariate."""
    for f, fac in d.table3.factors.items():
        if len(fac.levels) != 2:
            _fail(path, f"table3.factors.{f}.levels", "a Table 3 factor has exactly two levels")
    for k, cov in d.table5.covariates.items():
        for ep in list(cov.printed) + list(cov.labels):
            if ep not in d.endpoints:
                _fail(path, f"table5.covariates.{k}", f"endpoint {ep!r} is not defined")
        if set(cov.printed[next(iter(cov.printed))]) != {"exposed", "reference"}:
            _fail(path, f"table5.covariates.{k}.printed", "names exposed and reference once each")
    for cid, ab in d.table5.abstract.items():
        if ab.covariate not in d.table5.covariates:
            _fail(path, f"table5.abstract.{cid}.covariate", f"{ab.covariate!r} is not a covariate")


def _orientation_rule(value: float, orientation: str, better: str) -> bool:
    """A ratio of arm hazards is below 1 exactly when its numerator is the better arm."""
    numerator = "a" if orientation == "a_vs_b" else "b"
    return (value < 1) == (numerator == better)


def check_against(d: Design, path, claims: pd.DataFrame, reading_ids: set[str]) -> None:
    idx = claims.set_index("id")
    for where, cid, kinds in _claim_refs(d):
        if cid not in idx.index:
            _fail(path, where, f"claim {cid!r} is not in claims.csv")
        if kinds and idx.at[cid, "kind"] not in kinds:
            _fail(path, where, f"claim {cid!r} is of kind {idx.at[cid, 'kind']!r}, "
                               f"expected {' or '.join(sorted(kinds))}")
    for where, rid in _reading_refs(d):
        if rid is not None and rid not in reading_ids:
            _fail(path, where, f"reading {rid!r} is not in readings.csv")
    _check_orientations(d, path, idx)


def _check_orientations(d: Design, path, idx: pd.DataFrame) -> None:
    """Each printed HR and CI below 1 exactly when its numerator is the arm called better."""
    for name, c in d.comparisons.items():
        for ep, spec in c.endpoints.items():
            if spec.hr is None:
                continue
            base = f"comparisons.{name}.endpoints.{ep}.hr"
            entries = [(base, spec.hr.claim, spec.hr.orientation)]
            entries += [(f"{base}.ci.{i}", x.claim, x.orientation) for i, x in enumerate(spec.hr.ci)]
            for where, cid, orient in entries:
                row = idx.loc[cid]
                value = (float(row["hr"]) if pd.notna(row["hr"])
                         else float(np.sqrt(row["ci_low"] * row["ci_high"])))
                if not _orientation_rule(value, orient, c.better):
                    _fail(path, f"{where}.orientation",
                          f"{orient} with arm {c.better} called better needs the printed value "
                          f"{'below' if (orient[0] == c.better) else 'above'} 1, "
                          f"{cid} prints {value:.4g}")
