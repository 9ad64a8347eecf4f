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

GEMM_SIZES = {"CPU": (1024, 2048), "GPU": (4096, 8192)}
"""Square GEMM sizes tried; the fastest counts. On a shared 2-core Xeon a 2048^3 call (~0.12 s) rarely runs
uncontended: best of 5 read 36-75 GFLOP/s under load (148 when quiet) while 1024^3 calls (~15 ms) reached 109-129
in the same process, and the pointwise layer itself 148, which a 2048-only peak put at 155% of its roofline."""
STREAM_BYTES = {"CPU": 128 * 2**20, "GPU": 2 * 2**30}
REPEATS = 5


def measure_ceilings(device: str, dtype: str = "float32", runtime: Runtime | None = None) -> Ceilings:
    """Best of `REPEATS` of (n x n) @ (n x n) GEMMs (the fastest of `GEMM_SIZES`) and of an in-place `v += w`
    over two large arrays.

    A ceiling is what the device can reach, hence the fastest repeat, not the median. The arrays are far
    larger than any cache, so the update measures DRAM (or HBM) bandwidth; it counts three streams (read v,
    read w, write v). It is in place because an out-of-place op would allocate a fresh output each call and
    measure page faults instead of bandwidth (seen here: 3.5 GB/s out of place vs ~35 GB/s in place).
    The runtime builds the arrays and compiles both steps; timing goes through its device sync.
    """
    runtime = runtime or default_runtime()
    kind = device.split(":")[0]
    elements = STREAM_BYTES[kind] // DTYPE_ITEMSIZE[dtype]

    def sync():
        runtime.sync(device)

    rates = []
    with runtime.device_scope(device):
        for n in GEMM_SIZES[kind]:
            gemm, update = runtime.ceiling_steps(n, elements, dtype)
            rates.append((2 * n**3 / _best_time(gemm, sync) / 1e9, n))
        update_s = _best_time(update, sync)
    peak, n = max(rates)
    return Ceilings(
        device=device,
        dtype=dtype,
        peak_gflops_per_s=peak,
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
