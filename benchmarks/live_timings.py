"""Live answers, side by side with an earlier commit, on fresh servers in headless Chromium.

    python benchmarks/live_timings.py BEFORE_COMMIT [AFTER_COMMIT] [--repeat N] [--no-sweep]

Checks BEFORE_COMMIT (and AFTER_COMMIT, else the working tree is measured) out into temporary worktrees and
measures both in one run, at the default configuration: Home's first render the moment the server is up (a warm-up
started with the server runs meanwhile) and 12 s later, Explore opened 8 s after Home on a fresh server (the warm-
up's work), the first Explore answer (its one-sentence summary, or the table in a tree without one) and table on a
fresh server, the same configuration in a new browser session (and, to separate the answer from Streamlit's own
start in a browser that has nothing cached, when that session's page title appeared, how long a page with only a
title takes, and how long the `/explore` link of a multipage app whose pages only show a title takes) and in a new
tab of a browser that has shown it (a new session, Streamlit's scripts cached), and time to the first chart with
samples and to the final result for the default Benchmark (clicked after 2 s on the page, as a person reads first)
and the default 5-point sweep. With --repeat N the two trees take turns N times (other work on the machine then
hits both alike) and each figure is the median, with the range. Prints each figure with the CPU's name.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

sys.path.insert(0, str(_common.ROOT / "tests"))
from playwright.sync_api import expect, sync_playwright

import browser_support
from browser_support import CHROMIUM, CHROMIUM_ARGS, Server

LIMIT_MS = 300_000
CHART = ".js-plotly-plot"
SAMPLES_TITLE = "every timed sample"
"""The distribution chart's title once it has samples (before a run, the empty chart says "no samples yet")."""
SWEEP_TITLE = "Time per call vs"
"""The sweep chart's title once it has a point (before a sweep, the empty chart says "no points yet")."""
ANSWER_SENTENCE = "variants compute Conv2D 1x1's numbers"
EMPTY_PAGE = Path(__file__).with_name("empty_page.py")
EMPTY_APP = Path(__file__).with_name("empty_app.py")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def fresh_server(tree: Path, tmp: Path) -> Server:
    browser_support.ROOT = tree  # Server runs `streamlit run app.py` in this tree
    return Server(tmp / f"runs-{time.monotonic_ns()}.sqlite3")


def seconds_until(page, locator) -> float:
    start = time.perf_counter()
    expect(locator).to_be_visible(timeout=LIMIT_MS)
    return time.perf_counter() - start


def home_first_render_s(browser, url: str) -> float:
    page = browser.new_page()
    start = time.perf_counter()
    page.goto(url)
    expect(page.locator("h1").first).to_have_text("Pointwise Lab", timeout=LIMIT_MS)
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def answer(page):
    """The check's answer: its one-sentence summary, or (in a tree without one) its table, whichever shows first."""
    return page.get_by_text(ANSWER_SENTENCE).or_(page.locator('[data-testid="stDataFrame"]')).first


def explore_result_s(browser, url: str) -> tuple[float, float, float]:
    """(page title shown, answer shown, result table shown) after opening Explore in a new browser session."""
    context = browser.new_context()  # a new browser session: nothing cached in Streamlit's session state
    page = context.new_page()
    start = time.perf_counter()
    page.goto(f"{url}/explore")
    expect(page.locator("h1").first).to_be_visible(timeout=LIMIT_MS)
    shell = time.perf_counter() - start
    expect(answer(page)).to_be_visible(timeout=LIMIT_MS)
    answered = time.perf_counter() - start
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=LIMIT_MS)
    elapsed = time.perf_counter() - start
    context.close()
    return shell, answered, elapsed


def explore_new_tab_s(browser, url: str) -> float:
    """The result table in a second tab of a browser that has shown Explore: a new Streamlit session, but
    Streamlit's scripts (plotly's among them) already in the browser's cache, as for a returning visitor."""
    context = browser.new_context()
    first = context.new_page()
    first.goto(f"{url}/explore")
    expect(first.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=LIMIT_MS)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(f"{url}/explore")
    expect(answer(page)).to_be_visible(timeout=LIMIT_MS)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def empty_page_s(browser, tmp: Path, script: Path = EMPTY_PAGE, path: str = "") -> float:
    """Streamlit's own floor: a page that only shows a title, opened in a new browser session (median of 3)."""
    server = Server(tmp / f"empty-{time.monotonic_ns()}.sqlite3", script=str(script))
    try:
        times = []
        for _ in range(3):
            context = browser.new_context()
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{server.url}{path}")
            expect(page.locator("h1").first).to_be_visible(timeout=LIMIT_MS)
            times.append(time.perf_counter() - start)
            context.close()
        return statistics.median(times)
    finally:
        server.stop()


