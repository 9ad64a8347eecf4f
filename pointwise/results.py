"""Plain-data results: what the worker sends back and what is stored, exported and plotted.

Nothing here imports TensorFlow. Every class round-trips through `to_dict`/`from_dict` (JSON-safe), which
is how results cross the worker pipe, reach the SQLite store and come back from imported files.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pointwise.errors import InvalidSpecError
from pointwise.spec import RunSpec, coerce_fields


def stored_spec(values: dict[str, Any]) -> RunSpec:
    """A `RunSpec` of a run that already happened (stored, imported, or sent back by the worker).

    Every field is checked for type and range as `make_run_spec` does, but not against the active limits
    (memory budget, demo sample cap): those apply to new runs, and a run saved under local limits must stay
    readable after a restart in demo mode.

    Raises:
        InvalidSpecError: naming the first unknown or invalid field.
    """
    if not isinstance(values, dict):
        raise InvalidSpecError("spec", type(values).__name__, "an object of run configuration fields")
    return RunSpec(**coerce_fields(values))


@dataclass(frozen=True)
class EquivalenceReport:
    """How one variant's output compares with `Conv2D(filters, 1)` on the same input and weights.

    `max_rel_err` and the `*_vs_float64` errors are normalised by |x|@|w|+|b| elementwise;
    `status` is "ok", or "unsupported" when TensorFlow could not run the variant in this dtype/device.
    """

    key: str
    label: str
    status: str
    equivalent: bool
    output_shape: tuple[int, ...] | None
    baseline_shape: tuple[int, ...]
    params: int
    baseline_params: int
    flops: int
    rel_tolerance: float
    reason: str | None = None
    note: str | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    max_rel_err_vs_float64: float | None = None
    baseline_max_rel_err_vs_float64: float | None = None
    max_rel_err_vs_tensorflow: float | None = None
    """Against TensorFlow's Conv2D 1x1 on the same input and weights, for a run on another backend; None on
    TensorFlow itself, for a benchmark's check, or where TensorFlow is absent or cannot run it."""
    diff_map: list[list[float]] | None = field(default=None, repr=False)
    diff_histogram: dict[str, list[float]] | None = field(default=None, repr=False)

    @property
    def shape_matches(self) -> bool:
        return self.output_shape is not None and tuple(self.output_shape) == tuple(self.baseline_shape)

    def to_dict(self, include_arrays: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["shape_matches"] = self.shape_matches
        if not include_arrays:
            data.pop("diff_map")
            data.pop("diff_histogram")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EquivalenceReport:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for shape_field in ("output_shape", "baseline_shape"):
            if values.get(shape_field) is not None:
                values[shape_field] = tuple(values[shape_field])
        return cls(**values)


@dataclass(frozen=True)
class EquivalenceResult:
    """The equivalence reports of every variant of one `RunSpec`."""

    spec: RunSpec
    reports: tuple[EquivalenceReport, ...]
    diff_channel: int = 0

    def to_dict(self, include_arrays: bool = True) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "diff_channel": self.diff_channel,
            "variants": [r.to_dict(include_arrays) for r in self.reports],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EquivalenceResult:
        return cls(
            spec=stored_spec(data["spec"]),
            reports=tuple(EquivalenceReport.from_dict(r) for r in data["variants"]),
            diff_channel=int(data.get("diff_channel", 0)),
        )


@dataclass(frozen=True)
class Measurement:
    """Raw timings of one variant: nothing is derived or thrown away here (see `pointwise.stats`).

    Each entry of `per_call_s` is one sample: a block of `calls_per_block` back-to-back calls timed as a
    whole (device synchronised before the clock is read), divided by `calls_per_block`.
    """

    key: str
    per_call_s: tuple[float, ...]
    calls_per_block: int
    cold_start_s: float
    peak_memory_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["per_call_s"] = list(self.per_call_s)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        return cls(
            key=str(data["key"]),
            per_call_s=tuple(float(t) for t in data["per_call_s"]),
            calls_per_block=int(data["calls_per_block"]),
            cold_start_s=float(data["cold_start_s"]),
            peak_memory_bytes=None if data.get("peak_memory_bytes") is None else int(data["peak_memory_bytes"]),
        )


@dataclass(frozen=True)
class Ceilings:
    """The practical limits of one device under one knob set: GEMM peak and copy bandwidth."""

    device: str
    dtype: str
    peak_gflops_per_s: float
    bandwidth_gb_per_s: float
    gemm_size: int
    stream_bytes: int

    def roofline_gflops_per_s(self, intensity_flop_per_byte: float) -> float:
        """min(peak, intensity * bandwidth): the best any kernel of that intensity can do here."""
        return min(self.peak_gflops_per_s, intensity_flop_per_byte * self.bandwidth_gb_per_s)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ceilings:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class BenchmarkResult:
    """One benchmark run: what was run, where, the equivalence check that preceded it, and raw timings."""

    spec: RunSpec
    measurements: tuple[Measurement, ...]
    environment: dict[str, Any]
    equivalence: tuple[EquivalenceReport, ...] = ()
    ceilings: Ceilings | None = None
    worker_peak_rss_bytes: int | None = None
    label: str = ""

    def measurement(self, key: str) -> Measurement | None:
        return next((m for m in self.measurements if m.key == key), None)

    @functools.cached_property
    def statistics(self) -> list:
        """`pointwise.stats.summarize(self)`, computed once: the bootstrap is the costly part of a render."""
        from pointwise.stats import summarize

        return summarize(self)

    def to_dict(self, include_statistics: bool = True) -> dict[str, Any]:
        """JSON-safe; `include_statistics=False` gives the raw run only (what the worker sends)."""
        data = {
            "format": RESULT_FORMAT,
            "format_version": RESULT_FORMAT_VERSION,
            "label": self.label,
            "spec": self.spec.to_dict(),
            "environment": self.environment,
            "ceilings": self.ceilings.to_dict() if self.ceilings else None,
            "worker_peak_rss_bytes": self.worker_peak_rss_bytes,
            "equivalence": [r.to_dict(include_arrays=False) for r in self.equivalence],
            "measurements": [m.to_dict() for m in self.measurements],
        }
        if include_statistics:
            data["statistics"] = [s.to_dict() for s in self.statistics]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkResult:
        """Rebuild from `to_dict` output; statistics are recomputed from the raw samples, never trusted."""
        return cls(
            spec=stored_spec(data["spec"]),
            measurements=tuple(Measurement.from_dict(m) for m in data["measurements"]),
            environment=dict(data.get("environment") or {}),
            equivalence=tuple(EquivalenceReport.from_dict(r) for r in data.get("equivalence") or ()),
            ceilings=Ceilings.from_dict(data["ceilings"]) if data.get("ceilings") else None,
            worker_peak_rss_bytes=data.get("worker_peak_rss_bytes"),
            label=str(data.get("label") or ""),
        )


RESULT_FORMAT = "pointwise-benchmark"
RESULT_FORMAT_VERSION = 1
