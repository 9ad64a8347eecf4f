"""The environment card: everything needed to compare a result with one from another machine later.

Imports no backend itself (benchmark scripts use `cpu_model` in the server process); the backend's settings
come from the runtime passed to `environment_card`."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from importlib import metadata

from pointwise import __version__

_PACKAGES = ("tensorflow", "keras", "jax", "numpy", "scipy")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, falling back to `platform.processor()`."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def environment_card(runtime, spec, gpu_name: str | None) -> dict:
    """Collected inside the worker, where the runtime's actual settings (`Runtime.card_settings`) can be read."""
    return {
        "app_version": __version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": gpu_name,
        "device": spec.device,
        "backend": spec.backend,
        **runtime.card_settings(on_gpu=gpu_name is not None),
        # JAX has no graph mode: its compiled modes are both `jax.jit`, i.e. XLA.
        "xla": spec.mode == "xla" or (spec.backend == "jax" and spec.mode != "eager"),
        "dtype": spec.dtype,
        "mode": spec.mode,
        "pass": spec.pass_kind,  # the card uses the external name, as the URL and the CLI do
    }
