"""The build benchmark's goal arithmetic (bench/bench_build.py): a failed case is never a met goal,
and the plain jupyter-book comparison executes the MyST chapters (the book's config excludes
notebooks/, which once made the 'plain' build render nothing in 4.6 s)."""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import bench_build  # noqa: E402


def test_a_failed_case_is_never_a_met_goal():
    ok = bench_build._goal("make test", 0.7, 360.0, "s", {"returncode": 0})
    failed = bench_build._goal("make test", 0.7, 360.0, "s", {"returncode": 2})
    assert ok["met"] and not failed["met"] and failed["measured"] == "case failed"


def test_a_skipped_case_is_not_met():
    assert not bench_build._goal("one", None, 10.0, "s", {})["met"]


def test_the_plain_build_sees_the_chapters(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_a.md").write_text("# A\n")
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    cmd = bench_build._plain_command(tmp_path, tmp_path / "out")
    config = yaml.safe_load((tmp_path / "_config_force.yml").read_text())
    toc = yaml.safe_load((tmp_path / "_toc_force.yml").read_text())
    assert "notebooks" not in config["exclude_patterns"]
    assert config["execute"]["execute_notebooks"] == "force"
    assert toc["chapters"] == [{"file": "notebooks/01_a"}] and "--all" in cmd
