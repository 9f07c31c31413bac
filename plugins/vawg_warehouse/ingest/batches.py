"""Load batches: what a landing file becomes, its events, and the steps every stage shares.

The life of a file (``audit.load_batch.status``)::

    registered --load--> loaded --validate--> validated --publish--> published
                           |                      \\--(critical rule failed)--> quarantined
                           \\--(unreadable: header, encoding)--> quarantined
    any step can end in   failed   (an error of ours or of the database: the step is retried)
    quarantined --(a corrected file of the same name is published)--> superseded
    published --(a whole re-sent file of the same name restates it: corrections.py)--> superseded
    quarantined --(an operator releases it, with a reason)--> published

The stages, one module each: ``landing`` (survey and register), ``readers`` (CSV and XLSX rows),
``load`` (stream and COPY into a landing table), validation (``vawg_warehouse.validate``),
``publish`` (cast into the raw table), ``quarantine`` (set aside, rows or whole batches, and
release). Every step is idempotent for its batch: re-running it replaces what a failed attempt
left.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from vawg_warehouse.audit import Batch, transition, transitions
from vawg_warehouse.run_context import RunContext

_READ_BLOCK = 1 << 20


class LoadError(RuntimeError):
    """A file cannot be read as its contract says: names the file, the line and the rule."""

    def __init__(self, file_name: str, message: str, line: int | None = None, rule: str = ""):
        self.file_name = file_name
        self.line = line
        self.rule = rule
        where = f"{file_name}, line {line}" if line else file_name
        super().__init__(f"{where}: {message}" + (f" (rule: {rule})" if rule else ""))


@dataclass(frozen=True)
class LandingFile:
    dataset: str
    relative_path: str
    path: Path
    size_bytes: int

    def sha256(self) -> str:
        return file_sha256(self.path)


@dataclass
class LoadResult:
    batch_id: int
    rows_read: int
    malformed_rows: int = 0
    notes: list[str] = field(default_factory=list)
    malformed_lines: list[int] = field(default_factory=list)  # the first few


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def describe_error(exc: BaseException) -> str:
    """An error as it may be stored or logged: the database's messages may quote a value (a failed
    cast says which text it could not read), so they are named by class, state and column only."""
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        column = f", column {diag.column_name}" if diag.column_name else ""
        table = f", table {diag.table_name}" if diag.table_name else ""
        return f"database error {type(exc).__name__} (SQLSTATE {exc.sqlstate}{table}{column})"
    if isinstance(exc, UnicodeError):  # its text holds the bytes it could not read
        return type(exc).__name__
    return f"{type(exc).__name__}: {str(exc)[:500]}"


def mark_validated(conn: psycopg.Connection, batch: Batch, ctx: RunContext, **detail) -> None:
    with conn.transaction():
        transition(conn, batch.batch_id, "validated", ctx, **detail)


def mark_validated_many(
    conn: psycopg.Connection, batches: list[Batch], ctx: RunContext, details: list[dict]
) -> None:
    """:func:`mark_validated` of many batches (``details``: each one's event detail), in one
    transaction and three round trips."""
    if not batches:
        return
    with conn.transaction(), conn.cursor() as cur:
        transitions(cur, [b.batch_id for b in batches], "validated", ctx, details)


def mark_failed(conn: psycopg.Connection, batch_id: int, ctx: RunContext, error: str) -> None:
    """Record an error of ours or of the database (the step is retried by the scheduler)."""
    with conn.transaction():
        # a batch that had finished stays as it was; the failure is on record either way
        transition(conn, batch_id, "failed", ctx, error=error[:2000])
