import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, benchmark_in_background, small_spec
from pointwise.errors import InvalidSpecError, JobCancelledError, JobTimeoutError, WorkerCrashedError
from pointwise.jobs import WorkerKnobs, WorkerPool, list_devices, run_benchmark, run_ceilings, run_check

pytestmark = pytest.mark.slow


def _assert_next_job_works(pool):
    result = run_check(small_spec(variants=["pointwise"]), pool=pool)
    assert result.reports[0].equivalent


def test_protocol_over_pipes():
    env = {**WorkerKnobs().environment()}
    worker = subprocess.Popen(
        [sys.executable, "-m", "pointwise.worker"],
        cwd=ROOT,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert json.loads(worker.stdout.readline())["event"] == "ready"
        worker.stdin.write(json.dumps({"id": "a", "kind": "devices"}) + "\n")
        worker.stdin.write(json.dumps({"id": "b", "kind": "check", "spec": {"batch": 0}}) + "\n")
        worker.stdin.write(json.dumps({"id": "c", "kind": "bench", "spec": small_spec().to_dict()}) + "\n")
        worker.stdin.flush()
        devices = json.loads(worker.stdout.readline())
        assert devices["id"] == "a" and devices["result"][0]["name"] == "CPU:0"
        error = json.loads(worker.stdout.readline())
        assert error == {**error, "id": "b", "event": "error", "error_type": "InvalidSpecError", "field": "batch"}
        events = []
        while not events or events[-1]["event"] != "result":
            events.append(json.loads(worker.stdout.readline()))
        progress = [e for e in events if e["event"] == "progress"]
        assert progress[-1]["done"] == progress[-1]["total"] == 3 * len(small_spec().variants)
        assert events[-1]["result"]["format"] == "pointwise-benchmark"
        assert "statistics" not in events[-1]["result"], "the worker sends raw samples; the server derives statistics"
        assert events[-1]["result"]["ceilings"] is not None, "a bench job without the flag measures the ceilings"
        worker.stdin.close()
        assert worker.wait(timeout=30) == 0, "the worker must exit when its stdin closes"
    finally:
        worker.kill()
        worker.stdout.close()
        worker.wait()


def test_unknown_device_is_a_clear_error(pool):
    with pytest.raises(InvalidSpecError) as info:
        run_check(small_spec(device="GPU:7"), pool=pool)
    assert info.value.field == "device" and "CPU:0" in str(info.value)
    assert list_devices(pool)[0]["name"] == "CPU:0"


def test_warm_worker_is_reused_and_knobs_get_their_own(pool):
    run_check(small_spec(), pool=pool)
    first = set(pool.worker_pids())
    run_check(small_spec(seed=4), pool=pool)
    assert set(pool.worker_pids()) == first
    run_check(small_spec(onednn=True), pool=pool)
    assert len(set(pool.worker_pids()) - first) == 1


def test_worker_killed_mid_job_becomes_an_error_then_next_job_works():
    pool = WorkerPool()
    try:
        thread, box = benchmark_in_background(
            pool, small_spec(batch=8, height=32, width=32, channels=32, filters=32, samples=2000)
        )
        os.kill(pool.worker_pids()[0], signal.SIGKILL)
        thread.join(60)
        assert isinstance(box.get("error"), WorkerCrashedError)
        assert "SIGKILL" in str(box["error"])
        _assert_next_job_works(pool)
    finally:
        pool.close()


def test_job_over_its_time_limit_is_stopped_then_next_job_works():
    pool = WorkerPool()
    try:
        pool.warm(WorkerKnobs())
        start = time.monotonic()
        with pytest.raises(JobTimeoutError, match="time limit"):
            run_benchmark(
                small_spec(batch=8, height=32, width=32, channels=32, filters=32, samples=2000),
                pool=pool,
                time_limit_s=3,
            )
        assert time.monotonic() - start < 20
        assert pool.worker_pids() == []
        _assert_next_job_works(pool)
    finally:
        pool.close()


def test_cancelled_job_kills_worker_then_next_job_works():
    pool = WorkerPool()
    try:
        cancel = threading.Event()
        thread, box = benchmark_in_background(pool, small_spec(samples=2000), cancel=cancel)
        cancel.set()
        thread.join(120)
        assert isinstance(box.get("error"), JobCancelledError)
        assert pool.worker_pids() == []
        _assert_next_job_works(pool)
    finally:
        pool.close()


def test_exception_in_event_callback_kills_job_and_propagates():
    pool = WorkerPool()

    class StopScript(Exception):
        pass

    def on_event(event):
        if event.get("event") == "progress":
            raise StopScript

    try:
        with pytest.raises(StopScript):
            run_benchmark(small_spec(samples=2000), pool=pool, on_event=on_event)
        assert pool.worker_pids() == []
        _assert_next_job_works(pool)
    finally:
        pool.close()


def test_out_of_memory_in_worker_is_an_error_then_next_job_works(monkeypatch):
    monkeypatch.setenv("POINTWISE_MEMORY_BUDGET_MB", "100000")
    pool = WorkerPool(max_rss_bytes=1500 * 2**20)
    try:
        with pytest.raises(WorkerCrashedError, match="out of memory"):
            run_check(small_spec(batch=64, height=128, width=128, channels=128, filters=128), pool=pool)
        _assert_next_job_works(pool)
    finally:
        pool.close()


def test_second_job_on_a_device_waits_and_sees_its_queue_position(pool):
    pool.warm(WorkerKnobs())
    thread, box = benchmark_in_background(
        pool, small_spec(samples=60, batch=4, height=16, width=16, channels=16, filters=16), 60
    )
    events = []
    run_check(small_spec(), pool=pool, on_event=events.append)
    thread.join(120)
    assert "result" in box
    assert {"event": "queued", "position": 1} in events


def test_idle_workers_are_retired():
    pool = WorkerPool(idle_s=1)
    try:
        pool.warm(WorkerKnobs())
        assert len(pool.worker_pids()) == 1
        deadline = time.monotonic() + 10
        while pool.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pool.worker_pids() == []
    finally:
        pool.close()


def test_ceilings_are_positive_and_plausible(pool):
    ceilings = run_ceilings("CPU:0", pool=pool)
    # A 2-core AVX2 CPU: well above 1 GFLOP/s, below 1 TFLOP/s; DRAM between 1 and 500 GB/s.
    assert 1 < ceilings.peak_gflops_per_s < 1000
    assert 1 < ceilings.bandwidth_gb_per_s < 500


def test_a_benchmark_reuses_the_check_the_server_holds_and_checks_after_timing_otherwise(pool, monkeypatch):
    from pointwise.jobs import ResultCache, api, benchmark_and_cache, check_cached
    from pointwise.query import check_spec

    monkeypatch.setattr(api, "result_cache", ResultCache())
    spec = small_spec(variants=["pointwise", "dense"], mode="graph")

    def events_of(run) -> list[dict]:
        events: list[dict] = []
        run(events.append)
        return [e for e in events if e["event"] in ("phase", "progress")]

    unchecked = events_of(lambda on_event: benchmark_and_cache(spec, pool=pool, on_event=on_event))
    phases = [e["text"] for e in unchecked if e["event"] == "phase"]
    assert "Checking every variant against Conv2D 1x1" in phases, "no check held: the worker checks"
    check_at = next(i for i, e in enumerate(unchecked) if e["event"] == "phase" and e["text"].startswith("Checking"))
    assert all(e["event"] == "progress" for e in unchecked[:check_at]), "samples stream before the check"

    held = check_cached(check_spec(spec), pool=pool)  # what Explore computes (eager: no mode was chosen)
    assert held.result.spec.mode == "eager"
    jobs_before = pool.jobs_sent
    reused = events_of(lambda on_event: benchmark_and_cache(spec, pool=pool, on_event=on_event))
    assert pool.jobs_sent == jobs_before + 1, "one bench job, no check job"
    assert not any(e["event"] == "phase" and e["text"].startswith("Checking") for e in reused)
    result = api.cached_benchmark(spec).result
    assert [r.key for r in result.equivalence] == [r.key for r in held.result.reports] == list(spec.variants)
    assert all(r.equivalent and r.diff_map is None for r in result.equivalence)
    assert [m.key for m in result.measurements] == ["conv2d_1x1", "pointwise", "dense"]


def test_a_tune_job_tunes_pointwiseconv2d_once_in_the_worker_that_benchmarks_it(pool):
    from pointwise.autotune import STRATEGIES
    from pointwise.jobs import tune_pointwise

    spec = small_spec(batch=2, height=9, width=7, channels=6, filters=5)
    first = tune_pointwise(spec, pool)
    assert first["strategy"] in STRATEGIES and first["tuning_s"] > 0
    # The worker keeps the tuning: the same one, with its very duration, answers again.
    assert tune_pointwise(spec, pool) == first
    result = run_benchmark(dataclasses.replace(spec, variants=("conv2d_1x1", "pointwise"), samples=3), pool=pool)
    assert {m.key for m in result.measurements} == {"conv2d_1x1", "pointwise"}
    assert tune_pointwise(spec, pool) == first
