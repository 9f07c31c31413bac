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

from vawg_warehouse import audit
from vawg_warehouse.audit import Freshness, GroupAttempt
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


@dataclass
class StatusReport:
    datasets: dict[str, DatasetRun]
    groups: list[GroupAttempt]
    freshness: list[Freshness]
    last_run: tuple[str, object, datetime] | None  # run id, logical date, finished at


def collect(conn: psycopg.Connection) -> StatusReport:
    datasets: dict[str, DatasetRun] = {}
    for names in SOURCES.values():
        for dataset in names:
            datasets[dataset] = _dataset_run(conn, dataset)
    last = audit.last_pipeline_run(conn)
    return StatusReport(
        datasets,
        audit.last_group_attempts(conn),
        audit.last_freshness_checks(conn),
        (last["dag_run_id"], last["logical_date"], last["finished_at"]) if last else None,
    )


def _dataset_run(conn: psycopg.Connection, dataset: str) -> DatasetRun:
    """The dataset's last run: the run that registered its newest batch."""
    rows = audit.dataset_last_batches(conn, dataset)
    if not rows:
        return DatasetRun(dataset, None, None)
    run = DatasetRun(dataset, rows[0]["dag_run_id"], rows[0]["last_registered_at"])
    for b in rows:
        run.files += 1
        run.rows_read += b["rows_read"]
        run.rows_loaded += b["rows_loaded"]
        run.rows_rejected += b["rows_rejected"]
        run.by_status[b["status"]] = run.by_status.get(b["status"], 0) + 1
        if b["status"] in FAILED:
            reason = (b["error_message"] or "no reason recorded").splitlines()[0][:200]
            run.failures.append((b["batch_id"], b["file_name"], b["status"], reason))
    return run


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
    lines.append("")
    lines.append("dbt groups (last attempt):")
    for g in report.groups or []:
        outcome = "passed" if g.success else f"FAILED ({g.failed_nodes} node(s))"
        lines.append(
            f"  {g.group:<9} {g.command:<5} {outcome:<22} {_when(g.finished_at)}  {g.reason}"
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
    return lines
