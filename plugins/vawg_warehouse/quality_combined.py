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
could not evaluate) is validated again on its own by :meth:`quality.BatchValidator.validate`, so
its failures, line numbers and failing-rows query come from its own table and no failure is ever
attributed to another batch. Which batches broke a rule GX failed is counted in the database, with
the rule's condition written in SQL (bound parameters; no cell value leaves the database), and
the counts must add up to GX's count of unexpected rows: if they do not, every batch of the group
is validated alone. (GX's own failing-rows SQL cannot serve: it writes a value with an apostrophe
in double quotes, and for uniqueness over two columns it writes a cross join.)

Batches over COMBINE_MAX_BYTES are validated alone: beside the scan of a big table GX's overhead
is small, and copying it would only add work. So is every batch of a suite with a rule this module
does not know how to combine (say, one with ``mostly``): correctness first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import psycopg
from psycopg import sql

from vawg_warehouse.contracts import Contract
from vawg_warehouse.quality import (
    COUNTS_FORMAT,
    QUERY_RULE,
    BatchValidator,
    SuiteFile,
    ValidationReport,
    _expectation_result,
    _fill_batch,
    _gx,
    _iso_timestamp,
    read_suite,
    run_parameters,
    split_table,
)

log = logging.getLogger(__name__)

BATCH_COLUMN = "_batch_id"
PARAMETER_COLUMN = "_parameter_{}"
# Copying a batch costs about 5 us a row; validating it alone costs GX about 0.2 s more than
# validating it with others: beyond roughly 40,000 rows (10 MB of landing table) copying loses.
COMBINE_MAX_BYTES = 8 << 20
COMBINED = "counts, then row numbers of failures; rows checked with other batches of the run"
ISO_BETWEEN = "expect_column_values_to_be_iso_text_between"
ISO_BETWEEN_COLUMNS = "expect_column_values_to_be_iso_text_between_columns"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
NOT_NULL = "expect_column_values_to_not_be_null"
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
COLUMNS_RULE = "expect_table_columns_to_match_set"
ROW_COUNT_RULE = "expect_table_row_count_to_be_between"

# The expectations this module can combine, with every keyword each may carry. A suite with any
# other type or keyword (mostly, row_condition, strict bounds...) is validated batch by batch.
ROW_RULES: dict[str, frozenset[str]] = {
    NOT_NULL: frozenset({"column"}),
    "expect_column_values_to_match_regex": frozenset({"column", "regex"}),
    "expect_column_values_to_be_in_set": frozenset({"column", "value_set"}),
    ISO_BETWEEN: frozenset({"column", "min_value", "max_value"}),
    PAIR: frozenset({"column_A", "column_B", "or_equal", "ignore_row_if"}),
    UNIQUE: frozenset({"column"}),
}
TABLE_RULES: dict[str, frozenset[str]] = {
    COLUMNS_RULE: frozenset({"column_set", "exact_match"}),
    ROW_COUNT_RULE: frozenset({"min_value", "max_value"}),
    QUERY_RULE: frozenset({"unexpected_rows_query"}),
}
# Which rows GX counts as judged (its "nonnull" count) for a column pair, by ignore_row_if.
PAIR_JUDGED = {
    "either_value_is_missing": "{a} is not null and {b} is not null",
    "both_values_are_missing": "{a} is not null or {b} is not null",
    "neither": "true",
}


