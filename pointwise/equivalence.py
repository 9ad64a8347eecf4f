"""Does each variant compute `Conv2D(filters, 1)`? Run them all on one input with one set of weights.

Runs inside the worker (imports TensorFlow). Every variant gets the baseline's kernel, reshaped from
(1, 1, C, F) to its own layout, and the same input, so outputs are comparable number for number. Each is
also compared with a float64 NumPy reference computed from the same (dtype-rounded) input and weights.

Tolerance: a length-C dot product computed in any order in precision u is within C*u*(|x|@|w|) of the
exact value (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5), and rounding the
output adds u*|y|. Two correct implementations therefore differ by at most 2*(C+2)*u relative to
|x|@|w| + |b|, which is why errors are normalised by that and not by |y| (which can cancel to zero).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from pointwise.layers import make_layer
from pointwise.results import EquivalenceReport, EquivalenceResult
from pointwise.spec import RunSpec
from pointwise.variants import BASELINE_KEY, VARIANTS

UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
HISTOGRAM_BINS = 60
_TF_RUN_ERRORS = (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, tf.errors.UnimplementedError)


def relative_tolerance(dtype: str, channels: int) -> float:
    """The largest normalised difference two correct implementations can show (see the module docstring)."""
    return 2.0 * (channels + 2) * UNIT_ROUNDOFF[dtype]


def make_input(spec: RunSpec) -> np.ndarray:
    """The standard-normal input of `spec`, reproducible from its seed, in float64."""
    return np.random.default_rng(spec.seed).standard_normal(spec.input_shape)


def compiled_call(layer: keras.layers.Layer, mode: str):
    """`layer` as it runs in `mode`: plain eager call, `tf.function`, or `tf.function(jit_compile=True)`."""
    if mode == "eager":
        return layer
    return tf.function(layer.__call__, jit_compile=(mode == "xla"), reduce_retracing=True)


def check_equivalence(spec: RunSpec, diff_channel: int = 0) -> EquivalenceResult:
    """Run the baseline and every variant of `spec`; report each one's agreement with the baseline.

    `diff_channel` selects which output channel's |variant - baseline| map (batch item 0) is returned for
    the heatmap.
    """
    keras.utils.set_random_seed(spec.seed)
    diff_channel = min(max(diff_channel, 0), spec.filters - 1)
    with tf.device(spec.device):
        x = tf.cast(tf.constant(make_input(spec)), spec.dtype)
        baseline = make_layer(BASELINE_KEY, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
        baseline.build(x.shape)
        kernel = baseline.kernel
        bias = baseline.bias if spec.use_bias else None
        x64 = _as_float64(x)
        kernel64 = _as_float64(kernel).reshape(spec.channels, spec.filters)
        bias64 = _as_float64(bias) if bias is not None else np.zeros(spec.filters)
        reference = x64 @ kernel64 + bias64
        scale = np.abs(x64) @ np.abs(kernel64) + np.abs(bias64)
        baseline_out, baseline_error = _run(baseline, x, spec.mode)
        reports = []
        for key in spec.variants:
            if key == BASELINE_KEY:
                layer, out, error = baseline, baseline_out, baseline_error
            else:
                layer = make_layer(key, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype)
                layer.build(x.shape)
                _share_weights(layer, kernel, bias)
                out, error = _run(layer, x, spec.mode)
            reports.append(
                _report(
                    spec, key, layer, baseline, out, error, baseline_out, baseline_error, reference, scale, diff_channel
                )
            )
    return EquivalenceResult(spec=spec, reports=tuple(reports), diff_channel=diff_channel)


def _run(layer, x, mode: str) -> tuple[np.ndarray | None, str | None]:
    """The layer's output as float64, or the reason TensorFlow could not run it (e.g. no bfloat16 kernel)."""
    try:
        return _as_float64(compiled_call(layer, mode)(x)), None
    except _TF_RUN_ERRORS as exc:
        first_line = (exc.message or str(exc)).strip().splitlines()[0]
        return None, f"TensorFlow cannot run it here: {first_line}"


