"""The Classroom's "four forms" run by real Keras layers. Runs inside the worker (imports Keras)."""

from __future__ import annotations

import keras
import numpy as np

from pointwise.classroom import pointwise_numpy
from pointwise.layers import make_layer

FORMS = {
    "Conv2D 1x1": "conv2d_1x1",
    "Dense": "dense",
    "matmul (reshape + 2-D matmul)": "matmul_2d",
    "einsum bhwc,cf->bhwf": "einsum_4d",
}


def lesson_forms(inputs, kernel, bias) -> dict[str, dict]:
    """Each form in float64 on the same (H, W, C) input and weights, with its max error vs NumPy."""
    x = np.asarray(inputs, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    reference = pointwise_numpy(x, kernel, bias)
    batch = keras.ops.convert_to_tensor(x[None])
    results = {}
    for name, key in FORMS.items():
        layer = make_layer(key, kernel.shape[1], dtype="float64")
        layer.build(batch.shape)
        layer.kernel.assign(kernel.reshape(layer.kernel.shape))
        layer.bias.assign(bias)
        output = np.asarray(layer(batch))[0]
        results[name] = {"output": output.tolist(), "max_abs_err_vs_numpy": float(np.max(np.abs(output - reference)))}
    return results
