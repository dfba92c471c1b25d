"""Stage 1 of the reconstruction: an integer program over per-patient binary attributes.

Each of the 110 infused patients gets ~90 binary attributes (sex, age band, blast category, EMD
sites, genetics, response, toxicity grades, HSCT, relapse, death and cause, coarse time bins).
Every count target of :mod:`cart19.reconstruction.targets` ("patients for whom all these literals hold") is a
linear equality; a conjunction of two or more literals gets one AND-variable per patient.
Clinical logic (HSCT only after CR, MRD-negative only in responders, one CRS grade, ...) is hard.

Solved with ``scipy.optimize.milp`` (HiGHS). Patients are interchangeable, so rows are ordered
lexicographically by a weighted key (valid for every solution; it removes permutation symmetry,
cf. /work/shared/notes/reconstruction-solver.md). A seeded random objective picks one of the many
feasible cohorts; different seeds give different cohorts (the ensemble).

When the targets cannot all hold, :func:`explain_infeasibility` makes each count target elastic
(one slack pair per claim), caps the total slack at 0, 1, 2, ... and reports the smallest set of
claims that must give way, plus alternative single-claim repairs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from cart19.errors import Cart19Error
from cart19.reconstruction.targets import CountTarget, where_mask

N_PATIENTS = 110

#: Binary attributes of the stage-1 model (one column each in the solution frame).
ATTRS: tuple[str, ...] = (
    "male", "child", "age_le5",
    "bl_lt5", "bl_5_20", "bl_gt20",
    "cns", "cns2", "cns3", "testicular", "diffuse", "single_site", "emd",
    "complex_yes", "complex_unk",
    "bcr_abl", "tel_aml1", "e2a_pbx1", "e2a_hlf", "bcr_p190", "cml_bc",
    "ikzf1", "tp53", "other_mut",
    "refractory", "prior_hsct", "dli", "donor_pbmc",
    "cd28", "dose_ge3", "dose_lt1",
    "t2_rel_ge18", "t2_cr1", "t2_cr2", "t2_nr",
    "cr", "cri", "mrd_neg",
    "crs0", "crs1", "crs2", "crs3", "crs4", "crs12", "crs34",
    "neuro0", "neuro1", "neuro2", "neuro3", "neuro23",
    "seizure", "dex", "toci",
    "bcr_neg_d30", "bcr_neg_d60",
    "hsct", "donor_mud", "donor_sib", "donor_haplo", "cond_bu",
    "relapse", "rel_cd19neg", "rel_emd", "rel_early",
    "death", "dc_relapse", "dc_gvhd", "dc_infection", "dc_other", "death_early",
    "short_fu", "gvhd_acute", "gvhd_chronic", "lfs_ev",
)
# attributes that matter most for symmetry breaking (most significant first)
_ORDER_KEY = ("cr", "hsct", "relapse", "death", "prior_hsct", "tp53", "bcr_abl", "child",
              "male", "cd28", "cri", "emd")


class ClaimConflict(Cart19Error):
    """The published claims cannot all hold; names the claims that must give way."""

    def __init__(self, repair: list[str], alternatives: list[list[str]], cap: int):
        self.repair, self.alternatives, self.cap = repair, alternatives, cap
        alt = "; ".join(", ".join(a) for a in alternatives) or "none found"
        super().__init__(
            f"the claims cannot all hold: the smallest repair changes the published counts by "
            f"{cap} in total, on claim(s) {', '.join(repair)}; alternative repairs: {alt}")


@dataclass
class _Model:
    n: int
    attr_index: dict
    n_vars: int
    rows: list
    cols: list
    vals: list
    lo: list
    hi: list
    and_index: dict
    weight: float = 1.0  # patients represented by each modelled patient (symmetric LP: n=1)

    def var(self, attr: str, i: int) -> int:
        return self.attr_index[attr] * self.n + i

    def new_block(self) -> int:
        start = self.n_vars
        self.n_vars += self.n
        return start

    def add_row(self, coefs: dict, lo: float, hi: float) -> int:
        r = len(self.lo)
        for c, v in coefs.items():
            if v != 0:
                self.rows.append(r)
                self.cols.append(c)
                self.vals.append(v)
        self.lo.append(lo)
        self.hi.append(hi)
        return r


def _lit(lit: str) -> tuple[str, bool]:
    return (lit[1:], True) if lit.startswith("~") else (lit, False)


def _new_model(n: int) -> _Model:
    idx = {a: k for k, a in enumerate(ATTRS)}
    return _Model(n, idx, len(ATTRS) * n, [], [], [], [], [], {})


def _logic(m: _Model) -> None:
    """Clinical and definitional logic, per patient (hard constraints)."""
    for i in range(m.n):
        rows = _PatientRows(m, i)
        _baseline_logic(rows)
        _course_logic(rows)


class _PatientRows:
    """Rows over one patient's attributes: ``v(a)`` is the column of attribute ``a``."""

    def __init__(self, m: _Model, i: int):
        self.m, self.i = m, i

    def v(self, a: str, i: int | None = None) -> int:
        """The column of attribute ``a`` (of patient ``i``, default this one)."""
        return self.m.var(a, self.i if i is None else i)

    def row(self, coefs: dict, lo: float, hi: float) -> None:
        self.m.add_row(coefs, lo, hi)

    def le(self, a: str, b: str) -> None:          # a <= b   (a implies b)
        self.m.add_row({self.v(a): 1, self.v(b): -1}, -np.inf, 0)

    def eq_sum(self, target: str, parts) -> None:  # target == sum(parts)
        c = {self.v(p): 1 for p in parts}
        c[self.v(target)] = c.get(self.v(target), 0) - 1
        self.m.add_row(c, 0, 0)

    def at_most_one(self, parts) -> None:
        self.m.add_row({self.v(p): 1 for p in parts}, -np.inf, 1)

    def one_hot(self, parts) -> None:
        self.m.add_row({self.v(p): 1 for p in parts}, 1, 1)


