"""`WorkerKnobs`: the settings TensorFlow reads only at import, which select the worker process that runs a job."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pointwise.protocol import THREADS_ENV
from pointwise.spec import RunSpec, is_gpu


@dataclass(frozen=True)
class WorkerKnobs:
    """Settings TensorFlow reads only at import time, so each combination needs its own process."""

    onednn: bool = False
    threads: int = 0
    gpu_visible: bool = False

    @classmethod
    def for_spec(cls, spec: RunSpec) -> WorkerKnobs:
        return cls(onednn=spec.onednn, threads=spec.threads, gpu_visible=is_gpu(spec.device))

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TF_ENABLE_ONEDNN_OPTS": "1" if self.onednn else "0",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            THREADS_ENV: str(self.threads),
            "PYTHONUNBUFFERED": "1",
        }
        if not self.gpu_visible:
            # A CPU job must not initialise CUDA: it would take GPU memory and perturb CPU timings.
            env["CUDA_VISIBLE_DEVICES"] = "-1"
        return env
