"""Imported files are bounded: hostile files are rejected naming the field, hostile text is kept as text."""

import io
import json

import pytest

from pointwise.errors import ImportRejectedError
from pointwise.frames import samples_frame, stats_frame
from pointwise.store import IMPORTS_PER_MINUTE, imports_allowed, parse_result_json
from test_store import _payload

HALF_MIB = "x" * (2**19)


def _measurement(key="conv2d_1x1", samples=3, **changes):
    return {
        "key": key,
        "per_call_s": [1e-3 + i * 1e-5 for i in range(samples)],
        "calls_per_block": 2,
        "cold_start_s": 0.5,
        **changes,
    }


def _env(**values):
    return {"machine": "lab-1", "date": "2026-11-25T10:00:00+00:00", **values}


HOSTILE_TEXT_ACCEPTED = {
    "markdown link and image label": _payload(
        label="[Session expired - log in again](https://evil.example/login) ![x](https://evil.example/t.png)"
    ),
    "streamlit directive in cpu": _payload(environment=_env(cpu=":red[**re-enter your token**]")),
    "html in machine": _payload(environment=_env(machine='<a href="https://evil.example">lab</a><img src=x>')),
    "latex and icon in label": _payload(label="$\\href{https://evil.example}{x}$ :material/warning:"),
}

REJECTED = {
    "0.5 MiB cpu": (_payload(environment=_env(cpu=HALF_MIB)), "environment.cpu"),
    "0.5 MiB label": (_payload(label=HALF_MIB), "label"),
    "nested environment value": (_payload(environment=_env(cpu={"a": [1, 2]})), "environment.cpu"),
    "list environment value": (_payload(environment=_env(gpu=["a"] * 10)), "environment.gpu"),
    "infinite environment value": (_payload(environment=_env(cpu=1e999)), "environment.cpu"),
    "huge peak memory": (_payload(measurements=[_measurement(peak_memory_bytes=10**400)]), "peak_memory_bytes"),
    "huge calls per block": (_payload(measurements=[_measurement(calls_per_block=10**30)]), "calls_per_block"),
    "huge worker rss": (_payload(worker_peak_rss_bytes=10**400), "worker_peak_rss_bytes"),
    "more samples than spec.samples": (_payload(measurements=[_measurement(samples=20)]), "per_call_s"),
    "one sample per variant": (_payload(measurements=[_measurement(samples=1)]), "per_call_s"),
    "duplicate variant": (_payload(measurements=[_measurement(), _measurement()]), "appears twice"),
    "newer format version": (_payload(format_version=99), "made by a newer Pointwise Lab"),
    "missing format version": (_payload(format_version=None), "format_version"),
    "huge reason": (
        _payload(equivalence=[{"key": "dense", "reason": HALF_MIB, "equivalent": False}]),
        "equivalence",
    ),
    "infinite ceiling": (
        _payload(
            ceilings={
                "device": "CPU:0",
                "dtype": "float32",
                "peak_gflops_per_s": 1e999,
                "bandwidth_gb_per_s": 1,
                "gemm_size": 1,
                "stream_bytes": 1,
            }
        ),
        "ceilings",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_TEXT_ACCEPTED))
def test_hostile_text_is_accepted_as_text_and_renders(name):
    (result,) = parse_result_json(json.dumps(HOSTILE_TEXT_ACCEPTED[name]))
    assert len(stats_frame(result)) == 2 and len(samples_frame(result)) == 6


@pytest.mark.parametrize("name", list(REJECTED))
def test_unbounded_or_malformed_fields_are_rejected_naming_the_field(name):
    document, field = REJECTED[name]
    # Python writes inf as `Infinity`, which JSON lacks; `1e999` is valid JSON that parses to inf.
    with pytest.raises(ImportRejectedError, match=field) as caught:
        parse_result_json(json.dumps(document).replace("Infinity", "1e999"))
    assert len(str(caught.value)) < 600


def test_samples_above_the_active_cap_are_rejected_in_demo_mode(monkeypatch):
    document = _payload(spec={**_payload()["spec"], "samples": 200}, measurements=[_measurement(samples=60)])
    assert parse_result_json(json.dumps(document))
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    with pytest.raises(ImportRejectedError, match="3 to 50 numbers"):
        parse_result_json(json.dumps(document))


def test_a_deeply_nested_file_is_rejected_not_a_recursion_error():
    with pytest.raises(ImportRejectedError, match="nested too deeply"):
        parse_result_json("[" * 100_000 + "]" * 100_000)


def test_an_unreadable_upload_names_the_problem():
    with pytest.raises(ImportRejectedError, match="expected file contents, got a BytesIO") as caught:
        parse_result_json(io.BytesIO(b"{}"))
    assert "<_io" not in str(caught.value)
    with pytest.raises(ImportRejectedError, match="not UTF-8 text \\(byte 0xff at offset 0\\)"):
        parse_result_json(b"\xff\xfe{}")


def test_imports_are_rate_limited_per_minute():
    recent = [100.0 + i for i in range(IMPORTS_PER_MINUTE)]
    assert not imports_allowed(recent, now=130.0)
    assert imports_allowed(recent, now=170.0)
    assert imports_allowed([], now=0.0)


def test_a_file_with_statistics_under_older_names_imports_and_its_statistics_are_recomputed():
    payload = _payload()
    payload["statistics"] = [
        {"key": "conv2d_1x1", "speedup_vs_baseline": 99.0, "speedup_ci_low": 1.0, "intensity_flops_per_byte": 1.0}
    ]
    (result,) = parse_result_json(json.dumps(payload))
    assert result.statistics[0].speedup_vs_conv2d == 1.0
    assert "speedup_vs_conv2d" in result.to_dict()["statistics"][0]
