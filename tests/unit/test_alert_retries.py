"""Alerts within a minute of a failure (issue 17): the first failed try of a cause alerts at once,
marked as retrying (the DAG's on_retry_callback), not after the retries' back-off; one alert per
run and cause, the final failure of the same cause sends nothing more; a retry that succeeds
sends an all-clear. The callbacks run against a real migrated warehouse and post to a webhook
of the test's own on localhost."""

from __future__ import annotations

import json
from types import SimpleNamespace

import psycopg

from tests.unit.test_operations import _Webhook
from vawg_warehouse import notify, run_outcome

RUN = "scheduled__2025-10-02T02:30:00+00:00"
OUTAGE = "connection to the warehouse was lost: server closed the connection unexpectedly"


class _TaskInstance(SimpleNamespace):
    """What the Task SDK hands a callback: the try, and the run's task states on request."""

    def get_task_states(self, dag_id, run_ids):
        return {run_ids[0]: dict(self.states)}


def _context(task_id: str, try_number: int, states: dict, exception=None) -> dict:
    ti = _TaskInstance(
        dag_id="vawg_nightly",
        task_id=task_id,
        try_number=try_number,
        max_tries=2,
        map_index=-1,
        states=states,
    )
    return {
        "ti": ti,
        "dag_run": SimpleNamespace(run_id=RUN, dag_id="vawg_nightly"),
        "exception": exception,
    }


def _posted(hook: _Webhook) -> list[dict]:
    return [json.loads(body) for _, _, body in hook.received]


def _hook(monkeypatch) -> _Webhook:
    hook = _Webhook()
    monkeypatch.setenv("VAWG_ALERT_WEBHOOK_URL", hook.url)
    monkeypatch.delenv("VAWG_ALERT_SMTP_HOST", raising=False)
    return hook


def test_the_first_failed_try_alerts_at_once_and_once_per_cause(migrated, monkeypatch) -> None:
    """A warehouse outage fails two extract tasks' first tries: one alert, sent from the first
    retry callback (seconds after the failure), saying it retries; the other task's failed try
    and the first task's final failure with the same cause send nothing; a different cause
    alerts on its own. The run then reads FAILED with the task that failed for good only."""
    states = {"extract_force.load": "up_for_retry", "extract_cps.load": "up_for_retry"}
    hook = _hook(monkeypatch)
    try:
        notify.task_retrying(_context("extract_force.load", 1, states, RuntimeError(OUTAGE)))
        assert [p["kind"] for p in _posted(hook)] == ["task_retrying"]  # at once, not after
        notify.task_retrying(_context("extract_cps.load", 1, states, RuntimeError(OUTAGE)))
        notify.task_retrying(_context("extract_force.load", 2, states, RuntimeError(OUTAGE)))
        states["extract_cps.load"] = "success"
        notify.task_failed(_context("extract_force.load", 3, states, RuntimeError(OUTAGE)))
        notify.task_retrying(_context("extract_cps.load", 1, states, ValueError("another cause")))
    finally:
        hook.close()
    payloads = _posted(hook)
    assert [(p["kind"], p["facts"]["task"], p["facts"]["error"]) for p in payloads] == [
        ("task_retrying", "extract_force.load", f"RuntimeError: {OUTAGE}"),
        ("task_retrying", "extract_cps.load", "ValueError: another cause"),
    ]
    first = payloads[0]
    assert first["facts"]["try"] == "1 of 3"
    assert "retrying" in first["title"] and "all-clear follows if it recovers" in first["text"]
    with psycopg.connect(migrated.url) as conn:
        failures = run_outcome.failures_of_run(conn, RUN)
        described = conn.execute("select obj_description('audit.task_failure'::regclass)")
        assert "on_retry_callback" in described.fetchone()[0]  # what auditors read of the table
    final = {"extract_force.load": "failed", "extract_cps.load": "success"}
    outcome = run_outcome.decide(RUN, final, failures, 0)
    assert outcome.state == run_outcome.FAILED
    assert [t.line() for t in outcome.failed_tasks] == [
        f"extract_force.load: RuntimeError: {OUTAGE}"
    ]


def test_a_retry_that_succeeds_sends_the_all_clear_and_the_run_reads_success(
    migrated, monkeypatch
) -> None:
    """The alert for a lost connection, then the retry succeeds: an all-clear names the task,
    its try and what it recovered from; while it retried the run did not read failed, and its
    outcome is success. A task's first try that succeeds sends nothing."""
    states = {"extract_force.load": "up_for_retry", "transform.dbt_shared": "running"}
    hook = _hook(monkeypatch)
    try:
        notify.task_recovered(_context("transform.dbt_shared", 1, states))  # first try: nothing
        notify.task_retrying(_context("extract_force.load", 1, states, RuntimeError(OUTAGE)))
        with psycopg.connect(migrated.url) as conn:
            assert run_outcome.of_run(conn, RUN) is None  # retrying: not failed
        states["extract_force.load"] = "running"
        notify.task_recovered(_context("extract_force.load", 2, states))
    finally:
        hook.close()
    payloads = _posted(hook)
    assert [p["kind"] for p in payloads] == ["task_retrying", "all_clear"]
    clear = payloads[1]
    assert clear["title"].startswith("VAWG warehouse: all clear, task extract_force.load")
    assert clear["facts"]["try"] == "2"
    assert clear["facts"]["recovered from"] == f"RuntimeError: {OUTAGE}"
    states["extract_force.load"] = "success"
    with psycopg.connect(migrated.url) as conn:
        outcome = run_outcome.decide(RUN, states, run_outcome.failures_of_run(conn, RUN), 0)
    assert outcome.state == run_outcome.SUCCESS and outcome.failed_tasks == []


def test_no_all_clear_while_another_task_still_fails_with_the_same_cause(
    migrated, monkeypatch
) -> None:
    states = {"extract_force.load": "up_for_retry", "extract_cps.load": "up_for_retry"}
    hook = _hook(monkeypatch)
    try:
        notify.task_retrying(_context("extract_force.load", 1, states, RuntimeError(OUTAGE)))
        notify.task_retrying(_context("extract_cps.load", 1, states, RuntimeError(OUTAGE)))
        notify.task_recovered(_context("extract_force.load", 2, states))  # cps still retrying
        states["extract_force.load"] = "success"
        notify.task_recovered(_context("extract_cps.load", 2, states))  # the last one: all clear
    finally:
        hook.close()
    payloads = _posted(hook)
    assert [(p["kind"], p["facts"]["task"]) for p in payloads] == [
        ("task_retrying", "extract_force.load"),
        ("all_clear", "extract_cps.load"),
    ]
