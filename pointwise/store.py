"""Stored runs in SQLite: save, list, load, delete, export, and validated import of CLI JSON files.

The database is one file (`POINTWISE_DB`, default `data/runs.sqlite3` beside the package) in WAL mode:
every write is one transaction, so a crash or `kill -9` mid-save leaves either the whole run or nothing.
The schema version lives in `PRAGMA user_version`; a newer file than this code understands is refused
rather than misread.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sqlite3
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pointwise.errors import ImportRejectedError, InvalidSpecError, StoreError
from pointwise.results import RESULT_FORMAT, BenchmarkResult
from pointwise.variants import VARIANTS

DB_ENV = "POINTWISE_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "runs.sqlite3"
SCHEMA_VERSION = 1
MAX_IMPORT_BYTES = 20 * 2**20
MAX_IMPORT_RUNS = 200
MAX_SAMPLES_PER_VARIANT = 100_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
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
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
"""


def default_db_path() -> Path:
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


class RunStore:
    """The run history. Every method opens its own connection, so one store serves all app sessions."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_db_path()

    @contextmanager
    def _connect(self, write: bool = False):
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                raise StoreError(f"No run database at {self.path} yet: runs appear here once one is saved.")
            connection = sqlite3.connect(self.path, timeout=10)
        except OSError as exc:
            raise StoreError(f"Cannot open the run database at {self.path}: {exc.strerror or exc}.") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the run database at {self.path}: {exc}.") from exc
        try:
            with connection:
                self._migrate(connection, write)
                yield connection
        except sqlite3.Error as exc:
            raise StoreError(f"The run database at {self.path} failed: {exc}. Saved runs were not changed.") from exc
        finally:
            connection.close()

    @staticmethod
    def _migrate(connection: sqlite3.Connection, write: bool) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The run database has schema version {version}, newer than this app's {SCHEMA_VERSION}: "
                "upgrade the app to read it."
            )
        if version < SCHEMA_VERSION and write:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- runs -------------------------------------------------------------------------------------------------

    def save(self, result: BenchmarkResult, label: str | None = None, source: str = "app") -> int:
        """Store `result` in one transaction; returns its id."""
        with self._connect(write=True) as db:
            return _insert(db, result, label, source)

    def list_runs(self):
        """Every stored run without its payload, newest first (empty if there is no database yet), as a DataFrame.

        pandas is imported here so that opening the store (the home page does) stays cheap.
        """
        import pandas as pd

        columns = [
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
        ]
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(columns)} FROM runs ORDER BY id DESC").fetchall()
        return pd.DataFrame(rows, columns=columns)

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def load(self, run_id: int) -> BenchmarkResult:
        with self._connect() as db:
            row = db.execute("SELECT payload, label FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise StoreError(f"No stored run with id {run_id}.")
        result = BenchmarkResult.from_dict(json.loads(row[0]))
        return dataclasses.replace(result, label=row[1])

    def latest(self) -> BenchmarkResult | None:
        if not self.path.exists():
            return None
        with self._connect() as db:
            row = db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return self.load(row[0]) if row else None

    def rename(self, run_id: int, label: str) -> None:
        with self._connect(write=True) as db:
            db.execute("UPDATE runs SET label = ? WHERE id = ?", (label.strip()[:200], int(run_id)))

    def delete(self, run_ids: Iterable[int]) -> int:
        ids = [int(i) for i in run_ids]
        with self._connect(write=True) as db:
            return db.execute(f"DELETE FROM runs WHERE id IN ({', '.join('?' * len(ids))})", ids).rowcount if ids else 0

    def export_json(self, run_ids: Iterable[int]) -> str:
        """The runs as a JSON list that `import_json` (here or on another machine) accepts."""
        return json.dumps([self.load(i).to_dict() for i in run_ids], indent=1)

    def import_json(self, data: bytes | str) -> list[int]:
        """Validate every run in `data` first, then store them all in one transaction (all or nothing)."""
        results = parse_result_json(data)
        with self._connect(write=True) as db:
            return [_insert(db, result, None, "import") for result in results]


def _insert(db: sqlite3.Connection, result: BenchmarkResult, label: str | None, source: str) -> int:
    spec = result.spec
    env = result.environment
    cursor = db.execute(
        "INSERT INTO runs (created_at, label, source, machine, device, dtype, mode, pass_kind, shape, filters, "
        "variants, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(env.get("date") or ""),
            (label if label is not None else result.label) or default_label(result),
            source,
            str(env.get("machine") or "unknown"),
            spec.device,
            spec.dtype,
            spec.mode,
            spec.pass_kind,
            "x".join(map(str, spec.input_shape)),
            spec.filters,
            ",".join(m.key for m in result.measurements),
            json.dumps(result.to_dict()),
        ),
    )
    return int(cursor.lastrowid)


def default_label(result: BenchmarkResult) -> str:
    spec = result.spec
    shape = "x".join(map(str, spec.input_shape))
    return f"{shape}->{spec.filters} {spec.dtype} {spec.mode} {spec.pass_kind} on {spec.device}"


def parse_result_json(data: bytes | str) -> list[BenchmarkResult]:
    """Validate a file from `python -m pointwise bench --json` (one run) or an export (a list of runs).

    Raises:
        ImportRejectedError: naming what is wrong; nothing is stored by the caller in that case.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRejectedError(f"The file is {len(data):,} bytes; the limit is {MAX_IMPORT_BYTES:,}.")
    try:
        document = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRejectedError(f"The file is not valid JSON: {exc}.") from None
    entries = document if isinstance(document, list) else [document]
    if not entries or len(entries) > MAX_IMPORT_RUNS:
        raise ImportRejectedError(f"Expected 1 to {MAX_IMPORT_RUNS} runs, found {len(entries)}.")
    return [_parse_run(entry, index) for index, entry in enumerate(entries)]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_run(entry: Any, index: int) -> BenchmarkResult:
    where = f"run {index + 1}"
    if not isinstance(entry, dict) or entry.get("format") != RESULT_FORMAT:
        raise ImportRejectedError(f"{where}: not a pointwise benchmark result (`format` must be {RESULT_FORMAT!r}).")
    for field_name, kind in (("spec", dict), ("measurements", list), ("environment", dict)):
        if not isinstance(entry.get(field_name), kind):
            raise ImportRejectedError(f"{where}: field `{field_name}` must be a JSON {kind.__name__}.")
    if not entry["measurements"]:
        raise ImportRejectedError(f"{where}: field `measurements` is empty.")
    for m in entry["measurements"]:
        _check_measurement(m, where)
    if not isinstance(entry.get("label", ""), str) or len(entry.get("label", "")) > 200:
        raise ImportRejectedError(f"{where}: field `label` must be a string of at most 200 characters.")
    _check_ceilings(entry.get("ceilings"), where)
    _check_equivalence(entry.get("equivalence", []), where)
    if not _is_count(entry.get("worker_peak_rss_bytes"), allow_none=True):
        raise ImportRejectedError(f"{where}: field `worker_peak_rss_bytes` must be a non-negative integer or null.")
    try:
        return BenchmarkResult.from_dict(entry)
    except InvalidSpecError as exc:
        raise ImportRejectedError(f"{where}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportRejectedError(f"{where}: malformed field {exc}.") from None


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _is_count(value: Any, allow_none: bool = False) -> bool:
    if value is None:
        return allow_none
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


def _check_ceilings(ceilings: Any, where: str) -> None:
    if ceilings is None:
        return
    numeric = ("peak_gflops_per_s", "bandwidth_gb_per_s", "gemm_size", "stream_bytes")
    if (
        not isinstance(ceilings, dict)
        or not all(_is_number(ceilings.get(k)) and ceilings[k] > 0 for k in numeric)
        or not all(isinstance(ceilings.get(k), str) for k in ("device", "dtype"))
    ):
        raise ImportRejectedError(f"{where}: field `ceilings` must be null or hold positive {', '.join(numeric)}.")


def _check_equivalence(reports: Any, where: str) -> None:
    if not isinstance(reports, list):
        raise ImportRejectedError(f"{where}: field `equivalence` must be a list.")
    for report in reports:
        if (
            not isinstance(report, dict)
            or not isinstance(report.get("key"), str)
            or report["key"] not in VARIANTS
            or not isinstance(report.get("equivalent"), bool)
            or not all(_is_count(report.get(k)) for k in ("params", "baseline_params", "flops"))
            or not all(isinstance(report.get(k), (str, type(None))) for k in ("reason", "note", "label", "status"))
        ):
            raise ImportRejectedError(f"{where}: an entry of `equivalence` is malformed.")


def _check_measurement(m: Any, where: str) -> None:
    if not isinstance(m, dict):
        raise ImportRejectedError(f"{where}: each entry of `measurements` must be an object.")
    key = m.get("key")
    if not isinstance(key, str) or key not in VARIANTS:
        raise ImportRejectedError(f"{where}: unknown variant key {key!r} in `measurements`.")
    times = m.get("per_call_s")
    if not isinstance(times, list) or not 1 <= len(times) <= MAX_SAMPLES_PER_VARIANT:
        raise ImportRejectedError(
            f"{where}: `per_call_s` of {key} must be a list of 1 to {MAX_SAMPLES_PER_VARIANT:,} numbers."
        )
    for t in times:
        if not _is_number(t) or not 0 < t < 3600:
            raise ImportRejectedError(f"{where}: `per_call_s` of {key} holds {t!r}; expected seconds in (0, 3600).")
    calls = m.get("calls_per_block")
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        raise ImportRejectedError(f"{where}: `calls_per_block` of {key} must be a positive integer.")
    cold = m.get("cold_start_s")
    if not _is_number(cold) or cold < 0:
        raise ImportRejectedError(f"{where}: `cold_start_s` of {key} must be a non-negative number.")
    if not _is_count(m.get("peak_memory_bytes"), allow_none=True):
        raise ImportRejectedError(f"{where}: `peak_memory_bytes` of {key} must be a non-negative integer or null.")
