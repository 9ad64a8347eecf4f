"""Goal 4: the fastest configuration found for 8x56x56x64 -> 128 vs NumPy's matmul of the same product.

NumPy's (B*H*W, C) @ (C, F) is timed in this process with the same block method as the harness; every
equivalent variant is benchmarked in graph and XLA mode with oneDNN off and on (one worker per setting),
alternating with the NumPy timing. Throughput ratio = NumPy median / best variant median (>= 0.9 is the goal).
Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset so NumPy's BLAS is not handicapped.
"""

import time

import numpy as np

import _common
from pointwise.jobs import WorkerPool, run_benchmark
from pointwise.spec import make_run_spec
from pointwise.variants import EQUIVALENT_KEYS
from pointwise.worker.timing import TARGET_BLOCK_S


def numpy_median_s(samples: int = 30) -> float:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8 * 56 * 56, 64)).astype(np.float32)
    w = rng.standard_normal((64, 128)).astype(np.float32)
    out = np.empty((x.shape[0], 128), np.float32)
    np.matmul(x, w, out=out)
    start = time.perf_counter()
    np.matmul(x, w, out=out)
    calls = max(1, int(TARGET_BLOCK_S / (time.perf_counter() - start)) + 1)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(x, w, out=out)
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def main() -> None:
    pool = WorkerPool()
    best = (float("inf"), "")
    numpy_times = []
    try:
        for onednn in (False, True):
            for mode in ("graph", "xla"):
                numpy_times.append(numpy_median_s())
                spec = make_run_spec(
                    **_common.REFERENCE_SHAPE, mode=mode, onednn=onednn, samples=30, variants=EQUIVALENT_KEYS
                )
                for m in run_benchmark(spec, pool=pool).measurements:
                    median = float(np.median(m.per_call_s))
                    print(f"oneDNN {'on ' if onednn else 'off'} {mode:<6} {m.key:<12} {median * 1e3:8.3f} ms")
                    best = min(best, (median, f"{m.key}, {mode}, oneDNN {'on' if onednn else 'off'}"))
        numpy_times.append(numpy_median_s())
    finally:
        pool.close()
    numpy_s = float(np.median(numpy_times))
    print(f"NumPy matmul (median of {len(numpy_times)} interleaved runs): {numpy_s * 1e3:.3f} ms")
    print(f"fastest configuration: {best[1]}: {best[0] * 1e3:.3f} ms")
    print(f"throughput ratio (NumPy time / best time): {numpy_s / best[0]:.3f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
