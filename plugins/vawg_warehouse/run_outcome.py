"""A run's outcome, from what happened: which tasks failed, why, and which files were left undone.

Two records in the audit schema (migration 017):

* ``audit.task_failure``: the nightly DAG's ``on_failure_callback`` writes one row each time a
  task fails for good: the task, the try, the error's class and :func:`safe_message` of it (quoted
  text, numbers after a colon and database detail removed, so never a cell value). Its
  ``on_retry_callback`` writes one for a failed try that Airflow will retry, the message ending in
  :data:`RETRYING_MARK`: a task that then succeeds is no cause of the run's failure (Airflow's
  state decides), and one whose last try was retried is still going, not failed.
* ``audit.run_outcome``: the DAG's last task (trigger rule ``all_done``) records, once every other
  task has ended, ``failed`` (a task failed: each is named with its error class and message),
  ``incomplete`` (no task failed, yet files the run registered were left unfinished) or
  ``success``.

The run report, its index, ``vawg status`` and the scorecard's header read :func:`of_run` (the
recorded outcome, or, while the run is still going, what its failures so far say) and
:func:`last_refresh` (the newest run that succeeded: the data are as of then).

The core never imports Airflow: the DAG hands the task states in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg

from vawg_warehouse.audit import append_rows

SUCCESS, FAILED, INCOMPLETE = "success", "failed", "incomplete"
# Tasks that mark or record a failure rather than cause one.
NOT_A_CAUSE = frozenset({"watcher", "record_outcome"})
NOT_RUN_STATES = frozenset({"upstream_failed"})
ENDED_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
UNFINISHED_BATCH_STATUSES = ("registered", "loaded", "validated")
MAX_MESSAGE = 300
RETRYING_MARK = " (will retry)"  # ends the message of a failed try that Airflow retries

_QUOTED = re.compile(r"""("[^"]*"|'[^']*'|“[^”]*”)""")
_AFTER_COLON_VALUE = re.compile(r"(:\s*)(-?\d[\d.,]*\b)")
_DETAIL = re.compile(r"\s*\b(DETAIL|HINT|CONTEXT|LINE \d+|QUERY)\b.*$", re.S)


def safe_message(exc: BaseException | str | None) -> str:
    """An error's first line as it may be stored, shown and sent: database errors by class and
    SQLSTATE (with table and column), anything quoted or a number after a colon replaced by
    ``(redacted)``. The project's own errors name files, lines, cells and rules, never a value;
    this also keeps a library's message from carrying one (``could not convert 'x'``)."""
    if exc is None:
        return ""
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        table = f", table {diag.table_name}" if diag.table_name else ""
        column = f", column {diag.column_name}" if diag.column_name else ""
        return f"database error (SQLSTATE {exc.sqlstate}{table}{column})"
    if isinstance(exc, UnicodeError):  # its text holds the bytes it could not read
        return "text that is not in the expected encoding"
    text = str(exc).strip()
    text = _DETAIL.sub("", text)
    text = text.splitlines()[0] if text else ""
    text = _QUOTED.sub("(redacted)", text)
    text = _AFTER_COLON_VALUE.sub(r"\1(redacted)", text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def without_mark(message: str) -> str:
    """A failure's message without :data:`RETRYING_MARK`: what a retried try and the task's final
    failure have in common (their cause)."""
    return message[: -len(RETRYING_MARK)] if message.endswith(RETRYING_MARK) else message


@dataclass
class FailedTask:
    task_id: str
    error_class: str
    message: str
    failed_at: datetime | None = None

    @property
    def retrying(self) -> bool:
        """A failed try that Airflow retries (not a failure for good, unless the task is failed)."""
        return self.message.endswith(RETRYING_MARK)

    def for_good(self) -> FailedTask:
        return FailedTask(
            self.task_id, self.error_class, without_mark(self.message), self.failed_at
        )

    def line(self) -> str:
        cause = f"{self.error_class}: {self.message}" if self.message else self.error_class
        return f"{self.task_id}: {cause}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "error_class": self.error_class,
            "message": self.message,
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
        }


