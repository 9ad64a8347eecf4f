"""What every browser test shares: Debian's chromium, a real server (the app as the README runs it), waiting for a
render.

Browser test modules call `require_chromium()` at import: on a developer machine without chromium they are
skipped; in CI (`CI` set) a missing chromium is an error, because `.ci/run` installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
SERVER_START_LIMIT_S = 60
RENDER_LIMIT_MS = 120_000
SETTLE_MS = 400
DOWNLOAD_TRIES = 3


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app as the README runs it (`python -m pointwise.ui.serve`), or `streamlit run SCRIPT` for another script
    (or a tree from before that command), on a free localhost port; ready once /_stcore/health answers ok."""

    def __init__(
        self,
        db_path: Path,
        script: str = "app.py",
        env: dict[str, str] | None = None,
        options: list[str] | None = None,
    ):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = db_path
        self.log_path = db_path.parent / f"server-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        started = time.monotonic()
        if script == "app.py" and (ROOT / "pointwise" / "ui" / "serve.py").exists():
            command = ["-m", "pointwise.ui.serve"]
        else:
            command = ["-m", "streamlit", "run", script]
        self.process = subprocess.Popen(
            [
                sys.executable,
                *command,
                "--server.headless=true",
                f"--server.port={self.port}",
                "--server.address=127.0.0.1",
                "--browser.gatherUsageStats=false",
                *(options or []),
            ],
            cwd=ROOT,
            env={**os.environ, "POINTWISE_DB": str(db_path), **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() - started > SERVER_START_LIMIT_S:
                raise RuntimeError(f"streamlit did not answer /_stcore/health; log: {self.log_path}")
            time.sleep(0.2)
        self.ready_s = time.monotonic() - started

    def _healthy(self) -> bool:
        try:
            return urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=5).read() == b"ok"
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def wait_rendered(page, timeout_ms: int = RENDER_LIMIT_MS) -> None:
    """The app has drawn its navigation and no script run is in progress."""
    from playwright.sync_api import expect

    # The router's menu shows page titles ("Explore"); Streamlit's legacy menu, briefly visible while a deep
    # link wakes a fresh server, shows file names ("explore"), so wait for the title.
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Explore", exact=True)).to_be_visible(timeout=timeout_ms)
    expect(page.locator("h1").first).to_be_visible(timeout=timeout_ms)
    expect_script_idle(page, timeout_ms)


def expect_script_idle(page, timeout_ms: int = RENDER_LIMIT_MS) -> None:
    """No script run is in progress. Streamlit's running indicator appears only ~0.5 s into a run, so a test
    that waits for it to be gone can pass before the run has even started: read the app's own run state."""
    from playwright.sync_api import expect

    app = page.locator('[data-testid="stApp"]')
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_ms)


def settle(page, timeout_ms: int = RENDER_LIMIT_MS) -> None:
    """Wait for the run that a change just made has started, then for it to end.

    A widget change reaches the server and starts a run within a few tens of milliseconds, but the page
    reports the run only once the server says it started, so an immediate check can see the run before.
    """
    page.wait_for_timeout(SETTLE_MS)
    expect_script_idle(page, timeout_ms)


def download_text(page, button_name: str) -> str:
    """Click a download button like a person and return the file's text; click again if it was cancelled.

    A download started while a rerun replaces the page's files is cancelled by the browser (the old file's
    address no longer answers), as it would be for a person, who clicks again.
    """
    from playwright.sync_api import Error as PlaywrightError

    def click_and_read() -> str:
        settle(page)
        with page.expect_download() as download:
            page.get_by_role("button", name=button_name).click()
        return download.value.path().read_text()

    for _ in range(DOWNLOAD_TRIES - 1):
        try:
            return click_and_read()
        except PlaywrightError as exc:
            if "canceled" not in str(exc):
                raise
    return click_and_read()


def assert_no_exception(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def screenshot_whole_page(page, name: str) -> None:
    """Save `artifacts/NAME` showing the whole page, then restore the window.

    Streamlit scrolls its main block, not the document, so `full_page=True` alone shows one screenful: the
    window is made as tall as the content first.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    size = dict(page.viewport_size)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.wait_for_timeout(1_000)  # Plotly redraws on resize
    page.screenshot(path=ARTIFACTS / name, full_page=True)
    page.set_viewport_size(size)
