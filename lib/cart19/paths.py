"""Where things live. Everything is relative to the repository root."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("CART19_ROOT", Path(__file__).resolve().parents[2]))
DATA = ROOT / "data"
CLAIMS_CSV = DATA / "published" / "claims.csv"
COHORT_CSV = DATA / "cohort" / "cohort.csv"
NOT_INFUSED_CSV = DATA / "cohort" / "not_infused.csv"
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
PARAMS_YML = NOTEBOOKS / "params.yml"
