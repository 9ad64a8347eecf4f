"""Live answers in chromium: a second visitor gets Explore's answer from the server's cache, and the Benchmark
draws its distribution while the samples are still arriving."""

from __future__ import annotations

import re

import pytest

from browser_support import assert_no_exception, require_chromium, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

SMALL = "batch=1&height=6&width=5&channels=4&filters=3"
RUN_LIMIT_MS = 180_000
PROVENANCE = re.compile(r"computed at \d\d:\d\d:\d\d on worker pid (\d+)")


def _main(page):
    return page.locator('[data-testid="stMain"]')


def _explore_provenance(browser, url: str) -> str:
    """Open `url` in a new browser session (its own cookies and Streamlit session); the result's provenance line."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url)
    wait_rendered(page)
    line = _main(page).get_by_text(PROVENANCE)
    expect(line).to_be_visible(timeout=RUN_LIMIT_MS)
    assert_no_exception(page)
    text = line.inner_text()
    context.close()
    return text


def test_a_second_session_gets_the_explore_answer_from_the_cache(server, browser):
    url = f"{server.url}/explore?{SMALL}"
    first = _explore_provenance(browser, url)
    assert "Checked in eager mode" in first and "(cached)" not in first
    second = _explore_provenance(browser, url)
    # Only a cache hit says "(cached)", and it names the worker that computed the answer for the first visitor.
    assert "(cached)" in second
    assert PROVENANCE.search(second).group(1) == PROVENANCE.search(first).group(1)


def test_the_benchmark_chart_appears_while_samples_are_still_arriving(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server.url}/benchmark?{SMALL}&samples=400&variants=conv2d_1x1&variants=dense&variants=pointwise")
    wait_rendered(page)
    # Before the click: the empty chart of the variants to be timed (which also has the browser load Plotly).
    waiting = _main(page).locator(".js-plotly-plot").filter(has_text="no samples yet")
    expect(waiting).to_be_visible()
    expect(waiting).to_contain_text("PointwiseConv2D")
    page.get_by_role("button", name="Run benchmark").click()
    running = _main(page).get_by_text(re.compile(r"Verdict \(running, \d+ of 1200 samples\)"))
    expect(running).to_be_visible(timeout=RUN_LIMIT_MS)
    expect(_main(page).locator(".js-plotly-plot").filter(has_text="every timed sample").first).to_be_visible()
    expect(waiting).to_be_hidden()
    assert _main(page).locator('[data-testid="stProgress"]').count() == 1  # the job is still running
    expect(_main(page).get_by_text("Verdict", exact=True)).to_be_visible(timeout=RUN_LIMIT_MS)
    expect(running).to_have_count(0)
    expect(_main(page).get_by_text(PROVENANCE)).to_be_visible()
    assert_no_exception(page)
    page.close()
