"""Recomputation of the paper's statistics from the printed numbers.

Pure functions used by :mod:`cart19.record.audit` to check Tables 2-5, the figure captions
and the text of Zhang et al., Blood Adv 2020;4(10):2325-2338:

* contingency-table tests from counts (Table 3 subgroup P values, Table 4 P values):
  the paper says it compared subgroups "using chi-square tests" with SPSS 16, whose
  crosstab output prints Pearson chi-square, the continuity (Yates) correction
  (2x2 only), the likelihood-ratio (G) test, Fisher's exact test and the
  linear-by-linear association, so all of them are computed here;
* two-sample t-tests from summary statistics (Table 3 "CAR T-cell peak, % +/- SD"),
  with the printed dispersion read as SD or as standard error, Student or Welch;
* hazard-ratio checks (Figures 3-7 captions, Results, Abstract, Table 5): log-symmetry
  of a 95% CI around the HR, the two-sided P implied by the CI, reciprocal HRs;
* rounding of n/N to a printed percentage and of a recomputed P to a printed P.

Numbers printed in the paper are passed as *text* wherever their number of decimals
matters (a "7.5" is not a "7.50"), and rounding is done on exact decimals so that a
tie such as 68.75 is treated by the rule being tested, not by binary floating point.
"""
from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import product

import numpy as np
from scipy import special, stats

#: rounding rules tried on printed percentages and P values
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN,
                  "truncate": ROUND_DOWN}

#: names of the contingency tests, in the order SPSS prints them
TESTS = ("pearson", "yates", "likelihood_ratio", "fisher", "linear_by_linear")


# --------------------------------------------------------------------------- numbers as printed

def decimals_of(text) -> int:
    """Number of digits after the decimal point in a printed number ("7.5" -> 1, "100" -> 0)."""
    s = str(text).strip().lstrip("<>=≤≥ ").replace("%", "")
    if "e" in s.lower():
        raise ValueError(f"cannot read decimals of {text!r}")
    return len(s.split(".", 1)[1]) if "." in s else 0


def to_decimal(x) -> Decimal:
    """Exact decimal of a printed number or of a Fraction/int (floats go through repr)."""
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator)
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(str(x).strip().replace("%", ""))


def round_decimal(x, decimals: int, mode: str = "half_up") -> Decimal:
    """Round ``x`` to ``decimals`` places with one of :data:`ROUNDING_MODES`.

    ``x`` may be a Fraction (exact ratio), a Decimal, an int or a printed string.
    Fractions are divided at 40 significant digits first, far beyond any tie that matters
    for a percentage of counts below 10**6.
    """
    if isinstance(x, Fraction):
        from decimal import localcontext
        with localcontext() as ctx:
            ctx.prec = 40
            d = Decimal(x.numerator) / Decimal(x.denominator)
        # an exact tie (e.g. 68.75) is kept exact because the division terminates
    else:
        d = to_decimal(x)
    q = Decimal(1).scaleb(-decimals)
    return d.quantize(q, rounding=ROUNDING_MODES[mode])


def exact_percent(n: int, N: int) -> Fraction:
    """100 * n / N as an exact fraction."""
    if N <= 0:
        raise ValueError(f"denominator must be positive, got {N}")
    return Fraction(100 * int(n), int(N))


def percent_rounding(n: int, N: int, printed) -> dict:
    """How a printed percentage relates to n/N (Tables 1-4, text "n (x%) of N").

    Returns a dict with ``exact`` (float), ``decimals`` (of the printed text), ``modes``
    (the rounding rules in :data:`ROUNDING_MODES` that reproduce the printed text exactly),
    ``units_off`` (|printed - exact| in units of the last printed digit) and ``verdict``:
    ``consistent`` if half-up or half-even rounding reproduces it, ``minor rounding`` if only
    truncation does or it is within one unit of the last printed digit, else
    ``inconsistent``.
    """
    dec = decimals_of(printed)
    exact = exact_percent(n, N)
    p = to_decimal(printed)
    modes = [m for m in ROUNDING_MODES if round_decimal(exact, dec, m) == p]
    unit = Fraction(1, 10 ** dec)
    units_off = abs(Fraction(p) - exact) / unit
    if "half_up" in modes or "half_even" in modes:
        verdict = "consistent"
    elif modes or units_off <= 1:
        verdict = "minor rounding"
    else:
        verdict = "inconsistent"
    return {"exact": float(exact), "decimals": dec, "modes": modes,
            "units_off": float(units_off), "verdict": verdict}


