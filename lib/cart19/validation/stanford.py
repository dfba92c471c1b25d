"""The immortal-time method of chapter 23 on the Stanford heart transplant data.

The Stanford program's patients waited for a donor heart after acceptance; 69 of 103 received
one (Crowley & Hu, J Am Stat Assoc 1977;72:27-36). Comparing the transplanted with the others
from acceptance credits the wait to the transplanted: the immortal-time bias of Zhang et al.'s
Figure 3, where 75 responders were transplanted at day 36-120. Since Mantel & Byar (J Am Stat
Assoc 1974;69:81-86) the data are analysed with transplant as a time-dependent covariate; the
models of Kalbfleisch & Prentice (The Statistical Analysis of Failure Time Data, 1980, p. 139)
are the published reference, refitted exactly by R's survival package in its test suite
(``tests/jasa.Rout.save``, Breslow ties), and transcribed in ``data/validation/stanford_published.csv``.

Two checks, on the true data (not a reconstruction):

* :func:`published_models` refits Kalbfleisch & Prentice's models 1 and 6 with the same start/stop
  construction chapter 23 uses (lifelines ``CoxTimeVaryingFitter``; Efron ties, so small
  differences from the Breslow values are expected where deaths are tied) and sets them beside
  the published coefficients;
* :func:`chapter23_methods` runs chapter 23's three estimates (fixed at acceptance,
  time-dependent, landmark) on the same patients: the fixed one shows the spurious benefit, the
  other two the absence of a clear effect that the published time-dependent analyses report.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import CoxTimeVaryingFitter

from cart19.paths import DATA
from cart19.stats import timevarying
from cart19.validation.datasets import stanford

PUBLISHED = DATA / "validation" / "stanford_published.csv"
MODELS = {"kp1": ["age", "surgery", "transplant", "age:transplant", "surgery:transplant"],
          "kp6": ["age", "transplant", "surgery", "year", "age:transplant"]}


def patients() -> pd.DataFrame:
    """One row per patient with chapter 23's columns: os_days, os_event, hsct (transplanted),
    hsct_day (the wait), and age (minus 48, as in the published models), year, surgery."""
    s = stanford()
    return pd.DataFrame({"os_days": s["time"].astype(float), "os_event": s["event"].astype(int),
                         "hsct": s["transplant"].astype(int), "hsct_day": s["wait"].astype(float),
                         "age": s["age"] - 48.0, "year": s["year"], "surgery": s["surgery"]})


def published_models() -> pd.DataFrame:
    """Kalbfleisch & Prentice's models 1 and 6 refitted beside the published coefficients."""
    pub = pd.read_csv(PUBLISHED)
    d = patients()
    long = timevarying.long_format(d, "os", ["age", "year", "surgery"])
    long = long.rename(columns={"hsct": "transplant"})
    long["age:transplant"] = long["age"] * long["transplant"]
    long["surgery:transplant"] = long["surgery"] * long["transplant"]
    rows = []
    for model, terms in MODELS.items():
        ctv = CoxTimeVaryingFitter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctv.fit(long[["id", "start", "stop", "E", *terms]], id_col="id", event_col="E",
                    start_col="start", stop_col="stop")
        s = ctv.summary
        for t in terms:
            p = pub[(pub["model"] == model) & (pub["term"] == t)].iloc[0]
            rows.append({"model": model, "term": t, "published_coef": p["coef"],
                         "published_se": p["se"], "coef": float(s.loc[t, "coef"]),
                         "se": float(s.loc[t, "se(coef)"]), "p": float(s.loc[t, "p"])})
    out = pd.DataFrame(rows)
    out["difference"] = out["coef"] - out["published_coef"]
    out["difference_in_se"] = out["difference"] / out["published_se"]
    out.attrs["intervals"] = len(long)
    out.attrs["deaths"] = int(long["E"].sum())
    return out


def chapter23_methods(landmark: float | None = None) -> pd.DataFrame:
    """Chapter 23's three hazard ratios of transplant vs none on the true Stanford patients
    (landmark: the median wait unless given)."""
    d = patients()
    lm = float(np.nanmedian(d["hsct_day"])) if landmark is None else float(landmark)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = [timevarying.fixed_hr(d, "os"), timevarying.time_varying_hr(d, "os"),
                timevarying.landmark_hr(d, "os", lm)]
    return pd.DataFrame(rows)
