"""Shared fixtures: every test that needs a database gets a real PostgreSQL database of its own.

The server is the one ``VAWG_WAREHOUSE_URL`` names (CI: PostgreSQL 15 on 127.0.0.1:5432) or, when
it is unset, the project's embedded server (started if needed). Each test session creates a
throwaway database there and drops it at the end; nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from vawg_warehouse.warehouse import ConnectionInfo, connection_info, ensure_warehouse

# Tests write a file and register it at once: no settle interval (settle.py) unless a test sets
# one (tests/unit/test_settle.py).
os.environ.setdefault("VAWG_SETTLE_SECONDS", "0")

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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests of a module that share a module-scoped fixture (a dbt build, a parse) on
    one xdist worker, so the fixture is made once, not once per worker (--dist loadgroup; tests
    already in a group keep theirs). Tests on the sample warehouse are marked slow: the fast
    tier leaves them to the full suite."""
    for item in items:
        if "sample_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)  # ~1 min to build, once per session
        if item.get_closest_marker("xdist_group"):
            continue
        definitions = getattr(item, "_fixtureinfo", None)
        if definitions is None:
            continue
        if any(
            defs[-1].scope == "module" for defs in definitions.name2fixturedefs.values() if defs
        ):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


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


@contextlib.contextmanager
def migrated_for_module(
    server: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConnectionInfo]:
    """``database`` + ``migrated`` for a module-scoped fixture: a migrated database of its own,
    the environment pointing at it while the fixture lives, dropped after."""
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.transform import clear_parse_cache

    info = create_database(server)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAWG_WAREHOUSE_URL", info.url)
        patch.setenv("VAWG_ARCHIVE_DIR", str(tmp_path_factory.mktemp("archive")))
        patch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
        try:
            with psycopg.connect(info.url) as conn:
                migrate(conn)
            yield info
        finally:
            clear_parse_cache()
            drop_database(info)


@pytest.fixture
def migrated(database: ConnectionInfo) -> ConnectionInfo:
    """A database with the warehouse's schema migrations applied."""
    from vawg_warehouse.migrations import migrate

    with psycopg.connect(database.url) as conn:
        migrate(conn)
    return database


def create_login(
    server: ConnectionInfo, database: ConnectionInfo, *groups: str, **attrs
) -> ConnectionInfo:
    """A LOGIN role of the cluster, member of ``groups`` (e.g. ``vawg_pipeline``), with a random
    password (a trust server ignores it); ``attrs`` adds attributes (``createrole=True``) or
    admin grants (``admin_of=[...]``). Returns the URL parts for ``database`` as that login."""
    name = f"vawg_login_{os.getpid()}_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16)
    admin_of = attrs.pop("admin_of", [])
    options = sql.SQL(" ").join(sql.SQL(k.upper()) for k, on in attrs.items() if on)
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login password {} {}").format(
                sql.Identifier(name), sql.Literal(password), options
            )
        )
        for group in groups:
            conn.execute(
                sql.SQL("grant {} to {}").format(sql.Identifier(group), sql.Identifier(name))
            )
        for group in admin_of:
            conn.execute(
                sql.SQL("grant {} to {} with admin option").format(
                    sql.Identifier(group), sql.Identifier(name)
                )
            )
    return ConnectionInfo(database.host, database.port, name, password, database.dbname)


def drop_login(server: ConnectionInfo, login: ConnectionInfo) -> None:
    """Drop what the login owns or was granted in its database (if still there; the database
    itself, if the login owns it, goes to the superuser), then the role."""
    try:
        with psycopg.connect(server.for_database(login.dbname).url, autocommit=True) as conn:
            name = sql.Identifier(login.user)
            conn.execute(sql.SQL("reassign owned by {} to current_user").format(name))
            conn.execute(sql.SQL("drop owned by {}").format(name))
    except psycopg.OperationalError:
        pass  # the database is gone, and what the login had in it
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login.user)))


@pytest.fixture
def make_login(server: ConnectionInfo) -> Iterator[Callable[..., ConnectionInfo]]:
    """``make_login(database, *groups, **attrs)``: a login for one test, dropped after it."""
    made: list[ConnectionInfo] = []

    def make(database: ConnectionInfo, *groups: str, **attrs) -> ConnectionInfo:
        made.append(create_login(server, database, *groups, **attrs))
        return made[-1]

    yield make
    for login in reversed(made):
        drop_login(server, login)


@pytest.fixture(scope="session")
def sample_warehouse(server: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory):
    """A warehouse with ~20 months of sample data loaded by the real loader and built by dbt
    (tests/sample_warehouse.py), once per test session (mark users
    ``xdist_group("sample_warehouse")`` so one worker builds it); dropped at the end."""
    from tests import sample_warehouse as sample

    built = sample.build(server, tmp_path_factory.mktemp("sample_warehouse"))
    try:
        yield built
    finally:
        drop_database(built.database)


@pytest.fixture
def on_sample_warehouse(sample_warehouse, monkeypatch: pytest.MonkeyPatch):
    """The environment points at the sample warehouse during the test."""
    for key, value in sample_warehouse.environment().items():
        monkeypatch.setenv(key, value)
    return sample_warehouse
