"""Tune in chromium: a person sets a small budget, starts the tune, watches its progress, reads the ranking and
the verdict. One server for the module, a tiny layer, two variants."""

from __future__ import annotations

import re

import pytest

from browser_support import assert_no_exception, launch, require_chromium, screenshot_whole_page, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

TINY = "batch=1&height=8&width=8&channels=4&filters=4&variants=conv2d_1x1&variants=dense"
RUN_LIMIT_MS = 120_000


def test_tune_shows_progress_then_the_ranking_and_the_verdict(server):
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(f"{server.url}/tune?{TINY}")
        wait_rendered(page)
        main = page.locator('[data-testid="stMain"]')
        form = main.locator('[data-testid="stForm"]')
        form.get_by_label("Time budget (s)").fill("20")
        form.get_by_role("button", name="Run tune").click()
        # The bar names the run and the time left while the tune goes on.
        expect(main.get_by_text(re.compile(r"Run \d+ of \d+.*left"))).to_be_visible(timeout=RUN_LIMIT_MS)
        verdict = main.get_by_text(re.compile(r"On this CPU \(.+\), "))
        expect(verdict).to_be_visible(timeout=RUN_LIMIT_MS)
        expect(main.get_by_text("Fastest configurations")).to_be_visible()
        # Plotly's first load can take a while on a busy host.
        chart_title = main.locator(".js-plotly-plot").first.locator(".gtitle")
        expect(chart_title).to_contain_text("What decides the speed", timeout=RUN_LIMIT_MS)
        expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(2, timeout=RUN_LIMIT_MS)
        # The formulation is always measured (Dense against Conv2D 1x1 at TensorFlow's defaults).
        expect(verdict).to_contain_text("the formulation")
        expect(main.get_by_text(re.compile(r"Measured in \d+ s of a 20 s budget"))).to_be_visible()
        assert_no_exception(page)
        screenshot_whole_page(page, "flow-tune.png")
        browser.close()
