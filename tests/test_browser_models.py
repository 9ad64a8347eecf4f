"""The Models page in chromium: pick MobileNetV2, see its 34 pointwise convolutions, convert it to
PointwiseConv2D, see the equivalence verdict and the timing chart. A 64x64 input, batch 1, 3 rounds: the
numbers are not the point here, the flow is (the CLI and `benchmarks/` measure)."""

from __future__ import annotations

import pytest

from browser_support import assert_no_exception, require_chromium, screenshot_whole_page, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

JOB_LIMIT_MS = 180_000


def _number(page, label: str, value: int) -> None:
    field = page.get_by_label(label)
    field.fill(str(value))
    # Tab, not Enter: Enter inside a form submits it, starting a job the button's click would then cancel.
    field.press("Tab")
    expect(field).to_have_value(str(value))


def test_models_page_converts_mobilenet_v2_and_shows_equivalence_and_timing(server, page):
    page.goto(f"{server.url}/models")
    wait_rendered(page)
    main = page.locator('[data-testid="stMain"]')
    network = main.get_by_role("combobox", name="Network")
    expect(network).to_be_visible()
    _number(page, "Input size (pixels)", 64)
    _number(page, "Batch", 1)
    network.click()
    page.get_by_role("option", name="MobileNetV2").click()
    expect(network).to_have_value("MobileNetV2")
    main.get_by_role("button", name="Show the 1x1 layers").click()
    expect(main.get_by_text("at 64x64, batch 1")).to_be_visible(timeout=JOB_LIMIT_MS)
    expect(main.get_by_text("34 pointwise (1x1) convolutions")).to_be_visible(timeout=JOB_LIMIT_MS)
    # The heading counts the rows of the table under it (the grid itself is a canvas; tests/test_models.py
    # reads its 34 rows through Streamlit's AppTest).
    expect(main.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(main.locator(".js-plotly-plot").first).to_be_visible()

    _number(page, "Timing rounds", 3)
    main.get_by_role("button", name="Convert, check and time").click()
    expect(main.get_by_text("Converted to PointwiseConv2D")).to_be_visible(timeout=JOB_LIMIT_MS)
    expect(main.get_by_text("Equivalent to the original.")).to_be_visible()
    chart = main.locator(".js-plotly-plot").filter(has_text="Whole-model time per call")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("converted (PointwiseConv2D)")
    expect(main.get_by_text("; vs the original:")).to_be_visible()
    assert_no_exception(page)
    screenshot_whole_page(page, "flow-models.png")
