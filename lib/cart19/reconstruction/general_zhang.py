"""This paper's overall survival through the general engine: how far the general path gets.

The general engine (:mod:`cart19.reconstruction.general_pipeline`) reads its targets as data. Here
they are read from this paper's design registry (``data/published/design.yml``, via
:mod:`cart19.record.design`) and its claims: the comparisons of Figures 3-7 (arms A and B as
literals, the caption's HR variant and orientation), their OS landmarks, caption log-rank P and
HR, the median and range of follow-up, of the deaths of TP53-mutated patients and of the
transplant day. Each printed number becomes an interval from its printed digits (79.1% is
[79.05, 79.15); "P < .0001" is [0, 1e-4]).

What goes through the general path: stage 1, from a study map in data
(``data/validation/maps/zhang2020_stage1.yml``: the 75 attributes, the 69 per-patient rules and
the symmetry key of the Zhang engine's integer program, transcribed by :func:`stage1_map` and
checked against it by a test) and the 276 count targets of the design registry
(:func:`cart19.reconstruction.targets.bind`); and stage 2 for OS, with the allo-HSCT day as a
time-dependent switch. What does not (yet): LFS (counted from the day-30 assessment,
non-responders failing at 0), relapse days, the accrual window and the CD28 block, and the
Zhang engine's planning windows (event counts implied by the landmarks, not claims). The CAR
T-cell trial's patient data are not public: these are reconstructions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.paths import DATA
from cart19.reconstruction import general_milp, milp
from cart19.reconstruction import targets as zhang_targets
from cart19.reconstruction.general_search import Search
from cart19.reconstruction.general_study import (Attribute, Comparison, Endpoint, Study, Switch,
                                                 load_study)
from cart19.reconstruction.general_targets import Target
from cart19.reconstruction.general_times import compile_targets, misses, values

ATTRS = ("cr", "cri", "hsct", "mrd_neg", "tp53", "prior_hsct")
STAGE1_MAP = DATA / "validation" / "maps" / "zhang2020_stage1.yml"


def stage1_map() -> dict:
    """This paper's stage 1 as a study map: the Zhang engine's attributes, its per-patient logic
    read off its integer program (one patient), its symmetry key; OS events are the deaths."""
    m = milp._new_model(1)
    milp._logic(m)
    rows: dict = {}
    for r, c, v in zip(m.rows, m.cols, m.vals):
        rows.setdefault(r, {})[milp.ATTRS[c]] = int(v) if float(v).is_integer() else float(v)
    inf = float("inf")
    rules = [{"terms": rows[r], **({"lo": m.lo[r]} if m.lo[r] > -inf else {}),
              **({"hi": m.hi[r]} if m.hi[r] < inf else {})} for r in sorted(rows)]
    rules.append({"terms": {"event_os": 1, "death": -1}, "lo": 0, "hi": 0})
    return {"study": "zhang2020_stage1",
            "citation": "Zhang et al., Blood Adv 2020;4:2325-2338",
            "attributes": {a: {"column": a} for a in milp.ATTRS},
            "endpoints": [{"name": "os", "time": "os_days", "event": "os_event"}],
            "arm": {"a": ["hsct"], "b": ["cr", "~hsct"]},
            "rules": rules, "order": list(milp._ORDER_KEY), "landmark": 365}


def stage1(seed: int, path=STAGE1_MAP) -> pd.DataFrame:
    """A stage-1 cohort of this paper from the general integer program: the map's rules and the
    design registry's counts (every one of them holds, or :class:`milp.ClaimConflict`)."""
    bound = zhang_targets.bind(zhang_targets.read_claims())
    return general_milp.solve(load_study(path), bound.counts, milp.N_PATIENTS, seed)
DAYS = {"1y": 365.0, "6m": 365.25 / 2}


def _half(text: str) -> float:
    """Half a unit of the last printed digit of a number as transcribed (``"79.1"`` -> 0.05)."""
    s = str(text).strip()
    return 0.5 * 10.0 ** -(len(s.split(".")[1]) if "." in s else 0)


def study(d) -> Study:
    """Figures 3-7 as a general study (OS; transplant as a switch)."""
    comps = []
    for name, c in d.comparisons.items():
        spec = c.endpoints["os"].hr
        comps.append(Comparison(name, c.where("a"), c.where("b"), name, spec.variant, spec.orientation))
    return Study("zhang2020_os", tuple(Attribute(a) for a in ATTRS),
                 (Endpoint("os", "os_days", "os_event"),), comps[0], tuple(comps[1:]),
                 switch=Switch("hsct", "hsct_day"), landmark=365.0,
                 citation="Zhang et al., Blood Adv 2020;4:2325-2338")


