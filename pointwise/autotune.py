"""The kernels `PointwiseConv2D` chooses between, and the timer that chooses them on the machine at hand.

A strategy pairs a forward kernel with a gradient kernel. They can be chosen separately because a training
step's cost is the forward's plus the gradients', and the forward alone is an inference step's: the pair of
fastest parts is then fastest for both passes, so one layer object needs no idea of which pass it serves
(graph code cannot tell a training call from an inference call reliably).

- forward kernels: `gemm` (one 2-D GEMM over all B*H*W pixels with a fused `bias_add`), `conv` (a 1x1
  `conv2d`, Conv2D's kernel), `batched` (a broadcast batched matmul plus bias, Dense's kernel on a 4-D input);
- gradient kernels: `gemm` (two 2-D GEMMs and a column sum), `conv` (the convolution's backprop ops),
  `batched` (the batched matmul's: per-(b, h) products summed).

Strategy names: `gemm`, `conv` and `batched` are one kernel both ways and use TensorFlow's own gradients; a mixed pair
is `<forward>_forward_<gradient>_backward` and routes its gradients through `tf.custom_gradient`.

Importing this module imports TensorFlow: only the worker process and the tests do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import tensorflow as tf

from pointwise import tuning_rounds
from pointwise.tuning_rounds import FALLBACK_STRATEGY, Tuning, strategy_name


def _forward_gemm(inputs, kernel, bias):
    static = inputs.shape
    if static.is_fully_defined():
        output_shape = (*static[:-1], kernel.shape[1])
    else:
        output_shape = tf.concat([tf.shape(inputs)[:-1], [kernel.shape[1]]], axis=0)
    output = tf.matmul(tf.reshape(inputs, (-1, kernel.shape[0])), kernel)
    if bias is not None:
        output = tf.nn.bias_add(output, bias)
    return tf.reshape(output, output_shape)


def _forward_conv(inputs, kernel, bias):
    output = tf.nn.conv2d(inputs, tf.reshape(kernel, (1, 1, *kernel.shape)), strides=1, padding="VALID")
    return output if bias is None else tf.nn.bias_add(output, bias)


def _forward_batched(inputs, kernel, bias):
    output = tf.matmul(inputs, kernel)
    return output if bias is None else output + bias


def _gradients_gemm(inputs, upstream, kernel, use_bias):
    channels, filters = kernel.shape
    rows = tf.reshape(upstream, (-1, filters))
    grad_inputs = tf.reshape(tf.matmul(rows, kernel, transpose_b=True), tf.shape(inputs))
    grad_kernel = tf.matmul(tf.reshape(inputs, (-1, channels)), rows, transpose_a=True)
    return (grad_inputs, grad_kernel, tf.reduce_sum(rows, axis=0)) if use_bias else (grad_inputs, grad_kernel)


def _gradients_conv(inputs, upstream, kernel, use_bias):
    channels, filters = kernel.shape
    conv_args = {"out_backprop": upstream, "strides": [1, 1, 1, 1], "padding": "VALID"}
    grad_inputs = tf.raw_ops.Conv2DBackpropInput(
        input_sizes=tf.shape(inputs), filter=tf.reshape(kernel, (1, 1, channels, filters)), **conv_args
    )
    grad_kernel = tf.raw_ops.Conv2DBackpropFilter(input=inputs, filter_sizes=[1, 1, channels, filters], **conv_args)
    grad_kernel = tf.reshape(grad_kernel, (channels, filters))
    if use_bias:
        return grad_inputs, grad_kernel, tf.raw_ops.BiasAddGrad(out_backprop=upstream)
    return grad_inputs, grad_kernel


def _gradients_batched(inputs, upstream, kernel, use_bias):
    # TensorFlow's own gradient of the broadcast batched matmul (what Dense trains with): per-(b, h) products
    # summed over the broadcast axes.
    grad_inputs = tf.matmul(upstream, kernel, transpose_b=True)
    grad_kernel = tf.reduce_sum(tf.matmul(inputs, upstream, transpose_a=True), axis=(0, 1))
    if use_bias:
        return grad_inputs, grad_kernel, tf.reduce_sum(upstream, axis=(0, 1, 2))
    return grad_inputs, grad_kernel


FORWARD_KERNELS = {"gemm": _forward_gemm, "conv": _forward_conv, "batched": _forward_batched}
GRADIENT_KERNELS = {"gemm": _gradients_gemm, "conv": _gradients_conv, "batched": _gradients_batched}


STRATEGIES = {strategy_name(f, g): (f, g) for f in FORWARD_KERNELS for g in GRADIENT_KERNELS}


@functools.cache
def _mixed_op(forward: str, gradient: str, use_bias: bool) -> Callable:
    def op(inputs, kernel, *bias):
        output = FORWARD_KERNELS[forward](inputs, kernel, bias[0] if use_bias else None)
        return output, lambda upstream: GRADIENT_KERNELS[gradient](inputs, upstream, kernel, use_bias)

    return tf.custom_gradient(op)


def pointwise_conv(strategy: str, inputs, kernel, bias=None):
    """`inputs @ kernel (+ bias)` over the last axis of a 4-D input, computed by `strategy`'s kernels.

    `kernel` and `bias` are tensors (read from their variables), so that gradients reach the variables through
    the reads also when `tf.custom_gradient` computes them.
    """
    forward, gradient = STRATEGIES[strategy]
    if forward == gradient:
        return FORWARD_KERNELS[forward](inputs, kernel, bias)
    weights = (kernel,) if bias is None else (kernel, bias)
    return _mixed_op(forward, gradient, bias is not None)(inputs, *weights)


@functools.cache
def onednn_enabled() -> bool:
    """Whether this TensorFlow process runs oneDNN kernels (TF_ENABLE_ONEDNN_OPTS, read at import)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return False
    return bool(_pywrap_util_port.IsMklEnabled())


