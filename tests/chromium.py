"""Debian's Chromium driven by Playwright, for the tests that need a real browser.

``tests/tools/ensure_chromium.sh`` (run by ``make test``) installs ``/usr/bin/chromium``
when it is missing and we are root; Playwright's own browser downloads are never used.
Without Chromium the browser tests skip only when we are not root (and so could not
have installed it); as root its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15_000
"""Upper bound of every wait in the browser (a loaded 2-core machine is slow, not stuck)."""


def require_chromium() -> None:
    """Skip (not root) or fail (root: ensure_chromium.sh should have run) without Chromium."""
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() != 0:
        pytest.skip(
            f"{CHROMIUM} is missing and installing it needs root: "
            "apt-get install chromium (or run tests/tools/ensure_chromium.sh as root)"
        )
    pytest.fail(f"{CHROMIUM} is missing: run tests/tools/ensure_chromium.sh (make test does)")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium context with a fresh profile, closed (and removed) after."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    profile = tempfile.mkdtemp(prefix="runwire-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
