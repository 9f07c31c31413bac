"""Schema migrations: numbered SQL files applied once each, in order, in one transaction each.

``sql/migrations/NNN_name.sql`` files are applied in order and recorded in
``audit.schema_migration`` with their checksum. An advisory lock serialises concurrent callers
(parallel Airflow tasks may all call ``migrate()``). A file that changed after it was applied is an
error: write a new migration instead.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg

from vawg_warehouse.config import PACKAGE_DIR

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PACKAGE_DIR / "sql" / "migrations"
_LOCK_KEY = 0x5A_57_A6  # any constant shared by every caller


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql")):
        version, _, name = path.stem.partition("_")
        found.append(Migration(int(version), name, path))
    return found


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply what is missing; returns the names applied. Safe to call on every run."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("create schema if not exists audit")
        conn.execute(
            """
            create table if not exists audit.schema_migration (
                version integer primary key,
                name text not null,
                sha256 text not null,
                applied_at timestamptz not null default clock_timestamp()
            )
            """
        )
        done = dict(conn.execute("select version, sha256 from audit.schema_migration").fetchall())
        for migration in available():
            if migration.version in done:
                if done[migration.version] != migration.sha256:
                    raise RuntimeError(
                        f"migration {migration.path.name} changed after it was applied: "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            log.info("applying migration %s", migration.path.name)
            conn.execute(migration.sql)
            conn.execute(
                "insert into audit.schema_migration (version, name, sha256) values (%s, %s, %s)",
                (migration.version, migration.name, migration.sha256),
            )
            applied_now.append(migration.path.name)
    return applied_now
