import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from pointwise.autotune import STRATEGIES
from pointwise.conversion import from_conv2d, pointwise_kernel_from_conv2d
from pointwise.layers import CUSTOM_LAYERS, PointwiseConv2D, SeedDenseFlatten, make_layer
from pointwise.variants import VARIANTS

POINTWISE_KEYS = [k for k in VARIANTS if k != "seed_dense_flatten"]
CUSTOM_POINTWISE = [k for k in POINTWISE_KEYS if VARIANTS[k].layer_class in CUSTOM_LAYERS]


def _hand_weights(channels, filters):
    kernel = np.arange(channels * filters, dtype="float32").reshape(channels, filters) / 10
    bias = np.arange(filters, dtype="float32") - 1
    return kernel, bias


@pytest.mark.parametrize("key", CUSTOM_POINTWISE)
def test_smoke_shape_and_weight_count(key):
    layer = make_layer(key, 5)
    out = layer(np.zeros((2, 3, 4, 7), "float32"))
    expected = (2, 12, 5) if key == "seed_einsum" else (2, 3, 4, 5)
    assert tuple(out.shape) == expected == tuple(layer.compute_output_shape((2, 3, 4, 7)))
    assert sum(math.prod(w.shape) for w in layer.weights) == 7 * 5 + 5


@pytest.mark.parametrize("key", CUSTOM_POINTWISE)
def test_correct_on_hand_set_weights(key):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 3)).astype("float32")
    kernel, bias = _hand_weights(3, 2)
    layer = make_layer(key, 2)
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    out = np.asarray(layer(x)).reshape(2, 3, 4, 2)
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5, atol=1e-5)


def test_pointwise_conv2d_matches_keras_conv2d_with_same_weights():
    x = np.random.default_rng(2).standard_normal((3, 5, 6, 4)).astype("float32")
    conv = keras.layers.Conv2D(7, 1, bias_initializer="random_normal")
    conv.build(x.shape)
    layer = PointwiseConv2D(7)
    layer.build(x.shape)
    layer.set_weights([conv.kernel.numpy().reshape(4, 7), conv.bias.numpy()])
    np.testing.assert_allclose(layer(x), conv(x), rtol=1e-5, atol=1e-6)


def test_seed_dense_flatten_is_a_dense_over_the_image():
    layer = SeedDenseFlatten(4)
    out = layer(np.ones((2, 5, 6, 3), "float32"))
    assert tuple(out.shape) == (2, 1, 4)
    assert sum(math.prod(w.shape) for w in layer.weights) == 5 * 6 * 3 * 4 + 4


@pytest.mark.parametrize("key", [*CUSTOM_POINTWISE, "seed_dense_flatten"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_config_round_trip_and_use_bias(key, use_bias):
    layer = make_layer(key, 3, use_bias=use_bias)
    layer.build((1, 2, 2, 4))
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    names = {w.path.split("/")[-1] for w in layer.weights}
    assert ("bias" in names) is use_bias


@pytest.mark.parametrize("key", [*CUSTOM_POINTWISE, "seed_dense_flatten"])
def test_save_and_load_keras_file_gives_identical_outputs(key, tmp_path):
    inputs = keras.Input((4, 5, 3), batch_size=None if key != "seed_dense_flatten" else 2)
    model = keras.Model(inputs, make_layer(key, 2, seed=3)(inputs))
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 3)).astype("float32")
    path = tmp_path / f"{key}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(model(x), loaded(x))


@pytest.mark.parametrize("key", CUSTOM_POINTWISE)
def test_works_in_sequential(key):
    model = keras.Sequential([keras.Input((3, 3, 2)), make_layer(key, 4), keras.layers.Activation("relu")])
    assert model(np.ones((1, 3, 3, 2), "float32")).shape[-1] == 4


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("key", [*CUSTOM_POINTWISE, "seed_dense_flatten"])
def test_mixed_precision_policy(key, policy):
    layer = make_layer(key, 2, dtype=policy)
    out = layer(np.ones((1, 2, 2, 3), "float32"))
    assert out.dtype == policy.removeprefix("mixed_")
    assert all(w.dtype == "float32" for w in layer.weights)


@pytest.mark.parametrize("filters", [0, -2, 2.5, "8", True, None])
def test_bad_filters_message(filters):
    with pytest.raises(ValueError, match=r"Invalid value for argument `filters`.*Received filters="):
        PointwiseConv2D(filters)


def test_pointwise_conv2d_rejects_non_image_input():
    with pytest.raises(ValueError, match="expects a 4-D input"):
        PointwiseConv2D(2).build((3, 4))


def test_pointwise_conv2d_with_unknown_spatial_dims():
    layer = PointwiseConv2D(3)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 2))])
    assert tuple(fn(tf.ones((2, 3, 5, 2))).shape) == (2, 3, 5, 3)


def test_bad_strategy_message():
    with pytest.raises(ValueError, match=r"Invalid value for argument `strategy`.*Received strategy='fast'"):
        PointwiseConv2D(2, strategy="fast")


