"""The Keras backends a run can choose (`RunSpec.backend`), and which of them this machine has installed.

Keras 3 reads `KERAS_BACKEND` once, at `import keras`, so each backend runs in its own worker process
(`pointwise.jobs.knobs`). This module imports no backend: whether one is installed is asked of the import
system (`importlib.util.find_spec`), so the Streamlit server can offer only what a worker could load.
"""

from __future__ import annotations

import importlib.util

BACKENDS = ("tensorflow", "jax")
DEFAULT_BACKEND = "tensorflow"
BACKEND_LABELS = {"tensorflow": "TensorFlow", "jax": "JAX"}
BACKEND_ENV = "KERAS_BACKEND"
INSTALL_HINTS = {"jax": "pip install -r requirements-jax.txt"}
"""How to add an optional backend; TensorFlow is a requirement of the app itself."""


def backend_installed(name: str) -> bool:
    """Whether the backend's package can be imported here (looked up, not imported)."""
    return importlib.util.find_spec(name) is not None


def installed_backends() -> tuple[str, ...]:
    """The backends a worker can load on this machine, TensorFlow first."""
    return tuple(name for name in BACKENDS if backend_installed(name))


def missing_backends_text() -> str | None:
    """One sentence on the backends that are not installed and how to add each; None when all are."""
    missing = [name for name in BACKENDS if not backend_installed(name)]
    if not missing:
        return None
    sentences = (f"{BACKEND_LABELS[name]} is not installed here: `{INSTALL_HINTS[name]}` adds it." for name in missing)
    return " ".join(sentences)
