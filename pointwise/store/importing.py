"""Validation of imported result files: everything in them is bounded before anything is stored or shown.

An imported file comes from a stranger in the public demo, and what it holds is rendered for every visitor:
so every string has a length cap, every integer a range, every number must be finite, environment values are
scalars, and a run carries no more samples per variant than its own `spec.samples` and the active cap. A run
that passes here also renders: the statistics need at least `MIN_SAMPLES` samples per variant.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pointwise.errors import ImportRejectedError, InvalidSpecError
from pointwise.limits import active_limits
from pointwise.results import RESULT_FORMAT, RESULT_FORMAT_VERSION, BenchmarkResult, stored_spec
from pointwise.spec import INT_RANGES
from pointwise.text import bounded
from pointwise.variants import VARIANTS

MAX_IMPORT_BYTES = 20 * 2**20
MAX_IMPORT_RUNS = 200
MAX_LABEL_CHARS = 200
MAX_TEXT_CHARS = 500
"""Environment values, reasons and notes: a CPU model name or a platform string is well under this."""
MAX_ENVIRONMENT_ENTRIES = 64
MAX_COUNT = 2**53
"""Bytes, FLOPs, parameters: any real figure is far below; above it a float could no longer hold it exactly."""
MAX_SECONDS = 3600.0
MAX_SHAPE_RANK = 8
MIN_SAMPLES = INT_RANGES["samples"][0]
"""The bootstrap and the Mann-Whitney test need more than one sample; a run never has fewer than this."""
IMPORTS_PER_MINUTE = 6
"""Per visitor session in the public demo: enough for a person, too few to flood the shared history."""
_MESSAGE_CHARS = 300


def parse_result_json(data: bytes | str) -> list[BenchmarkResult]:
    """Validate a file from `python -m pointwise bench --json` (one run) or an export (a list of runs).

    Raises:
        ImportRejectedError: naming what is wrong; nothing is stored by the caller in that case.
    """
    if not isinstance(data, (bytes, bytearray, str)):
        raise ImportRejectedError(f"The upload could not be read: expected file contents, got a {type(data).__name__}.")
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRejectedError(f"The file is {len(data):,} bytes; the limit is {MAX_IMPORT_BYTES:,}.")
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportRejectedError(
                f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})."
            ) from None
    try:
        document = json.loads(data, parse_constant=_reject_constant)
    except RecursionError:
        raise ImportRejectedError("The file is not valid JSON: it is nested too deeply.") from None
    except ValueError as exc:
        raise ImportRejectedError(f"The file is not valid JSON: {bounded(exc, _MESSAGE_CHARS)}.") from None
    entries = document if isinstance(document, list) else [document]
    if not entries or len(entries) > MAX_IMPORT_RUNS:
        raise ImportRejectedError(f"Expected 1 to {MAX_IMPORT_RUNS} runs, found {len(entries)}.")
    return [_parse_run(entry, f"run {index + 1}") for index, entry in enumerate(entries)]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _reject(where: str, message: object) -> ImportRejectedError:
    return ImportRejectedError(f"{where}: {bounded(message, _MESSAGE_CHARS)}")


def _parse_run(entry: Any, where: str) -> BenchmarkResult:
    if not isinstance(entry, dict) or entry.get("format") != RESULT_FORMAT:
        raise _reject(where, f"not a pointwise benchmark result (`format` must be {RESULT_FORMAT!r}).")
    _check_format_version(entry.get("format_version"), where)
    for field_name, kind in (("spec", dict), ("measurements", list), ("environment", dict)):
        if not isinstance(entry.get(field_name), kind):
            raise _reject(where, f"field `{field_name}` must be a JSON {kind.__name__}.")
    label = entry.get("label", "")
    if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS:
        raise _reject(where, f"field `label` must be a string of at most {MAX_LABEL_CHARS} characters.")
    try:
        spec = stored_spec(entry["spec"])
    except InvalidSpecError as exc:
        raise _reject(where, exc) from None
    _check_measurements(entry["measurements"], spec.samples, where)
    _check_environment(entry["environment"], where)
    _check_ceilings(entry.get("ceilings"), where)
    _check_equivalence(entry.get("equivalence", []), where)
    if not _is_count(entry.get("worker_peak_rss_bytes"), allow_none=True):
        raise _reject(where, f"field `worker_peak_rss_bytes` must be null or an integer in [0, {MAX_COUNT:,}].")
    # Only the fields that were checked above reach `from_dict`; the file's own `statistics` are never trusted.
    checked = {k: entry.get(k) for k in ("format", "label", "spec", "environment", "ceilings", "measurements")}
    checked["worker_peak_rss_bytes"] = entry.get("worker_peak_rss_bytes")
    checked["equivalence"] = [_without_arrays(r) for r in entry.get("equivalence", [])]
    return BenchmarkResult.from_dict(checked)


def _check_format_version(version: Any, where: str) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _reject(where, f"field `format_version` must be a positive integer; received {version!r}.")
    if version > RESULT_FORMAT_VERSION:
        raise _reject(
            where,
            f"made by a newer Pointwise Lab (format_version {version}; this one reads up to "
            f"{RESULT_FORMAT_VERSION}): upgrade to import it.",
        )


def _is_number(value: Any, low: float = -math.inf, high: float = math.inf) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and low <= value <= high
    )


def _is_count(value: Any, allow_none: bool = False, low: int = 0) -> bool:
    if value is None:
        return allow_none
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= MAX_COUNT


def _is_text(value: Any, max_chars: int = MAX_TEXT_CHARS, allow_none: bool = False) -> bool:
    if value is None:
        return allow_none
    return isinstance(value, str) and len(value) <= max_chars


def _check_measurements(measurements: list, spec_samples: int, where: str) -> None:
    if not measurements:
        raise _reject(where, "field `measurements` is empty.")
    if len(measurements) > len(VARIANTS):
        raise _reject(where, f"field `measurements` holds {len(measurements)} entries; at most {len(VARIANTS)}.")
    max_samples = min(spec_samples, active_limits().max_samples)
    seen: set[str] = set()
    for m in measurements:
        _check_measurement(m, max_samples, where)
        if m["key"] in seen:
            raise _reject(where, f"variant {m['key']} appears twice in `measurements`.")
        seen.add(m["key"])


def _check_measurement(m: Any, max_samples: int, where: str) -> None:
    if not isinstance(m, dict):
        raise _reject(where, "each entry of `measurements` must be an object.")
    key = m.get("key")
    if not isinstance(key, str) or key not in VARIANTS:
        raise _reject(where, f"unknown variant key {key!r} in `measurements`.")
    times = m.get("per_call_s")
    if not isinstance(times, list) or not MIN_SAMPLES <= len(times) <= max_samples:
        count = len(times) if isinstance(times, list) else type(times).__name__
        raise _reject(
            where,
            f"`per_call_s` of {key} must be a list of {MIN_SAMPLES} to {max_samples:,} numbers (at most the "
            f"run's `spec.samples` and this server's sample cap); received {count}.",
        )
    for t in times:
        if not _is_number(t) or not 0 < t <= MAX_SECONDS:
            raise _reject(where, f"`per_call_s` of {key} holds {t!r}; expected seconds in (0, {MAX_SECONDS:.0f}].")
    if not _is_count(m.get("calls_per_block"), low=1):
        raise _reject(where, f"`calls_per_block` of {key} must be an integer in [1, {MAX_COUNT:,}].")
    if not _is_number(m.get("cold_start_s"), 0, MAX_SECONDS):
        raise _reject(where, f"`cold_start_s` of {key} must be seconds in [0, {MAX_SECONDS:.0f}].")
    if not _is_count(m.get("peak_memory_bytes"), allow_none=True):
        raise _reject(where, f"`peak_memory_bytes` of {key} must be null or an integer in [0, {MAX_COUNT:,}].")


def _is_scalar(value: Any) -> bool:
    if isinstance(value, (bool, type(None))):
        return True
    if isinstance(value, int):
        return -MAX_COUNT <= value <= MAX_COUNT
    return _is_number(value) or _is_text(value)


def _check_environment(environment: dict, where: str) -> None:
    """Scalars under short keys; one level of nesting is allowed for the `packages` versions card."""
    if len(environment) > MAX_ENVIRONMENT_ENTRIES:
        raise _reject(where, f"field `environment` has {len(environment)} entries; at most {MAX_ENVIRONMENT_ENTRIES}.")
    for key, value in environment.items():
        if len(key) > 64:
            raise _reject(where, f"an `environment` key is {len(key):,} characters long; at most 64.")
        if key == "packages" and isinstance(value, dict) and len(value) <= MAX_ENVIRONMENT_ENTRIES:
            bad = next((k for k, v in value.items() if len(k) > 64 or not _is_scalar(v)), None)
            if bad is None:
                continue
            key, value = f"packages.{bounded(bad, 64)}", value[bad]
        if not _is_scalar(value):
            shown = f"a string of {len(value):,} characters" if isinstance(value, str) else bounded(repr(value), 60)
            raise _reject(
                where,
                f"`environment.{bounded(key, 64)}` must be null, a boolean, a finite number or a string of at most "
                f"{MAX_TEXT_CHARS} characters; received {shown}.",
            )


def _check_ceilings(ceilings: Any, where: str) -> None:
    if ceilings is None:
        return
    positive = ("peak_gflops_per_s", "bandwidth_gb_per_s")
    if (
        not isinstance(ceilings, dict)
        or not all(_is_number(ceilings.get(k), 1e-9, 1e12) for k in positive)
        or not all(_is_count(ceilings.get(k), low=1) for k in ("gemm_size", "stream_bytes"))
        or not all(_is_text(ceilings.get(k), 32) for k in ("device", "dtype"))
    ):
        raise _reject(
            where,
            "field `ceilings` must be null or hold positive finite peak_gflops_per_s and bandwidth_gb_per_s, "
            "positive integers gemm_size and stream_bytes, and short strings device and dtype.",
        )


def _is_shape(shape: Any, allow_none: bool = False) -> bool:
    if shape is None:
        return allow_none
    return isinstance(shape, list) and len(shape) <= MAX_SHAPE_RANK and all(_is_count(d) for d in shape)


def _check_equivalence(reports: Any, where: str) -> None:
    if not isinstance(reports, list) or len(reports) > len(VARIANTS):
        raise _reject(where, f"field `equivalence` must be a list of at most {len(VARIANTS)} entries.")
    for report in reports:
        if (
            not isinstance(report, dict)
            or not isinstance(report.get("key"), str)
            or report["key"] not in VARIANTS
            or not isinstance(report.get("equivalent"), bool)
            or not _is_text(report.get("label"), MAX_LABEL_CHARS)
            or not _is_text(report.get("status"), 32)
            or not all(_is_count(report.get(k)) for k in ("params", "baseline_params", "flops"))
            or not all(_is_text(report.get(k), allow_none=True) for k in ("reason", "note"))
            or not _is_shape(report.get("output_shape"), allow_none=True)
            or not _is_shape(report.get("baseline_shape"))
            or not _is_number(report.get("rel_tolerance"), 0)
            or not all(
                report.get(k) is None or _is_number(report[k])
                for k in ("max_abs_err", "max_rel_err", "max_rel_err_vs_float64", "baseline_max_rel_err_vs_float64")
            )
        ):
            raise _reject(where, "an entry of `equivalence` is malformed (see `python -m pointwise check --json`).")


def _without_arrays(report: dict) -> dict:
    """Imports never carry the diff maps: they are large, and only the live Explore page draws them."""
    return {k: v for k, v in report.items() if k not in ("diff_map", "diff_histogram")}


def imports_allowed(recent_import_times: list[float], now: float) -> bool:
    """Whether one more import fits `IMPORTS_PER_MINUTE` given the session's recent import times (seconds)."""
    return sum(1 for t in recent_import_times if now - t < 60) < IMPORTS_PER_MINUTE


def clean_environment(environment: dict) -> dict:
    """`environment` made to pass `_check_environment`, for saving and exporting runs stored before the caps.

    Values that would be rejected become bounded strings (an infinite float becomes "inf"), so an export
    always imports again; entries past `MAX_ENVIRONMENT_ENTRIES` are dropped.
    """
    clean: dict[str, Any] = {}
    for key, value in list(environment.items())[:MAX_ENVIRONMENT_ENTRIES]:
        key = bounded(key, 64)
        if key == "packages" and isinstance(value, dict):
            clean[key] = {bounded(k, 64): _clean_scalar(v) for k, v in list(value.items())[:MAX_ENVIRONMENT_ENTRIES]}
        else:
            clean[key] = _clean_scalar(value)
    return clean


def _clean_scalar(value: Any) -> Any:
    return value if _is_scalar(value) else bounded(value, MAX_TEXT_CHARS)
