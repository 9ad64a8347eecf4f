"""`RunSpec`: the validated, frozen description of one run (what to compute, where, how to time it).

A `RunSpec` is only ever built through `make_run_spec`, which coerces strings (from URLs, the CLI, JSON
files) and checks every field, so code that receives a `RunSpec` never re-validates. A bad value raises
`InvalidSpecError` naming the field, the allowed range and the value received.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from pointwise.backends import BACKEND_LABELS, BACKENDS, DEFAULT_BACKEND, INSTALL_HINTS, backend_installed
from pointwise.errors import InvalidSpecError
from pointwise.limits import active_limits, demo_mode, env_name
from pointwise.spec_fields import coerce_bool, coerce_choice, coerce_int, coerce_knob, normalize_device
from pointwise.variants import BASELINE_KEY, EQUIVALENT_KEYS, TUNED_KEY, VARIANTS, keys_for_backend

DTYPES = ("float32", "float64", "float16", "bfloat16")
DTYPE_ITEMSIZE = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2}
MODES = ("eager", "graph", "xla")
PASSES = ("forward", "backward")
PASS_LABELS = {"forward": "forward", "backward": "forward+backward"}
MODE_LABELS = {"eager": "eager", "graph": "graph (tf.function)", "xla": "XLA (jit_compile)"}
KNOB_CHOICES = ("default", "on", "off")
"""Settings TensorFlow reads at import: "default" leaves TensorFlow's own choice for the CPU it runs on."""
KNOB_LABELS = {"default": "TensorFlow's default", "on": "on", "off": "off"}
KNOB_FIELDS = ("onednn", "cpu_allocator_bfc")

MEMORY_BUDGET_ENV = env_name("memory_budget_mb")

JOB_OVERHEAD_BYTES = 64 * 2**20
"""What any job adds (tracing, Keras layer objects, a benchmark's environment card): 20-75 MiB measured."""
# Fitted by benchmarks/memory_estimate.py, in units of the tensor's size in the compute type (see below).
INPUT_FACTOR = 2.5
BASELINE_OUTPUT_FACTOR = 1.2
EXTRA_VARIANT_OUTPUT_FACTOR = 0.2
BACKWARD_FACTOR = 0.2
TUNING_FACTOR = 1.0
"""A benchmark of PointwiseConv2D first tunes its kernels, on buffers the size of the input and the output."""

# Inclusive ranges. The upper limits keep any single axis sane; the memory budget is what bounds the total.
INT_RANGES: dict[str, tuple[int, int]] = {
    "batch": (1, 65_536),
    "height": (1, 16_384),
    "width": (1, 16_384),
    "channels": (1, 65_536),
    "filters": (1, 65_536),
    "samples": (3, 2_000),
    "seed": (0, 2**32 - 1),
    "threads": (0, 256),
    "inter_threads": (0, 256),
}


