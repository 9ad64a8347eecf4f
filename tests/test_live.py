"""The server's result caches (`pointwise.jobs.cache`, `jobs.api`) and the live sample stream (`pointwise.live`)."""

import itertools
import threading
import time

import pytest

from pointwise import protocol
from pointwise.errors import WorkerCrashedError
from pointwise.jobs import Computed, ResultCache, api, cached_benchmark, check_cached, check_in_cache
from pointwise.live import MIN_SAMPLES, REDRAW_S, SampleStream
from pointwise.query import check_spec
from pointwise.spec import make_run_spec
from pointwise.variants import BASELINE_KEY, VARIANTS


def _computed(value, pid=7) -> Computed:
    return Computed(value, computed_at=1_700_000_000.0, worker_pid=pid)


def test_cache_evicts_the_least_recently_used_entry_beyond_its_entry_bound():
    cache = ResultCache(max_entries=2, max_bytes=10_000)
    cache.put("a", _computed(1), 10)
    cache.put("b", _computed(2), 10)
    assert cache.get("a").result == 1  # "a" is now the most recently used
    cache.put("c", _computed(3), 10)
    assert cache.get("b") is None
    assert [cache.get(k).result for k in ("a", "c")] == [1, 3]
    assert len(cache) == 2


def test_cache_keeps_within_its_byte_bound_and_refuses_a_result_larger_than_it():
    cache = ResultCache(max_entries=100, max_bytes=100)
    cache.put("a", _computed(1), 60)
    cache.put("b", _computed(2), 60)
    assert cache.get("a") is None and cache.get("b").result == 2
    assert cache.size_bytes == 60
    cache.put("huge", _computed(3), 101)
    assert cache.get("huge") is None and cache.get("b") is not None
    cache.put("b", _computed(4), 30)  # replacing an entry frees its old size
    assert cache.size_bytes == 30 and cache.get("b").result == 4


def test_cached_answers_say_so_and_keep_when_and_where_they_were_computed():
    cache = ResultCache()
    cache.put(("check", 1), _computed("report", pid=4242), 10)
    hit = cache.get(("check", 1))
    assert hit.cached and hit.worker_pid == 4242 and hit.computed_at == 1_700_000_000.0
    when = time.strftime("%H:%M:%S", time.localtime(1_700_000_000.0))
    assert hit.provenance() == f"computed at {when} on worker pid 4242 (cached)"
    assert "(cached)" not in _computed("x").provenance()


class _CountingPool:
    """Stands in for a `WorkerPool`: answers a check job with a canned result and counts the jobs."""

    def __init__(self, spec) -> None:
        self.jobs = 0
        self.spec = spec

    def run_traced(self, kind, payload, **_):
        self.jobs += 1
        assert kind == protocol.CHECK
        return {"spec": payload["spec"], "diff_channel": payload["diff_channel"], "variants": []}, 1000 + self.jobs


@pytest.fixture
def empty_cache(monkeypatch):
    monkeypatch.setattr(api, "result_cache", ResultCache())


def test_a_check_is_computed_once_per_spec_and_channel_and_rerun_bypasses_the_cache(empty_cache):
    spec = make_run_spec(batch=1, height=4, width=4, channels=3, filters=2)
    pool = _CountingPool(spec)
    first = check_cached(spec, 0, pool=pool)
    again = check_cached(spec, 0, pool=pool)
    assert (first.cached, again.cached, pool.jobs) == (False, True, 1)
    assert again.worker_pid == first.worker_pid == 1001
    check_cached(spec, 1, pool=pool)  # another diff channel is another answer
    check_cached(spec.with_changes(seed=1), 0, pool=pool)  # so is another seed
    assert pool.jobs == 3
    rerun = check_cached(spec, 0, fresh=True, pool=pool)
    assert (rerun.cached, rerun.worker_pid, pool.jobs) == (False, 1004, 4)
    assert check_cached(spec, 0, pool=pool).worker_pid == 1004  # the re-run replaced the cached answer
    assert cached_benchmark(spec) is None  # a check is not a benchmark