def _baseline_logic(p: _PatientRows) -> None:
    """Before CAR T: blasts, toxicity grades' one-hot coding, EMD, cytogenetics, disease and
    transplant status, Table 2's paediatric rows."""
    v, i, inf = p.v, p.i, np.inf
    le, eq_sum, at_most_one, one_hot, row = p.le, p.eq_sum, p.at_most_one, p.one_hot, p.row
    one_hot(["bl_lt5", "bl_5_20", "bl_gt20"])
    one_hot(["crs0", "crs1", "crs2", "crs3", "crs4"])
    one_hot(["neuro0", "neuro1", "neuro2", "neuro3"])
    eq_sum("crs12", ["crs1", "crs2"])
    eq_sum("crs34", ["crs3", "crs4"])
    eq_sum("neuro23", ["neuro2", "neuro3"])
    le("age_le5", "child")
    # EMD: CNS, testicular, diffuse or single-site; CNS-2 / CNS-3 are CNS
    for s in ("cns", "testicular", "diffuse", "single_site"):
        le(s, "emd")
    row({v("emd", i): 1, v("cns", i): -1, v("testicular", i): -1, v("diffuse", i): -1,
         v("single_site", i): -1}, -inf, 0)
    at_most_one(["diffuse", "single_site"])
    le("cns2", "cns")
    le("cns3", "cns")
    at_most_one(["cns2", "cns3"])
    at_most_one(["complex_yes", "complex_unk"])
    at_most_one(["bcr_abl", "tel_aml1", "e2a_pbx1", "e2a_hlf"])
    le("bcr_p190", "bcr_abl")
    le("cml_bc", "bcr_abl")
    # disease status: post-transplant relapses are relapsed, not refractory
    at_most_one(["refractory", "prior_hsct"])
    le("dli", "prior_hsct")
    le("donor_pbmc", "prior_hsct")
    le("gvhd_acute", "prior_hsct")
    le("gvhd_chronic", "prior_hsct")
    at_most_one(["gvhd_acute", "gvhd_chronic"])
    # Table 2 (children only); NR before CAR T <=> refractory child (decision D13)
    for a in ("t2_rel_ge18", "t2_cr1", "t2_cr2", "t2_nr"):
        le(a, "child")
    row({v("t2_cr1", i): 1, v("t2_cr2", i): 1, v("t2_nr", i): 1, v("child", i): -1}, 0, 0)
    le("t2_nr", "refractory")
    row({v("child", i): 1, v("refractory", i): 1, v("t2_nr", i): -1}, -inf, 1)
    # a refractory child has no relapse time before CAR T: count it in the <18 months row
    row({v("t2_rel_ge18", i): 1, v("t2_nr", i): 1}, -inf, 1)


