"""The JSON-lines protocol: events and errors survive the pipe, and only `protocol` spells the event kinds."""

import json
import re

import pytest

from conftest import ROOT
from pointwise import protocol
from pointwise.errors import InvalidSpecError, JobFailedError, WorkerCrashedError
from pointwise.results import BenchmarkResult, Measurement
from pointwise.spec import make_run_spec


def _over_the_pipe(event: dict) -> dict:
    line = protocol.encode_event(event)
    assert line.endswith("\n") and "\n" not in line[:-1]
    return protocol.decode_event(line)


def test_events_round_trip():
    assert _over_the_pipe(protocol.ready_event(42)) == {"event": "ready", "pid": 42}
    progress = _over_the_pipe(protocol.progress_event("j", "dense", 3, 9, 0.0025))
    assert progress == {
        "id": "j",
        "event": "progress",
        "variant": "dense",
        "done": 3,
        "total": 9,
        "per_call_s": 0.0025,
    }
    assert protocol.kind_of(_over_the_pipe(protocol.phase_event("j", "Checking"))) == protocol.PHASE
    assert _over_the_pipe(protocol.result_event("j", {"a": [1, 2]}))["result"] == {"a": [1, 2]}


def test_job_line_flattens_its_payload():
    job = protocol.decode_job(protocol.encode_job("j", protocol.CHECK, {"spec": {"batch": 1}, "diff_channel": 2}))
    assert job == {"id": "j", "kind": "check", "spec": {"batch": 1}, "diff_channel": 2}


def test_a_line_that_is_not_a_json_object_is_skipped_by_the_server_and_fatal_to_the_worker():
    assert protocol.decode_event("2025-01-01 W tensorflow: noise\n") is None
    assert protocol.decode_event("[1, 2]\n") is None
    with pytest.raises(json.JSONDecodeError):
        protocol.decode_job("{not json\n")


def test_an_event_with_nan_is_refused_in_the_worker():
    with pytest.raises(ValueError):
        protocol.encode_event(protocol.result_event("j", {"x": float("nan")}))


@pytest.mark.parametrize("value", ["GPU:3", 0, 2.5, float("nan"), (1, 2), None])
def test_invalid_spec_error_is_rebuilt_with_the_same_message(value):
    local = InvalidSpecError("device", value, "a device TensorFlow finds here: CPU:0")
    rebuilt = protocol.error_from_event(_over_the_pipe(protocol.error_event("j", local)))
    assert isinstance(rebuilt, InvalidSpecError) and rebuilt.field == "device"
    if value is None or isinstance(value, (str, int)) or value == 2.5:
        assert str(rebuilt) == str(local)
    else:
        assert str(value) in str(rebuilt)


def test_other_errors_cross_as_their_message():
    event = _over_the_pipe(protocol.error_event("j", WorkerCrashedError("out of memory")))
    assert event["error_type"] == "WorkerCrashedError" and event["field"] is None
    rebuilt = protocol.error_from_event(event)
    assert isinstance(rebuilt, JobFailedError) and str(rebuilt) == "out of memory"
    bug = _over_the_pipe(protocol.error_event("j", KeyError("spec")))
    assert bug["error_type"] == protocol.INTERNAL_ERROR and bug["message"] == "KeyError: 'spec'"


def test_raw_result_has_no_statistics_and_the_server_derives_them():
    spec = make_run_spec(batch=1, height=2, width=2, channels=2, filters=2, samples=3, variants=["conv2d_1x1"])
    result = BenchmarkResult(
        spec=spec,
        measurements=(Measurement("conv2d_1x1", (1e-3, 2e-3, 3e-3), 1, 0.1),),
        environment={},
    )
    wire = result.to_dict(include_statistics=False)
    assert "statistics" not in wire
    rebuilt = BenchmarkResult.from_dict(json.loads(json.dumps(wire)))
    assert [s.key for s in rebuilt.statistics] == ["conv2d_1x1"]


def test_event_kinds_are_spelled_only_in_the_protocol_module():
    kinds = "|".join((*protocol.JOB_KINDS, protocol.READY, protocol.PROGRESS, protocol.PHASE, protocol.RESULT))
    pattern = re.compile(rf"""["'](event|kind)["']\s*[:=,)]|==\s*["']({kinds})["']""")
    for folder in ("jobs", "worker"):
        for path in (ROOT / "pointwise" / folder).glob("*.py"):
            assert not pattern.search(path.read_text()), path
