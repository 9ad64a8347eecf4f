"""The kernels that ran: which ops each variant executed, and their share of the call's time, as plain data.

The worker (`pointwise.worker.kernels`) measures them with TensorFlow's profiler; this module holds the result
(`KernelsResult`) and what an op name means (`describe_op`); its table and chart are in `kernel_charts`. It
imports neither TensorFlow nor pandas, so the server's router and the CLI read results with it cheaply.

How to read a row: `op` is the op type TensorFlow ran after its graph rewrites (grappler's fusions, oneDNN's
`_Mkl*` kernels) in graph mode, the op dispatched one by one in eager mode, or an instruction of the optimised
HLO module's entry computation under XLA. `count` is how many times it ran per call, `time_us` its traced time
per call (None: it ran, but TensorFlow's executor recorded no trace event for it, as for the cheap ops it runs
inline), `share` its part of the summed traced time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pointwise.results import stored_spec
from pointwise.spec import RunSpec, is_gpu
from pointwise.variants import VARIANTS

KERNELS_BACKENDS = ("tensorflow", "jax")
"""TensorFlow's are read from its profiler and graphs (with times); JAX's from what XLA compiled (counts only,
`pointwise.worker.jax_kernels`). A backend without a reader is refused, naming the field."""
BOOKKEEPING_OPS = frozenset({"_Arg", "_Retval", "NoOp", "Const", "Identity"})
"""Graph plumbing: listed only when it was traced with a cost (they usually cost nothing)."""

# (part of the op name, what it means): every match is shown, in this order.
_OP_MEANINGS = (
    ("_Mkl", "oneDNN kernel"),
    ("Fused", "bias (and activation) fused into the same kernel"),
    ("BatchMatMul", "batched matmul: one GEMM per slice of the leading axes"),
    ("Einsum", "einsum kernel"),
    ("BackpropInput", "gradient w.r.t. the input"),
    ("BackpropFilter", "gradient w.r.t. the kernel"),
    ("WithBias", "bias gradient in the same kernel"),
)
_EXACT_MEANINGS = {
    "BiasAdd": "separate bias add: a second pass over the output",
    "AddV2": "separate elementwise add (the bias): a second pass over the output",
    "BiasAddGrad": "bias gradient (a reduction)",
    "Sum": "reduction",
    "ReadVariableOp": "reads a weight (no copy)",
    "Tile": "repeats a tensor (the gradient of the summed loss)",
    "Reshape": "reshape (no copy)",
    "Squeeze": "drops a size-1 axis (no copy)",
    "Shape": "shape arithmetic",
    "ShapeN": "shape arithmetic",
    "StridedSlice": "shape arithmetic",
    "Pack": "shape arithmetic",
    "ConcatV2": "shape arithmetic",
    "BroadcastGradientArgs": "shape arithmetic",
}
_OP_FAMILIES = (("BatchMatMul", "batched matmul"), ("MatMul", "GEMM"), ("Conv2D", "convolution"))


def describe_op(op: str) -> str:
    """What a TensorFlow op type is, in a few words ("oneDNN kernel; bias ... fused ...; GEMM")."""
    if op in _EXACT_MEANINGS:
        return _EXACT_MEANINGS[op]
    meanings = [text for part, text in _OP_MEANINGS if part in op]
    family = next((name for part, name in _OP_FAMILIES if part in op), None)
    if family and not any(family in meaning for meaning in meanings):
        meanings.append(family)
    return "; ".join(meanings)


@dataclass(frozen=True)
class KernelRow:
    """One op type (or HLO instruction) of one variant's call."""

    op: str
    count: float
    """Times it ran per call."""
    time_us: float | None
    """Mean traced microseconds per call; None when it ran without a trace event."""
    share: float | None
    """Its part of the variant's summed traced time (0-1); None without a time."""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "count": self.count, "time_us": self.time_us, "share": self.share, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KernelRow:
        return cls(data["op"], float(data["count"]), data.get("time_us"), data.get("share"), data.get("detail", ""))


@dataclass(frozen=True)
class VariantKernels:
    """The kernels of one variant's call, most expensive first; `error` when the runtime could not run it."""

    key: str
    rows: tuple[KernelRow, ...] = ()
    calls: int = 0
    """Calls profiled (after the cold call and a warm-up); times are their mean."""
    wall_us: float | None = None
    """Mean wall time of a profiled call, profiler overhead included."""
    error: str | None = None

    @property
    def label(self) -> str:
        return VARIANTS[self.key].label if self.key in VARIANTS else self.key

    @property
    def kernel_us(self) -> float:
        """Summed traced kernel time per call."""
        return sum(row.time_us or 0.0 for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "rows": [row.to_dict() for row in self.rows],
            "calls": self.calls,
            "wall_us": self.wall_us,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VariantKernels:
        rows = tuple(KernelRow.from_dict(row) for row in data.get("rows", ()))
        return cls(data["key"], rows, int(data.get("calls", 0)), data.get("wall_us"), data.get("error"))


@dataclass(frozen=True)
class KernelsResult:
    """Every variant's kernels for one spec (its mode, pass, dtype and device), and whether oneDNN was on."""

    spec: RunSpec
    onednn: bool
    variants: tuple[VariantKernels, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "onednn": self.onednn,
            "variants": [variant.to_dict() for variant in self.variants],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KernelsResult:
        variants = tuple(VariantKernels.from_dict(variant) for variant in data["variants"])
        return cls(stored_spec(data["spec"]), bool(data["onednn"]), variants)


def kernels_summary(result: KernelsResult) -> str:
    """One plain sentence: how the kernels were measured (mode, pass, oneDNN), for a caption or the CLI."""
    spec = result.spec
    if spec.backend == "jax":
        compiled = "the primitives JAX dispatched one by one" if spec.mode == "eager" else "what XLA compiled (jax.jit)"
        return (
            f"JAX, {compiled}: ops per call, without per-op times (JAX's profiler is not read); "
            f"{spec.pass_kind} pass, {spec.dtype} on {spec.device}."
        )
    how = {
        "graph": "graph mode: the ops TensorFlow ran after grappler's and oneDNN's rewrites",
        "eager": "eager mode: the ops dispatched one by one (no graph rewrites, no fusion)",
        "xla": "XLA: the instructions of the optimised HLO module's entry computation",
    }[spec.mode]
    onednn = "on" if result.onednn else "off"
    # Only the host's trace is read: on a GPU its op events time the launches, not the kernels on the device.
    caveat = " Times on a GPU are the host's trace events, not the device's kernels." if is_gpu(spec.device) else ""
    return f"{how}; {spec.pass_kind} pass, {spec.dtype} on {spec.device}, oneDNN {onednn}.{caveat}"
