"""cart19.io: atomic writes of one file and of a set of files, with recovery of a killed swap.

Faults are real where the machine allows it (a 64 kB tmpfs for a full disk, RLIMIT_FSIZE for a
file-size limit, SIGKILL of a child process in the middle of a swap), injected otherwise.
"""
from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from cart19 import io
from cart19.paths import ROOT


def _digest(root: Path) -> dict[str, str]:
    """Every file below ``root`` (hidden ones included) with its content hash."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_writers_write_exact_bytes_and_keep_no_temporary(tmp_path):
    io.write_text(tmp_path / "a.txt", "x\r\ny\n")
    assert (tmp_path / "a.txt").read_bytes() == b"x\r\ny\n"
    io.write_bytes(tmp_path / "b.bin", b"\0\1")
    io.write_json(tmp_path / "c.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "c.json").read_text() == '{\n "a": [\n  1,\n  2\n ],\n "b": 1\n}\n'
    io.write_csv(tmp_path / "d.csv", pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
    assert (tmp_path / "d.csv").read_text() == "x,y\n1,a\n2,b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin", "c.json", "d.csv"]


def test_new_file_gets_ordinary_permissions_and_an_old_one_keeps_its_own(tmp_path):
    io.write_text(tmp_path / "new.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path / "old.txt").write_text("x")
    os.chmod(tmp_path / "old.txt", 0o640)
    io.write_text(tmp_path / "old.txt", "y")
    assert (tmp_path / "old.txt").stat().st_mode & 0o777 == 0o640


def test_missing_directory_is_refused_not_created(tmp_path):
    with pytest.raises(io.OutputError, match=r"nope does not exist \(nothing written\)"):
        io.write_text(tmp_path / "nope" / "x.txt", "x")
    assert not (tmp_path / "nope").exists()
    io.write_text(tmp_path / "yes" / "x.txt", "x", parents=True)
    assert (tmp_path / "yes" / "x.txt").read_text() == "x"


def test_a_failing_writer_leaves_the_old_file(tmp_path):
    target = tmp_path / "f.csv"
    target.write_text("old\n")
    with pytest.raises(ZeroDivisionError):
        with io.atomic_open(target) as fh:
            fh.write("half")
            1 / 0
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]


def test_injected_disk_full_is_one_message_and_nothing_changed(tmp_path, monkeypatch):
    target = tmp_path / "f.csv"
    target.write_text("old\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", full)
    with pytest.raises(io.OutputError) as err:
        io.write_text(target, "new\n" * 1000)
    assert str(err.value) == f"file {target}: cannot write: no space left on the device (nothing changed)"
    assert target.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


def _can_mount_tmpfs() -> bool:
    if os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs root and unshare to mount a private tmpfs")
def test_real_full_disk_on_a_small_tmpfs(tmp_path):
    """A 64 kB tmpfs (in a private mount namespace, so nothing leaks), a file on it, and a write of
    200 kB: the old file stays, no temporary is left, the message says so."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / 'lib')!r})
        from cart19 import io
        d = sys.argv[1]
        with open(os.path.join(d, 'f.csv'), 'w') as fh:
            fh.write('old\\n')
        try:
            io.write_text(os.path.join(d, 'f.csv'), 'x' * 200_000)
        except io.OutputError as exc:
            print('ERR', exc)
        print(sorted(os.listdir(d)), open(os.path.join(d, 'f.csv')).read().strip())
    """)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["unshare", "-m", "sh", "-c",
                           f"mount -t tmpfs -o size=64k tmpfs {mnt} && {sys.executable} -c \"$0\" {mnt}",
                           script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "cannot write: no space left on the device (nothing changed)" in proc.stdout
    assert proc.stdout.strip().endswith("['f.csv'] old")


def test_file_size_limit_fails_cleanly_instead_of_truncating(tmp_path):
    """`ulimit -f`: without the CLI's SIGXFSZ handling the process dies with a cut file; through
    cart19.io (and SIGXFSZ ignored, as cart19.cli does) the old file stays whole."""
    target = tmp_path / "cohort.csv"
    target.write_text("old\n")
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(ROOT / 'lib')!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20480, 20480))
        from cart19 import io
        try:
            io.write_text({str(target)!r}, 'x' * 25033)
        except io.OutputError as exc:
            print(exc)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "cannot write: file too large (file-size limit) (nothing changed)" in proc.stdout, proc
    assert target.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


def _tree(root: Path, tag: str) -> None:
    (root / "book").mkdir(parents=True, exist_ok=True)
    (root / "book" / "a.ipynb").write_text(f"a {tag}")
    (root / "book" / "m.json").write_text(f"m {tag}")
    (root / "book" / "html").mkdir(exist_ok=True)
    (root / "book" / "html" / "index.html").write_text(f"index {tag}")


def test_swap_replaces_files_and_directories_and_creates_new_ones(tmp_path):
    _tree(tmp_path / "repo", "old")
    _tree(tmp_path / "new", "new")
    (tmp_path / "new" / "extra.txt").write_text("extra")
    with io.Swap(tmp_path / "journal") as swap:
        for name in ("a.ipynb", "m.json", "html"):
            swap.add(tmp_path / "repo" / "book" / name, tmp_path / "new" / "book" / name)
        swap.add(tmp_path / "repo" / "book" / "extra.txt", tmp_path / "new" / "extra.txt", copy=True)
    book = tmp_path / "repo" / "book"
    assert sorted(p.name for p in book.iterdir()) == ["a.ipynb", "extra.txt", "html", "m.json"]
    assert (book / "html" / "index.html").read_text() == "index new"
    assert (book / "a.ipynb").read_text() == "a new" and (tmp_path / "new" / "extra.txt").exists()
    assert not list((tmp_path / "journal").iterdir())


def test_swap_that_fails_part_way_restores_everything(tmp_path, monkeypatch):
    _tree(tmp_path / "repo", "old")
    _tree(tmp_path / "new", "new")
    before = _digest(tmp_path / "repo")
    real_rename = os.rename
    calls = []

    def rename(a, b):
        calls.append(b)
        if len(calls) == 6:  # 3 placed, then dest 1 aside, new 1 in, dest 2 aside: fail next
            raise OSError(errno.ENOSPC, "No space left on device", str(b))
        return real_rename(a, b)

    monkeypatch.setattr(io.os, "rename", rename)
    swap = io.Swap(tmp_path / "journal")
    for name in ("a.ipynb", "m.json", "html"):
        swap.add(tmp_path / "repo" / "book" / name, tmp_path / "new" / "book" / name)
    with pytest.raises(io.OutputError, match="no space left on the device"):
        swap.commit()
    assert _digest(tmp_path / "repo") == before
    assert not list((tmp_path / "journal").iterdir())


# renames 1-3 place the new items, 4-9 move each destination aside and its new item in; the first
# unlink deletes an old item after the commit
@pytest.mark.parametrize("call,kill_at", [("rename", k) for k in range(1, 10)] + [("unlink", 1)])
def test_swap_killed_at_any_step_is_repaired_by_recover(tmp_path, call, kill_at):
    """A child process runs a swap and SIGKILLs itself at its ``kill_at``-th ``call`` (placing,
    moving aside, moving in, or cleaning up after the commit): recover() then gives back the old
    tree whole, or the new one whole, never a mix, and leaves no hidden files."""
    _tree(tmp_path / "repo", "old")
    _tree(tmp_path / "new", "new")
    old, new = _digest(tmp_path / "repo"), _digest(tmp_path / "new")
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT / 'lib')!r})
        from cart19 import io
        real, n = os.{call}, [0]
        def fault(*args, **kwargs):
            n[0] += 1
            if n[0] == {kill_at}:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        os.{call} = fault
        swap = io.Swap({str(tmp_path / 'journal')!r})
        for name in ("a.ipynb", "m.json", "html"):
            swap.add(os.path.join({str(tmp_path / 'repo' / 'book')!r}, name),
                     os.path.join({str(tmp_path / 'new' / 'book')!r}, name))
        swap.commit()
    """)
    proc = subprocess.run([sys.executable, "-c", script])
    killed = proc.returncode == -signal.SIGKILL
    lines = io.recover(tmp_path / "journal")
    after = _digest(tmp_path / "repo")
    assert after in (old, new), after
    assert killed, proc
    assert len(lines) == 1
    assert after == (new if call == "unlink" else old), lines
    assert ("finished" in lines[0]) == (call == "unlink")
    assert not list((tmp_path / "journal").glob("swap-*"))
    assert not [p for p in (tmp_path / "repo").rglob(".cart19-*")]


