"""The Classroom page in a real browser: readable on a 390 px phone and a 1280 px laptop, and every section
answers a person's clicks, drags and typing with a visible change."""

import re
from itertools import combinations

import pytest

from browser_support import (
    assert_no_exception,
    require_chromium,
    screenshot_whole_page,
    wait_rendered,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 720}
MIN_TEXT_PX = 12
"""The smallest text size that stays legible on a phone without zooming (WCAG's common floor)."""
FORMS_LIMIT_MS = 120_000
"""The four Keras forms run in a worker process, which may still be importing TensorFlow."""
HEATMAP_NUMBERS = ".js-plotly-plot g.heatmap-label text"
PLOT_TITLES = ".js-plotly-plot .annotation-text, .js-plotly-plot .gtitle"
HEATMAP_TITLE = re.compile(r"^(input|output) (channel \d|c\d|f\d)$")
"""Heatmap panel titles: "input channel 0" on step 1, "input c0" / "output f0" on the animated sweep."""
PRESENT_NUMBER_PX = 18


def _open_classroom(browser, server, viewport):
    page = browser.new_page(viewport=viewport)
    page.goto(f"{server.url}/classroom")
    wait_rendered(page)
    page.wait_for_selector(HEATMAP_NUMBERS, state="attached")
    return page


@pytest.fixture
def phone(browser, server):
    page = _open_classroom(browser, server, PHONE)
    yield page
    page.close()


def _overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_heatmaps_have_separate_titles_and_legible_numbers(browser, server, viewport):
    page = _open_classroom(browser, server, viewport)
    try:
        titles = page.locator(PLOT_TITLES)
        for title in [f"input channel {c}" for c in range(3)] + [f"output channel {f}" for f in range(2)]:
            # Each heatmap is its own figure, drawn when it arrives: wait for all five before measuring.
            expect(titles.filter(has_text=re.compile(f"^{title}$"))).to_have_count(1, timeout=60_000)
        expect(page.locator(HEATMAP_NUMBERS)).to_have_count(5 * 25, timeout=60_000)
        boxes = {titles.nth(i).text_content(): titles.nth(i).bounding_box() for i in range(titles.count())}
        boxes = {title: box for title, box in boxes.items() if HEATMAP_TITLE.match(title)}
        assert {f"input channel {c}" for c in range(3)} | {"output channel 0", "output channel 1"} <= set(boxes)
        overlapping = [(a, b) for (a, box_a), (b, box_b) in combinations(boxes.items(), 2) if _overlap(box_a, box_b)]
        assert not overlapping
        font_px = "texts => texts.map(t => parseFloat(getComputedStyle(t).fontSize))"
        sizes = page.eval_on_selector_all(HEATMAP_NUMBERS, font_px)
        assert len(sizes) == 5 * 25 and min(sizes) >= MIN_TEXT_PX
        for title, box in boxes.items():
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], f"{title!r} runs off the screen"
        screenshot_whole_page(page, f"classroom-{viewport['width']}.png")
    finally:
        page.close()


def test_unreadable_upload_names_the_problem_and_the_file(phone):
    phone.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "evil.png", "mimeType": "image/png", "buffer": b"not an image"}]
    )
    error = phone.locator('[data-testid="stAlertContentError"]')
    expect(error).to_contain_text("evil.png", timeout=30_000)
    expect(error).to_contain_text("not a readable PNG or JPEG image: cannot identify the image format")
    expect(error).not_to_contain_text("BytesIO")
    assert_no_exception(phone)


def _formulas(page):
    return page.get_by_text(re.compile(r"^Output channel \d at"))


def _expect_changed(locator, before: str, timeout: int = 30_000) -> str:
    """Wait until `locator`'s text differs from `before` (a rerun is asynchronous), and return the new text."""
    expect(locator).not_to_have_text(before, timeout=timeout)
    return locator.inner_text()


def test_pixel_sections_answer_a_person(phone):
    formula = _formulas(phone).first
    shown = formula.inner_text()
    assert "at (1, 2)" in shown
    row_slider = phone.get_by_role("slider", name=re.compile("^Pixel row"))
    row_slider.focus()
    row_slider.press("ArrowRight")
    shown = _expect_changed(formula, shown)
    assert "at (2, 2)" in shown
    weights = phone.locator('[data-testid="stDataFrame"]').first
    weights.scroll_into_view_if_needed()
    weights.dblclick(position={"x": 116, "y": 53})  # the cell (channel 0, filter 0), below the header row
    cell_editor = phone.locator("input.gdg-input")
    cell_editor.fill("9")
    cell_editor.press("Enter")
    shown = _expect_changed(formula, shown)
    assert "·(9) +" in shown
    phone.get_by_role("button", name="Randomise input and weights").click()
    shown = _expect_changed(formula, shown)
    assert "·(9) +" not in shown
    phone.get_by_role("button", name="Run the four Keras forms on these numbers").click()
    forms = phone.locator('[data-testid="stDataFrame"]').filter(has_text="max |difference| from the NumPy")
    expect(forms).to_have_count(1, timeout=FORMS_LIMIT_MS)
    for form in ("Conv2D 1x1", "Dense", "matmul (reshape + 2-D matmul)", "einsum bhwc,cf->bhwf"):
        expect(forms).to_contain_text(form)
    assert_no_exception(phone)


