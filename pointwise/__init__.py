"""Pointwise Lab: understand and measure pointwise (1x1) convolutions in Keras/TensorFlow.

Importing `pointwise` is cheap and never imports TensorFlow (the Streamlit server depends on that);
`PointwiseConv2D`, the other layers and the model transforms (`convert_pointwise`, `fold_batchnorm`) load
TensorFlow on first access.
"""

from __future__ import annotations

__version__ = "0.1.0"

from pointwise.errors import (
    ImportRejectedError,
    InvalidSpecError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
    PointwiseError,
    QueueFullError,
    StoreError,
    WorkerCrashedError,
    WorkerError,
)
from pointwise.spec import RunSpec, make_run_spec
from pointwise.variants import VARIANTS, Variant, get_variant

_LAZY_LAYERS = ("PointwiseConv2D", "make_layer")
_LAZY_MODEL_TRANSFORMS = ("convert_pointwise", "fold_batchnorm")

__all__ = [
    "VARIANTS",
    "ImportRejectedError",
    "InvalidSpecError",
    "JobCancelledError",
    "JobFailedError",
    "JobTimeoutError",
    "PointwiseConv2D",
    "PointwiseError",
    "QueueFullError",
    "RunSpec",
    "StoreError",
    "Variant",
    "WorkerCrashedError",
    "WorkerError",
    "__version__",
    "convert_pointwise",
    "fold_batchnorm",
    "get_variant",
    "make_layer",
    "make_run_spec",
]


def __getattr__(name: str):
    if name in _LAZY_LAYERS:
        from pointwise import layers

        return getattr(layers, name)
    if name in _LAZY_MODEL_TRANSFORMS:
        from pointwise import model_conversion

        return getattr(model_conversion, name)
    raise AttributeError(f"module 'pointwise' has no attribute {name!r}")
