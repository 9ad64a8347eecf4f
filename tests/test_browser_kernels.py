"""A person opens "Kernels that ran" on Explore, then Benchmark, and reads which ops each variant executed."""

from __future__ import annotations

import pytest

from browser_support import assert_no_exception, require_chromium, screenshot_whole_page, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

# Large enough that the GEMMs are traced as expensive kernels (see tests/test_kernels.py).
SHAPE = "batch=2&height=8&width=8&channels=16&filters=32&samples=4"
RUN_LIMIT_MS = 180_000


def test_explore_and_benchmark_kernels_expanders_name_the_ops_that_ran(server, page):
    page.goto(f"{server.url}/explore?{SHAPE}&variants=conv2d_1x1&variants=seed_matmul")
    wait_rendered(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=RUN_LIMIT_MS)
    expander = main.locator('[data-testid="stExpander"]').filter(has_text="Kernels that ran")
    expect(expander.get_by_text("Measured in graph mode")).to_have_count(0)
    expander.get_by_text("Kernels that ran").click()
    # The chart's legend names the kernels: Seed Example 1 is a batched matmul, the baseline a convolution
    # (oneDNN's or TensorFlow's, whichever this worker's default chose).
    legend = expander.locator(".legendtext")
    expect(legend.filter(has_text="BatchMatMulV2")).to_have_count(1, timeout=RUN_LIMIT_MS)
    expect(legend.filter(has_text="Conv2D")).to_have_count(1)
    expect(expander.get_by_text("Measured in graph mode")).to_be_visible()
    assert_no_exception(page)
    screenshot_whole_page(page, "kernels-explore.png")

    # Benchmark's expander, for the same configuration: this server already profiled it, so the answer is cached.
    page.goto(f"{server.url}/benchmark?{SHAPE}&variants=conv2d_1x1&variants=seed_matmul")
    wait_rendered(page)
    page.get_by_role("button", name="Run benchmark").click()
    expect(main.get_by_text("Verdict")).to_be_visible(timeout=RUN_LIMIT_MS)
    expander = main.locator('[data-testid="stExpander"]').filter(has_text="Kernels that ran")
    expander.get_by_text("Kernels that ran").click()
    expect(expander.locator(".legendtext").filter(has_text="BatchMatMulV2")).to_have_count(1, timeout=RUN_LIMIT_MS)
    expect(expander.get_by_text("(cached)")).to_be_visible()
    assert_no_exception(page)
