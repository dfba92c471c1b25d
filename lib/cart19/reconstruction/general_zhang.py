"""This paper's overall survival through the general engine: how far the general path gets.

The general engine (:mod:`cart19.reconstruction.general_pipeline`) reads its targets as data. Here
they are read from this paper's design registry (``data/published/design.yml``, via
:mod:`cart19.record.design`) and its claims: the comparisons of Figures 3-7 (arms A and B as
literals, the caption's HR variant and orientation), their OS landmarks, caption log-rank P and
HR, the median and range of follow-up, of the deaths of TP53-mutated patients and of the
transplant day. Each printed number becomes an interval from its printed digits (79.1% is
[79.05, 79.15); "P < .0001" is [0, 1e-4]).

What goes through the general path: stage 2 for OS, with the allo-HSCT day as a time-dependent
switch. What does not (yet): stage 1 (this paper's 75 attributes and clinical logic are the
Zhang engine's :mod:`cart19.reconstruction.milp`; the general integer program has exclusive
families and implications, not yet its sums and three-way rules), LFS (counted from the day-30
assessment, non-responders failing at 0), relapse days, the accrual window and the CD28 block.
So the attributes are taken from a cohort of the Zhang engine and only the OS and transplant
days are redrawn. The CAR T-cell trial's patient data are not public: this is a reconstruction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cart19.reconstruction.general_search import Search
from cart19.reconstruction.general_study import Comparison, Study, Switch, Attribute, Endpoint
from cart19.reconstruction.general_targets import Target
from cart19.reconstruction.general_times import compile_targets, misses, observed, values

ATTRS = ("cr", "cri", "hsct", "mrd_neg", "tp53", "prior_hsct")
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


def reconstruct_os(d, claims: pd.DataFrame, cohort: pd.DataFrame, seed: int = 1,
                   iters: int = 30000) -> pd.DataFrame:
    """OS and transplant days redrawn by the general stage 2 for ``cohort``'s patients. Returns
    one row per target: printed, interval, the Zhang engine's value (``cohort`` as given), the
    general path's, and whether each is within the general engine's tolerance."""
    s, tg = study(d), targets(d, claims)
    a = attributes(d, cohort)
    c = compile_targets(s, a, tg)
    search = Search(c, np.random.default_rng([seed, 2]))
    st = search.initial({"os": -np.log(0.639) / 365.0})
    st, _cur, _m = search.run(st, iters, explore=0)
    general, _ = values(c, st)
    ok_general = misses(c, general) == 0
    st0 = st.copy()
    st0.t["os"] = pd.to_numeric(cohort["os_days"]).astype(int).to_numpy()
    hd = pd.to_numeric(cohort["hsct_day"], errors="coerce").to_numpy(float)
    st0.s = np.where(np.isfinite(hd), hd, 0).astype(int)
    engine, _ = values(c, st0)
    ok_engine = misses(c, engine) == 0
    rows = []
    for k, t in enumerate(c.targets):
        conv = (lambda v: float(2 * __import__("scipy").stats.norm.sf(v))) if t.kind == "logrank_p" \
            else (np.exp if t.kind == "hr" else float)
        rows.append({"id": t.id, "kind": t.kind, "printed": t.printed, "lo": t.lo, "hi": t.hi,
                     "zhang_engine": conv(engine[k]), "zhang_engine_ok": bool(ok_engine[k]),
                     "general_path": conv(general[k]), "general_path_ok": bool(ok_general[k])})
    out = pd.DataFrame(rows)
    out.attrs["os_days"] = observed(c, st, "os")
    return out