@dataclass(frozen=True)
class BatchToValidate:
    """One landing table to validate, with what :func:`quality.run_parameters` needs."""

    batch_id: int
    table: str  # landing.<dataset>__b<batch_id>
    parameters: dict[str, Any] | None = None
    file_name: str | None = None
    run_date: date | None = None


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
    stamp = _iso_timestamp(stamp) if isinstance(stamp, datetime) else stamp
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
    kinds = _kinds(file)
    reports: dict[int, ValidationReport] = {}
    if kinds is not None and len(batches) > 1:
        with psycopg.connect(validator.conn_info.url, autocommit=True) as conn:
            tables = _landing_tables(conn, [b.table for b in batches])
            expected = _column_set(file)
            small = [
                b
                for b in batches
                if (t := tables.get(split_table(b.table))) is not None
                and set(t.columns) == expected
                and t.size_bytes <= COMBINE_MAX_BYTES
            ]
            small = [b for b in small if _countable(file, kinds, params[b.batch_id])]
            for group in _groups(file, kinds, small, params):
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


# --------------------------------------------------------------------------------------------
# Which rules combine, and how
# --------------------------------------------------------------------------------------------


def _kinds(file: SuiteFile) -> tuple[str, ...] | None:
    """Each expectation's kind (row, columns, row_count, query), or None if one does not fit."""
    kinds = []
    for e in file.expectations:
        kwargs = e.get("kwargs") or {}
        if e["type"] in ROW_RULES and set(kwargs) <= ROW_RULES[e["type"]]:
            kinds.append("row")
        elif e["type"] == COLUMNS_RULE and set(kwargs) <= TABLE_RULES[COLUMNS_RULE]:
            if kwargs.get("exact_match") is not True:
                return None
            kinds.append("columns")
        elif e["type"] == ROW_COUNT_RULE and set(kwargs) <= TABLE_RULES[ROW_COUNT_RULE]:
            kinds.append("row_count")
        elif e["type"] == QUERY_RULE and set(kwargs) <= TABLE_RULES[QUERY_RULE]:
            if not isinstance(kwargs.get("unexpected_rows_query"), str):
                return None  # a parameterised query: judged with GX, batch by batch
            kinds.append("query")
        else:
            return None
    if kinds.count("columns") != 1:
        return None  # the scratch table is built from the contract's column set
    return tuple(kinds)


def _countable(file: SuiteFile, kinds: Sequence[str], params: dict[str, Any]) -> bool:
    """Whether the row-count rules' bounds are whole numbers (or none), as GX compares them."""
    return all(
        _resolve(e["kwargs"].get(k), params) is None
        or type(_resolve(e["kwargs"].get(k), params)) is int
        for e, kind in zip(file.expectations, kinds, strict=True)
        if kind == "row_count"
        for k in ("min_value", "max_value")
    )


def _column_set(file: SuiteFile) -> set[str]:
    (rule,) = [e for e in file.expectations if e["type"] == COLUMNS_RULE]
    return set(rule["kwargs"]["column_set"])