def _as_float64(tensor) -> np.ndarray:
    return np.asarray(tf.cast(tensor, tf.float64))


def _share_weights(layer, kernel, bias) -> None:
    """Give `layer` the baseline's weights wherever its own have the same number of elements."""
    for weight in layer.weights:
        source = kernel if weight.name == "kernel" else bias if weight.name == "bias" else None
        if source is not None and math.prod(weight.shape) == math.prod(source.shape):
            weight.assign(tf.reshape(tf.cast(source, weight.dtype), weight.shape))


def _param_count(layer) -> int:
    return sum(math.prod(w.shape) for w in layer.weights)


def _report(spec, key, layer, baseline, out, error, baseline_out, baseline_error, reference, scale, channel):
    variant = VARIANTS[key]
    params = _param_count(layer)
    common = dict(
        key=key,
        label=variant.label,
        baseline_shape=spec.output_shape,
        params=params,
        baseline_params=_param_count(baseline),
        flops=spec.forward_flops,
        rel_tolerance=relative_tolerance(spec.dtype, spec.channels),
    )
    if error is not None:
        return EquivalenceReport(**common, status="unsupported", output_shape=None, equivalent=False, reason=error)
    output_shape = out.shape
    if out.size != reference.size:
        reason = (
            f"Not a pointwise convolution: output shape {_fmt_shape(output_shape)} instead of "
            f"{_fmt_shape(spec.output_shape)}, and {params:,} parameters instead of {common['baseline_params']:,} "
            f"({params / common['baseline_params']:,.0f}x). It is one Dense layer over the flattened image "
            f"(H*W*C*F + F = {spec.height}*{spec.width}*{spec.channels}*{spec.filters} + {spec.filters} parameters)."
        )
        return EquivalenceReport(**common, status="ok", output_shape=output_shape, equivalent=False, reason=reason)
    note = None
    if output_shape != spec.output_shape:
        note = f"equivalent after reshape to (B, H, W, F) = {_fmt_shape(spec.output_shape)}"
    out = out.reshape(spec.output_shape)
    vs_reference = _max_rel(out, reference, scale)
    baseline_vs_reference = _max_rel(baseline_out, reference, scale) if baseline_out is not None else None
    if baseline_out is None:
        return EquivalenceReport(
            **common,
            status="ok",
            output_shape=output_shape,
            equivalent=False,
            note=note,
            max_rel_err_vs_float64=vs_reference,
            reason=f"The baseline Conv2D 1x1 could not run, so nothing to compare with. {baseline_error}",
        )
    diff = out - baseline_out
    max_rel = _max_rel(out, baseline_out, scale)
    equivalent = bool(max_rel is not None and max_rel <= common["rel_tolerance"])
    reason = None
    if max_rel is None:
        reason = "Its output has non-finite values (overflow?) or differs where |x|@|w|+|b| is exactly 0."
    elif not equivalent:
        reason = (
            f"Differs from Conv2D 1x1 by up to {max_rel:.3g} relative to |x|@|w|+|b|, above the "
            f"{spec.dtype} tolerance {common['rel_tolerance']:.3g}."
        )
    counts, edges = np.histogram(diff, bins=HISTOGRAM_BINS)
    return EquivalenceReport(
        **common,
        status="ok",
        output_shape=output_shape,
        equivalent=equivalent,
        note=note,
        reason=reason,
        max_abs_err=float(np.max(np.abs(diff))),
        max_rel_err=max_rel,
        max_rel_err_vs_float64=vs_reference,
        baseline_max_rel_err_vs_float64=baseline_vs_reference,
        diff_map=np.abs(diff[0, :, :, channel]).tolist(),
        diff_histogram={"counts": counts.tolist(), "edges": edges.tolist()},
    )


def _max_rel(values: np.ndarray, reference: np.ndarray, scale: np.ndarray) -> float | None:
    """max |values - reference| / scale; a difference where the scale is exactly 0 makes it infinite (None)."""
    diff = np.abs(values - reference)
    if np.any((scale == 0) & (diff > 0)) or not np.all(np.isfinite(diff)):
        return None
    return float(np.max(np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)))


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"
