"""The Runtime interface: what the timer, the equivalence check and the handlers need from a backend.

Everything backend-specific that a measurement depends on goes through one `Runtime`: building the input
tensor, the compile-mode rule (eager, graph, XLA), one timed step (forward, or forward+backward), the device
synchronisation before reading the clock, device memory statistics, and the settings shown on the environment
card. A second backend (Keras on JAX, say) is one module under `pointwise/worker/` implementing `Runtime`, plus
an entry in `RUNTIMES`. The registry holds factories that import their module on first use, so choosing one
backend never imports another.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from pointwise.backends import BACKEND_ENV
from pointwise.spec import RunSpec

SLAB_ELEMENTS = 2**18
"""Inputs are drawn, and outputs compared, in slabs of about this many elements (2 MiB in float64): small next
to any tensor worth budgeting, large enough that the per-slab Python overhead is negligible."""


class Runtime(Protocol):
    """One backend's way to run a layer. Methods take canonical device names (`CPU:0`, `GPU:n`)."""

    name: str
    run_errors: tuple[type[BaseException], ...]
    """Errors meaning "this backend cannot run that layer here" (e.g. no bfloat16 kernel): reported, not raised."""

    def configure(self, threads: int, inter_threads: int) -> None:
        """Process-wide settings read once, before the first job (thread counts 0: the backend's default)."""

    def devices(self) -> list[dict[str, str]]:
        """[{"name": "CPU:0", "description": ...}, {"name": "GPU:0", ...}, ...] as this backend sees them."""

    def seed(self, seed: int) -> None:
        """Seed every random generator a layer's unseeded initializers may draw from."""

    def prepare(self, spec: RunSpec) -> None:
        """Per-run settings (TensorFloat-32 on GPUs)."""

    def device_scope(self, device: str) -> AbstractContextManager:
        """Place the tensors and layers built inside on `device`."""

    def input_tensor(self, spec: RunSpec) -> Any:
        """`make_input(spec)` in the run's dtype, on the current device."""

    def compile(self, fn: Callable, mode: str) -> Callable:
        """`fn` as it runs in `mode`: eager (itself), graph, or XLA. The one place for the compile-mode rule."""

    def step(self, layer, x, mode: str, pass_kind: str) -> Callable[[], object]:
        """A zero-argument callable: one forward (or forward+backward) call of `layer` on `x`, compiled for `mode`."""

    def sync(self, device: str) -> None:
        """Wait until the work queued on `device` has finished (before reading the clock)."""

    def reset_memory(self, device: str) -> None:
        """Start a new peak for `peak_memory`."""

    def peak_memory(self, device: str) -> int | None:
        """Peak device memory in bytes since `reset_memory`; None where the backend does not track it (CPU)."""

    def card_settings(self, on_gpu: bool) -> dict[str, Any]:
        """The environment card's backend settings (oneDNN, TF32, thread pools)."""

    def ceiling_steps(self, n: int, elements: int, dtype: str) -> tuple[Callable[[], object], Callable[[], object]]:
        """Two compiled zero-argument calls for the roofline (`worker.ceilings`): an (n, n) @ (n, n) GEMM, and an
        in-place `v += w` over two arrays of `elements`. Built inside `device_scope`."""


def make_input(spec: RunSpec) -> np.ndarray:
    """The standard-normal input of `spec`, reproducible from its seed, in float64."""
    return np.random.default_rng(spec.seed).standard_normal(spec.input_shape)


def input_slabs(spec: RunSpec) -> Iterator[np.ndarray]:
    """`make_input(spec)` as (rows, W, C) float64 slabs of about `SLAB_ELEMENTS`, rows of the (B*H, W, C) view.

    The same numbers: the generator's stream does not depend on how the draws are split. A runtime casts each
    slab and joins them, so the full float64 array never exists (it held ~14x the input's size in float32 at
    peak, with the backend's copy and the cast result).
    """
    rng = np.random.default_rng(spec.seed)
    rows = spec.batch * spec.height
    step = max(1, SLAB_ELEMENTS // (spec.width * spec.channels))
    for start in range(0, rows, step):
        yield rng.standard_normal((min(step, rows - start), spec.width, spec.channels))


RUNTIMES: dict[str, str] = {
    "tensorflow": "pointwise.worker.tensorflow_runtime:TensorFlowRuntime",
    "jax": "pointwise.worker.jax_runtime:JaxRuntime",
}
"""Runtime name (the Keras backend, `pointwise.backends.BACKENDS`) -> "module:class", imported on first use."""
DEFAULT_RUNTIME = "tensorflow"


def load_runtime(name: str) -> Runtime:
    """A new instance of the registered runtime `name`; raises KeyError naming the known ones."""
    try:
        module_name, class_name = RUNTIMES[name].split(":")
    except KeyError:
        raise KeyError(f"Unknown runtime {name!r}. Known runtimes: {', '.join(RUNTIMES)}.") from None
    return getattr(importlib.import_module(module_name), class_name)()


@functools.cache
def default_runtime() -> Runtime:
    """The worker's runtime, the one of the Keras backend its environment names (`KERAS_BACKEND`, which Keras
    itself reads at import): one instance per process, shared by every job."""
    return load_runtime(os.environ.get(BACKEND_ENV, DEFAULT_RUNTIME))
