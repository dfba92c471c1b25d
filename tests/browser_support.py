"""What the two real-browser tests share (tests/test_browser.py, tests/test_jupyterlab.py): the
Chromium binary and flags, and how a request is judged local. A plain module, not a test: importing
it never skips (test_browser.py skips at import when the book is not built)."""
from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CART19_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but this one resolves to "not found" inside Chromium: a foreign request is still
    # seen (page.on("request")) and reported, but fails at once instead of waiting on the network.
    # (Cheaper than Playwright request interception, which also turns off the HTTP cache.)
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def missing_browser(reason: str):
    """Skip without a browser, but fail under CI, where .ci/run installs one."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: run .ci/install-browser.sh)", pytrace=False)
    pytest.skip(reason)


def is_local(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "javascript"}:
        return True
    return parts.hostname in LOCAL_HOSTS
