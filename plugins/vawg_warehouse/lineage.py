"""Where a figure came from: a measure mart row traced to its load batches, files and checks.

Every fact row carries the load batch of the raw row it came from (``_batch_id``). dbt's lineage
views (schema ``lineage``, ``dbt_project/models/lineage``) turn that into, for each mart row key,
the batches of the fact rows behind it. ``trace`` reads them for the mart rows an auditor picks
and joins ``audit.load_batch_evidence`` (migration 008): each batch's dataset, status and row
counts, its file, sha256 and archived copy, and its latest validation with the rules that failed.

Read-only: it runs ``select`` statements only, so a login with ``vawg_auditor`` can use it. Nothing
it prints is personal data (marts are counts; validations keep line numbers, never values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

MART_SCHEMA = "marts"
LINEAGE_SCHEMA = "lineage"
DEFAULT_ROW_LIMIT = 20


class TraceError(ValueError):
    """The question cannot be asked as put (unknown mart or column): says what is allowed."""


def lineage_view(mart: str) -> str:
    """The lineage view of a measure mart: mart_reporting_monthly -> lineage_reporting_monthly."""
    return "lineage_" + mart.removeprefix("mart_")


def parse_where(conditions: list[str]) -> dict[str, str]:
    """``["col=value", ...]`` -> ``{"col": "value"}`` (the value is compared as text)."""
    parsed: dict[str, str] = {}
    for condition in conditions:
        column, sep, value = condition.partition("=")
        if not sep or not column.strip():
            raise TraceError(f"--where takes column=value, got {condition!r}")
        parsed[column.strip()] = value.strip()
    return parsed


@dataclass
class BatchEvidence:
    batch_id: int
    dataset: str
    status: str
    file_name: str
    file_sha256: str
    archive_path: str | None
    archive_location: str | None
    archive_present: bool | None
    rows_read: int | None
    rows_loaded: int | None
    published_at: datetime | None
    validation_runs: int
    last_validation_run_id: int | None
    suite_name: str | None
    last_validation_success: bool | None
    critical_failures: int | None
    warning_failures: int | None
    failed_rules: list[dict[str, Any]]
    fact_rows: dict[str, int] = field(default_factory=dict)
    validations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Trace:
    mart: str
    key_columns: list[str]
    where: dict[str, str]
    matched_rows: int
    rows: list[dict[str, Any]]
    batches: list[BatchEvidence]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _mart_columns(conn: psycopg.Connection, mart: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (MART_SCHEMA, mart),
    ).fetchall()
    return [r[0] for r in rows]


def _key_columns(conn: psycopg.Connection, mart: str) -> list[str]:
    """The mart's primary key (its enforced dbt contract), in key order."""
    rows = conn.execute(
        """
        select a.attname
        from pg_catalog.pg_constraint as c
        cross join lateral unnest(c.conkey) with ordinality as k (attnum, position)
        inner join pg_catalog.pg_attribute as a
            on a.attrelid = c.conrelid and a.attnum = k.attnum
        where c.contype = 'p' and c.conrelid = to_regclass(%s)
        order by k.position
        """,
        (f"{MART_SCHEMA}.{mart}",),
    ).fetchall()
    return [r[0] for r in rows]


def available_marts(conn: psycopg.Connection) -> list[str]:
    """The marts that have a lineage view (what ``trace`` can answer for)."""
    rows = conn.execute(
        "select m.table_name from information_schema.tables as m "
        "inner join information_schema.tables as l "
        "on l.table_schema = %s and l.table_name = 'lineage_' || substr(m.table_name, 6) "
        "where m.table_schema = %s and m.table_name like 'mart\\_%%' order by 1",
        (LINEAGE_SCHEMA, MART_SCHEMA),
    ).fetchall()
    return [r[0] for r in rows]


def trace(
    conn: psycopg.Connection,
    mart: str,
    where: dict[str, str],
    archive_root: Path | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
) -> Trace:
    """The mart rows matching ``where`` and the batches, files and validations behind them."""
    marts = available_marts(conn)
    if mart not in marts:
        raise TraceError(f"no lineage for {mart!r}; marts with lineage: {', '.join(marts)}")
    columns = _mart_columns(conn, mart)
    unknown = [c for c in where if c not in columns]
    if unknown:
        raise TraceError(f"{mart} has no column {unknown}; its columns: {', '.join(columns)}")
    keys = _key_columns(conn, mart)
    if not keys:
        raise TraceError(f"{mart} has no primary key: was it built with its enforced contract?")
    mart_table = sql.Identifier(MART_SCHEMA, mart)
    view = sql.Identifier(LINEAGE_SCHEMA, lineage_view(mart))
    compared: list[sql.Composable] = [
        sql.SQL("cast(m.{} as text) = %s").format(sql.Identifier(c)) for c in where
    ]
    condition = sql.SQL(" and ").join(compared or [sql.SQL("true")])
    params = list(where.values())
    key_order = sql.SQL(", ").join(sql.SQL("m.{}").format(sql.Identifier(k)) for k in keys)
    join_on = sql.SQL(" and ").join(
        sql.SQL("l.{k} = m.{k}").format(k=sql.Identifier(k)) for k in keys
    )

    matched = conn.execute(
        sql.SQL("select count(*) from {} as m where {}").format(mart_table, condition), params
    ).fetchone()[0]
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(
            sql.SQL("select m.* from {} as m where {} order by {} limit {}").format(
                mart_table, condition, key_order, sql.Literal(row_limit)
            ),
            params,
        ).fetchall()
    behind = conn.execute(
        sql.SQL(
            "select l.batch_id, l.fact_model, sum(l.fact_row_count)::bigint "
            "from {view} as l inner join {mart} as m on {join_on} where {condition} "
            "group by l.batch_id, l.fact_model order by l.batch_id, l.fact_model"
        ).format(view=view, mart=mart_table, join_on=join_on, condition=condition),
        params,
    ).fetchall()
    fact_rows: dict[int, dict[str, int]] = {}
    for batch_id, fact_model, count in behind:
        fact_rows.setdefault(batch_id, {})[fact_model] = int(count)
    batches = _evidence(conn, fact_rows, archive_root)
    return Trace(mart, keys, where, matched, rows, batches)


