"""Stored runs: the SQLite run history (`db`, `schema`) and the validation of imported result files (`importing`).

Everything that reaches the history passes through here: runs saved by the app, and files imported from
`python -m pointwise bench --json` or another server's export, which are checked field by field first.
"""

from __future__ import annotations

from pointwise.store.db import DB_ENV, ImportOutcome, RunStore, default_label
from pointwise.store.importing import (
    IMPORTS_PER_MINUTE,
    MAX_IMPORT_BYTES,
    MAX_LABEL_CHARS,
    imports_allowed,
    parse_result_json,
)
from pointwise.store.schema import SCHEMA_VERSION

__all__ = [
    "DB_ENV",
    "IMPORTS_PER_MINUTE",
    "MAX_IMPORT_BYTES",
    "MAX_LABEL_CHARS",
    "SCHEMA_VERSION",
    "ImportOutcome",
    "RunStore",
    "default_label",
    "imports_allowed",
    "parse_result_json",
]
