"""Real networks (`keras.applications`, built offline with random weights) and the request to study one.

This module never imports TensorFlow: the server validates a `ModelRequest` here, with today's caps, and the
worker (`pointwise.worker.models`) builds the network, lists its layers, converts it and times it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pointwise.errors import InvalidSpecError
from pointwise.limits import active_limits
from pointwise.spec import coerce_int


@dataclass(frozen=True)
class NetworkInfo:
    """One `keras.applications` network: its builder's name and its size, known before it is built."""

    key: str
    label: str
    builder: str
    gflop_per_image_224: float
    """Multiply-adds x 2 of one 224x224 image (the papers' figures), to refuse a run before building it."""


NETWORKS: dict[str, NetworkInfo] = {
    n.key: n
    for n in (
        NetworkInfo("mobilenet_v2", "MobileNetV2", "MobileNetV2", 0.60),
        NetworkInfo("mobilenet_v3_small", "MobileNetV3Small", "MobileNetV3Small", 0.12),
        NetworkInfo("efficientnet_b0", "EfficientNetB0", "EfficientNetB0", 0.78),
        NetworkInfo("resnet50", "ResNet50", "ResNet50", 8.2),
    )
}
MODEL_VARIANTS = {"pointwise": "PointwiseConv2D", "dense": "Dense"}
"""Variants a whole model can be converted to (the layers that take a Conv2D's (C, F) weights as they are)."""
STRIDED_CHOICES = ("measure", "subsample", "keep")
DEFAULT_INPUT, DEFAULT_BATCH, DEFAULT_ROUNDS = 224, 8, 10
INPUT_RANGE, BATCH_RANGE, ROUNDS_RANGE = (32, 1024), (1, 512), (3, 200)

DTYPE_EPSILON = {"float32": 2.0**-23}
TOLERANCE_EPSILONS = 1024
"""Outputs agree when max|a - b| / max|reference| <= 1024 machine epsilons of the dtype (float32: 1.2e-4).
Converted layers do the same multiply-adds in another order, and folding rounds W·γ/√(σ²+ε) once; over
~50 layers the measured relative error of the logits is about 1e-6 converted and up to 6e-6 folded
(MobileNetV2, float32, BatchNorm statistics of real activations), so 1024 eps leaves a 20x margin and still
catches a wrong kernel, a dropped bias or a misplaced BatchNormalization (errors of order 1e-1 and more)."""


def tolerance(dtype: str) -> float:
    return TOLERANCE_EPSILONS * DTYPE_EPSILON[dtype]


@dataclass(frozen=True)
class ModelRequest:
    """A validated request: build `model` at `input_size`², list its layers and, if `convert`, convert to
    `variant`, check equivalence and time `rounds` interleaved rounds at `batch`."""

    model: str
    input_size: int = DEFAULT_INPUT
    batch: int = DEFAULT_BATCH
    variant: str = "pointwise"
    convert: bool = False
    rounds: int = DEFAULT_ROUNDS
    strided: str = "measure"
    seed: int = 0

    @property
    def network(self) -> NetworkInfo:
        return NETWORKS[self.model]

    @property
    def gflop(self) -> float:
        """The estimated GFLOP of one forward pass of the batch (what the demo cap `model_max_gflop` bounds)."""
        return self.network.gflop_per_image_224 * self.batch * (self.input_size / 224) ** 2

    def to_dict(self) -> dict:
        return asdict(self)


def make_model_request(
    model: object,
    input_size: object = DEFAULT_INPUT,
    batch: object = DEFAULT_BATCH,
    variant: object = "pointwise",
    convert: bool = False,
    rounds: object = DEFAULT_ROUNDS,
    strided: object = "measure",
) -> ModelRequest:
    """A `ModelRequest` checked against the known networks, the ranges and the active caps.

    Raises:
        InvalidSpecError: naming the field (or the cap) and the value.
    """
    if model not in NETWORKS:
        raise InvalidSpecError("model", model, f"one of {', '.join(NETWORKS)}")
    if variant not in MODEL_VARIANTS:
        raise InvalidSpecError("variant", variant, f"one of {', '.join(MODEL_VARIANTS)}")
    if strided not in STRIDED_CHOICES:
        raise InvalidSpecError("strided", strided, f"one of {', '.join(STRIDED_CHOICES)}")
    limits = active_limits()
    size = coerce_int("input", input_size, INPUT_RANGE)
    batch = coerce_int("batch", batch, BATCH_RANGE)
    rounds = coerce_int("rounds", rounds, ROUNDS_RANGE)
    _within_cap("model_max_input", "input", size, limits.model_max_input)
    _within_cap("model_max_batch", "batch", batch, limits.model_max_batch)
    _within_cap("max_samples", "rounds", rounds, limits.max_samples)
    request = ModelRequest(str(model), size, batch, str(variant), bool(convert), rounds, str(strided))
    if request.gflop > limits.model_max_gflop:
        raise InvalidSpecError(
            "model",
            model,
            f"a network whose forward pass at batch {batch}, input {size} stays within the cap model_max_gflop = "
            f"{limits.model_max_gflop:,} GFLOP (this one: about {request.gflop:,.1f})",
        )
    return request


def _within_cap(cap: str, field: str, value: int, limit: int) -> None:
    if value > limit:
        raise InvalidSpecError(field, value, f"at most {limit:,} (the cap {cap})")


def model_request_from_dict(data: dict) -> ModelRequest:
    """The worker's rebuild of a request the server validated (types and ranges checked again, not caps)."""
    if data.get("model") not in NETWORKS:
        raise InvalidSpecError("model", data.get("model"), f"one of {', '.join(NETWORKS)}")
    if data.get("variant") not in MODEL_VARIANTS:
        raise InvalidSpecError("variant", data.get("variant"), f"one of {', '.join(MODEL_VARIANTS)}")
    return ModelRequest(
        model=data["model"],
        input_size=coerce_int("input", data["input_size"], INPUT_RANGE),
        batch=coerce_int("batch", data["batch"], BATCH_RANGE),
        variant=data["variant"],
        convert=bool(data["convert"]),
        rounds=coerce_int("rounds", data["rounds"], ROUNDS_RANGE),
        strided=data["strided"] if data.get("strided") in STRIDED_CHOICES else "measure",
        seed=coerce_int("seed", data.get("seed", 0), (0, 2**31 - 1)),
    )
