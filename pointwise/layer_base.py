"""The shared base of the custom pointwise layers: a (C, F) kernel and an (F,) bias over the last axis.

Split from `layers.py` (the concrete variants) so that each stays readable; like it, this module imports Keras,
and TensorFlow only on first use of `tf`.
"""

from __future__ import annotations

import importlib

import keras
from keras import ops

PACKAGE = "pointwise"


class LazyTensorFlow:
    """`tensorflow`, imported at the first attribute read: the `tf.*` layers below run on TensorFlow only
    (`Variant.backends`), and a process on another Keras backend must not pay TensorFlow's import."""

    def __getattr__(self, name: str):
        return getattr(importlib.import_module("tensorflow"), name)


tf = LazyTensorFlow()


def read_weight(weight):
    """A weight's value as a tensor. On TensorFlow a read op of the variable (`ops.convert_to_tensor` would hand
    over the variable itself, which `tf.custom_gradient` refuses): gradients reach the variable through it."""
    if keras.backend.backend() == "tensorflow":
        return tf.convert_to_tensor(weight)
    return ops.convert_to_tensor(weight)


def validated_filters(filters: object) -> int:
    if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
        raise ValueError(
            f"Invalid value for argument `filters`. Expected a strictly positive integer. Received filters={filters!r}."
        )
    return filters


class ChannelMatmul(keras.layers.Layer):
    """Shared lifecycle of the custom variants: a (C, F) `kernel` and an (F,) `bias` over the last axis.

    Args:
        filters: int, the number of output channels F.
        use_bias: bool, whether to add a learned bias.
        kernel_initializer: initializer for the (C, F) kernel.
        bias_initializer: initializer for the (F,) bias.
    """

    min_input_ndim = 2

    def __init__(
        self,
        filters: int,
        use_bias: bool = True,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = validated_filters(filters)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(min_ndim=self.min_input_ndim)

    def build(self, input_shape) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"The last (channels) axis of the input of {type(self).__name__} must be defined. "
                f"Received input_shape={input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(channels, self.filters),
            initializer=self.kernel_initializer,
            **self._weight_options("kernel"),
        )
        self.bias = (
            self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer, **self._weight_options("bias")
            )
            if self.use_bias
            else None
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=self.min_input_ndim, axes={-1: channels})

    def _weight_options(self, name: str) -> dict:
        """Extra `add_weight` arguments for weight `name` (regularizer, constraint); none here."""
        return {}

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


class Image2DLayer(ChannelMatmul):
    """A pointwise layer on channels-last images: input (B, H, W, C), output (B, H, W, F)."""

    min_input_ndim = 4

    def build(self, input_shape) -> None:
        if len(input_shape) != 4:
            raise ValueError(
                f"{type(self).__name__} expects a 4-D input (batch, height, width, channels). "
                f"Received input_shape={input_shape}."
            )
        super().build(input_shape)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: input_shape[-1]})
