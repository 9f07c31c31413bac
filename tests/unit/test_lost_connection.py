"""A short outage delays the night instead of losing it (issue 19), live: a real PostgreSQL
connection of a task that touches the warehouse is terminated while the task works (a superuser's
pg_terminate_backend), the task fails with an error Airflow retries (not its fail-at-once
class), and the retry, the same call again as Airflow makes it, succeeds and leaves the file
loaded once. No Airflow run: the task's function against a real migrated warehouse."""

from __future__ import annotations

import threading
import time
from datetime import date

import psycopg
import pytest

from tests.unit.test_load import GOOD_ROWS, HEADER, write_csv
from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.run_context import RunContext

CTX = RunContext(dag_id="vawg_nightly", dag_run_id="lost-connection", logical_date=date(2025, 1, 2))
GUARD_SECONDS = 120  # a hang guard, not a timing assertion


class _Outage:
    """Holds a lock the task's load needs (the batch's audit event, written in the load's own
    transaction after its COPY), and terminates the task's backend once it waits on it: the
    connection is lost in the middle of the load's transaction. Then lets the lock go."""

    def __init__(self, url: str, dbname: str):
        self.admin = psycopg.connect(url, autocommit=True)
        self.dbname = dbname
        self.killed: list[tuple[int, str]] = []
        self.lock = psycopg.connect(url)
        self.lock.execute("lock table audit.load_batch_event in access exclusive mode")
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        deadline = time.monotonic() + GUARD_SECONDS
        while time.monotonic() < deadline and not self.killed:
            row = self.admin.execute(
                "select pid, query from pg_stat_activity where datname = %s "
                "and application_name = 'vawg_warehouse' and wait_event_type = 'Lock'",
                (self.dbname,),
            ).fetchone()
            if row is not None:
                self.admin.execute("select pg_terminate_backend(%s)", (row[0],))
                self.killed.append(row)
            else:
                time.sleep(0.05)
        self.lock.rollback()  # the outage is over

    def close(self) -> None:
        self.thread.join(GUARD_SECONDS)
        self.lock.close()
        self.admin.close()


def test_a_load_whose_connection_is_terminated_is_retried_and_the_retry_succeeds(
    migrated, tmp_path, monkeypatch
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    landing = tmp_path / "landing"
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    settings = get_settings()
    batch_ids = o.register_files("force_crimes", CTX, settings)
    assert len(batch_ids) == 1

    outage = _Outage(migrated.url, migrated.dbname)
    try:
        with pytest.raises(Exception) as lost:  # noqa: PT011 - whatever the class, see below
            o.load_batches(batch_ids, CTX, settings)
    finally:
        outage.close()
    ((_, query),) = outage.killed  # the task's own connection, in the middle of its load
    assert "load_batch_event" in query or "transition" in query.lower(), query
    # Airflow retries it (the DAG gives every task retries): not the fail-at-once class
    assert not isinstance(lost.value, AirflowFailException), repr(lost.value)
    assert "terminat" in str(lost.value) or isinstance(lost.value, psycopg.OperationalError)

    assert o.load_batches(batch_ids, CTX, settings) == batch_ids  # the retry
    with psycopg.connect(migrated.url) as conn:
        status, rows = conn.execute(
            "select status, rows_read from audit.load_batch where batch_id = %s", batch_ids
        ).fetchone()
    assert status == "loaded" and rows == len(GOOD_ROWS)


@pytest.mark.slow
def test_a_dbt_group_whose_connections_are_terminated_is_retried_and_the_retry_succeeds(
    migrated,
) -> None:
    """The outage the issue met: the shared dbt group loses the warehouse in the middle of its
    build (every connection of dbt's terminated once it runs a node); the task fails as a lost
    connection, which Airflow retries, and the retry builds the group. Slow: a dbt parse and two
    builds of the shared group."""
    from airflow.sdk.exceptions import AirflowFailException

    from vawg_warehouse.dbt_run import transform

    settings = get_settings()
    killed: list[str] = []
    stop = threading.Event()

    def outage() -> None:
        with psycopg.connect(migrated.url, autocommit=True) as admin:
            deadline = time.monotonic() + 10 * GUARD_SECONDS
            while time.monotonic() < deadline and not stop.is_set() and not killed:
                rows = admin.execute(
                    "select pid, query from pg_stat_activity where datname = %s "
                    "and application_name like 'dbt%%' and state = 'active' "
                    "and query ilike '%%create%%'",
                    (migrated.dbname,),
                ).fetchall()
                for pid, query in rows:
                    admin.execute("select pg_terminate_backend(%s)", (pid,))
                    killed.append(query)
                time.sleep(0.02)

    watcher = threading.Thread(target=outage, daemon=True)
    watcher.start()
    try:
        with pytest.raises(transform.TransformError) as lost:
            o.transform_group("shared", CTX, settings, task_id="transform.dbt_shared")
    finally:
        stop.set()
        watcher.join(GUARD_SECONDS)
    assert killed, "no dbt connection was terminated"
    assert lost.value.connection_lost, str(lost.value)
    assert not isinstance(lost.value, AirflowFailException)  # Airflow retries it

    retried = o.transform_group("shared", CTX, settings, task_id="transform.dbt_shared")
    assert (retried["command"], retried["success"]) == ("build", True)
