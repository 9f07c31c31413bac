"""The ledger: the run records of the audit schema, written and read in one place.

* a load batch's events (``audit.load_batch_event``) and the batches themselves
  (``audit.load_batch``, as :class:`Batch` rows);
* the batches and failed rules of an Airflow run, as the run report shows them;
* validations (``audit.validation_run`` / ``audit.validation_result``);
* the rules a batch broke, by name (``vawg quarantine list``, ``vawg status``);
* dbt group builds (``audit.dbt_group_build``) and dbt's node results of a run.

Rows come back typed, one way: ``class_row`` of a dataclass where the package has one (Batch),
else ``dict_row`` (a dict per row, keyed by column name). Nothing here pulls in Great
Expectations, dbt or Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from vawg_warehouse.ingest.contracts import Contract, load_contract
from vawg_warehouse.run_context import RunContext

if TYPE_CHECKING:
    from vawg_warehouse.validate.results import ValidationReport


# --------------------------------------------------------------------------------------------
# Load batches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A row of ``audit.load_batch``: a landing file taken in."""

    batch_id: int
    dataset: str
    file_name: str
    file_sha256: str
    status: str

    @property
    def contract(self) -> Contract:
        return load_contract(self.dataset)

    @property
    def landing_table(self) -> str:
        return f"{self.dataset}__b{self.batch_id}"


def record_event(
    conn: psycopg.Connection, batch_id: int, status: str, ctx: RunContext, **detail: Any
) -> None:
    """One event of a batch's life (``detail``: counts, rules, line numbers; never a value)."""
    conn.execute(
        "insert into audit.load_batch_event (batch_id, status, detail, dag_run_id) "
        "values (%s, %s, %s, %s)",
        (batch_id, status, Jsonb(detail), ctx.dag_run_id),
    )


def record_events(
    cur: psycopg.Cursor, batch_ids: Sequence[int], status: str, ctx: RunContext, details: list
) -> None:
    """:func:`record_event` of many batches in one round trip (``details``: one dict each)."""
    cur.executemany(
        "insert into audit.load_batch_event (batch_id, status, detail, dag_run_id) "
        "values (%s, %s, %s, %s)",
        [
            (batch_id, status, Jsonb(detail), ctx.dag_run_id)
            for batch_id, detail in zip(batch_ids, details, strict=True)
        ],
    )


def get_batches(
    conn: psycopg.Connection, batch_ids: Iterable[int], status: str | None = None
) -> list[Batch]:
    """The batches of ``batch_ids`` (those in ``status`` only, if given), by batch id."""
    ids = list(batch_ids)
    if not ids:
        return []
    with conn.cursor(row_factory=class_row(Batch)) as cur:
        return cur.execute(
            "select batch_id, dataset, file_name, file_sha256, status from audit.load_batch "
            "where batch_id = any(%s) and (%s::text is null or status = %s) order by batch_id",
            (ids, status, status),
        ).fetchall()


def batches_of_run(conn: psycopg.Connection, dag_run_id: str) -> list[dict[str, Any]]:
    """Every batch an Airflow run touched (any event of it), by dataset and file."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            select b.batch_id, b.dataset, b.file_name, b.file_sha256, b.file_size_bytes,
                   b.status, b.rows_read, b.rows_loaded, b.rows_rejected,
                   -- a quarantine message is ours (rules, counts, lines); a failure's may quote
                   -- a database error, which can hold a value: shown redacted
                   case when b.status = 'failed' then audit.dbt_message_redacted(b.error_message)
                        else b.error_message end as error_message
            from audit.load_batch as b
            where b.batch_id in (
                select e.batch_id from audit.load_batch_event as e where e.dag_run_id = %s
            )
            order by b.dataset, b.file_name, b.batch_id
            """,
            (dag_run_id,),
        ).fetchall()


# --------------------------------------------------------------------------------------------
# Validations
# --------------------------------------------------------------------------------------------


def store_validation(conn: psycopg.Connection, report: ValidationReport) -> int:
    """Write the run to audit.validation_run and one row per expectation to
    audit.validation_result; returns the validation_run_id. See :func:`store_validations`."""
    (run_id,) = store_validations(conn, [report])
    return run_id


