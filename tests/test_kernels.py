"""The kernels that ran: real TensorFlow in worker processes (one per oneDNN setting), and the result's plain data."""

import dataclasses
import json
import subprocess
import sys

import pytest

from conftest import ROOT, small_spec
from pointwise.errors import InvalidSpecError
from pointwise.frames import kernels_frame
from pointwise.jobs import kernels_cached
from pointwise.kernel_charts import kernels_chart
from pointwise.kernels import KernelRow, KernelsResult, VariantKernels, describe_op
from pointwise.results import stored_spec

# Large enough that the GEMMs are traced as expensive kernels, small enough for a second per variant.
SHAPE = dict(batch=2, height=8, width=8, channels=16, filters=32)
KEYS = ["conv2d_1x1", "seed_matmul", "dense", "matmul_2d"]


def _ops(result: KernelsResult) -> dict[str, dict[str, KernelRow]]:
    return {v.key: {row.op: row for row in v.rows} for v in result.variants}


def _timed_op(rows: dict[str, KernelRow], family: str) -> str:
    """The one op whose name contains `family` and that was traced with a time."""
    found = [op for op, row in rows.items() if family in op and row.time_us]
    assert len(found) == 1, (family, rows)
    return found[0]


@pytest.mark.slow
def test_graph_mode_kernels_follow_the_onednn_setting(pool):
    on = kernels_cached(small_spec(**SHAPE, variants=KEYS, onednn="on"), fresh=True, pool=pool)
    off = kernels_cached(small_spec(**SHAPE, variants=KEYS, onednn="off"), fresh=True, pool=pool)
    assert on.worker_pid != off.worker_pid, "each oneDNN setting is its own worker"
    assert on.result.onednn is True and off.result.onednn is False
    with_onednn, without = _ops(on.result), _ops(off.result)
    # Seed Example 1 is a batched matmul; the baseline a convolution with its bias fused in; the 2-D matmul one GEMM
    # with the bias fused in; oneDNN's rewrite shows in every name.
    assert _timed_op(with_onednn["seed_matmul"], "BatchMatMul").startswith("_Mkl")
    assert _timed_op(without["seed_matmul"], "BatchMatMul") == "BatchMatMulV2"
    assert _timed_op(with_onednn["conv2d_1x1"], "Conv2D") == "_MklNativeFusedConv2D"
    assert _timed_op(without["conv2d_1x1"], "Conv2D") == "_FusedConv2D"
    assert _timed_op(with_onednn["matmul_2d"], "MatMul") == "_MklNativeFusedMatMul"
    assert _timed_op(without["matmul_2d"], "MatMul") == "_FusedMatMul"
    for result in (on.result, off.result):
        for variant in result.variants:
            shares = [row.share for row in variant.rows if row.share is not None]
            assert sum(shares) == pytest.approx(1.0) and variant.calls >= 3 and variant.wall_us > 0
            assert not {"_Arg", "_Retval", "NoOp"} & {row.op for row in variant.rows if row.time_us is None}
    assert kernels_cached(small_spec(**SHAPE, variants=KEYS, onednn="on"), pool=pool).cached


@pytest.mark.slow
def test_backward_and_eager_list_the_gradient_kernels(pool):
    graph = _ops(kernels_cached(small_spec(**SHAPE, variants=["conv2d_1x1"], pass_kind="backward"), pool=pool).result)
    for gradient in ("BackpropInput", "BackpropFilter"):
        assert any(gradient in op and row.time_us for op, row in graph["conv2d_1x1"].items()), graph
    eager = kernels_cached(small_spec(**SHAPE, variants=["seed_matmul"], mode="eager"), pool=pool).result
    assert "BatchMatMulV2" in _ops(eager)["seed_matmul"], "eager mode names the op it dispatched"


@pytest.mark.slow
def test_xla_lists_the_compiled_instructions_with_their_time(pool):
    spec = small_spec(**SHAPE, variants=["conv2d_1x1", "matmul_2d"], mode="xla", pass_kind="backward")
    result = kernels_cached(spec, pool=pool).result
    for variant in result.variants:
        details = " ".join(row.detail for row in variant.rows)
        assert any(kind in details for kind in ("dot", "convolution", "custom-call")), details
        assert any(row.time_us for row in variant.rows), "the instructions' execution is traced"
    assert any(row.detail.startswith("fusion (") for v in result.variants for row in v.rows)


def test_a_backend_without_a_kernel_reader_is_refused_naming_the_field_before_any_job():
    spec = dataclasses.replace(stored_spec({}), backend="torch")  # past validation, as a future backend would be
    with pytest.raises(InvalidSpecError) as caught:
        kernels_cached(spec, pool=object())  # a pool that would fail if it were used
    assert caught.value.field == "backend" and "tensorflow, jax" in str(caught.value)


def test_result_crosses_as_json_and_its_table_and_chart_escape_labels():
    rows = (
        KernelRow("_FusedMatMul", 1.0, 30.0, 0.75, describe_op("_FusedMatMul")),
        KernelRow("Reshape", 2, None, None),
        KernelRow("<b>x</b>", 1, 10.0, 0.25),
    )
    result = KernelsResult(small_spec(), True, (VariantKernels("matmul_2d", rows, 5, 50.0),))
    rebuilt = KernelsResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert rebuilt == result
    frame = kernels_frame(rebuilt)
    assert list(frame["op"]) == ["_FusedMatMul", "Reshape", "<b>x</b>"]
    assert frame["share of kernel time"].tolist()[0] == 75.0
    figure = kernels_chart(frame, "<i>title</i>")
    names = [trace.name for trace in figure.data]
    assert "&lt;b&gt;x&lt;/b&gt;" in names and not any("<" in name for name in names)
    assert "<i>" not in figure.layout.title.text
    assert "fused" in describe_op("_MklNativeFusedMatMul") and "oneDNN" in describe_op("_MklBatchMatMulV2")
    assert "batched matmul" in describe_op("BatchMatMulV2") and "second pass" in describe_op("BiasAdd")


@pytest.mark.slow
def test_cli_check_json_carries_the_kernels():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pointwise",
            "check",
            "--shape",
            "2,8,8,16",
            "--filters",
            "32",
            "--variant",
            "seed_matmul",
            "--kernels",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    kernels = json.loads(done.stdout)["kernels"]
    assert kernels["spec"]["mode"] == "graph" and isinstance(kernels["onednn"], bool)
    ops = [row["op"] for row in kernels["variants"][0]["rows"]]
    assert any("BatchMatMul" in op for op in ops), ops
