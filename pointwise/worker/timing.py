"""The timer: cold start, warm-up, calibrated blocks, interleaved rounds. Runs inside the worker.

Design choices (after torch.utils.benchmark):
- A sample times a block of back-to-back calls, sized so the block lasts at least `TARGET_BLOCK_S`; the
  clock's resolution (~100 ns) and the device sync are then <0.1% of a sample, while blocks stay short
  enough that a burst of machine noise spoils one sample, not the run.
- Variants are interleaved: each round runs every variant once, in a freshly shuffled order, so slow drift
  in the machine's speed (thermal, other tenants) is spread over all variants instead of biasing one.
- GPUs run asynchronously: the clock is read only after the runtime's `sync` (for TensorFlow,
  `tf.test.experimental.sync_devices()`, which waits for queued kernels without copying outputs to the
  host). CPU kernels complete before returning.
"""

from __future__ import annotations

import functools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from pointwise.layers import make_layer
from pointwise.results import Measurement
from pointwise.spec import RunSpec
from pointwise.worker.runtime import Runtime, default_runtime

TARGET_BLOCK_S = 0.01
MAX_CALLS_PER_BLOCK = 10_000
WARMUP_S = 0.05
"""Warm-up after the cold call: long enough for caches, thread pools and autotuning to settle."""

ProgressCallback = Callable[[str, int, int, float], None]
"""(variant key, samples done, samples in all, this sample's seconds per call)."""


@dataclass
class _Timed:
    key: str
    step: Callable[[], object]
    calls_per_block: int = 1
    cold_start_s: float = 0.0
    peak_memory_bytes: int | None = None


def measure(
    spec: RunSpec, keys: tuple[str, ...], progress: ProgressCallback | None = None, runtime: Runtime | None = None
) -> list[Measurement]:
    """Time every variant in `keys` on `spec`; returns one `Measurement` per key, in order."""
    runtime = runtime or default_runtime()
    sync = functools.partial(runtime.sync, spec.device)
    runtime.seed(spec.seed)
    with runtime.device_scope(spec.device):
        x = runtime.input_tensor(spec)
        timed = [_prepare(runtime, spec, key, x, sync) for key in keys]
        samples = _interleaved_rounds(spec, timed, sync, progress)
    return [
        Measurement(
            key=t.key,
            per_call_s=tuple(samples[t.key]),
            calls_per_block=t.calls_per_block,
            cold_start_s=t.cold_start_s,
            peak_memory_bytes=t.peak_memory_bytes,
        )
        for t in timed
    ]


def _prepare(runtime: Runtime, spec: RunSpec, key: str, x, sync: Callable[[], None]) -> _Timed:
    """Build variant `key`, time its cold call, warm it up and size its blocks; its peak memory on a GPU."""
    layer = make_layer(key, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
    runtime.reset_memory(spec.device)
    entry = _Timed(key, runtime.step(layer, x, spec.mode, spec.pass_kind))
    start = time.perf_counter()
    entry.step()
    sync()
    entry.cold_start_s = time.perf_counter() - start
    entry.calls_per_block = _calibrate(entry.step, sync)
    entry.peak_memory_bytes = runtime.peak_memory(spec.device)
    return entry


def _interleaved_rounds(
    spec: RunSpec, timed: list[_Timed], sync: Callable[[], None], progress: ProgressCallback | None
) -> dict[str, list[float]]:
    """`spec.samples` rounds, each timing every variant once in a freshly shuffled (seeded) order."""
    samples: dict[str, list[float]] = {t.key: [] for t in timed}
    order = random.Random(spec.seed)
    total = spec.samples * len(timed)
    done = 0
    for _ in range(spec.samples):
        round_order = list(timed)
        order.shuffle(round_order)
        for entry in round_order:
            sample_s = _time_block(entry.step, entry.calls_per_block, sync)
            samples[entry.key].append(sample_s)
            done += 1
            if progress:
                progress(entry.key, done, total, sample_s)
    return samples


def _time_block(step: Callable[[], object], calls: int, sync: Callable[[], None]) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        step()
    sync()
    return (time.perf_counter() - start) / calls


def _calibrate(step: Callable[[], object], sync: Callable[[], None]) -> int:
    """Warm up for `WARMUP_S`, then pick the number of calls that makes a block last `TARGET_BLOCK_S`."""
    deadline = time.perf_counter() + WARMUP_S
    calls = 0
    start = time.perf_counter()
    while True:
        step()
        calls += 1
        if time.perf_counter() >= deadline:
            break
    sync()
    per_call = max((time.perf_counter() - start) / calls, 1e-9)
    return max(1, min(MAX_CALLS_PER_BLOCK, math.ceil(TARGET_BLOCK_S / per_call)))
