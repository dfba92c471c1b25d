"""The kernels the build starts: each with its own environment, all killable at once.

papermill (through nbclient) starts one kernel per chapter with jupyter_client, in a new session
(its own process group, so a terminal's Ctrl-C does not reach it). :class:`Kernel` is the kernel
manager the build hands to papermill: it adds the chapter's environment (the sandbox spec, see
:mod:`cart19.book.sandbox`) and records the kernel's process group while it lives, so that
:func:`kill_all` can stop every kernel -- and the processes they started, e.g. joblib workers --
within a fraction of a second when the build is interrupted.
"""
from __future__ import annotations

import os
import signal
import threading
from typing import Any

from jupyter_client.manager import AsyncKernelManager

_LIVE: dict[int, int] = {}  # id(kernel manager) -> process group of its kernel
_LOCK = threading.Lock()
_STOPPING = threading.Event()
_KILLED: list[int] = []


class Kernel(AsyncKernelManager):
    """A kernel manager whose kernel gets ``extra_env`` on top of the build's environment."""

    extra_env: dict[str, str] = {}

    async def _async_pre_start_kernel(self, **kw: Any):
        if _STOPPING.is_set():
            raise RuntimeError("the build is stopping: no new kernel")
        kw["env"] = {**os.environ, **self.extra_env}
        return await super()._async_pre_start_kernel(**kw)

    async def _async_post_start_kernel(self, **kw: Any) -> None:
        await super()._async_post_start_kernel(**kw)
        pgid = getattr(self.provisioner, "pgid", None) or getattr(self.provisioner, "pid", None)
        if pgid:
            with _LOCK:
                _LIVE[id(self)] = pgid
            if _STOPPING.is_set():  # started while the build was being stopped
                _kill(pgid)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            with _LOCK:
                _LIVE.pop(id(self), None)

    shutdown_kernel = _async_shutdown_kernel


def kernel_class(env: dict[str, str]) -> type[Kernel]:
    """A :class:`Kernel` subclass for one chapter (papermill takes a class, not an instance)."""
    return type("ChapterKernel", (Kernel,), {"extra_env": dict(env)})


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> int:
    """Stop every live kernel of this process (and everything in its process group) now, and refuse
    to start new ones. Returns how many were killed since the stop began."""
    _STOPPING.set()
    with _LOCK:
        groups = list(_LIVE.values())
        _LIVE.clear()
    for pgid in groups:
        _kill(pgid)
    _KILLED.extend(groups)
    return len(_KILLED)


def live() -> int:
    """How many kernels are running (for tests)."""
    with _LOCK:
        return len(_LIVE)


def reset() -> None:
    """Allow kernels again (a new build in the same process, e.g. in tests)."""
    _STOPPING.clear()
    _KILLED.clear()
