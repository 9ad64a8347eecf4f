"""Per-server and per-session state the pages share: the warm default worker, the visitor's token."""

from __future__ import annotations

import secrets

import streamlit as st

from pointwise.jobs import WorkerKnobs, default_pool

WARMUP_NICE = 19
"""The TensorFlow import takes a core for ~4 s; at the lowest priority it only uses what the page leaves idle."""


def warm_default_worker() -> None:
    """Called on every page view: start the default worker in the background if there is none, or keep it warm.

    Without waiting (a page view costs a dictionary look-up), so Home renders as fast as without it; the first
    visitor's first job then skips the TensorFlow import, and the pool does not retire a worker people are using.
    """
    default_pool().keep_warm(WorkerKnobs(), background_nice=WARMUP_NICE)


def visitor_token() -> str:
    """A random token for this browser session: the owner of the runs it saves or imports (see RunStore)."""
    return st.session_state.setdefault("visitor_token", secrets.token_hex(16))
