"""Whole-model transforms: every 1x1 `Conv2D` of a Keras model rewritten as a pointwise variant, and
BatchNormalization folded into the pointwise layer before it.

`convert_pointwise(model, variant)` returns a copy (its own weights: training one model leaves the other as it
was) in which each 1x1 `Conv2D` the variant can express (stride 1, dilation 1, one group, channels-last) is
the variant's layer with the same numbers; `conversion_plan` says, per 1x1 layer, what is done and why.
A strided 1x1 convolution is a GEMM on every s-th pixel: `strided="subsample"` rewrites it as a slice
`x[:, ::s, ::s]` followed by the variant, `"keep"` keeps the convolution, and `"measure"` times both on the
layer's shape here and keeps the faster (`pointwise.worker.models` reports the times).

`fold_batchnorm(model)` is an inference-time transform: a BatchNormalization whose input is a linear 1x1
layer's output, used by nothing else, is folded into that layer's weights
(W' = W·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε)+β) and replaced by an identity.

Importing this module imports TensorFlow: only the worker process, the tests and library users do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from pointwise.conversion import pointwise_kernel_from_conv2d
from pointwise.models import STRIDED_CHOICES
from pointwise.variants import BASELINE_KEY, get_variant

CONVERTED, KEPT, SUBSAMPLED = "converted", "kept", "subsampled + converted"


@dataclass(frozen=True)
class LayerDecision:
    """What `convert_pointwise` did with one 1x1 `Conv2D` layer, and why."""

    layer: str
    action: str
    reason: str

    def to_dict(self) -> dict:
        return {"layer": self.layer, "action": self.action, "reason": self.reason}


def is_conv_1x1(layer) -> bool:
    """A plain `Conv2D` (not its depthwise or transposed subclasses) with a 1x1 window."""
    return type(layer) is keras.layers.Conv2D and tuple(layer.kernel_size) == (1, 1)


def _blocker(conv: keras.layers.Conv2D) -> str | None:
    """Why `conv` cannot become a pointwise layer as it stands (strides are handled apart), or None."""
    if tuple(conv.dilation_rate) != (1, 1):
        return f"dilation {tuple(conv.dilation_rate)}: not a pointwise product"
    if conv.groups != 1:
        return f"{conv.groups} groups: a block-diagonal kernel, not one (C, F) matrix"
    if conv.data_format != "channels_last":
        return "channels-first data: the variants multiply over the last axis"
    return None


@keras.saving.register_keras_serializable(package="pointwise")
class SubsampledPointwise(keras.layers.Layer):
    """A strided 1x1 convolution as `x[:, ::sh, ::sw, :]` followed by a pointwise layer (`inner`).

    A 1x1 window needs no padding at any stride ('same' and 'valid' both give ceil(H/s) rows starting at row 0),
    so the slice picks exactly the pixels the strided convolution reads.
    """

    def __init__(self, inner: keras.layers.Layer, strides=(2, 2), **kwargs) -> None:
        super().__init__(**kwargs)
        self.inner = inner
        self.strides = tuple(int(s) for s in strides)

    def build(self, input_shape) -> None:
        if not self.inner.built:
            self.inner.build(input_shape)

    def call(self, inputs):
        step_h, step_w = self.strides
        return self.inner(inputs[:, ::step_h, ::step_w, :])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        sub = [None if d is None else -(-d // s) for d, s in zip((height, width), self.strides, strict=True)]
        return (batch, *sub, self.inner.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "inner": keras.saving.serialize_keras_object(self.inner),
            "strides": self.strides,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="pointwise")
class FoldedBatchNorm(keras.layers.Layer):
    """Where a BatchNormalization was before `fold_batchnorm` moved it into the layer before: the identity.

    It accepts the `training` and `mask` arguments the model's graph passes to the BatchNormalization it replaces.
    """

    def call(self, inputs, training=None, mask=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


def variant_layer(conv: keras.layers.Conv2D, variant: str, strategy: str = "auto") -> keras.layers.Layer:
    """A built layer of `variant` computing what the 1x1 `conv` computes at stride 1 (weights copied)."""
    if variant == "pointwise":
        from pointwise.conversion import from_conv2d

        stride_free = keras.layers.Conv2D.from_config({**conv.get_config(), "strides": (1, 1)})
        stride_free.build((None, None, None, conv.kernel.shape[2]))
        stride_free.set_weights(conv.get_weights())
        return from_conv2d(stride_free, strategy=strategy)
    if variant == "dense":
        layer = keras.layers.Dense(
            conv.filters, activation=conv.activation, use_bias=conv.use_bias, dtype=conv.dtype_policy, name=conv.name
        )
        layer.build((None, None, None, conv.kernel.shape[2]))
        layer.set_weights([pointwise_kernel_from_conv2d(conv.kernel), *conv.get_weights()[1:]])
        return layer
    raise ValueError(f"Invalid value for argument `variant`. Expected 'pointwise' or 'dense'. Received {variant!r}.")


def conversion_plan(
    model: keras.Model, variant: str = "pointwise", strided: str = "measure", batch: int = 1
) -> list[LayerDecision]:
    """For every 1x1 `Conv2D` of `model`, in layer order: converted, kept or subsampled, and why.

    `strided="measure"` times a strided layer both ways on a batch of `batch` inputs of its shape.
    """
    _check_arguments(variant, strided)
    if variant == BASELINE_KEY:
        return [LayerDecision(layer.name, KEPT, "the variant is Conv2D itself") for layer in _convs(model)]
    decisions = []
    for conv in _convs(model):
        blocker = _blocker(conv)
        if blocker:
            decisions.append(LayerDecision(conv.name, KEPT, blocker))
        elif tuple(conv.strides) == (1, 1):
            decisions.append(LayerDecision(conv.name, CONVERTED, "stride 1: the same (C, F) product"))
        else:
            decisions.append(_strided_decision(conv, variant, strided, batch))
    return decisions


def _strided_decision(conv, variant: str, strided: str, batch: int) -> LayerDecision:
    stride = tuple(conv.strides)
    if strided == "keep":
        return LayerDecision(conv.name, KEPT, f"stride {stride}: strided convolutions kept as asked")
    if strided == "subsample":
        return LayerDecision(conv.name, SUBSAMPLED, f"stride {stride}: slice then GEMM, as asked")
    conv_s, sub_s = time_strided(conv, variant, batch)
    times = f"strided conv {conv_s * 1e3:.3f} ms, slice + {variant} {sub_s * 1e3:.3f} ms (min of 5, batch {batch})"
    if sub_s < conv_s:
        return LayerDecision(conv.name, SUBSAMPLED, f"stride {stride}: measured faster: {times}")
    return LayerDecision(conv.name, KEPT, f"stride {stride}: the convolution measured faster: {times}")


def time_strided(conv: keras.layers.Conv2D, variant: str, batch: int = 1, rounds: int = 5) -> tuple[float, float]:
    """Fastest seconds of (the strided conv, slice + variant) on `batch` inputs of `conv`'s shape, interleaved."""
    shape = (batch, *conv.input.shape[1:])
    inputs = tf.random.normal(shape, dtype=conv.compute_dtype)
    sub = SubsampledPointwise(variant_layer(conv, variant, strategy="gemm"), conv.strides)
    candidates = [tf.function(conv), tf.function(sub)]
    for fn in candidates:
        fn(inputs)
    best = [float("inf")] * 2
    for _ in range(rounds):
        for i, fn in enumerate(candidates):
            start = time.perf_counter()
            np.asarray(fn(inputs))
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


