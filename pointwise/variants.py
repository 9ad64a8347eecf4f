"""The registry of pointwise-layer variants: what each one is, where it comes from, what it computes.

This module never imports TensorFlow, so the dashboard can list variants and show their source in the
server process. The layers themselves live in `pointwise.layers` (imported only by the worker and tests).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ORIGIN_SEED = "seed article"
ORIGIN_KERAS = "Keras built-in"
ORIGIN_OURS = "Pointwise Lab"

BASELINE_KEY = "conv2d_1x1"
TUNED_KEY = "pointwise"
"""`PointwiseConv2D`, the variant that times its kernels on first call."""
ALL_BACKENDS = ("tensorflow", "jax")
"""Every Keras backend a run can choose (`pointwise.backends.BACKENDS`, which checks it)."""
TENSORFLOW_ONLY = ("tensorflow",)


@dataclass(frozen=True)
class Variant:
    """One way to write a pointwise layer.

    Args:
        key: stable identifier used in URLs, the CLI, JSON files and the database.
        label: short human name; seed examples say so in the label.
        origin: `ORIGIN_SEED`, `ORIGIN_KERAS` or `ORIGIN_OURS`.
        explanation: one paragraph on what the layer really computes.
        expected_equivalent: whether its output should match `Conv2D(filters, 1)`.
        layer_class: the Keras class name that implements it (in `keras.layers` or `pointwise.layers`).
        dense_over_image: its kernel has a row for every input value of the image, (H*W*C, F), instead of one
            (C, F) matrix shared by every pixel: Seed Example 3. Its parameter count grows with the image.
        backends: the Keras backends it runs on; a layer written with `tf.*` runs on TensorFlow only.
    """

    key: str
    label: str
    origin: str
    explanation: str
    expected_equivalent: bool
    layer_class: str
    dense_over_image: bool = False
    backends: tuple[str, ...] = ALL_BACKENDS

    @property
    def tensorflow_only(self) -> bool:
        return self.backends == TENSORFLOW_ONLY

    def param_count(self, height: int, width: int, channels: int, filters: int, use_bias: bool = True) -> int:
        """Weights of this variant's layer on an (H, W, C) input: (C, F) + F, or (H·W·C, F) + F."""
        rows = height * width * channels if self.dense_over_image else channels
        return rows * filters + (filters if use_bias else 0)


