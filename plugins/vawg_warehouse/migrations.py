"""Schema migrations: numbered SQL files applied once each, in order, in one transaction each.

``sql/migrations/NNN_name.sql`` files are applied in order and recorded in
``audit.schema_migration`` with their checksum. An advisory lock serialises concurrent callers
(parallel Airflow tasks may all call ``migrate()``). A file that changed after it was applied is an
error: write a new migration instead.

Who runs them (migration 012 explains the roles). The warehouse belongs to ``vawg_owner``, a
NOLOGIN role; the pipeline's login is a member of ``vawg_pipeline`` only, so it can neither
migrate nor disable the audit trail's triggers. ``migrate()`` first makes sure the group roles
exist (they belong to the cluster: it creates the missing ones when the login may create roles,
otherwise a DBA creates them), then applies what is pending:

* 001-011 as the login itself (a superuser, or a DBA's login that is a member of ``vawg_owner``).
  They create roles when missing and comment on them; a login that may not create roles (the
  compose migrator: before PostgreSQL 16, CREATEROLE lets a login grant itself
  ``pg_execute_server_program`` or ``vawg_owner``) finds the roles made by the DBA and skips the
  ``comment on role`` lines (:func:`_runnable_sql`: descriptions only);
* 012, as the login too, hands everything they made to ``vawg_owner`` (and what dbt builds to
  ``vawg_pipeline``) and sets each role's privileges;
* 013 on as ``vawg_owner`` (``SET LOCAL ROLE``), so what they create is the owner's. A later
  migration creates no role: roles go in ``GROUP_ROLES``.

With nothing pending a login of the pipeline passes (the nightly ``prepare_warehouse`` task);
with something pending it gets an error that says who must run ``vawg migrate``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import errors, sql

from vawg_warehouse.config import PACKAGE_DIR
from vawg_warehouse.warehouse import PIPELINE_ROLE

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PACKAGE_DIR / "sql" / "migrations"
_LOCK_KEY = 0x5A_57_A6  # any constant shared by every caller

OWNER_ROLE = "vawg_owner"
# Migrations from this version on run as OWNER_ROLE; earlier ones as the login (see above).
OWNER_FROM_VERSION = 13
# The group roles (NOLOGIN), with what each may do. The README's "For auditors" has the table.
GROUP_ROLES: dict[str, str] = {
    OWNER_ROLE: (
        "Owns the warehouse: every schema, audit and raw table, function and trigger. Migrations "
        "run as it. Grant it to the login that runs vawg migrate, never to the pipeline's."
    ),
    PIPELINE_ROLE: (
        "The nightly pipeline: loads, validates, publishes, runs dbt (owns what dbt builds). Adds "
        "to the audit trail; cannot change, delete or disable it."
    ),
    "vawg_bi_reader": (
        "BI tools (Power BI, Metabase): schema bi only (views with display names over the "
        "publication tables, the public and funding marts and the dimensions they need)."
    ),
    "vawg_auditor": (
        "Auditors: read the audit trail, the marts, the lineage and publication views; nothing raw."
    ),
    "vawg_dbt_recorder": "dbt's login: insert its run results into audit, nothing else.",
}
HOW_TO_SET_UP = "README, 'Pointing it at a real PostgreSQL and Airflow'"


class MigrationError(RuntimeError):
    """The warehouse's schema cannot be brought up to date by this login."""


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
        conn.execute("set local role none")  # the login itself, whatever connect() chose
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        ensure_roles(conn)
        done = _applied(conn)
        for migration in available():
            if migration.version in done and done[migration.version] != migration.sha256:
                raise MigrationError(
                    f"migration {migration.path.name} changed after it was applied: "
                    "add a new migration instead of editing an applied one"
                )
        pending = [m for m in available() if m.version not in done]
        if not pending:
            return applied_now
        try:
            with conn.transaction():
                _create_migration_table(conn)
        except errors.InsufficientPrivilege:
            login = conn.execute("select session_user").fetchone()[0]
            raise MigrationError(
                f"the warehouse has no schema yet and {login} may not create one: run `vawg "
                f"migrate` as the owner's login, a member of {OWNER_ROLE} ({HOW_TO_SET_UP})"
            ) from None
        may_create_roles = _login_may_create_roles(conn)
        for migration in pending:
            _act_for(conn, migration, pending)
            log.info("applying migration %s", migration.path.name)
            try:
                conn.execute(_runnable_sql(migration, may_create_roles))
            except errors.InsufficientPrivilege as exc:
                raise MigrationError(
                    f"migration {migration.path.name}: {exc.diag.message_primary}. Run "
                    f"`vawg migrate` as a superuser, or as a login that is a member of "
                    f"{OWNER_ROLE} after a DBA has created the roles ({HOW_TO_SET_UP})"
                ) from exc
            conn.execute(
                "insert into audit.schema_migration (version, name, sha256) values (%s, %s, %s)",
                (migration.version, migration.name, migration.sha256),
            )
            applied_now.append(migration.path.name)
        conn.execute("set local role none")
    return applied_now


