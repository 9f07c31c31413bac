"""Data quality: validate a load batch in PostgreSQL with Great Expectations, before publication.

Each dataset has one suite, readable JSON reviewed like code:
``expectations/expectations/<dataset>.json``.
Every expectation carries GX's own ``severity`` (``critical``: the batch is quarantined;
``warning``: it is published and the failure flagged) and a short human name in ``meta.rule``.

Everything else is rebuilt in code: an ephemeral context, a Postgres datasource, one table asset per
landing table (``landing.<dataset>__b<batch_id>``, every contract column text), a whole-table batch
definition and a ValidationDefinition. The checks run as SQL in the warehouse; no row is pulled
into pandas. The result format asks for unexpected counts and up to 20 failing ``_row_number``s
(file line numbers) per expectation, never the unexpected values: they can be personal data.

Allowed-value lists are never copied into the suites: run-time suite parameters carry them, from the
dbt seed CSVs (``allowed_values: seed <name>`` in the contract) or the contract's own lists. The
other parameters are ``extract_date`` (the file's date) and ``as_of`` (when the validation runs).

Great Expectations takes 7-13 s to import, so it is imported on first use, never at module import.
A :class:`BatchValidator` keeps its context and datasource for the life of the process: a nightly
run validating hundreds of small daily files pays the set-up once (see :func:`validate_batch`).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import logging
import math
import operator
import re
import statistics
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest.contracts import Contract
from vawg_warehouse.warehouse import ConnectionInfo, connection_info

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

SEVERITIES = ("critical", "warning")
ROW_NUMBER_COLUMN = "_row_number"
MAX_FAILING_ROWS = 20
DEFAULT_SCHEMA = "landing"

# How much GX reports, and what it costs. GX's SUMMARY format runs two extra queries per
# expectation (unexpected values, then unexpected row indexes, each LIMIT 20) even when nothing
# fails: on a clean table each is a full scan, so a clean 1M-row batch took 4x as long as
# BOOLEAN_ONLY. So validation runs in two passes:
#   1. COUNTS_FORMAT on the whole suite: the counts (element, unexpected, percent) and the
#      table-level observed values, at about the cost of BOOLEAN_ONLY (the value query is LIMIT 0);
#   2. ROWS_FORMAT on the expectations that failed pass 1, if any: up to 20 failing _row_numbers.
#      Query rules (UnexpectedRowsExpectation) return their rows only in COMPLETE: each query
#      selects _row_number alone (a test holds the suites to that), so COMPLETE is safe for them.
# Neither asks GX for the unexpected values: they can be personal data.
COUNTS_FORMAT: dict[str, Any] = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}
# Pass 2 also asks for the SQL that selects every failing row (GX renders it with the suite's
# values inline): row-level quarantine runs it in the database to set those rows aside.
ROWS_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": MAX_FAILING_ROWS,
    "unexpected_index_column_names": [ROW_NUMBER_COLUMN],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": True,
}
QUERY_ROWS_FORMAT: dict[str, Any] = {"result_format": "COMPLETE"}
QUERY_RULE = "unexpected_rows_expectation"
# Pass/fail only (no counts, no line numbers): for comparison, see the timings in the report.
BOOLEAN_ONLY: dict[str, Any] = {"result_format": "BOOLEAN_ONLY"}
TWO_PASS = "counts, then row numbers of failures"

# Volume against recent batches (a warning rule in every suite): a file's row count should lie
# between VOLUME_LOW and VOLUME_HIGH times the median of the last VOLUME_WINDOW published files
# of its series (see recent_volumes); with fewer than VOLUME_MIN_HISTORY there is no bound yet.
VOLUME_MIN_PARAMETER = "recent_volume_min"
VOLUME_MAX_PARAMETER = "recent_volume_max"
VOLUME_WINDOW = 28
VOLUME_MIN_HISTORY = 5
VOLUME_LOW, VOLUME_HIGH = 0.25, 4.0

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$")
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


class QualityError(RuntimeError):
    """A batch could not be validated (as opposed to: it was validated and failed)."""


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation of the suite on one batch. Never holds data values."""

    index: int  # position in the suite file
    rule: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    failing_row_numbers: tuple[int, ...] = ()
    observed_value: Any = None  # table-level expectations only (row count, column list)
    # The kwargs as written in the suite file: parameters unresolved, so never a value list.
    kwargs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # set when GX could not evaluate the expectation
    # SQL selecting the _row_number of every failing row (row-level rules that failed, after
    # pass 2); None for table-level rules and when GX gives none. Never stored, never logged.
    failing_rows_query: str | None = None

    @property
    def is_critical(self) -> bool:
        return self.severity == "critical"