VARIANTS: dict[str, Variant] = {
    v.key: v
    for v in (
        Variant(
            key=BASELINE_KEY,
            label="Conv2D 1x1 (baseline)",
            origin=ORIGIN_KERAS,
            explanation=(
                "`keras.layers.Conv2D(filters, 1)`: a convolution whose window is a single pixel. At every pixel "
                "it multiplies the C-vector of channels by a (C, F) matrix and adds a bias. Every other variant "
                "is compared with it."
            ),
            expected_equivalent=True,
            layer_class="Conv2D",
        ),
        Variant(
            key="seed_matmul",
            label="Seed Example 1: tf.matmul on 4-D input",
            origin=ORIGIN_SEED,
            explanation=(
                "The article's Example 1 as written: `tf.matmul(inputs, kernel) + bias` on the (B, H, W, C) "
                "input. TensorFlow treats the leading axes as batch axes and broadcasts the (C, F) kernel over "
                "them, so it computes the pointwise convolution, as a batched matmul of B·H matrices of shape "
                "(W, C)."
            ),
            expected_equivalent=True,
            layer_class="SeedMatmul",
            backends=TENSORFLOW_ONLY,
        ),
        Variant(
            key="seed_einsum",
            label="Seed Example 2: reshape + einsum",
            origin=ORIGIN_SEED,
            explanation=(
                "The article's Example 2 as written: reshape to (B, H·W, C), `einsum('bij,jk->bik')`, reshape to "
                "(B, -1, F). The numbers are those of the pointwise convolution, but the output is (B, H·W, F): "
                "the spatial axes are lost and the next layer cannot be a 2-D layer without a reshape. It is "
                "equivalent after reshape to (B, H, W, F). The article elides its `build`; ours is Example 1's."
            ),
            expected_equivalent=True,
            layer_class="SeedEinsum",
            backends=TENSORFLOW_ONLY,
        ),
        Variant(
            key="seed_dense_flatten",
            label="Seed Example 3: flatten + Dense (not pointwise)",
            origin=ORIGIN_SEED,
            explanation=(
                "The article's Example 3 as written: flatten each image to (B, H·W·C), apply `Dense(filters)`, "
                "reshape to (B, -1, F). This is a fully connected layer over the whole image, not a pointwise "
                "convolution: the output is (B, 1, F), one vector per image, and it has H·W·C·F + F parameters, "
                "H·W times as many weights as the pointwise convolution, so its cost grows with the image size."
            ),
            expected_equivalent=False,
            layer_class="SeedDenseFlatten",
            dense_over_image=True,
            backends=TENSORFLOW_ONLY,
        ),
        Variant(
            key="dense",
            label="Dense on 4-D input",
            origin=ORIGIN_KERAS,
            explanation=(
                "`keras.layers.Dense(filters)` applied to the (B, H, W, C) input. Dense acts on the last axis "
                "only, so this is exactly a pointwise convolution with the same (C, F) kernel: the idiomatic "
                "answer to the article's question, with no custom code."
            ),
            expected_equivalent=True,
            layer_class="Dense",
        ),
        Variant(
            key="matmul_2d",
            label="Reshape + 2-D matmul",
            origin=ORIGIN_OURS,
            explanation=(
                "Reshape to (B·H·W, C), one 2-D `tf.matmul` with the (C, F) kernel, `tf.nn.bias_add`, reshape "
                "back to (B, H, W, F). The reshapes are free (no copy); the whole layer is one GEMM."
            ),
            expected_equivalent=True,
            layer_class="Matmul2D",
            backends=TENSORFLOW_ONLY,
        ),
        Variant(
            key="einsum_4d",
            label="einsum bhwc,cf->bhwf",
            origin=ORIGIN_OURS,
            explanation=(
                "`tf.einsum('bhwc,cf->bhwf', inputs, kernel)` plus bias. The einsum states the pointwise "
                "convolution directly; TensorFlow lowers it to a reshape and a matmul."
            ),
            expected_equivalent=True,
            layer_class="Einsum4D",
            backends=TENSORFLOW_ONLY,
        ),
        Variant(
            key="keras_ops",
            label="keras.ops (backend-agnostic)",
            origin=ORIGIN_OURS,
            explanation=(
                "Written with `keras.ops` only (`ops.matmul`, `ops.add`), so the same layer runs on the "
                "TensorFlow, JAX and PyTorch backends. On TensorFlow it becomes a broadcast matmul."
            ),
            expected_equivalent=True,
            layer_class="KerasOpsPointwise",
        ),
        Variant(
            key="pointwise",
            label="PointwiseConv2D (recommended)",
            origin=ORIGIN_OURS,
            explanation=(
                "`pointwise.PointwiseConv2D`: our recommended layer, a drop-in for `Conv2D(filters, 1)` with a "
                "(C, F) kernel like Dense. On its first call for each input shape it times its candidate "
                "kernels on the machine at hand (forward: one 2-D GEMM over all B·H·W pixels with a fused bias, "
                "a 1x1 convolution, Dense's batched matmul; gradients: each one's own) and keeps "
                "the fastest of each direction; `strategy=` pins them instead."
            ),
            expected_equivalent=True,
            layer_class="PointwiseConv2D",
        ),
    )
}

EQUIVALENT_KEYS = tuple(k for k, v in VARIANTS.items() if v.expected_equivalent)


def keys_for_backend(backend: str, keys=None) -> tuple[str, ...]:
    """The variant keys among `keys` (default: all) that run on `backend`, in order."""
    return tuple(k for k in (VARIANTS if keys is None else keys) if backend in VARIANTS[k].backends)


def backend_label_suffix(key: str) -> str:
    """The suffix " · TensorFlow only" for a variant written with `tf.*`: lists show it, never hide it."""
    return " · TensorFlow only" if VARIANTS[key].tensorflow_only else ""


_LAYERS_FILE = Path(__file__).with_name("layers.py")
_KERAS_SOURCES = {
    "Conv2D": "keras.layers.Conv2D(filters, kernel_size=1)  # Keras built-in",
    "Dense": "keras.layers.Dense(filters)  # Keras built-in, applied to the 4-D input",
}


def get_variant(key: str) -> Variant:
    """Return the registered variant `key`; raises KeyError naming the known keys."""
    try:
        return VARIANTS[key]
    except KeyError:
        raise KeyError(f"Unknown variant {key!r}. Known variants: {', '.join(VARIANTS)}.") from None


@functools.cache
def variant_source(key: str) -> str:
    """The Python source of the variant's layer class, read without importing TensorFlow."""
    class_name = get_variant(key).layer_class
    if class_name in _KERAS_SOURCES:
        return _KERAS_SOURCES[class_name]
    text = _LAYERS_FILE.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return "\n".join(text.splitlines()[start - 1 : node.end_lineno])
    raise LookupError(f"Class {class_name} for variant {key!r} is missing from {_LAYERS_FILE.name}.")
