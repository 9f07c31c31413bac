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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.warehouse import ConnectionInfo, connection_info, ensure_warehouse

# A subprocess a test starts (dbt, Airflow, the CLI) is stopped after this long: a guard against a
# hang, never a speed check (speed is measured by `vawg bench`), so it is far above any run on a
# busy 2-core machine and below CI's limit.
HANG_GUARD_SECONDS = 3600

# Tests write a file and register it at once: no settle interval (settle.py) unless a test sets
# one (tests/unit/test_settle.py).
os.environ.setdefault("VAWG_SETTLE_SECONDS", "0")

# Pseudonymisation key used by tests only: random per process, so no key that works is written in
# the repository (the key check refuses one that is: vawg_warehouse.ingest.privacy).
TEST_KEY = "test-key-" + secrets.token_hex(24)


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


# Session fixtures that tests share and that take minutes to build: every test that uses one runs
# on the one xdist worker of its group (--dist loadgroup), in file order, so the fixture is built
# once and a module that changes it (tests/integration/test_nightly_dag.py re-runs the DAG) comes
# after the modules that only read it.
SHARED_SESSION_FIXTURES = {
    "pipeline": "airflow_run",
    "sample_warehouse": "sample_warehouse",
    "dbt_parse": "dbt_parse",
    "dagbag": "dagbag",  # tests/dags/conftest.py: the DAG file parsed by Airflow (3 s)
}


def xdist_group_of(item: pytest.Item) -> str | None:
    """The xdist group a test belongs to: the group of a shared session fixture it uses, else the
    group it was marked with, else its module's when it uses a module-scoped fixture (a dbt
    build, a parse), so that fixture is made once, not once per worker."""
    fixtures = getattr(item, "fixturenames", ())
    for fixture, group in SHARED_SESSION_FIXTURES.items():
        if fixture in fixtures:
            return group
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        return marker.args[0] if marker.args else marker.kwargs.get("name")
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is not None and any(
        defs[-1].scope == "module" for defs in definitions.name2fixturedefs.values() if defs
    ):
        return item.module.__name__
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test its one xdist group (xdist_group_of), put the tests marked
    changes_shared_fixture after the others, and mark the tests on the sample warehouse slow
    (~1 min to build, once per session: the fast tier leaves them to the full suite). The group
    marker goes first among a test's markers: xdist reads only the closest one."""
    # Tests that change a shared fixture go last (stable: file order is kept otherwise).
    items.sort(key=lambda item: item.get_closest_marker("changes_shared_fixture") is not None)
    for item in items:
        if "sample_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
        group = xdist_group_of(item)
        if group is None:
            continue
        item.add_marker(pytest.mark.xdist_group(group), append=False)
        closest = item.get_closest_marker("xdist_group")
        if closest is None or closest.args[:1] != (group,):
            raise pytest.UsageError(f"{item.nodeid}: xdist group {group!r} did not take")


@pytest.fixture(scope="session")
def server() -> ConnectionInfo:
    return _server()


# dbt parse renders the profile but never connects: a warehouse that is not there is enough.
PARSE_ONLY_URL = "postgresql://parse_only:unused@127.0.0.1:1/parse_only"


@dataclass(frozen=True)
class ProjectParse:
    """One full ``dbt parse`` of the project, as the pipeline makes it
    (``transform.parsed_manifest``), shared by the tests that only read the project."""

    home: Path  # the VAWG_HOME it is kept in (the manifest cache under home/dbt)
    url: str  # the warehouse it was parsed for (never connected)
    manifest: Any  # dbt's Manifest
    manifest_json: dict[str, Any]  # what ``dbt parse`` writes as target/manifest.json
    log: str  # dbt's log of the parse, every level

    @contextlib.contextmanager
    def environment(self) -> Iterator[Settings]:
        """The settings (VAWG_HOME, VAWG_WAREHOUSE_URL) the parse was made under."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("VAWG_HOME", str(self.home))
            patch.setenv("VAWG_WAREHOUSE_URL", self.url)
            yield get_settings()


@pytest.fixture(scope="session")
def dbt_parse(tmp_path_factory: pytest.TempPathFactory) -> ProjectParse:
    """The project parsed once per session (10-15 s on 2 cores) for the conventions check, the
    groups' partition and the manifest cache: a fresh home, so a full parse, never a partial one."""
    import json

    from vawg_warehouse.dbt_run import transform

    home = tmp_path_factory.mktemp("dbt_parse_home")
    parse = ProjectParse(home, PARSE_ONLY_URL, None, {}, "")
    with parse.environment() as settings:
        transform.clear_parse_cache(settings)
        manifest = transform.parsed_manifest(settings)
        written = home / "manifest.json"
        manifest.write(str(written))
        logs = sorted((home / "dbt").rglob("dbt.log"))
        assert len(logs) == 1, logs
        return ProjectParse(
            home, PARSE_ONLY_URL, manifest, json.loads(written.read_text()), logs[0].read_text()
        )


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
        from vawg_warehouse.dbt_run.transform import clear_parse_cache

        clear_parse_cache()  # this worker's dbt parse cache for the throwaway database
        drop_database(info)


@contextlib.contextmanager
def migrated_for_module(
    server: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConnectionInfo]:
    """``database`` + ``migrated`` for a module-scoped fixture: a migrated database of its own,
    the environment pointing at it while the fixture lives, dropped after."""
    from vawg_warehouse.dbt_run.transform import clear_parse_cache
    from vawg_warehouse.migrations import migrate

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
