"""Conversion of Keras `Conv2D(F, 1)` layers and weights to `PointwiseConv2D` ((1, 1, C, F) kernels to (C, F)).

Importing this module imports TensorFlow: only the worker process, the tests and library users do.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from pointwise.layers import PointwiseConv2D


def pointwise_kernel_from_conv2d(kernel) -> np.ndarray:
    """A `Conv2D(F, 1)` kernel of shape (1, 1, C, F) as the (C, F) kernel of `PointwiseConv2D` (same numbers)."""
    kernel = ops.convert_to_numpy(kernel)
    if kernel.ndim != 4 or kernel.shape[:2] != (1, 1):
        raise ValueError(
            f"Invalid value for argument `kernel`. Expected a 1x1 convolution kernel of shape (1, 1, C, F). "
            f"Received kernel.shape={kernel.shape}."
        )
    return kernel.reshape(kernel.shape[2:])


def from_conv2d(conv: keras.layers.Conv2D, strategy: str = "auto") -> PointwiseConv2D:
    """A built `PointwiseConv2D` computing what the built `conv` (a 1x1, stride-1, channels-last `Conv2D`) does.

    Its arguments (bias, activation, initializers, regularizers, constraints, dtype policy, name) and weights
    are copied; the kernel goes through `pointwise_kernel_from_conv2d`.
    """
    if not isinstance(conv, keras.layers.Conv2D) or not conv.built:
        raise ValueError(f"Invalid value for argument `conv`. Expected a built keras.layers.Conv2D. Received {conv!r}.")
    config = conv.get_config()
    pointwise_only = {"kernel_size": (1, 1), "strides": (1, 1), "dilation_rate": (1, 1), "groups": 1}
    wrong = {k: config[k] for k, v in pointwise_only.items() if config[k] != v}
    if wrong or config["data_format"] != "channels_last":
        raise ValueError(
            "Invalid value for argument `conv`. Expected a channels-last 1x1 convolution with stride 1, "
            f"dilation 1 and one group. Received {wrong or {'data_format': config['data_format']}}."
        )
    convolution_only = ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups")
    layer = PointwiseConv2D.from_config(
        {k: v for k, v in config.items() if k not in convolution_only} | {"strategy": strategy}
    )
    layer.build((None, None, None, conv.kernel.shape[2]))
    layer.set_weights(
        [pointwise_kernel_from_conv2d(conv.kernel), *([ops.convert_to_numpy(conv.bias)] if conv.use_bias else [])]
    )
    return layer
