"""The layers that cost arithmetic in a real network: every convolution and dense layer, with its FLOPs.

FLOPs count a multiply-add as two, for the whole batch, and leave out BatchNormalization, activations and
element-wise layers (a few percent of these networks' arithmetic): the share of a kind is its share of the
convolution and dense arithmetic. A 1x1 layer is a plain `Conv2D` with a 1x1 window (not a depthwise one).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from pointwise.model_conversion import consumers, is_conv_1x1

KIND_1X1, KIND_DEPTHWISE, KIND_KXK, KIND_DENSE = "1x1", "depthwise", "kxk", "dense"


def build_network(builder: str, input_size: int) -> keras.Model:
    """A `keras.applications` network with random weights (no download) and logits out (no softmax)."""
    build = getattr(keras.applications, builder)
    return build(weights=None, input_shape=(input_size, input_size, 3), classifier_activation=None)


def randomize_batchnorm(model: keras.Model, seed: int, batch: int = 4) -> None:
    """Give every BatchNormalization random affine weights and the moving statistics of real activations.

    A network built with `weights=None` has mean 0, variance 1, γ 1 and β 0: folding those would be checked
    on an identity, and since its activations are far from unit variance, inference-mode normalization with
    them shrinks the signal layer after layer until the logits no longer depend on the input (a comparison of
    two such models would prove nothing). So γ and β are drawn at random, and one training-mode pass over
    random images with momentum 0 sets each moving mean and variance to the statistics its layer sees.
    """
    rng = np.random.default_rng(seed)
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in layers:
        shape = layer.moving_mean.shape
        if layer.scale:
            layer.gamma.assign(rng.uniform(0.5, 1.5, shape))
        if layer.center:
            layer.beta.assign(rng.normal(0.0, 0.1, shape))
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    size = model.inputs[0].shape[1:]
    model(rng.normal(size=(batch, *size)).astype("float32"), training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def layer_kind(layer) -> str | None:
    if is_conv_1x1(layer):
        return KIND_1X1
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return KIND_DEPTHWISE
    if isinstance(layer, keras.layers.Conv2D):
        return KIND_KXK
    if isinstance(layer, keras.layers.Dense):
        return KIND_DENSE
    return None


def inventory(model: keras.Model, batch: int) -> list[dict]:
    """One row per convolution or dense layer of `model`, in layer order, at batch size `batch`."""
    following = consumers(model)
    rows = []
    for layer in model.layers:
        kind = layer_kind(layer)
        if kind is not None:
            rows.append(_row(layer, kind, batch, following))
    return rows


def _row(layer, kind: str, batch: int, following: dict) -> dict:
    in_shape = tuple(layer.input.shape[1:])
    out_shape = tuple(layer.output.shape[1:])
    channels, filters = in_shape[-1], out_shape[-1]
    pixels = math.prod(out_shape[:-1]) if len(out_shape) > 1 else 1
    if kind == KIND_DENSE:
        macs = pixels * channels * filters
    elif kind == KIND_DEPTHWISE:
        macs = pixels * math.prod(layer.kernel_size) * channels * layer.depth_multiplier
    else:
        macs = pixels * math.prod(layer.kernel_size) * channels // layer.groups * filters
    batchnorm, activation = _followers(layer, following)
    return {
        "layer": layer.name,
        "layer_kind": kind,
        "input_shape": list(in_shape),
        "output_shape": list(out_shape),
        "channels": int(channels),
        "filters": int(filters),
        "kernel": list(getattr(layer, "kernel_size", (1, 1))),
        "stride": list(getattr(layer, "strides", (1, 1))),
        "activation": activation,
        "batchnorm": batchnorm,
        "params": int(layer.count_params()),
        "flops": int(2 * batch * macs),
    }


def _followers(layer, following: dict) -> tuple[str | None, str]:
    """The BatchNormalization that alone reads `layer`'s output, if any, and the activation applied after."""
    own = keras.activations.serialize(layer.activation) if hasattr(layer, "activation") else "linear"
    own = own if isinstance(own, str) else str(own.get("config", own))
    batchnorm = None
    after = following.get(layer.name, [])
    if len(after) == 1 and isinstance(after[0], keras.layers.BatchNormalization):
        batchnorm = after[0].name
        after = following.get(batchnorm, [])
    if own == "linear" and len(after) == 1:
        name = _activation_name(after[0])
        if name:
            return batchnorm, f"linear, then {name}"
    return batchnorm, own


def _activation_name(layer) -> str | None:
    if isinstance(layer, keras.layers.ReLU):
        return "relu6" if layer.max_value == 6 else "relu"
    if isinstance(layer, keras.layers.Activation):
        name = keras.activations.serialize(layer.activation)
        return name if isinstance(name, str) else type(layer).__name__
    return None
