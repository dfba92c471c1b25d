"""Helpers for bench sections: timed runs with peak memory, and a throw-away copy of the repository."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``cmd``; wall seconds, exit code, output, and peak RSS (MB) of the process tree.

    ``os.wait4`` returns the child's rusage, whose ru_maxrss covers the child and every descendant it
    waited for (kernels, jupyter-book), i.e. the largest single process of the run.
    """
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t
        out.seek(0)
        text = out.read().decode(errors="replace")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "returncode": proc.returncode, "output": text}


def copy_repo(dest: Path) -> Path:
    """Copy the working tree (tracked and untracked, not ignored files) to ``dest``; no .venv."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest
