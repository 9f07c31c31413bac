"""The ledger: the run records of the audit schema, written and read in one place.

* a load batch's events (``audit.load_batch_event``) and the batches themselves
  (``audit.load_batch``, as :class:`Batch` rows);
* the batches and failed rules of an Airflow run, as the run report shows them;
* validations (``audit.validation_run`` / ``audit.validation_result``);
* :func:`append_rows`: how the pipeline adds any other row to audit (only through the owner's
  ``audit.append_rows``, migration 022: it holds no insert on an audit table);
* the rules a batch broke, by name (``vawg quarantine list``, ``vawg status``);
* dbt group builds (``audit.dbt_group_build``) and dbt's node results of a run;
* what ``vawg status`` shows: each dataset's last run, each group's last attempt, the last
  freshness checks and the last finished nightly run.

Rows come back typed, one way: ``class_row`` of a dataclass where the package has one (Batch),
else ``dict_row`` (a dict per row, keyed by column name). Nothing here pulls in Great
Expectations, dbt or Airflow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from vawg_warehouse.ingest.contracts import Contract, load_contract
from vawg_warehouse.run_context import RunContext

if TYPE_CHECKING:
    from vawg_warehouse.validate.results import ValidationReport


# --------------------------------------------------------------------------------------------
# Appending to the audit trail
# --------------------------------------------------------------------------------------------


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Jsonb):
        return value.obj
    return str(value)  # Decimal and the like: the column's type reads the text


def append_rows(
    conn: psycopg.Connection, table: str, rows: Sequence[dict[str, Any]]
) -> list[int | None]:
    """Append ``rows`` (column -> value) to ``audit.<table>`` through the owner's
    ``audit.append_rows`` (migration 022): the pipeline's login holds no insert on audit, and
    what the server stamps (ids, times) it does not give. Returns the new rows' ids, in order
    (None for a table without one; a row that was already there gives none)."""
    if not rows:
        return []
    document = json.dumps([dict(r) for r in rows], default=_json_value)
    return [
        r[0]
        for r in conn.execute(
            "select audit.append_rows(%s, %s::jsonb)", (table, document)
        ).fetchall()
    ]


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


# The pipeline's login writes audit.load_batch, its events and the run reports only through
# functions owned by vawg_owner (migration 020): the transitions a batch may make, its counts
# worked out from the rows, a report whose figures are the ledger's.


def record_event(
    conn: psycopg.Connection, batch_id: int, status: str, ctx: RunContext, **detail: Any
) -> None:
    """One event of a batch's life that changes nothing on the batch (``detail``: counts, rules,
    line numbers; never a value). A status change writes its own event: :func:`transition`."""
    conn.execute(
        "select audit.append_batch_event(%s, %s, %s, %s)",
        (batch_id, status, Jsonb(detail), ctx.dag_run_id),
    )


def transition(
    conn: psycopg.Connection,
    batch_id: int,
    status: str,
    ctx: RunContext,
    *,
    error: str | None = None,
    rows_read: int | None = None,
    **detail: Any,
) -> bool:
    """Move a batch to ``status`` (loaded, validated, failed, refused, quarantined, published)
    with its event, as audit.batch_transition allows; False when a late failure left a finished
    batch as it was. ``rows_read`` (on loaded) must be the rows of its landing table."""
    (changed,) = conn.execute(
        "select audit.batch_transition(%s, %s, %s, %s, %s, %s)",
        (batch_id, status, Jsonb(detail), ctx.dag_run_id, error, rows_read),
    ).fetchone()
    return bool(changed)


def transitions(
    cur: psycopg.Cursor, batch_ids: Sequence[int], status: str, ctx: RunContext, details: list
) -> None:
    """:func:`transition` of many batches in one round trip (``details``: one dict each)."""
    cur.execute(
        "select audit.batch_transition(b, %s, d, %s) "
        "from unnest(%s::bigint[], %s::jsonb[]) as t (b, d)",
        (
            status,
            ctx.dag_run_id,
            list(batch_ids),
            [Jsonb(detail) for detail in details],
        ),
    )
    assert len(details) == len(batch_ids)


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
    with conn.transaction():
        ids = append_rows(
            conn,
            "validation_run",
            [
                {
                    "batch_id": report.batch_id,
                    "suite_name": report.suite_name,
                    "suite_sha256": report.suite_sha256,
                    "gx_version": report.gx_version,
                    "success": report.success,
                    "critical_failures": len(report.critical_failures),
                    "warning_failures": len(report.warning_failures),
                    "dag_run_id": report.dag_run_id,
                    "started_at": report.started_at,
                    "finished_at": report.finished_at,
                    "parameters": report.parameters,
                    "result_format": report.result_format,
                    "code_version": version,
                }
                for report in reports
            ],
        )
        # one statement, rows numbered by the identity in the order given: sorted, the ids
        # are the reports' whatever order RETURNING gives them back in
        run_ids = sorted(run_id for run_id in ids if run_id is not None)
        if len(run_ids) != len(reports):
            raise RuntimeError(f"validation_run: {len(run_ids)} id(s) for {len(reports)} report(s)")
        append_rows(
            conn,
            "validation_result",
            [
                {
                    "validation_run_id": run_id,
                    "expectation_index": r.index,
                    "rule": r.rule,
                    "expectation_type": r.expectation_type,
                    "column_name": r.column,
                    "severity": r.severity,
                    "success": r.success,
                    "element_count": r.element_count,
                    "unexpected_count": r.unexpected_count,
                    "unexpected_percent": r.unexpected_percent,
                    "failing_row_numbers": list(r.failing_row_numbers) or None,
                    "observed_value": r.observed_value,
                    "kwargs": r.kwargs,
                    "error": r.error,
                }
                for run_id, report in zip(run_ids, reports, strict=True)
                for r in report.results
            ],
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
        append_rows(
            conn,
            "dbt_group_build",
            [
                {
                    "group_name": group,
                    "command": command,
                    "reason": reason,
                    "dbt_project_sha256": dbt_project_sha256,
                    "published_through_event_id": published_through_event_id,
                    "success": success,
                    "node_count": node_count,
                    "failed_nodes": failed_nodes,
                    "dbt_invocation_id": dbt_invocation_id,
                    "dag_id": ctx.dag_id,
                    "dag_run_id": ctx.dag_run_id,
                    "task_id": task_id,
                    "started_at": started_at,
                    "finished_at": datetime.now(UTC),
                }
            ],
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


def corrections_of_run(conn: psycopg.Connection, dag_run_id: str | None) -> list[dict]:
    """What the run's corrections withdrew, superseded or kept, one entry per batch: for the run
    summary and the run report (batches, files and counts only)."""
    rows = conn.execute(
        """
        select e.batch_id, b.file_name, e.status, e.detail
        from audit.load_batch_event as e
        join audit.load_batch as b using (batch_id)
        where e.dag_run_id is not distinct from %s
          and e.status in ('withdrew', 'restatement_incomplete')
        order by e.event_id
        """,
        (dag_run_id,),
    ).fetchall()
    found: dict[int, dict] = {}
    for batch_id, file_name, status, detail in rows:
        entry = found.setdefault(
            batch_id,
            {
                "batch_id": batch_id,
                "file_name": file_name,
                "withdrawn_absent": 0,
                "withdrawn_cancelled": 0,
                "kept_missing": 0,
                "superseded_batch_ids": [],
            },
        )
        detail = detail or {}
        if status == "withdrew":
            entry["withdrawn_absent"] += int(detail.get("withdrawn_absent", 0))
            entry["withdrawn_cancelled"] += int(detail.get("withdrawn_cancelled", 0))
            entry["superseded_batch_ids"] += list(detail.get("superseded_batch_ids", []))
        else:
            entry["kept_missing"] += int(detail.get("rows_missing_kept", 0))
    return list(found.values())


# --------------------------------------------------------------------------------------------
# Where the warehouse stands (vawg status)
# --------------------------------------------------------------------------------------------


@dataclass
class GroupAttempt:
    """A dbt group's last build or test."""

    group: str
    command: str
    success: bool
    reason: str
    failed_nodes: int
    finished_at: datetime
    dag_run_id: str | None


