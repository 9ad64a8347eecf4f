import json
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
            "parameter",
        ),
        (("sweep", "--shape", "2,3,3,4", "--filters", "5", "--param", "batch", "--start", "8", "--stop", "4"), "stop"),
        (("ceilings", "--device", "quantum"), "device"),
        (("bench", "--shape", "2,3,3,4"), "filters"),
        (("bench", "--shape", "1,2,2,2", "--filters", "2", "--nope"), "--nope"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(args, field):
    done = cli(*args, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert field in lines[0] and "Traceback" not in done.stderr
