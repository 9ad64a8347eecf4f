"""What the CLI writes: the --json destination (checked before a job runs), the check table, a progress bar."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import pandas as pd

from pointwise import protocol
from pointwise.errors import InvalidSpecError
from pointwise.limits import validate_time_limit_s
from pointwise.spec import format_shape

TABLE_WIDTH = 120


class JsonDestination:
    """Where --json goes, opened and probed before the job runs, so a finished run is never lost to a bad path.

    A probe byte is written and flushed (a full disk or /dev/full fails here, not after the run) and cut off
    again; a file this opened and that the job never filled is removed.
    """

    def __init__(self, destination: str | None) -> None:
        self.destination = destination
        self._handle = None
        self._created = False
        if destination in (None, "-"):
            return
        path = Path(destination)
        self._created = not path.exists()
        try:
            self._handle = path.open("a", encoding="utf-8")
            size = self._handle.tell()
            self._handle.write("\n")
            self._handle.flush()
            if path.is_file():
                self._handle.truncate(size)
        except OSError as exc:
            self.close()
            raise InvalidSpecError("--json", destination, f"a writable file ({exc.strerror or exc})") from None

    def write(self, data) -> None:
        text = json.dumps(data, indent=2)
        if self._handle is None:
            print(text)
            return
        if Path(self.destination).is_file():
            self._handle.truncate(0)
        self._handle.write(text + "\n")
        self._handle.close()
        self._created = False

    def close(self) -> None:
        if self._handle is not None and not self._handle.closed:
            # Closing flushes; a probe that could not be written fails again here, already reported.
            with contextlib.suppress(OSError):
                self._handle.close()
        if self._created:
            Path(self.destination).unlink(missing_ok=True)


def check_table(result) -> str:
    """The equivalence table in at most `TABLE_WIDTH` columns, under a one-line header naming the run.

    Reasons can run to a paragraph (Example 3's); they are the last column and are cut at the edge, whole
    in `--json`.
    """
    from pointwise.frames import EQUIVALENCE_TABLE_FORMATS, equivalence_frame

    spec = result.spec
    header = (
        f"{format_shape(spec.input_shape)} -> {spec.filters} filters, {spec.dtype}, {spec.mode}, "
        f"{spec.device}, oneDNN {spec.onednn}"
    )
    frame = equivalence_frame(result.reports)
    frame["variant"] = frame.pop("key")
    notes = ["note / reason", *frame.pop("note / reason")]
    formats = EQUIVALENCE_TABLE_FORMATS
    formatters = {name: (lambda v, f=fmt: "" if pd.isna(v) else f % v) for name, fmt in formats.items()}
    rows = (
        frame.drop(columns=["baseline err vs float64"])
        .to_string(index=False, formatters=formatters, na_rep="")
        .splitlines()
    )
    room = TABLE_WIDTH - 2 - max(map(len, rows))
    lines = [f"{row}  {_cut(note, room)}".rstrip() for row, note in zip(rows, notes, strict=True)]
    return "\n".join([header, *(_cut(line, TABLE_WIDTH) for line in lines)])


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


class TerminalProgress:
    """A progress bar on stderr for long runs; silent when stderr is not a terminal (CI, pipes)."""

    def __init__(self, description: str) -> None:
        self._progress = None
        if sys.stderr.isatty():
            from rich.progress import Progress

            self._progress = Progress(transient=True)
            self._task = self._progress.add_task(description, total=None)

    def __enter__(self):
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress:
            self._progress.stop()

    def __call__(self, event: dict) -> None:
        if self._progress and protocol.kind_of(event) == protocol.PROGRESS:
            self._progress.update(
                self._task, completed=event["done"], total=event["total"], description=f"timing {event['variant']}"
            )


def time_limit_seconds(text: str) -> float:
    """argparse type for --time-limit: a finite number of seconds in range (nan, inf and -1 are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = text
    try:
        return validate_time_limit_s("--time-limit", value)
    except InvalidSpecError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc.expected}, received {text!r}") from None
