"""The Classroom's sweep and its counts: the order the 1x1 kernel visits pixels, which rows of the
(H*W, C) matrix to show around the current one, what a KxK kernel reads, and multiplication counts.

Pure Python and NumPy, like `pointwise.classroom`: the charts and the page only draw what these return.
"""

from __future__ import annotations

from dataclasses import dataclass

from pointwise.classroom import ConvCost


def sweep_order(height: int, width: int) -> list[tuple[int, int]]:
    """Pixels in the order a convolution visits them: row by row, left to right (= matrix row order)."""
    return [(row, col) for row in range(height) for col in range(width)]


def matrix_window(rows: int, selected: int, size: int = 7) -> range:
    """`size` consecutive row indices of a `rows`-row matrix with `selected` among them, centred where the
    matrix allows: a projector shows 7 readable rows, never the 25 rows of the whole lesson matrix."""
    size = min(size, rows)
    start = min(max(selected - size // 2, 0), rows - size)
    return range(start, start + size)


def footprint(row: int, col: int, side: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive, of the pixels a `side`x`side` kernel centred on (row, col)
    reads inside the image. With 'same' padding the rest of the window reads zeros, which add nothing."""
    half = side // 2
    return max(row - half, 0), max(col - half, 0), min(row + half, height - 1), min(col + half, width - 1)


@dataclass(frozen=True)
class PixelWork:
    """What one output pixel costs a layer: the input values it reads and the multiplications it does."""

    layer: str
    values_read: int
    multiplications: int


def work_per_pixel(channels: int, filters: int, side: int) -> list[PixelWork]:
    """Per output pixel: a 1x1 convolution reads C values and multiplies C*F times; a KxK one reads K*K*C and
    multiplies K*K*C*F times; MobileNet's depthwise KxK + pointwise 1x1 does K*K*C + C*F."""
    window = side * side
    return [
        PixelWork("1x1 convolution", channels, channels * filters),
        PixelWork(f"{side}x{side} convolution", window * channels, window * channels * filters),
        PixelWork(
            f"depthwise {side}x{side} + pointwise 1x1", window * channels, window * channels + channels * filters
        ),
    ]


def work_rows(work: list[PixelWork]) -> list[dict[str, str]]:
    """Table rows with thousands separators, and each layer's multiplications relative to the KxK layer's."""
    full = work[1].multiplications
    return [
        {
            "layer": w.layer,
            "values read": f"{w.values_read:,}",
            "multiplications": f"{w.multiplications:,}",
            f"vs {work[1].layer}": f"{w.multiplications / full:.1%}",
        }
        for w in work
    ]


def cost_rows(costs: list[ConvCost]) -> list[dict[str, str]]:
    """`separable_costs` as table rows with thousands separators (462,422,016 rather than 462422016)."""
    return [{"layer": c.name, "parameters": f"{c.params:,}", "FLOPs": f"{c.flops:,}"} for c in costs]


def markdown_table(rows: list[dict[str, str]]) -> str:
    """A Markdown table of `rows` (our own labels and numbers only: nothing here is escaped). Numbers are
    right-aligned so their digits line up."""
    columns = list(rows[0])
    align = [":--" if k == 0 else "--:" for k in range(len(columns))]
    lines = [columns, align, *([str(row[c]) for c in columns] for row in rows)]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)
