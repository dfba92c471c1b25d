"""Command line: ``python -m cart19 <command> [args]``.

Each command lives in its own module and exposes ``main(argv) -> int``; this
file only dispatches, so the modules stay independent of one another.
"""
from __future__ import annotations

import importlib
import os
import signal
import sys

from cart19 import io
from cart19.errors import Cart19Error

COMMANDS = {
    "build": ("cart19.book.build", "execute the notebooks and render the book"),
    "audit": ("cart19.record.audit", "consistency audit of the published numbers"),
    "reconstruct": ("cart19.reconstruction.pipeline", "reconstruct the pseudo patient-level cohort"),
    "scorecard": ("cart19.comparison.scorecard", "reproduction scorecard of every claim"),
    "validate": ("cart19.cohort.validate", "validate the input data files"),
    "validate-method": ("cart19.validation.command", "validate the reconstruction on a table whose truth is known"),
}


def _usage() -> str:
    lines = ["usage: python -m cart19 <command> [options]", "", "commands:"]
    lines += [f"  {name:<12} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"cart19: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    # a file-size limit (ulimit -f) makes a write fail with EFBIG, reported and cleaned up by
    # cart19.io, instead of killing the process with a half-written file
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        for line in io.recover():  # a swap that an earlier, killed command left half done
            print(f"cart19: {line}", file=sys.stderr)
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.main(rest) or 0)
    except Cart19Error as exc:
        print(f"cart19 {name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # every write of cart19 is atomic (cart19.io): a stopped command leaves the old files
        print(f"cart19 {name}: stopped by SIGINT (Ctrl-C); files it had not finished writing were "
              "left as they were", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`cart19 validate | head`): not an error of ours;
        # stdout is pointed at /dev/null so that the interpreter's final flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE  # what a shell reports for a tool stopped by SIGPIPE
    except OSError as exc:
        # a file that could not be read or written where no loader or writer of ours was involved
        # (e.g. a directory made read-only): one line, the file and the reason
        where = exc.filename or "a file"
        print(f"cart19 {name}: error: {where}: {io.describe_os_error(exc)}", file=sys.stderr)
        return 1
