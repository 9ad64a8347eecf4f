"""Faults around stored runs: disk full, database deleted under a running app, kill -9 during saves."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from pointwise.errors import StoreError
from pointwise.store import RunStore
from test_stats import _result

SAVE_LOOP = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from pointwise.store import RunStore
from test_stats import _result
store = RunStore({db!r})
result = _result({{"conv2d_1x1": [1e-3] * 2000, "dense": [2e-3] * 2000}})
print("ready", flush=True)
while True:
    store.save(result)
"""


def test_kill_9_during_saves_loses_no_committed_run(tmp_path):
    db = tmp_path / "runs.sqlite3"
    store = RunStore(db)
    kept = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="before")
    code = SAVE_LOOP.format(root=str(ROOT), tests=str(ROOT / "tests"), db=str(db))
    saver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(1.5)
        os.kill(saver.pid, signal.SIGKILL)
    finally:
        saver.wait()
        saver.stdout.close()
    runs = store.list_runs()
    assert len(runs) > 2, "the saver should have committed several runs before the kill"
    assert store.load(kept).label == "before"
    for run_id in runs["id"]:
        assert len(store.load(int(run_id)).measurements) in (1, 2)
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


FULL_DISK = """
import resource, signal, sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from pointwise.errors import StoreError
from pointwise.store import RunStore
from test_stats import _result
# Writes past RLIMIT_FSIZE fail with EFBIG instead of killing the process: the disk is "full".
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
try:
    RunStore({db!r}).save(_result({{"conv2d_1x1": [1e-3] * 200000}}))
except StoreError as exc:
    print("StoreError:", exc)
"""


def test_disk_full_gives_a_clear_error_and_keeps_saved_runs(tmp_path):
    db = tmp_path / "runs.sqlite3"
    store = RunStore(db)
    kept = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="kept")
    limit = os.path.getsize(db) + 64 * 1024
    code = FULL_DISK.format(root=str(ROOT), tests=str(ROOT / "tests"), db=str(db), limit=limit)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "StoreError:" in done.stdout and "Saved runs were not changed" in done.stdout, done.stdout + done.stderr
    assert store.count() == 1 and store.load(kept).label == "kept"


def test_store_errors_log_the_database_path_but_do_not_show_it(tmp_path, caplog):
    # The app shows StoreError messages to every visitor; the server's file layout belongs in its log only.
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError) as caught:
        RunStore(blocker / "runs.sqlite3").save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}))
    assert str(tmp_path) not in str(caught.value) and str(blocker) in caplog.text


@pytest.mark.slow
def test_database_deleted_while_the_app_runs(tmp_db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for key, value in {
        "batch": "1",
        "height": "2",
        "width": "2",
        "channels": "2",
        "filters": "2",
        "samples": "3",
    }.items():
        at.query_params[key] = value
    at.switch_page("pages/benchmark.py")
    at.run()
    next(b for b in at.button if b.label == "Run benchmark").click()
    at.run()
    assert RunStore().count() == 1
    for suffix in ("", "-wal", "-shm"):
        path = tmp_db.with_name(tmp_db.name + suffix)
        if path.exists():
            path.unlink()
    at.switch_page("pages/history.py")
    at.run()
    assert not at.exception and any("No stored runs yet" in i.value for i in at.info)
    at.switch_page("pages/benchmark.py")
    at.run()
    next(b for b in at.button if b.label == "Run benchmark").click()
    at.run()
    assert not at.exception and RunStore().count() == 1
    at.switch_page("pages/home.py")
    at.run()
    assert not at.exception and not at.error


def test_export_of_a_run_imports_back_unchanged(tmp_db):
    store = RunStore()
    run_id = store.save(_result({"conv2d_1x1": [1e-3, 2e-3, 3e-3]}), label="round trip")
    exported = json.loads(store.export_json([run_id]))
    other = RunStore(tmp_db.with_name("other.sqlite3"))
    (new_id,) = other.import_json(json.dumps(exported)).added
    assert other.load(new_id).measurements == store.load(run_id).measurements
