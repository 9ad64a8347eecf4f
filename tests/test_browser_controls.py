"""Every sidebar control, driven in chromium like a person, against a real `streamlit run` server.

Each change must stick, put its stable key (never a label) into the URL, and the copied URL must reopen
identically in a new browser context on a fresh server. Links written by hand, hostile or not, must apply
or warn truthfully. On the main before this suite, `test_every_control_sticks_...` failed on the first bug
(Variants, Pass and Mode snapped back to their defaults), and `test_a_key_link_applies_on_a_fresh_server` on the
second: `mode=xla&pass=backward&variants=...` opened in graph mode, forward, with the 8 default variants.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from browser_support import (
    Server,
    assert_no_exception,
    require_chromium,
    screenshot_whole_page,
    settle,
    wait_rendered,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

NUMBER_INPUTS = {
    "Batch B": ("batch", "3"),
    "Height H": ("height", "9"),
    "Width W": ("width", "11"),
    "Channels C": ("channels", "5"),
    "Filters F": ("filters", "7"),
    "Samples per variant": ("samples", "4"),
}
SELECTBOXES = {
    "dtype": ("dtype", ["float64", "float16", "bfloat16", "float32"]),
    "Execution mode": ("mode", ["eager", "XLA (jit_compile)", "graph (tf.function)"]),
    "Pass": ("pass", ["forward+backward", "forward"]),
}
KNOBS = {
    "oneDNN (TF_ENABLE_ONEDNN_OPTS)": ("onednn", ["on", "off", "TensorFlow's default"]),
    "BFC CPU allocator (TF_CPU_ALLOCATOR_USE_BFC)": ("allocator", ["off", "on"]),
}
THREADS = {"Intra-op threads": ("threads", "1"), "Inter-op threads": ("inter_threads", "2")}
OPTION_KEYS = {"XLA (jit_compile)": "xla", "graph (tf.function)": "graph", "forward+backward": "backward"}
TF_ONLY = " · TensorFlow only"
"""How the variant list marks a variant written with `tf.*` (`variants.backend_label_suffix`)."""
DEFAULT_WIDGET_VALUES = {"dtype": "float32", "Execution mode": "graph (tf.function)", "Pass": "forward"}


@pytest.fixture
def fresh_server(tmp_path):
    server = Server(tmp_path / "runs.sqlite3")
    yield server
    server.stop()


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def selectbox_value(page, label: str) -> str:
    return sidebar(page).get_by_role("combobox", name=label, exact=True).input_value()


def chosen_variants(page) -> list[str]:
    tags = sidebar(page).locator('[data-testid="stMultiSelect"] [data-tag]')
    return [tag.get_attribute("aria-label") for tag in tags.all()]


def expect_variants(page, labels: list[str]) -> None:
    """The multiselect shows exactly `labels`, in order (waiting for the rerun that draws them)."""
    tags = sidebar(page).locator('[data-testid="stMultiSelect"] [data-tag]')
    expect(tags).to_have_count(len(labels), timeout=15_000)
    assert chosen_variants(page) == labels


def choose(page, label: str, option: str) -> None:
    """Open a selectbox and pick `option`, as a person does: if the list did not open, click again.

    A dropdown opened by a click that also scrolls the sidebar, or by a click that lands while the page is
    still redrawing, closes again at once; so scroll first, let it settle, and retry the opening click.
    """
    combobox = sidebar(page).get_by_role("combobox", name=label, exact=True)
    for _ in range(3):
        combobox.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        combobox.click()
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"the {label!r} list never showed {option!r}")


def remove_variant(page, label: str) -> None:
    """Click the x on a variant's chip once the sidebar is idle; if a rerun swallowed the click, click again."""
    settle(page)
    assert label in chosen_variants(page), f"{label!r} is not chosen: {chosen_variants(page)} at {page.url}"
    for _ in range(3):
        settle(page)
        if label not in chosen_variants(page):
            return
        remove = sidebar(page).locator('[data-testid="stMultiSelect"]').get_by_role("button", name=f"Remove {label}")
        try:
            remove.click(timeout=10_000)
        except PlaywrightTimeoutError:
            continue
    settle(page)
    assert label not in chosen_variants(page), f"{label!r} is still chosen: {chosen_variants(page)} at {page.url}"


def expect_param(page, key: str, value: str | None) -> None:
    """The URL carries `key=value` (or no `key` at all when value is None)."""
    pattern = rf"[?&]{key}=" if value is None else rf"[?&]{key}={re.escape(value)}(&|$)"
    if value is None:
        expect(page).not_to_have_url(re.compile(pattern), timeout=15_000)
    else:
        expect(page).to_have_url(re.compile(pattern), timeout=15_000)


