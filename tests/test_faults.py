"""Fault injection: signals, full disks, read-only paths, bad bytes (issue 18).

Every case runs the real command line in a subprocess, as a user would, and asserts three things:
its one-line message (no traceback), a non-zero exit, and that the checksums of ``book/`` and
``data/`` are the same before and after. The builds run on a throw-away repository
(tests/minirepo.py) whose chapters start in a second, except where the real book is needed.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minirepo import make_repo, write_nb

REPO = Path(__file__).resolve().parents[1]


def checksums(root: Path, dirs=("book", "data")) -> dict[str, str]:
    """Content hash of every file below ``root/dir`` (hidden files included, html excluded)."""
    out = {}
    for d in dirs:
        for p in sorted((root / d).rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and not rel.startswith("book/_build/"):
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def cart19(*args: str, root: Path | None = None, **kw) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "cart19", *args] + (["--root", str(root)] if root else [])
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600, **kw)


def one_line(text: str) -> str:
    """The message: exactly one non-empty line, and no traceback."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert "Traceback" not in text, text
    assert len(lines) == 1, text
    return lines[0]


# ------------------------------------------------------------------------------------------- signals
def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def sleepy(tmp_path):
    """A repository whose chapter 01 finishes at once and whose 02-04 sleep for two minutes (each
    writes its kernel's pid to a marker file first)."""
    root = make_repo(tmp_path / "repo")
    marks = tmp_path / "pids"
    marks.mkdir()
    write_nb(root, "01_a", "print(1)")
    for stem in ("02_b", "03_c", "04_d"):
        write_nb(root, stem, f"import os, time\nopen({str(marks)!r} + '/{stem}', 'w').write(str(os.getpid()))"
                             "\ntime.sleep(120)")
    return root, marks


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_build_within_5_s_and_kills_its_kernels(sleepy, signame):
    """Two kernels are sleeping (01_a has finished: with 2 jobs, 03_c starts only after it), then
    the signal: the build exits within 5 s, its kernels are dead, one line says what was kept,
    book/ and data/ are unchanged; the next build reuses 01_a's result."""
    root, marks = sleepy
    before = checksums(root)
    proc = subprocess.Popen([sys.executable, "-m", "cart19", "build", "--no-render", "--jobs", "2",
                             "--root", str(root)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while len(list(marks.iterdir())) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    pids = [int(p.read_text()) for p in marks.iterdir()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    t0 = time.monotonic()
    if signame == "SIGINT":  # a terminal's Ctrl-C goes to the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    stopped = time.monotonic() - t0
    while any(_alive(p) for p in pids) and time.monotonic() - t0 < 5:
        time.sleep(0.05)
    assert stopped < 5, f"the build took {stopped:.1f} s to stop"
    assert not any(_alive(p) for p in pids), f"kernels still running 5 s after {signame}"
    assert proc.returncode == (130 if signame == "SIGINT" else 143)
    line = one_line(err)
    assert line.startswith(f"build: stopped by {signame}"), line
    assert "2 kernel(s) killed; nothing installed: book/, data/ and the html are as they were; " \
           "1 chapter(s) executed before the stop are kept in .cache/build/outputs" in line, line
    assert "executed  01_a" in out
    assert checksums(root) == before
    if signame == "SIGINT":
        for stem in ("02_b", "03_c", "04_d"):
            write_nb(root, stem, "print(3)")
        r = cart19("build", "--no-render", "--jobs", "2", root=root)
        assert r.returncode == 0, r.stderr
        assert "from an earlier, unfinished build" in next(ln for ln in r.stdout.splitlines() if "01_a" in ln)


def test_ctrl_c_in_another_command_is_one_line(tmp_path):
    """`cart19 validate` interrupted: exit 130 and one line (no traceback)."""
    script = ("import signal, sys; sys.argv = ['cart19', 'validate'];"
              "import cart19.cli as c, cart19.cohort.validate as v;"
              "v.main = lambda argv: signal.raise_signal(signal.SIGINT);"
              "sys.exit(c.main())")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 130
    assert one_line(r.stderr).startswith("cart19 validate: stopped by SIGINT")
