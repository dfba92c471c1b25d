"""Export the public data sets that lifelines bundles to CSV, for R to read (make_reference.R).

Run from the repo root:  .venv/bin/python tests/reference/export_datasets.py
The CSVs are committed, so neither R nor this script is needed to run the tests.

- leukemia.csv : Freireich et al. (1963) 6-MP vs placebo remission times, 42 children, as
                 distributed by Kleinbaum & Klein (``anderson.dat``): t (weeks), status, sex, logWBC,
                 Rx (1 = placebo, 0 = 6-MP). lifelines.datasets.load_leukemia.
- larynx.csv   : Kardaun (1983) larynx cancer, 90 men: time (years), death, age, stage dummies;
                 a ``stage`` column 1-4 is added from the dummies. lifelines.datasets.load_larynx.
- rossi.csv    : Rossi et al. (1980) recidivism of 432 released prisoners, weeks to arrest.
                 lifelines.datasets.load_rossi.
- waltons.csv  : lifelines' Drosophila genotype example (163 flies, 2 groups, many ties).
                 lifelines.datasets.load_waltons.
- toy_ties.csv : 12 hand-made rows with heavy ties, a survival curve that sits exactly at 50%,
                 and 3 groups - the corner cases.
"""
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import datasets

HERE = Path(__file__).resolve().parent


def main() -> None:
    datasets.load_leukemia().to_csv(HERE / "leukemia.csv", index=False)
    lar = datasets.load_larynx()
    lar["stage"] = 1 + lar["Stage_II"] + 2 * lar["Stage_III"] + 3 * lar["Stage_IV"]
    lar.to_csv(HERE / "larynx.csv", index=False)
    datasets.load_rossi().to_csv(HERE / "rossi.csv", index=False)
    w = datasets.load_waltons()
    w["T"] = w["T"].astype(float)
    w.to_csv(HERE / "waltons.csv", index=False)
    toy = pd.DataFrame({
        "time": [1, 2, 2, 3, 4, 4, 4, 5, 6, 6, 8, 9],
        "event": [1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0],
        "grp": ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"],
    })
    toy["x"] = np.where(toy["grp"] == "a", 1, 0)
    toy.to_csv(HERE / "toy_ties.csv", index=False)
    # a curve that is exactly 0.5 on [2, 3): the median convention case
    pd.DataFrame({"time": [1, 2, 3, 4], "event": [1, 1, 1, 1]}).to_csv(HERE / "flat_half.csv",
                                                                       index=False)


if __name__ == "__main__":
    main()