TUNING_BATCH = 8
"""The batch size timed when the batch axis is undefined (a functional model's `keras.Input`, a traced
`tf.function` with `None` batch): a typical mini-batch, so the time of a tuning stays well inside its budget."""
TUNING_BUDGET_S = 1.2
"""Each tuning stops starting rounds that would end past this (traces and warm-up included), so that a new
shape costs at most ~2 s also on a busy machine; `tuning_rounds.MIN_ROUNDS` can exceed it where one round of
calls (every forward and gradient kernel once) takes over ~0.2 s."""
_CANDIDATE_ERRORS = (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, tf.errors.UnimplementedError)
"""A kernel with no implementation for this dtype or device is dropped from the tuning, not fatal."""


_TUNINGS: dict[tuple, Tuning] = {}
"""In-process cache: (timed shape, filters, dtype, device, oneDNN state, use_bias, candidates) -> `Tuning`."""


def choose_strategy(input_shape, filters: int, dtype, use_bias: bool) -> tuple[str, Tuning | None]:
    """The tuned strategy for an input of `input_shape` and `dtype`, timing the candidates on first sight.

    Safe to call while tracing: the timing runs eagerly under `tf.init_scope()`, outside the graph being built,
    and the traced graph holds only the chosen kernels. Returns `FALLBACK_STRATEGY` and no tuning when a
    spatial or channel axis is undefined, or when no eager context exists to time in.
    """
    shape = tuple(input_shape)
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        return FALLBACK_STRATEGY, None
    shape = (TUNING_BATCH if shape[0] is None else shape[0], *shape[1:])
    dtype = tf.as_dtype(dtype)
    with tf.init_scope():
        if not tf.executing_eagerly():
            return FALLBACK_STRATEGY, None
        key = (shape, filters, dtype.name, _current_device(), onednn_enabled(), use_bias, tuple(STRATEGIES))
        if key not in _TUNINGS:
            _TUNINGS[key] = _tune(shape, filters, dtype, use_bias)
    return _TUNINGS[key].strategy, _TUNINGS[key]


def _current_device() -> str:
    # The eager context's device scope, which `tf.init_scope()` carries over from the graph being traced;
    # '' means TensorFlow's default placement.
    from tensorflow.python.eager import context

    return context.context().device_name


def _tune(shape: tuple[int, ...], filters: int, dtype: tf.DType, use_bias: bool) -> Tuning:
    start = time.perf_counter()
    inputs = tf.random.normal(shape, dtype=dtype)
    upstream = tf.random.normal((*shape[:-1], filters), dtype=dtype)
    kernel = tf.random.normal((shape[-1], filters), dtype=dtype)
    bias = tf.random.normal((filters,), dtype=dtype) if use_bias else None
    candidates = {("forward", name): _compiled(fn, inputs, kernel, bias) for name, fn in FORWARD_KERNELS.items()}
    for name, fn in GRADIENT_KERNELS.items():
        candidates["gradient", name] = _compiled(fn, inputs, upstream, kernel, use_bias)
    minima, rounds = measure_candidates(candidates, start + TUNING_BUDGET_S)
    return tuning_rounds.tuning_from(minima, rounds, shape, start)


def _compiled(fn: Callable, *args) -> Callable[[], object]:
    # TensorFlow's retracing detector counts traces per code object and would take many tunings for a
    # retracing loop; a `partial` has no code object, so each tuning's functions are counted apart.
    graph_fn = tf.function(functools.partial(fn), autograph=False)
    return lambda: graph_fn(*args)


def measure_candidates(candidates: dict, deadline: float) -> tuple[dict, int]:
    """`tuning_rounds.measure_candidates` with TensorFlow's device sync and its "no such kernel" errors."""
    return tuning_rounds.measure_candidates(candidates, deadline, _synced, _CANDIDATE_ERRORS)


def _synced(run: Callable[[], object], calls: int = 1) -> float:
    """Seconds for `calls` calls of `run`, waiting for a GPU's queued kernels before reading the clock."""
    start = time.perf_counter()
    for _ in range(calls):
        run()
    if _has_gpu():
        tf.test.experimental.sync_devices()
    return time.perf_counter() - start


@functools.cache
def _has_gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))
