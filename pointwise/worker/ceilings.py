"""`measure_ceilings`: the practical GEMM peak and copy bandwidth of a device. Runs inside the worker.

These are the roofline's two lines: no pointwise kernel can beat a large square GEMM in FLOP/s, nor
stream bytes faster than a large elementwise copy. Both are measured with the worker's own backend
(`Runtime.ceiling_steps`), under its knob set (oneDNN, threads), because that is the ceiling the variants
actually run under.
"""

from __future__ import annotations

import time

from pointwise.results import Ceilings
from pointwise.spec import DTYPE_ITEMSIZE
from pointwise.worker.runtime import Runtime, default_runtime

GEMM_SIZE = {"CPU": 2048, "GPU": 8192}
STREAM_BYTES = {"CPU": 128 * 2**20, "GPU": 2 * 2**30}
REPEATS = 5


def measure_ceilings(device: str, dtype: str = "float32", runtime: Runtime | None = None) -> Ceilings:
    """Best of `REPEATS` of a (n x n) @ (n x n) GEMM and of an in-place `v += w` over two large arrays.

    A ceiling is what the device can reach, hence the fastest repeat, not the median. The arrays are far
    larger than any cache, so the update measures DRAM (or HBM) bandwidth; it counts three streams (read v,
    read w, write v). It is in place because an out-of-place op would allocate a fresh output each call and
    measure page faults instead of bandwidth (seen here: 3.5 GB/s out of place vs ~35 GB/s in place).
    The runtime builds the arrays and compiles both steps; timing goes through its device sync.
    """
    runtime = runtime or default_runtime()
    kind = device.split(":")[0]
    n = GEMM_SIZE[kind]
    elements = STREAM_BYTES[kind] // DTYPE_ITEMSIZE[dtype]

    def sync():
        runtime.sync(device)

    with runtime.device_scope(device):
        gemm, update = runtime.ceiling_steps(n, elements, dtype)
        gemm_s = _best_time(gemm, sync)
        update_s = _best_time(update, sync)
    return Ceilings(
        device=device,
        dtype=dtype,
        peak_gflops_per_s=2 * n**3 / gemm_s / 1e9,
        bandwidth_gb_per_s=3 * elements * DTYPE_ITEMSIZE[dtype] / update_s / 1e9,
        gemm_size=n,
        stream_bytes=elements * DTYPE_ITEMSIZE[dtype],
    )


def _best_time(fn, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return min(times)