def p_matches(computed: float, printed, cmp: str = "=") -> bool:
    """Does a recomputed P reproduce a printed P at the printed precision?

    ``printed`` is the text (".015", "1", ".7", "<.0001"). With ``cmp`` "<" the computed
    value must be below the bound (">" above). With "=" the computed P rounded half-up to the
    printed number of decimals must equal the printed value; the paper drops trailing zeros
    (Table 4 prints ".7", SPSS would print ".700"), so a 3-decimal match is accepted as well.
    A printed "1" is SPSS's "1.000": the computed P must round to 1.000 at 3 decimals, since a
    P of .90 would have been printed as ".90", not "1".
    """
    if computed is None or not np.isfinite(computed):
        return False
    bound = float(to_decimal(printed))
    if cmp == "<":
        return computed < bound
    if cmp == ">":
        return computed > bound
    dec = decimals_of(printed)
    target = to_decimal(printed)
    c = Decimal(repr(float(computed)))
    if target == 1 and dec == 0:
        return c.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) == Decimal("1.000")
    for d in {dec, max(dec, 3)}:
        if c.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP) == target:
            return True
    return False


# --------------------------------------------------------------------------- contingency tables

def _table(table) -> np.ndarray:
    t = np.asarray(table)
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError(f"need an r x c table with r, c >= 2, got shape {t.shape}")
    if np.any(t < 0) or np.any(np.asarray(t, float) != np.round(np.asarray(t, float))):
        raise ValueError("table cells must be non-negative integers")
    return t.astype(np.int64)


def table_from_counts(k1: int, n1: int, k2: int, n2: int) -> np.ndarray:
    """2x2 table [[k1, n1-k1], [k2, n2-k2]] from "k1/n1 vs k2/n2" (Table 3 rows)."""
    for k, n in ((k1, n1), (k2, n2)):
        if not 0 <= k <= n:
            raise ValueError(f"count {k} not within 0..{n}")
    return np.array([[k1, n1 - k1], [k2, n2 - k2]], dtype=np.int64)