@pytest.mark.parametrize("strategy", ["auto", "gemm", "batched_forward_conv_backward"])
def test_saved_model_keeps_the_strategy_argument_not_the_choice(strategy, tmp_path):
    layer = PointwiseConv2D(3, strategy=strategy)
    model = keras.Sequential([keras.Input((4, 4, 2)), layer])
    x = np.random.default_rng(4).standard_normal((2, 4, 4, 2)).astype("float32")
    expected = model(x)
    assert layer.strategy in STRATEGIES and layer.get_config()["strategy"] == strategy
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras").layers[-1]
    assert loaded.get_config() == layer.get_config()
    assert loaded.strategy == (None if strategy == "auto" else strategy)
    np.testing.assert_allclose(loaded(x), expected, rtol=1e-6, atol=1e-6)


DROP_IN_ARGUMENTS = {
    "activation": "relu",
    "bias_initializer": "random_normal",
    "kernel_regularizer": keras.regularizers.L2(0.1),
    "bias_regularizer": keras.regularizers.L1(0.2),
    "activity_regularizer": keras.regularizers.L2(0.01),
    "kernel_constraint": keras.constraints.NonNeg(),
    "bias_constraint": keras.constraints.MaxNorm(0.05, axis=0),
}


def test_drop_in_arguments_train_like_conv2d():
    x = np.random.default_rng(5).standard_normal((4, 3, 3, 6)).astype("float32")
    y = np.random.default_rng(6).standard_normal((4, 3, 3, 5)).astype("float32")
    conv = keras.layers.Conv2D(5, 1, **DROP_IN_ARGUMENTS)
    conv.build(x.shape)
    layer = PointwiseConv2D(5, **DROP_IN_ARGUMENTS)
    layer.build(x.shape)
    layer.set_weights([pointwise_kernel_from_conv2d(conv.kernel), conv.bias.numpy()])
    np.testing.assert_allclose(layer(x), conv(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(v) for v in layer.losses], [float(v) for v in conv.losses], rtol=1e-5)
    assert len(layer.losses) == 3
    trained = []
    for lyr in (conv, layer):
        model = keras.Sequential([keras.Input(x.shape[1:]), lyr])
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        # A (1, 1, C, F) kernel flattens in the same order as a (C, F) one.
        trained.append([np.ravel(w.numpy()) for w in lyr.weights])
    for conv_weight, pointwise_weight in zip(*trained, strict=True):
        np.testing.assert_allclose(pointwise_weight, conv_weight, rtol=1e-4, atol=1e-5)
    assert trained[1][0].min() == 0 and np.linalg.norm(trained[1][1]) <= 0.05 + 1e-6
    assert PointwiseConv2D.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("use_bias", [True, False])
def test_from_conv2d_gives_identical_outputs(use_bias):
    x = np.random.default_rng(7).standard_normal((2, 5, 4, 3)).astype("float32")
    conv = keras.layers.Conv2D(6, 1, use_bias=use_bias, activation="tanh", bias_initializer="random_normal", name="p")
    expected = conv(x)
    layer = from_conv2d(conv, strategy="conv")
    assert (layer.name, layer.get_config()["activation"], layer.use_bias) == ("p", "tanh", use_bias)
    np.testing.assert_array_equal(layer(x), expected)
    np.testing.assert_allclose(from_conv2d(conv)(x), expected, rtol=1e-5, atol=1e-6)


def test_from_conv2d_rejects_what_is_not_pointwise():
    wide = keras.layers.Conv2D(2, 3)
    wide.build((1, 5, 5, 4))
    with pytest.raises(ValueError, match=r"Expected a channels-last 1x1 convolution.*'kernel_size': \(3, 3\)"):
        from_conv2d(wide)
    with pytest.raises(ValueError, match=r"Received kernel.shape=\(3, 3, 4, 2\)"):
        pointwise_kernel_from_conv2d(wide.kernel)
    with pytest.raises(ValueError, match=r"Expected a built keras\.layers\.Conv2D"):
        from_conv2d(keras.layers.Conv2D(2, 1))


STRATEGY_CHECK = """
import keras, tensorflow as tf
from pointwise.autotune import STRATEGIES
from pointwise.layers import PointwiseConv2D
worst = 0.0
x = tf.random.normal((2, 3, 4, 8), seed=1)
for strategy in ["auto", *STRATEGIES]:
    for use_bias in (True, False):
        conv = keras.layers.Conv2D(5, 1, use_bias=use_bias, bias_initializer="random_normal")
        conv.build(x.shape)
        layer = PointwiseConv2D(5, use_bias=use_bias, strategy=strategy)
        layer.build(x.shape)
        layer.kernel.assign(tf.reshape(conv.kernel, (8, 5)))
        if use_bias:
            layer.bias.assign(conv.bias)
        for jit in (False, True):
            @tf.function(jit_compile=jit)
            def step(lyr):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = lyr(x)
                    loss = tf.reduce_sum(y * y)
                return [y, *tape.gradient(loss, [x, *lyr.trainable_weights])]
            for a, b in zip(step(layer), step(conv)):
                worst = max(worst, float(tf.reduce_max(tf.abs(a - b)) / (1 + tf.reduce_max(tf.abs(b)))))
        print(strategy, layer.strategy)
assert worst < 1e-5, worst
"""


@pytest.mark.slow
@pytest.mark.parametrize("onednn", ["0", "1"])
def test_every_pointwise_strategy_matches_conv2d_values_and_gradients(onednn):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", STRATEGY_CHECK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used = dict(line.split() for line in done.stdout.splitlines())
    assert used.pop("auto") in STRATEGIES
    assert used == {name: name for name in STRATEGIES}
