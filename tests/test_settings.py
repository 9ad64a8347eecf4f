import errno
import math
import os
import tempfile
import time

import pytest

from pointwise.errors import InvalidSpecError, WorkerCrashedError
from pointwise.limits import (
    DEMO_LIMITS,
    LIMIT_RANGES,
    LOCAL_LIMITS,
    MIN_WORKER_MAX_RSS_MB,
    WORKER_MAX_RSS_ENV,
    Limits,
    check_settings,
    env_name,
)
from pointwise.spec import check_live_size, make_run_spec

FIELDS = list(Limits.__dataclass_fields__)


def test_every_limit_has_a_finite_range_holding_both_presets():
    assert set(LIMIT_RANGES) == set(FIELDS)
    for name, (low, high) in LIMIT_RANGES.items():
        assert math.isfinite(low) and math.isfinite(high) and 0 < low < high, name
        assert low <= getattr(LOCAL_LIMITS, name) <= high and low <= getattr(DEMO_LIMITS, name) <= high, name


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "-1", "0", "1e99", "٣", "soon"])
def test_bad_numeric_setting_is_refused_naming_variable_value_and_range(monkeypatch, name, raw):
    monkeypatch.setenv(env_name(name), raw)
    with pytest.raises(InvalidSpecError) as info:
        check_settings()
    low, high = LIMIT_RANGES[name]
    assert info.value.field == env_name(name) and info.value.value == raw
    assert f"[{low:,}, {high:,}]" in str(info.value)


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "600", str(MIN_WORKER_MAX_RSS_MB - 1)])
def test_worker_memory_cap_below_tensorflows_footprint_or_not_finite_is_refused(monkeypatch, raw):
    monkeypatch.setenv(WORKER_MAX_RSS_ENV, raw)
    with pytest.raises(InvalidSpecError, match=f"{WORKER_MAX_RSS_ENV}.*1,024"):
        check_settings()


def test_valid_settings_pass(monkeypatch):
    monkeypatch.setenv(WORKER_MAX_RSS_ENV, "2048")
    monkeypatch.setenv("POINTWISE_JOB_TIME_LIMIT_S", "90.5")
    monkeypatch.setenv("POINTWISE_DEMO", "off")
    check_settings()


def test_unknown_demo_word_is_refused(monkeypatch):
    monkeypatch.setenv("POINTWISE_DEMO", "maybe")
    with pytest.raises(InvalidSpecError, match="POINTWISE_DEMO"):
        check_settings()


def test_default_configuration_passes_every_demo_cap(monkeypatch):
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    spec = make_run_spec()
    check_live_size(spec)
    assert spec.samples <= DEMO_LIMITS.max_samples


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), -1.0, 0.0])
def test_pool_refuses_a_time_limit_that_is_not_a_finite_positive_number(limit):
    from pointwise.jobs import WorkerKnobs, WorkerPool

    pool = WorkerPool()
    try:
        with pytest.raises(InvalidSpecError, match="time_limit_s"):
            pool.run("devices", {}, device="CPU:0", knobs=WorkerKnobs(), time_limit_s=limit)
        assert pool.worker_pids() == []
    finally:
        pool.close()


@pytest.mark.slow
def test_full_temp_directory_still_gives_clear_worker_errors(monkeypatch):
    from pointwise.jobs import WorkerKnobs, WorkerPool, run_check
    from pointwise.jobs.process import WorkerProcess as _Worker

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    pool = WorkerPool()
    try:
        # An error inside the worker reaches the caller with its message, the value quoted once.
        with pytest.raises(InvalidSpecError) as info:
            run_check(make_run_spec(batch=1, height=2, width=2, channels=2, filters=2, device="GPU:3"), pool=pool)
        assert "Received device='GPU:3'." in str(info.value)
    finally:
        pool.close()
    worker = _Worker(WorkerKnobs())
    try:
        # A line that is not JSON fails outside any job: the worker exits with status 1.
        worker.process.stdin.write("{not json\n")
        worker.process.stdin.flush()
        worker.process.wait(120)
        reason = worker.death_reason()
    finally:
        worker.kill()
    assert "exited with status 1" in reason and "not captured" in reason and "No space left on device" in reason


@pytest.mark.slow
def test_demo_worker_is_stopped_at_its_idle_footprint_plus_the_budget(monkeypatch):
    from pointwise.jobs import WorkerPool, run_check

    monkeypatch.setenv("POINTWISE_DEMO", "1")
    monkeypatch.setenv("POINTWISE_MEMORY_BUDGET_MB", "128")
    pool = WorkerPool()
    # A run the estimate would refuse, let through as if the estimate had missed it.
    monkeypatch.setenv("POINTWISE_MEMORY_BUDGET_MB", "16384")
    spec = make_run_spec(batch=2, height=512, width=512, channels=64, filters=64, variants=["conv2d_1x1"])
    try:
        start = time.monotonic()
        with pytest.raises(WorkerCrashedError, match="demo memory budget of 128 MiB") as info:
            run_check(spec, pool=pool)
        assert "POINTWISE_MEMORY_BUDGET_MB" in str(info.value) and time.monotonic() - start < 120
    finally:
        pool.close()
