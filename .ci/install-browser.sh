#!/usr/bin/env bash
# Install Debian's headless-capable Chromium (and its driver) for tests/test_browser.py.
# Idempotent: does nothing when /usr/bin/chromium is already there. Never downloads a browser
# build of its own (no `playwright install`): Playwright drives this system Chromium through
# executable_path="/usr/bin/chromium".
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "install-browser: /usr/bin/chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser: not root and no sudo; install Debian packages 'chromium chromium-driver' by hand" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# One `apt-get update`, skipped only when another step refreshed the lists in the last hour and
# they know chromium (on a bare machine they are empty or stale).
fresh=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | head -n 1)
if [ -z "$fresh" ] || ! apt-cache show chromium >/dev/null 2>&1; then
    $SUDO apt-get update -q
fi
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-liberation

/usr/bin/chromium --version
