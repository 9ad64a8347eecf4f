"""The TensorFlow worker process: `python -m pointwise.worker`. JSON lines in on stdin, events out on stdout.

Protocol (one JSON object per line):
    in:  {"id": str, "kind": "devices" | "check" | "bench" | "ceilings", ...job fields}
    out: {"event": "ready", "pid": int}                                      once, after TensorFlow loads
         {"id": str, "event": "progress", "variant": str, "done": int, "total": int}
         {"id": str, "event": "phase", "text": str}                        a bench job's untimed steps
         {"id": str, "event": "result", "result": {...}}
         {"id": str, "event": "error", "error_type": str, "field": str | None, "message": str}

Settings TensorFlow reads only at import (oneDNN, thread pools, visible GPUs) come from the environment the
pool starts the process with. The process exits when stdin closes, so it cannot outlive the app.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import resource
import sys
import traceback

THREADS_ENV = "POINTWISE_THREADS"


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    # Whatever TensorFlow or a layer prints must not corrupt the protocol stream.
    os.dup2(2, 1)

    def send(message: dict) -> None:
        protocol.write(json.dumps(message, allow_nan=False) + "\n")

    import tensorflow as tf

    # Each variant is its own tf.function, which TensorFlow's retracing heuristic warns about; that noise
    # would otherwise be the "last stderr line" quoted in crash messages.
    tf.get_logger().setLevel("ERROR")

    threads = int(os.environ.get(THREADS_ENV, "0"))
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    send({"event": "ready", "pid": os.getpid()})
    handler = _JobHandler(tf)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        job_id = job.get("id")
        handler.announce = lambda text, job_id=job_id: send({"id": job_id, "event": "phase", "text": text})
        try:
            result = handler.handle(
                job,
                lambda v, d, t, job_id=job_id: send(
                    {"id": job_id, "event": "progress", "variant": v, "done": d, "total": t}
                ),
            )
            send({"id": job_id, "event": "result", "result": result})
        except Exception as exc:
            from pointwise.errors import InvalidSpecError, PointwiseError

            traceback.print_exc(file=sys.stderr)
            send(
                {
                    "id": job_id,
                    "event": "error",
                    "error_type": type(exc).__name__ if isinstance(exc, PointwiseError) else "internal",
                    "field": exc.field if isinstance(exc, InvalidSpecError) else None,
                    "value": _json_value(exc.value) if isinstance(exc, InvalidSpecError) else None,
                    "expected": exc.expected if isinstance(exc, InvalidSpecError) else None,
                    "message": str(exc) if isinstance(exc, PointwiseError) else f"{type(exc).__name__}: {exc}",
                }
            )


def _json_value(value):
    """`value` as the server should echo it: itself when JSON keeps it exactly (the server's message applies
    repr() once, as for a local error), its text otherwise (NaN, tuples, objects)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


class _JobHandler:
    def __init__(self, tf_module) -> None:
        self.tf = tf_module
        self._ceilings: dict[tuple[str, str], dict] = {}
        # Tells the caller which untimed step of the current job runs; `main` binds it to each job's id.
        self.announce = lambda text: None

    def devices(self) -> list[dict]:
        from pointwise.environment import cpu_model

        found = [{"name": "CPU:0", "description": cpu_model()}]
        for index, gpu in enumerate(self.tf.config.list_physical_devices("GPU")):
            details = self.tf.config.experimental.get_device_details(gpu)
            found.append({"name": f"GPU:{index}", "description": details.get("device_name", gpu.name)})
        return found

    def handle(self, job: dict, progress) -> dict | list:
        from pointwise.spec import make_run_spec

        kind = job.get("kind")
        if kind == "devices":
            return self.devices()
        if kind == "ceilings":
            return self.ceilings(self._checked_device(job["device"]), job.get("dtype", "float32"))
        if kind == "forms":
            from pointwise.classroom_keras import run_forms

            return run_forms(job["inputs"], job["kernel"], job["bias"])
        spec = make_run_spec(**job["spec"])
        self._checked_device(spec.device)
        if spec.device.startswith("GPU"):
            self.tf.config.experimental.enable_tensor_float_32_execution(spec.tf32)
        if kind == "check":
            from pointwise.equivalence import check_equivalence

            return check_equivalence(spec, diff_channel=int(job.get("diff_channel", 0))).to_dict()
        if kind == "bench":
            return self.bench(spec, job.get("ceilings"), progress)
        raise ValueError(f"unknown job kind {kind!r}")

    def ceilings(self, device: str, dtype: str) -> dict:
        if (device, dtype) not in self._ceilings:
            from pointwise.ceilings import measure_ceilings

            self._ceilings[device, dtype] = measure_ceilings(device, dtype).to_dict()
        return self._ceilings[device, dtype]

    def bench(self, spec, known_ceilings: dict | None, progress) -> dict:
        from pointwise.environment import environment_card
        from pointwise.equivalence import check_equivalence
        from pointwise.results import BenchmarkResult, Ceilings
        from pointwise.timing import measure
        from pointwise.variants import BASELINE_KEY

        # Correctness before speed: every timed variant is first checked against the baseline.
        self.announce("Checking every variant against Conv2D 1x1")
        equivalence = check_equivalence(spec).reports
        keys = spec.variants if BASELINE_KEY in spec.variants else (BASELINE_KEY, *spec.variants)
        measurements = measure(spec, keys, progress)
        if known_ceilings:
            self._ceilings[spec.device, spec.dtype] = known_ceilings
        if (spec.device, spec.dtype) not in self._ceilings:
            # Several seconds of GEMM and copy loops after the last sample: say so rather than fall silent.
            self.announce(f"Measuring the roofline ceilings of {spec.device} (first run on this worker only)")
        ceilings = Ceilings.from_dict(self.ceilings(spec.device, spec.dtype))
        self.announce("Collecting the environment card")
        gpu_name = next((d["description"] for d in self.devices() if d["name"] == spec.device), None)
        result = BenchmarkResult(
            spec=spec,
            measurements=tuple(measurements),
            environment=environment_card(self.tf, spec, gpu_name if spec.device.startswith("GPU") else None),
            equivalence=tuple(dataclasses.replace(r, diff_map=None, diff_histogram=None) for r in equivalence),
            ceilings=ceilings,
            worker_peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        )
        return result.to_dict()

    def _checked_device(self, device: str) -> str:
        from pointwise.errors import InvalidSpecError
        from pointwise.spec import normalize_device

        device = normalize_device(device)
        names = [d["name"] for d in self.devices()]
        if device not in names:
            raise InvalidSpecError("device", device, f"a device TensorFlow finds here: {', '.join(names)}")
        return device


if __name__ == "__main__":
    main()
