"""`WorkerKnobs`: the settings TensorFlow reads only at import, which select the worker process that runs a job."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pointwise.protocol import CPU_ALLOCATOR_BFC_ENV, INTER_THREADS_ENV, ONEDNN_ENV, THREADS_ENV
from pointwise.spec import RunSpec, is_gpu


@dataclass(frozen=True)
class WorkerKnobs:
    """Settings TensorFlow reads only at import time, so each combination needs its own process."""

    onednn: str = "default"
    threads: int = 0
    inter_threads: int = 0
    cpu_allocator_bfc: str = "default"
    gpu_visible: bool = False

    @classmethod
    def for_spec(cls, spec: RunSpec) -> WorkerKnobs:
        return cls(
            onednn=spec.onednn,
            threads=spec.threads,
            inter_threads=spec.inter_threads,
            cpu_allocator_bfc=spec.cpu_allocator_bfc,
            gpu_visible=is_gpu(spec.device),
        )

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            THREADS_ENV: str(self.threads),
            INTER_THREADS_ENV: str(self.inter_threads),
            "PYTHONUNBUFFERED": "1",
        }
        # "default" must reach TensorFlow as an absent variable (its own per-CPU choice), even when the server
        # itself was started with one set.
        for variable, setting, values in (
            (ONEDNN_ENV, self.onednn, {"on": "1", "off": "0"}),
            (CPU_ALLOCATOR_BFC_ENV, self.cpu_allocator_bfc, {"on": "true", "off": "false"}),
        ):
            if setting == "default":
                env.pop(variable, None)
            else:
                env[variable] = values[setting]
        if not self.gpu_visible:
            # A CPU job must not initialise CUDA: it would take GPU memory and perturb CPU timings.
            env["CUDA_VISIBLE_DEVICES"] = "-1"
        return env
