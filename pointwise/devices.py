"""Find GPUs without importing TensorFlow, so the app can list devices the moment it starts.

The worker remains the authority: a job on a device TensorFlow cannot see fails with a message naming it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

NVIDIA_SMI_TIMEOUT_S = 5


@functools.cache
def probe_gpus() -> tuple[str, ...]:
    """GPU names in CUDA order from `nvidia-smi -L`; empty when there is no NVIDIA driver."""
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=True
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return ()
    return tuple(line.split(":", 1)[1].split("(UUID")[0].strip() for line in listing.splitlines() if ":" in line)


def available_devices() -> list[str]:
    return ["CPU:0", *(f"GPU:{i}" for i in range(len(probe_gpus())))]
