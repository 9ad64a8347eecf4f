"""Does each variant compute `Conv2D(filters, 1)`? Run them all on one input with one set of weights.

Runs inside the worker (imports TensorFlow). Every variant gets the baseline's kernel, reshaped from
(1, 1, C, F) to its own layout, and the same input, so outputs are comparable number for number. Each is
also compared with a float64 NumPy reference computed from the same (dtype-rounded) input and weights.

Tolerance: a length-C dot product computed in any order in precision u is within C*u*(|x|@|w|) of the
exact value (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5), and rounding the
output adds u*|y|. Two correct implementations therefore differ by at most 2*(C+2)*u relative to
|x|@|w| + |b|, which is why errors are normalised by that and not by |y| (which can cancel to zero).
A float32 run on a GPU with TensorFloat-32 on rounds both operands of every product to TF32 (10 mantissa bits,
unit roundoff 2^-11) and accumulates in float32: that adds up to 2*2^-11 relative to |x|@|w| (measured on an H200:
Dense vs Conv2D 8.9e-5, each vs float64 2.7e-4, far above the float32 bound 7.9e-6 at C = 64).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import keras
import numpy as np

from pointwise.layers import checked_strategies, make_layer
from pointwise.results import EquivalenceReport, EquivalenceResult
from pointwise.spec import RunSpec, format_shape, is_gpu
from pointwise.variants import BASELINE_KEY, VARIANTS, Variant
from pointwise.worker.cross_backend import tensorflow_conv2d
from pointwise.worker.runtime import SLAB_ELEMENTS, Runtime, default_runtime

UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
TF32_UNIT_ROUNDOFF = 2.0**-11
HISTOGRAM_BINS = 60
REFERENCE_CACHE_BYTES = 64 * 2**20
"""The float64 reference slabs kept between variants (the default shape's 3.2 M outputs take 51 MiB): computing
them again for every variant was a quarter of the check's time. Larger outputs keep their first slabs only."""


def relative_tolerance(dtype: str, channels: int, tf32: bool = False) -> float:
    """The largest normalised difference two correct implementations can show (see the module docstring);
    `tf32`: float32 products computed in TensorFloat-32."""
    operand_rounding = 2.0 * TF32_UNIT_ROUNDOFF if tf32 and dtype == "float32" else 0.0
    return operand_rounding + 2.0 * (channels + 2) * UNIT_ROUNDOFF[dtype]


def spec_tolerance(spec: RunSpec) -> float:
    """`relative_tolerance` for `spec`: TensorFloat-32 counts only on a GPU, where the TF32 setting applies."""
    return relative_tolerance(spec.dtype, spec.channels, tf32=is_gpu(spec.device) and spec.tf32)


def check_equivalence(
    spec: RunSpec, diff_channel: int = 0, runtime: Runtime | None = None, versus_tensorflow: bool = False
) -> EquivalenceResult:
    """Run the baseline and every variant of `spec`; report each one's agreement with the baseline.

    `diff_channel` selects which output channel's |variant - baseline| map (batch item 0) is returned for
    the heatmap. Outputs are kept in the run's dtype and compared in float64 slab by slab (`_Reference`),
    so the check holds two outputs at a time and never a full-size float64 array. With `versus_tensorflow`, a
    run on another backend also compares every output with TensorFlow's Conv2D 1x1 (`cross_backend`).
    """
    runtime = runtime or default_runtime()
    runtime.seed(spec.seed)
    diff_channel = min(max(diff_channel, 0), spec.filters - 1)
    with runtime.device_scope(spec.device):
        x = runtime.input_tensor(spec)
        baseline = make_layer(BASELINE_KEY, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, seed=spec.seed)
        baseline.build(x.shape)
        kernel = baseline.kernel
        bias = baseline.bias if spec.use_bias else None
        reference = _Reference(spec, x, kernel, bias)
        out, error = _run(runtime, baseline, x, spec.mode)
        vs_reference = _compare(reference, out, None).vs_reference.value if out is not None else None
        base = _Baseline(baseline, out, error, vs_reference, reference, diff_channel)
        tensorflow_out = None
        if versus_tensorflow and runtime.name != "tensorflow":
            tensorflow_out, _ = tensorflow_conv2d(x, kernel, bias)
        reports = []
        for key in spec.variants:
            if key == BASELINE_KEY:
                report = _report(spec, key, baseline, base.out, base.error, base)
                reports.append(_versus(report, base.out, reference, tensorflow_out))
                continue
            pinned = {}
            for strategy in checked_strategies(key):
                options = {} if strategy is None else {"strategy": strategy}
                layer = make_layer(key, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype, **options)
                layer.build(x.shape)
                _share_weights(layer, kernel, bias)
                out, error = _run(runtime, layer, x, spec.mode)
                report = _versus(_report(spec, key, layer, out, error, base), out, reference, tensorflow_out)
                pinned[strategy] = report
                # Drop this output before the next one runs: at most two outputs are alive at once.
                del layer, out
            reports.append(_least_agreeing(pinned))
    return EquivalenceResult(spec=spec, reports=tuple(reports), diff_channel=diff_channel)


def _least_agreeing(pinned: dict[str | None, EquivalenceReport]) -> EquivalenceReport:
    """The report of the kernel that agrees least with the baseline (a failure first), noting all were checked."""
    if list(pinned) == [None]:
        return pinned[None]
    worst_kernel, worst = max(pinned.items(), key=lambda item: (not item[1].equivalent, item[1].max_rel_err or 0.0))
    checked = f"each kernel a tuning can choose was checked ({', '.join(pinned)}); {worst_kernel}'s largest error shown"
    return dataclasses.replace(worst, note=f"{worst.note}; {checked}" if worst.note else checked)


class _Reference:
    """The float64 NumPy reference x @ w + b and the error scale |x| @ |w| + |b|, one slab of rows at a time.

    Computed from the same dtype-rounded input and weights as the layers. Arrays are viewed as (B*H, W, *)
    so a slab is a run of image rows; NumPy's matmul computes each row's (W, C) @ (C, F) product alone, so
    the values do not depend on how the rows are sliced.
    """

    def __init__(self, spec: RunSpec, x, kernel, bias) -> None:
        self.rows = spec.batch * spec.height
        self.row_shape = (spec.width, spec.filters)
        self.inputs = np.asarray(x).reshape(self.rows, spec.width, spec.channels)
        self.kernel = _as_float64(kernel).reshape(spec.channels, spec.filters)
        self.bias = _as_float64(bias) if bias is not None else np.zeros(spec.filters)
        step = max(1, SLAB_ELEMENTS // (spec.width * max(spec.channels, spec.filters)))
        self.slabs = [slice(start, min(start + step, self.rows)) for start in range(0, self.rows, step)]
        self._kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._kept_bytes = 0

    def slab(self, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """(reference, scale) of `rows`; kept for the next variant while they fit `REFERENCE_CACHE_BYTES`."""
        known = self._kept.get(rows.start)
        if known is not None:
            return known
        x64 = self.inputs[rows].astype(np.float64)
        computed = x64 @ self.kernel + self.bias, np.abs(x64) @ np.abs(self.kernel) + np.abs(self.bias)
        if self._kept_bytes + 2 * computed[0].nbytes <= REFERENCE_CACHE_BYTES:
            self._kept[rows.start] = computed
            self._kept_bytes += 2 * computed[0].nbytes
        return computed

    def as_rows(self, output: np.ndarray) -> np.ndarray:
        """`output` (any shape with B*H*W*F elements, e.g. Example 2's (B, H*W, F)) viewed as (B*H, W, F)."""
        return output.reshape(self.rows, *self.row_shape)


@dataclass
class _Baseline:
    """What every variant is compared with: Conv2D 1x1's layer and output (None, with the error, if it could not
    run), its own error against the float64 reference, the reference, and the channel shown in the heatmap."""

    layer: keras.layers.Layer
    out: np.ndarray | None
    error: str | None
    vs_reference: float | None
    reference: _Reference
    channel: int


def _run(runtime: Runtime, layer, x, mode: str) -> tuple[np.ndarray | None, str | None]:
    """The layer's output in its own dtype, or the reason the runtime could not run it (e.g. no bfloat16 kernel)."""
    try:
        return np.asarray(runtime.compile(layer.__call__, mode)(x)), None
    except runtime.run_errors as exc:
        first_line = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0]
        return None, f"TensorFlow cannot run it here: {first_line}"


def _versus(report: EquivalenceReport, out, reference: _Reference, tensorflow_out) -> EquivalenceReport:
    """`report` with its output's largest difference from TensorFlow's Conv2D 1x1, normalised as every error."""
    if tensorflow_out is None or out is None or out.size != tensorflow_out.size:
        return report
    value = _compare(reference, out, tensorflow_out).vs_baseline.value
    if report.equivalent and (value is None or value > report.rel_tolerance):
        # The same tolerance as against this backend's own Conv2D: two correct orders of summation.
        reason = (
            f"Differs from TensorFlow's Conv2D 1x1 by {value if value is not None else 'inf'} relative to |x|@|w|+|b|."
        )
        return dataclasses.replace(report, max_rel_err_vs_tensorflow=value, equivalent=False, reason=reason)
    return dataclasses.replace(report, max_rel_err_vs_tensorflow=value)


def _as_float64(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor).astype(np.float64)


def _share_weights(layer, kernel, bias) -> None:
    """Give `layer` the baseline's weights wherever its own have the same number of elements."""
    for weight in layer.weights:
        source = kernel if weight.name == "kernel" else bias if weight.name == "bias" else None
        if source is not None and math.prod(weight.shape) == math.prod(source.shape):
            weight.assign(keras.ops.reshape(keras.ops.cast(source, weight.dtype), weight.shape))


def _param_count(layer) -> int:
    return sum(math.prod(w.shape) for w in layer.weights)


def _report(spec, key, layer, out, error, base: _Baseline) -> EquivalenceReport:
    variant = VARIANTS[key]
    params = _param_count(layer)
    common = dict(
        key=key,
        label=variant.label,
        baseline_shape=spec.output_shape,
        params=params,
        baseline_params=_param_count(base.layer),
        flops=spec.forward_flops,
        rel_tolerance=spec_tolerance(spec),
    )
    if error is not None:
        return EquivalenceReport(**common, status="unsupported", output_shape=None, equivalent=False, reason=error)
    output_shape = out.shape
    if out.size != math.prod(spec.output_shape):
        reason = _not_pointwise_reason(spec, variant, output_shape, params, common["baseline_params"])
        return EquivalenceReport(**common, status="ok", output_shape=output_shape, equivalent=False, reason=reason)
    note = None
    if output_shape != spec.output_shape:
        note = f"equivalent after reshape to (B, H, W, F) = {format_shape(spec.output_shape, 'tuple')}"
    if base.out is None:
        return EquivalenceReport(
            **common,
            status="ok",
            output_shape=output_shape,
            equivalent=False,
            note=note,
            max_rel_err_vs_float64=_compare(base.reference, out, None).vs_reference.value,
            reason=f"The baseline Conv2D 1x1 could not run, so nothing to compare with. {base.error}",
        )
    return EquivalenceReport(**common, status="ok", output_shape=output_shape, note=note, **_agreement(spec, out, base))


def _not_pointwise_reason(spec: RunSpec, variant: Variant, output_shape, params: int, baseline_params: int) -> str:
    """Why an output of the wrong size is no pointwise convolution, in facts from the registry: the shapes, the
    parameter counts, and the kernel's layout (`Variant.dense_over_image`, as in Seed Example 3)."""
    facts = [
        f"output shape {format_shape(output_shape, 'tuple')} instead of {format_shape(spec.output_shape, 'tuple')}"
    ]
    if params != baseline_params:
        facts.append(f"{params:,} parameters instead of {baseline_params:,} ({params / baseline_params:,.0f}x)")
    reason = f"Not a pointwise convolution: {', and '.join(facts)}."
    if variant.dense_over_image:
        bias_terms, bias_values = (" + F", f" + {spec.filters}") if spec.use_bias else ("", "")
        reason += (
            f" It is one Dense layer over the flattened image (H*W*C*F{bias_terms} = {spec.height}*{spec.width}*"
            f"{spec.channels}*{spec.filters}{bias_values} parameters)."
        )
    return reason


def _agreement(spec, out: np.ndarray, base: _Baseline) -> dict:
    """The report's fields that compare `out` with the baseline: errors, verdict, reason, heatmap, histogram."""
    comparison = _compare(base.reference, out, base.out)
    max_rel = comparison.vs_baseline.value
    tolerance = spec_tolerance(spec)
    equivalent = bool(max_rel is not None and max_rel <= tolerance)
    reason = None
    if max_rel is None:
        reason = "Its output has non-finite values (overflow?) or differs where |x|@|w|+|b| is exactly 0."
    elif not equivalent:
        reason = (
            f"Differs from Conv2D 1x1 by up to {max_rel:.3g} relative to |x|@|w|+|b|, above the "
            f"{spec.dtype} tolerance {tolerance:.3g}."
        )
    counts, edges = _histogram(base.reference, out, base.out, comparison.diff_low, comparison.diff_high)
    # Batch item 0 is the first H rows; one channel is picked before widening, so only an (H, W) map is float64.
    heatmap = (slice(0, spec.height), slice(None), base.channel)
    channel_diff = _rows64(base.reference, out, heatmap) - _rows64(base.reference, base.out, heatmap)
    return dict(
        equivalent=equivalent,
        reason=reason,
        max_abs_err=comparison.max_abs,
        max_rel_err=max_rel,
        max_rel_err_vs_float64=comparison.vs_reference.value,
        baseline_max_rel_err_vs_float64=base.vs_reference,
        diff_map=np.abs(channel_diff).tolist(),
        diff_histogram={"counts": counts.tolist(), "edges": edges.tolist()},
    )


class _MaxRel:
    """max |values - target| / scale over slabs; None (infinite) once a slab is non-finite or differs where
    the scale is exactly 0."""

    def __init__(self) -> None:
        self.value: float | None = 0.0

    def add(self, values: np.ndarray, target: np.ndarray, scale: np.ndarray) -> None:
        if self.value is None:
            return
        diff = np.abs(values - target)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = diff / scale
        # A finite diff over a zero scale is inf (x/0) or nan (0/0); a non-finite diff stays non-finite. Only 0/0
        # is agreement, so the slower exact test runs only when some ratio is not finite.
        largest = float(np.max(ratios))
        if not math.isfinite(largest):
            if np.any((scale == 0) & (diff > 0)) or not np.all(np.isfinite(diff)):
                self.value = None
                return
            largest = float(np.max(ratios, where=scale > 0, initial=0.0))
        self.value = max(self.value, largest)


@dataclass
class _Comparison:
    vs_reference: _MaxRel = field(default_factory=_MaxRel)
    vs_baseline: _MaxRel = field(default_factory=_MaxRel)
    max_abs: float = 0.0
    diff_low: float = 0.0
    diff_high: float = 0.0


def _compare(reference: _Reference, out: np.ndarray, baseline_out: np.ndarray | None) -> _Comparison:
    """One pass over the slabs: `out` against the float64 reference and, if given, against the baseline."""
    comparison = _Comparison()
    lows, highs, max_abs = [], [], []
    for rows in reference.slabs:
        target, scale = reference.slab(rows)
        values = _rows64(reference, out, rows)
        comparison.vs_reference.add(values, target, scale)
        if baseline_out is not None:
            base = _rows64(reference, baseline_out, rows)
            comparison.vs_baseline.add(values, base, scale)
            diff = values - base
            lows.append(diff.min())
            highs.append(diff.max())
            max_abs.append(np.max(np.abs(diff)))
    if baseline_out is not None:
        # np.min/np.max over the slabs' figures, not Python's min/max, so a NaN propagates as it would at full size.
        comparison.max_abs = float(np.max(max_abs))
        comparison.diff_low, comparison.diff_high = np.min(lows), np.max(highs)
    return comparison


def _histogram(reference: _Reference, out, baseline_out, low, high) -> tuple[np.ndarray, np.ndarray]:
    """np.histogram(out - baseline_out, HISTOGRAM_BINS) summed over slabs: the range is the whole difference's
    min and max, as np.histogram would pick, so every element falls in the same bin as it would at full size."""
    if low == high:
        # Every difference is the same (usually 0: the variant ran the baseline's kernel): the bin of one of them,
        # times their number, is what the pass over the slabs would count, without computing the differences again.
        counts, edges = np.histogram(np.full(1, low), bins=HISTOGRAM_BINS, range=(low, high))
        return counts * out.size, edges
    counts = np.zeros(HISTOGRAM_BINS, dtype=np.intp)
    for rows in reference.slabs:
        diff = _rows64(reference, out, rows) - _rows64(reference, baseline_out, rows)
        slab_counts, edges = np.histogram(diff, bins=HISTOGRAM_BINS, range=(low, high))
        counts += slab_counts
    return counts, edges


def _rows64(reference: _Reference, output: np.ndarray, rows) -> np.ndarray:
    return reference.as_rows(output)[rows].astype(np.float64)
