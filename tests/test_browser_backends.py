"""JAX chosen in the sidebar like a person, then Explore and Benchmark run on it: the verdict names the backend."""

from __future__ import annotations

import re

import pytest

from browser_support import assert_no_exception, require_chromium, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

SMALL = "batch=1&height=6&width=5&channels=4&filters=3&samples=4"
RUN_LIMIT_MS = 180_000


def _main(page):
    return page.locator('[data-testid="stMain"]')


def _sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def _choose_backend(page, option: str) -> None:
    """Open the backend list and pick `option`; a click that lands during a rerun closes the list: retry."""
    combobox = _sidebar(page).get_by_role("combobox", name="Keras backend", exact=True)
    for _ in range(3):
        combobox.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    expect(combobox).to_have_value(option)


def test_jax_from_the_sidebar_runs_explore_and_benchmark_and_the_verdict_says_jax(server, page):
    page.goto(f"{server.url}/explore?{SMALL}&variants=conv2d_1x1&variants=dense&variants=seed_matmul")
    wait_rendered(page)
    _choose_backend(page, "JAX")
    expect(page).to_have_url(re.compile(r"[?&]backend=jax(&|$)"), timeout=15_000)
    # Seed Example 1 stays selected and is named as not run on JAX; the other two are checked on JAX.
    skipped = _sidebar(page).locator('[data-testid="stAlert"]').filter(has_text="not run on JAX")
    expect(skipped).to_contain_text("Seed Example 1")
    expect(_main(page).get_by_text(re.compile(r"^Checked in .*, on JAX: "))).to_be_visible(timeout=RUN_LIMIT_MS)
    table = _main(page).locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible(timeout=RUN_LIMIT_MS)
    assert_no_exception(page)
    # What XLA compiled each variant into, counted per call.
    kernels = _main(page).locator('[data-testid="stExpander"]').filter(has_text="Kernels that ran")
    kernels.get_by_text("Kernels that ran").click()
    expect(kernels.get_by_text(re.compile(r"Measured in JAX, what XLA compiled"))).to_be_visible(timeout=RUN_LIMIT_MS)
    expect(kernels.locator('[data-testid="stDataFrame"]')).to_be_visible()

    _sidebar(page).get_by_role("link", name="Benchmark").click()
    wait_rendered(page)
    expect(_sidebar(page).get_by_role("combobox", name="Keras backend", exact=True)).to_have_value("JAX")
    _main(page).get_by_role("button", name="Run benchmark").click()
    expect(_main(page).get_by_text("Verdict", exact=True)).to_be_visible(timeout=RUN_LIMIT_MS)
    expect(_main(page).get_by_text(re.compile(r"Dense on 4-D input.*both on JAX"))).to_be_visible()
    assert_no_exception(page)
