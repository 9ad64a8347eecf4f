"""The environment card: everything needed to compare a result with one from another machine later."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from importlib import metadata

from pointwise import __version__

_PACKAGES = ("tensorflow", "keras", "numpy", "scipy")


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


def environment_card(tf_module, spec, gpu_name: str | None) -> dict:
    """Collected inside the worker, where TensorFlow's actual settings can be read."""
    threading = tf_module.config.threading
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
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "1",
        "tf32": bool(tf_module.config.experimental.tensor_float_32_execution_enabled()) if gpu_name else None,
        "intra_op_threads": threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": threading.get_inter_op_parallelism_threads(),
        "xla": spec.mode == "xla",
        "dtype": spec.dtype,
        "mode": spec.mode,
        "pass": spec.pass_kind,
    }