def convert_pointwise(
    model: keras.Model, variant: str = "pointwise", strided: str = "measure", strategy: str = "auto"
) -> keras.Model:
    """A copy of `model` with its 1x1 `Conv2D` layers rewritten as `variant` (see the module docstring)."""
    return convert_with_plan(model, conversion_plan(model, variant, strided), variant, strategy)


def convert_with_plan(
    model: keras.Model, plan: list[LayerDecision], variant: str = "pointwise", strategy: str = "auto"
) -> keras.Model:
    """`model` copied with the decisions of `plan` (from `conversion_plan`) applied."""
    actions = {d.layer: d.action for d in plan}

    def replace(layer):
        action = actions.get(layer.name, KEPT)
        if action == CONVERTED:
            return variant_layer(layer, variant, strategy)
        if action == SUBSAMPLED:
            inner = variant_layer(layer, variant, strategy)
            return SubsampledPointwise(inner, layer.strides, name=layer.name)
        return _copy(layer)

    return _clone(model, replace, name=f"{model.name}_{variant}")


def fold_batchnorm(model: keras.Model) -> keras.Model:
    """A copy of `model` for inference with each foldable BatchNormalization folded into its 1x1 layer."""
    pairs = foldable_pairs(model)
    by_conv = {conv.name: bn for conv, bn in pairs}
    folded_bns = {bn.name for _, bn in pairs}

    def replace(layer):
        if layer.name in by_conv:
            return _folded(layer, by_conv[layer.name])
        if layer.name in folded_bns:
            return FoldedBatchNorm(name=layer.name)
        return _copy(layer)

    return _clone(model, replace, name=f"{model.name}_bn_folded")


