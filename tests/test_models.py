"""Real networks with real TensorFlow: the 1x1 inventory, `convert_pointwise`, BatchNorm folding, the request's
validation and caps, the statistics derived on the server, and the `model` job through a worker and the CLI.

Networks are built at small inputs (32-64 px): the layer structure, and so the counts, do not depend on it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pointwise import InvalidSpecError
from pointwise.models import make_model_request, tolerance

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from pointwise.layers import PointwiseConv2D  # noqa: E402
from pointwise.model_conversion import (  # noqa: E402
    CONVERTED,
    KEPT,
    SUBSAMPLED,
    FoldedBatchNorm,
    SubsampledPointwise,
    conversion_plan,
    convert_pointwise,
    convert_with_plan,
    fold_batchnorm,
    foldable_pairs,
)
from pointwise.worker.model_inventory import build_network, inventory, randomize_batchnorm  # noqa: E402

EXPECTED_1X1 = {"mobilenet_v2": (34, 0), "efficientnet_b0": (64, 0), "mobilenet_v3_small": (42, 0), "resnet50": (36, 6)}
BUILDERS = {
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_b0": "EfficientNetB0",
    "mobilenet_v3_small": "MobileNetV3Small",
    "resnet50": "ResNet50",
}


def _network(key: str, size: int = 64, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = build_network(BUILDERS[key], size)
    randomize_batchnorm(model, seed)
    return model


def _inputs(size: int, batch: int = 2) -> tf.Tensor:
    return tf.constant(np.random.default_rng(1).normal(size=(batch, size, size, 3)), tf.float32)


def _relative_error(reference, candidate) -> float:
    reference, candidate = np.asarray(reference), np.asarray(candidate)
    return float(np.max(np.abs(reference - candidate)) / np.max(np.abs(reference)))


@pytest.mark.parametrize("key", list(EXPECTED_1X1))
def test_inventory_counts_every_1x1_convolution_and_the_strided_ones(key):
    rows = inventory(_network(key, 32), batch=1)
    pointwise_rows = [r for r in rows if r["layer_kind"] == "1x1"]
    strided = [r for r in pointwise_rows if r["stride"] != [1, 1]]
    assert (len(pointwise_rows), len(strided)) == EXPECTED_1X1[key]
    # A 1x1 layer's FLOPs are 2·B·H'·W'·C·F, and its parameters C·F (+ F with a bias).
    for row in pointwise_rows:
        height, width = row["output_shape"][:2]
        assert row["flops"] == 2 * height * width * row["channels"] * row["filters"]
        assert row["params"] in (row["channels"] * row["filters"], (row["channels"] + 1) * row["filters"])


def test_mobilenet_v2_inventory_names_the_batchnorm_and_activation_after_each_layer():
    rows = {r["layer"]: r for r in inventory(_network("mobilenet_v2", 32), batch=4)}
    assert rows["block_1_expand"]["batchnorm"] == "block_1_expand_BN"
    assert rows["block_1_expand"]["activation"] == "linear, then relu6"
    assert rows["block_1_project"]["activation"] == "linear"  # the linear bottleneck
    assert rows["Conv1"]["layer_kind"] == "kxk" and rows["expanded_conv_depthwise"]["layer_kind"] == "depthwise"
    assert rows["predictions"]["layer_kind"] == "dense"
    assert rows["block_1_expand"]["flops"] == 4 * 2 * 16 * 16 * 16 * 96


@pytest.mark.parametrize(("key", "size"), [("mobilenet_v2", 64), ("efficientnet_b0", 64)])
def test_converted_network_computes_the_original_logits_within_tolerance(key, size):
    model = _network(key, size)
    converted = convert_pointwise(model, "pointwise", strided="keep", strategy="gemm")
    kinds = [type(layer) for layer in converted.layers]
    assert kinds.count(PointwiseConv2D) == EXPECTED_1X1[key][0]
    assert not any(type(layer) is keras.layers.Conv2D and layer.kernel_size == (1, 1) for layer in converted.layers)
    x = _inputs(size)
    assert _relative_error(model(x, training=False), converted(x, training=False)) <= tolerance("float32")
    # A copy: training the converted model leaves the original's weights as they were.
    before = model.get_layer("block_1_expand" if key == "mobilenet_v2" else "block2a_expand_conv").get_weights()[0]
    converted.layers[5].trainable_variables[0].assign_add(tf.ones_like(converted.layers[5].trainable_variables[0]))
    after = model.get_layer("block_1_expand" if key == "mobilenet_v2" else "block2a_expand_conv").get_weights()[0]
    assert np.array_equal(before, after)


def test_a_wrong_kernel_is_caught_by_the_tolerance():
    model = _network("mobilenet_v2", 32)
    converted = convert_pointwise(model, "dense", strided="keep")
    layer = converted.get_layer("block_3_project")
    kernel, *rest = layer.get_weights()
    layer.set_weights([kernel[::-1], *rest])  # channels in the wrong order: a plausible conversion bug
    x = _inputs(32)
    assert _relative_error(model(x, training=False), converted(x, training=False)) > tolerance("float32")


def test_resnet_strided_1x1_layers_are_subsampled_or_kept_and_stay_equivalent():
    model = _network("resnet50", 64)
    measured = conversion_plan(model, "pointwise", strided="measure")
    strided = [d for d in measured if d.action != CONVERTED]
    assert len(strided) == 6 and all("ms" in d.reason for d in strided)
    assert {d.action for d in strided} <= {KEPT, SUBSAMPLED}
    subsampled = convert_pointwise(model, "pointwise", strided="subsample", strategy="gemm")
    assert sum(isinstance(layer, SubsampledPointwise) for layer in subsampled.layers) == 6
    x = _inputs(64)
    reference = model(x, training=False)
    assert _relative_error(reference, subsampled(x, training=False)) <= tolerance("float32")
    by_measure = convert_with_plan(model, measured, "pointwise", strategy="gemm")
    assert _relative_error(reference, by_measure(x, training=False)) <= tolerance("float32")


def test_batchnorm_folding_is_equivalent_and_removes_every_foldable_batchnorm():
    model = _network("mobilenet_v2", 64)
    converted = convert_pointwise(model, "pointwise", strided="keep", strategy="gemm")
    assert len(foldable_pairs(converted)) == 34  # every 1x1 layer of MobileNetV2 is followed by its own BN
    folded = fold_batchnorm(converted)
    assert sum(isinstance(layer, FoldedBatchNorm) for layer in folded.layers) == 34
    x = _inputs(64)
    reference = model(x, training=False)
    assert _relative_error(reference, folded(x, training=False)) <= tolerance("float32")
    # Folding the original Conv2D model works alike.
    assert _relative_error(reference, fold_batchnorm(model)(x, training=False)) <= tolerance("float32")


def test_folding_uses_the_moving_statistics():
    model = _network("mobilenet_v2", 32)
    folded = fold_batchnorm(model)
    model.get_layer("block_2_expand_BN").moving_mean.assign_add(tf.ones((144,)))
    x = _inputs(32)
    # The original now normalizes with other statistics; the folded copy kept the ones it was folded with.
    assert _relative_error(model(x, training=False), folded(x, training=False)) > tolerance("float32")


def test_unknown_variant_and_strided_choice_are_refused():
    model = _network("mobilenet_v2", 32)
    with pytest.raises(ValueError, match="variant"):
        convert_pointwise(model, "seed_dense_flatten")
    with pytest.raises(ValueError, match="strided"):
        convert_pointwise(model, "pointwise", strided="sometimes")


def test_requests_are_validated_and_demo_caps_name_themselves(monkeypatch):
    assert make_model_request("resnet50", "224", 8).gflop == pytest.approx(8.2 * 8)
    for field, args in [("model", ("vgg16",)), ("input", ("mobilenet_v2", 0)), ("batch", ("mobilenet_v2", 224, "x"))]:
        with pytest.raises(InvalidSpecError, match=field):
            make_model_request(*args)
    monkeypatch.setenv("POINTWISE_DEMO", "1")
    with pytest.raises(InvalidSpecError, match="model_max_gflop"):
        make_model_request("resnet50", 224, 8)
    with pytest.raises(InvalidSpecError, match="model_max_input"):
        make_model_request("mobilenet_v2", 512, 1)
    with pytest.raises(InvalidSpecError, match="model_max_batch"):
        make_model_request("mobilenet_v2", 96, 9)
    assert make_model_request("mobilenet_v2", 224, 8).batch == 8


@pytest.mark.slow
def test_cli_json_has_inventory_equivalence_and_timings(tmp_db):
    command = [sys.executable, "-m", "pointwise", "model", "--model", "mobilenet_v3_small", "--input", "32"]
    command += ["--batch", "1", "--rounds", "3", "--json"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    output = json.loads(completed.stdout)
    summary, result = output["summary"], output["result"]
    assert summary["count_1x1"] == 42
    assert len([r for r in result["inventory"] if r["layer_kind"] == "1x1"]) == 42
    assert result["conversion"]["equivalence"]["logits"]["ok"]
    assert result["conversion"]["equivalence"]["first_diverging"] is None
    rows = {(t["pass"], t["key"]): t for t in summary["timings"]}
    assert set(rows) == {("inference", "conv2d"), ("inference", "converted"), ("inference", "folded")} | {
        ("training", "conv2d"),
        ("training", "converted"),
    }
    for row in rows.values():
        assert row["samples"] == 3 and row["ci95_low_ms"] <= row["median_ms"] <= row["ci95_high_ms"]
    assert summary["time_share_1x1"]["inference"] > 0 and "vs the original" in summary["verdict"]


def test_cli_refuses_an_unknown_model_naming_the_field():
    completed = subprocess.run(
        [sys.executable, "-m", "pointwise", "model", "--model", "vgg16"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2 and "model" in completed.stderr and "vgg16" in completed.stderr


@pytest.mark.slow
def test_models_page_table_has_a_row_and_a_benchmark_link_per_1x1_layer(tmp_db):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/models.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="model_network").value == "mobilenet_v2"
    table = at.dataframe[0].value
    assert len(table) == 34 and at.subheader[0].value == "34 pointwise (1x1) convolutions"
    first = table.iloc[0]
    assert first["layer"] == "expanded_conv_project"
    # 96x96 input, batch 2: the first 1x1 layer runs at 48x48, 32 -> 16.
    assert first["benchmark"] == "benchmark?batch=2&height=48&width=48&channels=32&filters=16"


def test_verdict_calls_a_speedup_measurable_only_when_its_interval_excludes_one():
    from pointwise.model_frames import folding_speedup, verdict

    rng = np.random.default_rng(0)
    slow, fast = list(rng.normal(0.2, 0.002, 20)), list(rng.normal(0.1, 0.001, 20))
    data = {
        "request": {"model": "mobilenet_v2", "variant": "pointwise"},
        "conversion": {
            "timings": {
                "inference": {"conv2d": slow, "converted": slow, "folded": fast},
                "training": {"conv2d": slow, "converted": slow},
            },
            "profiled_1x1": {p: {"pointwise_us": 30.0, "total_us": 100.0} for p in ("inference", "training")},
        },
    }
    assert folding_speedup(data)["ci95_low"] > 1.5
    sentence = verdict(data, "Test CPU")
    assert "30% of its inference" in sentence and "conversion inference: no measurable change" in sentence
    assert "folding alone (vs the converted model) 2.0" in sentence and "not measurable" not in sentence
