"""A short warehouse outage delays the night rather than losing it: a dbt group whose build lost
its connection is retried by Airflow (the DAG gives the dbt tasks retries with back-off, like
every task that touches the warehouse), while a group that failed on its own terms (a data test,
a model's error) fails at once: a retry would fail the same way, later."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vawg_warehouse import orchestration
from vawg_warehouse.dbt_run import transform
from vawg_warehouse.run_context import RunContext

CTX = RunContext(dag_id="vawg_nightly", dag_run_id="r1", logical_date=None)


def node(status: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(status=status, message=message)


def test_a_lost_connection_is_told_from_a_failed_test() -> None:
    lost = node(
        "error", 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    )
    closed = node("error", "server closed the connection unexpectedly")
    failed_test = node("fail", "Got 3 results, configured to fail if != 0")
    assert transform.connection_lost(None, [lost])
    assert transform.connection_lost(None, [failed_test, closed])
    assert transform.connection_lost(RuntimeError("could not connect to server"), [])
    assert not transform.connection_lost(None, [failed_test])
    assert not transform.connection_lost(None, [node("success", "connection refused")])


@pytest.mark.parametrize("lost", [True, False])
def test_only_a_lost_connection_is_left_to_airflows_retries(monkeypatch, lost) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    def failing_group(*args, **kwargs):
        raise transform.TransformError(
            "dbt build of group force did not pass", connection_lost=lost
        )

    monkeypatch.setattr(transform, "run_group", failing_group)
    with pytest.raises(transform.TransformError) as raised:
        orchestration.transform_group.__wrapped__("force", CTX, None, False, "dbt_force")
    assert isinstance(raised.value, AirflowFailException) is (not lost)
