"""Dashboard timings at the default configuration: server start to health OK, home page render, and the
first Explore and Benchmark results (a fresh server each time, so the first job includes the worker start)."""

import sys
import tempfile
import time
from pathlib import Path

import _common

sys.path.insert(0, str(_common.ROOT / "tests"))
from playwright.sync_api import expect, sync_playwright

from test_browser import CHROMIUM, CHROMIUM_ARGS, Server


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server = Server(Path(tmp) / "runs.sqlite3")
        try:
            print(f"server start -> /_stcore/health ok: {server.ready_s:6.2f} s")
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(server.url)
            expect(page.locator("h1").first).to_have_text("Pointwise Lab", timeout=60_000)
            expect(page.get_by_label("Batch B", exact=True)).to_be_visible()
            print(f"home page rendered (title and sidebar): {time.perf_counter() - start:6.2f} s")
            start = time.perf_counter()
            page.goto(f"{server.url}/explore")
            expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=120_000)
            print(f"Explore first result (8x56x56x64 -> 128, 8 variants): {time.perf_counter() - start:6.2f} s")
            page.goto(f"{server.url}/benchmark")
            page.get_by_role("button", name="Run benchmark").click()
            start = time.perf_counter()
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=180_000)
            print(f"Benchmark first result (default: 8 variants x 30 samples): {time.perf_counter() - start:6.2f} s")
        finally:
            server.stop()
            browser.close()


if __name__ == "__main__":
    main()