def _compositions(total: int, caps: list[int]):
    """Every way to write ``total`` as ordered parts, part k at most ``caps[k]``."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest_cap = sum(caps[1:])
    for x in range(max(0, total - rest_cap), min(total, caps[0]) + 1):
        for tail in _compositions(total - x, caps[1:]):
            yield (x,) + tail


def fisher_freeman_halton(table) -> float:
    """Exact two-sided P of Fisher's test for an r x c table (Freeman-Halton extension).

    Own code because scipy's ``fisher_exact`` is exact only for 2x2 tables (larger tables
    need a Monte Carlo or permutation ``method``, which is not exact and is random). All
    tables with the observed margins are enumerated row by row; the P value is the total
    probability of tables no more likely than the observed one (the SPSS/scipy
    definition). Meant for the small tables of the paper (Table 4: 3 x 2, N = 102).
    """
    t = _table(table)
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    n = int(t.sum())
    const = (special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum()
             - special.gammaln(n + 1))

    def logp(cells: np.ndarray) -> float:
        return const - special.gammaln(cells + 1).sum()

    lp_obs = logp(t)
    total = 0.0
    # enumerate rows 0..r-2 freely (each a composition of its row total bounded by what is left
    # in each column); the last row is then determined by the column totals.
    r, c = t.shape

    def recurse(i, left, acc):
        nonlocal total
        if i == r - 1:
            cells = np.array(acc + [left], dtype=np.int64)
            lp = logp(cells)
            if lp <= lp_obs + 1e-7:
                total += math.exp(lp)
            return
        for row in _compositions(int(rows[i]), list(left)):
            recurse(i + 1, [a - b for a, b in zip(left, row)], acc + [list(row)])

    recurse(0, [int(x) for x in cols], [])
    return min(1.0, total)


def contingency_tests(table) -> dict:
    """P values of the tests SPSS prints for a crosstab (Table 3, Table 4).

    Returns ``{"pearson", "yates", "likelihood_ratio", "fisher", "linear_by_linear"}`` ->
    two-sided P. Pearson and likelihood-ratio come from ``scipy.stats.chi2_contingency``
    (``lambda_="log-likelihood"`` for G); Yates from the same with ``correction=True`` and
    only for 2x2 tables (NaN otherwise, as in SPSS); Fisher from ``scipy.stats.fisher_exact``
    for 2x2 and :func:`fisher_freeman_halton` otherwise; linear-by-linear is SPSS's
    Mantel-Haenszel statistic (N-1) r^2 with row and column scores 1, 2, ... (own code: scipy
    has no such function). A chi-square test is NaN when a whole row or column is empty.
    """
    t = _table(table)
    out = dict.fromkeys(TESTS, float("nan"))
    empty = (t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any()
    if not empty:
        out["pearson"] = float(stats.chi2_contingency(t, correction=False).pvalue)
        out["likelihood_ratio"] = float(stats.chi2_contingency(
            t, correction=False, lambda_="log-likelihood").pvalue)
        if t.shape == (2, 2):
            out["yates"] = float(stats.chi2_contingency(t, correction=True).pvalue)
        out["linear_by_linear"] = linear_by_linear_p(t)
    if t.shape == (2, 2):
        out["fisher"] = float(stats.fisher_exact(t).pvalue)
    else:
        out["fisher"] = fisher_freeman_halton(t)
    return out


def linear_by_linear_p(table) -> float:
    """SPSS "Linear-by-Linear Association": M^2 = (N-1) r^2 on integer scores, chi-square(1)."""
    t = _table(table).astype(float)
    n = t.sum()
    i = np.arange(1, t.shape[0] + 1)[:, None]
    j = np.arange(1, t.shape[1] + 1)[None, :]
    ei, ej = (t * i).sum() / n, (t * j).sum() / n
    cov = (t * (i - ei) * (j - ej)).sum()
    vi, vj = (t * (i - ei) ** 2).sum(), (t * (j - ej) ** 2).sum()
    if vi == 0 or vj == 0:
        return float("nan")
    r2 = cov ** 2 / (vi * vj)
    return float(stats.chi2.sf((n - 1) * r2, 1))


def two_by_two_tests(k1: int, n1: int, k2: int, n2: int) -> dict:
    """:func:`contingency_tests` for "k1/n1 vs k2/n2" (one Table 3 cell pair)."""
    return contingency_tests(table_from_counts(k1, n1, k2, n2))


def reproducing_tests(pvalues: dict, printed, cmp: str = "=") -> list[str]:
    """Names of the tests whose P reproduces the printed P (see :func:`p_matches`)."""
    return [name for name, p in pvalues.items() if p_matches(p, printed, cmp)]


# --------------------------------------------------------------------------- t-tests

def sd_from_se(se: float, n: int) -> float:
    """SD = SE * sqrt(n): reading a printed "+/-" as a standard error of the mean."""
    return float(se) * math.sqrt(n)


def ttest_from_summary(mean1: float, disp1: float, n1: int, mean2: float, disp2: float,
                       n2: int, dispersion: str = "sd", equal_var: bool = True) -> float:
    """Two-sided P of a two-sample t-test from means and printed dispersions (Table 3).

    ``dispersion`` says how to read the printed "+/-": ``"sd"`` or ``"se"`` (converted with
    :func:`sd_from_se`); ``equal_var`` True is Student's test, False Welch's. Uses
    ``scipy.stats.ttest_ind_from_stats``.
    """
    if dispersion not in {"sd", "se"}:
        raise ValueError(f"dispersion must be 'sd' or 'se', got {dispersion!r}")
    s1, s2 = (disp1, disp2) if dispersion == "sd" else (sd_from_se(disp1, n1),
                                                         sd_from_se(disp2, n2))
    res = stats.ttest_ind_from_stats(mean1, s1, n1, mean2, s2, n2, equal_var=equal_var)
    return float(res.pvalue)


def ttest_readings(mean1, disp1, n1, mean2, disp2, n2) -> dict:
    """P under the four readings {sd, se} x {student, welch}, keyed e.g. ``"se_welch"``."""
    return {f"{d}_{'student' if ev else 'welch'}":
            ttest_from_summary(mean1, disp1, n1, mean2, disp2, n2, d, ev)
            for d, ev in product(("sd", "se"), (True, False))}


def pooled_mean_sd(groups) -> tuple[float, float]:
    """Overall mean and SD of the union of groups given as (n, mean, sd) (ANOVA identity).

    Every Table 3 factor splits the same 110 patients, so each pair must give the same
    overall CAR T-cell peak mean (and SD, under the SE reading).
    """
    g = [(int(n), float(m), float(s)) for n, m, s in groups]
    n = sum(x[0] for x in g)
    mean = sum(x[0] * x[1] for x in g) / n
    ss = sum((x[0] - 1) * x[2] ** 2 + x[0] * (x[1] - mean) ** 2 for x in g)
    return mean, math.sqrt(ss / (n - 1))


# --------------------------------------------------------------------------- hazard ratios

def ci_geometric_mean(lo: float, hi: float) -> float:
    """Centre of a CI on the log scale, sqrt(lo * hi): a Wald CI for an HR is centred on it."""
    if lo <= 0 or hi <= 0:
        raise ValueError("CI limits of a ratio must be positive")
    return math.sqrt(lo * hi)


def log_asymmetry(hr: float, lo: float, hi: float) -> float:
    """ln(HR) - ln(sqrt(lo*hi)): 0 for a CI symmetric on the log scale around the HR."""
    return math.log(hr) - math.log(ci_geometric_mean(lo, hi))


def se_from_ci(lo: float, hi: float, level: float = 0.95) -> float:
    """SE of ln(HR) from a Wald CI: (ln hi - ln lo) / (2 z), z = 1.96 for 95%."""
    if not 0 < lo < hi:
        raise ValueError(f"need 0 < lo < hi, got {lo}, {hi}")
    z = stats.norm.ppf(0.5 + level / 2)
    return (math.log(hi) - math.log(lo)) / (2 * z)


def ci_from_se(hr: float, se: float, level: float = 0.95) -> tuple[float, float]:
    """Wald CI exp(ln HR -/+ z SE) (used to test round trips)."""
    z = stats.norm.ppf(0.5 + level / 2)
    return math.exp(math.log(hr) - z * se), math.exp(math.log(hr) + z * se)


def p_from_ci(lo: float, hi: float, hr: float | None = None, level: float = 0.95) -> float:
    """Two-sided Wald P implied by a CI: z = ln(HR) / SE with SE from :func:`se_from_ci`.

    Without ``hr`` the CI's log-centre (:func:`ci_geometric_mean`) is used, as for the CIs
    that the Abstract and Results print without their HR.
    """
    h = ci_geometric_mean(lo, hi) if hr is None else hr
    z = math.log(h) / se_from_ci(lo, hi, level)
    return float(2 * stats.norm.sf(abs(z)))


def _rounding_box(text) -> tuple[float, float]:
    d = to_decimal(text)
    half = Decimal(5).scaleb(-decimals_of(text) - 1)
    return float(d - half), float(d + half)


def p_range_from_ci(lo_text, hi_text, hr_text=None) -> tuple[float, float]:
    """Smallest and largest implied P over every HR, lo, hi that round to the printed text.

    The printed limits carry rounding error; a printed P is compatible with the CI if it
    falls in this range (after its own rounding). Values are passed as printed strings.
    """
    los, his = _rounding_box(lo_text), _rounding_box(hi_text)
    hrs = _rounding_box(hr_text) if hr_text is not None else None
    ps = []
    for lo, hi in product(los, his):
        lo = max(lo, 1e-12)
        if hrs is None:
            ps.append(p_from_ci(lo, hi))
        else:
            ps.extend(p_from_ci(lo, hi, h) for h in hrs)
    # |z| is monotone in each argument separately, but ln(hr) may change sign inside the box
    if hrs is not None and hrs[0] <= 1 <= hrs[1]:
        ps.append(1.0)
    return min(ps), max(ps)


def gm_range(lo_text, hi_text) -> tuple[float, float]:
    """Range of sqrt(lo*hi) over the rounding boxes of the printed limits."""
    los, his = _rounding_box(lo_text), _rounding_box(hi_text)
    return math.sqrt(max(los[0], 1e-12) * his[0]), math.sqrt(los[1] * his[1])


def ci_excludes_one(lo: float, hi: float) -> bool:
    """True when the 95% CI of a ratio lies entirely above or below 1 (so P < .05)."""
    return lo > 1 or hi < 1


def reciprocal(hr: float | None, lo: float, hi: float) -> tuple[float | None, float, float]:
    """HR and CI of the reversed comparison: (1/HR, 1/hi, 1/lo)."""
    return (None if hr is None else 1 / hr), 1 / hi, 1 / lo


def p_interval(printed, cmp: str = "=") -> tuple[float, float]:
    """Values a printed P stands for: "<.0001" -> (0, .0001); ".015" -> (.0145, .0155)."""
    v = float(to_decimal(printed))
    if cmp == "<":
        return 0.0, v
    if cmp == ">":
        return v, 1.0
    lo, hi = _rounding_box(printed)
    return max(lo, 0.0), min(hi, 1.0)


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def landmark_hr(s1: float, s2: float) -> float:
    """HR implied by two survival proportions at one time under proportional hazards.

    ln S1 / ln S2 (group 1 vs group 2); a rough yardstick for the size of a printed HR.
    """
    if not (0 < s1 < 1 and 0 < s2 < 1):
        raise ValueError("survival proportions must lie strictly between 0 and 1")
    return math.log(s1) / math.log(s2)
