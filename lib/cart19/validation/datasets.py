"""The public trials of the benchmark, as shipped inside lifelines (no download).

========== =========================================================== ======== ==========
name       trial                                                        patients lifelines
========== =========================================================== ======== ==========
actg175    ACTG 175: zidovudine, didanosine and zalcitabine in HIV       2,139    ACTG175.csv
           (Hammer et al., N Engl J Med 1996;335:1081-1090)
gbsg2      German Breast Cancer Study Group 2: tamoxifen and chemo-       686      load_gbsg2
           therapy in node-positive breast cancer (Schumacher et al.,
           J Clin Oncol 1994;12:2086-2093)
lung       NCCTG advanced lung cancer: patient-reported prognosis          228      load_lung
           (Loprinzi et al., J Clin Oncol 1994;12:601-607)
stanford   Stanford heart transplant program (Crowley & Hu, J Am Stat     103      load_stanford_
           Assoc 1977;72:27-36)                                                    heart_transplants
========== =========================================================== ======== ==========

Each loader returns the raw table as the package ships it (Stanford: one row per patient,
collapsed from the start/stop rows); the study maps in ``data/validation/maps/`` say how the
columns become the engine's attributes. ``python -m cart19.validation.datasets NAME`` writes
one as CSV to stdout, for the ``validate-method`` command.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cart19.paths import DATA

MAPS = DATA / "validation" / "maps"


def actg175() -> pd.DataFrame:
    import lifelines.datasets as d
    df = pd.read_csv(Path(d.__file__).parent / "ACTG175.csv")
    return df.drop(columns=[c for c in df.columns if c.startswith("Unnamed")])


def gbsg2() -> pd.DataFrame:
    from lifelines.datasets import load_gbsg2
    return load_gbsg2()


def lung() -> pd.DataFrame:
    from lifelines.datasets import load_lung
    return load_lung()


def stanford() -> pd.DataFrame:
    """One row per patient: days from acceptance to death or censoring (``time``, ``event``),
    transplant (ever), the wait before it (``wait``, NaN without), age (years, the shipped
    age + 48), year of acceptance (years after 1 Oct 1967), prior bypass surgery."""
    from lifelines.datasets import load_stanford_heart_transplants
    s = load_stanford_heart_transplants().sort_values(["id", "start"])
    g = s.groupby("id")
    tx = s[s["transplant"] == 1].groupby("id")["start"].min()
    out = pd.DataFrame({"id": g.size().index, "time": g["stop"].max().to_numpy(),
                        "event": g["event"].last().to_numpy().astype(int),
                        "age": (g["age"].first() + 48).to_numpy(),
                        "year": g["year"].first().to_numpy(),
                        "surgery": g["surgery"].first().to_numpy().astype(int)})
    out["wait"] = out["id"].map(tx).to_numpy(float)
    out["transplant"] = np.isfinite(out["wait"]).astype(int)
    return out


LOADERS = {"actg175": actg175, "gbsg2": gbsg2, "lung": lung, "stanford": stanford}


def load(name: str) -> pd.DataFrame:
    if name not in LOADERS:
        raise KeyError(f"unknown dataset {name!r}; have {sorted(LOADERS)}")
    return LOADERS[name]()


def subsample(raw: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """``n`` patients drawn without replacement (all of them when ``n`` is None or larger)."""
    if n is None or n >= len(raw):
        return raw.reset_index(drop=True)
    idx = np.sort(np.random.default_rng(seed).choice(len(raw), n, replace=False))
    return raw.iloc[idx].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in LOADERS:
        print(f"usage: python -m cart19.validation.datasets {{{','.join(LOADERS)}}} > FILE.csv",
              file=sys.stderr)
        return 2
    load(argv[0]).to_csv(sys.stdout, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