def snapshot(page) -> dict[str, object]:
    """Everything the sidebar shows, as a person reads it."""
    values: dict[str, object] = {
        label: sidebar(page).get_by_label(label, exact=True).input_value() for label in NUMBER_INPUTS
    }
    values.update({label: selectbox_value(page, label) for label in SELECTBOXES})
    for label in KNOBS:
        values[label] = selectbox_value(page, label)
    for label in THREADS:
        values[label] = sidebar(page).get_by_label(label, exact=True).input_value()
    values["variants"] = chosen_variants(page)
    return values


def test_a_key_link_applies_on_a_fresh_server(fresh_server, browser):
    page = browser.new_page()
    link = "/benchmark?mode=xla&pass=backward&variants=conv2d_1x1&variants=seed_dense_flatten"
    page.goto(fresh_server.url + link)
    wait_rendered(page)
    expect(page.locator("h1").first).to_have_text("Benchmark")
    expect(sidebar(page).get_by_role("combobox", name="Execution mode", exact=True)).to_have_value("XLA (jit_compile)")
    assert selectbox_value(page, "Pass") == "forward+backward"
    expect_variants(page, ["Conv2D 1x1 (baseline)", f"Seed Example 3: flatten + Dense (not pointwise){TF_ONLY}"])
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="link")).to_have_count(0)
    assert query(page) == {"mode": ["xla"], "pass": ["backward"], "variants": ["conv2d_1x1", "seed_dense_flatten"]}
    assert_no_exception(page)
    page.close()


def test_every_control_sticks_puts_its_key_in_the_url_and_the_link_reopens_identically(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/benchmark")
    wait_rendered(page)
    for label, (key, value) in NUMBER_INPUTS.items():
        box = sidebar(page).get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        expect_param(page, key, value)
    for label, (key, options) in SELECTBOXES.items():
        for option in options:
            choose(page, label, option)
            expect(sidebar(page).get_by_role("combobox", name=label, exact=True)).to_have_value(option)
            expected = None if option == DEFAULT_WIDGET_VALUES[label] else OPTION_KEYS.get(option, option)
            expect_param(page, key, expected)
    choose(page, "Execution mode", "XLA (jit_compile)")
    choose(page, "Pass", "forward+backward")
    choose(page, "dtype", "float64")
    sidebar(page).get_by_text("Runtime knobs").click()
    for label, (key, options) in KNOBS.items():
        for option in options:
            choose(page, label, option)
            expect_param(page, key, None if option == "TensorFlow's default" else option)
    for label, (key, value) in THREADS.items():
        box = sidebar(page).get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        expect_param(page, key, value)
    # Remove two variants and add one back, like a person: the chip's x, then the dropdown.
    remove_variant(page, "Dense on 4-D input")
    remove_variant(page, f"einsum bhwc,cf->bhwf{TF_ONLY}")
    expect(page).not_to_have_url(re.compile("variants=dense"), timeout=15_000)
    variants = sidebar(page).locator('[data-testid="stMultiSelect"]')
    variants.get_by_role("combobox").click()
    page.keyboard.type("Seed Example 3")
    page.get_by_role("option", name=f"Seed Example 3: flatten + Dense (not pointwise){TF_ONLY}").click()
    page.keyboard.press("Escape")
    expect_param(page, "variants", "seed_dense_flatten")
    # Every earlier change is still there after all those reruns.
    shown = snapshot(page)
    assert {label: shown[label] for label in NUMBER_INPUTS} == {k: v for k, (_, v) in NUMBER_INPUTS.items()}
    assert shown["Execution mode"] == "XLA (jit_compile)" and shown["Pass"] == "forward+backward"
    assert shown["dtype"] == "float64" and shown["BFC CPU allocator (TF_CPU_ALLOCATOR_USE_BFC)"] == "on"
    assert shown["oneDNN (TF_ENABLE_ONEDNN_OPTS)"] == "TensorFlow's default" and shown["Inter-op threads"] == "2"
    assert "Dense on 4-D input" not in shown["variants"] and shown["variants"][-1].startswith("Seed Example 3")
    params = query(page)
    assert params["mode"] == ["xla"] and params["pass"] == ["backward"] and params["dtype"] == ["float64"]
    assert all(v.isidentifier() for v in params["variants"]), params["variants"]
    screenshot_whole_page(page, "controls-changed.png")
    copied = page.url.replace(server.url, "")
    page.close()

    other = Server(tmp_path / "other.sqlite3")
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        reopened = context.new_page()
        reopened.goto(other.url + copied)
        wait_rendered(reopened)
        expect(sidebar(reopened).get_by_label("Batch B", exact=True)).to_have_value("3")
        sidebar(reopened).get_by_text("Runtime knobs").click()
        assert snapshot(reopened) == shown
        expect(reopened.locator('[data-testid="stAlert"]').filter(has_text="link")).to_have_count(0)
        context.close()
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("link", "parameter", "shown_value"),
    [
        ("batch=1e400", "batch", "8"),
        ("batch=" + "9" * 400, "batch", "8"),
        ("filters=1e3", "filters", "128"),
        ("samples=-5", "samples", "30"),
        ("height=abc", "height", "56"),
    ],
    ids=["overflow", "400-digits", "scientific", "negative", "non-numeric"],
)
def test_bad_numbers_in_links_warn_once_naming_the_parameter_and_the_value_in_use(
    server, browser, link, parameter, shown_value
):
    page = browser.new_page()
    page.goto(f"{server.url}/benchmark?{link}")
    wait_rendered(page)
    warning = page.locator('[data-testid="stAlert"]').filter(has_text=f"{parameter} was not used")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text(f"stays at {int(shown_value):,}")
    label = next(label for label, (key, _) in NUMBER_INPUTS.items() if key == parameter)
    expect(sidebar(page).get_by_label(label, exact=True)).to_have_value(shown_value)
    expect_param(page, parameter, None)
    assert_no_exception(page)
    # Warned once: the next interaction does not repeat it.
    box = sidebar(page).get_by_label("Filters F" if parameter != "filters" else "Batch B", exact=True)
    box.fill("2")
    box.press("Enter")
    expect(warning).to_have_count(0, timeout=15_000)
    page.close()


