"""Many load batches of one dataset validated in one Great Expectations run, each batch still
getting the report it would have had alone.

A night after an outage, or a backfill, brings hundreds of small daily files of one dataset.
Validated one by one, each file pays about 0.2 s of Great Expectations' own work (batch, metrics,
results) for a few hundred rows of SQL. Here the run's small batches of a dataset are copied into
one scratch table, ``landing.<dataset>__together_b<first batch id>``, with ``_batch_id`` as a
column, and the suite runs once on it:

* rules on rows (not null, patterns, allowed values, ISO bounds, column pairs) run as written. A
  bound that differs by batch (``extract_date``) becomes a column of the scratch table, read by
  the internal ``expect_column_values_to_be_iso_text_between_columns``; "unique within the file"
  becomes unique over (``_batch_id``, column);
* rules on the table (its columns, row count, volume against recent files) are answered for each
  batch from the catalog and one grouped count, with GX's own formulas;
* query rules (``unexpected_rows_expectation``) run their SQL on each batch's own landing table.

Every combined rule judges one row of one batch at a time, so a rule that passes on the whole
passes on every batch, and a batch for which nothing failed gets, for each expectation, exactly
what GX reports for that expectation passing on it alone: its row count, no unexpected row and
GX's percentage (0, or none when no row was judged). A batch with anything to report (a rule on
rows broken by one of its rows, an empty table, columns other than the contract's, a rule GX
could not evaluate) is validated again on its own by :meth:`validator.BatchValidator.validate`, so
its failures, line numbers and failing-rows query come from its own table and no failure is ever
attributed to another batch. Which batches broke a rule GX failed is counted in the database, with
the rule's condition written in SQL (bound parameters; no cell value leaves the database), and
the counts must add up to GX's count of unexpected rows: if they do not, every batch of the group
is validated alone. (GX's own failing-rows SQL cannot serve: it writes a value with an apostrophe
in double quotes, and for uniqueness over two columns it writes a cross join.)

Batches over COMBINE_MAX_BYTES are validated alone: beside the scan of a big table GX's overhead
is small, and copying it would only add work. So is every batch of a suite with a rule this module
does not know how to combine (say, one with ``mostly``): correctness first.

The GX run goes through the validator's public API (:meth:`BatchValidator.run_expectations`);
which rules combine, and how, is ``combine.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from vawg_warehouse.ingest.contracts import Contract
from vawg_warehouse.validate.combine import (
    BATCH_COLUMN,
    COMBINED,
    COMPOUND_UNIQUE,
    PAIR,
    PAIR_JUDGED,
    PARAMETER_COLUMN,
    BatchToValidate,
    column_set,
    combined_expectations,
    countable,
    groups,
    judged_key,
    parameter_columns,
    passing_results,
    rule_kinds,
    unexpected_condition,
)
from vawg_warehouse.validate.results import ValidationReport
from vawg_warehouse.validate.suites import (
    SuiteFile,
    fill_batch,
    iso_timestamp,
    read_suite,
    run_parameters,
    split_table,
)
from vawg_warehouse.validate.validator import BatchValidator

log = logging.getLogger(__name__)


# Copying a batch costs about 5 us a row; validating it alone costs GX about 0.2 s more than
# validating it with others: beyond roughly 40,000 rows (10 MB of landing table) copying loses.
COMBINE_MAX_BYTES = 8 << 20


@dataclass(frozen=True)
class _Table:
    columns: tuple[str, ...]
    size_bytes: int


def validate_together(
    validator: BatchValidator,
    contract: Contract,
    batches: Sequence[BatchToValidate],
    *,
    as_of: datetime | str | None = None,
    dag_run_id: str | None = None,
) -> list[ValidationReport]:
    """A report for each batch, in the order given, as :meth:`BatchValidator.validate` of that
    batch alone would give it (``result_format`` says which way it was validated).

    Every batch is judged at the same ``as_of`` (default: now). Small batches are validated
    together (see the module's docstring); the others, and every batch with something to
    report, one by one."""
    stamp = as_of if as_of is not None else datetime.now(UTC)
    stamp = iso_timestamp(stamp) if isinstance(stamp, datetime) else stamp
    params = {
        b.batch_id: run_parameters(
            contract,
            {"as_of": stamp, **(b.parameters or {})},
            file_name=b.file_name,
            run_date=b.run_date,
            seeds=validator.seeds,
        )
        for b in batches
    }
    if len({b.batch_id for b in batches}) != len(batches):
        raise ValueError("each batch may be validated once per call")
    file = read_suite(contract.dataset, validator.suites)
    kinds = rule_kinds(file)
    reports: dict[int, ValidationReport] = {}
    if kinds is not None and len(batches) > 1:
        with psycopg.connect(validator.conn_info.url, autocommit=True) as conn:
            tables = _landing_tables(conn, [b.table for b in batches])
            expected = column_set(file)
            small = [
                b
                for b in batches
                if (t := tables.get(split_table(b.table))) is not None
                and set(t.columns) == expected
                and t.size_bytes <= COMBINE_MAX_BYTES
            ]
            small = [b for b in small if countable(file, kinds, params[b.batch_id])]
            for group in groups(file, kinds, small, params):
                if len(group) < 2:
                    continue
                try:
                    reports.update(
                        _validate_group(
                            validator,
                            conn,
                            contract,
                            file,
                            kinds,
                            group,
                            tables,
                            params,
                            dag_run_id,
                        )
                    )
                except Exception as exc:  # noqa: BLE001 - each batch is then validated alone
                    # The type only: a database message may quote a value.
                    log.warning(
                        "%s: %d batches could not be validated together (%s): one by one instead",
                        contract.dataset,
                        len(group),
                        type(exc).__name__,
                    )
    for b in batches:
        if b.batch_id not in reports:
            reports[b.batch_id] = validator.validate(
                contract,
                b.table,
                batch_id=b.batch_id,
                parameters=params[b.batch_id],
                dag_run_id=dag_run_id,
            )
    return [reports[b.batch_id] for b in batches]


def _landing_tables(conn: psycopg.Connection, tables: list[str]) -> dict[tuple[str, str], _Table]:
    """Columns (in table order) and size of each table that exists, by (schema, name)."""
    names = [split_table(t) for t in tables]
    rows = conn.execute(
        """
        select n.nspname, c.relname, pg_total_relation_size(c.oid),
               array(
                   select a.attname::text from pg_attribute as a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                   order by a.attnum
               )
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p')
          and (n.nspname, c.relname) in (select * from unnest(%s::text[], %s::text[]))
        """,
        ([s for s, _ in names], [n for _, n in names]),
    ).fetchall()
    return {(s, n): _Table(tuple(columns), int(size)) for s, n, size, columns in rows}


def _validate_group(
    validator: BatchValidator,
    conn: psycopg.Connection,
    contract: Contract,
    file: SuiteFile,
    kinds: Sequence[str],
    group: list[BatchToValidate],
    tables: dict[tuple[str, str], _Table],
    params: dict[int, dict],
    dag_run_id: str | None,
) -> dict[int, ValidationReport]:
    """Reports of the group's batches that had nothing to report; the others are left out (the
    caller validates them alone)."""
    began = time.perf_counter()
    started_at = datetime.now(UTC)
    mine = {b.batch_id: params[b.batch_id] for b in group}
    as_columns = parameter_columns(file, kinds, mine)
    scratch = (split_table(group[0].table)[0], f"{contract.dataset}__together_b{group[0].batch_id}")
    split_table(".".join(scratch))  # a plain identifier, or ValueError
    columns = sorted(column_set(file))
    _create_scratch(conn, scratch, group, columns, as_columns, mine)
    try:
        counted = _count(conn, scratch, file, kinds, group)
        retry = _failed_together(validator, conn, file, kinds, scratch, group, as_columns, mine)
    finally:
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(*scratch)))
    retry |= _failed_queries(conn, file, kinds, group)
    retry |= {b.batch_id for b in group if counted[b.batch_id]["rows"] == 0}  # GX: empty table
    finished_at = datetime.now(UTC)
    reports = {}
    for b in group:
        if b.batch_id in retry:
            continue
        schema_name = split_table(b.table)
        reports[b.batch_id] = ValidationReport(
            dataset=contract.dataset,
            table=".".join(schema_name),
            batch_id=b.batch_id,
            suite_name=file.name,
            suite_sha256=file.sha256,
            gx_version=validator.gx_version,
            result_format=COMBINED,
            parameters={k: mine[b.batch_id][k] for k in ("extract_date", "as_of")},
            results=passing_results(
                file, kinds, tables[schema_name].columns, counted[b.batch_id], mine[b.batch_id]
            ),
            started_at=started_at,
            finished_at=finished_at,
            dag_run_id=dag_run_id,
        )
    log.info(
        "validated %d batches of %s together in %.2f s; %d to validate alone",
        len(group),
        contract.dataset,
        time.perf_counter() - began,
        len(retry),
    )
    return reports


def _create_scratch(
    conn: psycopg.Connection,
    scratch: tuple[str, str],
    group: list[BatchToValidate],
    columns: list[str],
    as_columns: set[str],
    params: dict[int, dict],
) -> None:
    """landing.<dataset>__together_b<id>: the group's rows, with their batch id and the batch's
    parameters that became columns. Unlogged: scratch, dropped after the run."""
    names = sorted(as_columns)
    arms = [
        sql.SQL("select {id}::bigint as {batch}, {parameters}{columns} from {table}").format(
            id=sql.Literal(b.batch_id),
            batch=sql.Identifier(BATCH_COLUMN),
            parameters=sql.SQL("").join(
                sql.SQL("{}::text as {}, ").format(
                    sql.Literal(params[b.batch_id][n]), sql.Identifier(PARAMETER_COLUMN.format(n))
                )
                for n in names
            ),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            table=sql.Identifier(*split_table(b.table)),
        )
        for b in group
    ]
    target = sql.Identifier(*scratch)
    conn.execute(sql.SQL("drop table if exists {}").format(target))
    conn.execute(
        sql.SQL("create unlogged table {} as {}").format(target, sql.SQL(" union all ").join(arms))
    )


def _count(
    conn: psycopg.Connection,
    scratch: tuple[str, str],
    file: SuiteFile,
    kinds: Sequence[str],
    group: list[BatchToValidate],
) -> dict[int, dict[str, int]]:
    """For each batch: its rows, and the rows each rule on rows judges (GX's "nonnull")."""
    judged: dict[str, sql.Composable] = {}
    for e, kind in zip(file.expectations, kinds, strict=True):
        key = judged_key(e) if kind == "row" else None
        if key is None or key in judged:
            continue
        if e["type"] == PAIR:
            a, b = (sql.Identifier(e["kwargs"][c]) for c in ("column_A", "column_B"))
            where = PAIR_JUDGED[e["kwargs"].get("ignore_row_if", "both_values_are_missing")]
            judged[key] = sql.SQL("count(*) filter (where " + where + ")").format(a=a, b=b)
        else:
            judged[key] = sql.SQL("count({})").format(sql.Identifier(e["kwargs"]["column"]))
    keys = list(judged)
    rows = conn.execute(
        sql.SQL("select {batch}, count(*){extra} from {scratch} group by {batch}").format(
            batch=sql.Identifier(BATCH_COLUMN),
            extra=sql.SQL("").join(sql.SQL(", ") + judged[k] for k in keys),
            scratch=sql.Identifier(*scratch),
        )
    ).fetchall()
    counted = {b.batch_id: {"rows": 0, **dict.fromkeys(keys, 0)} for b in group}
    for batch_id, n, *rest in rows:
        counted[int(batch_id)] = {"rows": int(n), **dict(zip(keys, map(int, rest), strict=True))}
    return counted


def _failed_together(
    validator: BatchValidator,
    conn: psycopg.Connection,
    file: SuiteFile,
    kinds: Sequence[str],
    scratch: tuple[str, str],
    group: list[BatchToValidate],
    as_columns: set[str],
    params: dict[int, dict],
) -> set[int]:
    """One GX run of the rules on rows over the scratch table; the batches that broke any."""
    expectations, indexes = combined_expectations(file, kinds, as_columns)
    everyone = {b.batch_id for b in group}
    if not expectations:
        return set()
    shared = params[group[0].batch_id]
    results = validator.run_expectations(
        f"{file.name}:together",
        expectations,
        ".".join(scratch),
        file=file,
        indexes=indexes,
        parameters=shared,
    )
    if len(results) != len(expectations):
        return everyone
    written = dict(zip(indexes, expectations, strict=True))
    failed: set[int] = set()
    for index, result in results.items():
        if result.success:
            continue
        if result.error or not result.unexpected_count:
            return everyone  # each batch is judged alone, where GX says what went wrong
        by_batch = _unexpected_by_batch(conn, scratch, written[index], shared)
        if by_batch is None or sum(by_batch.values()) != result.unexpected_count:
            return everyone  # the split does not add up to GX's count: trust GX, batch by batch
        failed |= set(by_batch)
    return failed


def _unexpected_by_batch(
    conn: psycopg.Connection, scratch: tuple[str, str], e: dict, params: dict[str, Any]
) -> dict[int, int] | None:
    """How many of each batch's rows broke a rule GX failed on the scratch table, counted with
    the same condition as GX's and bound parameters (GX's own rendering of its failing-rows SQL
    puts a value with an apostrophe in double quotes). None for a rule this cannot split."""
    batch, table = sql.Identifier(BATCH_COLUMN), sql.Identifier(*scratch)
    if e["type"] == COMPOUND_UNIQUE:
        other = sql.Identifier(e["kwargs"]["column_list"][1])
        query = sql.SQL(
            "select {batch}, sum(n) from (select {batch}, count(*) as n from {table} "
            "where {other} is not null group by {batch}, {other} having count(*) > 1) as repeated "
            "group by {batch}"
        ).format(batch=batch, other=other, table=table)
        values: list[Any] = []
    else:
        found = unexpected_condition(e, params)
        if found is None:
            return None
        where, values = found
        query = sql.SQL(
            "select {batch}, count(*) from {table} where {where} group by {batch}"
        ).format(batch=batch, table=table, where=where)
    return {int(b): int(n) for b, n in conn.execute(query, values).fetchall()}


def _failed_queries(
    conn: psycopg.Connection, file: SuiteFile, kinds: Sequence[str], group: list[BatchToValidate]
) -> set[int]:
    """The batches for which a query rule's own SQL, on their own table, returns any row."""
    failed = set()
    queries = [
        e["kwargs"]["unexpected_rows_query"]
        for e, kind in zip(file.expectations, kinds, strict=True)
        if kind == "query"
    ]
    for b in group:
        table = ".".join(split_table(b.table))
        for written in queries:
            query = fill_batch(written, table).strip().rstrip(";")
            try:
                (n,) = conn.execute(
                    sql.SQL("select count(*) from ({}) as unexpected").format(sql.SQL(query))
                ).fetchone()
            except psycopg.Error:
                n = None  # GX, on the batch alone, will say what is wrong with it
            if n != 0:
                failed.add(b.batch_id)
                break
    return failed