@dataclass
class Freshness:
    """A source table's last freshness check."""

    source: str
    status: str
    max_loaded_at: datetime | None
    checked_at: datetime


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    row = conn.execute("select to_regclass(%s)", (relation,)).fetchone()
    return row is not None and row[0] is not None


def last_group_attempts(conn: psycopg.Connection) -> list[GroupAttempt]:
    """Each dbt group's last attempt (none before the migration that records them)."""
    if not _exists(conn, "audit.dbt_group_build"):
        return []
    with conn.cursor(row_factory=class_row(GroupAttempt)) as cur:
        return cur.execute(
            """
            select distinct on (group_name) group_name as "group", command, success, reason,
                   coalesce(cardinality(failed_nodes), 0) as failed_nodes, finished_at,
                   dag_run_id
            from audit.dbt_group_build
            order by group_name, group_build_id desc
            """
        ).fetchall()


def last_freshness_checks(conn: psycopg.Connection) -> list[Freshness]:
    """Each source table's last freshness check."""
    if not _exists(conn, "audit.source_freshness"):
        return []
    with conn.cursor(row_factory=class_row(Freshness)) as cur:
        return cur.execute(
            """
            select distinct on (source_name, table_name)
                   source_name || '.' || table_name as source, status, max_loaded_at, checked_at
            from audit.source_freshness
            order by source_name, table_name, freshness_check_id desc
            """
        ).fetchall()


