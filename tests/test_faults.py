"""Fault injection: signals, full disks, read-only paths, bad bytes (issue 18).

Every case runs the real command line in a subprocess, as a user would, and asserts three things:
its one-line message (no traceback), a non-zero exit, and that the checksums of ``book/`` and
``data/`` are the same before and after. The builds run on a throw-away repository
(tests/minirepo.py) whose chapters start in a second, except where the real book is needed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minirepo import add_book_config, make_repo, write_nb

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


# ----------------------------------------------------------------------------------- read-only paths
def _ro_bind_available() -> bool:
    if os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && "
                            "mount -o remount,ro,bind /tmp /tmp"], capture_output=True)
    return probe.returncode == 0


def run_readonly(paths: list[Path], cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """``cmd`` with ``paths`` read-only: a read-only bind mount in a private mount namespace when
    running as root (permissions do not stop root), else the write bits removed for the run."""
    if os.geteuid() == 0:
        if not _ro_bind_available():
            pytest.skip("root without mount namespaces: cannot make a path read-only")
        mounts = " && ".join(f"mount --bind '{p}' '{p}' && mount -o remount,ro,bind '{p}' '{p}'"
                             for p in paths)
        script = f"{mounts} && exec \"$@\""
        return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *cmd], capture_output=True,
                              text=True, cwd=REPO, timeout=600, **kw)
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            p.chmod(modes[p] & ~0o222)
        return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600, **kw)
    finally:
        for p, m in modes.items():
            p.chmod(m)


@pytest.fixture
def built(tmp_path):
    """A minirepo built once, with a chapter that writes a data file; then 01_a edited, so that a
    build has something to install."""
    root = make_repo(tmp_path / "repo")
    write_nb(root, "03_w", "open('../data/out.csv', 'w').write('w\\n1\\n')", writes=["data/out.csv"])
    r = cart19("build", "--no-render", root=root)
    assert r.returncode == 0, r.stdout + r.stderr
    write_nb(root, "01_a", "print(5)")
    write_nb(root, "03_w", "open('../data/out.csv', 'w').write('w\\n2\\n')", writes=["data/out.csv"])
    return root


@pytest.mark.parametrize("where", ["book", ".cache", "data"])
def test_a_read_only_directory_is_refused_before_any_kernel(built, where):
    (built / ".cache").mkdir(exist_ok=True)
    before = checksums(built)
    r = run_readonly([built / where], [sys.executable, "-m", "cart19", "build", "--no-render",
                                       "--root", str(built)])
    assert r.returncode == 1, r.stdout + r.stderr
    line = one_line(r.stderr)
    assert re.fullmatch(rf"cart19 build: error: file {re.escape(where)}(/[\w.-]+)*: is not writable "
                        r"\(read-only file system.*\): nothing executed, nothing changed", line), line
    assert "executed" not in r.stdout
    assert checksums(built) == before


def test_reconstruct_into_a_read_only_directory_changes_nothing(tmp_path):
    out = tmp_path / "cohort"
    out.mkdir()
    for name in ("cohort.csv", "not_infused.csv", "fit.csv"):
        (out / name).write_text(f"old {name}\n")
    before = checksums(REPO, ("data",)), checksums(tmp_path, ("cohort",))
    r = run_readonly([out], [sys.executable, "-m", "cart19", "reconstruct", "--out", str(out / "cohort.csv")])
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert line.startswith("cart19 reconstruct: error: file ") and "read-only file system (nothing changed)" in line \
        or "permission denied (nothing changed)" in line, line
    assert (checksums(REPO, ("data",)), checksums(tmp_path, ("cohort",))) == before


# ------------------------------------------------------------------------------------ write failures
def test_reconstruct_under_a_file_size_limit_keeps_the_old_files(tmp_path):
    """`ulimit -f 20`: the cohort (25 kB) cannot be written; without cart19.io the process died with
    a cut file (20,480 of 25,033 bytes). Now: one line, exit 1, the old files whole."""
    out = tmp_path / "cohort"
    out.mkdir()
    for name in ("cohort.csv", "not_infused.csv", "fit.csv"):
        (out / name).write_text(f"old {name}\n")
    before = checksums(tmp_path, ("cohort",))
    r = subprocess.run(["sh", "-c", f"ulimit -f 20 && exec {sys.executable} -m cart19 reconstruct "
                        f"--out {out / 'cohort.csv'}"], capture_output=True, text=True, cwd=REPO,
                       timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    line = one_line(r.stderr)
    assert "file too large (file-size limit) (nothing changed)" in line, line
    assert checksums(tmp_path, ("cohort",)) == before
    assert not list(out.glob(".cart19-*"))  # no temporary left


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_reconstruct_onto_a_full_disk_keeps_the_old_files(tmp_path):
    """A real full disk: the output directory is a 40 kB tmpfs holding the old files."""
    out = tmp_path / "mnt"
    out.mkdir()
    script = (f"mount -t tmpfs -o size=40k tmpfs {out} && for f in cohort.csv not_infused.csv fit.csv; "
              f"do echo old $f > {out}/$f; done && "
              f"{sys.executable} -m cart19 reconstruct --out {out}/cohort.csv; echo rc=$?; "
              f"cat {out}/cohort.csv {out}/not_infused.csv {out}/fit.csv; ls -a {out}")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=REPO,
                       timeout=600)
    if "mount:" in r.stderr:
        pytest.skip("cannot mount a tmpfs here")
    assert "rc=1" in r.stdout, r.stdout + r.stderr
    assert one_line(r.stderr).endswith("no space left on the device (nothing changed)"), r.stderr
    assert "old cohort.csv\nold not_infused.csv\nold fit.csv\n" in r.stdout
    assert ".cart19-" not in r.stdout


def test_a_failure_while_installing_the_html_leaves_the_old_book(tmp_path, monkeypatch):
    """Issue 18 case 3: the install fails after the new notebooks and manifest are in place, while
    the html is moved in (an injected ENOSPC): every destination is put back, nothing half-installed
    is left, and --check agrees that the chapter still has to be built."""
    import errno

    from cart19 import io as cio
    from cart19.book import build as B

    root = make_repo(tmp_path / "repo")
    add_book_config(root, REPO)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setenv("PYTHONPATH", "")
    layout = B.Layout(root)
    assert B.run(layout, jobs=2)["rendered"]
    before = checksums(root, ("book", "data")) | checksums(root / "book" / "_build", ("html",))
    write_nb(root, "01_a", "print(9)")
    real = os.rename
    moved = []

    def rename(src, dst):
        if Path(dst) == layout.html and ".cart19-old-" not in Path(src).name:  # the new html, not the undo
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        moved.append(Path(dst))
        return real(src, dst)

    monkeypatch.setattr(cio.os, "rename", rename)
    with pytest.raises(cio.OutputError, match="no space left on the device .nothing changed."):
        B.run(layout, jobs=2)
    assert layout.book / "01_a.ipynb" in moved and layout.manifest in moved  # they had been replaced
    assert checksums(root, ("book", "data")) | checksums(root / "book" / "_build", ("html",)) == before
    left = [p for pat in (".cart19-tmp-*", ".cart19-new-*", ".cart19-old-*") for p in root.rglob(pat)]
    assert not left, left
    monkeypatch.setattr(cio.os, "rename", real)
    assert B.check(layout) == 1  # 01_a's source changed and its new output was not installed


# --------------------------------------------------------------------------------- the command line
def test_validate_into_a_closed_pipe_is_quiet(tmp_path):
    r = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m cart19 validate | head -1"],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.stdout.startswith("ok: ")
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    assert r.returncode in (0, 141)  # 141: validate stopped by the closed pipe, like any Unix tool


@pytest.mark.parametrize("args,rule", [
    (["--seed", "-1"], "file command line (--seed), value -1: must be a whole number >= 0"),
    (["--out", "/nonexistent/dir/cohort.csv"], "directory /nonexistent/dir does not exist"),
    (["--jobs", "0"], "must be a whole number >= 1"),
])
def test_reconstruct_refuses_bad_arguments_before_solving(args, rule):
    before = checksums(REPO, ("data",))
    r = cart19("reconstruct", *args)
    assert r.returncode == 1
    assert rule in one_line(r.stderr)
    assert checksums(REPO, ("data",)) == before


# ------------------------------------------------------------------- the html is a function of the sources
def _html_tree(root: Path) -> dict[str, str]:
    html = root / "book" / "_build" / "html"
    return {p.relative_to(html).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(html.rglob("*")) if p.is_file()}


def _book_repo(root: Path, word: str, static: dict[str, str]) -> Path:
    make_repo(root)
    add_book_config(root, REPO)
    for name, text in static.items():
        (root / "book" / "_static" / name).write_text(text)
    write_nb(root, "01_a", f"print('{word}')")
    return root


@pytest.mark.slow
def test_the_html_is_the_clean_render_of_the_same_sources(tmp_path, monkeypatch):
    """Issue 18 case 8: after an earlier build of other sources (a word since removed, a static file
    since deleted, a stylesheet since edited), the html is byte for byte the html that a first build
    of the same sources, in a fresh copy with no cache and no _build, renders. (Sphinx's incremental
    build kept the removed word in searchindex.js and changed asset query strings.)"""
    from cart19.book import build as B

    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setenv("PYTHONPATH", "")
    old = _book_repo(tmp_path / "a" / "repo", "zanzibarword",
                     {"custom.css": "p { color: red; }\n", "gone.txt": "removed later\n"})
    assert B.run(B.Layout(old), jobs=2)["rendered"]
    assert "zanzibarword" in (old / "book" / "_build" / "html" / "searchindex.js").read_text()
    # the sources change: another word, the stylesheet edited, a static file deleted
    write_nb(old, "01_a", "print('quokkaword')")
    (old / "book" / "_static" / "custom.css").write_text("p { color: blue; }\n")
    (old / "book" / "_static" / "gone.txt").unlink()
    assert B.run(B.Layout(old), jobs=2)["rendered"]

    fresh = _book_repo(tmp_path / "b" / "repo", "quokkaword", {"custom.css": "p { color: blue; }\n"})
    assert B.run(B.Layout(fresh), jobs=2)["rendered"]
    a, b = _html_tree(old), _html_tree(fresh)
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    assert not differ, f"the html depends on the build's history: {differ}"
    index = (old / "book" / "_build" / "html" / "searchindex.js").read_text()
    assert "quokkaword" in index and "zanzibarword" not in index
    assert not (old / "book" / "_build" / "html" / "_static" / "gone.txt").exists()


# ------------------------------------------------------------------ a chapter failing after its write
def test_a_chapter_failing_after_its_write_keeps_the_committed_file(tmp_path):
    """Issue 18 case 1: a parameter makes a chapter write its data file anew and then fail; the
    committed file stays whole (the write went to the staging area), the build exits 1 naming the
    chapter, and --check still calls the book current (nothing was installed)."""
    root = make_repo(tmp_path / "repo")
    code = ("open('../data/out.csv', 'w').write('w\\n' * (100 if size == 3 else 2))\n"
            "assert size == 3, 'only the default size works'")
    write_nb(root, "03_w", code, params="size = 3", writes=["data/out.csv"])
    r = cart19("build", "--no-render", root=root)
    assert r.returncode == 0, r.stdout + r.stderr
    before = checksums(root)
    r = cart19("build", "--no-render", "-p", "size", "4", root=root)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "03_w" in r.stderr and "only the default size works" in r.stderr
    assert checksums(root) == before
    assert (root / "data" / "out.csv").read_text() == "w\n" * 100
    assert cart19("build", "--check", root=root).returncode == 0


# ----------------------------------------------------------------------------- bad bytes in a source
def test_a_chapter_source_not_utf8_is_one_line(tmp_path):
    root = make_repo(tmp_path / "repo")
    assert cart19("build", "--no-render", root=root).returncode == 0
    before = checksums(root)
    src = root / "notebooks" / "02_b.md"
    row = src.read_text().split("\n").index("from cart19 import beta") + 2  # the line of print(
    src.write_bytes(src.read_bytes().replace(b"print(", b"\xff\xfeprint(", 1))
    r = cart19("build", "--no-render", root=root)
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert re.fullmatch(rf"cart19 build: error: file notebooks/02_b\.md, row {row}: not valid UTF-8 "
                        r"\(byte 0xff at offset \d+\)", line), line
    assert checksums(root) == before


# ------------------------------------------------------------------------ a full disk (a small tmpfs)
FULL_DISK = r"""
import hashlib, json, shutil, subprocess, sys
from pathlib import Path
src, mnt = Path(sys.argv[1]), Path(sys.argv[2])
root = mnt / "repo"
shutil.copytree(src, root, symlinks=True)
def sums():
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in ("book", "data") for p in sorted((root / d).rglob("*")) if p.is_file()}
before = sums()
(root / "notebooks" / "01_a.md").write_text((root / "notebooks" / "01_a.md").read_text().replace(
    "print(cart19.alpha.value() + seed)", "print('x' * 2_000_000)"))