def test_the_check_runs_eager_unless_a_mode_other_than_the_default_was_chosen():
    assert check_spec(make_run_spec(mode="graph")).mode == "eager"
    assert check_spec(make_run_spec(mode="xla")).mode == "xla"
    assert check_spec(make_run_spec(mode="eager")).mode == "eager"


def _progress(variant: str, done: int, total: int, per_call_s: float) -> dict:
    return protocol.progress_event("job", variant, done, total, per_call_s)


def test_stream_collects_samples_per_variant_and_builds_a_running_verdict():
    spec = make_run_spec(variants=("dense",), samples=20)
    stream = SampleStream(spec, clock=lambda: 0.0)
    assert list(stream.samples) == [BASELINE_KEY, "dense"]  # the baseline is always timed
    assert not stream.add(protocol.phase_event("job", "Checking"))
    done = 0
    for i in range(10):
        for key, base_s in ((BASELINE_KEY, 1e-3), ("dense", 2e-3)):
            done += 1
            assert stream.add(_progress(key, done, 40, base_s * (1 + 0.01 * (i % 3))))
    assert stream.count == 20 and stream.total == 40
    frame, verdicts, title = stream.running_view()
    assert title == "Verdict (running, 20 of 40 samples)"
    assert len(frame) == 20 and set(frame["key"]) == {BASELINE_KEY, "dense"}
    [(label, verdict)] = verdicts
    assert label == VARIANTS["dense"].label and verdict.startswith("0.5") and "slower" in verdict


def test_redraws_wait_for_every_variant_and_come_at_most_every_half_second():
    now = [0.0]
    stream = SampleStream(make_run_spec(variants=("dense",)), clock=lambda: now[0])
    for i in range(MIN_SAMPLES):
        stream.add(_progress(BASELINE_KEY, i + 1, 60, 1e-3))
    assert not stream.redraw_due()  # no Dense sample yet: nothing to compare
    for i in range(MIN_SAMPLES):
        stream.add(_progress("dense", MIN_SAMPLES + i + 1, 60, 1e-3))
    assert stream.redraw_due()
    now[0] += REDRAW_S / 2
    assert not stream.redraw_due()
    now[0] += REDRAW_S
    assert stream.redraw_due()


def test_a_held_check_answers_without_a_job_and_a_benchmark_finds_explores_check(empty_cache):
    spec = make_run_spec(batch=1, height=4, width=4, channels=3, filters=2, mode="graph")
    pool = _CountingPool(spec)
    assert check_in_cache(check_spec(spec)) is None and api.cached_check(spec) is None
    computed = check_cached(check_spec(spec), 0, pool=pool)  # what Explore runs: eager, no mode was chosen
    hit = check_in_cache(check_spec(spec))
    assert (hit.cached, hit.worker_pid, pool.jobs) == (True, computed.worker_pid, 1)
    assert api.cached_check(spec).worker_pid == computed.worker_pid  # the graph-mode benchmark reuses it
    assert api.cached_check(spec.with_changes(mode="xla")) is None  # a chosen mode is checked in that mode
    assert check_in_cache(check_spec(spec), 1) is None and pool.jobs == 1  # another channel is another answer


class _SlowPool(_CountingPool):
    """A check job that takes `seconds`, and fails first if `fail_first`: for callers asking at the same time."""

    def __init__(self, spec, seconds: float, fail_first: bool = False) -> None:
        super().__init__(spec)
        self.seconds, self.fail_first = seconds, fail_first

    def run_traced(self, kind, payload, **kwargs):
        time.sleep(self.seconds)
        if self.fail_first and self.jobs == 0:
            self.jobs += 1
            raise WorkerCrashedError("the first job's worker died")
        return super().run_traced(kind, payload, **kwargs)


def _ask_at_once(spec, pool, callers: int = 3) -> list:
    answers: list = [None] * callers
    waits = [0] * callers

    def ask(index: int) -> None:
        def on_event(event):
            waits[index] += event["event"] == protocol.QUEUED

        try:
            answers[index] = check_cached(spec, 0, pool=pool, on_event=on_event)
        except WorkerCrashedError as exc:
            answers[index] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # the first caller's job is under way when the others ask
    for thread in threads:
        thread.join(timeout=30)
    return answers, waits


