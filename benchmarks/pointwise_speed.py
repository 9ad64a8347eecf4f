"""Issue #12 goal: autotuned PointwiseConv2D vs the faster of Conv2D 1x1 and Dense, graph mode on CPU.

Six shapes (small/large spatial, few/many channels) x {forward, forward+backward} x oneDNN {off, on}.
Each cell is one interleaved benchmark of the three layers (30 samples each by default) in the worker for that
oneDNN setting, the layers built as the app builds them (`make_layer`). ratio = min(median Conv2D, median
Dense) / median PointwiseConv2D: above 1 means PointwiseConv2D is faster than both. Goal: geomean >= 1.00 and
every cell >= 0.95. The worker does not report which kernels the layer chose, so each cell's strategy is that
of a tuning of the same shape in a separate process with the same oneDNN setting (the same timer, run again:
where two kernels are within noise of each other, the worker's tuning may have picked the other).
"""

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

import _common  # noqa: F401  (puts the repository root on sys.path)
from pointwise.jobs import WorkerPool, run_benchmark
from pointwise.spec import make_run_spec
from pointwise.worker.environment import cpu_model

SHAPES = [
    (8, 56, 56, 64, 128),  # large spatial, few channels (the issue's reference)
    (1, 112, 112, 32, 64),  # very large spatial, few channels
    (32, 28, 28, 128, 128),  # medium
    (32, 14, 14, 256, 256),  # small spatial, many channels
    (64, 7, 7, 512, 512),  # tiny spatial, many channels
    (16, 14, 14, 1024, 256),  # wide input, bottleneck projection
]
GOAL_GEOMEAN = 1.00
GOAL_WORST_CELL = 0.95


def tuned_strategies() -> None:
    """Prints one JSON line per shape: the strategy and the tuning's seconds (run in a child process)."""
    import tensorflow as tf

    from pointwise.layers import make_layer

    for b, h, w, c, f in SHAPES:
        layer = make_layer("pointwise", f, seed=0)
        tf.function(layer)(tf.random.normal((b, h, w, c)))
        print(json.dumps({"shape": [b, h, w, c, f], "strategy": layer.strategy, "elapsed_s": layer.tuning.elapsed_s}))


def strategies_in_child(onednn: bool) -> dict[tuple, dict]:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, __file__, "--tuned-strategies"], env=env, capture_output=True, text=True, check=True
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return {tuple(row["shape"]): row for row in rows}


def measure_cells(samples: int, shapes: list[tuple]) -> list[dict]:
    pool = WorkerPool()
    cells = []
    try:
        for onednn in (False, True):
            tuned = strategies_in_child(onednn)
            for pass_kind in ("forward", "backward"):
                for shape in shapes:
                    b, h, w, c, f = shape
                    spec = make_run_spec(
                        batch=b,
                        height=h,
                        width=w,
                        channels=c,
                        filters=f,
                        mode="graph",
                        pass_kind=pass_kind,
                        onednn=onednn,
                        samples=samples,
                        variants=["conv2d_1x1", "dense", "pointwise"],
                    )
                    result = run_benchmark(spec, pool=pool)
                    median_s = {m.key: float(np.median(m.per_call_s)) for m in result.measurements}
                    cell = {"onednn": onednn, "pass": pass_kind, "shape": shape, **tuned[shape], **median_s}
                    cell["ratio"] = min(median_s["conv2d_1x1"], median_s["dense"]) / median_s["pointwise"]
                    cells.append(cell)
                    print_cell(cell)
    finally:
        pool.close()
    return cells


def print_cell(cell: dict) -> None:
    b, h, w, c, f = cell["shape"]
    print(
        f"{'on' if cell['onednn'] else 'off':<7}{cell['pass']:<10}{f'{b}x{h}x{w}x{c}->{f}':<24}"
        f"{cell['conv2d_1x1'] * 1e3:>9.3f}{cell['dense'] * 1e3:>10.3f}{cell['pointwise'] * 1e3:>14.3f}"
        f"{cell['ratio']:>8.3f}  {cell['strategy']} (tuned in {cell['elapsed_s']:.2f} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30, help="samples per variant per cell")
    parser.add_argument("--shapes", type=int, default=len(SHAPES), help="the first N shapes only (quick runs)")
    parser.add_argument("--tuned-strategies", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tuned_strategies:
        tuned_strategies()
        return
    print(f"CPU: {cpu_model()}")
    header = f"{'oneDNN':<7}{'pass':<10}{'shape':<24}{'conv ms':>9}{'dense ms':>10}{'pointwise ms':>14}{'ratio':>8}"
    print(f"{header}  strategy")
    cells = measure_cells(args.samples, SHAPES[: args.shapes])
    ratios = [cell["ratio"] for cell in cells]
    geomean = math.exp(np.mean(np.log(ratios)))
    worst = min(cells, key=lambda cell: cell["ratio"])
    b, h, w, c, f = worst["shape"]
    met = geomean >= GOAL_GEOMEAN and worst["ratio"] >= GOAL_WORST_CELL
    print(
        f"geomean of {len(ratios)} ratios: {geomean:.3f} (goal >= {GOAL_GEOMEAN:.2f}); worst cell {worst['ratio']:.3f} "
        f"(goal >= {GOAL_WORST_CELL:.2f}: oneDNN {'on' if worst['onednn'] else 'off'}, {worst['pass']}, "
        f"{b}x{h}x{w}x{c}->{f}); median {np.median(ratios):.3f}, max {max(ratios):.3f}; "
        f"slowest tuning {max(cell['elapsed_s'] for cell in cells):.2f} s; goal {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
