"""Who is asking: a visitor (one browser, the same across reloads and tabs) and the address it comes from.

A Streamlit session ends with every reload, so a limit kept per session is reset by pressing F5. A browser keeps
Streamlit's XSRF cookie across reloads and tabs (Streamlit sets it on the page's first response and reuses its
token bytes on every later one; only the mask changes), so the visitor is named by a hash of that token. Where the
cookie is missing (XSRF protection off, AppTest), the visitor is the session, as before. A script that throws its
cookies away is a new visitor each time: the client address is the second, coarser key for that
(`pointwise.jobs` and `pointwise.store` apply a ceiling per address high enough for a class behind one address).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import streamlit as st

XSRF_COOKIE = "_streamlit_xsrf"
"""Streamlit 1.67's cookie name (`streamlit.web.server.starlette.starlette_server_config.XSRF_COOKIE_NAME`)."""
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Visitor:
    """A browser (`key`, stable across reloads) and its client address (`address`), as the job queue and the
    store's import limits see them. Neither is ever shown to another visitor."""

    key: str
    address: str


def _cookie_token() -> bytes | None:
    from streamlit.web.server.starlette.starlette_app_utils import decode_xsrf_token_string

    raw = st.context.cookies.get(XSRF_COOKIE)
    if not raw:
        return None
    token, _timestamp = decode_xsrf_token_string(raw)
    return token or None


def visitor_token() -> str:
    """This browser's owner token: the key of the runs it saves or imports (see RunStore), the same after a
    reload or in a second tab; a random token per session where the browser sent no XSRF cookie."""
    token = _cookie_token()
    if token is None:
        return st.session_state.setdefault("visitor_token", secrets.token_hex(16))
    return hashlib.sha256(b"pointwise-visitor:" + token).hexdigest()[:32]


def client_address() -> str:
    """The address this session's websocket came from (Streamlit's view: the proxy's, behind a proxy)."""
    return st.context.ip_address or UNKNOWN_ADDRESS


def current_visitor() -> Visitor:
    return Visitor(visitor_token(), client_address())
