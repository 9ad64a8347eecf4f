"""Plain-data results: what the worker sends back and what is stored, exported and plotted.

Nothing here imports TensorFlow. Every class round-trips through `to_dict`/`from_dict` (JSON-safe), which
is how results cross the worker pipe, reach the SQLite store and come back from imported files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pointwise.spec import RunSpec, make_run_spec


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
            spec=make_run_spec(**data["spec"]),
            reports=tuple(EquivalenceReport.from_dict(r) for r in data["variants"]),
            diff_channel=int(data.get("diff_channel", 0)),
        )