def foldable_pairs(model: keras.Model) -> list[tuple[keras.layers.Layer, keras.layers.BatchNormalization]]:
    """(pointwise layer, BatchNormalization) pairs where the layer is linear and feeds only the BN."""
    readers = consumers(model)
    pairs = []
    for layer in model.layers:
        following = readers.get(layer.name, [])
        if _foldable(layer) and len(following) == 1 and isinstance(following[0], keras.layers.BatchNormalization):
            bn = following[0]
            if bn.axis in (-1, 3) or list(np.atleast_1d(bn.axis)) in ([-1], [3]):
                pairs.append((layer, bn))
    return pairs


def consumers(model: keras.Model) -> dict[str, list]:
    """{layer name: the layers of `model` that read its output}, from the functional graph."""
    readers: dict[str, list] = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                readers.setdefault(tensor._keras_history.operation.name, []).append(layer)
    return readers


def _foldable(layer) -> bool:
    from pointwise.layers import PointwiseConv2D

    linear = getattr(layer, "activation", None) in (None, keras.activations.linear)
    if is_conv_1x1(layer):
        return linear and _blocker(layer) is None
    return linear and isinstance(layer, (PointwiseConv2D, keras.layers.Dense))


def _folded(layer, bn: keras.layers.BatchNormalization) -> keras.layers.Layer:
    """A copy of `layer` with `bn` folded in: W' = W·s, b' = (b − μ)·s + β, s = γ/√(σ² + ε)."""
    kernel, *rest = layer.get_weights()
    bias = rest[0] if rest else np.zeros(kernel.shape[-1], kernel.dtype)
    gamma = bn.gamma.numpy() if bn.scale else 1.0
    beta = bn.beta.numpy() if bn.center else 0.0
    scale = gamma / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
    config = {**layer.get_config(), "use_bias": True}
    copy = type(layer).from_config(config)
    copy.build(layer.input.shape)
    copy.set_weights(
        [(kernel * scale).astype(kernel.dtype), ((bias - bn.moving_mean.numpy()) * scale + beta).astype(kernel.dtype)]
    )
    return copy


def _copy(layer) -> keras.layers.Layer:
    """A fresh layer with `layer`'s configuration and a copy of its weights (nothing shared).

    A graph can also hold bare operations (MobileNetV3's `x + 3` is a `keras.ops` Add): they hold no state and
    are kept as they are.
    """
    if not isinstance(layer, keras.layers.Layer):
        return layer
    copy = type(layer).from_config(layer.get_config())
    if layer.weights:
        shapes = [node.input_tensors[0].shape for node in layer._inbound_nodes[:1]]
        copy.build(shapes[0] if len(shapes) else None)
        copy.set_weights(layer.get_weights())
    return copy


def _clone(model: keras.Model, replace, name: str) -> keras.Model:
    clone = keras.models.clone_model(model, clone_function=replace)
    # A single input and output as themselves, not one-element lists: the copy is called like the original.
    inputs = clone.inputs[0] if len(clone.inputs) == 1 else clone.inputs
    outputs = clone.outputs[0] if len(clone.outputs) == 1 else clone.outputs
    return keras.Model(inputs, outputs, name=name)


def _convs(model: keras.Model) -> list[keras.layers.Conv2D]:
    return [layer for layer in model.layers if is_conv_1x1(layer)]


def _check_arguments(variant: str, strided: str) -> None:
    get_variant(variant)
    if variant not in ("pointwise", "dense", BASELINE_KEY):
        raise ValueError(
            f"Invalid value for argument `variant`. Expected 'pointwise', 'dense' or '{BASELINE_KEY}'. "
            f"Received {variant!r}."
        )
    if strided not in STRIDED_CHOICES:
        raise ValueError(
            f"Invalid value for argument `strided`. Expected one of {', '.join(STRIDED_CHOICES)}. Received {strided!r}."
        )
