"""The roles hold on the oldest PostgreSQL compose runs (15), where CREATEROLE is a way out.

Before PostgreSQL 16 a login with CREATEROLE may grant itself any role but a superuser's, among
them ``pg_execute_server_program`` (``copy ... to program``: a shell on the database server as the
server's user) and ``vawg_owner`` (undoing the owner/pipeline split the audit trail relies on).
The embedded server is PostgreSQL 18, where both are refused anyway, so these tests run against a
server older than 16: the one ``VAWG_WAREHOUSE_URL`` names if it is one (CI: PostgreSQL 15 on
127.0.0.1:5432), else ``VAWG_OLD_POSTGRES_URL`` (default the same address). They skip, saying
why, only when no such server answers.

The logins are the ones ``deploy/init-databases.sh`` creates (its SQL, run by psql as the
superuser, as the postgres image runs it), renamed uniquely: roles belong to the cluster and other
test sessions share it. Everything made here is dropped after.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from vawg_warehouse import migrations
from vawg_warehouse.warehouse import ConnectionInfo

REPO = Path(__file__).resolve().parents[2]
INIT = REPO / "deploy" / "init-databases.sh"
DEFAULT_OLD_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _old_server() -> tuple[str | None, str]:
    """A superuser URL of a reachable server older than PostgreSQL 16, or None and why not."""
    tried = []
    for url in (os.environ.get("VAWG_WAREHOUSE_URL"), os.environ.get("VAWG_OLD_POSTGRES_URL")):
        if url:
            tried.append(url)
    tried.append(DEFAULT_OLD_SERVER)
    reasons = []
    for url in dict.fromkeys(tried):
        shown = re.sub(r"//[^@/]*@", "//", url)
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                version = conn.info.server_version
                superuser = conn.execute(
                    "select rolsuper from pg_roles where rolname = current_user"
                )
                is_superuser = superuser.fetchone()[0]
        except psycopg.Error as exc:
            reasons.append(f"{shown}: {str(exc).splitlines()[0]}")
            continue
        if version >= 160000:
            reasons.append(f"{shown}: PostgreSQL {version // 10000}")
        elif not is_superuser:
            reasons.append(f"{shown}: not a superuser")
        else:
            return url, ""
    return None, "no PostgreSQL older than 16 reachable as a superuser (" + "; ".join(reasons) + ")"


@dataclass
class Deployment:
    """The compose warehouse's roles and database on an old server, uniquely named."""

    server: ConnectionInfo
    database: str
    migrator: str
    loader: str
    metabase: str

    def login(self, role: str) -> ConnectionInfo:
        # trust authentication on the test server: the password is not checked
        return ConnectionInfo(self.server.host, self.server.port, role, "x", self.database)


def _init_sql() -> str:
    """The SQL deploy/init-databases.sh gives psql (its here-document)."""
    text = INIT.read_text()
    match = re.search(r"<<'SQL'\n(.*?)\nSQL\n", text, re.S)
    assert match, "deploy/init-databases.sh: no psql here-document"
    return match.group(1)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    url, reason = _old_server()
    if url is None:
        pytest.skip(reason)
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed (deploy/init-databases.sh runs it)")
    with psycopg.connect(url) as conn:
        info = conn.info
        server = ConnectionInfo(info.host, info.port, info.user, info.password or "x", info.dbname)
    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    made = Deployment(
        server=server,
        database=f"vawg_test_pg15_{tag}",
        migrator=f"vawg_test_migrator_{tag}",
        loader=f"vawg_test_loader_{tag}",
        metabase=f"vawg_test_metabase_{tag}",
    )
    script = _init_sql()
    script = re.sub(r"\bvawg_migrator\b", made.migrator, script)
    script = re.sub(r"\bvawg_loader\b", made.loader, script)
    script = re.sub(r"\bvawg_metabase\b", made.metabase, script)
    script = re.sub(r"\bdatabase vawg\b", f"database {made.database}", script)
    assert made.migrator in script and made.database in script
    try:
        done = subprocess.run(
            [
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-v",
                "migrator_password=not-used-1",
                "-v",
                "loader_password=not-used-2",
                "-v",
                "metabase_password=not-used-3",
            ],
            input=script,
            text=True,
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr
        yield made
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(made.database)
                )
            )
            for role in (made.migrator, made.loader, made.metabase):
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def _refused(conn: psycopg.Connection, statement: str | sql.Composed) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_migration_login_cannot_escalate_on_postgresql_15(deployment: Deployment) -> None:
    """The attack of issue 20: as the compose migrator, grant yourself the right to run programs
    on the server, and make the pipeline's login an owner. Both are refused; the migrator still
    migrates a new warehouse."""
    me = sql.Identifier(deployment.migrator)
    with psycopg.connect(deployment.login(deployment.migrator).url, autocommit=True) as conn:
        assert conn.info.server_version < 160000
        _refused(conn, sql.SQL("grant pg_execute_server_program to {}").format(me))
        _refused(conn, "copy (select 1) to program 'id'")
        _refused(
            conn,
            sql.SQL("grant vawg_owner to {}").format(sql.Identifier(deployment.loader)),
        )
        _refused(conn, "grant vawg_owner to vawg_pipeline")
        _refused(
            conn, sql.SQL("grant vawg_bi_reader to {}").format(sql.Identifier(deployment.loader))
        )
        _refused(conn, sql.SQL("create role {}").format(sql.Identifier(deployment.migrator + "_x")))
        _refused(conn, sql.SQL("alter role {} createrole").format(me))
    with psycopg.connect(deployment.login(deployment.migrator).url) as conn:
        applied = migrations.migrate(conn)
    assert applied == [m.path.name for m in migrations.available()]
    with psycopg.connect(deployment.login(deployment.loader).url, autocommit=True) as conn:
        assert not conn.execute(
            "select pg_has_role(current_user, 'vawg_owner', 'MEMBER')"
        ).fetchone()[0]
        _refused(conn, "alter table audit.load_batch disable trigger all")