def _parameter(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        return value["$PARAMETER"]
    return None


def _parameters_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        name = _parameter(value)
        return {name} if name else set().union(*(_parameters_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_parameters_in(v) for v in value))
    return set()


def _as_columns(file: SuiteFile, kinds: Sequence[str], params: dict[int, dict]) -> set[str]:
    """Parameters that differ between the batches and bound an ISO rule: they become columns."""
    varying = _varying(params)
    found = set()
    for e, kind in zip(file.expectations, kinds, strict=True):
        if kind == "row" and e["type"] == ISO_BETWEEN:
            for bound in ("min_value", "max_value"):
                name = _parameter(e["kwargs"].get(bound))
                if name in varying and all(isinstance(p.get(name), str) for p in params.values()):
                    found.add(name)
    return found


def _varying(params: dict[int, dict]) -> set[str]:
    """The parameters whose values are not the same for every batch."""
    values = list(params.values())
    keys = set().union(*values)
    return {k for k in keys if any(p.get(k) != values[0].get(k) for p in values)}


def _groups(
    file: SuiteFile,
    kinds: Sequence[str],
    batches: list[BatchToValidate],
    params: dict[int, dict],
) -> list[list[BatchToValidate]]:
    """Batches that can share one run: the same value of every parameter a rule on rows reads,
    except the ISO bounds that become columns."""
    if len(batches) < 2:
        return [batches]
    mine = {b.batch_id: params[b.batch_id] for b in batches}
    varying = _varying(mine) - _as_columns(file, kinds, mine)
    read = set().union(
        *(
            _parameters_in(e.get("kwargs"))
            for e, kind in zip(file.expectations, kinds, strict=True)
            if kind == "row"
        )
    )
    keys = sorted(varying & read)
    groups: dict[str, list[BatchToValidate]] = {}
    for b in batches:
        key = json.dumps([mine[b.batch_id].get(k) for k in keys], sort_keys=True, default=str)
        groups.setdefault(key, []).append(b)
    return list(groups.values())


def _combined_expectations(
    file: SuiteFile, kinds: Sequence[str], as_columns: set[str]
) -> tuple[list[dict], list[int]]:
    """The suite's rules on rows, written for the scratch table; and their indexes in the file."""
    written, indexes = [], []
    for index, (e, kind) in enumerate(zip(file.expectations, kinds, strict=True)):
        if kind != "row":
            continue
        kwargs = dict(e["kwargs"])
        type_ = e["type"]
        if type_ == UNIQUE:
            type_ = COMPOUND_UNIQUE
            kwargs = {
                "column_list": [BATCH_COLUMN, kwargs["column"]],
                "ignore_row_if": "any_value_is_missing",  # as the column rule ignores nulls
            }
        elif type_ == ISO_BETWEEN:
            for bound in ("min", "max"):
                name = _parameter(kwargs.get(f"{bound}_value"))
                if name in as_columns:
                    del kwargs[f"{bound}_value"]
                    kwargs[f"{bound}_column"] = PARAMETER_COLUMN.format(name)
            if any(k.endswith("_column") for k in kwargs):
                type_ = ISO_BETWEEN_COLUMNS
        written.append(
            {"type": type_, "kwargs": kwargs, "severity": e["severity"], "meta": e["meta"]}
        )
        indexes.append(index)
    return written, indexes


# --------------------------------------------------------------------------------------------
# One group of batches
# --------------------------------------------------------------------------------------------


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
    as_columns = _as_columns(file, kinds, mine)
    scratch = (split_table(group[0].table)[0], f"{contract.dataset}__together_b{group[0].batch_id}")
    split_table(".".join(scratch))  # a plain identifier, or ValueError
    columns = sorted(_column_set(file))
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
            gx_version=_gx().version,
            result_format=COMBINED,
            parameters={k: mine[b.batch_id][k] for k in ("extract_date", "as_of")},
            results=_passing_results(
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
        key = _judged_key(e) if kind == "row" else None
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


def _judged_key(e: dict) -> str | None:
    """Which count GX divides by for a rule on rows (None: the table's rows, for not-null)."""
    if e["type"] == NOT_NULL:
        return None
    if e["type"] == PAIR:
        kw = e["kwargs"]
        return f"pair:{kw['column_A']}:{kw['column_B']}:{kw.get('ignore_row_if')}"
    return f"column:{e['kwargs']['column']}"


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
    expectations, indexes = _combined_expectations(file, kinds, as_columns)
    everyone = {b.batch_id for b in group}
    if not expectations:
        return set()
    validator._ensure_datasource()
    suite_name = f"{file.name}:together"
    asset_name = ".".join(scratch)
    validator._forget_asset(asset_name)
    if suite_name in {s.name for s in validator._context.suites.all()}:
        validator._context.suites.delete(suite_name)
    suite = validator._add_suite(suite_name, expectations)
    shared = params[group[0].batch_id]
    try:
        index_by_id = {str(e.id): indexes[i] for i, e in enumerate(suite.expectations)}
        batch_definition = validator._batch_definition(asset_name, *scratch)
        results = validator._run(suite, index_by_id, file, batch_definition, shared, COUNTS_FORMAT)
    finally:
        validator._context.suites.delete(suite_name)
        validator._forget_asset(asset_name)
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


def unexpected_condition(
    e: dict, params: dict[str, Any]
) -> tuple[sql.Composable, list[Any]] | None:
    """SQL true for a row that breaks a rule on rows (as written for the scratch table), with
    its parameters: the condition GX builds for that expectation. None for uniqueness (not a
    condition on one row) and for rules this module does not combine."""
    kw = e["kwargs"]
    column = sql.Identifier(kw["column"]) if "column" in kw else None
    values: list[Any] = []
    if e["type"] == NOT_NULL:
        return sql.SQL("{} is null").format(column), values
    if e["type"] == "expect_column_values_to_match_regex":
        where = sql.SQL("{c} is not null and not ({c} ~ %s)").format(c=column)
        return where, [_resolve(kw["regex"], params)]
    if e["type"] == "expect_column_values_to_be_in_set":
        allowed = _resolve(kw["value_set"], params)
        if not isinstance(allowed, list) or any(v is None for v in allowed):
            return None
        return sql.SQL("{c} is not null and not ({c} = any(%s))").format(c=column), [allowed]
    if e["type"] in (ISO_BETWEEN, ISO_BETWEEN_COLUMNS):
        within = []
        for bound, compare in (("min", ">="), ("max", "<=")):
            if kw.get(f"{bound}_column"):
                other = sql.Identifier(kw[f"{bound}_column"])
                within.append(sql.SQL("left({c}, length({o})) " + compare + " {o}").format(
                    c=column, o=other
                ))  # fmt: skip
            elif (value := _resolve(kw.get(f"{bound}_value"), params)) is not None:
                within.append(sql.SQL("left({c}, %s) " + compare + " %s").format(c=column))
                values += [len(value), value]
        where = sql.SQL("{c} ~ {date} and not ({within})").format(
            c=column,
            date=sql.Literal("^[0-9]{4}-[0-9]{2}-[0-9]{2}"),
            within=sql.SQL(" and ").join(within) if within else sql.SQL("true"),
        )
        return where, values
    if e["type"] == PAIR:
        a, b = sql.Identifier(kw["column_A"]), sql.Identifier(kw["column_B"])
        judged = PAIR_JUDGED[kw.get("ignore_row_if", "both_values_are_missing")]
        greater = ">=" if kw.get("or_equal") else ">"
        where = sql.SQL("(" + judged + ") and not ({a} " + greater + " {b})").format(a=a, b=b)
        return where, values
    return None


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
            query = _fill_batch(written, table).strip().rstrip(";")
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


def _passing_results(
    file: SuiteFile,
    kinds: Sequence[str],
    columns: Sequence[str],
    counted: dict[str, int],
    params: dict[str, Any],
) -> tuple:
    """Each expectation's result on a batch none of whose rules on rows failed, as GX words it
    (the formulas of its map expectations and table metrics), read like GX's own results."""
    n = counted["rows"]
    results = []
    for index, (e, kind) in enumerate(zip(file.expectations, kinds, strict=True)):
        success = True
        if kind == "columns":
            body: dict[str, Any] = {"observed_value": sorted(columns)}
        elif kind == "row_count":
            low, high = (_resolve(e["kwargs"].get(k), params) for k in ("min_value", "max_value"))
            success = (low is None or n >= low) and (high is None or n <= high)
            body = {"observed_value": n}
        elif kind == "query":
            body = {"observed_value": 0}
        else:
            key = _judged_key(e)
            judged = n if key is None else counted[key]
            body = {
                "element_count": n,
                "unexpected_count": 0,
                "unexpected_percent": 0.0 if n > 0 and judged > 0 else None,
            }
        gx_result = SimpleNamespace(result=body, success=success, exception_info=None)
        results.append(_expectation_result(gx_result, file, index))
    return tuple(results)


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    name = _parameter(value)
    return params.get(name) if name else value
