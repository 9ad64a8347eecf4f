"""Goal 3: PointwiseConv2D vs the faster of Conv2D 1x1 and Dense, graph mode on CPU.

Six shapes (small/large spatial, few/many channels) x {forward, forward+backward} x oneDNN {off, on}.
Each cell is one interleaved benchmark of the three layers (30 samples each by default) in the worker for that oneDNN
setting. ratio = min(median Conv2D, median Dense) / median PointwiseConv2D: above 1 means PointwiseConv2D
is faster than both.
"""

import argparse

import numpy as np

import _common  # noqa: F401  (puts the repository root on sys.path)
from pointwise.jobs import WorkerPool, run_benchmark
from pointwise.spec import make_run_spec

SHAPES = [
    (8, 56, 56, 64, 128),  # large spatial, few channels (the issue's reference)
    (1, 112, 112, 32, 64),  # very large spatial, few channels
    (32, 28, 28, 128, 128),  # medium
    (32, 14, 14, 256, 256),  # small spatial, many channels
    (64, 7, 7, 512, 512),  # tiny spatial, many channels
    (16, 14, 14, 1024, 256),  # wide input, bottleneck projection
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30, help="samples per variant per cell")
    samples = parser.parse_args().samples
    pool = WorkerPool()
    ratios = []
    print(f"{'oneDNN':<7}{'pass':<10}{'shape':<24}{'conv ms':>9}{'dense ms':>10}{'pointwise ms':>14}{'ratio':>8}")
    try:
        for onednn in (False, True):
            for pass_kind in ("forward", "backward"):
                for b, h, w, c, f in SHAPES:
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
                    med = {m.key: float(np.median(m.per_call_s)) for m in result.measurements}
                    ratio = min(med["conv2d_1x1"], med["dense"]) / med["pointwise"]
                    ratios.append(ratio)
                    print(
                        f"{'on' if onednn else 'off':<7}{pass_kind:<10}{f'{b}x{h}x{w}x{c}->{f}':<24}"
                        f"{med['conv2d_1x1'] * 1e3:>9.3f}{med['dense'] * 1e3:>10.3f}{med['pointwise'] * 1e3:>14.3f}"
                        f"{ratio:>8.3f}",
                        flush=True,
                    )
    finally:
        pool.close()
    print(
        f"median of {len(ratios)} ratios: {np.median(ratios):.3f} (goal >= 1.0); "
        f"min {min(ratios):.3f}, max {max(ratios):.3f}, cells >= 1.0: {sum(r >= 1 for r in ratios)}"
    )


if __name__ == "__main__":
    main()
