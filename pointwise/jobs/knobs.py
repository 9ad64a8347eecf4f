"""`WorkerKnobs`: the settings read only at import (TensorFlow's, and the Keras backend), which select the worker
process that runs a job."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pointwise.backends import BACKEND_ENV, DEFAULT_BACKEND
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
    backend: str = DEFAULT_BACKEND

    @classmethod
    def for_spec(cls, spec: RunSpec) -> WorkerKnobs:
        if spec.backend != DEFAULT_BACKEND:
            # TensorFlow's knobs mean nothing to another backend: one worker per backend and device kind.
            return cls(gpu_visible=is_gpu(spec.device), backend=spec.backend)
        return cls(
            onednn=spec.onednn,
            threads=spec.threads,
            inter_threads=spec.inter_threads,
            cpu_allocator_bfc=spec.cpu_allocator_bfc,
            gpu_visible=is_gpu(spec.device),
            backend=spec.backend,
        )

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            THREADS_ENV: str(self.threads),
            INTER_THREADS_ENV: str(self.inter_threads),
            "PYTHONUNBUFFERED": "1",
            # Keras reads it at import; the worker loads the matching runtime (`worker.runtime.default_runtime`).
            BACKEND_ENV: self.backend,
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
            # JAX would otherwise probe for CUDA and TPU plugins at its first call, and warn.
            env["JAX_PLATFORMS"] = "cpu"
        return env