def benchmark_s(browser, url: str) -> tuple[float, float]:
    """(first chart, final result) after the click; an earlier tree draws its first chart with the final result."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/benchmark")
    expect(page.get_by_role("button", name="Run benchmark")).to_be_visible(timeout=LIMIT_MS)
    page.wait_for_timeout(2_000)  # a person reads the page before clicking; the empty chart loads Plotly meanwhile
    page.get_by_role("button", name="Run benchmark").click()
    start = time.perf_counter()
    expect(page.locator(CHART).filter(has_text=SAMPLES_TITLE).first).to_be_visible(timeout=LIMIT_MS)
    first = time.perf_counter() - start
    expect(page.get_by_text("Verdict", exact=True)).to_be_visible(timeout=LIMIT_MS)
    expect(page.get_by_text("Download samples (CSV)")).to_be_visible(timeout=LIMIT_MS)
    final = time.perf_counter() - start
    page.close()
    return first, final


def sweep_s(browser, url: str) -> tuple[float, float]:
    """The Scaling page's default sweep (5 points of channels C, 10 samples): (first chart, final result)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/scaling")
    expect(page.get_by_role("button", name="Run sweep")).to_be_visible(timeout=LIMIT_MS)
    page.wait_for_timeout(2_000)  # as for the Benchmark: a person reads the form first
    page.get_by_role("button", name="Run sweep").click()
    start = time.perf_counter()
    expect(page.locator(CHART).filter(has_text=SWEEP_TITLE).first).to_be_visible(timeout=LIMIT_MS)
    first = time.perf_counter() - start
    expect(page.get_by_text("Download sweep (CSV)")).to_be_visible(timeout=LIMIT_MS)
    final = time.perf_counter() - start
    page.close()
    return first, final


def measure_tree(browser, tree: Path, tmp: Path, sweep: bool) -> dict[str, float]:
    figures = {}
    server = fresh_server(tree, tmp)
    try:
        figures["Home first render, fresh server (s)"] = home_first_render_s(browser, server.url)
        time.sleep(8)  # let the worker (if warmed) finish importing, as it would while a visitor reads Home
        figures["Explore, 8 s after Home's first view (s)"] = explore_result_s(browser, server.url)[1]
    finally:
        server.stop()
    server = fresh_server(tree, tmp)
    try:
        time.sleep(12)  # the first visitor arrives once a warm-up started with the server would be done
        figures["Home first render, 12 s after the server started (s)"] = home_first_render_s(browser, server.url)
    finally:
        server.stop()
    server = fresh_server(tree, tmp)
    try:
        _, answered, table = explore_result_s(browser, server.url)
        figures["Explore first answer, fresh server (s)"], figures["  its table (s)"] = answered, table
        shell, answered, table = explore_result_s(browser, server.url)
        figures["Explore, same config, new session (s)"], figures["  its table, new session (s)"] = answered, table
        figures["  of which page title shown (s)"] = shell
        figures["Explore, same config, new tab (s)"] = explore_new_tab_s(browser, server.url)
        figures["  an empty Streamlit page, new session (s)"] = empty_page_s(browser, tmp)
        deep_link_floor = empty_page_s(browser, tmp, EMPTY_APP, "/explore")
        figures["  an empty multipage app's /explore, new session (s)"] = deep_link_floor
        figures["Benchmark default: first chart (s)"], figures["Benchmark default: final result (s)"] = benchmark_s(
            browser, server.url
        )
        if sweep:
            figures["5-point sweep: first chart (s)"], figures["5-point sweep: final result (s)"] = sweep_s(
                browser, server.url
            )
    finally:
        server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before_commit")
    parser.add_argument("after_commit", nargs="?", help="default: the working tree")
    parser.add_argument("--repeat", type=int, default=1, help="turns per tree (figures are medians)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the 5-point sweep (about a minute a turn)")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        trees = {"before": (Path(tmp) / "before", args.before_commit)}
        if args.after_commit:
            trees["after"] = (Path(tmp) / "after", args.after_commit)
        for tree, commit in trees.values():
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], check=True, cwd=_common.ROOT)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(args.repeat):
                for name in ("before", "after"):
                    tree = trees[name][0] if name in trees else _common.ROOT
                    runs[name].append(measure_tree(browser, tree, Path(tmp), not args.no_sweep))
        finally:
            browser.close()
            for tree, _ in trees.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], check=True, cwd=_common.ROOT)
    after = args.after_commit or "working tree"
    print(f"CPU: {cpu_name()}; before = {args.before_commit}, after = {after}; {args.repeat} turn(s) each, medians")
    print(f"{'figure':42} {'before':>8} {'after':>8}   {'before range':>13} {'after range':>13}")
    for name in runs["before"][0]:
        before = [run[name] for run in runs["before"]]
        after_values = [run[name] for run in runs["after"]]
        print(
            f"{name:42} {statistics.median(before):8.2f} {statistics.median(after_values):8.2f}   "
            f"{min(before):5.2f}-{max(before):<5.2f}   {min(after_values):5.2f}-{max(after_values):<5.2f}"
        )


if __name__ == "__main__":
    main()
