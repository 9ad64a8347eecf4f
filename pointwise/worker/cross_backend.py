"""TensorFlow's Conv2D 1x1 on another backend's input and weights: the cross-backend half of the equivalence check.

A worker on JAX compares each variant with the TensorFlow baseline too, where TensorFlow is installed: the same
input and the same (C, F) kernel and bias, given to `tf.nn.conv2d` and `tf.nn.bias_add` (what Keras's Conv2D
runs on TensorFlow). TensorFlow is imported here only when that comparison is asked for (Explore's check), never
for a benchmark, so a JAX worker's timings never run beside it.
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np


def tensorflow_conv2d(x, kernel, bias) -> tuple[np.ndarray | None, str | None]:
    """(TensorFlow's output in the input's dtype, None), or (None, why not) where TensorFlow is absent or fails."""
    if importlib.util.find_spec("tensorflow") is None:
        return None, "TensorFlow is not installed here"
    tf = importlib.import_module("tensorflow")
    inputs = np.asarray(x)
    weights = np.asarray(kernel)
    try:
        with tf.device("CPU:0"):
            filters = tf.constant(weights.reshape(1, 1, inputs.shape[-1], -1))
            output = tf.nn.conv2d(tf.constant(inputs), filters, strides=1, padding="VALID")
            if bias is not None:
                output = tf.nn.bias_add(output, tf.constant(np.asarray(bias)))
            return output.numpy(), None
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, TypeError) as exc:
        return None, f"TensorFlow cannot run Conv2D here: {str(exc).strip().splitlines()[0]}"