@dataclass(frozen=True)
class RunSpec:
    """One validated run configuration. Build it with `make_run_spec`.

    The runtime knobs are read by TensorFlow only at import time, so each combination selects its own worker
    process: `onednn` (TF_ENABLE_ONEDNN_OPTS) and `cpu_allocator_bfc` (TF_CPU_ALLOCATOR_USE_BFC) are "default"
    (TensorFlow decides for this machine), "on" or "off"; `threads` and `inter_threads` (intra- and inter-op
    thread pools) are 0 for TensorFlow's default. `backend` is the Keras backend (`pointwise.backends`), read
    at `import keras`, so it too selects a worker.
    """

    batch: int = 8
    height: int = 56
    width: int = 56
    channels: int = 64
    filters: int = 128
    dtype: str = "float32"
    device: str = "CPU:0"
    variants: tuple[str, ...] = EQUIVALENT_KEYS
    mode: str = "graph"
    pass_kind: str = "forward"
    samples: int = 30
    seed: int = 0
    onednn: str = "default"
    threads: int = 0
    inter_threads: int = 0
    cpu_allocator_bfc: str = "default"
    tf32: bool = True
    use_bias: bool = True
    backend: str = DEFAULT_BACKEND

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.height, self.width, self.channels)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.height, self.width, self.filters)

    @property
    def pixels(self) -> int:
        return self.batch * self.height * self.width

    @property
    def input_elements(self) -> int:
        """B*H*W*C: the input tensor's element count."""
        return self.pixels * self.channels

    @property
    def output_elements(self) -> int:
        """B*H*W*F: the (B, H, W, F) output's element count (every equivalent variant's, reshaped)."""
        return self.pixels * self.filters

    def param_count(self, key: str = BASELINE_KEY) -> int:
        """Weights of variant `key`'s layer on this input, bias included if `use_bias` (`Variant.param_count`)."""
        return VARIANTS[key].param_count(self.height, self.width, self.channels, self.filters, self.use_bias)

    @property
    def layers_run(self) -> tuple[str, ...]:
        """The variant keys a check or benchmark builds a layer for: the baseline first, then the others."""
        return (BASELINE_KEY, *(key for key in self.variants if key != BASELINE_KEY))

    @property
    def forward_flops(self) -> int:
        """Multiply-adds count twice: 2*B*H*W*C*F, the figure GFLOP/s is computed from."""
        return 2 * self.pixels * self.channels * self.filters

    @property
    def flops_per_call(self) -> int:
        """The backward pass computes two more GEMMs of the same size (dx and dW), hence 3x."""
        return self.forward_flops * (3 if self.pass_kind == "backward" else 1)

    def summary(self) -> str:
        """One line a person reads: `8x56x56x64 -> 128 · float32 · graph (tf.function) · forward · CPU:0 · ...`."""
        knob = f"TF32 {'on' if self.tf32 else 'off'}" if is_gpu(self.device) else f"oneDNN {self.onednn}"
        if self.backend != "tensorflow":
            knob = BACKEND_LABELS[self.backend]
        mode = mode_label(self.mode, self.backend)
        return (
            f"{format_shape(self.input_shape)} -> {self.filters} · {self.dtype} · {mode} · "
            f"{PASS_LABELS[self.pass_kind]} · {self.device} · {knob} · "
            f"{self.samples} samples × {len(self.variants)} variants"
        )

    def with_changes(self, **changes: Any) -> RunSpec:
        """A new spec with `changes` applied, validated like any other."""
        return make_run_spec(**{**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["variants"] = list(self.variants)
        return data


SPEC_FIELDS = tuple(f.name for f in fields(RunSpec))


def mode_label(mode: str, backend: str = DEFAULT_BACKEND) -> str:
    """The execution mode as it runs on `backend`: JAX has no graph mode, both compiled modes are `jax.jit`."""
    if backend == "jax":
        return "eager (op by op)" if mode == "eager" else "jax.jit (XLA)"
    return MODE_LABELS[mode]


def format_shape(shape, style: str = "x") -> str:
    """A shape as people read it: `8x56x56x64` (style "x") or `(8, 56, 56, 64)` (style "tuple"); None is "—"."""
    if shape is None:
        return "—"
    if style == "tuple":
        return "(" + ", ".join(map(str, shape)) + ")"
    return "x".join(map(str, shape))


def is_gpu(device: str) -> bool:
    """Whether a canonical device name (`CPU:0`, `GPU:n`) is a GPU: the one rule for the device kind."""
    return device.startswith("GPU")


def memory_budget_bytes() -> int:
    """The budget a run's estimated memory must fit in (`pointwise.limits`)."""
    return int(active_limits().memory_budget_mb * 2**20)


def estimate_memory_bytes(spec: RunSpec, job: str = "bench") -> int:
    """Peak growth of a worker's resident memory while it runs `spec`'s `job`: "check" (the equivalence check) or
    "bench" (timing, then the check; the larger, so the default, which the memory budget is held to).

    Fitted to measurements of fresh workers (`benchmarks/memory_estimate.py` names the grid and prints the
    ratios). TensorFlow's CPU allocator keeps what it frees and rounds regions up, so a tensor costs more
    than its bytes, and sizes are counted in the compute type (CPU kernels for 16-bit types work in
    float32): the input ~2.5x its size (built a slab at a time), the baseline's output ~1.2x, each further
    variant ~0.2x of an output more (the check holds two outputs at a time, in their dtype, and compares them
    in float64 slabs), the backward pass's gradients, every variant's weights (Example 3's grow with H*W),
    TensorFlow's fixed per-job cost, and a benchmark's tuning of PointwiseConv2D (the check pins its kernels).
    """
    item = DTYPE_ITEMSIZE[spec.dtype]
    compute_item = max(item, 4)
    input_unit = spec.input_elements * compute_item
    output_unit = spec.output_elements * compute_item
    layers_run = len(spec.layers_run)
    weights = sum(spec.param_count(key) for key in spec.layers_run)
    total = (
        JOB_OVERHEAD_BYTES
        + INPUT_FACTOR * input_unit
        + output_unit * (BASELINE_OUTPUT_FACTOR + EXTRA_VARIANT_OUTPUT_FACTOR * (layers_run - 1))
        + weights * item
    )
    if spec.pass_kind == "backward":
        total += BACKWARD_FACTOR * (input_unit + output_unit) + weights * item
    if job == "bench" and TUNED_KEY in spec.layers_run:
        total += TUNING_FACTOR * (input_unit + output_unit)
    return int(total)


def check_live_size(spec: RunSpec) -> None:
    """Raise `InvalidSpecError` naming the shape if `spec` is too large for an interactive live run."""
    max_elements = active_limits().live_max_elements
    elements = max(spec.input_elements, spec.output_elements)
    if elements > max_elements:
        raise InvalidSpecError(
            "shape",
            f"{format_shape(spec.input_shape)} -> {spec.filters} filters",
            f"at most {max_elements:,} elements B*H*W*max(C, F) for a live run (this one has {elements:,}); "
            "use the Benchmark page or the CLI for larger shapes",
        )


def make_run_spec(**values: Any) -> RunSpec:
    """Validate and coerce `values` into a `RunSpec`; unspecified fields take their defaults.

    Raises:
        InvalidSpecError: for an unknown field or any value out of range, naming the field.
    """
    clean = coerce_fields(values)
    backend = clean.get("backend", DEFAULT_BACKEND)
    if "variants" not in clean:
        clean["variants"] = keys_for_backend(backend, EQUIVALENT_KEYS)
    spec = RunSpec(**clean)
    _check_backend(spec)
    max_samples = active_limits().max_samples
    if spec.samples > max_samples:
        where = " in demo mode" if demo_mode() else ""
        raise InvalidSpecError("samples", spec.samples, f"at most {max_samples:,} samples per variant{where}")
    _check_memory(spec)
    return spec


def coerce_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Every field of `values` checked for type and range and put in canonical form (not against the caps).

    The one place a run configuration's fields are parsed: `make_run_spec` adds today's caps for new runs;
    stored and imported runs (`pointwise.results.stored_spec`) are rebuilt with this alone.
    """
    unknown = sorted(set(values) - set(SPEC_FIELDS), key=str)
    if unknown:
        raise InvalidSpecError(unknown[0], values[unknown[0]], f"one of the fields {', '.join(SPEC_FIELDS)}")
    clean: dict[str, Any] = {}
    for name, allowed in INT_RANGES.items():
        if name in values:
            clean[name] = coerce_int(name, values[name], allowed)
    for name, choices in (("dtype", DTYPES), ("mode", MODES), ("pass_kind", PASSES), ("backend", BACKENDS)):
        if name in values:
            clean[name] = coerce_choice(name, values[name], choices)
    if "device" in values:
        clean["device"] = normalize_device(values["device"])
    if "variants" in values:
        clean["variants"] = coerce_variants(values["variants"])
    for name in ("tf32", "use_bias"):
        if name in values:
            clean[name] = coerce_bool(name, values[name])
    for name in KNOB_FIELDS:
        if name in values:
            clean[name] = coerce_knob(name, values[name])
    return clean


def parse_shape(text: str) -> dict[str, int]:
    """Parse the CLI's `B,H,W,C` into batch/height/width/channels (validated later by `make_run_spec`)."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4 or not all(parts):
        raise InvalidSpecError("shape", text, "four comma-separated integers B,H,W,C (e.g. 8,56,56,64)")
    names = ("batch", "height", "width", "channels")
    return {name: coerce_int(name, part, INT_RANGES[name]) for name, part in zip(names, parts, strict=True)}


def _check_backend(spec: RunSpec) -> None:
    """A new run needs its backend installed here and every variant written for it (`Variant.backends`)."""
    if not backend_installed(spec.backend):
        raise InvalidSpecError(
            "backend", spec.backend, f"an installed backend (`{INSTALL_HINTS[spec.backend]}` installs it)"
        )
    foreign = [key for key in spec.variants if spec.backend not in VARIANTS[key].backends]
    if foreign:
        runs_here = ", ".join(keys_for_backend(spec.backend))
        raise InvalidSpecError(
            "variants",
            ", ".join(foreign),
            f"variants that run on {BACKEND_LABELS[spec.backend]} ({runs_here}); "
            f"{', '.join(VARIANTS[k].label for k in foreign)}: written with tf.*, TensorFlow only",
        )


def _check_memory(spec: RunSpec) -> None:
    needed = estimate_memory_bytes(spec)
    budget = memory_budget_bytes()
    if needed > budget:
        raise InvalidSpecError(
            "shape",
            f"{format_shape(spec.input_shape)} -> {spec.filters} filters",
            f"a run whose estimated memory fits the budget of {budget / 2**20:,.0f} MiB "
            f"(this one needs about {needed / 2**20:,.0f} MiB; set {MEMORY_BUDGET_ENV} to change the budget)",
        )


def coerce_variants(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise InvalidSpecError("variants", value, f"a list of variant keys from {', '.join(VARIANTS)}")
    keys: list[str] = []
    for item in items:
        key = str(item).strip()
        if key not in VARIANTS:
            raise InvalidSpecError("variants", item, f"variant keys from {', '.join(VARIANTS)}")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise InvalidSpecError("variants", value, f"at least one variant key (e.g. {BASELINE_KEY})")
    return tuple(keys)
