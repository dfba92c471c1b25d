"""Where the reconstructions of a validation run: the local cores (joblib) or a Dask cluster.

A runner maps :func:`cart19.validation.run.member_task` over a list of tasks and returns the
results in task order. Tasks are independent and each returns a few kilobytes, so the only
choice is where they execute: ``local(n_jobs)`` uses joblib's process pool on this machine (the
default, all cores), ``dask(address)`` submits them to the ``dask.distributed`` scheduler at
``address`` (``tcp://host:8786``); workers need this package installed, as the scheduler's
own environment does.
"""
from __future__ import annotations

from typing import Callable

from cart19.validation.run import Task, member_task


def local(n_jobs: int = -1) -> Callable[[list[Task]], list[dict]]:
    def run(tasks: list[Task]) -> list[dict]:
        if n_jobs == 1 or len(tasks) <= 1:
            return [member_task(t) for t in tasks]
        from joblib import Parallel, delayed
        # longest tasks first (level 2 has the most targets), so the pool ends together
        order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].targets))
        out = Parallel(n_jobs=n_jobs)(delayed(member_task)(tasks[i]) for i in order)
        res: list = [None] * len(tasks)
        for i, r in zip(order, out):
            res[i] = r
        return res
    return run


def dask(address: str) -> Callable[[list[Task]], list[dict]]:
    def run(tasks: list[Task]) -> list[dict]:
        from distributed import Client
        with Client(address) as client:
            futures = client.map(member_task, tasks, pure=False)
            return client.gather(futures)
    return run


def choose(scheduler: str | None = None, n_jobs: int = -1):
    """The runner for a ``--scheduler`` address (Dask) or, without one, the local cores."""
    return dask(scheduler) if scheduler else local(n_jobs)
