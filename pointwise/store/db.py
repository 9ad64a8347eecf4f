"""Stored runs in SQLite: save, list, load, rename, delete, export, and import of validated CLI JSON files.

The database is one file (`POINTWISE_DB`, default `data/runs.sqlite3` beside the package) in WAL mode:
every write is one transaction, so a crash or `kill -9` mid-save leaves either the whole run or nothing.
The schema version lives in `PRAGMA user_version`; a newer file than this code understands is refused
rather than misread, and so is a file that is not ours (an empty file, or another program's tables).

Reads never write: they open the file read-only, and where even that fails (a read-only directory gives a
WAL database no `-shm` file; a full disk) they open it as immutable, so stored runs stay visible. Error
messages never hold the file's path, because the app shows them to every visitor: the path is logged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import sqlite3
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from pointwise.backends import DEFAULT_BACKEND
from pointwise.errors import InvalidSpecError, StoreError
from pointwise.results import BenchmarkResult
from pointwise.spec import format_shape
from pointwise.store.importing import MAX_LABEL_CHARS, clean_environment, parse_result_json
from pointwise.store.schema import LIST_COLUMNS, OUR_TABLES, SCHEMA_VERSION, migrate, run_digest, schema_version
from pointwise.text import bounded

DB_ENV = "POINTWISE_DB"
DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "runs.sqlite3"
LATEST_SCAN_ROWS = 20
"""Home shows the newest run that can be read; it looks this far back past unreadable rows."""
LIST_TEXT_CHARS = 200
"""Columns of the run list are cut to this, so rows stored before the import caps stay cheap to render."""

_logger = logging.getLogger(__name__)


def default_db_path() -> Path:
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


@dataclasses.dataclass(frozen=True)
class ImportOutcome:
    """What an import did: the ids of the new runs, and the ids already holding runs found in the file again."""

    added: list[int]
    already_stored: list[int]


class RunStore:
    """The run history. Every method opens its own connection, so one store serves all app sessions.

    `owner` is an opaque token of the visitor session that saved or imported a run; rename and delete given
    an owner touch only that owner's runs (the public demo), given None touch any run (a local install).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_db_path()

    def _fail(self, message: str, exc: BaseException) -> StoreError:
        _logger.warning("run database %s: %s (%s)", self.path, message, exc)
        return StoreError(message)

    @contextmanager
    def _connect(self, write: bool = False):
        """A connection checked to hold our schema; a write connection holds one transaction, migrated first."""
        connection = self._open_for_write() if write else self._open_for_read()
        try:
            _check_ours(connection)
            if write:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("BEGIN IMMEDIATE")
                migrate(connection)
            yield connection
            if write:
                connection.execute("COMMIT")
        except sqlite3.Error as exc:
            verb = "written" if write else "read"
            changed = " Saved runs were not changed." if write else ""
            raise self._fail(f"The run database could not be {verb}: {exc}.{changed}", exc) from exc
        finally:
            connection.close()

    def _open_for_write(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size == 0:
                raise StoreError("The run database file is empty (0 bytes), not a run database: nothing was saved.")
            return sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except OSError as exc:
            raise self._fail(f"Cannot open the run database: {exc.strerror or exc}.", exc) from exc
        except sqlite3.Error as exc:
            raise self._fail(f"Cannot open the run database: {exc}.", exc) from exc

    def _open_for_read(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise StoreError("No run database yet: runs appear here once one is saved.")
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=10)
            connection.execute("PRAGMA user_version").fetchone()
            return connection
        except sqlite3.OperationalError as exc:
            # Read-only directory (no -shm can be made for WAL) or full disk: read the file as it is on disk.
            _logger.info("run database %s opened immutable: %s", self.path, exc)
        except sqlite3.Error as exc:
            raise self._fail(f"Cannot open the run database: {exc}.", exc) from exc
        try:
            return sqlite3.connect(uri + "&immutable=1", uri=True, timeout=10)
        except sqlite3.Error as exc:
            raise self._fail(f"Cannot open the run database: {exc}.", exc) from exc

    def _readable(self) -> bool:
        """Whether there is anything to read: no file, or an empty one, means no runs yet."""
        return self.path.exists() and self.path.stat().st_size > 0

    # -- runs -------------------------------------------------------------------------------------------------

    def save(self, result: BenchmarkResult, label: str | None = None, source: str = "app", owner: str | None = None):
        """Store `result` in one transaction; returns its id."""
        with self._connect(write=True) as db:
            return _insert(db, result, label, source, owner)

    def list_runs(self):
        """Every stored run without its payload, newest first (empty if there is no database yet), as a DataFrame.

        pandas is imported here so that opening the store (the home page does) stays cheap.
        """
        import pandas as pd

        if not self._readable():
            return pd.DataFrame(columns=list(LIST_COLUMNS))
        with self._connect() as db:
            present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            # A file read before its first write may predate the backend column: its runs ran on TensorFlow.
            selected = ", ".join(
                c if c == "id" else f"substr({c}, 1, {LIST_TEXT_CHARS})" if c in present else "'tensorflow'"
                for c in LIST_COLUMNS
            )
            rows = db.execute(f"SELECT {selected} FROM runs ORDER BY id DESC").fetchall()
        frame = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
        frame["filters"] = pd.to_numeric(frame["filters"], errors="coerce")
        return frame

    def count(self) -> int:
        if not self._readable():
            return 0
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def owned_ids(self, owner: str) -> set[int]:
        """The ids of the runs saved or imported by `owner` (none in a database from before owners)."""
        if not self._readable():
            return set()
        with self._connect() as db:
            if schema_version(db) < 2:
                return set()
            return {int(r[0]) for r in db.execute("SELECT id FROM runs WHERE owner = ?", (owner,))}

    def load(self, run_id: int) -> BenchmarkResult:
        """The stored run, as it was saved: it is not re-checked against today's limits."""
        if not self._readable():
            raise StoreError(f"No stored run with id {run_id}.")
        with self._connect() as db:
            row = db.execute("SELECT payload, label FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise StoreError(f"No stored run with id {run_id}.")
        try:
            result = BenchmarkResult.from_dict(json.loads(row[0]))
        except (InvalidSpecError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            _logger.warning("run database %s: run #%s is unreadable: %r", self.path, run_id, exc)
            raise StoreError(f"Stored run #{run_id} cannot be read: its stored data is damaged.") from None
        return dataclasses.replace(result, label=bounded(row[1], MAX_LABEL_CHARS))

    def latest_readable(self) -> tuple[BenchmarkResult | None, list[str]]:
        """The newest run that can be read, and a message for each newer one that could not be."""
        if not self._readable():
            return None, []
        with self._connect() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT ?", (LATEST_SCAN_ROWS,))]
        problems = []
        for run_id in ids:
            try:
                return self.load(run_id), problems
            except StoreError as exc:
                problems.append(str(exc))
        return None, problems

    def latest(self) -> BenchmarkResult | None:
        return self.latest_readable()[0]

    def rename(self, run_id: int, label: str, owner: str | None = None) -> None:
        """Give run `run_id` a new label (one line, at most `MAX_LABEL_CHARS`); only `owner`'s run if given."""
        clean = bounded(str(label).strip(), MAX_LABEL_CHARS).strip()
        if not clean:
            raise StoreError(f"Invalid value for `label`: expected 1 to {MAX_LABEL_CHARS} characters. Received ''.")
        with self._connect(write=True) as db:
            renamed = db.execute(
                "UPDATE runs SET label = ? WHERE id = ? AND (? IS NULL OR owner = ?)",
                (clean, int(run_id), owner, owner),
            ).rowcount
        if not renamed:
            raise StoreError(f"Run #{run_id} was not renamed: it is gone, or it was not saved in this session.")

    def delete(self, run_ids: Iterable[int], owner: str | None = None) -> int:
        """Delete exactly the runs `run_ids` (only `owner`'s if given); returns how many were deleted."""
        ids = [int(i) for i in run_ids]
        if not ids:
            return 0
        with self._connect(write=True) as db:
            marks = ", ".join("?" * len(ids))
            return db.execute(
                f"DELETE FROM runs WHERE id IN ({marks}) AND (? IS NULL OR owner = ?)", (*ids, owner, owner)
            ).rowcount

    def export_json(self, run_ids: Iterable[int]) -> str:
        """The runs as a JSON list that `import_json` (here or on another machine) accepts."""
        documents = []
        for run_id in run_ids:
            document = self.load(run_id).to_dict()
            document["environment"] = clean_environment(document["environment"])
            # A degenerate bootstrap interval is NaN, which JSON cannot hold: the importer recomputes statistics.
            document["statistics"] = [_finite_or_none(s) for s in document["statistics"]]
            documents.append(document)
        return json.dumps(documents, indent=1, allow_nan=False)

    def import_json(self, data: bytes | str, owner: str | None = None) -> ImportOutcome:
        """Validate every run in `data` first, then store the new ones in one transaction (all or nothing).

        A run already stored (same configuration, environment and samples) is not stored twice.
        """
        results = parse_result_json(data)
        added, already = [], []
        with self._connect(write=True) as db:
            for result in results:
                found = db.execute("SELECT id FROM runs WHERE digest = ?", (run_digest(result),)).fetchone()
                if found:
                    already.append(int(found[0]))
                else:
                    added.append(_insert(db, result, None, "import", owner))
        return ImportOutcome(added, already)


def _finite_or_none(values: dict) -> dict:
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in values.items()}


def _check_ours(db: sqlite3.Connection) -> None:
    """Refuse a database of a newer schema, or one that holds another program's tables."""
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The run database has schema version {version}, newer than this app's {SCHEMA_VERSION}: "
            "upgrade the app to read it."
        )
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if (version == 0 and tables - OUR_TABLES) or (version > 0 and "runs" not in tables):
        raise StoreError(
            "The file set as the run database is not a Pointwise Lab run database: it was left unchanged. "
            f"Set {DB_ENV} to another file."
        )


def _insert(db: sqlite3.Connection, result: BenchmarkResult, label: str | None, source: str, owner: str | None) -> int:
    spec = result.spec
    result = dataclasses.replace(result, environment=clean_environment(result.environment))
    env = result.environment
    label = bounded((label if label is not None else result.label) or default_label(result), MAX_LABEL_CHARS)
    cursor = db.execute(
        "INSERT INTO runs (created_at, label, source, machine, device, dtype, mode, pass_kind, shape, filters, "
        "variants, payload, owner, digest, backend) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            bounded(env.get("date") or "", 64),
            label,
            source,
            bounded(env.get("machine") or "unknown", LIST_TEXT_CHARS),
            spec.device,
            spec.dtype,
            spec.mode,
            spec.pass_kind,
            format_shape(spec.input_shape),
            spec.filters,
            ",".join(m.key for m in result.measurements),
            # Raw samples only: statistics are derived from them on load (once per result), never stored.
            json.dumps(result.to_dict(include_statistics=False)),
            owner,
            run_digest(result),
            spec.backend,
        ),
    )
    return int(cursor.lastrowid)


def default_label(result: BenchmarkResult) -> str:
    spec = result.spec
    # The backend is named only when it is not the default, so that older labels keep reading the same.
    backend = "" if spec.backend == DEFAULT_BACKEND else f" {spec.backend}"
    return (
        f"{format_shape(spec.input_shape)}->{spec.filters} {spec.dtype}{backend} {spec.mode} {spec.pass_kind} "
        f"on {spec.device}"
    )
