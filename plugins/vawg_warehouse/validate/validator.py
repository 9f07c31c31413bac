"""Validate a load batch in PostgreSQL with Great Expectations, before publication.

Everything GX needs is rebuilt in code: an ephemeral context, a Postgres datasource, one table
asset per landing table (``landing.<dataset>__b<batch_id>``, every contract column text), a
whole-table batch definition and a ValidationDefinition. The checks run as SQL in the warehouse;
no row is pulled into pandas. The result format asks for unexpected counts and up to 20 failing
``_row_number``s (file line numbers) per expectation, never the unexpected values: they can be
personal data.

The public API: :meth:`BatchValidator.validate` (a batch's suite, two passes) and
:meth:`BatchValidator.run_expectations` (any list of expectations on any table, one pass: the
many-batches path of ``together.py`` is built on it).

Great Expectations takes 7-13 s to import, so it is imported on first use (``gx_runtime``), never
at module import. A :class:`BatchValidator` keeps its context and datasource for the life of the
process: a nightly run validating hundreds of small daily files pays the set-up once (see
:func:`validate_batch`).
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest.contracts import Contract
from vawg_warehouse.validate.results import (
    MAX_FAILING_ROWS,
    ExpectationResult,
    ValidationReport,
    expectation_result,
)
from vawg_warehouse.validate.suites import (
    QUERY_RULE,
    ROW_NUMBER_COLUMN,
    QualityError,
    SuiteFile,
    fill_batch,
    read_suite,
    run_parameters,
    split_table,
)
from vawg_warehouse.warehouse import ConnectionInfo, connection_info

if TYPE_CHECKING:
    pass


log = logging.getLogger(__name__)


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


# Pass/fail only (no counts, no line numbers): for comparison, see the timings in the report.
BOOLEAN_ONLY: dict[str, Any] = {"result_format": "BOOLEAN_ONLY"}


TWO_PASS = "counts, then row numbers of failures"


def _gx() -> ModuleType:
    """Great Expectations and this project's expectations (:mod:`gx_runtime`), imported on
    first use."""
    from vawg_warehouse.validate import gx_runtime

    return gx_runtime


@dataclass
class _LoadedSuite:
    file: SuiteFile
    suite: Any  # great_expectations ExpectationSuite, added to the context
    index_by_id: dict[str, int]  # expectation id -> position in the suite file


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

    def run_expectations(
        self,
        name: str,
        expectations: list[dict[str, Any]],
        table: str,
        *,
        file: SuiteFile,
        indexes: list[int],
        parameters: dict[str, Any],
        result_format: dict[str, Any] | None = None,
    ) -> dict[int, ExpectationResult]:
        """Run ``expectations`` (GX configurations: type, kwargs, meta, severity) on ``table``
        in one pass, as a suite named ``name`` that lives for this call only.

        Each expectation stands for the one at ``indexes[i]`` of ``file``: results are keyed
        by that position and read against it (rule, severity). ``result_format`` defaults to
        COUNTS_FORMAT (counts, no line numbers, no values)."""
        schema, table_name = split_table(table)
        asset_name = f"{schema}.{table_name}"
        self._ensure_datasource()
        self._forget_asset(asset_name)  # left over by an interrupted run
        if name in {s.name for s in self._context.suites.all()}:
            self._context.suites.delete(name)
        suite = self._add_suite(name, expectations)
        try:
            index_by_id = {str(e.id): indexes[i] for i, e in enumerate(suite.expectations)}
            batch_definition = self._batch_definition(asset_name, schema, table_name)
            return self._run(
                suite,
                index_by_id,
                file,
                batch_definition,
                parameters,
                result_format or COUNTS_FORMAT,
            )
        finally:
            self._context.suites.delete(name)
            self._forget_asset(asset_name)

    @property
    def gx_version(self) -> str:
        """The version of Great Expectations that validates (imports it)."""
        return _gx().version

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
            results[index] = expectation_result(result, file, index)
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
                        fill_batch(written, f"{table.schema_name}.{table.table_name}")
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