def _course_logic(p: _PatientRows) -> None:
    """After CAR T: dose, response, toxicity, transplant, relapse, death, LFS and follow-up."""
    v, i, inf = p.v, p.i, np.inf
    le, at_most_one, row = p.le, p.at_most_one, p.row
    # dose groups
    at_most_one(["dose_lt1", "dose_ge3"])
    le("dose_lt1", "cr")
    # response
    le("cri", "cr")
    le("mrd_neg", "cr")
    le("hsct", "cr")
    le("relapse", "cr")
    le("bcr_neg_d30", "bcr_neg_d60")
    le("bcr_neg_d60", "bcr_abl")
    le("bcr_neg_d60", "mrd_neg")
    # toxicity
    row({v("seizure", i): 1, v("neuro0", i): 1}, -inf, 1)
    le("dex", "crs34")
    le("toci", "crs34")
    # transplant after CAR T
    row({v("donor_mud", i): 1, v("donor_sib", i): 1, v("donor_haplo", i): 1,
         v("hsct", i): -1}, 0, 0)
    le("cond_bu", "hsct")
    le("cond_bu", "age_le5")     # busulfan only at age <= 5 (Methods)
    row({v("hsct", i): 1, v("age_le5", i): 1, v("cond_bu", i): -1}, -inf, 1)
    # relapse
    le("rel_cd19neg", "relapse")
    le("rel_emd", "relapse")
    le("rel_early", "relapse")
    # death and its cause
    row({v("dc_relapse", i): 1, v("dc_gvhd", i): 1, v("dc_infection", i): 1,
         v("dc_other", i): 1, v("death", i): -1}, 0, 0)
    # a leukaemia death needs a relapse (or no response at all)
    row({v("dc_relapse", i): 1, v("relapse", i): -1, v("cr", i): 1}, -inf, 1)
    row({v("dc_gvhd", i): 1, v("hsct", i): -1, v("prior_hsct", i): -1}, -inf, 0)
    le("death_early", "death")
    # LFS event: relapse, death, or no CR at all (decision D09)
    le("relapse", "lfs_ev")
    le("death", "lfs_ev")
    row({v("lfs_ev", i): -1, v("cr", i): -1}, -inf, -1)
    row({v("lfs_ev", i): 1, v("relapse", i): -1, v("death", i): -1, v("cr", i): 1},
        -inf, 1)
    # early death (by day 120) of a patient with a late relapse is impossible
    row({v("death_early", i): 1, v("relapse", i): 1, v("rel_early", i): -1}, -inf, 1)
    # short follow-up: alive, relapse-free, not transplanted
    row({v("short_fu", i): 1, v("death", i): 1}, -inf, 1)
    row({v("short_fu", i): 1, v("relapse", i): 1}, -inf, 1)
    row({v("short_fu", i): 1, v("hsct", i): 1}, -inf, 1)
    le("short_fu", "cr")
    # follow-up under 3 months means a late infusion, when only 4-1BB was used (Methods)
    row({v("short_fu", i): 1, v("cd28", i): 1}, -inf, 1)
    # second transplant patients are disease free at last follow-up (Results)
    row({v("prior_hsct", i): 1, v("hsct", i): 1, v("relapse", i): 1}, -inf, 2)
    row({v("prior_hsct", i): 1, v("hsct", i): 1, v("death", i): 1}, -inf, 2)


def _and_var(m: _Model, lits: tuple[str, ...]) -> int:
    """Start of a block of n variables z_i = AND(lits)_i (created once per conjunction)."""
    key = tuple(sorted(lits))
    if key in m.and_index:
        return m.and_index[key]
    start = m.new_block()
    m.and_index[key] = start
    k = len(key)
    for i in range(m.n):
        z = start + i
        const = 0
        big = {z: -1}
        for lit in key:
            a, neg = _lit(lit)
            x = m.var(a, i)
            # z <= lit
            if neg:
                m.add_row({z: 1, x: 1}, -np.inf, 1)
                const += 1
                big[x] = big.get(x, 0) - 1
            else:
                m.add_row({z: 1, x: -1}, -np.inf, 0)
                big[x] = big.get(x, 0) + 1
        # z >= sum(lits) - (k - 1)  <=>  sum(lits) - z <= k - 1
        m.add_row(big, -np.inf, k - 1 - const)
    return start


