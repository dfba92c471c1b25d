"""Shared pytest set-up for tests/ (options of `make test` live in the Makefile's pytest command)."""
from __future__ import annotations


def pytest_configure(config):
    # markers used by the suite; registered so that a typo in a marker name shows up as a warning
    config.addinivalue_line("markers", "slow: a test that starts kernels or a browser (seconds each)")