r = subprocess.run([sys.executable, "-m", "cart19", "build", "--no-render", "--root", str(root)],
                   capture_output=True, text=True, cwd=sys.argv[3])
left = [str(p) for pat in (".cart19-tmp-*", ".cart19-new-*", ".cart19-old-*") for p in root.rglob(pat)]
print(json.dumps({"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr, "same": sums() == before,
                  "left": left}))
"""


@pytest.mark.slow
def test_a_full_disk_during_the_build_changes_nothing(tmp_path):
    """The repository on a tmpfs with little room left: chapter 01_a's new output (2 MB of text)
    fills it. The build exits 1 with one line, and book/ and data/ are as they were, with nothing
    half-written left. (A full disk while the html is installed: the injected ENOSPC above.)"""
    if not _ro_bind_available():
        pytest.skip("needs root with mount namespaces to mount a small tmpfs")
    root = make_repo(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": ""}
    r = cart19("build", "--no-render", root=root, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    used = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    size_kb = used // 1024 + 1500  # room for the repository and about 1.5 MB more
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size={size_kb}k tmpfs '{mnt}' && "
                           f"exec '{sys.executable}' '{script}' '{root}' '{mnt}' '{REPO}'"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["rc"] == 1, out
    line = one_line(out["stderr"])
    assert "no space left on the device" in line, line
    assert out["same"] and not out["left"], out
