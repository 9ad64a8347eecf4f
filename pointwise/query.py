"""Shareable links: check URL query parameters before the sidebar widgets read them.

The browser enforces widget bounds, a URL does not: every value a link carries is validated here, on the
server, with the same rules as `make_run_spec`. A bad value becomes a warning naming the parameter; the
sidebar then uses the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pointwise.errors import InvalidSpecError
from pointwise.limits import active_limits
from pointwise.spec import DTYPES, INT_RANGES, MODES, PASSES, RunSpec, coerce_bool, coerce_int, make_run_spec

SIDEBAR_INTS = ("batch", "height", "width", "channels", "filters", "samples")
QUERY_KEYS = (*SIDEBAR_INTS, "device", "dtype", "mode", "pass", "onednn", "tf32", "variants")
"""URL parameter names; each is the sidebar widget's key. `pass` maps to `RunSpec.pass_kind`."""
MAX_QUERY_VALUE_CHARS = 2000


def int_range(key: str) -> tuple[int, int]:
    """The widget bounds for an integer parameter (samples capped by the active limits)."""
    low, high = INT_RANGES[key]
    return (low, min(high, active_limits().max_samples)) if key == "samples" else (low, high)


def default_for(key: str):
    defaults = RunSpec()
    if key == "pass":
        return defaults.pass_kind
    if key == "variants":
        return list(defaults.variants)
    return getattr(defaults, key)


def query_value_problem(key: str, raw: str | Sequence[str] | None, devices: Sequence[str]) -> str | None:
    """None if `raw` is acceptable for URL parameter `key`, else a message naming the parameter and value."""
    if raw is None or (not isinstance(raw, str) and len(raw) == 0):
        return None
    if isinstance(raw, str) and len(raw) > MAX_QUERY_VALUE_CHARS:
        raw = raw[:40] + "…"
        return f"The link's `{key}` is too long ({raw!r}). The default is used instead."
    try:
        if key in SIDEBAR_INTS:
            coerce_int(key, raw, int_range(key))
        elif key in ("onednn", "tf32"):
            coerce_bool(key, raw)
        elif key == "device":
            if raw not in devices:
                raise InvalidSpecError("device", raw, f"one of the devices found here: {', '.join(devices)}")
        elif key in ("dtype", "mode", "pass"):
            choices = {"dtype": DTYPES, "mode": MODES, "pass": PASSES}[key]
            if raw not in choices:
                raise InvalidSpecError(key, raw, f"one of {', '.join(choices)}")
        elif key == "variants":
            make_run_spec(variants=[raw] if isinstance(raw, str) else list(raw))
    except InvalidSpecError as exc:
        return f"The link's {exc} The default is used instead."
    return None


def query_problems(params: Mapping[str, str | Sequence[str]], devices: Sequence[str]) -> dict[str, str]:
    """{parameter: warning} for every known parameter in `params` whose value is unacceptable."""
    problems = {}
    for key in QUERY_KEYS:
        problem = query_value_problem(key, params.get(key), devices)
        if problem:
            problems[key] = problem
    return problems
