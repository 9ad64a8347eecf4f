"""What the router hands a page, and the messages every configured page shows first."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from pointwise.spec import RunSpec
from pointwise.text import escape_markdown


@dataclass
class PageContext:
    """What the sidebar gives a page: a validated spec, or the reason there is none."""

    spec: RunSpec | None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def show_context_messages(context: PageContext) -> bool:
    """Show link warnings and the configuration error; True when the page has a spec to work with.

    The warnings are already escaped by `pointwise.query` (they quote URL values); the error may quote a
    visitor's value, so it is escaped here.
    """
    for warning in context.warnings:
        st.warning(warning, icon=":material/link_off:")
    if context.spec is None:
        if context.error:
            st.error(f"Fix the run configuration in the sidebar: {escape_markdown(context.error, 600)}")
        return False
    return True
