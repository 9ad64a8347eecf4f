"""Keras layers for every non-built-in variant, including the recommended `PointwiseConv2D`.

The seed classes reproduce the article's `call` bodies as written (Example 2's elided `build` completed as
Example 1's); they gain only what every layer here has: argument validation, `use_bias`, initializers and
`get_config`, so that all variants can be saved, loaded and compared on equal terms.

Importing this module imports Keras, and TensorFlow only on first use of a `tf.*` layer (the seed examples, the
2-D matmul and einsum forms), so a JAX worker never loads it. Only the worker process, the tests and library users
import it.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

import keras
from keras import ops

from pointwise.layer_base import PACKAGE, ChannelMatmul, Image2DLayer, read_weight, tf, validated_filters
from pointwise.tuning_rounds import Tuning
from pointwise.variants import get_variant


def _autotuner() -> ModuleType:
    """`PointwiseConv2D`'s kernels and tuner for the Keras backend in use: TensorFlow's own ops, or `keras.ops`."""
    if keras.backend.backend() == "tensorflow":
        return importlib.import_module("pointwise.autotune")
    return importlib.import_module("pointwise.jax_autotune")


@keras.saving.register_keras_serializable(package=PACKAGE)
class SeedMatmul(ChannelMatmul):
    """Article Example 1: `tf.matmul(inputs, kernel) + bias` on an input of any rank >= 2.

    On a 4-D input TensorFlow broadcasts the (C, F) kernel over the leading axes (a batched matmul).
    """

    def call(self, inputs):
        output = tf.matmul(inputs, self.kernel)
        if self.use_bias:
            output = output + self.bias
        return output


@keras.saving.register_keras_serializable(package=PACKAGE)
class SeedEinsum(ChannelMatmul):
    """Article Example 2: reshape to (B, H*W, C), `einsum('bij,jk->bik')`, reshape to (B, -1, F).

    Input shape: (B, ..., C). Output shape: (B, prod(...), F): the spatial axes are folded into one.
    """

    def call(self, inputs):
        batch_size = tf.shape(inputs)[0]
        reshaped_inputs = tf.reshape(inputs, (batch_size, -1, self.kernel.shape[0]))
        output = tf.einsum("bij,jk->bik", reshaped_inputs, self.kernel)
        if self.use_bias:
            output = output + self.bias
        return tf.reshape(output, (batch_size, -1, self.filters))

    def compute_output_shape(self, input_shape):
        inner = input_shape[1:-1]
        folded = None if any(d is None for d in inner) else math.prod(inner)
        return (input_shape[0], folded, self.filters)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SeedDenseFlatten(keras.layers.Layer):
    """Article Example 3: flatten to (B, H*W*C), `Dense(filters)`, reshape to (B, -1, F).

    Not a pointwise convolution: one fully connected layer over the whole image, output (B, 1, F), with
    H*W*C*F + F parameters.

    Args:
        filters: int, the number of output units F.
        use_bias: bool, whether the Dense layer adds a bias.
    """

    def __init__(self, filters: int, use_bias: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.filters = validated_filters(filters)
        self.use_bias = bool(use_bias)
        self.dense = keras.layers.Dense(self.filters, use_bias=self.use_bias, dtype=self.dtype_policy, name="dense")

    def build(self, input_shape) -> None:
        flat = input_shape[1:]
        if any(d is None for d in flat):
            raise ValueError(
                f"SeedDenseFlatten needs every non-batch axis defined, because its Dense kernel has "
                f"prod(H, W, C) rows. Received input_shape={input_shape}."
            )
        self.dense.build((input_shape[0], math.prod(flat)))

    def call(self, inputs):
        batch_size = tf.shape(inputs)[0]
        reshaped_inputs = tf.reshape(inputs, (batch_size, -1))
        output = self.dense(reshaped_inputs)
        return tf.reshape(output, (batch_size, -1, self.dense.units))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Matmul2D(Image2DLayer):
    """Reshape to (B*H*W, C), one 2-D matmul, `bias_add`, reshape back to (B, H, W, F)."""

    def call(self, inputs):
        shape = tf.shape(inputs)
        flat = tf.reshape(inputs, (-1, shape[-1]))
        output = tf.matmul(flat, self.kernel)
        if self.use_bias:
            output = tf.nn.bias_add(output, self.bias)
        return tf.reshape(output, tf.concat([shape[:-1], [self.filters]], axis=0))


@keras.saving.register_keras_serializable(package=PACKAGE)
class Einsum4D(Image2DLayer):
    """`einsum('bhwc,cf->bhwf')` plus bias."""

    def call(self, inputs):
        output = tf.einsum("bhwc,cf->bhwf", inputs, self.kernel)
        if self.use_bias:
            output = output + self.bias
        return output


@keras.saving.register_keras_serializable(package=PACKAGE)
class KerasOpsPointwise(ChannelMatmul):
    """Backend-agnostic pointwise layer: `keras.ops.matmul` over the last axis plus bias."""

    def call(self, inputs):
        output = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            output = ops.add(output, self.bias)
        return output


@keras.saving.register_keras_serializable(package=PACKAGE)
class PointwiseConv2D(Image2DLayer):
    """Pointwise (1x1) convolution on channels-last images, a drop-in for `Conv2D(filters, 1)`.

    `output[b, h, w, :] = activation(inputs[b, h, w, :] @ kernel + bias)`, with `kernel` of shape (C, F) like
    `Dense` (`pointwise.conversion.from_conv2d` converts a `Conv2D(F, 1)` layer).

    The fastest TensorFlow kernels depend on the CPU, the shape and oneDNN, so `strategy="auto"` times them where
    the layer runs (`pointwise.autotune`): on its first call for an input shape, dtype, device and oneDNN state,
    eagerly under `tf.init_scope()` also while tracing, for ~1.2 s; the fastest forward kernel and the
    fastest gradient kernel are chosen separately, so the pair is fastest for inference and training alike, and
    cached in-process. `strategy` (None before the first call) says the choice and `tuning` the times. An
    undefined batch axis is timed at `autotune.TUNING_BATCH`; undefined spatial axes use
    `autotune.FALLBACK_STRATEGY`. A name from `autotune.STRATEGIES` pins the kernels. `get_config` keeps the
    argument, not the choice: a loaded model tunes for the machine it runs on.

    Args:
        filters: int, the number of output channels F.
        use_bias: bool, whether to add a learned bias.
        activation: activation applied to the output (`None`: linear).
        kernel_initializer: initializer for the (C, F) kernel.
        bias_initializer: initializer for the (F,) bias.
        kernel_regularizer, bias_regularizer: regularizers of the kernel and the bias.
        kernel_constraint, bias_constraint: constraints applied to them after each optimizer update.
        strategy: str, `"auto"` or one of `autotune.STRATEGIES`.
        **kwargs: `Layer` arguments (`name`, `dtype`, `activity_regularizer`, ...).

    Input shape: (batch, height, width, channels). Output shape: (batch, height, width, filters).
    """

    def __init__(
        self,
        filters: int,
        use_bias: bool = True,
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        strategy: str = "auto",
        **kwargs,
    ) -> None:
        super().__init__(filters, use_bias, kernel_initializer, bias_initializer, **kwargs)
        strategies = _autotuner().STRATEGIES
        if strategy != "auto" and strategy not in strategies:
            raise ValueError(
                "Invalid value for argument `strategy`. Expected 'auto' or one of "
                f"{', '.join(strategies)}. Received strategy={strategy!r}."
            )
        self.requested_strategy = strategy
        self.strategy = None if strategy == "auto" else strategy
        self.tuning: Tuning | None = None
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)

    def _weight_options(self, name: str) -> dict:
        return {"regularizer": getattr(self, f"{name}_regularizer"), "constraint": getattr(self, f"{name}_constraint")}

    def call(self, inputs):
        tuner = _autotuner()
        if self.requested_strategy == "auto":
            self.strategy, self.tuning = tuner.choose_strategy(inputs.shape, self.filters, inputs.dtype, self.use_bias)
        weights = [self.kernel, self.bias] if self.use_bias else [self.kernel]
        output = tuner.pointwise_conv(self.strategy, inputs, *(read_weight(w) for w in weights))
        return self.activation(output)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "activation": keras.activations.serialize(self.activation),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "strategy": self.requested_strategy,
        }


CUSTOM_LAYERS = {
    cls.__name__: cls
    for cls in (SeedMatmul, SeedEinsum, SeedDenseFlatten, Matmul2D, Einsum4D, KerasOpsPointwise, PointwiseConv2D)
}


def checked_strategies(key: str) -> tuple[str | None, ...]:
    """What an equivalence check builds of variant `key`: the layer as registered (None), or for `PointwiseConv2D`,
    which times its kernels on first call, each forward kernel pinned in turn (the same kernel both ways): the
    check then covers whichever kernel a tuning picks, and spends no ~1 s tuning."""
    if get_variant(key).layer_class != PointwiseConv2D.__name__:
        return (None,)
    return tuple(name for name, (forward, gradient) in _autotuner().STRATEGIES.items() if forward == gradient)


def make_layer(
    key: str, filters: int, *, use_bias: bool = True, dtype=None, seed: int | None = None, **options
) -> keras.layers.Layer:
    """Instantiate the Keras layer of registered variant `key`.

    A `seed` gives reproducible Glorot kernels and a non-zero normal bias, so that a check of equivalence
    would notice a dropped or misplaced bias. `options` go to one of this package's layers (e.g. `strategy`).
    """
    class_name = get_variant(key).layer_class
    initializers = {}
    if seed is not None:
        initializers = {
            "kernel_initializer": keras.initializers.GlorotUniform(seed=seed),
            "bias_initializer": keras.initializers.RandomNormal(stddev=0.1, seed=seed + 1),
        }
    if class_name == "Conv2D":
        return keras.layers.Conv2D(filters, 1, use_bias=use_bias, dtype=dtype, name=key, **initializers)
    if class_name == "Dense":
        return keras.layers.Dense(filters, use_bias=use_bias, dtype=dtype, name=key, **initializers)
    if class_name == "SeedDenseFlatten":
        return SeedDenseFlatten(filters, use_bias=use_bias, dtype=dtype, name=key)
    return CUSTOM_LAYERS[class_name](filters, use_bias=use_bias, dtype=dtype, name=key, **initializers, **options)
