"""`JaxRuntime`: the `Runtime` of Keras on JAX (`KERAS_BACKEND=jax`, set by the worker's knobs).

JAX has no graph mode: eager runs op by op, and both compiled modes ("graph", "xla") are `jax.jit`, which
compiles the whole call with XLA. A timed step goes through Keras's `stateless_call` with the weights passed in
as arguments, as a JAX training loop would, so they are not baked into the compiled program as constants.
JAX dispatches asynchronously, also on a CPU: a timed CPU call waits for its output (`block_until_ready`), as a
TensorFlow CPU call does, and `sync` blocks on the last output before the clock is read.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from importlib import metadata
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pointwise.spec import RunSpec, is_gpu
from pointwise.worker.environment import cpu_model
from pointwise.worker.runtime import input_slabs

# float64 runs need 64-bit arrays, which JAX turns off by default (it would silently compute in float32).
jax.config.update("jax_enable_x64", True)


class JaxRuntime:
    """Eager or `jax.jit`; sync by `block_until_ready` on the last output."""

    name = "jax"
    run_errors = (jax.errors.JaxRuntimeError, NotImplementedError)

    def __init__(self) -> None:
        self._pending: object = None

    def configure(self, threads: int, inter_threads: int) -> None:
        # The thread knobs are TensorFlow's (`WorkerKnobs` leaves them at 0 for JAX); XLA sizes its own pool.
        self._threads = (threads, inter_threads)

    def seed(self, seed: int) -> None:
        # Not `keras.utils.set_random_seed`, which imports TensorFlow to seed it too. Keras's own unseeded draws
        # stay unseeded, which no measurement depends on: every layer built here has a seed or the baseline's
        # weights (`worker.equivalence`).
        random.seed(seed)
        np.random.seed(seed)

    def devices(self) -> list[dict[str, str]]:
        found = [{"name": "CPU:0", "description": cpu_model()}]
        if os.environ.get("JAX_PLATFORMS") != "cpu":
            found += [
                {"name": f"GPU:{index}", "description": device.device_kind}
                for index, device in enumerate(_devices_or_none("gpu"))
            ]
        return found

    def prepare(self, spec: RunSpec) -> None:
        if is_gpu(spec.device):
            jax.config.update("jax_default_matmul_precision", "tensorfloat32" if spec.tf32 else "float32")

    def device_scope(self, device: str):
        kind, index = device.split(":")
        return jax.default_device(_devices_or_none(kind.lower())[int(index)])

    def input_tensor(self, spec: RunSpec) -> jax.Array:
        """The slabs of `input_slabs` cast to the run's dtype (a cast is elementwise: the same numbers)."""
        parts = [jnp.asarray(slab, dtype=spec.dtype) for slab in input_slabs(spec)]
        return jnp.concatenate(parts, axis=0).reshape(spec.input_shape)

    def compile(self, fn: Callable, mode: str) -> Callable:
        compiled = fn if mode == "eager" else jax.jit(fn)

        def run(*args):
            self._pending = compiled(*args)
            return self._pending

        return run

    def pure_step(self, layer, input_shape, pass_kind: str) -> tuple[Callable, list]:
        """(fn(weights, x), weights): one forward (or forward+backward) call of `layer` as a pure function of its
        trainable weights and the input, through Keras's `stateless_call`, and the weights' current values.

        The backward pass takes gradients of sum(output) with respect to every trainable weight and the input, as
        a training step would. The weights are created here (`build`) if need be."""
        if not layer.built:
            layer.build(input_shape)
        non_trainable = [v.value for v in layer.non_trainable_variables]

        def forward(weights, inputs):
            return layer.stateless_call(weights, non_trainable, inputs)[0]

        fn = forward if pass_kind == "forward" else jax.grad(lambda w, i: jnp.sum(forward(w, i)), argnums=(0, 1))
        return fn, [v.value for v in layer.trainable_variables]

    def step_function(self, layer, mode: str, pass_kind: str) -> Callable:
        """What `step` calls with the input; built on its first call (tracing, compiling and `PointwiseConv2D`'s
        tuning all happen there: the cold start)."""
        state: dict = {}

        def call(x):
            if not state:
                fn, state["weights"] = self.pure_step(layer, x.shape, pass_kind)
                state["compiled"] = fn if mode == "eager" else jax.jit(fn)
            return state["compiled"](state["weights"], x)

        return call

    def step(self, layer, x, mode: str, pass_kind: str) -> Callable[[], object]:
        """One call of `step_function` on `x`, waiting for its output (which stays on the device).

        Each call waits, as a TensorFlow call on a CPU does (its kernels finish before it returns), so that both
        backends are timed alike and a block's calls never overlap; on a GPU, like TensorFlow's, calls queue and
        `sync` waits at the end of the block. On a CPU the output is dropped when the call returns, as TensorFlow's
        is, so that both backends' allocators see the same pattern."""
        function = self.step_function(layer, mode, pass_kind)
        if not self._on_gpu(x):
            return lambda: jax.block_until_ready(function(x))

        def queued():
            self._pending = function(x)  # `sync` waits for the last one queued

        return queued

    @staticmethod
    def _on_gpu(x) -> bool:
        return any(device.platform == "gpu" for device in x.devices())

    def sync(self, device: str) -> None:
        # Outputs of one device complete in the order they were dispatched: the last one stands for all.
        if self._pending is not None:
            jax.block_until_ready(self._pending)
            self._pending = None

    def reset_memory(self, device: str) -> None:
        """JAX cannot reset a device's peak: `peak_memory` reports the process's peak so far on a GPU."""

    def peak_memory(self, device: str) -> int | None:
        if not is_gpu(device):
            return None
        stats = _devices_or_none("gpu")[int(device.split(":")[1])].memory_stats() or {}
        return stats.get("peak_bytes_in_use")

    def ceiling_steps(self, n: int, elements: int, dtype: str):
        a = jax.random.normal(jax.random.key(1), (n, n)).astype(dtype)
        b = jax.random.normal(jax.random.key(3), (n, n)).astype(dtype)
        addend = jnp.ones((elements,), dtype=dtype)
        # Donating the accumulator lets XLA write the sum into its buffer: in place, as TensorFlow's assign_add.
        add_in_place = jax.jit(lambda v, w: v + w, donate_argnums=0)
        accumulator = [jnp.zeros((elements,), dtype=dtype)]

        def update():
            accumulator[0] = add_in_place(accumulator[0], addend)
            return accumulator[0]

        # The operands are arguments, not closed-over constants, which XLA would fold at compile time.
        gemm = self.compile(jnp.matmul, "xla")
        return (lambda: gemm(a, b)), self.compile(update, "eager")

    def card_settings(self, on_gpu: bool) -> dict[str, Any]:
        """XLA's settings: the backend's flags as this process saw them, and that oneDNN is TensorFlow's knob."""
        return {
            "onednn": None,
            "onednn_why": "TensorFlow's setting: not used by JAX",
            "jax_platform": jax.default_backend(),
            "xla_flags": os.environ.get("XLA_FLAGS", "XLA's default"),
            "jaxlib": metadata.version("jaxlib"),
            "intra_op_threads": "XLA's default",
            "intra_op_threads_why": "XLA sizes its own thread pool",
            "tf32": jax.config.jax_default_matmul_precision if on_gpu else None,
        }


def _devices_or_none(kind: str) -> list:
    """JAX's devices of `kind` ("cpu", "gpu"); none where that platform is absent."""
    try:
        return jax.devices(kind)
    except RuntimeError:
        return []
