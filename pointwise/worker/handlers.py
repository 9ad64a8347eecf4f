"""`JobHandler`: one method per job kind. Jobs arrive as plain dicts, results leave as plain data.

The server validated the spec (`make_run_spec`, with today's caps); here it is only rebuilt with the trusted
constructor `stored_spec`, which checks types and ranges. The device is checked against what the runtime
finds: the server cannot know that without loading TensorFlow.
"""

from __future__ import annotations

import dataclasses
import importlib
import resource
from collections.abc import Callable
from typing import Any

from pointwise import protocol
from pointwise.errors import InvalidSpecError
from pointwise.results import BenchmarkResult, stored_spec
from pointwise.spec import RunSpec, is_gpu, normalize_device
from pointwise.variants import BASELINE_KEY, TUNED_KEY
from pointwise.worker.runtime import Runtime


@dataclasses.dataclass
class JobEvents:
    """Where a job reports while it runs: timed samples (`progress`) and untimed steps (`phase`)."""

    progress: Callable[[str, int, int, float], None]
    phase: Callable[[str], None]


class JobHandler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handle(self, job: dict[str, Any], events: JobEvents) -> Any:
        """The result of `job` as plain data; raises `PointwiseError` for a bad job, anything else for a bug."""
        kind = protocol.job_kind(job)
        if kind == protocol.DEVICES:
            return self.runtime.devices()
        if kind == protocol.CEILINGS:
            return self.ceilings(self._checked_device(job["device"]), job.get("dtype", "float32"))
        if kind == protocol.FORMS:
            from pointwise.worker.lesson_forms import lesson_forms

            return lesson_forms(job["inputs"], job["kernel"], job["bias"])
        if kind == protocol.MODEL:
            return self.model(job["request"], events)
        if kind not in (protocol.CHECK, protocol.BENCH, protocol.KERNELS, protocol.TUNE):
            raise ValueError(f"unknown job kind {kind!r}")
        spec = stored_spec(job["spec"])
        if spec.backend != self.runtime.name:
            # The pool picks the worker by `WorkerKnobs.backend`: a mismatch is a routing bug, not bad input.
            raise ValueError(f"a {spec.backend} job reached the {self.runtime.name} worker")
        self._checked_device(spec.device)
        self.runtime.prepare(spec)
        if kind == protocol.CHECK:
            from pointwise.worker.equivalence import check_equivalence

            channel = int(job.get("diff_channel", 0))
            return check_equivalence(spec, channel, self.runtime, versus_tensorflow=True).to_dict()
        if kind == protocol.TUNE:
            return self.tune(spec)
        if kind == protocol.KERNELS:
            # TensorFlow's profiler for TensorFlow; what XLA compiled for JAX.
            module = "jax_kernels" if self.runtime.name == "jax" else "kernels"
            kernels_that_ran = importlib.import_module(f"pointwise.worker.{module}").kernels_that_ran
            return kernels_that_ran(spec, self.runtime).to_dict()
        return self.bench(spec, bool(job.get("measure_ceilings", True)), events, check=bool(job.get("check", True)))

    def tune(self, spec: RunSpec) -> dict:
        """PointwiseConv2D's kernel tuning for `spec`'s input, done now and kept by this worker (in-process), so
        that a benchmark of `spec` does not spend its first second on it."""
        from pointwise.layers import make_layer

        layer = make_layer(TUNED_KEY, spec.filters, use_bias=spec.use_bias, dtype=spec.dtype)
        with self.runtime.device_scope(spec.device):
            layer(self.runtime.input_tensor(spec))
        # The worker's one tuning of this input: the same `elapsed_s` on every later call shows it was kept.
        return {"strategy": layer.strategy, "tuning_s": layer.tuning.elapsed_s if layer.tuning else None}

    def ceilings(self, device: str, dtype: str) -> dict:
        from pointwise.worker.ceilings import measure_ceilings

        return measure_ceilings(device, dtype, self.runtime).to_dict()

    def model(self, request: dict, events: JobEvents) -> dict:
        from pointwise.models import model_request_from_dict
        from pointwise.worker.models import run_model_job

        return run_model_job(model_request_from_dict(request), events)

    def bench(self, spec: RunSpec, measure_ceilings: bool, events: JobEvents, check: bool = True) -> dict:
        """Time, check (unless the server already holds the check), and (if asked) measure the ceilings; raw
        samples only, the server derives statistics (and attaches the equivalence it holds)."""
        from pointwise.results import Ceilings
        from pointwise.worker.environment import environment_card
        from pointwise.worker.equivalence import check_equivalence
        from pointwise.worker.timing import measure

        keys = spec.variants if BASELINE_KEY in spec.variants else (BASELINE_KEY, *spec.variants)
        measurements = measure(spec, keys, events.progress, self.runtime)
        equivalence = ()
        if check:
            # After the samples, not before: the visitor watches the distribution grow instead of waiting ~4 s
            # for a check whose verdict comes with the final result either way.
            events.phase("Checking every variant against Conv2D 1x1")
            equivalence = check_equivalence(spec, runtime=self.runtime).reports
        ceilings = None
        if measure_ceilings:
            # Several seconds of GEMM and copy loops after the last sample: say so rather than fall silent.
            events.phase(f"Measuring the roofline ceilings of {spec.device} (first run with these settings only)")
            ceilings = Ceilings.from_dict(self.ceilings(spec.device, spec.dtype))
        events.phase("Collecting the environment card")
        gpu_name = next((d["description"] for d in self.runtime.devices() if d["name"] == spec.device), None)
        result = BenchmarkResult(
            spec=spec,
            measurements=tuple(measurements),
            environment=environment_card(self.runtime, spec, gpu_name if is_gpu(spec.device) else None),
            equivalence=tuple(dataclasses.replace(r, diff_map=None, diff_histogram=None) for r in equivalence),
            ceilings=ceilings,
            worker_peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        )
        return result.to_dict(include_statistics=False)

    def _checked_device(self, device: str) -> str:
        device = normalize_device(device)
        names = [d["name"] for d in self.runtime.devices()]
        if device not in names:
            raise InvalidSpecError("device", device, f"a device {self.runtime.name} finds here: {', '.join(names)}")
        return device