def store_validations(conn: psycopg.Connection, reports: list[ValidationReport]) -> list[int]:
    """Many validation reports in one transaction and a few round trips (the statements
    pipelined): one validation_run each, their ids in the order given.

    Each run is stamped with the code version (vawg_warehouse.versions) and the suite's sha256.
    Stores counts, up to 20 line numbers and, for table-level expectations only, GX's observed
    value (row count, column names): never data values. One transaction (a savepoint inside the
    caller's transaction, if any)."""
    from vawg_warehouse.versions import code_version

    if not reports:
        return []
    version = code_version()
    run_ids: list[int] = []
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            insert into audit.validation_run (
                batch_id, suite_name, suite_sha256, gx_version, success,
                critical_failures, warning_failures, dag_run_id, started_at, finished_at,
                parameters, result_format, code_version
            )
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning validation_run_id
            """,
            [
                (
                    report.batch_id,
                    report.suite_name,
                    report.suite_sha256,
                    report.gx_version,
                    report.success,
                    len(report.critical_failures),
                    len(report.warning_failures),
                    report.dag_run_id,
                    report.started_at,
                    report.finished_at,
                    Jsonb(report.parameters),
                    report.result_format,
                    version,
                )
                for report in reports
            ],
            returning=True,
        )
        while True:
            row = cur.fetchone()
            assert row is not None
            run_ids.append(int(row[0]))
            if not cur.nextset():
                break
        with cur.copy(
            "copy audit.validation_result (validation_run_id, expectation_index, rule, "
            "expectation_type, column_name, severity, success, element_count, unexpected_count, "
            "unexpected_percent, failing_row_numbers, observed_value, kwargs, error) from stdin"
        ) as copy:
            for run_id, report in zip(run_ids, reports, strict=True):
                for r in report.results:
                    copy.write_row(
                        (
                            run_id,
                            r.index,
                            r.rule,
                            r.expectation_type,
                            r.column,
                            r.severity,
                            r.success,
                            r.element_count,
                            r.unexpected_count,
                            r.unexpected_percent,
                            list(r.failing_row_numbers) or None,
                            None if r.observed_value is None else Jsonb(r.observed_value),
                            Jsonb(r.kwargs),
                            r.error,
                        )
                    )
    return run_ids


def validations_of_run(conn: psycopg.Connection, dag_run_id: str) -> int:
    """How many validations an Airflow run stored."""
    row = conn.execute(
        "select count(*) from audit.validation_run where dag_run_id = %s", (dag_run_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def failed_rules_of_run(conn: psycopg.Connection, dag_run_id: str) -> list[dict[str, Any]]:
    """Every rule that failed in an Airflow run's validations: critical first, by file."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            select b.file_name, v.batch_id, v.suite_name, r.rule, r.severity, r.column_name,
                   r.expectation_type, r.element_count, r.unexpected_count,
                   r.unexpected_percent, r.observed_value, r.failing_row_numbers, r.error
            from audit.validation_run as v
            join audit.validation_result as r using (validation_run_id)
            join audit.load_batch as b on b.batch_id = v.batch_id
            where v.dag_run_id = %s and not r.success
            order by r.severity = 'warning', b.file_name, r.expectation_index
            """,
            (dag_run_id,),
        ).fetchall()


# --------------------------------------------------------------------------------------------
# The rules a batch broke, by name (vawg quarantine list, vawg status)
# --------------------------------------------------------------------------------------------


def rules_broken(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, list[str]]:
    """For each batch, the rules of its rows set aside one by one ("rule (n rows)"), else the
    critical rules its last validation failed, else its error message's first line; batches
    with none of these are left out. Rules and counts only, never a value."""
    if not batch_ids:
        return {}
    found: dict[int, list[str]] = {}
    for batch_id, rule, n in conn.execute(
        "select batch_id, rule, count(*)::int from audit.rejected_row "
        "where batch_id = any(%s) group by batch_id, rule order by batch_id, rule",
        (batch_ids,),
    ).fetchall():
        found.setdefault(batch_id, []).append(f"{rule} ({n:,} row{'s' if n != 1 else ''})")
    rejected = set(found)
    for batch_id, rule, failing in conn.execute(
        """
        with last_run as (
            select distinct on (batch_id) batch_id, validation_run_id
            from audit.validation_run
            where batch_id = any(%s)
            order by batch_id, validation_run_id desc
        )
        select last_run.batch_id, r.rule, r.unexpected_count
        from last_run
        inner join audit.validation_result as r
            on r.validation_run_id = last_run.validation_run_id
        where not r.success and r.severity = 'critical'
        order by last_run.batch_id, r.expectation_index
        """,
        (batch_ids,),
    ).fetchall():
        if batch_id in rejected:
            continue
        rows = "" if failing is None else f" ({failing:,} row{'s' if failing != 1 else ''})"
        found.setdefault(batch_id, []).append(f"{rule}{rows}")
    for batch_id, message in conn.execute(
        "select batch_id, error_message from audit.load_batch "
        "where batch_id = any(%s) and error_message is not null",
        (batch_ids,),
    ).fetchall():
        if batch_id not in found:
            found[batch_id] = [message.splitlines()[0][:300]]
    return found


# --------------------------------------------------------------------------------------------
# dbt
# --------------------------------------------------------------------------------------------


def record_group_build(
    conn: psycopg.Connection,
    *,
    group: str,
    command: str,
    reason: str,
    dbt_project_sha256: str,
    published_through_event_id: int | None,
    success: bool,
    node_count: int,
    failed_nodes: list[str],
    dbt_invocation_id: str | None,
    ctx: RunContext,
    task_id: str | None,
    started_at: datetime,
) -> None:
    """One dbt group's build (or test) and why, finished now."""
    with conn.transaction():
        conn.execute(
            """
            insert into audit.dbt_group_build (
                group_name, command, reason, dbt_project_sha256, published_through_event_id,
                success, node_count, failed_nodes, dbt_invocation_id, dag_id, dag_run_id,
                task_id, started_at, finished_at
            ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())
            """,
            (
                group,
                command,
                reason,
                dbt_project_sha256,
                published_through_event_id,
                success,
                node_count,
                failed_nodes,
                dbt_invocation_id,
                ctx.dag_id,
                ctx.dag_run_id,
                task_id,
                started_at,
            ),
        )


def dbt_results_of_run(conn: psycopg.Connection, dag_run_id: str) -> list[dict[str, Any]]:
    """Every node result of every dbt invocation of one Airflow run, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            select r.invocation_id, r.task_id, res.unique_id, res.resource_type,
                   res.relation_name, res.status, res.execution_seconds, res.rows_affected,
                   res.failures, res.message, res.completed_at
            from audit.dbt_run as r
            join audit.dbt_result as res using (invocation_id)
            where r.dag_run_id = %s
            order by r.started_at, res.completed_at nulls last, res.unique_id
            """,
            (dag_run_id,),
        ).fetchall()
