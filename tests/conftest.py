import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Keep TensorFlow quiet and deterministic in the test process; workers get their own environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


BROWSER_RERUNS = 1
"""A browser test that fails is run once more before it counts (pytest-rerunfailures; the summary lists each
rerun as R). Playwright's own runner does the same in CI: a 2-core machine running a server, TensorFlow workers
and chromium at once now and then drops a click mid-rerun. A real fault fails both runs."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS, reruns_delay=2))


@pytest.fixture
def tmp_db(tmp_path, monkeypatch):
    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("POINTWISE_DB", str(path))
    return path


@pytest.fixture(scope="session")
def pool():
    from pointwise.jobs import WorkerPool

    worker_pool = WorkerPool(job_time_limit_s=300, idle_s=600)
    yield worker_pool
    worker_pool.close()


def benchmark_in_background(pool, spec, start_timeout_s=120, cancel=None):
    """Run a benchmark in a thread; return (thread, box) once its first progress event has arrived.

    `box` receives "result" or "error" when the thread ends; `cancel` is passed to `run_benchmark`.
    """
    import threading

    from pointwise.jobs import run_benchmark

    started = threading.Event()
    box = {}

    def target():
        try:
            box["result"] = run_benchmark(
                spec, pool=pool, cancel=cancel, on_event=lambda e: e.get("event") == "progress" and started.set()
            )
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    assert started.wait(start_timeout_s), "the background benchmark never started"
    return thread, box


def small_spec(**changes):
    from pointwise.spec import make_run_spec

    values = dict(batch=1, height=4, width=5, channels=3, filters=2, samples=3)
    values.update(changes)
    return make_run_spec(**values)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per browser test module."""
    from playwright.sync_api import sync_playwright

    from browser_support import launch

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, server):
    """One wide page for a module whose browser tests follow one another like a person's visit to `server`."""
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    yield page
    page.close()


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """The real app server (`python -m pointwise.ui.serve`) on a fresh database, shared by one browser test module."""
    from browser_support import Server

    streamlit = Server(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "runs.sqlite3")
    yield streamlit
    streamlit.stop()
