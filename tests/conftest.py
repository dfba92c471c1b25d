"""Shared pytest set-up for tests/ (options of `make test` live in the Makefile's pytest command)."""
from __future__ import annotations

import pytest

import cart19  # noqa: F401  first, so that it pins the BLAS kernels before numpy loads


def pytest_configure(config):
    # markers used by the suite; registered so that a typo in a marker name shows up as a warning
    config.addinivalue_line("markers", "slow: a test that starts kernels or a browser (seconds each)")
    config.addinivalue_line("markers", "browser: reads the rendered book in a real browser")
    config.addinivalue_line("markers", "early: a long test (minutes) that runs first, so that under "
                                       "pytest-xdist it overlaps the rest of the suite")


def xdist_scope(nodeid: str) -> str:
    """The unit pytest-xdist's ``--dist loadscope`` sends to one worker (its own rule: the node id up
    to the last ``::``, i.e. a module, a class, or one notebook's nbval cells)."""
    return nodeid.rsplit("::", 1)[0]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Scopes holding an ``early`` test go first, the early tests first within them.

    Under ``--dist loadscope`` the controller hands out scopes in collection order when started with
    ``--no-loadscope-reorder`` (as `make test` does; by default it sorts scopes by their number of
    tests, which would put a 3-test module holding a minutes-long build near the end, where it runs
    alone). So the remaining scopes are ordered here the way xdist would have ordered them: most tests
    first (stable). Without loadscope only the early scopes move; the rest keep file order.
    (xdist also queues a second scope on a worker whose first has at most 2 tests pending; the
    determinism module has 3, so nothing waits behind its build.)
    Every worker collects and orders identically (xdist checks that), so this is deterministic."""
    scopes: dict[str, list] = {}
    for item in items:
        scopes.setdefault(xdist_scope(item.nodeid), []).append(item)

    def early(item) -> bool:
        return item.get_closest_marker("early") is not None

    loadscope = getattr(config.option, "dist", "no") == "loadscope"
    ordered = sorted(scopes.values(), key=lambda its: (not any(map(early, its)),
                                                       -len(its) if loadscope else 0))
    items[:] = [it for its in ordered for it in sorted(its, key=lambda it: not early(it))]