@dataclass(frozen=True)
class ValidationReport:
    dataset: str
    table: str
    batch_id: int
    suite_name: str
    suite_sha256: str
    gx_version: str
    result_format: str
    parameters: dict[str, str]  # extract_date, as_of (the allowed-value lists are left out)
    results: tuple[ExpectationResult, ...]
    started_at: datetime
    finished_at: datetime
    dag_run_id: str | None = None

    @property
    def failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success]

    @property
    def critical_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failures if r.severity == "critical"]

    @property
    def warning_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failures if r.severity != "critical"]

    @property
    def success(self) -> bool:
        """No critical failure: the batch may be published (warnings are flagged, not blocking)."""
        return not self.critical_failures

    def failed_rules(self) -> list[str]:
        """The rules that failed, critical first (for event details and logs: no data values)."""
        return [r.rule for r in self.critical_failures + self.warning_failures]

    @property
    def all_passed(self) -> bool:
        return not self.failures

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


# --------------------------------------------------------------------------------------------
# Suites and parameters
# --------------------------------------------------------------------------------------------


def suites_dir() -> Path:
    return get_settings().expectations_dir / "expectations"


def seeds_dir() -> Path:
    return get_settings().dbt_project_dir / "seeds" / "reference"


def suite_path(dataset: str, directory: Path | None = None) -> Path:
    return (directory or suites_dir()) / f"{dataset}.json"


@dataclass(frozen=True)
class SuiteFile:
    """A suite file as reviewed: its parsed JSON and the sha256 of its bytes."""

    path: Path
    sha256: str
    definition: dict[str, Any]

    @property
    def name(self) -> str:
        return self.definition["name"]

    @property
    def expectations(self) -> list[dict[str, Any]]:
        return self.definition["expectations"]


def read_suite(dataset: str, directory: Path | None = None) -> SuiteFile:
    path = suite_path(dataset, directory)
    if not path.exists():
        raise QualityError(f"no expectation suite for dataset {dataset!r} (looked for {path})")
    raw = path.read_bytes()
    definition = json.loads(raw)
    for index, expectation in enumerate(definition.get("expectations", [])):
        severity = expectation.get("severity")
        rule = (expectation.get("meta") or {}).get("rule")
        if severity not in SEVERITIES or not rule:
            raise QualityError(
                f"{path.name}: expectation {index} ({expectation.get('type')}) needs a severity "
                f"({' or '.join(SEVERITIES)}) and a meta.rule"
            )
    return SuiteFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), definition=definition)


def allowed_value_parameter(column_name: str, allowed: tuple[str, ...] | str) -> str:
    """The suite parameter that carries a column's allowed values."""
    if isinstance(allowed, str):
        return f"seed_{_seed_name(allowed)}"
    return f"contract_{column_name}"


def _seed_name(allowed: str) -> str:
    kind, _, name = allowed.partition(" ")
    if kind != "seed" or not name:
        raise ValueError(f"allowed_values must be a list or 'seed <name>', got {allowed!r}")
    return name.strip()


def read_seed_values(seed: str, column: str, directory: Path | None = None) -> list[str]:
    """A dbt seed's key column: the one named like the contract's column, else the first."""
    path = (directory or seeds_dir()) / f"{seed}.csv"
    stat = path.stat()
    return list(_read_seed_values(path, column, stat.st_mtime_ns, stat.st_size))