@dataclass
class Outcome:
    dag_run_id: str
    state: str
    failed_tasks: list[FailedTask] = field(default_factory=list)
    tasks_not_run: int = 0
    unfinished_files: int = 0
    recorded_at: datetime | None = None
    final: bool = True  # False: read while the run was still going (no row in run_outcome yet)

    @property
    def word(self) -> str:
        return {SUCCESS: "succeeded", FAILED: "FAILED", INCOMPLETE: "INCOMPLETE"}[self.state]

    def cause(self) -> str:
        """One line: each failed task and its error, or the files left unfinished."""
        if self.failed_tasks:
            return "; ".join(t.line() for t in self.failed_tasks)
        if self.unfinished_files:
            return f"{self.unfinished_files} file(s) registered and left unfinished"
        return ""

    def headline(self) -> str:
        cause = self.cause()
        return f"{self.word}: {cause}" if cause else self.word


class ConfigurationError(RuntimeError):
    """A setting that is wrong (a folder, a key, a URL): no retry can mend it, so the task fails
    at once (orchestration turns it into Airflow's AirflowFailException)."""


def root_cause(exc: BaseException | None) -> BaseException | None:
    """The error a task raised, through Airflow's fail-at-once wrapper."""
    if exc is not None and type(exc).__name__ == "AirflowFailException" and exc.__cause__:
        return exc.__cause__
    return exc


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def record_task_failure(
    conn: psycopg.Connection,
    *,
    dag_id: str | None,
    dag_run_id: str,
    task_id: str,
    exc: BaseException | None,
    map_index: int | None = -1,
    try_number: int | None = None,
    retrying: bool = False,
) -> None:
    """One row in audit.task_failure (the DAG's failure callback calls it; its retry callback,
    with ``retrying``, for a failed try that Airflow retries)."""
    exc = root_cause(exc)
    with conn.transaction():
        append_rows(
            conn,
            "task_failure",
            [
                {
                    "dag_id": dag_id,
                    "dag_run_id": dag_run_id,
                    "task_id": task_id,
                    "map_index": -1 if map_index is None else map_index,
                    "try_number": try_number,
                    "error_class": type(exc).__name__ if exc is not None else "unknown",
                    "message": safe_message(exc) + (RETRYING_MARK if retrying else ""),
                }
            ],
        )


def decide(
    dag_run_id: str,
    task_states: dict[str, str | None] | None,
    failures: list[FailedTask],
    unfinished: int,
) -> Outcome:
    """The outcome from the task states (Airflow's, when known), the failures recorded and the
    files left unfinished. A task in state ``failed`` with no recorded failure (killed, or its
    callback could not reach the warehouse) is named with the error class ``unknown``. A task
    whose failed try was retried is a cause only if Airflow says it failed (it recovered
    otherwise); with no states known, only if its last record is a failure for good."""
    causes = {f.task_id: f for f in failures if f.task_id not in NOT_A_CAUSE}
    if task_states is None:
        causes = {t: f for t, f in causes.items() if not f.retrying}
    else:
        causes = {
            t: f.for_good()
            for t, f in causes.items()
            if not (f.retrying or task_states.get(t) == "success") or task_states.get(t) == "failed"
        }
    not_run = 0
    if task_states is not None:
        for task_id, state in sorted(task_states.items()):
            if task_id in NOT_A_CAUSE:
                continue
            if state == "failed" and task_id not in causes:
                causes[task_id] = FailedTask(task_id, "unknown", "no error recorded: see its log")
            elif state in NOT_RUN_STATES:
                not_run += 1
    failed = sorted(causes.values(), key=lambda f: (f.failed_at is None, f.failed_at, f.task_id))
    if failed:
        state = FAILED
    elif unfinished:
        state = INCOMPLETE
    else:
        state = SUCCESS
    return Outcome(dag_run_id, state, failed, not_run, unfinished)