def targets(d, claims: pd.DataFrame) -> list[Target]:
    """OS targets from the claims (``claims``: claims.csv read as text, indexed by id)."""
    out = []

    def times(cid, column, where):
        r = claims.loc[cid]
        for stat in ("median", "min", "max"):
            v = float(r[stat])
            out.append(Target(f"{cid}:{stat}", "time", v, v, v, where, "os", stat, column,
                              printed=str(r[stat])))

    times("results.followup", "followup", ())
    times("results.tp53.death_time", "event", ("tp53",))
    times("table4.hsct_day", "switch", ("hsct",))
    lm = d.landmark_table()
    for _i, r in lm[(lm["endpoint"] == "os") & (lm["claim"] == lm["first"])].iterrows():
        txt = claims.loc[r["claim"], "percent"]
        v, h = float(txt), _half(txt)
        out.append(Target(r["claim"], "km", v, v - h, v + h, tuple(r["where"]), "os",
                          at=DAYS[r["landmark"]], printed=f"{txt}%"))
    for name, c in d.comparisons.items():
        spec = c.endpoints["os"]
        p = claims.loc[spec.p[0]]
        pv, h = float(p["p"]), _half(p["p"])
        lo, hi = (0.0, pv) if p["p_cmp"] == "<" else (pv - h, pv + h)
        out.append(Target(spec.p[0], "logrank_p", pv, lo, hi, endpoint="os", a=c.where("a"),
                          b=c.where("b"), cmp=p["p_cmp"], printed=f"P {p['p_cmp']} {p['p']}"))
        hr = claims.loc[spec.hr.claim, "hr"]
        hv, h = float(hr), _half(hr)
        a, b = (c.where("a"), c.where("b")) if spec.hr.orientation == "a_vs_b" else \
            (c.where("b"), c.where("a"))
        out.append(Target(spec.hr.claim, "hr", hv, hv - h, hv + h, endpoint="os",
                          stat=spec.hr.variant, a=a, b=b, printed=f"HR {hr}"))
    return out


def attributes(d, cohort: pd.DataFrame) -> pd.DataFrame:
    """The stage-1 attributes of a Zhang-engine cohort, with its deaths as OS events."""
    a = d.attribute_frame(cohort)[list(ATTRS)].astype(int).reset_index(drop=True)
    a["event_os"] = pd.to_numeric(cohort["os_event"]).astype(int).to_numpy()
    return a


def _convert(kind: str, v: float) -> float:
    from scipy import stats
    if kind == "logrank_p":
        return float(2 * stats.norm.sf(v)) if np.isfinite(v) else np.nan
    return float(np.exp(v)) if kind == "hr" else float(v)


def stage2(d, claims: pd.DataFrame, attrs: pd.DataFrame, seed: int, iters: int):
    """OS and transplant days for the patients of ``attrs`` by the general stage 2: the compiled
    problem, the final state and each target's value."""
    c = compile_targets(study(d), attrs, targets(d, claims))
    search = Search(c, np.random.default_rng([seed, 2]))
    st = search.initial({"os": -np.log(0.639) / 365.0})
    st, _cur, _m = search.run(st, iters, explore=0)
    return c, st, values(c, st)[0]


def reconstruct_os(d, claims: pd.DataFrame, cohort: pd.DataFrame, seed: int = 1,
                   iters: int = 30000, general_stage1: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every OS target: printed, interval, and its value and whether it is within the general
    engine's tolerance, (1) in ``cohort`` as the Zhang engine built it, (2) after the general
    stage 2 redraws the OS and transplant days of ``cohort``'s patients, and (3) with
    ``general_stage1`` (a :func:`stage1` cohort) through both general stages."""
    c, st, general = stage2(d, claims, attributes(d, cohort), seed, iters)
    st0 = st.copy()
    st0.t["os"] = pd.to_numeric(cohort["os_days"]).astype(int).to_numpy()
    hd = pd.to_numeric(cohort["hsct_day"], errors="coerce").to_numpy(float)
    st0.s = np.where(np.isfinite(hd), hd, 0).astype(int)
    cols = {"zhang_engine": (c, values(c, st0)[0]), "general_stage2": (c, general)}
    if general_stage1 is not None:
        a = general_stage1[list(ATTRS) + ["event_os"]].astype(int).reset_index(drop=True)
        c2, _st2, both = stage2(d, claims, a, seed, iters)
        cols["general_both"] = (c2, both)
    ok = {name: misses(cc, v) == 0 for name, (cc, v) in cols.items()}
    rows = []
    for k, t in enumerate(c.targets):  # the same targets, in the same order, in every column
        row = {"id": t.id, "kind": t.kind, "printed": t.printed, "lo": t.lo, "hi": t.hi}
        for name, (_cc, v) in cols.items():
            row[name], row[f"{name}_ok"] = _convert(t.kind, v[k]), bool(ok[name][k])
        rows.append(row)
    return pd.DataFrame(rows)
