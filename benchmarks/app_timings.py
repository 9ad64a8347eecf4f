"""Dashboard timings at the default configuration, on fresh servers, in headless Chromium.

Printed side by side in one run: server start to /_stcore/health, the home page render (title and sidebar
visible) next to the same measurement for a one-line Streamlit app (the floor set by Streamlit's frontend on
this machine), and the first Explore and Benchmark results (which include the worker's TensorFlow start).
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common

sys.path.insert(0, str(_common.ROOT / "tests"))
from playwright.sync_api import expect, sync_playwright

from browser_support import CHROMIUM, CHROMIUM_ARGS, Server

FLOOR_APP = 'import streamlit as st\nst.title("Pointwise Lab")\nst.sidebar.number_input("Batch B", value=8)\n'
VISITS = 3


def home_render_s(browser, url: str) -> float:
    page = browser.new_page()
    start = time.perf_counter()
    page.goto(url)
    expect(page.locator("h1").first).to_have_text("Pointwise Lab", timeout=60_000)
    expect(page.get_by_label("Batch B", exact=True)).to_be_visible()
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR_APP)
        floor = Server(Path(tmp) / "floor.sqlite3", script=str(floor_script))
        try:
            floor_times = [home_render_s(browser, floor.url) for _ in range(VISITS)]
        finally:
            floor.stop()
        server = Server(Path(tmp) / "runs.sqlite3")
        try:
            print(f"server start -> /_stcore/health ok: {server.ready_s:6.2f} s")
            home_times = [home_render_s(browser, server.url) for _ in range(VISITS)]
            print(
                f"home page rendered, first visit / median of {VISITS}: {home_times[0]:.2f} s / "
                f"{statistics.median(home_times):.2f} s"
            )
            print(
                f"one-line Streamlit app, same measurement:   {floor_times[0]:.2f} s / "
                f"{statistics.median(floor_times):.2f} s"
            )
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(f"{server.url}/explore")
            expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=120_000)
            print(f"Explore first result (8x56x56x64 -> 128, 8 variants): {time.perf_counter() - start:6.2f} s")
            page.goto(f"{server.url}/benchmark")
            page.get_by_role("button", name="Run benchmark").click()
            start = time.perf_counter()
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=180_000)
            print(f"Benchmark first result (8 variants x 30 samples): {time.perf_counter() - start:6.2f} s")
        finally:
            server.stop()
            browser.close()


if __name__ == "__main__":
    main()
