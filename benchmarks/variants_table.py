"""The README's variant table: every variant at 8x56x56x64 -> 128, float32, graph mode, on the machine at hand.

One interleaved benchmark per (oneDNN off/on) x (forward, forward+backward) through the app's own engine, so
the figures are what the Benchmark page would show. Prints a markdown table (median ms, speedup vs Conv2D 1x1
with its bootstrap 95% CI, Mann-Whitney p) and the CPU model, ready to paste.

    python benchmarks/variants_table.py [--samples 40]
"""

import argparse

import _common
from pointwise.frames import stats_frame
from pointwise.jobs import WorkerPool, run_benchmark
from pointwise.spec import make_run_spec
from pointwise.variants import VARIANTS
from pointwise.worker.environment import cpu_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="samples per variant per configuration")
    samples = parser.parse_args().samples
    pool = WorkerPool()
    print(f"CPU: {cpu_model()}; 8x56x56x64 -> 128 float32, graph mode, {samples} samples per variant\n")
    print("| oneDNN | pass | variant | median (ms) | speedup vs Conv2D 1x1 [95% CI] | p |")
    print("|---|---|---|---|---|---|")
    try:
        for onednn in (False, True):
            for pass_kind in ("forward", "backward"):
                spec = make_run_spec(
                    **_common.REFERENCE_SHAPE, mode="graph", pass_kind=pass_kind, onednn=onednn, samples=samples
                )
                stats = stats_frame(run_benchmark(spec, pool=pool))
                for row in stats.itertuples():
                    p = "" if row.p_value_vs_conv2d != row.p_value_vs_conv2d else f"{row.p_value_vs_conv2d:.1g}"
                    print(
                        f"| {'on' if onednn else 'off'} | {pass_kind} | {VARIANTS[row.key].label} | "
                        f"{row.median_ms:.2f} | {row.speedup_vs_conv2d:.2f}x "
                        f"[{row.speedup_ci95_low:.2f}, {row.speedup_ci95_high:.2f}] | {p} |",
                        flush=True,
                    )
    finally:
        pool.close()


if __name__ == "__main__":
    main()
