"""The paper's design, read from ``data/published/design.yml`` (Zhang et al., Blood Adv 2020).

One definition of everything the paper compares: the binary attributes of the literal language
(over the columns of ``cohort.csv``), the named groups, the two-arm survival comparisons of
Figures 3-7 (arms as printed, population, endpoints and time origins, the claim ids of their
landmarks, log-rank P values, hazard ratios and CIs, and for each printed HR its orientation as
the caption's words give it and its GraphPad variant), the rows and levels of Tables 3-5, and the
study calendar. Targets, audit, reproduction, tables, figures and the ensemble read it from here.

    d = design.load()
    c = d.comparisons["fig3"]
    c.where("a"), c.arms["a"].printed, c.endpoints["os"].hr.orientation
    d.hr_table()          # one row per printed HR or CI of a comparison
    d.attribute_frame(cohort)

The file is checked on load (structure with pydantic, then references: every literal names an
attribute, every group, claim and reading exists, every orientation agrees with the printed value
and the arm the sentence calls better; the rules are :mod:`cart19.record.design_rules`); a broken
rule raises :class:`cart19.errors.InputError` naming the file, the key path and the rule.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from cart19 import paths
from cart19.errors import InputError

DESIGN_YML = paths.DATA / "published" / "design.yml"
#: read by :func:`load` (with readings.csv beside it): the build adds them to every importing chapter's reads
DATA_READS = ("data/published/design.yml", "data/published/readings.csv")

Orientation = Literal["a_vs_b", "b_vs_a"]
Variant = Literal["mantel_haenszel", "logrank", "cox"]
ArmKey = Literal["a", "b"]

#: the names GraphPad and the book give the two Prism hazard ratios
VARIANT_LABELS = {"mantel_haenszel": "Prism Mantel-Haenszel", "logrank": "Prism log-rank",
                  "cox": "Cox"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Day(_Model):
    what: str
    claim: str | None = None
    from_day: str | None = None
    plus_claim: str | None = None
    field: str = "value"
    days_per_month: int | None = None
    reading: str | None = None


class Endpoint(_Model):
    label: str
    duration: str
    event: str
    origin: str
    quote: str
    reading: str | None = None


class Group(_Model):
    where: tuple[str, ...]
    label: str


class SurvivalGroups(_Model):
    source: str
    landmark: str
    groups: dict[str, dict[str, tuple[str, ...]]]


class Arm(_Model):
    group: str
    printed: str


class CI(_Model):
    claim: str
    orientation: Orientation
    quote: str
    note: str | None = None


class HR(_Model):
    claim: str
    orientation: Orientation
    quote: str
    variant: Variant
    criterion: str
    reading: str | None = None
    ci: tuple[CI, ...] = ()


class ComparisonEndpoint(_Model):
    landmarks: dict[ArmKey, tuple[str, ...]]
    p: tuple[str, ...]
    hr: HR | None = None


class Comparison(_Model):
    title: str
    source: str
    population: str
    arms: dict[ArmKey, Arm]
    landmark: str
    better: ArmKey
    quote: str
    endpoints: dict[str, ComparisonEndpoint]
    name: str = ""
    groups: dict[str, Group] = {}

    def where(self, arm: str) -> tuple[str, ...]:
        """The literal conjunction of arm ``a`` or ``b`` (or ``"population"``)."""
        key = self.population if arm == "population" else self.arms[arm].group
        return self.groups[key].where


class RateArm(_Model):
    where: tuple[str, ...]
    printed: str


class RateComparison(_Model):
    source: str
    outcome: tuple[str, ...]
    arms: dict[ArmKey, RateArm]
    p: tuple[str, ...]
    rates: dict[ArmKey, tuple[str, ...]]


class Level(_Model):
    printed: str
    where: tuple[str, ...]
    means: str | None = None


class Outcome(_Model):
    label: str
    where: tuple[str, ...] | None = None
    total: str | None = None
    column: str | None = None
    statistic: str | None = None
    reading: str | None = None


class Factor(_Model):
    label: str
    levels: dict[str, Level]
    reading: str | None = None
    arms: Literal["both", "hsct"] | None = None


class Table3(_Model):
    population: str
    outcomes: dict[str, Outcome]
    factors: dict[str, Factor]


class Table4Arm(_Model):
    where: tuple[str, ...]
    printed: str
    total: str


class Table4(_Model):
    arms: dict[str, Table4Arm]
    characteristics: dict[str, Factor]


class AlsoTarget(_Model):
    n: tuple[str, ...] | None = None
    N: tuple[str, ...] | None = None
    note: str | None = None

    @property
    def field(self) -> str:
        return "n" if self.n is not None else "N"

    @property
    def where(self) -> tuple[str, ...]:
        return self.n if self.n is not None else self.N


class CountSpec(_Model):
    """A count (``n``: the patients it counts) and its denominator (``N``) where printed."""
    n: tuple[str, ...]
    N: tuple[str, ...] | None = None
    fit: tuple[Literal["n", "N"], ...] | None = None
    note: str | None = None
    also: tuple[AlsoTarget, ...] = ()
    label: str | None = None
    fitted_by: Literal["continuous"] | None = None  #: fitted by the continuous stage, not the MILP

    @property
    def fitted(self) -> tuple[str, ...]:
        """The fields that are targets (default: the fields given)."""
        if self.fit is not None:
            return self.fit
        return ("n", "N") if self.N is not None else ("n",)


class RowsTable(_Model):
    population: tuple[str, ...]
    rows: dict[str, CountSpec]


class Summary(_Model):
    column: str
    where: tuple[str, ...]
    fit: tuple[Literal["median", "min", "max"], ...] | Literal["continuous"]
    scale: float | None = None


class Range(_Model):
    outcome: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]


class Side(_Model):
    where: tuple[str, ...]
    label: str


class Covariate(_Model):
    exposed: Side
    reference: Side
    printed: dict[str, tuple[Literal["exposed", "reference"], Literal["exposed", "reference"]]]
    labels: dict[str, str]


class AbstractHR(_Model):
    covariate: str
    endpoint: str
    selection: Literal["forward"]
    hr_of: Literal["exposed", "reference"]
    quote: str


class Table5(_Model):
    population: str
    model: Literal["cox"]
    printed_orientation: Literal["second_vs_first", "first_vs_second"]
    reading: str
    quote: str
    covariates: dict[str, Covariate]
    abstract: dict[str, AbstractHR]

    def printed_hr_of(self, covariate: str, endpoint: str) -> str:
        """Whose hazard the printed HR of a row is: ``"exposed"`` or ``"reference"``."""
        first, second = self.covariates[covariate].printed[endpoint]
        return second if self.printed_orientation == "second_vs_first" else first


class DateEntry(_Model):
    date: dt.date
    quote: str
    reading: str | None = None


class Design(_Model):
    attributes: dict[str, object]
    implications: dict[str, tuple[str, ...]]
    days: dict[str, Day]
    endpoints: dict[str, Endpoint]
    groups: dict[str, Group]
    survival_groups: dict[str, SurvivalGroups]
    hr_criteria: dict[str, str]
    comparisons: dict[str, Comparison]
    rate_comparisons: dict[str, RateComparison]
    table1: RowsTable
    table2: RowsTable
    table3: Table3
    table4: Table4
    table5: Table5
    counts: dict[str, CountSpec]
    summaries: dict[str, Summary]
    ranges: dict[str, Range]
    repeats: dict[str, str]
    calendar: dict[str, DateEntry]
    path: str = ""

    # ---------------------------------------------------------------- derived views
    def where(self, group: str) -> tuple[str, ...]:
        return self.groups[group].where

    def closure(self, lits) -> frozenset[str]:
        """A conjunction of literals with every attribute its positive literals imply added
        (``implications``): two groups with the same closure are the same patients."""
        out, todo = set(lits), [x for x in lits if not x.startswith("~")]
        while todo:
            for y in self.implications.get(todo.pop(), ()):
                if y not in out:
                    out.add(y)
                    todo.append(y)
        return frozenset(out)

    def hr_table(self) -> pd.DataFrame:
        """One row per printed HR or CI of a Figure 3-7 comparison.

        Columns: claim, comparison, endpoint, kind (``hr``/``ci``), orientation, numerator and
        denominator (arm keys of the printed ratio), numerator_label, denominator_label (as
        printed), reciprocal_of_label (the printed ratio is arm b relative to arm a, the reverse
        of the figure's "a vs b"), variant, variant_label, criterion, quote, hr_claim (the
        caption HR a CI belongs to).
        """
        rows = []
        for name, c in self.comparisons.items():
            for ep, spec in c.endpoints.items():
                if spec.hr is None:
                    continue
                entries = [("hr", spec.hr.claim, spec.hr.orientation, spec.hr.quote)]
                entries += [("ci", x.claim, x.orientation, x.quote) for x in spec.hr.ci]
                for kind, claim, orient, quote in entries:
                    num, den = ("a", "b") if orient == "a_vs_b" else ("b", "a")
                    rows.append({"claim": claim, "comparison": name, "endpoint": ep, "kind": kind,
                                 "orientation": orient, "numerator": num, "denominator": den,
                                 "numerator_label": c.arms[num].printed,
                                 "denominator_label": c.arms[den].printed,
                                 "reciprocal_of_label": orient == "b_vs_a",
                                 "variant": spec.hr.variant,
                                 "variant_label": VARIANT_LABELS[spec.hr.variant],
                                 "criterion": spec.hr.criterion, "quote": quote,
                                 "hr_claim": spec.hr.claim})
        return pd.DataFrame(rows)

    def landmark_table(self) -> pd.DataFrame:
        """One row per printed Kaplan-Meier landmark (Figures 2-7 and their repeats).

        Columns: claim, figure, group, endpoint, where, landmark (``1y``/``6m``), first (the first
        claim printing the same landmark: the one the reconstruction targets).
        """
        rows = []

        def add(fig, group, ep, ids, landmark):
            for cid in ids:
                rows.append({"claim": cid, "figure": fig, "group": group, "endpoint": ep,
                             "where": self.groups[group].where, "landmark": landmark,
                             "first": ids[0]})
        for fig, sg in self.survival_groups.items():
            for group, eps in sg.groups.items():
                for ep, ids in eps.items():
                    add(fig, group, ep, ids, sg.landmark)
        for name, c in self.comparisons.items():
            for ep, spec in c.endpoints.items():
                for arm, ids in spec.landmarks.items():
                    add(name, c.arms[arm].group, ep, ids, c.landmark)
        return pd.DataFrame(rows)

    def count_specs(self) -> dict[str, CountSpec]:
        """Every count claim -> its CountSpec, in the order the reconstruction binds them:
        Table 1, Table 2, Table 3 (outcome by level: n = level and outcome, N = level), Table 4
        (level by arm; hsct-only rows after; n targeted, N the arm), then the text."""
        out = dict(self.table1.rows) | dict(self.table2.rows)
        for o, outcome in self.table3.outcomes.items():
            if outcome.where is None:
                continue
            for f, fac in self.table3.factors.items():
                for lv, level in fac.levels.items():
                    out[f"table3.{o}.{f}.{lv}"] = CountSpec(n=level.where + outcome.where,
                                                            N=level.where)
        for arms_of in ("both", "hsct"):
            for ch, fac in self.table4.characteristics.items():
                if fac.arms != arms_of:
                    continue
                for lv, level in fac.levels.items():
                    for arm in (("hsct", "no_hsct") if arms_of == "both" else ("hsct",)):
                        aw = self.table4.arms[arm].where
                        out[f"table4.{ch}.{lv}.{arm}"] = CountSpec(n=aw + level.where, N=aw,
                                                                   fit=("n",))
        return out | dict(self.counts)

    def count_targets(self) -> list[tuple[str, str, tuple[str, ...], str]]:
        """(claim, field, where, note) of every count target, in binding order."""
        out = []
        for cid, spec in self.count_specs().items():
            for fld in spec.fitted:
                out.append((cid, fld, spec.n if fld == "n" else spec.N,
                            (spec.note or "") if fld == "n" else ""))
            out += [(cid, a.field, a.where, a.note or "") for a in spec.also]
        return out

    def time_targets(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(claim, statistic, column, where) of every day target of the reconstruction."""
        return [(cid, stat, s.column, s.where) for cid, s in self.summaries.items()
                if s.fit != "continuous" for stat in s.fit]

    def km_targets(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(claim, endpoint, where) of every distinct landmark, its first printing targeted."""
        lm = self.landmark_table()
        lm = lm[lm["claim"] == lm["first"]]
        return [(r.claim, r.endpoint, tuple(r.where)) for r in lm.itertuples()]

    def day(self, name: str, claims: pd.DataFrame) -> int:
        """A day the design counts in (``cr_assessment``, ``early_day``), read from the claims."""
        d = self.days[name]
        idx = claims.set_index("id")
        base = self.day(d.from_day, claims) if d.from_day else 0
        cid = d.claim or d.plus_claim
        value = float(idx.at[cid, d.field])
        return round(base + value * (d.days_per_month or 1))

    def attribute_frame(self, cohort: pd.DataFrame, claims: pd.DataFrame | None = None
                        ) -> pd.DataFrame:
        """The binary attributes of the literal language for every patient (0/1 ints)."""
        from cart19.record.attributes import evaluate
        if claims is None:
            days = _default_days(self.path, Path(paths.CLAIMS_CSV).stat().st_mtime_ns)
        else:
            days = {k: self.day(k, claims) for k in self.days}
        return evaluate(self.attributes, cohort, days)


@lru_cache(maxsize=4)
def _default_days(design_path: str, claims_stamp: int) -> dict[str, int]:
    """The design's days from the project's claims.csv (cached per file state)."""
    from cart19.record.claims import load_claims
    d, claims = load(design_path), load_claims()
    return {k: d.day(k, claims) for k in d.days}


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float, claims_path: str, readings_path: str) -> Design:
    from cart19.record import design_rules as rules
    from cart19.record import readings as R
    from cart19.record.claims import load_claims
    d = rules.parse(Path(path))
    rules.check_structure(d, path)
    claims = load_claims(claims_path)
    reading_ids = set(R.load(readings_path, claims)["reading_id"])
    rules.check_against(d, path, claims, reading_ids)
    return d


def load(path: str | Path = DESIGN_YML, claims_path: str | Path = paths.CLAIMS_CSV,
         readings_path: str | Path | None = None) -> Design:
    """Read and check design.yml against claims.csv and readings.csv (cached per file state).

    ``readings_path`` defaults to ``readings.csv`` beside the design file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    readings_path = Path(readings_path) if readings_path else path.with_name("readings.csv")
    stamp = path.stat().st_mtime_ns + Path(claims_path).stat().st_mtime_ns
    if readings_path.exists():
        stamp += readings_path.stat().st_mtime_ns
    return _load_cached(str(path), stamp, str(claims_path), str(readings_path))


def main(argv: list[str] | None = None) -> int:
    """``python -m cart19.record.design [PATH]``: check a design file, print a summary."""
    import sys
    argv = sys.argv[1:] if argv is None else argv
    d = load(argv[0]) if argv else load()
    print(f"{d.path}: {len(d.attributes)} attributes, {len(d.groups)} groups, "
          f"{len(d.comparisons)} survival comparisons ({len(d.hr_table())} printed HRs and CIs), "
          f"{len(d.table3.factors)} Table 3 factors, {len(d.table4.characteristics)} Table 4 "
          f"characteristics, {len(d.table5.covariates)} Table 5 covariates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