def last_pipeline_run(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The last finished nightly run: its run id, logical date, end and summary."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select dag_run_id, logical_date, finished_at, summary from audit.pipeline_run "
            "order by pipeline_run_id desc limit 1"
        ).fetchone()


def pipeline_run_summary(conn: psycopg.Connection, logical_date: date) -> dict | None:
    """The summary of the last nightly run for a logical date, if one finished."""
    row = conn.execute(
        "select summary from audit.pipeline_run where logical_date = %s "
        "order by pipeline_run_id desc limit 1",
        (logical_date,),
    ).fetchone()
    return row[0] if row else None


def dataset_last_batches(conn: psycopg.Connection, dataset: str) -> list[dict[str, Any]]:
    """The batches of a dataset's last run (the run that registered its newest batch), with
    that run's id and when the newest batch was registered; the newest batch alone when it was
    registered outside a run's events (by hand). Empty if the dataset never had a batch."""
    with conn.cursor(row_factory=dict_row) as cur:
        last = cur.execute(
            "select dag_run_id, registered_at from audit.load_batch where dataset = %s "
            "order by batch_id desc limit 1",
            (dataset,),
        ).fetchone()
        if last is None:
            return []
        columns = """b.batch_id, b.file_name, b.status, coalesce(b.rows_read, 0) as rows_read,
               coalesce(b.rows_loaded, 0) as rows_loaded,
               coalesce(b.rows_rejected, 0) as rows_rejected, b.error_message,
               %(run)s::text as dag_run_id, %(at)s::timestamptz as last_registered_at"""
        params = {"dataset": dataset, "run": last["dag_run_id"], "at": last["registered_at"]}
        rows = cur.execute(
            f"""
            select {columns}
            from audit.load_batch as b
            where b.dataset = %(dataset)s and b.batch_id in (
                select e.batch_id from audit.load_batch_event as e
                where e.dag_run_id is not distinct from %(run)s
            )
            order by b.batch_id
            """,
            params,
        ).fetchall()
        if not rows:
            rows = cur.execute(
                f"select {columns} from audit.load_batch as b where b.dataset = %(dataset)s "
                "order by b.batch_id desc limit 1",
                params,
            ).fetchall()
        return rows