def _count_coefs(m: _Model, where: tuple[str, ...]) -> tuple[dict, float]:
    """Linear expression (coefs, constant) for #patients with all literals true."""
    w = m.weight
    if len(where) == 0:
        return {}, float(m.n) * w
    if len(where) == 1:
        a, neg = _lit(where[0])
        if neg:
            return {m.var(a, i): -w for i in range(m.n)}, float(m.n) * w
        return {m.var(a, i): w for i in range(m.n)}, 0.0
    start = _and_var(m, where)
    return {start + i: w for i in range(m.n)}, 0.0


def _symmetry(m: _Model) -> None:
    """key_i >= key_{i+1}: lexicographic order on the most informative attributes."""
    w = {a: 2 ** (len(_ORDER_KEY) - 1 - k) for k, a in enumerate(_ORDER_KEY)}
    for i in range(m.n - 1):
        c = {}
        for a, wt in w.items():
            c[m.var(a, i)] = c.get(m.var(a, i), 0) + wt
            c[m.var(a, i + 1)] = c.get(m.var(a, i + 1), 0) - wt
        m.add_row(c, 0, np.inf)


def build(counts: list[tuple[CountTarget, int]], n: int = N_PATIENTS, elastic: bool = False,
          symmetry: bool = True, weight: float = 1.0):
    """Assemble the model. Returns (model, target_rows, slack_columns)."""
    m = _new_model(n)
    m.weight = weight
    _logic(m)
    if symmetry:
        _symmetry(m)
    target_rows, slack_cols = [], []
    for t, val in counts:
        coefs, const = _count_coefs(m, t.where)
        if elastic:
            sp, sm = m.n_vars, m.n_vars + 1
            m.n_vars += 2
            coefs = dict(coefs)
            coefs[sp] = -1
            coefs[sm] = 1
            slack_cols.append((sp, sm))
        r = m.add_row(coefs, val - const, val - const)
        target_rows.append(r)
    return m, target_rows, slack_cols


def _solve(m: _Model, c: np.ndarray, integrality: np.ndarray, ub: np.ndarray,
           extra: list[LinearConstraint] | None = None, time_limit: float | None = None,
           gap: float | None = None):
    a = sparse.csr_matrix((m.vals, (m.rows, m.cols)), shape=(len(m.lo), m.n_vars))
    cons = [LinearConstraint(a, np.array(m.lo), np.array(m.hi))] + (extra or [])
    opts = {"disp": False, "presolve": True}
    if time_limit:
        opts["time_limit"] = time_limit
    if gap is not None:
        opts["mip_rel_gap"] = gap
    return milp(c, constraints=cons, integrality=integrality,
                bounds=Bounds(np.zeros(m.n_vars), ub), options=opts)


def _add_planning(m: _Model, planning, fixed: "_Counter | None" = None) -> None:
    """Planning windows f_lo*#pop <= #events <= f_hi*#pop + 0.5; ``fixed`` adds the counts of
    patients held fixed outside the model (a neighbourhood move)."""
    for _name, ev, pop, f_lo, f_hi in planning or []:
        ce, ke = _count_coefs(m, ev)
        cp, kp = _count_coefs(m, pop)
        if fixed is not None:
            ke, kp = ke + fixed.count(ev), kp + fixed.count(pop)
        for f, lo, hi in ((f_hi, -np.inf, 0.5), (f_lo, 0.0, np.inf)):
            c = dict(ce)
            for k, val in cp.items():
                c[k] = c.get(k, 0) - f * val
            const = ke - f * kp
            m.add_row(c, lo - const, hi - const)


def _random_objective(m: _Model, n: int, rng: np.random.Generator) -> np.ndarray:
    c = np.zeros(m.n_vars)
    na = len(ATTRS) * n
    c[:na] = rng.uniform(0.0, 1.0, size=na)
    return c


def _attributes(res, n: int) -> pd.DataFrame:
    na = len(ATTRS) * n
    x = np.round(res.x[:na]).astype(int).reshape(len(ATTRS), n).T
    return pd.DataFrame(x, columns=list(ATTRS))


