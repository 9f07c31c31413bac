"""The run's outcome, from inside Airflow: what a task's failure callback records
(``record_failure``) and the DAG's last task (``task_states``, ``record_outcome``), both through
vawg_warehouse.run_outcome; orchestration re-exports them for the DAG file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import date

import psycopg

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.task_settings import settings_for_task
from vawg_warehouse.warehouse import connect

log = logging.getLogger(__name__)


def _ids(context: dict) -> tuple[object, object, str | None, str | None]:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id")
    return ti, dag_run, run_id, getattr(ti, "task_id", None)


def _failures(conn, run_id: str) -> list[tuple[str, tuple[str, str]]]:
    """Every failure recorded in the run, failed tries included: (task, cause)."""
    from vawg_warehouse.run_outcome import without_mark

    rows = conn.execute(
        "select task_id, error_class, message from audit.task_failure where dag_run_id = %s "
        "order by task_failure_id",
        (run_id,),
    ).fetchall()
    return [(task, (error_class, without_mark(message))) for task, error_class, message in rows]


def _open(
    failures: list[tuple[str, tuple[str, str]]],
    cause: tuple[str, str],
    states: dict[str, str | None] | None,
    task_id: str,
) -> set[str]:
    """The tasks other than ``task_id`` that failed with ``cause`` in the run and have not since
    succeeded (Airflow's state; with no states known, every one of them)."""
    return {
        task
        for task, found in failures
        if found == cause and task != task_id and (states is None or states.get(task) != "success")
    }


@contextlib.contextmanager
def _run_failures(
    ti, dag_run, run_id: str, settings: Settings | None
) -> Iterator[tuple[psycopg.Connection, str | None, dict[str, str | None] | None, list]]:
    """(connection, dag id, Airflow's task states, failures recorded) for one run, under the
    run's alert lock: one failure or recovery of the run decides at a time, so two tasks
    failing together alert once."""
    dag_id = getattr(dag_run, "dag_id", None) or getattr(ti, "dag_id", None)
    states = task_states(ti, str(dag_id), run_id) if dag_id else None
    settings = settings or settings_for_task()
    with connect(settings, autocommit=True, connect_timeout=10) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", ("vawg alerts " + run_id,))
        yield conn, dag_id, states, _failures(conn, run_id)


def record_failure(
    context: dict, settings: Settings | None = None, *, retrying: bool = False
) -> bool:
    """From a task's failure callback (or, ``retrying``, its retry callback): add the failed try
    to audit.task_failure. True when the caller should alert: nothing else in the run is still
    failing with the same cause (error class and message), so each cause alerts once, at its
    first failed try, and again only if it comes back after every task it hit had recovered."""
    from vawg_warehouse import run_outcome

    ti, dag_run, run_id, task_id = _ids(context)
    if not run_id or not task_id:
        return True
    exc = run_outcome.root_cause(context.get("exception"))
    cause = (type(exc).__name__ if exc is not None else "unknown", run_outcome.safe_message(exc))
    with _run_failures(ti, dag_run, run_id, settings) as (conn, dag_id, states, failures):
        earlier_try = any(t == task_id and c == cause for t, c in failures)
        alert = not earlier_try and not _open(failures, cause, states, task_id)
        run_outcome.record_task_failure(
            conn,
            dag_id=dag_id,
            dag_run_id=run_id,
            task_id=task_id,
            exc=exc,
            map_index=getattr(ti, "map_index", -1),
            try_number=getattr(ti, "try_number", None),
            retrying=retrying,
        )
    return alert


def record_recovery(context: dict, settings: Settings | None = None) -> list[tuple[str, str]]:
    """From a task's success callback, after a retry: the causes its failed tries had that no
    other task of the run is still failing with (each gets an all-clear). Nothing is written."""
    ti, dag_run, run_id, task_id = _ids(context)
    if not run_id or not task_id:
        return []
    with _run_failures(ti, dag_run, run_id, settings) as (_, _, states, failures):
        pass
    mine = list(dict.fromkeys(c for t, c in failures if t == task_id))
    return [cause for cause in mine if not _open(failures, cause, states, task_id)]


def task_states(ti, dag_id: str, run_id: str) -> dict[str, str | None] | None:
    """Every task's state in this run, asked of Airflow by a running task; None if it cannot
    say (the outcome then rests on the failures recorded)."""
    try:
        found = ti.get_task_states(dag_id=dag_id, run_ids=[run_id]).get(run_id, {})
    except Exception as exc:  # noqa: BLE001 - the recorded failures still decide
        log.warning("task states not available (%s): using the failures recorded", exc)
        return None
    return {task: _value(state) for task, state in found.items()}


def record_outcome(
    dag_id: str | None,
    run_id: str,
    logical_date: date | None,
    states: dict[str, str | None] | None,
    settings: Settings | None = None,
) -> dict:
    """The DAG's last task: record the run's outcome in audit.run_outcome and rewrite the run's
    report and the index so they say it (a task that failed after the report was made too)."""
    from vawg_warehouse import run_outcome
    from vawg_warehouse.outputs import reports

    settings = settings or get_settings()
    with connect(settings) as conn:
        outcome = run_outcome.record(conn, dag_id, run_id, logical_date, states)
        try:
            reports.report_run(conn, run_id, settings.reports_dir)
        except Exception as exc:  # noqa: BLE001 - the outcome is recorded; the page is extra
            log.error("run report not rewritten: %s", run_outcome.safe_message(exc))
    level = logging.INFO if outcome.state == run_outcome.SUCCESS else logging.ERROR
    log.log(level, "RUN OUTCOME %s", outcome.headline())
    for task in outcome.failed_tasks:
        log.log(level, "FAILED TASK %s", task.line())
    return {
        "dag_run_id": run_id,
        "state": outcome.state,
        "failed_tasks": [t.as_dict() for t in outcome.failed_tasks],
        "unfinished_files": outcome.unfinished_files,
    }


def _value(state) -> str | None:
    return None if state is None else str(getattr(state, "value", state))


def wait_for_turn(ti, dag_id: str, run_id: str, last_task: str | None = None) -> bool:
    """The DAG's first task (a sensor): True when this run may go on, one run of the DAG at a
    time (vawg_warehouse.run_turn, from Airflow's own states, asked through the Task SDK).
    ``last_task``: the task whose end ends a run (default: the nightly's record_outcome)."""
    from vawg_warehouse.run_turn import GATE_TASK, LAST_TASK, holders, may_start

    last_task = last_task or LAST_TASK
    previous = ti.get_previous_dagrun()
    before = (previous.run_id, _value(previous.state)) if previous is not None else None
    found = ti.get_task_states(dag_id=dag_id, task_ids=[GATE_TASK, last_task])
    task_states = {
        run: {task: _value(state) for task, state in states.items()}
        for run, states in found.items()
    }
    run_states = {
        other: _value(ti.get_dagrun_state(dag_id=dag_id, run_id=other)) or "running"
        for other in holders(task_states, run_id, last_task)
    }
    ok, why = may_start(run_id, before, task_states, run_states, last_task)
    log.info("run %s: %s", run_id, why if not ok else "its turn: " + why)
    return ok
