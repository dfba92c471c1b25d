"""A study description in data: what the general reconstruction engine needs to know of a trial.

A paper like Zhang et al. (Blood Adv 2020) describes its cohort by binary characteristics
(Table 1), compares outcomes between two arms (Table 4, Figure 3) and between subgroups
(Table 3, Figures 4-7), and prints Kaplan-Meier landmarks, log-rank P values and hazard ratios
for those comparisons. A :class:`Study` says which characteristics there are (binary
*attributes*, with the hard logic between them), which endpoints (one or two, the second
possibly nested in the first, as leukemia-free survival within overall survival), which two-arm
comparisons a paper of this kind prints as figures (arms A and B as conjunctions of literals,
HR variant and orientation), and at which time points. It is read from YAML
(``data/validation/maps/*.yml``), so the same engine reconstructs any such study; the
validation command also reads from it how each attribute is derived from a patient-level
table's columns (:mod:`cart19.validation.columns`).

The vocabulary follows the project's design registry in spirit: groups are conjunctions of
binary literals (``~name`` negated), comparisons have arms A and B, an HR has a variant
(``logrank`` or ``mantel_haenszel``, Prism's two) and an orientation (``a_vs_b`` or
``b_vs_a``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cart19.errors import InputError

HR_VARIANTS = ("logrank", "mantel_haenszel")
ORIENTATIONS = ("a_vs_b", "b_vs_a")
RULES = ("equals", "above", "at_least", "below", "at_most")


@dataclass(frozen=True)
class Attribute:
    """A binary characteristic; ``column`` / ``expr`` and one rule say how a patient-level
    table defines it (validation only; the engine needs just the name)."""
    name: str
    label: str = ""
    column: str | None = None
    expr: str | None = None
    rule: str | None = None          # one of RULES, or None for a 0/1 column
    value: object = None


@dataclass(frozen=True)
class Endpoint:
    name: str
    time: str | None = None          # source columns (validation only)
    event: str | None = None
    event_value: object = 1
    label: str = ""
    within: str | None = None        # nested in that endpoint: time <= its time, its event => event


@dataclass(frozen=True)
class Comparison:
    """A two-arm comparison printed as a Kaplan-Meier figure with a caption P and HR."""
    name: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    label: str = ""
    variant: str = "logrank"
    orientation: str = "a_vs_b"

    @property
    def literals(self) -> set[str]:
        return {lit.lstrip("~") for lit in self.a + self.b}


@dataclass(frozen=True)
class Switch:
    """A time-dependent arm: patients with ``attribute`` enter arm A on the day in column
    ``time`` (Zhang: allo-HSCT at day 36-120; Stanford: heart transplant after a wait)."""
    attribute: str
    time: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Study:
    name: str
    attributes: tuple[Attribute, ...]
    endpoints: tuple[Endpoint, ...]
    arm: Comparison
    figures: tuple[Comparison, ...] = ()
    response: str | None = None
    multivariable: tuple[str, ...] = ()
    exclusive: tuple[tuple[str, ...], ...] = ()
    implies: tuple[tuple[str, str], ...] = ()
    rules: tuple = ()                # per-patient linear rules: ((attr, coef), ...), lo, hi
    order: tuple[str, ...] = ()      # symmetry-breaking key of stage 1 (most significant first)
    landmark: float = 365.0
    at_risk_every: float = 180.0
    untargeted_km: tuple[float, ...] = ()
    switch: Switch | None = None
    citation: str = ""
    title: str = ""
    time_unit: str = "days"
    missing: str = "error"           # rows with a missing mapped value: "error" or "drop"
    source: str = "<study>"
    extra: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """The arm first, then the subgroup figures."""
        return (self.arm, *self.figures)

    @property
    def baseline(self) -> tuple[str, ...]:
        """Attributes of the multivariable model (default: every attribute but the response)."""
        return self.multivariable or tuple(n for n in self.names if n != self.response)

    def label(self, name: str) -> str:
        for a in self.attributes:
            if a.name == name:
                return a.label or name
        return name


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def _lits(x, where: str, path) -> tuple[str, ...]:
    if isinstance(x, str):
        x = [x]
    if not isinstance(x, (list, tuple)) or not x or not all(isinstance(s, str) for s in x):
        raise InputError(path, f"{where}: a group is a non-empty list of literals "
                               "(attribute names, '~name' negated)", column=where)
    return tuple(s.strip() for s in x)


def _attribute(name: str, spec, path) -> Attribute:
    if not isinstance(spec, dict):
        raise InputError(path, f"attribute {name!r}: expected a mapping with 'column' or 'expr'",
                         column=name)
    rules = [r for r in RULES if r in spec]
    if len(rules) > 1:
        raise InputError(path, f"attribute {name!r}: one rule at most, got {rules}", column=name)
    if ("column" in spec) == ("expr" in spec):
        raise InputError(path, f"attribute {name!r}: give exactly one of 'column' or 'expr'",
                         column=name)
    rule = rules[0] if rules else None
    return Attribute(name, str(spec.get("label", "")), spec.get("column"), spec.get("expr"),
                     rule, spec.get(rule) if rule else None)


def _comparison(spec, where: str, path) -> Comparison:
    if not isinstance(spec, dict) or "a" not in spec:
        raise InputError(path, f"{where}: a comparison needs arms 'a' (and 'b', default ~a)",
                         column=where)
    a = _lits(spec["a"], f"{where}.a", path)
    b = _lits(spec["b"], f"{where}.b", path) if "b" in spec else \
        ((a[0][1:] if a[0].startswith("~") else "~" + a[0]),) if len(a) == 1 else None
    if b is None:
        raise InputError(path, f"{where}: arm 'b' is needed when arm 'a' has several literals",
                         column=where)
    hr = spec.get("hr", {}) or {}
    variant, orient = hr.get("variant", "logrank"), hr.get("orientation", "a_vs_b")
    if variant not in HR_VARIANTS:
        raise InputError(path, f"{where}: HR variant must be one of {HR_VARIANTS}", column=where,
                         value=variant)
    if orient not in ORIENTATIONS:
        raise InputError(path, f"{where}: HR orientation must be one of {ORIENTATIONS}",
                         column=where, value=orient)
    return Comparison(str(spec.get("name", where)), a, b, str(spec.get("label", "")), variant,
                      orient)


def _rule(r, k: int, path):
    """``{terms: {attr: coef, ...}, lo: x, hi: y}``: lo <= sum coef * attr <= hi per patient
    (a missing bound is open), e.g. one-hot families, sums, implications with three terms."""
    if not isinstance(r, dict) or not isinstance(r.get("terms"), dict) or not r["terms"]:
        raise InputError(path, f"rules[{k}]: a rule is {{terms: {{attribute: coefficient}}, lo, hi}}",
                         column="rules")
    lo = float(r["lo"]) if r.get("lo") is not None else float("-inf")
    hi = float(r["hi"]) if r.get("hi") is not None else float("inf")
    return tuple((str(a), float(c)) for a, c in r["terms"].items()), lo, hi


def study_from_dict(d: dict, path="<study>") -> Study:
    """A :class:`Study` from its YAML mapping; every rule broken is an InputError naming it."""
    if not isinstance(d, dict):
        raise InputError(path, "a study map is a YAML mapping")
    for key in ("study", "attributes", "endpoints", "arm"):
        if key not in d:
            raise InputError(path, f"missing key {key!r}", column=key)
    attrs = d["attributes"]
    if not isinstance(attrs, dict) or not attrs:
        raise InputError(path, "'attributes' must map names to definitions", column="attributes")
    attributes = tuple(_attribute(str(k), v, path) for k, v in attrs.items())
    eps = d["endpoints"]
    if not isinstance(eps, list) or not 1 <= len(eps) <= 2:
        raise InputError(path, "'endpoints' must list one or two endpoints", column="endpoints")
    if not all(isinstance(e, dict) and "name" in e for e in eps):
        raise InputError(path, "each endpoint is a mapping with a 'name'", column="endpoints")
    endpoints = tuple(Endpoint(str(e["name"]), e.get("time"), e.get("event"),
                               e.get("event_value", 1), str(e.get("label", "")), e.get("within"))
                      for e in eps)
    sw = d.get("switch")
    study = Study(
        name=str(d["study"]), attributes=attributes, endpoints=endpoints,
        arm=_comparison({"name": "arm", **d["arm"]} if isinstance(d["arm"], dict) else d["arm"],
                        "arm", path),
        figures=tuple(_comparison(f, f"figures[{i}]", path)
                      for i, f in enumerate(d.get("figures", []) or [])),
        response=d.get("response"),
        multivariable=tuple(d.get("multivariable", []) or []),
        exclusive=tuple(tuple(x) for x in d.get("exclusive", []) or []),
        implies=tuple(tuple(x) for x in d.get("implies", []) or []),
        rules=tuple(_rule(r, k, path) for k, r in enumerate(d.get("rules", []) or [])),
        order=tuple(d.get("order", []) or []),
        landmark=float(d.get("landmark", 365)), at_risk_every=float(d.get("at_risk_every", 180)),
        untargeted_km=tuple(float(x) for x in d.get("untargeted_km", []) or []),
        switch=Switch(sw["attribute"], sw.get("time"), str(sw.get("label", ""))) if sw else None,
        citation=str(d.get("citation", "")), title=str(d.get("title", "")),
        time_unit=str(d.get("time_unit", "days")), missing=str(d.get("missing", "error")),
        source=str(path), extra={k: v for k, v in d.items() if k in ("subsample", "notes")})
    check(study)
    return study


def _check_literals(study: Study) -> None:
    path = study.source
    names = set(study.names) | {f"event_{e.name}" for e in study.endpoints}

    def known(lits, where):
        for lit in lits:
            if lit.lstrip("~") not in names:
                raise InputError(path, f"{where} names {lit.lstrip('~')!r}, which is not an "
                                       "attribute of the map", column=where, value=lit)

    for c in study.comparisons:
        known(c.a + c.b, f"comparison {c.name!r}")
    known(study.multivariable, "multivariable")
    for fam in study.exclusive:
        known(fam, "exclusive")
    for pair in study.implies:
        if len(pair) != 2:
            raise InputError(path, "each 'implies' entry is a pair [a, b] (a implies b)",
                             column="implies")
        known(pair, "implies")
    known((study.response,) if study.response else (), "response")
    for k, (terms, _lo, _hi) in enumerate(study.rules):
        known(tuple(a for a, _c in terms), f"rules[{k}]")
    known(study.order, "order")
    known((study.switch.attribute,) if study.switch else (), "switch")


def check(study: Study) -> None:
    """Every literal names a declared attribute; endpoints and the switch are consistent."""
    path = study.source
    if len(set(study.names)) != len(study.attributes):
        raise InputError(path, "attribute names must be unique", column="attributes")
    _check_literals(study)
    ep_names = [e.name for e in study.endpoints]
    if len(set(ep_names)) != len(ep_names):
        raise InputError(path, "endpoint names must be unique", column="endpoints")
    for i, e in enumerate(study.endpoints):
        if e.within is not None and (i == 0 or e.within != ep_names[0]):
            raise InputError(path, f"endpoint {e.name!r}: 'within' may only name the first "
                                   "endpoint, from the second", column="endpoints")
    if study.landmark <= 0 or study.at_risk_every <= 0:
        raise InputError(path, "landmark and at_risk_every must be positive", column="landmark")
    if study.missing not in ("error", "drop"):
        raise InputError(path, "'missing' is 'error' or 'drop'", column="missing",
                         value=study.missing)


def load_study(path) -> Study:
    """Read a study map (YAML); a missing or malformed file is an InputError naming it."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "study map not found")
    try:
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(p, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    return study_from_dict(d, p)