def test_colour_article_and_cost_sections_answer_a_person(phone):
    after = phone.locator('[data-testid="stImage"] img').nth(1)
    unchanged = after.get_attribute("src")  # the "identity" preset, chosen when the page opens
    seen = {unchanged}
    presets = phone.get_by_role("combobox")
    for name in ["grayscale (BT.601 luma)", "sepia", "channel swap (RGB -> BGR)", "RGB -> YUV (BT.601)", "identity"]:
        presets.focus()
        presets.press("ArrowDown")  # opens the list; a click on a page still laying out its charts can miss
        phone.get_by_role("option", name=name, exact=True).click()
        if name == "identity":
            expect(after).to_have_attribute("src", unchanged, timeout=30_000)
        else:
            expect(after).not_to_have_attribute("src", re.compile("|".join(map(re.escape, seen))), timeout=30_000)
            seen.add(after.get_attribute("src"))

    phone.get_by_role("tab", name="Example 3").click()
    expect(phone.get_by_text(f"Parameters: {8 * 8 * 3 * 4 + 4:,}", exact=True)).to_be_visible()
    side = phone.get_by_role("slider", name=re.compile("^Image size H = W"))
    side.focus()
    side.press("ArrowRight")
    expect(phone.get_by_text(f"Parameters: {9 * 9 * 3 * 4 + 4:,}", exact=True)).to_be_visible(timeout=30_000)

    ratio = phone.get_by_text(re.compile("^Depthwise \\+ pointwise costs"))
    expect(ratio).to_contain_text(f"{1 / 128 + 1 / 9:.1%}")
    filters = phone.get_by_label("F", exact=True)
    filters.fill("256")
    filters.press("Enter")
    expect(ratio).to_contain_text(f"{1 / 256 + 1 / 9:.1%}", timeout=30_000)
    assert_no_exception(phone)


@pytest.fixture
def projector(browser, server):
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{server.url}/classroom?present=1")
    expect(page.locator("h2").first).to_be_visible(timeout=120_000)
    yield page
    page.close()


def _inside(box, viewport) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def test_presentation_mode_fits_every_step_on_a_projector(projector):
    page = projector
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    for step in range(1, 7):
        heading = page.locator("h2").filter(has_text=re.compile(f"^{step}\\."))
        expect(heading).to_be_visible(timeout=30_000)
        figure = page.locator('[data-testid="stPlotlyChart"] .main-svg, [data-testid="stImage"] img').first
        expect(figure).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)  # Plotly lays out after the element appears
        assert page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop") == 0
        assert _inside(heading.bounding_box(), LAPTOP), f"step {step}: heading off screen"
        assert _inside(figure.bounding_box(), LAPTOP), f"step {step}: main figure off screen"
        controls = page.locator(".updatemenu-button, .slider-group")
        for k in range(controls.count()):
            assert _inside(controls.nth(k).bounding_box(), LAPTOP), f"step {step}: animation controls off screen"
        if step in (1, 2):
            sizes = page.eval_on_selector_all(
                HEATMAP_NUMBERS, "ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize))"
            )
            assert sizes and min(sizes) >= PRESENT_NUMBER_PX
            # The numbers in tables too (weights, matrices): no canvas-drawn 14 px grid on a projector.
            cells = page.eval_on_selector_all(
                '[data-testid="stTable"] td', "ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize))"
            )
            assert cells and min(cells) >= PRESENT_NUMBER_PX, f"step {step}: table numbers {min(cells or [0])} px"
            expect(page.locator('[data-testid="stMain"] [data-testid="stDataFrameGlideDataEditor"]')).to_have_count(0)
        screenshot_whole_page(page, f"classroom-present-{step}.png")
        if step < 6:
            page.get_by_role("button", name="Next").click()
    assert_no_exception(page)


def test_the_sweep_animation_plays_in_the_browser(projector):
    page = projector
    page.get_by_role("button", name="Next").click()
    current = page.locator(".slider-group .slider-label").first
    expect(current).to_have_text("pixel (0, 0)", timeout=30_000)
    page.locator(".updatemenu-button").filter(has_text="Play").first.click()
    expect(current).not_to_have_text("pixel (0, 0)", timeout=10_000)
    moved = current.text_content()
    expect(current).not_to_have_text(moved, timeout=10_000)  # frames keep advancing


def _step_to(page, target: int) -> None:
    """Press Next until step `target` shows, one step at a time: a click that lands while the page is still
    redrawing the previous step is lost, so each press waits for its step, and presses again if it did not come."""
    heading = page.locator("h2").filter(has_text=re.compile(r"^\d+\."))
    for _ in range(3 * target):
        expect(heading.first).to_be_visible(timeout=30_000)
        step = int(heading.first.inner_text().split(".")[0])
        if step >= target:
            break
        page.get_by_role("button", name="Next").click()
        try:
            expect(page.locator("h2").filter(has_text=re.compile(rf"^{step + 1}\."))).to_be_visible(timeout=10_000)
        except AssertionError:
            continue
    expect(page.locator("h2").filter(has_text=re.compile(rf"^{target}\."))).to_be_visible(timeout=30_000)


def test_a_prediction_runs_its_measurement(projector):
    page = projector
    _step_to(page, 5)
    page.get_by_text("no", exact=True).first.click()
    page.get_by_role("button", name="Reveal: measure it").first.click()
    verdict = page.get_by_text(re.compile("^Your guess: no · measured: no"))
    expect(verdict).to_be_visible(timeout=FORMS_LIMIT_MS)
    expect(page.get_by_text(re.compile("Example 3 returns \\(1, 1, 4\\)"))).to_be_visible()
    assert_no_exception(page)
