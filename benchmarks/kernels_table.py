"""The README's kernels table: the ops each variant ran at 8x56x56x64 -> 128, float32, on the machine at hand.

One kernels job per (oneDNN off/on) x (graph, XLA) x (forward, forward+backward) through the app's own engine,
so the names are what the "Kernels that ran" expander shows. Prints a markdown table (per variant: its kernels
with their share of the traced kernel time, most expensive first) and the CPU model, ready to paste.

    python benchmarks/kernels_table.py [--modes graph xla] [--min-share 0.02]
"""

import argparse

import _common
from pointwise.jobs import WorkerPool, kernels_cached
from pointwise.spec import make_run_spec
from pointwise.worker.environment import cpu_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["graph", "xla"], help="execution modes to profile")
    parser.add_argument("--min-share", type=float, default=0.02, help="leave out kernels below this share")
    args = parser.parse_args()
    pool = WorkerPool()
    print(f"CPU: {cpu_model()}; 8x56x56x64 -> 128 float32; kernels under {args.min_share:.0%} of the time left out\n")
    print("| oneDNN | mode | pass | variant | kernels (share of traced kernel time) |")
    print("|---|---|---|---|---|")
    try:
        for onednn in ("off", "on"):
            for mode in args.modes:
                for pass_kind in ("forward", "backward"):
                    spec = make_run_spec(**_common.REFERENCE_SHAPE, mode=mode, pass_kind=pass_kind, onednn=onednn)
                    for variant in kernels_cached(spec, pool=pool).result.variants:
                        shown = [r for r in variant.rows if r.share is not None and r.share >= args.min_share]
                        ops = ", ".join(f"`{row.op}` {row.share:.0%}" for row in shown) or variant.error
                        print(f"| {onednn} | {mode} | {pass_kind} | {variant.label} | {ops} |", flush=True)
    finally:
        pool.close()


if __name__ == "__main__":
    main()
