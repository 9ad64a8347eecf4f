"""`PointwiseConv2D`'s kernels on JAX, written with `keras.ops`, and the timer that chooses them.

The same design as `pointwise.autotune` (TensorFlow's): three forward kernels (`gemm`: one 2-D matmul over all
B*H*W pixels plus bias; `conv`: a 1x1 `ops.conv`, Conv2D's kernel; `batched`: a broadcast matmul, Dense's),
each kernel's own gradient (what JAX's autodiff derives from it), the fastest forward and the fastest gradient
chosen separately by `tuning_rounds.measure_candidates`, and a mixed pair joined with `jax.custom_vjp`. Tuning
runs on first sight of an input shape, dtype and device, eagerly (`jax.ensure_compile_time_eval`) also while
`jax.jit` traces the layer, and is cached in-process.

Importing this module imports JAX: only a JAX worker, the tests and library users on JAX do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import jax
import numpy as np
from keras import ops

from pointwise import tuning_rounds
from pointwise.tuning_rounds import FALLBACK_STRATEGY, Tuning, strategy_name


def _forward_gemm(inputs, kernel, bias):
    output = ops.matmul(ops.reshape(inputs, (-1, kernel.shape[0])), kernel)
    if bias is not None:
        output = ops.add(output, bias)
    return ops.reshape(output, (*inputs.shape[:-1], kernel.shape[1]))


def _forward_conv(inputs, kernel, bias):
    output = ops.conv(inputs, ops.reshape(kernel, (1, 1, *kernel.shape)), strides=1, padding="valid")
    return output if bias is None else ops.add(output, bias)


def _forward_batched(inputs, kernel, bias):
    output = ops.matmul(inputs, kernel)
    return output if bias is None else ops.add(output, bias)


FORWARD_KERNELS = {"gemm": _forward_gemm, "conv": _forward_conv, "batched": _forward_batched}
STRATEGIES = {strategy_name(f, g): (f, g) for f in FORWARD_KERNELS for g in FORWARD_KERNELS}
TUNING_BATCH = 8
TUNING_BUDGET_S = 1.2
_CANDIDATE_ERRORS = (jax.errors.JaxRuntimeError, NotImplementedError)


def _gradients(kernel_name: str, inputs, kernel, bias, upstream):
    """The vector-Jacobian product of forward kernel `kernel_name`: its gradient kernel. The kernel is linear, so
    under `jax.jit` XLA drops the forward that `jax.vjp` traces (nothing uses its output)."""
    fn = FORWARD_KERNELS[kernel_name]
    if bias is None:
        return jax.vjp(lambda x, k: fn(x, k, None), inputs, kernel)[1](upstream)
    return jax.vjp(fn, inputs, kernel, bias)[1](upstream)


@functools.cache
def _mixed_op(forward: str, gradient: str, use_bias: bool) -> Callable:
    @jax.custom_vjp
    def op(inputs, kernel, *bias):
        return FORWARD_KERNELS[forward](inputs, kernel, bias[0] if use_bias else None)

    def op_forward(inputs, kernel, *bias):
        return op(inputs, kernel, *bias), (inputs, kernel, *bias)

    def op_backward(saved, upstream):
        inputs, kernel, *bias = saved
        return _gradients(gradient, inputs, kernel, bias[0] if use_bias else None, upstream)

    op.defvjp(op_forward, op_backward)
    return op


def pointwise_conv(strategy: str, inputs, kernel, bias=None):
    """`inputs @ kernel (+ bias)` over the last axis of a 4-D input, computed by `strategy`'s kernels."""
    forward, gradient = STRATEGIES[strategy]
    if forward == gradient:
        return FORWARD_KERNELS[forward](inputs, kernel, bias)
    weights = (kernel,) if bias is None else (kernel, bias)
    return _mixed_op(forward, gradient, bias is not None)(inputs, *weights)


_TUNINGS: dict[tuple, Tuning] = {}
"""In-process cache: (timed shape, filters, dtype, device, use_bias) -> `Tuning`."""


def choose_strategy(input_shape, filters: int, dtype, use_bias: bool) -> tuple[str, Tuning | None]:
    """The tuned strategy for an input of `input_shape` and `dtype`, timing the candidates on first sight."""
    shape = tuple(input_shape)
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        return FALLBACK_STRATEGY, None
    shape = (TUNING_BATCH if shape[0] is None else shape[0], *shape[1:])
    dtype = np.dtype(dtype).name
    key = (shape, filters, dtype, str(jax.config.jax_default_device or jax.devices()[0]), use_bias)
    if key not in _TUNINGS:
        with jax.ensure_compile_time_eval():
            _TUNINGS[key] = _tune(shape, filters, dtype, use_bias)
    return _TUNINGS[key].strategy, _TUNINGS[key]


def _tune(shape: tuple[int, ...], filters: int, dtype: str, use_bias: bool) -> Tuning:
    start = time.perf_counter()
    keys = jax.random.split(jax.random.key(0), 4)
    inputs = jax.random.normal(keys[0], shape).astype(dtype)
    upstream = jax.random.normal(keys[1], (*shape[:-1], filters)).astype(dtype)
    kernel = jax.random.normal(keys[2], (shape[-1], filters)).astype(dtype)
    bias = jax.random.normal(keys[3], (filters,)).astype(dtype) if use_bias else None
    candidates = {}
    for name, fn in FORWARD_KERNELS.items():
        candidates["forward", name] = _compiled(fn, inputs, kernel, bias)
        candidates["gradient", name] = _compiled(functools.partial(_gradients, name), inputs, kernel, bias, upstream)
    minima, rounds = tuning_rounds.measure_candidates(candidates, start + TUNING_BUDGET_S, _synced, _CANDIDATE_ERRORS)
    return tuning_rounds.tuning_from(minima, rounds, shape, start)


def _compiled(fn: Callable, *args) -> Callable[[], object]:
    compiled = jax.jit(fn)
    return lambda: compiled(*args)


def _synced(run: Callable[[], object], calls: int = 1) -> float:
    """Seconds for `calls` calls of `run`, the last output ready (JAX dispatches asynchronously)."""
    start = time.perf_counter()
    output = None
    for _ in range(calls):
        output = run()
    jax.block_until_ready(output)
    return time.perf_counter() - start