@cache
def _read_seed_values(path: Path, column: str, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if not fields:
            raise QualityError(f"seed {path.name} is empty")
        key = column if column in fields else fields[0]
        values = [row[key].strip() for row in reader if row.get(key, "").strip()]
    if not values:
        raise QualityError(f"seed {path.name} has no values in column {key!r}")
    return tuple(dict.fromkeys(values))


def extract_date_from_file_name(file_name: str) -> date | None:
    """The extract date in a landing file's name (``crimes_2025-03-02.csv`` -> 2025-03-02)."""
    match = _DATE_IN_NAME.search(Path(file_name).name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _iso_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_date(value: Any, name: str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"{name} must be a date or YYYY-MM-DD, got {value!r}")
    return value


def run_parameters(
    contract: Contract,
    parameters: dict[str, Any] | None = None,
    *,
    file_name: str | None = None,
    run_date: date | None = None,
    seeds: Path | None = None,
) -> dict[str, Any]:
    """Every suite parameter for one validation of ``contract``'s suite.

    ``as_of`` (now, unless given: an aware datetime, or ISO 8601 UTC text) is the moment after
    which nothing in the file may be dated. ``extract_date`` (YYYY-MM-DD), the day the file
    covers, is taken from ``parameters``, else from the date in ``file_name``, else ``run_date``,
    else the date of ``as_of``. Allowed-value lists come from the contract and the seed CSVs.
    Other keys in ``parameters`` pass through.
    """
    given = dict(parameters or {})
    as_of = given.get("as_of") or datetime.now(UTC)
    if isinstance(as_of, datetime):
        as_of = _iso_timestamp(as_of)
    if not isinstance(as_of, str) or not (_ISO_TIMESTAMP.match(as_of) or _ISO_DATE.match(as_of)):
        raise ValueError(f"as_of must be an ISO 8601 UTC timestamp or a date, got {as_of!r}")
    from_name = extract_date_from_file_name(file_name) if file_name else None
    extract_date = _iso_date(
        given.get("extract_date") or from_name or run_date or as_of[:10], "extract_date"
    )

    resolved: dict[str, Any] = {}
    for column in contract.columns:
        if column.allowed_values is None:
            continue
        name = allowed_value_parameter(column.stored_name, column.allowed_values)
        if isinstance(column.allowed_values, str):
            resolved[name] = read_seed_values(
                _seed_name(column.allowed_values), column.stored_name, seeds
            )
        else:
            resolved[name] = list(column.allowed_values)
    resolved.update(volume_bounds([]))
    resolved.update(given)
    resolved["as_of"] = as_of
    resolved["extract_date"] = extract_date
    return resolved


def volume_bounds(recent_rows: list[int]) -> dict[str, int | None]:
    """The volume rule's parameters from the row counts of recent published files.

    Bounds are a quarter of and four times their median, once VOLUME_MIN_HISTORY files are
    known; before that, any count passes (0 to no maximum)."""
    if len(recent_rows) < VOLUME_MIN_HISTORY:
        return {VOLUME_MIN_PARAMETER: 0, VOLUME_MAX_PARAMETER: None}
    middle = statistics.median(recent_rows)
    return {
        VOLUME_MIN_PARAMETER: math.floor(middle * VOLUME_LOW),
        VOLUME_MAX_PARAMETER: math.ceil(middle * VOLUME_HIGH),
    }


def recent_volumes(
    conn: psycopg.Connection, dataset: str, file_name: str, before_batch_id: int
) -> list[int]:
    """Rows read from the last VOLUME_WINDOW published files of the same series before this
    batch. A series is the files whose names differ only in their digits (dates, quarters):
    one provider's quarterly returns are compared with that provider's, not with another's."""
    rows = conn.execute(
        "select rows_read from audit.load_batch where dataset = %s and status = 'published' "
        "and batch_id < %s and rows_read is not null "
        "and regexp_replace(file_name, '[0-9]', '#', 'g') = regexp_replace(%s, '[0-9]', '#', 'g') "
        "order by batch_id desc limit %s",
        (dataset, before_batch_id, file_name, VOLUME_WINDOW),
    ).fetchall()
    return [int(r[0]) for r in rows]


def recent_volumes_for(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, list[int]]:
    """:func:`recent_volumes` of many registered batches in one query (each batch's own dataset
    and file name, as audit.load_batch has them): batch id -> rows read, newest first."""
    if not batch_ids:
        return {}
    rows = conn.execute(
        """
        with run as (
            select batch_id, dataset, regexp_replace(file_name, '[0-9]', '#', 'g') as series
            from audit.load_batch
            where batch_id = any(%(ids)s)
        ),
        history as materialized (
            select h.batch_id, h.dataset, h.rows_read,
                   regexp_replace(h.file_name, '[0-9]', '#', 'g') as series
            from audit.load_batch as h
            where h.status = 'published' and h.rows_read is not null
              and h.dataset in (select run.dataset from run)
        )
        select run.batch_id, array(
            select history.rows_read from history
            where history.dataset = run.dataset and history.series = run.series
              and history.batch_id < run.batch_id
            order by history.batch_id desc
            limit %(window)s
        )
        from run
        """,
        {"ids": list(batch_ids), "window": VOLUME_WINDOW},
    ).fetchall()
    return {int(batch_id): [int(n) for n in recent] for batch_id, recent in rows}


# --------------------------------------------------------------------------------------------
# Great Expectations, imported on first use
# --------------------------------------------------------------------------------------------


@cache
def _gx() -> SimpleNamespace:
    """Import Great Expectations (slow), quieten it, and register this project's expectation."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    import sqlalchemy as sa
    from great_expectations.compatibility import pydantic
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.suite_parameters import SuiteParameterDict
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics.map_metric_provider import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)

    def iso_text_between(column, min_bound, max_bound):
        """The condition of both ISO rules: each bound a text literal or a column (or None)."""
        within = []
        for bound, is_within in ((min_bound, operator.ge), (max_bound, operator.le)):
            if isinstance(bound, sa.ColumnElement):
                within.append(is_within(sa.func.left(column, sa.func.length(bound)), bound))
            elif bound is not None:
                within.append(is_within(sa.func.left(column, len(bound)), sa.literal(bound)))
        # A value that does not start like a date is the format rule's business, not this one's.
        not_a_date = sa.not_(column.op("~")(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"))
        return sa.or_(not_a_date, sa.and_(*within))

    class ColumnValuesIsoTextBetween(ColumnMapMetricProvider):
        """ISO 8601 text compared with ISO 8601 bounds, at the precision of each bound."""

        condition_metric_name = "column_values.iso_text_between"
        condition_value_keys = ("min_value", "max_value")

        @column_condition_partial(engine=SqlAlchemyExecutionEngine)
        def _sqlalchemy(cls, column, min_value=None, max_value=None, **kwargs):
            return iso_text_between(column, min_value, max_value)

    class ColumnValuesIsoTextBetweenColumns(ColumnMapMetricProvider):
        """The same comparison, where a bound may be another column of the row: the batch's own
        parameter, when several batches are validated in one table (quality_combined.py)."""

        condition_metric_name = "column_values.iso_text_between_columns"
        condition_value_keys = ("min_value", "max_value", "min_column", "max_column")

        @column_condition_partial(engine=SqlAlchemyExecutionEngine)
        def _sqlalchemy(
            cls, column, min_value=None, max_value=None, min_column=None, max_column=None, **kwargs
        ):
            low = sa.column(min_column) if min_column else min_value
            high = sa.column(max_column) if max_column else max_value
            return iso_text_between(column, low, high)

    class ExpectColumnValuesToBeIsoTextBetween(ColumnMapExpectation):
        """Expect ISO 8601 dates or timestamps held as text to lie between two ISO 8601 bounds.

        Landing tables hold every column as text, and GX's expect_column_values_to_be_between
        refuses text columns. Well-formed ISO 8601 text sorts in calendar order, so the check is
        a text comparison of the value's first len(bound) characters with the bound (a date bound
        against a timestamp value compares the date part). Values that do not begin YYYY-MM-DD
        are not judged here (the suite's format rule reports them); nulls are ignored.
        Bounds may be suite parameters ({"$PARAMETER": "extract_date"}). SQL engines only.
        """

        min_value: str | SuiteParameterDict | None = None
        max_value: str | SuiteParameterDict | None = None

        map_metric = "column_values.iso_text_between"
        success_keys = ("min_value", "max_value", "mostly")
        args_keys = ("column", "min_value", "max_value")

        @pydantic.root_validator(skip_on_failure=True)
        def _needs_a_bound(cls, values):
            if values.get("min_value") is None and values.get("max_value") is None:
                raise ValueError("min_value and max_value cannot both be None")
            return values

    class ExpectColumnValuesToBeIsoTextBetweenColumns(ColumnMapExpectation):
        """Internal, never in a suite file: expect_column_values_to_be_iso_text_between for many
        batches in one table, a bound that differs by batch (extract_date) read from the column
        ``min_column`` / ``max_column`` of each row instead of a suite parameter."""

        min_value: str | SuiteParameterDict | None = None
        max_value: str | SuiteParameterDict | None = None
        min_column: str | None = None
        max_column: str | None = None

        map_metric = "column_values.iso_text_between_columns"
        success_keys = ("min_value", "max_value", "min_column", "max_column", "mostly")
        args_keys = ("column", "min_value", "max_value")

    # This module's annotations are strings (PEP 563); resolve them against the local names.
    for expectation in (
        ExpectColumnValuesToBeIsoTextBetween,
        ExpectColumnValuesToBeIsoTextBetweenColumns,
    ):
        expectation.update_forward_refs(SuiteParameterDict=SuiteParameterDict)

    return SimpleNamespace(
        gx=gx,
        version=gx.__version__,
        ExpectationSuite=ExpectationSuite,
        ProgressBarsConfig=ProgressBarsConfig,
        ExpectColumnValuesToBeIsoTextBetween=ExpectColumnValuesToBeIsoTextBetween,
        ExpectColumnValuesToBeIsoTextBetweenColumns=ExpectColumnValuesToBeIsoTextBetweenColumns,
    )


# --------------------------------------------------------------------------------------------
# The validator
# --------------------------------------------------------------------------------------------


@dataclass
class _LoadedSuite:
    file: SuiteFile
    suite: Any  # great_expectations ExpectationSuite, added to the context
    index_by_id: dict[str, int]  # expectation id -> position in the suite file


def split_table(table: str) -> tuple[str, str]:
    """``landing.force_crimes__b12`` -> (landing, force_crimes__b12); a bare name is in landing."""
    schema, _, name = table.rpartition(".")
    schema = schema or DEFAULT_SCHEMA
    for part in (schema, name):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"not a plain lower-case table name: {table!r}")
    return schema, name


class BatchValidator:
    """Validates load batches against their suites; reusable for many batches in one process.

    The GX context and the datasource (with its SQLAlchemy engines and connection pools) are built
    on first use and kept; each suite is loaded once (and again if its file changes); each batch
    gets its own table asset, batch definition and validation definition, removed after the run
    so that hundreds of batches do not accumulate. Not thread-safe: one per thread.
    """

    def __init__(
        self,
        warehouse: ConnectionInfo | Settings | None = None,
        *,
        suites: Path | None = None,
        seeds: Path | None = None,
    ) -> None:
        """``warehouse``: where to validate (default: the configured warehouse). Given Settings,
        the suites and seeds are read from that project too."""
        settings = warehouse if isinstance(warehouse, Settings) else get_settings()
        self.conn_info = warehouse if isinstance(warehouse, ConnectionInfo) else None
        self.conn_info = self.conn_info or connection_info(settings)
        self.suites = suites or settings.expectations_dir / "expectations"
        self.seeds = seeds or settings.dbt_project_dir / "seeds" / "reference"
        self._context: Any = None
        self._datasource: Any = None
        self._suites: dict[str, _LoadedSuite] = {}

    # -- set-up, once -------------------------------------------------------------------------
    def _ensure_datasource(self) -> Any:
        if self._datasource is None:
            g = _gx()
            context = g.gx.get_context(mode="ephemeral")
            context.variables.progress_bars = g.ProgressBarsConfig(globally=False)
            context.enable_analytics(False)
            self._datasource = context.data_sources.add_postgres(
                name="warehouse", connection_string=self.conn_info.sqlalchemy_url
            )
            self._context = context
        return self._datasource

    def _add_suite(self, name: str, expectations: list[dict], meta: dict | None = None) -> Any:
        suite = _gx().ExpectationSuite(
            name=name, expectations=copy.deepcopy(expectations), meta=copy.deepcopy(meta or {})
        )
        return self._context.suites.add(suite)

    def _suite(self, dataset: str) -> _LoadedSuite:
        file = read_suite(dataset, self.suites)
        loaded = self._suites.get(dataset)
        if loaded is not None and loaded.file.sha256 == file.sha256:
            return loaded
        if loaded is not None:
            self._context.suites.delete(loaded.file.name)
        suite = self._add_suite(file.name, file.expectations, file.definition.get("meta"))
        index_by_id = {str(e.id): i for i, e in enumerate(suite.expectations)}
        loaded = _LoadedSuite(file=file, suite=suite, index_by_id=index_by_id)
        self._suites[dataset] = loaded
        return loaded

    # -- per batch ----------------------------------------------------------------------------
    def validate(
        self,
        contract: Contract,
        table: str,
        *,
        batch_id: int,
        parameters: dict[str, Any] | None = None,
        file_name: str | None = None,
        run_date: date | None = None,
        dag_run_id: str | None = None,
        result_format: dict[str, Any] | None = None,
    ) -> ValidationReport:
        """Run ``contract``'s suite on one landing table, in the database.

        ``parameters``, ``file_name`` and ``run_date`` give the suite's run-time parameters (see
        :func:`run_parameters`). By default the suite runs in two passes (counts, then the line
        numbers of the failures; see COUNTS_FORMAT); ``result_format`` runs one pass with that
        GX result format instead (for comparisons).
        """
        schema, name = split_table(table)
        params = run_parameters(
            contract, parameters, file_name=file_name, run_date=run_date, seeds=self.seeds
        )
        started_at = datetime.now(UTC)
        self._ensure_datasource()
        loaded = self._suite(contract.dataset)
        asset_name = f"{schema}.{name}"

        self._forget_asset(asset_name)  # left over by an interrupted run
        try:
            batch_definition = self._batch_definition(asset_name, schema, name)
            results = self._run(
                loaded.suite,
                loaded.index_by_id,
                loaded.file,
                batch_definition,
                params,
                result_format or COUNTS_FORMAT,
            )
            if result_format is None:
                failing = [
                    r.index
                    for r in results.values()
                    if not r.success and r.error is None and r.unexpected_count
                ]
                if failing:
                    rows = self._failing_rows(loaded.file, failing, batch_definition, params)
                    for index, (numbers, query) in rows.items():
                        results[index] = replace(
                            results[index], failing_row_numbers=numbers, failing_rows_query=query
                        )
        finally:
            self._forget_asset(asset_name)
        finished_at = datetime.now(UTC)

        if len(results) != len(loaded.file.expectations):
            raise QualityError(
                f"{loaded.file.path.name}: GX returned {len(results)} results for "
                f"{len(loaded.file.expectations)} expectations"
            )
        return ValidationReport(
            dataset=contract.dataset,
            table=asset_name,
            batch_id=batch_id,
            suite_name=loaded.file.name,
            suite_sha256=loaded.file.sha256,
            gx_version=_gx().version,
            result_format=TWO_PASS if result_format is None else result_format["result_format"],
            parameters={"extract_date": params["extract_date"], "as_of": params["as_of"]},
            results=tuple(results[i] for i in sorted(results)),
            started_at=started_at,
            finished_at=finished_at,
            dag_run_id=dag_run_id,
        )

    def validate_many(
        self,
        contract: Contract,
        batches: list[Any],
        *,
        as_of: datetime | str | None = None,
        dag_run_id: str | None = None,
    ) -> list[ValidationReport]:
        """Several landing tables of ``contract``'s dataset (``quality_combined.BatchToValidate``),
        judged at one ``as_of``: the small ones in one GX run, each batch still getting the
        report it would have had alone (see quality_combined.py); in the order given."""
        from vawg_warehouse.validate.quality_combined import validate_together

        return validate_together(self, contract, batches, as_of=as_of, dag_run_id=dag_run_id)

    def _batch_definition(self, asset_name: str, schema: str, name: str) -> Any:
        try:
            asset = self._datasource.add_table_asset(
                name=asset_name, table_name=name, schema_name=schema
            )
        except Exception as exc:  # GX wraps the driver's error (e.g. no such table)
            raise QualityError(f"cannot validate {asset_name}: {exc}") from exc
        return asset.add_batch_definition_whole_table("whole_table")

    def _run(
        self,
        suite: Any,
        index_by_id: dict[str, int],
        file: SuiteFile,
        batch_definition: Any,
        params: dict[str, Any],
        result_format: dict[str, Any],
    ) -> dict[int, ExpectationResult]:
        """One ValidationDefinition run; results keyed by position in the suite file."""
        definition_name = f"{suite.name}:{batch_definition.data_asset.name}"
        definition = self._context.validation_definitions.add(
            _gx().gx.ValidationDefinition(name=definition_name, data=batch_definition, suite=suite)
        )
        try:
            outcome = definition.run(
                expectation_parameters=params, result_format=copy.deepcopy(result_format)
            )
        finally:
            self._context.validation_definitions.delete(definition_name)
        results = {}
        for result in outcome.results:
            index = index_by_id[str(result.expectation_config.id)]
            results[index] = _expectation_result(result, file, index)
        return results

    def _failing_rows(
        self,
        file: SuiteFile,
        failing: list[int],
        batch_definition: Any,
        params: dict[str, Any],
    ) -> dict[int, tuple[tuple[int, ...], str | None]]:
        """Pass 2: the failing expectations alone, asking GX for up to 20 failing _row_numbers
        and the SQL that selects all of them."""
        rows: dict[int, tuple[tuple[int, ...], str | None]] = {}
        query_rules = [i for i in failing if file.expectations[i]["type"] == QUERY_RULE]
        map_rules = [i for i in failing if i not in query_rules]
        for group, result_format in ((map_rules, ROWS_FORMAT), (query_rules, QUERY_ROWS_FORMAT)):
            if not group:
                continue
            name = f"{file.name}:failing_rows"
            suite = self._add_suite(name, [file.expectations[i] for i in group])
            try:
                index_by_id = {str(e.id): group[j] for j, e in enumerate(suite.expectations)}
                results = self._run(
                    suite, index_by_id, file, batch_definition, params, result_format
                )
            finally:
                self._context.suites.delete(name)
            table = batch_definition.data_asset
            for index, r in results.items():
                query = r.failing_rows_query
                if r.expectation_type == QUERY_RULE:
                    written = file.expectations[index]["kwargs"]["unexpected_rows_query"]
                    query = (
                        _fill_batch(written, f"{table.schema_name}.{table.table_name}")
                        if isinstance(written, str)
                        else None  # a parameterised query: the batch is judged whole
                    )
                rows[index] = (r.failing_row_numbers, query)
        return rows

    def _forget_asset(self, asset_name: str) -> None:
        if asset_name in {a.name for a in self._datasource.assets}:
            self._datasource.delete_asset(asset_name)

    def close(self) -> None:
        """Close the datasource's connections (the validator can be used again afterwards)."""
        if self._datasource is not None:
            # The datasource has two SQLAlchemy engines: its own (connection tests, table
            # lookups) and its execution engine's (the validation queries).
            execution_engine = getattr(self._datasource, "_execution_engine", None)
            if execution_engine is not None:
                execution_engine.close()
            engine = getattr(self._datasource, "_engine", None)
            if engine is not None:
                engine.dispose()
        self._datasource = None
        self._context = None
        self._suites.clear()


def _expectation_result(result: Any, file: SuiteFile, index: int) -> ExpectationResult:
    declared = file.expectations[index]
    kwargs = declared.get("kwargs", {})
    body = result.result or {}
    table_level = declared["type"].startswith("expect_table_")
    if declared["type"] == QUERY_RULE:  # observed_value: how many rows the query returned
        body = {
            "unexpected_count": body.get("observed_value"),
            "partial_unexpected_index_list": (body.get("details") or {}).get("unexpected_rows"),
        }
    failing = () if result.success else _row_numbers(body.get("partial_unexpected_index_list"))
    rows_query = None if result.success else body.get("unexpected_index_query")
    unexpected_percent = body.get("unexpected_percent")
    return ExpectationResult(
        index=index,
        rule=declared["meta"]["rule"],
        expectation_type=declared["type"],
        column=kwargs.get("column") or _columns(kwargs),
        severity=declared["severity"],
        success=bool(result.success),
        element_count=body.get("element_count"),
        unexpected_count=body.get("unexpected_count"),
        unexpected_percent=None if unexpected_percent is None else float(unexpected_percent),
        failing_row_numbers=failing,
        observed_value=body.get("observed_value") if table_level else None,
        kwargs=kwargs,
        error=_exception_message(result.exception_info),
        failing_rows_query=rows_query if isinstance(rows_query, str) else None,
    )


def _fill_batch(query: str, table: str) -> str:
    """A query rule's SQL with its ``{batch}`` placeholder set to the batch's table."""
    return query.replace("{batch}", table)


def _columns(kwargs: dict[str, Any]) -> str | None:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def _row_numbers(index_list: Any) -> tuple[int, ...]:
    """Line numbers from GX's partial_unexpected_index_list, in either of its two shapes."""
    numbers: list[int] = []
    for entry in index_list or []:
        value = entry.get(ROW_NUMBER_COLUMN) if isinstance(entry, dict) else None
        if isinstance(value, list):
            numbers.extend(int(v) for v in value)
        elif value is not None:
            numbers.append(int(value))
    return tuple(sorted(set(numbers))[:MAX_FAILING_ROWS])


def _exception_message(info: Any) -> str | None:
    """The first line of the first exception GX caught, if any (no traceback, no SQL)."""
    if not isinstance(info, dict):
        return None
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception") and candidate.get("exception_message"):
            first_line = str(candidate["exception_message"]).strip().splitlines()[0]
            return first_line[:300]
    return None


# --------------------------------------------------------------------------------------------
# Module-level convenience: one validator per warehouse per process
# --------------------------------------------------------------------------------------------

_VALIDATORS: dict[str, BatchValidator] = {}


def get_validator(conn_info: ConnectionInfo) -> BatchValidator:
    key = conn_info.sqlalchemy_url
    if key not in _VALIDATORS:
        _VALIDATORS[key] = BatchValidator(conn_info)
    return _VALIDATORS[key]


def close_validators() -> None:
    while _VALIDATORS:
        _, validator = _VALIDATORS.popitem()
        validator.close()


def validate_batch(
    conn_info: ConnectionInfo,
    contract: Contract,
    table: str,
    *,
    batch_id: int,
    parameters: dict[str, Any] | None = None,
    file_name: str | None = None,
    run_date: date | None = None,
    dag_run_id: str | None = None,
) -> ValidationReport:
    """Validate one landing table with the process's shared validator for that warehouse.

    ``parameters``: ``extract_date`` (else from ``file_name``, else ``run_date``) and ``as_of``
    (defaults to now, UTC); see :func:`run_parameters`. The first call in a process imports GX
    and connects; later calls reuse both.
    """
    began = time.perf_counter()
    report = get_validator(conn_info).validate(
        contract,
        table,
        batch_id=batch_id,
        parameters=parameters,
        file_name=file_name,
        run_date=run_date,
        dag_run_id=dag_run_id,
    )
    log.info(
        "validated %s (batch %s) in %.2f s: %d critical, %d warning failures",
        report.table,
        batch_id,
        time.perf_counter() - began,
        len(report.critical_failures),
        len(report.warning_failures),
    )
    return report


# --------------------------------------------------------------------------------------------
# Audit trail and messages
# --------------------------------------------------------------------------------------------


def store_report(conn: psycopg.Connection, report: ValidationReport) -> int:
    """Write the run to audit.validation_run and one row per expectation to audit.validation_result.

    The run is stamped with the code version (vawg_warehouse.versions) and the suite's sha256.

    Stores counts, up to 20 line numbers and, for table-level expectations only, GX's observed value
    (row count, column names): never data values. One transaction (a savepoint inside the caller's
    transaction, if any). Returns the validation_run_id.
    """
    (run_id,) = store_reports(conn, [report])
    return run_id


def store_reports(conn: psycopg.Connection, reports: list[ValidationReport]) -> list[int]:
    """:func:`store_report` of many reports in one transaction and a few round trips (the
    statements pipelined): one validation_run each, their ids in the order given."""
    from psycopg.types.json import Jsonb

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


def format_failures(
    report: ValidationReport, file_name: str, rows_set_aside: int | None = None
) -> str:
    """A message for people: the file, then each failing rule with its severity, count and lines.

    ``rows_set_aside``: the rows row-level quarantine took out of the batch, if it did."""
    head = f"{file_name} (batch {report.batch_id}, suite {report.suite_name})"
    if report.all_passed:
        return f"{head}: all {len(report.results)} expectations passed"
    if rows_set_aside:
        verdict = f"{rows_set_aside} row(s) set aside in quarantine, the rest goes on"
    else:
        verdict = "quarantined" if not report.success else "published with warnings"
    lines = [
        f"{head}: {len(report.critical_failures)} critical and "
        f"{len(report.warning_failures)} warning expectation(s) failed; {verdict}"
    ]
    ordered = report.critical_failures + report.warning_failures
    for r in ordered:
        lines.append(f"  {r.severity.upper():8} {r.rule}: {_describe(r)}")
    return "\n".join(lines)


def _describe(r: ExpectationResult) -> str:
    if r.error:
        return f"could not be checked ({r.error})"
    if r.expectation_type == "expect_table_columns_to_match_set":
        expected = set(r.kwargs.get("column_set") or [])
        observed = set(r.observed_value or [])
        parts = []
        if expected - observed:
            parts.append("missing " + ", ".join(sorted(expected - observed)))
        if observed - expected:
            parts.append("unexpected " + ", ".join(sorted(observed - expected)))
        return "; ".join(parts) or f"observed {r.observed_value}"
    if r.unexpected_count is None:
        if r.observed_value is not None:
            return f"observed {json.dumps(r.observed_value)}"
        return "failed"
    count = r.unexpected_count
    text = f"{count} row{'s' if count != 1 else ''}"
    if r.element_count:
        text += f" of {r.element_count}"
    if r.failing_row_numbers:
        lines = ", ".join(str(n) for n in r.failing_row_numbers)
        more = " (first 20)" if count > len(r.failing_row_numbers) else ""
        text += f", line{'s' if len(r.failing_row_numbers) != 1 else ''} {lines}{more}"
    return text
