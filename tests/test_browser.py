"""End-to-end: a real `streamlit run` server on localhost, driven by Debian's chromium through Playwright."""

import re

import pytest

from browser_support import ARTIFACTS, Server, require_chromium
from browser_support import wait_rendered as _wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

PAGE_TITLES = ["Home", "Explore", "Benchmark", "Scaling", "Classroom", "History"]


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "runs.sqlite3")
    yield srv
    srv.stop()


def _expect_sidebar_value(page, label, value):
    expect(page.get_by_label(label, exact=True)).to_have_value(value, timeout=30_000)


def test_deep_link_as_first_request_then_switching_pages(server, browser):
    page = browser.new_page()
    page.goto(f"{server.url}/benchmark?batch=16&filters=32")
    _wait_rendered(page)
    # 1. The requested page, with the configuration from the URL and the shared sidebar.
    expect(page.locator("h1").first).to_have_text("Benchmark")
    _expect_sidebar_value(page, "Batch B", "16")
    _expect_sidebar_value(page, "Filters F", "32")
    # 3. The menu shows page titles, not file names (no "app", no "benchmark").
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in PAGE_TITLES:
        expect(nav.get_by_text(title, exact=True)).to_be_visible()
    assert "app" not in nav.inner_text().split()
    # 2. The configuration survives a page switch and the URL reflects it.
    nav.get_by_text("Explore", exact=True).click()
    expect(page.locator("h1").first).to_contain_text("Explore", timeout=30_000)
    _wait_rendered(page)
    _expect_sidebar_value(page, "Batch B", "16")
    expect(page).to_have_url(re.compile(r"/explore\?.*batch=16"), timeout=15_000)
    filters = page.get_by_label("Filters F", exact=True)
    filters.fill("48")
    filters.press("Enter")
    expect(page).to_have_url(re.compile(r"filters=48"), timeout=15_000)
    nav.get_by_text("History", exact=True).click()
    expect(page.locator("h1").first).to_have_text("History", timeout=30_000)
    # History does not use the run configuration: it neither shows it nor carries it; back on a page that
    # does, the configuration and its URL are restored.
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Run configuration")).to_have_count(0)
    nav.get_by_text("Benchmark", exact=True).click()
    expect(page).to_have_url(re.compile(r"/benchmark\?.*filters=48"), timeout=15_000)
    page.close()


def test_every_page_opens_and_a_small_benchmark_draws_its_chart(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    query = "batch=1&height=4&width=4&channels=3&filters=2&samples=3"
    for title in PAGE_TITLES:
        path = "" if title == "Home" else title.lower()
        page.goto(f"{server.url}/{path}?{query}")
        _wait_rendered(page)
        expect(page.locator("h1").first).to_be_visible()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.goto(f"{server.url}/benchmark?{query}")
    _wait_rendered(page)
    page.get_by_role("button", name="Run benchmark").click()
    samples_chart = page.locator(".js-plotly-plot").filter(has_text="every timed sample")
    expect(samples_chart.first).to_be_visible(timeout=180_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "benchmark.png"), full_page=True)
    page.close()


def test_cancel_stops_a_running_benchmark_and_the_next_run_works(server, browser):
    import psutil

    page = browser.new_page()
    page.goto(f"{server.url}/benchmark?batch=8&height=32&width=32&channels=32&filters=32&samples=2000")
    _wait_rendered(page)
    page.get_by_role("button", name="Run benchmark").click()
    expect(page.get_by_text(re.compile(r"Sample \d+ of"))).to_be_visible(timeout=120_000)
    workers = [
        p
        for p in psutil.Process(server.process.pid).children(recursive=True)
        if "pointwise.worker" in " ".join(p.cmdline())
    ]
    assert workers, "a worker should be running the benchmark"
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("was cancelled and its worker stopped")).to_be_visible(timeout=30_000)
    _, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, "the cancelled job's worker must be killed"
    page.goto(f"{server.url}/benchmark?batch=1&height=4&width=4&channels=3&filters=2&samples=3")
    _wait_rendered(page)
    page.get_by_role("button", name="Run benchmark").click()
    samples_chart = page.locator(".js-plotly-plot").filter(has_text="every timed sample")
    expect(samples_chart.first).to_be_visible(timeout=180_000)
    page.close()