def test_callers_asking_for_a_check_being_computed_wait_for_it_instead_of_queueing_it_again(empty_cache):
    spec = make_run_spec(batch=1, height=4, width=4, channels=3, filters=2)
    pool = _SlowPool(spec, seconds=1.2)
    answers, waits = _ask_at_once(spec, pool)
    assert pool.jobs == 1
    assert [a.cached for a in answers] == [False, True, True] and {a.worker_pid for a in answers} == {1001}
    assert waits[1] >= 1 and waits[2] >= 1, "a waiting caller is told it waits (and could cancel there)"


def test_when_the_computation_waited_for_fails_a_waiting_caller_computes(empty_cache):
    spec = make_run_spec(batch=1, height=4, width=4, channels=3, filters=2)
    pool = _SlowPool(spec, seconds=0.5, fail_first=True)
    answers, _ = _ask_at_once(spec, pool, callers=2)
    assert isinstance(answers[0], WorkerCrashedError)
    assert answers[1].worker_pid == 1002 and pool.jobs == 2
    assert check_in_cache(spec).worker_pid == 1002


class _WarmUpPool:
    """Answers the warm-up's check and ceilings jobs, recording their kinds."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def run_traced(self, kind, payload, **_):
        self.kinds.append(kind)
        return {"spec": payload["spec"], "diff_channel": payload["diff_channel"], "variants": []}, 77

    def run(self, kind, payload, **_):
        self.kinds.append(kind)
        if kind == protocol.TUNE:
            return {"strategy": "gemm"}
        values = dict(peak_gflops_per_s=100.0, bandwidth_gb_per_s=10.0, gemm_size=512, stream_bytes=2**26)
        return {"device": payload["device"], "dtype": payload["dtype"], **values}


def test_the_warm_up_checks_the_default_configuration_so_explore_answers_it_from_the_cache(empty_cache, monkeypatch):
    from pointwise.query import default_config, spec_values
    from pointwise.ui.session import PageActivity, answer_the_default

    monkeypatch.setattr(api, "_ceilings", {})  # this test's made-up ceilings must not reach later benchmarks
    pool = _WarmUpPool()
    answer_the_default(pool, activity=PageActivity(clock=itertools.count(0, 10).__next__))  # a quiet server
    assert pool.kinds == [protocol.CHECK, protocol.TUNE, protocol.CEILINGS]
    sidebar_default = make_run_spec(**spec_values(default_config()))  # what Explore checks on a first visit
    assert check_in_cache(check_spec(sidebar_default)).worker_pid == 77


class _FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_warm_ups_measurements_wait_for_a_quiet_moment():
    from pointwise.ui.session import PageActivity

    fake = _FakeTime()
    activity = PageActivity(fake.clock, fake.sleep)  # a page was drawn at 0 s
    fake.now = 0.5
    assert activity.wait_for_quiet(quiet_s=2.0, limit_s=60.0)
    assert fake.now == 2.0  # 2 s after the page, not sooner
    assert activity.wait_for_quiet(quiet_s=2.0, limit_s=60.0) and fake.now == 2.0  # still quiet: no wait


def test_on_a_server_never_quiet_the_warm_up_checks_and_leaves_the_measurements_to_the_benchmark(
    empty_cache, monkeypatch
):
    from pointwise.ui.session import QUIET_WAIT_LIMIT_S, PageActivity, answer_the_default

    monkeypatch.setattr(api, "_ceilings", {})
    fake = _FakeTime()
    activity = PageActivity(fake.clock, lambda seconds: (fake.sleep(seconds), activity.note()))  # a visitor clicks on
    pool = _WarmUpPool()
    answer_the_default(pool, activity=activity)
    assert pool.kinds == [protocol.CHECK]  # no tuning or ceilings measured while pages were being drawn
    assert fake.now <= 2 * QUIET_WAIT_LIMIT_S  # it gave up, and did not wait for ever
