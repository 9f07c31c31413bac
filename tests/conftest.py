"""Shared fixtures: every test that needs a database gets a real PostgreSQL database of its own.

The server is the one ``VAWG_WAREHOUSE_URL`` names (CI: PostgreSQL 15 on 127.0.0.1:5432) or, when
it is unset, the project's embedded server (started if needed). Each test session creates a
throwaway database there and drops it at the end; nothing is mocked.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from vawg_warehouse.warehouse import ConnectionInfo, connection_info, ensure_warehouse

TEST_KEY = "test-key-" + "0123456789abcdef" * 3  # pseudonymisation key used by tests only


def _server() -> ConnectionInfo:
    ensure_warehouse()
    return connection_info()


def create_database(server: ConnectionInfo, prefix: str = "vawg_test") -> ConnectionInfo:
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return server.for_database(name)


def drop_database(info: ConnectionInfo) -> None:
    with psycopg.connect(info.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{info.dbname}" with (force)')


@pytest.fixture(scope="session")
def server() -> ConnectionInfo:
    return _server()


@pytest.fixture
def database(
    server: ConnectionInfo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConnectionInfo]:
    """A new, empty database for one test; VAWG_WAREHOUSE_URL points at it during the test.

    The file archive goes to a temporary folder too, never the project's.
    """
    info = create_database(server)
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", info.url)
    monkeypatch.setenv("VAWG_ARCHIVE_DIR", str(tmp_path_factory.mktemp("archive")))
    monkeypatch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
    try:
        yield info
    finally:
        from vawg_warehouse.transform import clear_parse_cache

        clear_parse_cache()  # this worker's dbt parse cache for the throwaway database
        drop_database(info)


@pytest.fixture
def migrated(database: ConnectionInfo) -> ConnectionInfo:
    """A database with the warehouse's schema migrations applied."""
    from vawg_warehouse.migrations import migrate

    with psycopg.connect(database.url) as conn:
        migrate(conn)
    return database
