"""The note's figures for a real network: `python benchmarks/models.py [--model mobilenet_v2] [--input 224]
[--batch 8] [--rounds 20] [--repeat 1]`.

Each repeat is one fresh `model` job (a new worker: the autotuner and TensorFlow start cold) through the same
path as the Models page and `python -m pointwise model`; prints the CPU, the 1x1 share of FLOPs and of profiled
op time, and the speedups (median ratio, bootstrap 95% CI) of the converted model and of BatchNorm folding.
"""

import argparse

import _common  # noqa: F401  (import path)
from pointwise.jobs.api import model_cached
from pointwise.jobs.pool import WorkerPool
from pointwise.model_frames import model_summary
from pointwise.models import make_model_request
from pointwise.worker.environment import cpu_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--input", type=int, default=224)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    request = make_model_request(args.model, args.input, args.batch, convert=True, rounds=args.rounds)
    print(f"{cpu_model()}; {args.model} {args.input}x{args.input} batch {args.batch}, {args.rounds} rounds")
    for repeat in range(args.repeat):
        pool = WorkerPool()
        try:
            summary = model_summary(model_cached(request, fresh=True, pool=pool).result)
        finally:
            pool.close()
        rows = {(t["pass"], t["key"]): t for t in summary["timings"]}
        folding = summary["bn_folding_speedup_vs_converted"]
        print(
            f"run {repeat + 1}: 1x1 FLOPs {summary['flop_share_by_kind']['1x1']:.1%}, op time "
            f"{summary['time_share_1x1']['inference']:.0%} inference / {summary['time_share_1x1']['training']:.0%} "
            "training"
        )
        for pass_name, key in (("inference", "converted"), ("training", "converted"), ("inference", "folded")):
            row = rows[pass_name, key]
            print(
                f"  {pass_name:9} {key:9} median {row['median_ms']:8.1f} ms vs original "
                f"{rows[pass_name, 'conv2d']['median_ms']:8.1f} ms: {row['speedup']:.2f}x "
                f"[{row['speedup_ci95_low']:.2f}, {row['speedup_ci95_high']:.2f}]"
            )
        print(
            f"  BN folding alone (converted -> folded, inference): {folding['speedup']:.2f}x "
            f"[{folding['ci95_low']:.2f}, {folding['ci95_high']:.2f}]"
        )


if __name__ == "__main__":
    main()
