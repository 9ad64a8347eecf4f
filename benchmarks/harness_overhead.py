"""Goal 2: a benchmark of all equivalent variants at 8x56x56x64 -> 128, 30 samples each, finishes in under
15 s wall with a warm worker and under 20 s from cold (worker start, TF import and ceilings included)."""

import time

import _common
from pointwise.jobs import WorkerPool, run_benchmark
from pointwise.spec import make_run_spec
from pointwise.variants import EQUIVALENT_KEYS


def main() -> None:
    spec = make_run_spec(**_common.REFERENCE_SHAPE, mode="graph", samples=30, variants=EQUIVALENT_KEYS)
    pool = WorkerPool()
    try:
        walls = []
        for label in ("cold (new worker)", "warm", "warm"):
            start = time.perf_counter()
            result = run_benchmark(spec, pool=pool)
            walls.append(time.perf_counter() - start)
            samples = sum(len(m.per_call_s) for m in result.measurements)
            print(f"{label:<18} {walls[-1]:6.2f} s wall  ({len(result.measurements)} variants, {samples} samples)")
    finally:
        pool.close()
    print(f"goal: cold < 20 s (got {walls[0]:.2f}), warm < 15 s (got {max(walls[1:]):.2f})")


if __name__ == "__main__":
    main()
