"""NumPy helpers behind the Classroom page: small, exact, instant. No TensorFlow, no Streamlit.

Everything here is the same arithmetic the Keras layers do (tests check it against them), written so a
student can read it: a pointwise convolution is `x[h, w, :] @ W + b` at every pixel.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from pointwise.errors import ImportRejectedError

LESSON_SHAPE = (5, 5, 3)
LESSON_FILTERS = 2
MAX_UPLOAD_BYTES = 5 * 2**20
MAX_UPLOAD_PIXELS = 4096 * 4096
DISPLAY_SIDE = 192
"""Uploaded images are shrunk to at most this many pixels a side: enough to see colours, instant to mix."""

COLOUR_PRESETS: dict[str, np.ndarray] = {
    "identity": np.eye(3),
    "grayscale (BT.601 luma)": np.tile([0.299, 0.587, 0.114], (3, 1)),
    "sepia": np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]),
    "channel swap (RGB -> BGR)": np.eye(3)[::-1],
    "RGB -> YUV (BT.601)": np.array([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]]),
}
"""Each matrix maps an input RGB vector to an output vector: out = M @ rgb (rows are output channels)."""

PRESET_OUTPUTS: dict[str, tuple[str, str, str]] = {"RGB -> YUV (BT.601)": ("Y", "U", "V")}
"""What a preset's output rows mean, where they are not R, G and B again."""


def preset_output_labels(preset: str) -> list[str]:
    """Row labels of a preset's matrix: "out R", "out G", "out B", or "out Y", "out U", "out V" for YUV."""
    return [f"out {name}" for name in PRESET_OUTPUTS.get(preset, ("R", "G", "B"))]


def lesson_input(seed: int = 0, shape: tuple[int, int, int] = LESSON_SHAPE) -> np.ndarray:
    """A small (H, W, C) input with one-decimal values, easy to read aloud."""
    return _without_negative_zero(np.round(np.random.default_rng(seed).uniform(-1, 1, shape), 1))


def lesson_weights(seed: int = 0, channels: int = LESSON_SHAPE[2], filters: int = LESSON_FILTERS):
    """A (C, F) kernel and (F,) bias with one-decimal values."""
    rng = np.random.default_rng(seed + 1)
    kernel, bias = np.round(rng.uniform(-1, 1, (channels, filters)), 1), np.round(rng.uniform(-0.5, 0.5, filters), 1)
    return _without_negative_zero(kernel), _without_negative_zero(bias)


def _without_negative_zero(values: np.ndarray) -> np.ndarray:
    """Rounding -0.04 gives -0.0, which the formulas print as "(-0)"; adding +0.0 turns -0.0 into 0.0 (IEEE 754)."""
    return values + 0.0


