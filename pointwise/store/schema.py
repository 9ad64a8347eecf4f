"""The run table's schema: its definition, its version, the migrations to it, and a run's identity digest.

The schema version lives in `PRAGMA user_version`; `pointwise.store.db` refuses a newer file than
`SCHEMA_VERSION` rather than misread it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from pointwise.results import BenchmarkResult

SCHEMA_VERSION = 3
OUR_TABLES = {"runs", "sqlite_sequence"}
"""The tables a version-0 file may hold and still be ours (SQLite adds `sqlite_sequence` for AUTOINCREMENT)."""
RUN_TABLE = """
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    label       TEXT NOT NULL,
    source      TEXT NOT NULL,
    machine     TEXT NOT NULL,
    device      TEXT NOT NULL,
    dtype       TEXT NOT NULL,
    mode        TEXT NOT NULL,
    pass_kind   TEXT NOT NULL,
    shape       TEXT NOT NULL,
    filters     INTEGER NOT NULL,
    variants    TEXT NOT NULL,
    payload     TEXT NOT NULL
)"""
LIST_COLUMNS = (
    "id",
    "created_at",
    "label",
    "source",
    "machine",
    "device",
    "dtype",
    "mode",
    "pass_kind",
    "shape",
    "filters",
    "variants",
    "backend",
)


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema to `SCHEMA_VERSION` inside the caller's transaction: 0 -> 1 -> 2 -> 3."""
    version = schema_version(db)
    if version < 1:
        db.execute(RUN_TABLE)
        db.execute("CREATE INDEX runs_created ON runs (created_at)")
    if version < 2:
        # Runs from before owners get none: in the public demo nobody may rename or delete them.
        db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
        db.execute("ALTER TABLE runs ADD COLUMN digest TEXT")
        db.execute("CREATE INDEX runs_digest ON runs (digest)")
        for run_id, payload in db.execute("SELECT id, payload FROM runs").fetchall():
            try:
                digest = run_digest(BenchmarkResult.from_dict(json.loads(payload)))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                continue
            db.execute("UPDATE runs SET digest = ? WHERE id = ?", (digest, run_id))
    if version < 3:
        # Every run from before the backend knob ran on TensorFlow, the only backend there was.
        db.execute("ALTER TABLE runs ADD COLUMN backend TEXT NOT NULL DEFAULT 'tensorflow'")
    if version < SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def run_digest(result: BenchmarkResult) -> str:
    """Identifies a run by what was measured, where and when (not by its label), to spot a repeated import."""
    # The same fields `to_dict` writes, without its statistics (a bootstrap per variant) that the digest ignores.
    measured = {
        "spec": result.spec.to_dict(),
        "environment": result.environment,
        "measurements": [m.to_dict() for m in result.measurements],
    }
    return hashlib.sha256(json.dumps(measured, sort_keys=True).encode()).hexdigest()
