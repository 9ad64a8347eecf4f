"""Visitor text is text: the one helper every page uses before text reaches markdown.

Anything that came from a visitor, a URL or a file (labels, environment fields, file names, URL values,
variant keys) may hold markdown (`[login](https://evil.example)`, `![x](…)`), Streamlit directives
(`:red[…]`, `:material/…:`), LaTeX (`$…$`) or HTML. Streamlit renders `st.markdown`, `st.caption`,
`st.warning`, `st.error`, `st.info` and `st.success` bodies as markdown, so such text is escaped here
first: every ASCII punctuation character gets a backslash (CommonMark renders an escaped character as
itself), colons also break Streamlit's emoji and icon shortcodes, and the text is bounded in length and
kept to one line. The result shows exactly the characters the visitor sent, as plain text.
"""

from __future__ import annotations

import string

DEFAULT_MAX_CHARS = 200
ELLIPSIS = "…"
_ESCAPED = frozenset(string.punctuation)
_WORD_JOINER = "\u2060"
"""Invisible, zero-width: placed after an escaped colon so no `:name:` shortcode can form across it."""


def bounded(value: object, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """`value` as one line of at most `max_chars` characters: control characters become spaces."""
    text = "".join(c if c.isprintable() else " " for c in str(value))
    return text if len(text) <= max_chars else text[: max_chars - 1] + ELLIPSIS


def escape_markdown(value: object, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """`value` made safe to embed in Streamlit markdown: it renders as the literal (bounded) text."""
    out = []
    for char in bounded(value, max_chars):
        if char == ":":
            out.append("\\:" + _WORD_JOINER)
        elif char in _ESCAPED:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def escape_html(value: object, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """`value` made safe for an HTML context (a Plotly title or hover label): entities, bounded."""
    import html

    return html.escape(bounded(value, max_chars), quote=True)
