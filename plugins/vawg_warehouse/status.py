"""``vawg status``: where the warehouse stands, from the audit schema alone (read-only).

For each source family and dataset, its last run: the files it took in, rows read, loaded and
set aside, and every file that failed, was quarantined or refused in that run (names and rules,
never values); then each dbt group's last attempt, the last source freshness check and the last
finished nightly run. An operator or auditor needs no Airflow access to answer "did last night
work, and what came in?".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from vawg_warehouse import run_outcome
from vawg_warehouse.audit import Freshness, GroupAttempt, rules_broken
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest import home_office_bodies, landing_check
from vawg_warehouse.ingest.datasets import SOURCES

FAILED = ("failed", "quarantined", "refused")


@dataclass
class DatasetRun:
    dataset: str
    dag_run_id: str | None
    last_registered_at: datetime | None
    files: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, file, status, why
    warnings: list[tuple[int, str, str]] = field(default_factory=list)  # id, file, what


@dataclass
class StatusReport:
    datasets: dict[str, DatasetRun]
    groups: list[GroupAttempt]
    freshness: list[Freshness]
    last_run: tuple[str, object, datetime] | None  # run id, logical date, finished at
    outcome: run_outcome.Outcome | None = None  # the newest run's outcome
    refreshed: tuple[str, datetime] | None = None  # the newest run that refreshed the data
    unrecognised: list[str] = field(default_factory=list)  # landing files no contract takes
    coverage: list = field(default_factory=list)  # vawg_warehouse.outputs.coverage.Coverage
    stale_after_days: int = 0


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is not None


def collect(conn: psycopg.Connection) -> StatusReport:
    datasets: dict[str, DatasetRun] = {}
    for names in SOURCES.values():
        for dataset in names:
            datasets[dataset] = _dataset_run(conn, dataset)
    groups = (
        [
            GroupAttempt(*row)
            for row in conn.execute(
                """
            select distinct on (group_name) group_name, command, success, reason,
                   coalesce(cardinality(failed_nodes), 0), finished_at, dag_run_id
            from audit.dbt_group_build
            order by group_name, group_build_id desc
            """
            ).fetchall()
        ]
        if _exists(conn, "audit.dbt_group_build")
        else []
    )
    freshness = (
        [
            Freshness(*row)
            for row in conn.execute(
                """
            select distinct on (source_name, table_name) source_name || '.' || table_name,
                   status, max_loaded_at, checked_at
            from audit.source_freshness
            order by source_name, table_name, freshness_check_id desc
            """
            ).fetchall()
        ]
        if _exists(conn, "audit.source_freshness")
        else []
    )
    last = conn.execute(
        "select dag_run_id, logical_date, finished_at from audit.pipeline_run "
        "order by pipeline_run_id desc limit 1"
    ).fetchone()
    newest = run_outcome.latest(conn)
    if last is not None and (
        newest is None or (newest.dag_run_id != last[0] and newest.recorded_at < last[2])
    ):
        newest = run_outcome.of_run(conn, last[0]) or newest
    strays = landing_check.of_run(conn, last[0]) if last is not None else []
    from datetime import UTC

    from vawg_warehouse.outputs import coverage

    days = coverage.stale_after_days()
    today = datetime.now(UTC).date()
    return StatusReport(
        datasets,
        groups,
        freshness,
        last,
        newest,
        run_outcome.last_refresh(conn),
        strays,
        coverage.coverage(conn, today, days),
        days,
    )


def _dataset_run(conn: psycopg.Connection, dataset: str) -> DatasetRun:
    """The dataset's last run: the run that registered its newest batch."""
    last = conn.execute(
        "select dag_run_id, registered_at from audit.load_batch where dataset = %s "
        "order by batch_id desc limit 1",
        (dataset,),
    ).fetchone()
    if last is None:
        return DatasetRun(dataset, None, None)
    run_id, registered_at = last
    run = DatasetRun(dataset, run_id, registered_at)
    rows = conn.execute(
        """
        select b.batch_id, b.file_name, b.status, coalesce(b.rows_read, 0),
               coalesce(b.rows_loaded, 0), coalesce(b.rows_rejected, 0), b.error_message
        from audit.load_batch as b
        where b.dataset = %s and b.batch_id in (
            select e.batch_id from audit.load_batch_event as e
            where e.dag_run_id is not distinct from %s
        )
        order by b.batch_id
        """,
        (dataset, run_id),
    ).fetchall()
    if not rows:  # a batch registered outside a run's events (hand-run): the batch alone
        rows = conn.execute(
            "select batch_id, file_name, status, coalesce(rows_read, 0), coalesce(rows_loaded, 0), "
            "coalesce(rows_rejected, 0), error_message from audit.load_batch "
            "where dataset = %s order by batch_id desc limit 1",
            (dataset,),
        ).fetchall()
    failed = [row[0] for row in rows if row[2] in FAILED]
    broken = rules_broken(conn, failed)
    for batch_id, file_name, status, read, loaded, rejected, message in rows:
        run.files += 1
        run.rows_read += read
        run.rows_loaded += loaded
        run.rows_rejected += rejected
        run.by_status[status] = run.by_status.get(status, 0) + 1
        if status in FAILED:
            reason = (
                "; ".join(broken.get(batch_id, []))
                or ((message or "no reason recorded").splitlines()[0])
            )
            run.failures.append((batch_id, file_name, status, reason[:400]))
    for batch_id, file_name, detail in conn.execute(
        "select e.batch_id, b.file_name, e.detail from audit.load_batch_event as e "
        "join audit.load_batch as b using (batch_id) where e.batch_id = any(%s) and e.status = %s "
        "order by e.batch_id, e.event_id",
        ([row[0] for row in rows], home_office_bodies.EVENT),
    ).fetchall():
        run.warnings.append((batch_id, file_name, home_office_bodies.describe(detail["bodies"])))
    return run


