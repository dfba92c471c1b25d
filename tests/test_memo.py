"""The disk cache of the whole paper's reproduction (lib/cart19/comparison/memo.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cart19 import paths
from cart19.comparison import memo, scorecard

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(memo, "directory", lambda: tmp_path / "memo")
    monkeypatch.delenv(memo.OFF, raising=False)
    return tmp_path / "memo"


def _files(tmp_path):
    out = []
    for name in ("a.csv", "b.csv"):
        p = tmp_path / name
        p.write_text(f"{name}\n1\n", encoding="utf-8")
        out.append(p)
    return out


def test_second_call_is_read_not_computed(cache, tmp_path):
    files, calls = _files(tmp_path), []
    compute = lambda: calls.append(1) or {"x": pd.DataFrame({"v": [0.1, 2.5e-7]})}  # noqa: E731
    first = memo.cached(files, compute)
    second = memo.cached(files, compute)
    assert calls == [1]
    pd.testing.assert_frame_equal(first["x"], second["x"])
    assert len(list(cache.glob("*.pkl"))) == 1


def test_any_input_byte_changes_the_key(tmp_path):
    files = _files(tmp_path)
    before = memo.key(files)
    files[1].write_text("b.csv\n2\n", encoding="utf-8")
    assert memo.key(files) != before
    files[1].unlink()
    assert memo.key(files) not in (before,)


def test_code_change_changes_the_key(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    shutil.copytree(memo.PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(memo, "PACKAGE", pkg)
    files = _files(tmp_path)
    before = memo.key(files)
    target = pkg / "comparison" / "reproduce.py"
    target.write_text(target.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert memo.key(files) != before


def test_a_cut_file_is_computed_anew(cache, tmp_path):
    files = _files(tmp_path)
    memo.cached(files, lambda: list(range(1000)))
    (pkl,) = cache.glob("*.pkl")
    pkl.write_bytes(pkl.read_bytes()[:20])
    assert memo.cached(files, lambda: "fresh") == "fresh"


def test_off_switch(cache, tmp_path, monkeypatch):
    monkeypatch.setenv(memo.OFF, "1")
    files = _files(tmp_path)
    memo.cached(files, lambda: 1)
    assert not cache.exists()


def test_read_only_cache_still_returns(cache, tmp_path):
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("not a directory", encoding="utf-8")  # every write below fails
    assert memo.cached(_files(tmp_path), lambda: 42) == 42


def test_reproduction_from_the_cache_equals_a_fresh_one(cache, monkeypatch):
    """The committed record and cohort: the stored result is the computed one, frame by frame."""
    scorecard._compute.cache_clear()
    monkeypatch.setenv(memo.OFF, "1")
    fresh = scorecard.compute_all(paths.CLAIMS_CSV, paths.COHORT_CSV)
    monkeypatch.delenv(memo.OFF)
    scorecard._compute.cache_clear()
    scorecard.compute_all(paths.CLAIMS_CSV, paths.COHORT_CSV)  # computes and stores
    scorecard._compute.cache_clear()
    stored = scorecard.compute_all(paths.CLAIMS_CSV, paths.COHORT_CSV)  # reads
    scorecard._compute.cache_clear()
    assert len(list(cache.glob("*.pkl"))) == 1
    for name in ("claims", "raw", "cohort", "reproduced", "card"):
        pd.testing.assert_frame_equal(getattr(fresh, name), getattr(stored, name))


def test_only_the_newest_are_kept(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(memo, "KEEP", 3)
    files = _files(tmp_path)
    for i in range(6):
        files[0].write_text(f"a\n{i}\n", encoding="utf-8")
        memo.cached(files, lambda: i)  # noqa: B023
    assert len(list(cache.glob("*.pkl"))) == 3
    assert memo.cached(files, lambda: "recomputed") == 5  # the newest is still there