def pointwise_numpy(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The pointwise convolution of an (..., C) array: x @ kernel + bias at every position."""
    return x @ kernel + bias


@dataclass(frozen=True)
class PixelProduct:
    """The arithmetic at one pixel: out[f] = sum_c channels[c] * kernel[c, f] + bias[f]."""

    channels: np.ndarray
    kernel: np.ndarray
    bias: np.ndarray
    output: np.ndarray

    def terms(self, f: int) -> list[str]:
        """The C products of output channel `f`, "(value)·(weight)", in channel order: a chart colours term c
        like weight row c."""
        return [f"({v:g})·({k:g})" for v, k in zip(self.channels, self.kernel[:, f], strict=True)]

    def formula(self, f: int) -> str:
        return f"{' + '.join(self.terms(f))} + ({self.bias[f]:g}) = {self.output[f]:.3g}"


def pixel_product(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, row: int, col: int) -> PixelProduct:
    channels = x[row, col]
    return PixelProduct(channels=channels, kernel=kernel, bias=bias, output=channels @ kernel + bias)


def as_matrix_rows(x: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (H*W, C): pixel (h, w) becomes row h*W + w."""
    return x.reshape(-1, x.shape[-1])


def pixel_row_index(row: int, col: int, width: int) -> int:
    return row * width + col


# -- colour ------------------------------------------------------------------------------------------------


def demo_image(side: int = 160) -> np.ndarray:
    """A generated RGB test image in [0, 1]: a hue wheel with a grey ramp, so every preset shows its effect."""
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1)
    angle = np.arctan2(yy - 0.5, xx - 0.5)
    radius = np.clip(np.hypot(yy - 0.5, xx - 0.5) * 2, 0, 1)
    hue = (angle / (2 * np.pi)) % 1.0
    rgb = np.stack([np.clip(np.abs(((hue * 6 + s) % 6) - 3) - 1, 0, 1) for s in (0, 4, 2)], axis=-1)
    image = radius[..., None] * rgb + (1 - radius[..., None]) * 0.5
    image[: side // 8] = np.linspace(0, 1, side)[None, :, None]
    return image


def mix_colours(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 3x3 channel-mixing matrix at every pixel: a pointwise convolution with kernel = matrix.T."""
    return pointwise_numpy(image, np.asarray(matrix, dtype=float).T, np.zeros(3))


def displayable(image: np.ndarray) -> np.ndarray:
    """Map to [0, 1] for display. Negative values (YUV's U and V) are shifted and scaled so they stay visible;
    otherwise values above 1 saturate, as a real image pipeline would clip them (sepia brightens reds)."""
    low, high = float(image.min()), float(image.max())
    if low < 0:
        return (image - low) / (high - low)
    return np.clip(image, 0, 1)


ACCEPTED_FORMATS = ("PNG", "JPEG", "MPO")
"""MPO is what many cameras and phones write into a `.jpg`: a JPEG followed by extra frames (a depth map, a
second view). Its first frame is the photo, and that is the frame Pillow opens."""


def load_uploaded_image(data: bytes) -> np.ndarray:
    """Decode an uploaded PNG/JPEG safely into an RGB array in [0, 1], upright, shrunk to `DISPLAY_SIDE`.

    Raises:
        ImportRejectedError: too large, not an image, or a decompression bomb, with a message saying which.
            The message never quotes Pillow's own text, which names the in-memory buffer instead of the file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImportRejectedError("The uploaded file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRejectedError(f"The image is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.")
    unreadable = "The file is not a readable PNG or JPEG image"
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ImportRejectedError(f"Expected a PNG or JPEG image, got {probe.format or 'an unknown format'}.")
            width, height = probe.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise ImportRejectedError(
                    f"The image is {width}x{height} pixels; the limit is {MAX_UPLOAD_PIXELS:,} pixels."
                )
            probe.draft("RGB", (DISPLAY_SIDE, DISPLAY_SIDE))
            # Phones store a portrait photo as landscape pixels plus an EXIF "rotate" tag; viewers obey the tag.
            ImageOps.exif_transpose(probe, in_place=True)
            probe.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
            image = _eight_bit_rgb(probe)
    except ImportRejectedError:
        raise
    except UnidentifiedImageError:
        raise ImportRejectedError(f"{unreadable}: cannot identify the image format.") from None
    except Image.DecompressionBombError:
        raise ImportRejectedError(f"{unreadable}: its header claims a size that could exhaust memory.") from None
    except (OSError, ValueError, SyntaxError):  # Pillow raises SyntaxError for a broken PNG chunk
        raise ImportRejectedError(f"{unreadable}: the image data is damaged or cut short.") from None
    return np.asarray(image, dtype=float) / 255.0


def _eight_bit_rgb(image):
    """`image` as 8-bit RGB. A 16-bit greyscale PNG opens in mode "I;16" (or "I"), whose values run to 65535:
    Pillow's convert("RGB") clips them at 255, turning almost every pixel white, so they are scaled by 1/257
    (65535 -> 255) first."""
    if image.mode.startswith("I"):
        image = image.point(lambda value: value / 257).convert("L")
    return image.convert("RGB")


# -- the article's examples, dissected ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeStep:
    code: str
    shape: tuple


def article_example_steps(example: int, b: int, h: int, w: int, c: int, f: int) -> list[ShapeStep]:
    """The shape after every line of the article's Example 1, 2 or 3 on a (B, H, W, C) input."""
    if example == 1:
        return [
            ShapeStep("inputs", (b, h, w, c)),
            ShapeStep("tf.matmul(inputs, kernel)  # kernel (C, F)", (b, h, w, f)),
            ShapeStep("+ bias", (b, h, w, f)),
        ]
    if example == 2:
        return [
            ShapeStep("inputs", (b, h, w, c)),
            ShapeStep("tf.reshape(inputs, (B, -1, C))", (b, h * w, c)),
            ShapeStep("tf.einsum('bij,jk->bik', x, kernel)", (b, h * w, f)),
            ShapeStep("+ bias", (b, h * w, f)),
            ShapeStep("tf.reshape(output, (B, -1, F))", (b, h * w, f)),
        ]
    if example == 3:
        return [
            ShapeStep("inputs", (b, h, w, c)),
            ShapeStep("tf.reshape(inputs, (B, -1))", (b, h * w * c)),
            ShapeStep("Dense(F)  # kernel (H*W*C, F)", (b, f)),
            ShapeStep("tf.reshape(output, (B, -1, F))", (b, 1, f)),
        ]
    raise ValueError(f"example must be 1, 2 or 3, got {example}")


def article_example_params(example: int, h: int, w: int, c: int, f: int) -> int:
    """Weights of each example: C*F + F for 1 and 2; H*W*C*F + F for 3 (a Dense over the whole image)."""
    return (h * w * c * f + f) if example == 3 else (c * f + f)


# -- cost: standard vs depthwise-separable -----------------------------------------------------------------


@dataclass(frozen=True)
class ConvCost:
    name: str
    params: int
    flops: int


def separable_costs(h: int, w: int, c: int, f: int, k: int) -> list[ConvCost]:
    """Parameters and FLOPs (2 per multiply-add, 'same' padding, stride 1) of a KxK convolution C -> F and of
    MobileNet's replacement: a KxK depthwise convolution followed by a pointwise (1x1) one. Biases excluded."""
    pixels = h * w
    standard = ConvCost("standard KxK convolution", k * k * c * f, 2 * pixels * k * k * c * f)
    depthwise = ConvCost("depthwise KxK", k * k * c, 2 * pixels * k * k * c)
    pointwise = ConvCost("pointwise 1x1", c * f, 2 * pixels * c * f)
    separable = ConvCost(
        "depthwise + pointwise", depthwise.params + pointwise.params, depthwise.flops + pointwise.flops
    )
    return [standard, depthwise, pointwise, separable]


def separable_ratio(f: int, k: int) -> float:
    """(depthwise + pointwise) / standard cost = 1/F + 1/K^2, the same for parameters and FLOPs."""
    return 1 / f + 1 / (k * k)


def params_vs_size(c: int, f: int, sizes: list[int]) -> list[dict]:
    """Rows for the chart of parameters against H = W for the three article examples."""
    return [
        {"H = W": s, "example": f"Example {e}", "parameters": article_example_params(e, s, s, c, f)}
        for s in sizes
        for e in (1, 2, 3)
    ]
