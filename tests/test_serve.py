"""The README's app command, `python -m pointwise.ui.serve`: Streamlit's server (an `st.App`), with the default worker
warming up from the moment the server starts, giving way while a page that runs no job loads."""

from __future__ import annotations

import asyncio
import time
import urllib.request

import click
import psutil
import pytest

from pointwise.jobs import WorkerKnobs
from pointwise.jobs import process as worker_process
from pointwise.jobs.process import WorkerProcess
from pointwise.ui import serve

WORKER_START_LIMIT_S = 30
PAGES = {"": False, "explore": True, "history": False}


def test_streamlit_options_are_parsed_by_streamlits_own_definitions():
    config = serve.streamlit_config(["--server.port=8123", "--server.headless=true", "--theme.base", "dark"])
    assert config == {"server.port": 8123, "server.headless": True, "theme.base": "dark"}
    with pytest.raises(click.BadParameter, match="abc"):
        serve.streamlit_config(["--server.port=abc"])
    with pytest.raises(click.NoSuchOption):
        serve.streamlit_config(["--server.bogus=1"])


class RecordingPool:
    def __init__(self):
        self.calls = []

    def pause_starting_workers(self, seconds):
        self.calls.append(("pause", seconds))

    def resume_starting_workers(self):
        self.calls.append(("resume",))


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"type": "http", "method": "GET", "path": "/"}, [("pause", serve.PAGE_LOAD_S)]),
        ({"type": "http", "method": "GET", "path": "/history"}, [("pause", serve.PAGE_LOAD_S)]),
        ({"type": "http", "method": "GET", "path": "/explore"}, [("resume",)]),
        ({"type": "http", "method": "GET", "path": "/base/explore/"}, [("resume",)]),  # behind server.baseUrlPath
        ({"type": "http", "method": "GET", "path": "/static/js/index.js"}, []),
        ({"type": "http", "method": "GET", "path": "/_stcore/health"}, []),
        ({"type": "http", "method": "POST", "path": "/"}, []),
        ({"type": "websocket", "path": "/_stcore/stream"}, []),
    ],
)
def test_a_page_request_pauses_or_resumes_the_starting_worker_and_other_requests_do_neither(
    monkeypatch, scope, expected
):
    pool, passed_on = RecordingPool(), []
    monkeypatch.setattr(serve, "default_pool", lambda: pool)

    async def downstream(scope, receive, send):
        passed_on.append(scope["path"])

    asyncio.run(serve.GiveWayToPageLoads(downstream, pages=PAGES)(scope, None, None))
    assert pool.calls == expected
    assert passed_on == [scope["path"]]  # every request still reaches Streamlit


def _stopped(process: psutil.Process, within_s: float = 1.0) -> bool:
    """Whether the process is stopped, allowing the kernel `within_s` to deliver a stop or continue signal (it
    acts when the process is next scheduled, not when `kill` returns). Returns as soon as a stop is seen."""
    deadline = time.monotonic() + within_s
    while process.status() != psutil.STATUS_STOPPED and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.status() == psutil.STATUS_STOPPED


def _running(process: psutil.Process, within_s: float = 1.0) -> bool:
    deadline = time.monotonic() + within_s
    while process.status() == psutil.STATUS_STOPPED and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.status() != psutil.STATUS_STOPPED


def test_a_starting_worker_is_paused_for_the_time_asked_and_never_longer_than_its_budget(monkeypatch):
    monkeypatch.setattr(worker_process, "MAX_PAUSE_S", 1.0)
    worker = WorkerProcess(WorkerKnobs())  # a real worker, importing TensorFlow
    process = psutil.Process(worker.pid)
    try:
        worker.pause_for(0.4)
        assert _stopped(process, within_s=0.3)
        time.sleep(0.8)
        assert _running(process)
        worker.pause_for(30)  # 0.6 s of the budget are left
        assert _stopped(process, within_s=0.3)
        time.sleep(1.0)
        assert _running(process)
        worker.pause_for(30)  # budget used up: not paused at all
        assert not _stopped(process, within_s=0.3)
    finally:
        worker.kill()


def _workers(server) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "pointwise.worker" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:  # a child that ended between the listing and the look
            pass
    return found


def _first_worker(server) -> psutil.Process:
    """The server's one worker, waited for (no browser has opened a page: the server started it)."""
    deadline, workers = time.monotonic() + WORKER_START_LIMIT_S, []
    while not workers and time.monotonic() < deadline:
        workers = _workers(server)
        time.sleep(0.1)
    assert len(workers) == 1, f"workers {WORKER_START_LIMIT_S} s after the start: {workers}; log: {server.log_path}"
    return workers[0]


def test_the_server_starts_the_worker_before_any_visitor_and_a_home_load_pauses_it_until_explore(tmp_path):
    from browser_support import Server  # a real server, as the README runs it; pages are fetched, not rendered

    server = Server(tmp_path / "runs.sqlite3")
    try:
        worker = _first_worker(server)
        urllib.request.urlopen(f"{server.url}/", timeout=10).read()  # Home: the import gives way
        assert _stopped(worker)
        urllib.request.urlopen(f"{server.url}/explore", timeout=10).read()  # Explore runs a check: resume
        assert _running(worker)
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "You can now view your Streamlit app" in log
    assert "restart streamlit" not in log, log  # the warm-up read no setting before Streamlit applied its own


def test_a_demo_set_in_streamlits_secrets_reaches_the_worker_the_server_starts(tmp_path, monkeypatch):
    from browser_support import Server

    monkeypatch.delenv("POINTWISE_DEMO", raising=False)  # only the secret may set it
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('POINTWISE_DEMO = "1"\n')
    server = Server(tmp_path / "runs.sqlite3", options=[f"--secrets.files={secrets}"])
    try:
        assert _first_worker(server).environ().get("POINTWISE_DEMO") == "1"  # mirrored before the warm-up started it
    finally:
        server.stop()
    assert "restart streamlit" not in server.log_path.read_text()
