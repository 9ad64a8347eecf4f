"""`TensorFlowRuntime`: the `Runtime` of Keras on TensorFlow, the backend every measurement uses today."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from pointwise.autotune import onednn_enabled
from pointwise.protocol import CPU_ALLOCATOR_BFC_ENV, ONEDNN_ENV
from pointwise.spec import RunSpec, is_gpu
from pointwise.worker.environment import cpu_model
from pointwise.worker.runtime import input_slabs


class TensorFlowRuntime:
    """Eager, `tf.function` and `tf.function(jit_compile=True)`; GPU sync via `sync_devices`."""

    name = "tensorflow"
    run_errors = (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, tf.errors.UnimplementedError)

    def configure(self, threads: int, inter_threads: int) -> None:
        # Each variant is its own tf.function, which TensorFlow's retracing heuristic warns about; that noise
        # would otherwise be the "last stderr line" quoted in crash messages.
        tf.get_logger().setLevel("ERROR")
        self._chosen_threads = {"intra_op_threads": threads, "inter_op_threads": inter_threads}
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        if inter_threads:
            tf.config.threading.set_inter_op_parallelism_threads(inter_threads)

    def seed(self, seed: int) -> None:
        keras.utils.set_random_seed(seed)

    def devices(self) -> list[dict[str, str]]:
        found = [{"name": "CPU:0", "description": cpu_model()}]
        for index, gpu in enumerate(tf.config.list_physical_devices("GPU")):
            details = tf.config.experimental.get_device_details(gpu)
            found.append({"name": f"GPU:{index}", "description": details.get("device_name", gpu.name)})
        return found

    def prepare(self, spec: RunSpec) -> None:
        if is_gpu(spec.device):
            tf.config.experimental.enable_tensor_float_32_execution(spec.tf32)

    def device_scope(self, device: str):
        return tf.device(device)

    def input_tensor(self, spec: RunSpec) -> tf.Tensor:
        """The slabs of `input_slabs` cast to the run's dtype (a cast is elementwise: the same numbers)."""
        parts = [tf.cast(slab, spec.dtype) for slab in input_slabs(spec)]
        return tf.reshape(tf.concat(parts, axis=0), spec.input_shape)

    def compile(self, fn: Callable, mode: str) -> Callable:
        if mode == "eager":
            return fn
        return tf.function(fn, jit_compile=(mode == "xla"), reduce_retracing=True)

    def step_function(self, layer, mode: str, pass_kind: str) -> Callable:
        """What `step` calls with the input (`pointwise.worker.kernels` profiles it). The backward pass takes
        gradients of sum(output) with respect to the input and every trainable weight, as a training step would;
        the outputs stay on the device."""
        if pass_kind == "forward":
            return self.compile(layer.__call__, mode)

        def forward_backward(inputs):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = tf.reduce_sum(layer(inputs))
            return tape.gradient(loss, [inputs, *layer.trainable_weights])

        return self.compile(forward_backward, mode)

    def step(self, layer, x, mode: str, pass_kind: str) -> Callable[[], object]:
        function = self.step_function(layer, mode, pass_kind)
        return lambda: function(x)

    def sync(self, device: str) -> None:
        # GPUs run asynchronously: wait for queued kernels without copying outputs to the host. CPU kernels
        # complete before returning.
        if is_gpu(device):
            tf.test.experimental.sync_devices()

    def reset_memory(self, device: str) -> None:
        if is_gpu(device):
            tf.config.experimental.reset_memory_stats(device)

    def peak_memory(self, device: str) -> int | None:
        if not is_gpu(device):
            return None
        return int(tf.config.experimental.get_memory_info(device)["peak"])

    def ceiling_steps(self, n: int, elements: int, dtype: str):
        a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), dtype)
        b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), dtype)
        accumulator = tf.Variable(tf.zeros((elements,), dtype=dtype))
        addend = tf.ones((elements,), dtype=dtype)
        return self.compile(lambda: tf.matmul(a, b), "graph"), self.compile(
            lambda: accumulator.assign_add(addend), "graph"
        )

    def card_settings(self, on_gpu: bool) -> dict[str, Any]:
        """Each knob as it was in this process, and why: "default" (TensorFlow's choice) or "chosen"."""
        threading = tf.config.threading
        chosen = getattr(self, "_chosen_threads", {})
        card = {
            "onednn": onednn_enabled(),
            "onednn_why": _why(ONEDNN_ENV in os.environ),
            "cpu_allocator_bfc": os.environ.get(CPU_ALLOCATOR_BFC_ENV, "default"),
            "cpu_allocator_bfc_why": _why(CPU_ALLOCATOR_BFC_ENV in os.environ),
            "tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled()) if on_gpu else None,
        }
        for name, getter in (
            ("intra_op_threads", threading.get_intra_op_parallelism_threads),
            ("inter_op_threads", threading.get_inter_op_parallelism_threads),
        ):
            # 0 means TensorFlow sizes the pool itself (to the cores it sees).
            card[name] = getter() or "TensorFlow's default (0)"
            card[f"{name}_why"] = _why(bool(chosen.get(name)))
        return card


def _why(chosen: bool) -> str:
    return "chosen" if chosen else "TensorFlow's default on this machine"