def test_recover_leaves_a_running_swap_alone(tmp_path):
    import fcntl
    journal = tmp_path / "journal"
    journal.mkdir()
    held = journal / "swap-x.json"
    held.write_text('{"state": "prepared", "entries": []}')
    with open(held) as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        proc = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'lib')!r});"
                               f"from cart19 import io; print(io.recover({str(journal)!r}))"],
                              capture_output=True, text=True)
    assert proc.stdout.strip() == "[]" and held.exists()


def test_write_all_is_one_step(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text("a old")
    (tmp_path / "b.csv").write_text("b old")
    io.write_all({tmp_path / "a.csv": "a new", tmp_path / "b.csv": b"b new"}, tmp_path / "j")
    assert (tmp_path / "a.csv").read_text() == "a new" and (tmp_path / "b.csv").read_text() == "b new"
    real_replace = os.replace

    def replace(a, b):  # the second temporary file cannot be written
        if str(b).endswith("b.csv"):
            raise OSError(errno.EROFS, "Read-only file system", str(b))
        return real_replace(a, b)

    monkeypatch.setattr(io.os, "replace", replace)
    with pytest.raises(io.OutputError, match="read-only file system"):
        io.write_all({tmp_path / "a.csv": "a newer", tmp_path / "b.csv": "b newer"}, tmp_path / "j")
    assert (tmp_path / "a.csv").read_text() == "a new" and (tmp_path / "b.csv").read_text() == "b new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv", "j"]
