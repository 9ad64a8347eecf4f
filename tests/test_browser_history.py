"""In the browser: hostile imported text renders as text on Home and History, and History acts on run ids."""

import json
import re
import time

import pytest

from browser_support import ARTIFACTS, Server, assert_no_exception, require_chromium, wait_rendered
from pointwise.errors import ImportRejectedError
from pointwise.store import RunStore
from test_store import _payload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

from playwright.sync_api import expect  # noqa: E402

RENDER_BUDGET_S = 5.0
HOSTILE = [
    _payload(label="[Session expired - log in again](https://evil.example/login) ![x](https://evil.example/t.png)"),
    _payload(environment={"machine": "lab-2", "date": "2026-11-26", "cpu": ":red[**re-enter your token**]"}),
    _payload(label='<a href="https://evil.example">click</a><img src="https://evil.example/i.png">'),
    _payload(label="$\\href{https://evil.example}{\\text{login}}$ :material/lock: <script>alert(1)</script>"),
]
REJECTED = [
    _payload(environment={"machine": "m", "cpu": "x" * 2**19}),
    _payload(label="y" * 2**19),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("history") / "runs.sqlite3"
    store = RunStore(db)
    for index, document in enumerate(HOSTILE):
        document["environment"] = {**document["environment"], "date": f"2026-11-2{index}"}
        store.import_json(json.dumps(document))
    for document in REJECTED:
        with pytest.raises(ImportRejectedError, match="at most"):
            store.import_json(json.dumps(document))
    srv = Server(db)
    yield srv
    srv.stop()


def _assert_only_text(page):
    expect(page.locator('a[href*="evil.example"]')).to_have_count(0)
    expect(page.locator('img[src*="evil.example"], img[src="x"]')).to_have_count(0)
    expect(page.locator("script:text('alert(1)')")).to_have_count(0)
    assert_no_exception(page)


@pytest.fixture(scope="module")
def warm_context(server, browser):
    """One unmeasured visit per page in a shared browser context: the budget is for rendering the data, not
    for the server's first imports or the browser's first download of the app's JavaScript."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    for path in ("", "history"):
        page.goto(f"{server.url}/{path}")
        wait_rendered(page)
    page.close()
    yield context
    context.close()


@pytest.mark.parametrize("path", ["", "history"])
def test_hostile_imports_render_as_text_quickly(server, warm_context, path):
    ARTIFACTS.mkdir(exist_ok=True)
    page = warm_context.new_page()
    started = time.monotonic()
    page.goto(f"{server.url}/{path}")
    wait_rendered(page)
    if not path:
        expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=30_000)
    elapsed = time.monotonic() - started
    _assert_only_text(page)
    page.screenshot(path=str(ARTIFACTS / f"hostile-{path or 'home'}.png"), full_page=True)
    assert elapsed < RENDER_BUDGET_S, f"{path or 'home'} took {elapsed:.1f} s"
    page.close()


def _grid_box(page):
    """The grid's box once it stands still: a rerun can replace the grid between finding it and measuring it."""
    frame = page.locator('[data-testid="stDataFrame"]').first
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        expect(frame).to_be_visible(timeout=30_000)
        box = frame.bounding_box()
        if box is not None and box["height"] > 0:
            return box
        page.wait_for_timeout(250)
    raise AssertionError("the History table never stood still long enough to be clicked")


def _click_row(page, row, rows_shown, selected_after: list[int]):
    """Tick a row's selection checkbox, then wait until the page shows exactly `selected_after` selected.

    The glide grid draws on a canvas, so the click lands on the first column's cell; the page's delete
    confirmation names the selected ids, so it tells when the rerun that follows the click has finished. A
    click that lands while the grid is still being redrawn is lost (the page shows what it showed before): then
    click again, as a person would.
    """
    confirm = page.get_by_text(re.compile(r"^Yes, delete "))
    before = confirm.all_text_contents()
    listed = ", ".join(f"#{i}" for i in sorted(selected_after, reverse=True))
    for _ in range(3):
        box = _grid_box(page)
        row_height = box["height"] / (rows_shown + 1)
        page.mouse.click(box["x"] + 15, box["y"] + row_height * (row + 1.5))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and confirm.all_text_contents() == before:
            page.wait_for_timeout(250)
        if confirm.all_text_contents() != before:
            break
    # During the rerun the old confirmation can stand beside the new one for a moment: wait for exactly one.
    if selected_after:
        expect(page.get_by_text(f"Yes, delete {listed}", exact=True)).to_be_visible(timeout=30_000)
        expect(confirm).to_have_count(1, timeout=30_000)
    else:
        expect(confirm).to_have_count(0, timeout=30_000)
    wait_rendered(page)


def _ids(db):
    return sorted(int(i) for i in RunStore(db).list_runs()["id"])


def test_import_select_compare_rename_and_delete_exactly_the_selected_runs(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{server.url}/history")
    wait_rendered(page)
    page.get_by_text("Import results").click()
    upload = tmp_path / "from-gpu-box.json"
    upload.write_text(json.dumps(_payload(label="from GPU box", environment={"machine": "gpu-box", "date": "2027"})))
    page.locator('input[type="file"]').set_input_files(str(upload))
    expect(page.get_by_text("from-gpu-box.json")).to_be_visible(timeout=30_000)
    wait_rendered(page)
    import_button = page.locator('[data-testid="stBaseButton-secondary"]:visible', has_text="Import")
    expect(import_button).to_be_visible(timeout=60_000)  # after the upload finished and the page reran
    import_button.click()
    expect(page.get_by_text("Imported 1 run(s)")).to_be_visible(timeout=30_000)
    wait_rendered(page)
    before = _ids(server.db_path)
    newest, second = before[-1], before[-2]
    rows = len(before)
    _click_row(page, 0, rows, [newest])
    _click_row(page, 1, rows, [newest, second])
    expect(page.get_by_role("heading", name="Comparison")).to_be_visible(timeout=30_000)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    _assert_only_text(page)
    page.screenshot(path=str(ARTIFACTS / "history-compare.png"), full_page=True)
    _click_row(page, 1, rows, [newest])  # back to the newest run alone: it can be renamed
    label = page.get_by_label(f"Label of run #{newest}")
    label.fill("renamed in the browser")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text(f"Renamed run #{newest}.")).to_be_visible(timeout=30_000)
    assert RunStore(server.db_path).load(newest).label == "renamed in the browser"
    page.goto(f"{server.url}/history")  # a fresh session: nothing selected
    wait_rendered(page)
    _click_row(page, 1, rows, [second])
    page.get_by_text(f"Yes, delete #{second}").click()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_text(f"Deleted 1 run(s): #{second}.")).to_be_visible(timeout=30_000)
    wait_rendered(page)
    assert _ids(server.db_path) == [i for i in before if i != second]
    # After the delete nothing is selected and nothing is ready to delete another run.
    expect(page.get_by_text("Yes, delete")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete selected")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "history-after-delete.png"), full_page=True)
    # Rows 0 and 3 of the 4 left, the selection that once crashed the page with a stale row index: exactly
    # those two runs go, and the two between them stay.
    left = _ids(server.db_path)
    top, bottom = left[-1], left[0]  # the table lists the newest first
    page.goto(f"{server.url}/history")
    wait_rendered(page)
    _click_row(page, 0, len(left), [top])
    _click_row(page, len(left) - 1, len(left), [top, bottom])
    page.get_by_text(f"Yes, delete #{top}, #{bottom}").click()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_text(f"Deleted 2 run(s): #{top}, #{bottom}.")).to_be_visible(timeout=30_000)
    wait_rendered(page)
    assert_no_exception(page)
    assert _ids(server.db_path) == left[1:-1]
    page.close()
