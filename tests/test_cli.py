import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from pointwise.store import parse_result_json
from pointwise.variants import EQUIVALENT_KEYS, VARIANTS


def cli(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "pointwise", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_variants_json_lists_the_registry():
    done = cli("variants", "--json")
    assert done.returncode == 0
    rows = json.loads(done.stdout)
    assert [r["key"] for r in rows] == list(VARIANTS)
    assert {"key", "label", "origin", "equivalent", "layer", "explanation"} <= set(rows[0])


@pytest.mark.slow
def test_check_json_schema_and_repeated_variant():
    done = cli(
        "check",
        "--shape",
        "2,3,4,5",
        "--filters",
        "3",
        "--variant",
        "seed_dense_flatten",
        "--variant",
        "pointwise",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["spec"]["batch"] == 2 and data["spec"]["variants"] == ["seed_dense_flatten", "pointwise"]
    by_key = {v["key"]: v for v in data["variants"]}
    for field in ("key", "equivalent", "output_shape", "max_abs_err", "max_rel_err", "params", "flops", "reason"):
        assert field in by_key["pointwise"]
    assert by_key["pointwise"]["equivalent"] is True and by_key["pointwise"]["output_shape"] == [2, 3, 4, 3]
    assert by_key["seed_dense_flatten"]["equivalent"] is False
    assert by_key["seed_dense_flatten"]["params"] == 3 * 4 * 5 * 3 + 3


@pytest.mark.slow
def test_bench_json_file_is_importable(tmp_path):
    out = tmp_path / "bench.json"
    done = cli("bench", "--shape", "1,4,4,3", "--filters", "2", "--samples", "3", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "median_ms" in done.stdout
    data = json.loads(out.read_text())
    assert data["format"] == "pointwise-benchmark" and data["format_version"] == 1
    assert [m["key"] for m in data["measurements"]] == list(EQUIVALENT_KEYS)
    assert all(len(m["per_call_s"]) == 3 for m in data["measurements"])
    assert {"tensorflow", "keras"} <= set(data["environment"]["packages"])
    assert data["ceilings"]["peak_gflops_per_s"] > 0
    assert parse_result_json(out.read_bytes())[0].spec.filters == 2


@pytest.mark.slow
def test_sweep_and_ceilings():
    done = cli(
        "sweep",
        "--shape",
        "1,4,4,3",
        "--filters",
        "2",
        "--samples",
        "3",
        "--param",
        "channels",
        "--start",
        "2",
        "--stop",
        "8",
        "--points",
        "3",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    points = json.loads(done.stdout)
    assert [p["values"]["channels"] for p in points] == [2, 4, 8]
    assert [line for line in done.stderr.splitlines() if line.startswith("point ")] == [
        "point 1/3: channels=2",
        "point 2/3: channels=4",
        "point 3/3: channels=8",
    ]
    done = cli("ceilings", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["bandwidth_gb_per_s"] > 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("check", "--shape", "0,3,3,4", "--filters", "5"), "batch"),
        (("check", "--shape", "2,3,3", "--filters", "5"), "shape"),
        (("check", "--shape", "2,3,3,4", "--filters", "-1"), "filters"),
        (("check", "--shape", "2,3,3,4", "--filters", "5", "--dtype", "int8"), "dtype"),
        (("check", "--shape", "2,3,3,4", "--filters", "5", "--device", "TPU:0"), "device"),
        (("check", "--shape", "2,3,3,4", "--filters", "5", "--variant", "fastest"), "variants"),
        (("bench", "--shape", "2,3,3,4", "--filters", "5", "--samples", "0"), "samples"),
        (("bench", "--shape", "2,3,3,4", "--filters", "5", "--mode", "jit"), "mode"),
        (("bench", "--shape", "1,99999,4,4", "--filters", "5"), "height"),
        (("bench", "--shape", "512,512,512,64", "--filters", "64"), "shape"),
        (
            ("sweep", "--shape", "2,3,3,4", "--filters", "5", "--param", "depth", "--start", "1", "--stop", "4"),
            "param",
        ),
        (("sweep", "--param", "batch", "--start", "1", "--stop", "1e29"), "stop"),
        (("sweep", "--param", "batch", "--start", "1", "--stop", "100000000000000000000000000000"), "stop"),
        (("bench", "--time-limit", "nan"), "--time-limit"),
        (("bench", "--time-limit", "inf"), "--time-limit"),
        (("bench", "--time-limit", "-1"), "--time-limit"),
        (("model", "--model", "mobilenet_v2", "--time-limit", "-5"), "--time-limit"),
        (("bench", "--json", "/nonexistent-dir/run.json"), "--json"),
        (("bench", "--json", "/dev/full"), "--json"),
        (("check", "--shape", "1,2,2,2", "--filters", "2", "--device", "CPU:٣"), "device"),
        (("sweep", "--shape", "2,3,3,4", "--filters", "5", "--param", "batch", "--start", "8", "--stop", "4"), "stop"),
        (("ceilings", "--device", "quantum"), "device"),
        (("check", "--shape", "2,3,3,4"), "filters"),
        (("bench", "--shape", "1,2,2,2", "--filters", "2", "--nope"), "--nope"),
        (("tune", "--budget", "0"), "--budget"),
        (("tune", "--budget", "1e400"), "--budget"),
        (("tune", "--shape", "0,3,3,4"), "batch"),
        (("tune", "--shape", "512,512,512,64", "--filters", "512", "--budget", "10"), "shape"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(args, field):
    done = cli(*args, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert field in lines[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POINTWISE_JOB_TIME_LIMIT_S", "nan"),
        ("POINTWISE_JOB_TIME_LIMIT_S", "inf"),
        ("POINTWISE_JOB_TIME_LIMIT_S", "-1"),
        ("POINTWISE_WORKER_MAX_RSS_MB", "inf"),
        ("POINTWISE_WORKER_MAX_RSS_MB", "600"),
    ],
)
def test_bad_setting_stops_the_cli_at_start_naming_the_variable(variable, value):
    env = {**os.environ, variable: value}
    done = subprocess.run(
        [sys.executable, "-m", "pointwise", "variants"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert variable in done.stderr and repr(value) in done.stderr and "[" in done.stderr


def test_json_destination_is_probed_and_left_as_it_was(tmp_path):
    from pointwise.cli_output import JsonDestination

    existing = tmp_path / "old.json"
    existing.write_text("kept")
    JsonDestination(str(existing)).close()
    assert existing.read_text() == "kept"
    fresh = tmp_path / "new.json"
    JsonDestination(str(fresh)).close()
    assert not fresh.exists()
    destination = JsonDestination(str(existing))
    destination.write({"a": 1})
    destination.close()
    assert json.loads(existing.read_text()) == {"a": 1}


@pytest.mark.slow
def test_check_table_fits_120_columns_under_a_one_line_header():
    done = cli("check", "--shape", "2,6,7,5", "--filters", "3", "--dtype", "float64", "--mode", "eager")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "2x6x7x5 -> 3 filters, float64, eager, CPU:0, oneDNN default"
    assert max(map(len, lines)) <= 120
    assert "Not a pointwise" in done.stdout and "NaN" not in done.stdout
