"""The user flows that run TensorFlow, driven in chromium: Explore, Benchmark (every distribution kind, both
downloads), Scaling in one and two dimensions. One server for the module, tiny shapes, few samples."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from browser_support import (
    assert_no_exception,
    download_text,
    require_chromium,
    screenshot_whole_page,
    settle,
    wait_rendered,
)
from pointwise.worker.environment import cpu_model

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

SMALL = "batch=1&height=6&width=5&channels=4&filters=3&samples=4"
RUN_LIMIT_MS = 180_000


def main(page):
    return page.locator('[data-testid="stMain"]')


def test_explore_shows_equivalence_and_example_3_is_not_pointwise(server, page):
    page.goto(f"{server.url}/explore?{SMALL}&variants=conv2d_1x1&variants=seed_dense_flatten&variants=dense")
    wait_rendered(page)
    table = main(page).locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible(timeout=RUN_LIMIT_MS)
    # The answer in one sentence above the table: counted, and Example 3 named.
    answer = main(page).locator('[data-testid="stMarkdown"]').filter(has_text="variants compute Conv2D 1x1's numbers")
    expect(answer).to_contain_text("1 of 2 variants compute Conv2D 1x1's numbers")
    expect(answer).to_contain_text("Not the same: Seed Example 3")
    example_3 = main(page).locator('[data-testid="stAlert"]').filter(has_text="Not a pointwise convolution")
    expect(example_3).to_contain_text("Seed Example 3")
    # The error plots: choose the Dense variant like a person, and its plots draw.
    chooser = main(page).get_by_role("combobox", name="Variant for the error plots")
    chooser.click()
    page.get_by_role("option", name="Dense on 4-D input").click()
    expect(chooser).to_have_value("Dense on 4-D input")
    expect(main(page).get_by_text("What each variant computes")).to_be_visible()
    # The quick check ran eagerly; the sidebar's mode (graph) is one click away, and the page says which ran.
    expect(main(page).get_by_text(re.compile(r"^Checked in eager mode"))).to_be_visible()
    main(page).get_by_role("button", name="Check in graph (tf.function) mode").click()
    expect(main(page).get_by_text(re.compile(r"^Checked in graph \(tf\.function\) mode"))).to_be_visible(
        timeout=RUN_LIMIT_MS
    )
    assert_no_exception(page)
    screenshot_whole_page(page, "flow-explore.png")


def test_benchmark_every_distribution_kind_and_both_downloads(server, page):
    page.goto(f"{server.url}/benchmark?{SMALL}&variants=conv2d_1x1&variants=dense&variants=pointwise")
    wait_rendered(page)
    page.get_by_role("button", name="Run benchmark").click()
    expect(main(page).get_by_text("Verdict")).to_be_visible(timeout=RUN_LIMIT_MS)
    expect(main(page).get_by_text(re.compile(r"PointwiseConv2D.*: .*x \["))).to_be_visible()
    # Every speed figure names the machine that measured it.
    expect(main(page).get_by_text(f"timed on {cpu_model()}", exact=False)).to_be_visible()
    charts = main(page).locator(".js-plotly-plot")
    for kind in ("violin", "ecdf", "histogram", "box"):
        main(page).locator('[data-testid="stRadio"]').get_by_text(kind, exact=True).click()
        settle(page)
        expect(main(page).get_by_role("radio", name=kind, exact=True)).to_be_checked()
        expect(charts.first).to_be_visible()
        expect(charts.first.locator(".gtitle")).to_contain_text(re.compile(".+"))
        assert_no_exception(page)
    main(page).get_by_text("Log time axis").click()
    settle(page)
    expect(charts.first.locator(".xaxislayer-above")).to_be_visible()
    assert_no_exception(page)
    rows = list(csv.DictReader(io.StringIO(download_text(page, "Download samples (CSV)"))))
    assert {row["key"] for row in rows} == {"conv2d_1x1", "dense", "pointwise"} and len(rows) == 3 * 4
    exported = json.loads(download_text(page, "Download result (JSON)"))
    assert exported["format"] == "pointwise-benchmark" and exported["spec"]["channels"] == 4
    screenshot_whole_page(page, "flow-benchmark.png")


def test_scaling_one_and_two_dimensional_sweeps(server, page):
    page.goto(f"{server.url}/scaling?{SMALL}&variants=conv2d_1x1&variants=dense")
    wait_rendered(page)
    form = main(page).locator('[data-testid="stForm"]')
    for label, value in (("from", "2"), ("to", "8"), ("points", "2"), ("Samples per variant per point", "3")):
        form.get_by_label(label, exact=True).fill(value)
    # Before the run, the chart's empty frame (the browser loads Plotly then); after it, the sweep's charts.
    waiting = main(page).locator(".js-plotly-plot").filter(has_text="no points yet")
    expect(waiting).to_be_visible()
    form.get_by_role("button", name="Run sweep").click()
    charts = main(page).locator(".js-plotly-plot")
    expect(charts.nth(2)).to_be_visible(timeout=RUN_LIMIT_MS)
    settle(page)
    expect(waiting).to_have_count(0)
    assert_no_exception(page)
    one_d = charts.count()
    screenshot_whole_page(page, "flow-scaling-1d.png")
    second = form.get_by_role("combobox", name="Second parameter (heatmap)")
    second.click()
    page.get_by_role("option", name="batch B").click()
    for label, value in (("second: from", "1"), ("second: to", "2"), ("second: points", "2")):
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Run sweep").click()
    expect(main(page).get_by_role("combobox", name="Heatmap variant")).to_be_visible(timeout=RUN_LIMIT_MS)
    expect(charts).to_have_count(one_d + 1, timeout=30_000)
    expect(main(page).get_by_role("combobox", name="Heatmap variant")).not_to_have_value("Conv2D 1x1 (baseline)")
    assert_no_exception(page)
    screenshot_whole_page(page, "flow-scaling-2d.png")