def record(
    conn: psycopg.Connection,
    dag_id: str | None,
    dag_run_id: str,
    logical_date: date | None,
    task_states: dict[str, str | None] | None,
) -> Outcome:
    """Decide the run's outcome and add it to audit.run_outcome (the newest row is current)."""
    failures = failures_of_run(conn, dag_run_id)
    outcome = decide(dag_run_id, task_states, failures, unfinished_files(conn, dag_run_id))
    with conn.transaction():
        (outcome_id,) = append_rows(
            conn,
            "run_outcome",
            [
                {
                    "dag_id": dag_id,
                    "dag_run_id": dag_run_id,
                    "logical_date": logical_date,
                    "state": outcome.state,
                    "failed_tasks": [t.as_dict() for t in outcome.failed_tasks],
                    "tasks_not_run": outcome.tasks_not_run,
                    "unfinished_files": outcome.unfinished_files,
                }
            ],
        )
        row = conn.execute(
            "select recorded_at from audit.run_outcome where run_outcome_id = %s", (outcome_id,)
        ).fetchone()
    outcome.recorded_at = row[0] if row else None
    return outcome


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _has_outcomes(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('audit.run_outcome')").fetchone()[0] is not None


def failures_of_run(conn: psycopg.Connection, dag_run_id: str) -> list[FailedTask]:
    """The last recorded failure of each task of the run, first failure first."""
    if not _has_outcomes(conn):
        return []
    rows = conn.execute(
        """
        select task_id, error_class, message, failed_at
        from (
            select distinct on (task_id, map_index) task_id, error_class, message, failed_at
            from audit.task_failure where dag_run_id = %s
            order by task_id, map_index, task_failure_id desc
        ) as last_failure
        order by failed_at, task_id
        """,
        (dag_run_id,),
    ).fetchall()
    return [FailedTask(*row) for row in rows]


def unfinished_files(conn: psycopg.Connection, dag_run_id: str) -> int:
    """Files the run touched that are still registered, loaded or validated (not published,
    quarantined, refused or failed)."""
    return conn.execute(
        """
        select count(*) from audit.load_batch as b
        where b.status = any(%s) and b.batch_id in (
            select e.batch_id from audit.load_batch_event as e where e.dag_run_id = %s
        )
        """,
        (list(UNFINISHED_BATCH_STATUSES), dag_run_id),
    ).fetchone()[0]


def _from_row(row: tuple) -> Outcome:
    run_id, state, tasks, not_run, unfinished, recorded_at = row
    failed = [
        FailedTask(
            t["task_id"],
            t["error_class"],
            t["message"],
            datetime.fromisoformat(t["failed_at"]) if t.get("failed_at") else None,
        )
        for t in tasks or []
    ]
    return Outcome(run_id, state, failed, not_run, unfinished, recorded_at)


_OUTCOME_COLUMNS = "dag_run_id, state, failed_tasks, tasks_not_run, unfinished_files, recorded_at"


def recorded(conn: psycopg.Connection, dag_run_id: str) -> Outcome | None:
    if not _has_outcomes(conn):
        return None
    row = conn.execute(
        f"select {_OUTCOME_COLUMNS} from audit.run_outcome where dag_run_id = %s "
        "order by run_outcome_id desc limit 1",
        (dag_run_id,),
    ).fetchone()
    return _from_row(row) if row else None


def of_run(conn: psycopg.Connection, dag_run_id: str) -> Outcome | None:
    """The run's recorded outcome; while the run is still going (its last task has not run),
    what its failures so far say (``final`` False); None when nothing says it failed."""
    found = recorded(conn, dag_run_id)
    if found is not None:
        return found
    failures = [f for f in failures_of_run(conn, dag_run_id) if not f.retrying]
    if not failures:  # none, or only tries being retried
        return None
    outcome = decide(dag_run_id, None, failures, unfinished_files(conn, dag_run_id))
    outcome.final = False
    return outcome


def latest(conn: psycopg.Connection) -> Outcome | None:
    """The newest recorded outcome of any run."""
    if not _has_outcomes(conn):
        return None
    row = conn.execute(
        f"select {_OUTCOME_COLUMNS} from audit.run_outcome order by run_outcome_id desc limit 1"
    ).fetchone()
    return _from_row(row) if row else None


def last_refresh(conn: psycopg.Connection) -> tuple[str, datetime] | None:
    """The newest run that refreshed the data: its outcome was success or, for runs from before
    outcomes were recorded, it finished (audit.pipeline_run) with no failure on record."""
    if not _has_outcomes(conn):
        return None
    row = conn.execute(
        """
        select dag_run_id, at from (
            select dag_run_id, recorded_at as at from audit.run_outcome as o
            where state = 'success' and o.run_outcome_id = (
                select max(x.run_outcome_id) from audit.run_outcome as x
                where x.dag_run_id = o.dag_run_id
            )
            union all
            select p.dag_run_id, p.finished_at from audit.pipeline_run as p
            where not exists (select from audit.run_outcome as o where o.dag_run_id = p.dag_run_id)
              and not exists (
                select from audit.task_failure as f
                where f.dag_run_id = p.dag_run_id and f.message not like %s
              )
        ) as refreshed
        order by at desc limit 1
        """,
        ("%" + RETRYING_MARK,),
    ).fetchone()
    return (row[0], row[1]) if row else None
