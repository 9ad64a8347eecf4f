"""The README's app command, `python -m pointwise.ui.serve`: Streamlit's server, with the default worker warming up
from the moment the server starts (before any visitor), without Streamlit's "restart" warning."""

from __future__ import annotations

import time

import psutil

from pointwise.ui import serve

WORKER_START_LIMIT_S = 30


def _is_worker(process: psutil.Process) -> bool:
    try:
        return "pointwise.worker" in " ".join(process.cmdline())
    except psutil.NoSuchProcess:  # a child that ended between the listing and the look
        return False


def test_the_warm_up_waits_for_streamlits_configuration_then_reads_the_demo_secret_then_warms(monkeypatch):
    runtime_checks, calls = iter([False, False, False, True]), []
    monkeypatch.setattr(serve.Runtime, "exists", classmethod(lambda cls: next(runtime_checks)))
    monkeypatch.setattr(serve, "apply_demo_secret", lambda: calls.append("demo secret"))
    monkeypatch.setattr(serve, "warm_default_worker", lambda at_once: calls.append(f"warm, at once: {at_once}"))
    serve.warm_once_streamlit_is_up(poll_s=0.0)
    assert calls == ["demo secret", "warm, at once: True"]
    assert next(runtime_checks, "used up") == "used up"  # it polled until the Runtime existed, not fewer times


def test_the_server_starts_the_default_worker_before_any_visitor(tmp_path):
    from browser_support import Server  # a real server, as the README runs it; no browser opens a page

    server = Server(tmp_path / "runs.sqlite3")
    try:
        deadline, workers = time.monotonic() + WORKER_START_LIMIT_S, []
        while not workers and time.monotonic() < deadline:
            workers = [p for p in psutil.Process(server.process.pid).children(recursive=True) if _is_worker(p)]
            time.sleep(0.2)
        assert workers, f"no worker {WORKER_START_LIMIT_S} s after the server started; log: {server.log_path}"
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "You can now view your Streamlit app" in log
    assert "restart streamlit" not in log, log  # the warm-up read no setting before Streamlit applied its own
