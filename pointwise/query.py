"""Shareable links: the run configuration's URL form, parsed with exactly the server's own rules.

A link is `?batch=16&mode=xla&pass=backward&variants=conv2d_1x1&variants=seed_dense_flatten`: stable keys,
never display labels, and only the values that differ from the defaults. `parse_link` turns a URL's query
parameters into configuration values with the same coercion `make_run_spec` uses (so `1e3`, `1e400` or a
400-digit number are refused on every path alike); a bad value becomes one warning naming the parameter
and saying truthfully what is used instead. `link_params` is the inverse: the canonical parameters of a
configuration. Neither imports Streamlit: the sidebar (app.py) applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pointwise.backends import BACKEND_LABELS, BACKENDS, INSTALL_HINTS, backend_installed
from pointwise.errors import InvalidSpecError
from pointwise.limits import active_limits
from pointwise.spec import (
    DTYPES,
    INT_RANGES,
    KNOB_LABELS,
    MODE_LABELS,
    MODES,
    PASS_LABELS,
    PASSES,
    RunSpec,
    coerce_bool,
    coerce_choice,
    coerce_int,
    coerce_knob,
    normalize_device,
)
from pointwise.text import escape_markdown
from pointwise.variants import VARIANTS, keys_for_backend

SIDEBAR_INTS = ("batch", "height", "width", "channels", "filters", "samples", "threads", "inter_threads")
SIDEBAR_BOOLS = ("tf32",)
SIDEBAR_KNOBS = ("onednn", "allocator")
QUERY_KEYS = (*SIDEBAR_INTS, "backend", "device", "dtype", "mode", "pass", *SIDEBAR_KNOBS, "tf32", "variants")
"""URL parameter names; each is also the sidebar widget's key. Two differ from `RunSpec`'s field names:
`pass` (a Python keyword there: `pass_kind`) and `allocator` (`cpu_allocator_bfc`)."""
_SPEC_FIELDS = {"pass": "pass_kind", "allocator": "cpu_allocator_bfc"}
QUERY_LABELS = {
    "batch": "Batch B",
    "height": "Height H",
    "width": "Width W",
    "channels": "Channels C",
    "filters": "Filters F",
    "samples": "Samples per variant",
    "backend": "Keras backend",
    "device": "Device",
    "dtype": "dtype",
    "mode": "Execution mode",
    "pass": "Pass",
    "onednn": "oneDNN (TF_ENABLE_ONEDNN_OPTS)",
    "allocator": "BFC CPU allocator (TF_CPU_ALLOCATOR_USE_BFC)",
    "threads": "Intra-op threads",
    "inter_threads": "Inter-op threads",
    "tf32": "TF32 matmuls",
    "variants": "Variants",
}
MAX_QUERY_VALUE_CHARS = 2000
_SHOWN_VALUE_CHARS = 60
_LABEL_ALIASES = {
    "mode": {label.lower(): key for key, label in MODE_LABELS.items()},
    "pass": {label.lower(): key for key, label in PASS_LABELS.items()},
    "variants": {v.label.lower(): k for k, v in VARIANTS.items()},
}
"""Display labels accepted as aliases of their keys: links written by an earlier version carried labels."""


def int_range(key: str) -> tuple[int, int]:
    """The widget bounds for an integer parameter (samples capped by the active limits)."""
    low, high = INT_RANGES[key]
    return (low, min(high, active_limits().max_samples)) if key == "samples" else (low, high)


def spec_field(key: str) -> str:
    return _SPEC_FIELDS.get(key, key)


def default_for(key: str) -> Any:
    value = getattr(RunSpec(), spec_field(key))
    return list(value) if key == "variants" else value


def default_config() -> dict[str, Any]:
    """The sidebar's starting values, keyed by URL parameter."""
    return {key: default_for(key) for key in QUERY_KEYS}


def spec_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """A sidebar configuration as `make_run_spec` keyword arguments."""
    return {spec_field(key): value for key, value in config.items() if key in QUERY_KEYS}