def solve(counts: list[tuple[CountTarget, int]], seed: int, n: int = N_PATIENTS,
          planning: list | None = None) -> pd.DataFrame:
    """One feasible cohort (n x ATTRS, 0/1). Raises :class:`ClaimConflict` when infeasible.

    ``planning``: extra windows that are not claims, (name, events, population, f_lo, f_hi):
    f_lo * #population <= #events <= f_hi * #population + 0.5 (``targets.planning_windows``);
    they are dropped when explaining an infeasibility.
    """
    quick = explain_infeasibility(counts, n, lp_only=True)
    if quick is not None:  # the LP relaxation already shows the conflict (milliseconds)
        raise quick
    m, _, _ = build(counts, n)
    _add_planning(m, planning)
    # Random positive weights over the attribute cells pick one cohort among the feasible ones.
    # The solve stops at a 50% relative MIP gap: any feasible point will do, the gap only keeps
    # the run short, and being deterministic (no time limit) the same seed gives the same cohort.
    c = _random_objective(m, n, np.random.default_rng(seed))
    res = _solve(m, c, np.ones(m.n_vars), np.ones(m.n_vars), gap=0.5)
    if res.status != 0 or res.x is None:
        if res.status == 2 or res.x is None:
            conflict = explain_infeasibility(counts, n)
            if conflict.cap == 0:  # claims alone are feasible: the planning windows are at fault
                raise RuntimeError("the planning windows (targets.PLANNING) exclude every cohort "
                                   "that meets the claims; widen them")
            raise conflict
        raise RuntimeError(f"HiGHS stopped: {res.message}")
    return _attributes(res, n)


class _Counter:
    """Counts "patients with all these literals" on a fixed 0/1 frame, fast (numpy, cached).

    The neighbourhood moves need ~600 such counts per move: pandas column access per literal
    (``evaluate``) costs ~0.3 ms per count, numpy arrays ~10 us."""

    def __init__(self, df: pd.DataFrame):
        self.x = {a: df[a].to_numpy() for a in df.columns}
        self._cache: dict = {}

    def count(self, where: tuple[str, ...]) -> int:
        key = tuple(where)
        if key not in self._cache:
            self._cache[key] = int(where_mask(self.x, key).sum())
        return self._cache[key]


def neighbourhood(attrs: pd.DataFrame, counts: list[tuple[CountTarget, int]], planning,
                  rng: np.random.Generator, k: int = 8, pinned=()) -> pd.DataFrame:
    """One large-neighbourhood move: re-solve ``k`` random patients with the others held fixed.

    Every count target and planning window holds before and after: the freed patients must
    reproduce exactly what they contributed (their share of each count), in any combination of
    attributes, under a fresh random objective. The current assignment is feasible for the
    sub-problem, so a move never fails. Chaining moves walks over the set of feasible cohorts
    (cf. /work/shared/notes/reconstruction-solver.md: random objectives give distinct cohorts);
    the walk is what makes the ensemble affordable: a move on 8 patients takes ~0.1 s where a
    full solve takes 5-60 s.
    """
    n = len(attrs)
    movable = np.setdiff1d(np.arange(n), np.asarray(pinned, int))
    free = np.sort(rng.choice(movable, size=min(k, len(movable)), replace=False))
    held = np.setdiff1d(np.arange(n), free)
    fixed = _Counter(attrs.iloc[held])
    sub = [(t, int(v) - fixed.count(t.where)) for t, v in counts]
    m, _, _ = build(sub, len(free))
    _add_planning(m, planning, fixed)
    res = _solve(m, _random_objective(m, len(free), rng), np.ones(m.n_vars), np.ones(m.n_vars),
                 gap=0.5)
    if res.x is None:  # cannot happen for a feasible start; say so loudly if it does
        raise RuntimeError(f"neighbourhood move failed on a feasible cohort: {res.message}")
    out = attrs.copy()
    out.iloc[free] = _attributes(res, len(free))[list(attrs.columns)].to_numpy()
    return out


def walk(attrs: pd.DataFrame, counts: list[tuple[CountTarget, int]], planning, seed: int,
         moves: int, k: int = 8, pinned=()) -> pd.DataFrame:
    """``moves`` neighbourhood moves from ``attrs`` with one seeded generator (same seed, same
    cohort). Rows stay aligned with ``attrs`` (a row keeps its days in stage 2 when its
    stage-2 profile did not change). ``pinned``: rows never freed."""
    rng = np.random.default_rng(seed)
    a = attrs[list(ATTRS)].astype(int).reset_index(drop=True)
    for _ in range(moves):
        a = neighbourhood(a, counts, planning, rng, k, pinned)
    return a


