"""Server side of the process boundary: TensorFlow jobs run in worker processes, never in this one.

The Streamlit server (and the CLI) call the typed API (`run_check`, `run_benchmark`, ...), which hands a job
to a `WorkerPool`: warm workers per `WorkerKnobs`, one job per device at a time, in arrival order.

    knobs.py    WorkerKnobs: settings TensorFlow reads at import, hence one process per combination
    process.py  WorkerProcess: one `python -m pointwise.worker` subprocess and how it died
    queues.py   DeviceQueue: a device's waiting jobs
    pool.py     WorkerPool: workers, queues, limits (time, memory, cancel)
    api.py      the typed job API and the server's caches (ceilings; checks and benchmarks via cache.py)
    cache.py    ResultCache: a bounded LRU of computed results with when and where they were computed
"""

from pointwise.jobs.api import (
    benchmark_and_cache,
    cached_benchmark,
    check_cached,
    check_in_cache,
    default_pool,
    kernels_cached,
    list_devices,
    run_benchmark,
    run_ceilings,
    run_check,
    run_lesson_forms,
    tune_pointwise,
)
from pointwise.jobs.cache import Computed, ResultCache
from pointwise.jobs.knobs import WorkerKnobs
from pointwise.jobs.pool import EventCallback, WorkerPool

__all__ = [
    "Computed",
    "EventCallback",
    "ResultCache",
    "WorkerKnobs",
    "WorkerPool",
    "benchmark_and_cache",
    "cached_benchmark",
    "check_cached",
    "check_in_cache",
    "default_pool",
    "kernels_cached",
    "list_devices",
    "run_benchmark",
    "run_ceilings",
    "run_check",
    "run_lesson_forms",
    "tune_pointwise",
]
