"""The binary attributes of the literal language, evaluated from their rules in design.yml.

A rule is the name of another attribute (``"~name"`` negates it) or a mapping:

- ``{flag: C}``: column C read as a number, empty as 0, true where it is 1;
- ``{column: C, equals: V}``, ``{column: C, in: [V, ...]}``, ``{column: C, startswith: V}``: the
  text of column C (empty cells are "");
- ``{number: C, in: [...]}`` or ``{number: C, lt|le|ge|gt: X}``: column C as a number, empty as
  ``fill`` when given (else false); X is a number or the name of a day of design.yml (``early_day``);
- ``{all: [rule, ...]}``, ``{any: [rule, ...]}``, ``{not: rule}``.

Own code rather than ``DataFrame.eval``: the rules must be checked (column names, day names,
references, cycles) with a one-line error naming the key before any cohort is read.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.errors import InputError

_COMPARE = {"lt": np.less, "le": np.less_equal, "ge": np.greater_equal, "gt": np.greater}
_LEAF_KEYS = {
    "flag": set(),
    "column": {"equals", "in", "startswith"},
    "number": {"in", "lt", "le", "ge", "gt", "fill"},
}


def _fail(path, where, rule):
    raise InputError(path, f"key {where}: {rule}")


def _check(rule, where: str, path, names: set[str], days: set[str]) -> set[str]:
    """Validate one rule; returns the attribute names it refers to."""
    if isinstance(rule, str):
        if rule.lstrip("~") not in names:
            _fail(path, where, f"{rule!r} names no attribute")
        return {rule.lstrip("~")}
    if not isinstance(rule, dict) or not rule:
        _fail(path, where, "a rule is an attribute name or a mapping (see the attributes: header)")
    if set(rule) <= {"all", "any"} and len(rule) == 1:
        items = next(iter(rule.values()))
        if not isinstance(items, list) or not items:
            _fail(path, where, "all/any takes a non-empty list of rules")
        return set().union(*(_check(x, f"{where}.{i}", path, names, days)
                             for i, x in enumerate(items)))
    if set(rule) == {"not"}:
        return _check(rule["not"], f"{where}.not", path, names, days)
    _check_leaf(rule, where, path, days)
    return set()


def _check_leaf(rule: dict, where: str, path, days: set[str]) -> None:
    """A leaf rule: one column (flag:, column: or number:) and its test."""
    leaf = [k for k in rule if k in _LEAF_KEYS]
    if len(leaf) != 1 or not isinstance(rule[leaf[0]], str):
        _fail(path, where, "a leaf rule names one column with flag:, column: or number:")
    extra = set(rule) - {leaf[0]} - _LEAF_KEYS[leaf[0]]
    if extra:
        _fail(path, where, f"unknown key(s) {sorted(extra)} for a {leaf[0]} rule")
    ops = [k for k in rule if k not in (leaf[0], "fill")]
    if leaf[0] != "flag" and len(ops) != 1:
        _fail(path, where, f"a {leaf[0]} rule takes exactly one test ({', '.join(sorted(_LEAF_KEYS[leaf[0]] - {'fill'}))})")
    for op in ops:
        v = rule[op]
        if leaf[0] == "column" and not (isinstance(v, str) or (op == "in" and isinstance(v, list)
                                                            and all(isinstance(x, str) for x in v))):
            _fail(path, f"{where}.{op}", "compares text: quote the value(s)")
        if op in _COMPARE and not (isinstance(v, (int, float)) or v in days):
            _fail(path, f"{where}.{op}", f"{v!r} is neither a number nor a day of days:")


def check_rules(attributes: dict, path, days: set[str]) -> None:
    """Every rule well formed, every reference defined, no attribute defined through itself."""
    names = set(attributes)
    refs = {k: _check(r, f"attributes.{k}", path, names, days) for k, r in attributes.items()}
    state: dict[str, int] = {}

    def visit(k, trail):
        if state.get(k) == 2:
            return
        if state.get(k) == 1:
            _fail(path, f"attributes.{k}", "is defined through itself: " + " -> ".join(trail + [k]))
        state[k] = 1
        for r in refs[k]:
            visit(r, trail + [k])
        state[k] = 2
    for k in attributes:
        visit(k, [])


def _leaf(rule: dict, cohort: pd.DataFrame, days: dict[str, int]) -> np.ndarray:
    """A leaf rule over one column of the cohort: a 0/1 flag, a text test or a number test."""
    if "flag" in rule:
        x = pd.to_numeric(cohort[rule["flag"]], errors="coerce").fillna(0)
        return (x.astype(int) == 1).to_numpy()
    if "column" in rule:
        s = cohort[rule["column"]].fillna("").astype(str)
        if "equals" in rule:
            return (s == rule["equals"]).to_numpy()
        if "in" in rule:
            return s.isin(rule["in"]).to_numpy()
        return s.str.startswith(rule["startswith"]).to_numpy()
    x = pd.to_numeric(cohort[rule["number"]], errors="coerce")
    if rule.get("fill") is not None:
        x = x.fillna(rule.get("fill"))
    if "in" in rule:
        return x.isin(rule["in"]).to_numpy()
    op = next(k for k in rule if k in _COMPARE)
    bound = days[rule[op]] if isinstance(rule[op], str) else rule[op]
    return _COMPARE[op](x.to_numpy(float), bound) & x.notna().to_numpy()


def evaluate(attributes: dict, cohort: pd.DataFrame, days: dict[str, int]) -> pd.DataFrame:
    """0/1 column per attribute, in the order of ``attributes``. An attribute whose columns the
    table lacks (a partial patient table) is left out, with every attribute built on it; a group
    that uses it then fails where it is counted (KeyError naming the attribute)."""
    memo: dict[str, np.ndarray] = {}

    def ev(rule) -> np.ndarray:
        if isinstance(rule, str):
            v = attr(rule.lstrip("~"))
            return ~v if rule.startswith("~") else v
        if "all" in rule:
            return np.logical_and.reduce([ev(x) for x in rule["all"]])
        if "any" in rule:
            return np.logical_or.reduce([ev(x) for x in rule["any"]])
        if "not" in rule:
            return ~ev(rule["not"])
        return _leaf(rule, cohort, days)

    def attr(name) -> np.ndarray:
        if name not in memo:
            memo[name] = np.asarray(ev(attributes[name]), dtype=bool)
        return memo[name]

    out = {}
    for k in attributes:
        try:
            out[k] = attr(k).astype(int)
        except KeyError:
            continue
    return pd.DataFrame(out, index=cohort.index)