def explain_infeasibility(counts: list[tuple[CountTarget, int]], n: int = N_PATIENTS,
                          max_cap: int = 6, max_alternatives: int = 3,
                          time_limit: float = 60.0, lp_only: bool = False) -> ClaimConflict | None:
    """Smallest set of claims whose counts must change for the program to become feasible.

    Every count target gets a slack pair (s+, s-). First the LP relaxation minimises the total
    slack: most contradictions (a count above its denominator, margins that do not add up) are
    already visible there, in well under a second, and the claims with non-zero slack are the
    repair. Only if the relaxation is feasible (a purely integral conflict) are integer
    feasibility problems solved with the total slack capped at 1, 2, ... (the notes' method).
    Alternatives: forbid the slack used so far and solve again.
    """
    # The LP relaxation is symmetric under permuting patients and convex, so if it is feasible
    # the average patient is too: one fractional patient weighted n is an exact stand-in for it.
    m, _, slack = build(counts, 1, elastic=True, symmetry=False, weight=float(n))
    nv = m.n_vars
    sl = np.array([s for pair in slack for s in pair])
    ub = np.ones(nv)
    ub[sl] = n
    ids = [t.claim_id for t, _ in counts]

    def used_of(x):
        return sorted({ids[k] for k, (p, q) in enumerate(slack) if x[p] + x[q] > 1e-6})

    a_mat = sparse.csr_matrix((m.vals, (m.rows, m.cols)), shape=(len(m.lo), nv))
    lo_, hi_ = np.array(m.lo), np.array(m.hi)
    eq = lo_ == hi_
    up = ~eq & np.isfinite(hi_)
    dn = ~eq & np.isfinite(lo_)
    a_ub = sparse.vstack([a_mat[up], -a_mat[dn]]).tocsr()
    b_ub = np.concatenate([hi_[up], -lo_[dn]])

    def lp(zero=()):
        c = np.zeros(nv)
        c[sl] = 1.0
        u = ub.copy()
        for k in zero:
            u[list(slack[k])] = 0
        return linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_mat[eq], b_eq=lo_[eq],
                       bounds=np.column_stack([np.zeros(nv), u]), method="highs",
                       options={"time_limit": time_limit})

    res = lp()
    if res.x is not None and res.fun is not None and res.fun > 1e-6:
        repair = used_of(res.x)
        cap = int(np.ceil(res.fun - 1e-6))
        return ClaimConflict(repair, _alternatives(repair, ids, lambda b: lp(b), used_of,
                                                   max_alternatives, ok=(0,)), cap)
    if lp_only:
        return None

    m, _, slack = build(counts, n, elastic=True, symmetry=False)
    nv = m.n_vars
    sl = np.array([s for pair in slack for s in pair])
    ub = np.ones(nv)
    ub[sl] = n
    integ = np.ones(nv)
    c0 = np.zeros(nv)

    def with_cap(cap, zero=()):
        row = np.zeros(nv)
        row[sl] = 1
        u = ub.copy()
        for k in zero:
            u[list(slack[k])] = 0
        a = sparse.csr_matrix(row.reshape(1, -1))
        return _solve(m, c0, integ, u, [LinearConstraint(a, 0, cap)], time_limit=time_limit)

    for cap in range(1, max_cap + 1):
        res = with_cap(cap)
        if res.x is not None and res.status in (0, 1):
            repair = used_of(res.x)
            if not repair:  # feasible without touching any claim
                return ClaimConflict([], [], 0)
            return ClaimConflict(repair, _alternatives(repair, ids, lambda b: with_cap(cap, b),
                                                       used_of, max_alternatives, ok=(0, 1)), cap)
    return ClaimConflict([f"(no repair found with a total change <= {max_cap})"], [], max_cap)


def _alternatives(repair, ids, resolve, used_of, max_alternatives, ok) -> list[list[str]]:
    """Other repairs: forbid the slack of every claim used so far and solve again."""
    alts, banned = [], [k for k in range(len(ids)) if ids[k] in repair]
    for _ in range(max_alternatives):
        r2 = resolve(banned)
        if r2.x is None or r2.status not in ok:
            break
        u2 = used_of(r2.x)
        if not u2:
            break
        alts.append(u2)
        banned += [k for k in range(len(ids)) if ids[k] in u2]
    return alts


def evaluate(df: pd.DataFrame, where: tuple[str, ...]) -> int:
    """#rows of a 0/1 frame for which all literals hold (used to check targets on a CSV)."""
    return int(where_mask(df, where).sum())