def status_lines(settings: Settings | None = None) -> list[str]:
    """``vawg status`` of one warehouse: its audit schema's report, with the files in its
    landing folder that no contract takes."""
    from vawg_warehouse.ingest.landing import unrecognised_files
    from vawg_warehouse.warehouse import connect

    settings = settings or get_settings()
    with connect(settings) as conn:
        report = collect(conn)
    report.unrecognised = unrecognised_files(settings.landing_dir)
    return format_status(report)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def format_status(report: StatusReport) -> list[str]:
    lines = []
    if report.last_run:
        run_id, logical_date, finished = report.last_run
        lines.append(
            f"last nightly run: {run_id} (logical date {logical_date}), finished {_when(finished)}"
        )
    else:
        lines.append("last nightly run: none recorded")
    outcome = report.outcome
    if outcome is not None:
        lines.append(f"run {outcome.dag_run_id}: {outcome.word}")
        for task in outcome.failed_tasks:
            lines.append(f"  FAILED task {task.line()}")
        if outcome.tasks_not_run:
            lines.append(f"  {outcome.tasks_not_run} task(s) did not run because of that")
        if outcome.unfinished_files:
            lines.append(f"  {outcome.unfinished_files} file(s) registered and left unfinished")
        if outcome.state != run_outcome.SUCCESS:
            since = (
                f"since run {report.refreshed[0]} ({_when(report.refreshed[1])})"
                if report.refreshed
                else "by no run on record"
            )
            lines.append(f"  the data were not refreshed: they stand as refreshed {since}")
    if report.unrecognised:
        lines.append(
            f"unrecognised files in the landing folder ({len(report.unrecognised)}, not read: "
            "they match no data contract):"
        )
        for name in report.unrecognised:
            lines.append(f"  UNRECOGNISED {name}")
    lines.append("")
    lines.append("last run per source:")
    for family, names in SOURCES.items():
        lines.append(f"  {family}")
        for dataset in names:
            run = report.datasets[dataset]
            if run.dag_run_id is None and run.files == 0:
                lines.append(f"    {dataset:<34} no file taken in yet")
                continue
            statuses = ", ".join(f"{n} {s}" for s, n in sorted(run.by_status.items()))
            lines.append(
                f"    {dataset:<34} run {run.dag_run_id or '(by hand)'}: {run.files:,} file(s) "
                f"({statuses}); rows read {run.rows_read:,}, loaded {run.rows_loaded:,}, "
                f"set aside {run.rows_rejected:,}"
            )
            for batch_id, file_name, status, reason in run.failures:
                lines.append(f"      {status.upper()} batch {batch_id} {file_name}: {reason}")
            for batch_id, file_name, what in run.warnings:
                lines.append(f"      WARNING batch {batch_id} {file_name}: {what}")
    lines.append("")
    lines.append("dbt groups (last attempt):")
    for g in report.groups or []:
        result = "passed" if g.success else f"FAILED ({g.failed_nodes} node(s))"
        lines.append(
            f"  {g.group:<9} {g.command:<5} {result:<22} {_when(g.finished_at)}  {g.reason}"
        )
    if not report.groups:
        lines.append("  none yet")
    lines.append("")
    lines.append("source freshness (last check):")
    for f in report.freshness:
        flag = "" if f.status == "pass" else "  <- STALE"
        lines.append(
            f"  {f.source:<44} {f.status:<6} newest row {_when(f.max_loaded_at)}"
            f"  (checked {_when(f.checked_at)}){flag}"
        )
    if not report.freshness:
        lines.append("  not checked yet")
    lines.append("")
    lines.append(f"data coverage (out of date after {report.stale_after_days} days):")
    for c in report.coverage:
        lines.append(f"  {c.describe()}")
    if not report.coverage:
        lines.append("  not known (the bi layer is not built)")
    return lines
