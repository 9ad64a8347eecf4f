"""Per-server and per-session state the pages share: the warm default worker, the visitor's token."""

from __future__ import annotations

import secrets
import threading

import streamlit as st

from pointwise.jobs import WorkerKnobs, default_pool


@st.cache_resource(show_spinner=False)
def warm_default_worker() -> bool:
    """Start the default worker once per server, in the background, so the first run skips the TF import."""
    threading.Thread(target=default_pool().warm, args=(WorkerKnobs(),), daemon=True).start()
    return True


def visitor_token() -> str:
    """A random token for this browser session: the owner of the runs it saves or imports (see RunStore)."""
    return st.session_state.setdefault("visitor_token", secrets.token_hex(16))