def test_labels_in_links_apply_and_the_url_is_rewritten_with_keys(server, browser):
    page = browser.new_page()
    page.goto(f"{server.url}/benchmark?mode=XLA (jit_compile)&variants=Conv2D 1x1 (baseline)&variants=dense")
    wait_rendered(page)
    expect(sidebar(page).get_by_role("combobox", name="Execution mode", exact=True)).to_have_value("XLA (jit_compile)")
    expect_variants(page, ["Conv2D 1x1 (baseline)", "Dense on 4-D input"])
    expect_param(page, "mode", "xla")
    expect(page).to_have_url(re.compile(r"variants=conv2d_1x1&variants=dense"), timeout=15_000)
    page.close()


@pytest.mark.parametrize(
    "link",
    [
        "dtype=[Session expired](https://evil.example/login)",
        "mode=![x](https://evil.example/p.png)",
        "variants=:red[**re-enter your token**]",
        "device=<img src=https://evil.example/i.png>",
    ],
)
def test_hostile_link_values_are_shown_as_text(server, browser, link):
    page = browser.new_page()
    fetched = []
    page.on(
        "request",
        lambda request: fetched.append(request.url) if urlsplit(request.url).hostname == "evil.example" else None,
    )
    page.goto(f"{server.url}/benchmark?{link}")
    wait_rendered(page)
    key = link.split("=", 1)[0]
    warning = page.locator('[data-testid="stAlert"]').filter(has_text=f"{key} was not used")
    expect(warning).to_have_count(1)
    expect(page.locator('a[href*="evil.example"], img[src*="evil.example"]')).to_have_count(0)
    expect(warning.locator("strong, em, span[style*='color']")).to_have_count(0)
    assert not fetched, fetched
    page.close()


def test_configuration_survives_page_switches_and_shows_only_where_it_is_used(server, browser):
    page = browser.new_page()
    page.goto(f"{server.url}/explore?batch=16&filters=32&height=4&width=4&channels=3")
    wait_rendered(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title, uses_config in [("History", False), ("Classroom", False), ("Home", False), ("Scaling", True)]:
        nav.get_by_text(title, exact=True).click()
        expect(page.locator("h1").first).to_contain_text(title if title != "Home" else "Pointwise Lab")
        expect(sidebar(page).get_by_text("Run configuration")).to_have_count(1 if uses_config else 0)
    expect(sidebar(page).get_by_label("Batch B", exact=True)).to_have_value("16")
    expect_param(page, "filters", "32")
    page.close()


def test_classroom_benchmark_link_opens_the_benchmark_on_that_layer(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/classroom")
    wait_rendered(page)
    for label, value in (("C", "256"), ("F", "512")):
        box = page.locator('[data-testid="stMain"]').get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        expect(box).to_have_value(value)
    link = page.get_by_role("link", name="Benchmark this pointwise layer")
    expect(link).to_have_attribute("href", re.compile(r"channels=256.*filters=512"))
    link.click()
    expect(page.locator("h1").first).to_have_text("Benchmark", timeout=30_000)
    expect(sidebar(page).get_by_label("Channels C", exact=True)).to_have_value("256")
    expect(sidebar(page).get_by_label("Filters F", exact=True)).to_have_value("512")
    expect_param(page, "channels", "256")
    expect_param(page, "filters", "512")
    page.close()