def _evidence(
    conn: psycopg.Connection, fact_rows: dict[int, dict[str, int]], archive_root: Path | None
) -> list[BatchEvidence]:
    if not fact_rows:
        return []
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(
            "select batch_id, dataset, status, file_name, file_sha256, archive_path, rows_read, "
            "rows_loaded, published_at, validation_runs, last_validation_run_id, suite_name, "
            "last_validation_success, critical_failures, warning_failures, failed_rules "
            "from audit.load_batch_evidence where batch_id = any(%s) order by batch_id",
            (list(fact_rows),),
        ).fetchall()
    validations = _validations(conn, list(fact_rows))
    evidence = []
    for row in rows:
        location = present = None
        if row["archive_path"] and archive_root is not None:
            path = archive_root / row["archive_path"]
            location, present = str(path), path.is_file()
        evidence.append(
            BatchEvidence(
                archive_location=location,
                archive_present=present,
                fact_rows=fact_rows[row["batch_id"]],
                validations=validations.get(row["batch_id"], []),
                **row,
            )
        )
    return evidence


def _validations(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, list[dict]]:
    """Every validation run of the batches, oldest first, each with the rules that failed."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        runs = cur.execute(
            """
            select r.batch_id, r.validation_run_id, r.suite_name, r.success,
                   r.critical_failures, r.warning_failures, r.finished_at,
                   coalesce(
                       jsonb_agg(
                           jsonb_build_object(
                               'rule', v.rule, 'severity', v.severity,
                               'column', v.column_name, 'unexpected_count', v.unexpected_count,
                               'failing_row_numbers', v.failing_row_numbers
                           )
                           order by v.expectation_index
                       ) filter (where v.validation_run_id is not null),
                       '[]'::jsonb
                   ) as failed_rules
            from audit.validation_run as r
            left join audit.validation_result as v
                on v.validation_run_id = r.validation_run_id and not v.success
            where r.batch_id = any(%s)
            group by r.validation_run_id
            order by r.batch_id, r.finished_at, r.validation_run_id
            """,
            (batch_ids,),
        ).fetchall()
    by_batch: dict[int, list[dict]] = {}
    for run in runs:
        by_batch.setdefault(run.pop("batch_id"), []).append(run)
    return by_batch


def format_trace(result: Trace) -> list[str]:
    """The trace as lines for a terminal."""
    where = " and ".join(f"{k} = {v!r}" for k, v in result.where.items()) or "(all rows)"
    lines = [f"{MART_SCHEMA}.{result.mart} where {where}: {result.matched_rows} row(s)"]
    for row in result.rows:
        key = ", ".join(f"{k}={row[k]}" for k in result.key_columns)
        figures = ", ".join(f"{k}={v}" for k, v in row.items() if k not in result.key_columns)
        lines.append(f"  [{key}] {figures}")
    if result.matched_rows > len(result.rows):
        lines.append(f"  ... {result.matched_rows - len(result.rows)} more row(s) not shown")
    if not result.batches:
        lines.append("no fact rows behind these rows (zeros of the reporting grid)")
        return lines
    lines.append(f"load batches behind them ({len(result.batches)}):")
    for b in result.batches:
        facts = ", ".join(f"{n:,} row(s) of {m}" for m, n in b.fact_rows.items())
        published = f"  published {b.published_at.isoformat()}" if b.published_at else ""
        lines.append(
            f"  batch {b.batch_id}  {b.dataset}  {b.status}  rows read {b.rows_read}  "
            f"loaded {b.rows_loaded}{published}"
        )
        lines.append(f"    counted here: {facts}")
        lines.append(f"    file     {b.file_name}")
        lines.append(f"    sha256   {b.file_sha256}")
        if b.archive_path is None:
            lines.append("    archive  none (registered before the archive existed)")
        else:
            state = {True: "present", False: "MISSING", None: "archive root not given"}
            where_kept = b.archive_location or b.archive_path
            lines.append(f"    archive  {where_kept} ({state[b.archive_present]})")
        if not b.validations:
            lines.append("    validation  none recorded")
        for run in b.validations:
            verdict = "passed" if run["success"] else "FAILED"
            lines.append(
                f"    validation  run {run['validation_run_id']} at "
                f"{run['finished_at'].isoformat()}, suite {run['suite_name']}: {verdict}, "
                f"{run['critical_failures']} critical and {run['warning_failures']} warning "
                "failure(s)"
            )
            for rule in run["failed_rules"]:
                rows = rule["unexpected_count"]
                lines.append(
                    f"      failed ({rule['severity']}): {rule['rule']}"
                    + (f" - {rows} row(s)" if rows is not None else "")
                )
    return lines
