"""Per-server and per-session state the pages share: the warm default worker, the visitor's token."""

from __future__ import annotations

import secrets

import streamlit as st

from pointwise.jobs import WorkerKnobs, default_pool, run_ceilings
from pointwise.spec import RunSpec

WARMUP_DELAY_S = 3.0
"""The TensorFlow import takes a core for ~4 s: it starts once the first page (~2.5 s here) has rendered."""


def warm_default_worker(at_once: bool = False) -> None:
    """Called on every page view: start the default worker in the background if there is none, or keep it warm.

    `at_once` on a page that runs a job as it opens (Explore): its worker then loads TensorFlow while the page
    imports its own libraries, instead of after them.

    Without waiting (a page view costs a dictionary look-up), so Home renders as fast as without it; the first
    visitor's first job then skips the TensorFlow import and, with the default configuration, the roofline's
    ceilings, measured right after the warm-up; and the pool does not retire a worker people are using. (An
    earlier version imported TensorFlow at the lowest CPU priority instead of later: on a busy host some of
    TensorFlow's threads kept that priority, and measuring the ceilings took minutes.)
    """
    default = RunSpec()
    default_pool().keep_warm(
        WorkerKnobs.for_spec(default),
        delay_s=0.0 if at_once else WARMUP_DELAY_S,
        then=lambda: run_ceilings(default.device, default.dtype, WorkerKnobs.for_spec(default)),
    )


def visitor_token() -> str:
    """A random token for this browser session: the owner of the runs it saves or imports (see RunStore)."""
    return st.session_state.setdefault("visitor_token", secrets.token_hex(16))
