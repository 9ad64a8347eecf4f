import pytest

from conftest import benchmark_in_background, small_spec
from pointwise.errors import InvalidSpecError, QueueFullError
from pointwise.jobs import WorkerKnobs, WorkerPool, run_benchmark
from pointwise.limits import DEMO_LIMITS, LOCAL_LIMITS, active_limits
from pointwise.spec import check_live_size, make_run_spec
from pointwise.sweep import plan_grid, sweep_values


def test_local_limits_by_default(monkeypatch):
    monkeypatch.delenv("POINTWISE_DEMO", raising=False)
    assert active_limits() == LOCAL_LIMITS


def test_demo_mode_tightens_every_cap(monkeypatch):
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    assert active_limits() == DEMO_LIMITS
    # The live cap is the same: the default configuration (3.2M elements) must run live in the demo too.
    assert DEMO_LIMITS.live_max_elements <= LOCAL_LIMITS.live_max_elements
    for field in (
        "memory_budget_mb",
        "max_samples",
        "max_sweep_points",
        "job_time_limit_s",
        "max_queued_jobs",
        "worker_idle_s",
    ):
        assert getattr(DEMO_LIMITS, field) < getattr(LOCAL_LIMITS, field), field
    with pytest.raises(InvalidSpecError, match="in demo mode"):
        make_run_spec(samples=100)
    with pytest.raises(InvalidSpecError, match="512 MiB"):
        make_run_spec(batch=64)
    with pytest.raises(InvalidSpecError, match="live run"):
        check_live_size(make_run_spec(batch=4096, height=32, width=32, channels=1, filters=1))
    with pytest.raises(InvalidSpecError, match="at most 12 sweep points"):
        plan_grid(small_spec(), {"channels": sweep_values(1, 64, 4), "filters": sweep_values(1, 64, 4)})
    pool = WorkerPool()
    try:
        assert pool.job_time_limit_s == 60 and pool.max_workers == 1 and pool.max_queued_jobs == 8
    finally:
        pool.close()


def test_single_limit_override_and_bad_override(monkeypatch):
    monkeypatch.setenv("POINTWISE_DEMO", "yes")
    monkeypatch.setenv("POINTWISE_MAX_SAMPLES", "80")
    assert active_limits().max_samples == 80 and make_run_spec(samples=80).samples == 80
    monkeypatch.setenv("POINTWISE_JOB_TIME_LIMIT_S", "soon")
    with pytest.raises(InvalidSpecError) as info:
        active_limits()
    assert info.value.field == "POINTWISE_JOB_TIME_LIMIT_S"


@pytest.mark.slow
def test_full_queue_refuses_politely_and_later_jobs_run():
    pool = WorkerPool(max_queued_jobs=1)
    try:
        pool.warm(WorkerKnobs())
        thread, box = benchmark_in_background(
            pool, small_spec(samples=40, batch=4, height=16, width=16, channels=16, filters=16), 60
        )
        with pytest.raises(QueueFullError, match="try again"):
            run_benchmark(small_spec(), pool=pool)
        thread.join(120)
        assert "result" in box
        assert run_benchmark(small_spec(), pool=pool).measurements
    finally:
        pool.close()
