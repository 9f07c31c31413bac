"""dbt's results in the audit trail: audit.dbt_run and audit.dbt_result (migration 007).

Inside the pipeline dbt records its own results: the on-run-end hook
(``dbt_project/macros/audit_results.sql``) passes every invocation's results to
``audit.record_dbt_run``, so nothing depends on ``target/run_results.json`` outliving the task.
For dbt run by hand, :func:`record_run_results` reads a run_results.json and stores it through
the same function, so both paths keep the same fields and redact messages the same way:
unique_id, resource type, relation, status, time, rows affected, failures, message.
Never the compiled SQL (run_results.json has it; it is not read). One difference: dbt 1.11
writes no relation_name for seeds in run_results.json, where the hook has it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

RECORDED_BY_FILE = "run_results.json"
# Hooks appear in run_results.json as operations; the on-run-end hook never sees them.
SKIPPED_RESOURCE_TYPES = ("operation",)


def _execute_timing(result: dict[str, Any], edge: str) -> str | None:
    for timing in result.get("timing") or []:
        if timing.get("name") == "execute":
            return timing.get(edge)
    return None


def run_document(
    run_results: dict[str, Any],
    *,
    dag_id: str | None = None,
    dag_run_id: str | None = None,
    task_id: str | None = None,
    target_name: str | None = None,
) -> dict[str, Any]:
    """The document ``audit.record_dbt_run`` takes, from a parsed run_results.json."""
    metadata = run_results["metadata"]
    args = run_results.get("args") or {}
    nodes = []
    for result in run_results.get("results") or []:
        unique_id = result["unique_id"]
        resource_type = unique_id.split(".", 1)[0]
        if resource_type in SKIPPED_RESOURCE_TYPES:
            continue
        nodes.append(
            {
                "unique_id": unique_id,
                "resource_type": resource_type,
                "relation_name": result.get("relation_name"),
                "status": result["status"],
                "execution_seconds": result.get("execution_time"),
                "rows_affected": (result.get("adapter_response") or {}).get("rows_affected"),
                "failures": result.get("failures"),
                "message": result.get("message"),
                "started_at": _execute_timing(result, "started_at"),
                "completed_at": _execute_timing(result, "completed_at"),
            }
        )
    project = next((n["unique_id"].split(".")[1] for n in nodes if n["unique_id"].count(".")), None)
    return {
        "invocation_id": metadata["invocation_id"],
        "command": args.get("which"),
        "dbt_version": metadata["dbt_version"],
        "project_name": project,
        "target_name": target_name or args.get("target"),
        "dag_id": dag_id,
        "dag_run_id": dag_run_id,
        "task_id": task_id,
        "try_number": None,
        "started_at": metadata.get("invocation_started_at"),
        "ended_at": metadata.get("generated_at"),
        "nodes": nodes,
    }


def record_run_results(
    conn: psycopg.Connection,
    path: Path | str,
    *,
    dag_id: str | None = None,
    dag_run_id: str | None = None,
    task_id: str | None = None,
    target_name: str | None = None,
) -> int:
    """Store a run_results.json in audit.dbt_run / audit.dbt_result; returns the nodes stored.

    0 when that invocation is already recorded (by the hook, or an earlier call): safe to repeat.
    """
    document = run_document(
        json.loads(Path(path).read_text(encoding="utf-8")),
        dag_id=dag_id,
        dag_run_id=dag_run_id,
        task_id=task_id,
        target_name=target_name,
    )
    with conn.transaction():
        row = conn.execute(
            "select audit.record_dbt_run(%s, %s)", (Jsonb(document), RECORDED_BY_FILE)
        ).fetchone()
    assert row is not None
    return int(row[0])