_ROLE_COMMENT = re.compile(r"^comment on role \w+ is '(?:[^']|'')*';[ \t]*$", re.M)


def _runnable_sql(migration: Migration, may_create_roles: bool) -> str:
    """The migration's SQL; without its ``comment on role`` lines for a login that may not
    create roles (which PostgreSQL requires for them). The roles exist already (ensure_roles
    refuses otherwise); a comment is a description, nothing depends on it. The recorded
    checksum is the file's, either way."""
    text = migration.sql
    if may_create_roles:
        return text
    return _ROLE_COMMENT.sub("-- (comment on role: the DBA's)", text)


def _applied(conn: psycopg.Connection) -> dict[int, str]:
    if conn.execute("select to_regclass('audit.schema_migration')").fetchone()[0] is None:
        return {}
    return dict(conn.execute("select version, sha256 from audit.schema_migration").fetchall())


def _create_migration_table(conn: psycopg.Connection) -> None:
    """On a new database: schema audit and the record of migrations (012 hands them over).

    Created only when missing: ``create ... if not exists`` needs the right to create even when
    the object is there, which a member of vawg_owner may not have on an old database."""
    if conn.execute("select to_regnamespace('audit')").fetchone()[0] is None:
        conn.execute("create schema audit")
    if conn.execute("select to_regclass('audit.schema_migration')").fetchone()[0] is None:
        conn.execute(
            """
            create table audit.schema_migration (
                version integer primary key,
                name text not null,
                sha256 text not null,
                applied_at timestamptz not null default clock_timestamp()
            )
            """
        )


def _act_for(conn: psycopg.Connection, migration: Migration, pending: list[Migration]) -> None:
    """SET LOCAL ROLE for one migration: vawg_owner from OWNER_FROM_VERSION on, else the login."""
    if migration.version < OWNER_FROM_VERSION:
        conn.execute("set local role none")
        return
    try:
        with conn.transaction():  # a savepoint: the set survives it, a refusal is undone
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))
    except errors.InsufficientPrivilege:
        login = conn.execute("select session_user").fetchone()[0]
        names = ", ".join(m.path.name for m in pending)
        raise MigrationError(
            f"{len(pending)} migration(s) pending ({names}) and the login {login} is not a member "
            f"of {OWNER_ROLE}: the pipeline's login never is. Run `vawg migrate` as the owner's "
            f"login ({HOW_TO_SET_UP})"
        ) from None


def _login_may_create_roles(conn: psycopg.Connection) -> bool:
    return conn.execute(
        "select rolsuper or rolcreaterole from pg_roles where rolname = session_user"
    ).fetchone()[0]


def ensure_roles(conn: psycopg.Connection) -> None:
    """The group roles exist, and vawg_owner is a member of vawg_pipeline (so the owner's login
    can hand dbt's relations over, and run dbt by hand as the pipeline).

    Created (NOLOGIN) when missing and the login may create roles; otherwise a MigrationError
    names the missing ones. Several databases of one cluster may be migrated at once (tests):
    each step runs in a savepoint and a role another session just created is fine."""
    present = {
        name
        for (name,) in conn.execute(
            "select rolname from pg_roles where rolname = any(%s)", (list(GROUP_ROLES),)
        )
    }
    missing = [role for role in GROUP_ROLES if role not in present]
    may_create = _login_may_create_roles(conn)
    if missing and not may_create:
        login = conn.execute("select session_user").fetchone()[0]
        raise MigrationError(
            f"roles {', '.join(missing)} are missing and {login} may not create roles: a DBA "
            f"creates them ({HOW_TO_SET_UP})"
        )
    if not may_create:
        return
    for role in missing:
        _quietly(conn, sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    still_missing = conn.execute(
        "select array(select r from unnest(%s::text[]) as r "
        "where not exists (select from pg_roles where rolname = r))",
        (missing,),
    ).fetchone()[0]
    if still_missing:
        raise MigrationError(f"could not create roles {', '.join(still_missing)}")
    for role, comment in GROUP_ROLES.items():
        current = conn.execute(
            "select shobj_description(oid, 'pg_authid') from pg_roles where rolname = %s", (role,)
        ).fetchone()
        if current and current[0] != comment:
            _quietly(
                conn,
                sql.SQL("comment on role {} is {}").format(
                    sql.Identifier(role), sql.Literal(comment)
                ),
            )
    owner_in_pipeline = conn.execute(
        "select pg_has_role(%s, %s, 'MEMBER')", (OWNER_ROLE, PIPELINE_ROLE)
    ).fetchone()[0]
    if not owner_in_pipeline:
        _quietly(
            conn,
            sql.SQL("grant {} to {}").format(
                sql.Identifier(PIPELINE_ROLE), sql.Identifier(OWNER_ROLE)
            ),
        )


def _quietly(conn: psycopg.Connection, statement: sql.Composed) -> None:
    """Run a statement about a cluster-wide role in a savepoint; if another session did the same
    at the same moment (duplicate, concurrent update) or this login may not, log and go on."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.Error as exc:
        log.info("%s: %s", statement.as_string(conn), exc.diag.message_primary or exc)