def runnable_values(config: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """`spec_values(config)` without the chosen variants its backend cannot run, and a sentence naming them.

    The sidebar keeps them selected (switching back to TensorFlow runs them again); the CLI refuses them instead.
    """
    values = spec_values(config)
    backend, chosen = values.get("backend", BACKENDS[0]), values.get("variants")
    if backend not in BACKENDS or not isinstance(chosen, (list, tuple)):
        return values, None
    runnable = [key for key in chosen if key not in VARIANTS or key in keys_for_backend(backend)]
    skipped = [VARIANTS[key].label for key in chosen if key not in runnable]
    if not skipped:
        return values, None
    values["variants"] = runnable
    return values, (
        f"TensorFlow only (written with `tf.*`), so not run on {BACKEND_LABELS[backend]}: {', '.join(skipped)}."
    )


@dataclass
class ParsedLink:
    """What a link sets (`values`, by URL key) and one warning per parameter it could not use."""

    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def parse_link(
    params: Mapping[str, Sequence[str]], devices: Sequence[str], current: Mapping[str, Any] | None = None
) -> ParsedLink:
    """Validate a URL's query parameters (each a list of strings, as `st.query_params.get_all` gives them).

    `current` is the configuration in force (defaults when None): a warning says which value is kept.
    Parameters this module does not know are left alone (other pages may use them).
    """
    current = current or default_config()
    parsed = ParsedLink()
    for key in QUERY_KEYS:
        raw = [str(v) for v in params.get(key) or ()]
        if not raw:
            continue
        try:
            if any(len(v) > MAX_QUERY_VALUE_CHARS for v in raw):
                raise InvalidSpecError(key, raw[0], f"a value of at most {MAX_QUERY_VALUE_CHARS:,} characters")
            value, ignored = _parse_value(key, raw, devices)
        except InvalidSpecError as exc:
            parsed.warnings.append(_warning(key, exc, current[key]))
            continue
        parsed.values[key] = value
        if ignored:
            shown = ", ".join(escape_markdown(v, _SHOWN_VALUE_CHARS) for v in ignored)
            kept = ", ".join(value)
            parsed.warnings.append(
                f"The link's `variants` names unknown variants ({shown}); they were left out. "
                f"Using: {escape_markdown(kept, 400)}."
            )
    return parsed


def _parse_value(key: str, raw: list[str], devices: Sequence[str]) -> tuple[Any, list[str]]:
    """(value, ignored items) for one parameter; raises InvalidSpecError naming the parameter."""
    last = raw[-1].strip()
    if key in SIDEBAR_INTS:
        return coerce_int(key, last, int_range(key)), []
    if key in SIDEBAR_BOOLS:
        return coerce_bool(key, last), []
    if key in SIDEBAR_KNOBS:
        return coerce_knob(key, last), []
    if key == "backend":
        backend = coerce_choice(key, last, BACKENDS)
        if not backend_installed(backend):
            raise InvalidSpecError(key, last, f"an installed backend (`{INSTALL_HINTS[backend]}` installs it)")
        return backend, []
    if key == "device":
        device = normalize_device(last)
        if device not in devices:
            raise InvalidSpecError("device", last, f"one of the devices found here: {', '.join(devices)}")
        return device, []
    if key in ("dtype", "mode", "pass"):
        text = _LABEL_ALIASES.get(key, {}).get(last.lower(), last)
        return coerce_choice(key, text, {"dtype": DTYPES, "mode": MODES, "pass": PASSES}[key]), []
    items = [item.strip() for value in raw for item in value.split(",") if item.strip()]
    keys = [_LABEL_ALIASES["variants"].get(item.lower(), item) for item in items]
    known = list(dict.fromkeys(k for k in keys if k in VARIANTS))
    if not known:
        raise InvalidSpecError("variants", ",".join(raw), f"variant keys from {', '.join(VARIANTS)}")
    return known, [item for item, k in zip(items, keys, strict=True) if k not in VARIANTS]


def _warning(key: str, exc: InvalidSpecError, kept: Any) -> str:
    """One line naming the parameter, what it must be, what was received, and what is used instead."""
    received = escape_markdown(exc.value, _SHOWN_VALUE_CHARS)
    expected = escape_markdown(exc.expected, 400)
    return (
        f"The link's `{key}` was not used: expected {expected}; received “{received}”. "
        f"{QUERY_LABELS[key]} stays at {escape_markdown(format_value(key, kept), 400)}."
    )


def format_value(key: str, value: Any) -> str:
    """A configuration value as the sidebar shows it."""
    if key == "variants":
        return ", ".join(VARIANTS[k].label for k in value)
    if key in SIDEBAR_BOOLS:
        return "on" if value else "off"
    if key in SIDEBAR_KNOBS:
        return KNOB_LABELS[value]
    if key == "threads" or key == "inter_threads":
        return "TensorFlow's default" if value == 0 else f"{value}"
    if key == "mode":
        return MODE_LABELS[value]
    if key == "backend":
        return BACKEND_LABELS[value]
    if key == "pass":
        return PASS_LABELS[value]
    return f"{value:,}" if isinstance(value, int) else str(value)


def link_params(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The canonical query parameters of `config`: stable keys, only values that differ from the defaults."""
    defaults = default_config()
    params = {}
    for key in QUERY_KEYS:
        value = config.get(key, defaults[key])
        if value == defaults[key]:
            continue
        if key == "variants":
            params[key] = list(value)
        elif key in SIDEBAR_BOOLS:
            params[key] = ["on" if value else "off"]
        else:
            params[key] = [str(value)]
    return params


def query_problems(params: Mapping[str, str | Sequence[str]], devices: Sequence[str]) -> dict[str, str]:
    """{parameter: warning} for every known parameter in `params` whose value cannot be used."""
    lists = {k: [v] if isinstance(v, str) else list(v) for k, v in params.items() if v is not None}
    problems = {}
    for key in QUERY_KEYS:
        if key in lists:
            warnings = parse_link({key: lists[key]}, devices).warnings
            if warnings:
                problems[key] = warnings[0]
    return problems


CHEAPEST_CHECK_MODE = "eager"
"""One eager call per variant answers "does it compute Conv2D 1x1?" without tracing or compiling anything."""


def check_spec(spec: RunSpec) -> RunSpec:
    """The spec Explore's equivalence check runs: in eager mode unless the visitor chose a mode.

    A mode is chosen when the link has a `mode` parameter, that is, when it differs from the default: picking
    the default mode in the sidebar writes no parameter, so it reads as not chosen (and eager answers it).
    """
    return spec.with_changes(mode=CHEAPEST_CHECK_MODE) if spec.mode == default_for("mode") else spec
