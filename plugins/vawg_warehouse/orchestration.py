"""What the nightly DAG's tasks do, as plain functions: the DAG file only wires them.

Tasks hand each other load-batch ids (small XComs) and database tables, never local files, so the
same DAG runs on the Local, Celery or Kubernetes executor. Each function is idempotent for the
batches it is given: a retry or a re-run finds each batch in the state the last attempt left.
Airflow is imported only where a task asks Airflow for a connection, so this module (and the CLI
and tests that use it) works without a scheduler.
"""

from __future__ import annotations

import functools
import logging
from datetime import date

from vawg_warehouse.audit import append_rows, corrections_of_run, get_batches
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest.batches import (
    LoadError,
    describe_error,
    mark_failed,
    mark_validated,
    mark_validated_many,
)
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.corrections import describe
from vawg_warehouse.ingest.datasets import SOURCES
from vawg_warehouse.ingest.home_office_bodies import note_bodies_set_apart
from vawg_warehouse.ingest.landing import record_refusals, register, survey
from vawg_warehouse.ingest.load import FileRefused, load_batch
from vawg_warehouse.ingest.privacy import Pseudonymiser, PseudonymKeyError, resolve_key
from vawg_warehouse.ingest.publish import publish_batch
from vawg_warehouse.ingest.quarantine import (
    RowRejection,
    quarantine_batch,
    quarantine_rows,
)
from vawg_warehouse.ingest.settle import whole_files
from vawg_warehouse.migrations import migrate
from vawg_warehouse.outcome_tasks import (  # noqa: F401 - what the DAG file calls
    record_failure,
    record_outcome,
    task_states,
    wait_for_turn,
)
from vawg_warehouse.progress import with_heartbeat
from vawg_warehouse.run_context import RunContext
from vawg_warehouse.task_settings import settings_for_task  # noqa: F401 - the DAG's tasks
from vawg_warehouse.warehouse import connect, connection_info, ensure_warehouse

log = logging.getLogger(__name__)


def _configuration_errors_fail_at_once(function):
    """A wrong setting (the pseudonym key, a folder: ConfigurationError) fails the task at once,
    without the retries meant for a passing outage. The error is raised again as a class that is
    both Airflow's AirflowFailException (no retry) and its own class, under its own name, so the
    failure callback, the CLI and tests see the error they expect."""
    from vawg_warehouse.run_outcome import ConfigurationError

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ConfigurationError, PseudonymKeyError) as exc:
            made = _at_once(exc)
            if made is exc:
                raise
            raise made from exc

    return wrapper


def _at_once(exc: Exception) -> Exception:
    """``exc`` as a class that is both Airflow's AirflowFailException (no retry) and its own,
    under its own name; without Airflow, ``exc`` itself."""
    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # no Airflow: the error as it is
        return exc
    if isinstance(exc, AirflowFailException):  # a wrapped step inside a wrapped step
        return exc
    at_once = type(type(exc).__name__, (AirflowFailException, type(exc)), {})
    made = at_once(*exc.args)
    made.__dict__.update(exc.__dict__)
    return made


def run_context(dag_id: str | None, run_id: str | None, logical_date: date | None) -> RunContext:
    return RunContext(dag_id=dag_id, dag_run_id=run_id, logical_date=logical_date)


@_configuration_errors_fail_at_once
def prepare_warehouse(settings: Settings | None = None) -> list[str]:
    """Make the warehouse reachable and its schema current; returns migrations applied."""
    settings = settings or get_settings()
    ensure_warehouse(settings)
    with connect(settings) as conn:
        return migrate(conn)


@_configuration_errors_fail_at_once
def register_files(dataset: str, ctx: RunContext, settings: Settings | None = None) -> list[int]:
    """New (or unfinished) files of one dataset, registered as batches: their ids. Entries the
    landing folder must not hold (symbolic links, odd names) are refused and recorded; a file
    still being written (settle.py) is left for a later run."""
    return _register_whole([load_contract(dataset)], ctx, settings or get_settings())


@_configuration_errors_fail_at_once
def register_family(family: str, ctx: RunContext, settings: Settings | None = None) -> list[int]:
    """New (or unfinished) files of every dataset of one source family: their batch ids (one
    settle interval for the whole family)."""
    contracts = [load_contract(dataset) for dataset in SOURCES[family]]
    return _register_whole(contracts, ctx, settings or get_settings())


def _register_whole(contracts: list, ctx: RunContext, settings: Settings) -> list[int]:
    from vawg_warehouse.ingest.landing_check import check_landing

    check_landing(settings.landing_dir, contracts)
    files, refusals = survey(settings.landing_dir, contracts)
    files = whole_files(files, settings.settle_seconds, settings.done_marker).whole
    with connect(settings, autocommit=True) as conn:
        record_refusals(conn, refusals, ctx)
        batches = register(conn, files, ctx, archive_root=settings.archive_dir)
    return [b.batch_id for b in batches]


class BatchesFailed(RuntimeError):
    """Some batches of a step failed (each is marked ``failed``, with an event); the others went
    on. The message names batches and error classes, never a value."""


@_configuration_errors_fail_at_once
@with_heartbeat("loading files")
def load_batches(
    batch_ids: list[int], ctx: RunContext, settings: Settings | None = None
) -> list[int]:
    """Stream each batch into its landing table; returns the ids that loaded.

    Each batch is its own transaction (an autocommit connection): a batch that fails is marked
    ``failed`` and the others still load and stay loaded; the step then fails naming it. A file
    that cannot be read (bad header, not UTF-8) is quarantined and reported; one that is gone is
    refused; neither fails the step.
    """
    settings = settings or get_settings()
    pseudonymise = Pseudonymiser(resolve_key(settings))
    loaded: list[int] = []
    failures: list[str] = []
    with connect(settings, autocommit=True) as conn:
        for batch in get_batches(conn, batch_ids):
            if batch.status not in ("registered", "loaded", "failed", "refused"):
                continue  # already past this step (a retry after a partial success)
            try:
                load_batch(
                    conn,
                    batch,
                    settings.landing_dir,
                    pseudonymise,
                    ctx,
                    archive_root=settings.archive_dir,
                )
            except LoadError as exc:
                log.error(
                    "%s %s", "REFUSED" if isinstance(exc, FileRefused) else "QUARANTINED", exc
                )
                continue
            except Exception as exc:  # noqa: BLE001 - recorded, named, and the step fails below
                error = describe_error(exc)
                mark_failed(conn, batch.batch_id, ctx, f"load: {error}")
                failures.append(f"batch {batch.batch_id} ({batch.file_name}): {error}")
                log.error("FAILED load of batch %d: %s", batch.batch_id, error)
                continue
            loaded.append(batch.batch_id)
    if failures:
        raise BatchesFailed("load failed for " + "; ".join(failures))
    return loaded


@with_heartbeat("validating batches")
def validate_batches(
    batch_ids: list[int], ctx: RunContext, settings: Settings | None = None
) -> list[int]:
    """Validate each loaded batch with its Great Expectations suite, in SQL.

    Results go to audit.validation_run / validation_result, one run per batch. A batch that
    fails a critical expectation is quarantined (the report names the file, the rules and the
    failing lines); warnings are recorded and the batch goes on. Returns the ids that may be
    published.

    The small batches of a dataset are validated in one GX run and any batch with something to
    report again on its own (validate/together.py), each keeping the report it would have had
    alone; every batch of the call is judged at the same ``as_of``.
    """
    # Great Expectations is slow to import: only here, inside the task
    from vawg_warehouse.validate.validator import BatchValidator

    settings = settings or get_settings()
    with connect(settings) as conn:
        batches = get_batches(conn, batch_ids)
        todo = [b for b in batches if b.status == "loaded"]
        passed = [b.batch_id for b in batches if b.status == "validated"]
        if not todo:
            return passed
        validator = BatchValidator(connection_info(settings))
        try:
            reports = _validate_together(conn, validator, todo, ctx)
            # Without a critical failure nothing is set aside: stored and marked in bulk.
            going_on = [b for b in todo if not reports[b.batch_id].critical_failures]
            _record_validations(conn, going_on, ctx, reports)
            held = {
                b.batch_id
                for b in todo
                if reports[b.batch_id].critical_failures
                and not _record_validation(conn, b, ctx, reports[b.batch_id])
            }
        finally:
            validator.close()
    return passed + [b.batch_id for b in todo if b.batch_id not in held]


def _validation_parameters(batch, recent_rows: list[int]) -> dict:
    """A batch's own suite parameters: volume bounds from its series, its file's date."""
    from vawg_warehouse.validate.suites import (
        extract_date_from_file_name,
        volume_bounds,
    )

    parameters: dict[str, object] = dict(volume_bounds(recent_rows))
    extract_date = extract_date_from_file_name(batch.file_name)
    if extract_date:
        parameters["extract_date"] = extract_date
    return parameters


def _validate_together(conn, validator, todo: list, ctx: RunContext) -> dict:
    """Each dataset's batches in one call of validate_together (one volume query for them all)."""
    from vawg_warehouse.validate.combine import BatchToValidate
    from vawg_warehouse.validate.suites import (
        recent_volumes_for,
    )
    from vawg_warehouse.validate.together import validate_together

    recent = recent_volumes_for(conn, [b.batch_id for b in todo])
    datasets: dict[str, list] = {}
    for batch in todo:
        datasets.setdefault(batch.dataset, []).append(batch)
    reports = {}
    for dataset, batches in datasets.items():
        inputs = [
            BatchToValidate(
                batch_id=b.batch_id,
                table=f"landing.{b.landing_table}",
                parameters=_validation_parameters(b, recent[b.batch_id]),
            )
            for b in batches
        ]
        found = validate_together(
            validator, load_contract(dataset), inputs, dag_run_id=ctx.dag_run_id
        )
        reports.update({r.batch_id: r for r in found})
    return reports


def _record_validations(conn, batches: list, ctx: RunContext, reports: dict) -> None:
    """Store the reports of batches with no critical failure and mark them validated, all in
    one transaction (what _record_validation does for each, without a round trip per row)."""
    from vawg_warehouse.audit import store_validations
    from vawg_warehouse.validate.results import format_failures

    with conn.transaction():
        store_validations(conn, [reports[b.batch_id] for b in batches])
        details = []
        for batch in batches:
            report = reports[batch.batch_id]
            failed = [r.rule for r in report.failures]
            if failed:
                log.warning("%s", format_failures(report, batch.file_name, None))
            details.append({"warnings": failed, "rows_quarantined": 0})
        mark_validated_many(conn, batches, ctx, details)


def _record_validation(conn, batch, ctx: RunContext, report) -> bool:
    """Store the batch's report, then quarantine it (whole or its failing rows) or mark it
    validated, in one transaction; True when the batch may be published."""
    from vawg_warehouse.audit import store_validation
    from vawg_warehouse.validate.results import format_failures

    failed = [r.rule for r in report.failures]
    with conn.transaction():
        run_id = store_validation(conn, report)
        held = _quarantine_failing_rows(conn, batch, ctx, report, run_id)
        if report.critical_failures and held is None:
            message = format_failures(report, batch.file_name)
            log.error("QUARANTINED %s", message)
            quarantine_batch(conn, batch, ctx, message, rules=failed)
            return False
        if report.failures:
            log.warning("%s", format_failures(report, batch.file_name, held))
        mark_validated(conn, batch, ctx, warnings=failed, rows_quarantined=held or 0)
    return True


def _quarantine_failing_rows(conn, batch, ctx: RunContext, report, validation_run_id: int):
    """Row-level quarantine when the dataset allows it and every critical failure is a rule on
    rows whose failing rows GX can select; None when the batch must be judged whole."""
    max_share = batch.contract.row_quarantine_max_share
    critical = report.critical_failures
    if not critical or max_share is None:
        return None
    if any(r.error or not r.unexpected_count or not r.failing_rows_query for r in critical):
        return None  # a table-level rule (columns, volume) or one GX could not evaluate
    rejections = [RowRejection(r.rule, r.expectation_type, r.failing_rows_query) for r in critical]
    return quarantine_rows(conn, batch, ctx, rejections, validation_run_id, max_share)


@with_heartbeat("publishing batches")
def publish_batches(batch_ids: list[int], ctx: RunContext, settings: Settings | None = None) -> int:
    """Publish each validated batch to its raw table; returns the rows published.

    Each batch is one transaction of its own; a batch that fails is marked ``failed`` (the others
    stay published) and the step then fails naming it.
    """
    settings = settings or get_settings()
    total = 0
    failures: list[str] = []
    with connect(settings, autocommit=True) as conn:
        for batch in get_batches(conn, batch_ids, status="validated"):
            try:
                total += publish_batch(conn, batch, ctx)
                note_bodies_set_apart(conn, batch.batch_id, batch.dataset, batch.file_name, ctx)
            except Exception as exc:  # noqa: BLE001 - recorded, named, and the step fails below
                error = describe_error(exc)
                mark_failed(conn, batch.batch_id, ctx, f"publish: {error}")
                failures.append(f"batch {batch.batch_id} ({batch.file_name}): {error}")
                log.error("FAILED publish of batch %d: %s", batch.batch_id, error)
    if failures:
        raise BatchesFailed("publish failed for " + "; ".join(failures))
    return total


@with_heartbeat("building dbt")
def transform_group(
    group: str,
    ctx: RunContext,
    settings: Settings | None = None,
    rebuild: bool = False,
    task_id: str | None = None,
) -> dict:
    """dbt build (or test only) of one group of the project (vawg_warehouse.dbt_run.transform);
    raises TransformError when it does not pass. Returns a small summary for XCom."""
    from vawg_warehouse.dbt_run import transform

    try:
        outcome = transform.run_group(group, ctx, settings, rebuild=rebuild, task_id=task_id)
    except transform.TransformError as exc:
        made = _at_once(exc)
        if exc.connection_lost or made is exc:
            raise  # the warehouse went away: Airflow's retries, with back-off, try again
        raise made from exc  # a failed test or model: a retry would fail the same way
    return outcome.as_dict()


def run_summary(run_id: str | None, settings: Settings | None = None) -> dict:
    """What this DAG run took in: per status, files and rows; quarantined files with reasons."""
    settings = settings or get_settings()
    with connect(settings) as conn:
        rows = conn.execute(
            """
            select b.dataset, b.status, count(*)::int,
                   coalesce(sum(b.rows_read), 0)::bigint,
                   coalesce(sum(b.rows_loaded), 0)::bigint,
                   coalesce(sum(b.rows_rejected), 0)::bigint
            from audit.load_batch as b
            where b.batch_id in (
                select e.batch_id from audit.load_batch_event as e where e.dag_run_id = %s
            )
            group by 1, 2 order by 1, 2
            """,
            (run_id,),
        ).fetchall()
        quarantined = conn.execute(
            """
            select b.batch_id, b.file_name, b.error_message
            from audit.load_batch as b
            where b.status = 'quarantined' and b.batch_id in (
                select e.batch_id from audit.load_batch_event as e
                where e.dag_run_id = %s and e.status = 'quarantined'
            )
            order by b.batch_id
            """,
            (run_id,),
        ).fetchall()
        corrected = corrections_of_run(conn, run_id)
    return {
        "run_id": run_id,
        "corrections": corrected,
        "batches": [
            {
                "dataset": d,
                "status": s,
                "files": n,
                "rows_read": r,
                "rows_loaded": ld,
                "rows_rejected": rj,
            }
            for d, s, n, r, ld, rj in rows
        ],
        "quarantined": [
            {"batch_id": b, "file_name": f, "reason": reason} for b, f, reason in quarantined
        ],
    }


def finish_run(
    dag_id: str | None,
    run_id: str | None,
    logical_date: date | None,
    settings: Settings | None = None,
) -> dict:
    """Record the run's summary in audit.pipeline_run, stamped with the versions of the code, the
    suites and the dbt project (vawg_warehouse.versions), and log it for the operator."""

    from vawg_warehouse import versions
    from vawg_warehouse.ingest import landing_check

    settings = settings or get_settings()
    strays = landing_check.unrecognised(settings.landing_dir)
    summary = run_summary(run_id, settings)
    summary["unrecognised"] = strays
    stamp = versions.current(settings)
    with connect(settings) as conn, conn.transaction():
        landing_check.record_unrecognised(conn, run_id, strays)
        append_rows(
            conn,
            "pipeline_run",
            [
                {
                    "dag_id": dag_id,
                    "dag_run_id": run_id,
                    "logical_date": logical_date,
                    "code_version": stamp.code,
                    "suites_sha256": stamp.suites_sha256,
                    "dbt_project_sha256": stamp.dbt_project_sha256,
                    "versions": stamp.as_dict(),
                    "summary": summary,
                }
            ],
        )
    for line in format_summary(summary):
        log.info("%s", line)
    return summary


@with_heartbeat("writing Data Docs")
def build_data_docs(dag_run_id: str, settings: Settings | None = None) -> str | None:
    """Great Expectations Data Docs of the run's validations, rebuilt from the audit schema into
    ``<reports dir>/data_docs/<run>/`` (vawg_warehouse.outputs.data_docs); None if nothing was
    validated."""
    from vawg_warehouse.outputs import data_docs, reports

    settings = settings or get_settings()
    site = reports.data_docs_index(settings.reports_dir, dag_run_id).parent
    with connect(settings) as conn:
        index = data_docs.build(conn, dag_run_id, site)
    return None if index is None else str(index)


def report_run(dag_run_id: str, settings: Settings | None = None) -> dict:
    """The auditor's report of a run: one HTML page, kept in audit.run_report and written to
    ``<reports dir>/runs/`` with the index of runs (vawg_warehouse.outputs.reports)."""
    from vawg_warehouse.outputs import reports

    settings = settings or get_settings()
    with connect(settings) as conn:
        facts, path = reports.report_run(conn, dag_run_id, settings.reports_dir)
    log.info("run report (%s): %s", facts.status, path)
    return reports.facts_as_dict(facts)


def format_summary(summary: dict) -> list[str]:
    """The run's summary as lines for a log or a terminal (counts and file names only)."""
    lines = [f"run {summary['run_id']}:"]
    if not summary["batches"]:
        lines.append("  no new files")
    for b in summary["batches"]:
        lines.append(
            f"  {b['dataset']:<16} {b['status']:<12} files {b['files']:>5}  rows read "
            f"{b['rows_read']:>10,}  loaded {b['rows_loaded']:>10,}  "
            f"rejected {b['rows_rejected']:>8,}"
        )
    for q in summary["quarantined"]:
        lines.append(f"  QUARANTINED batch {q['batch_id']} {q['file_name']}: {q['reason']}")
    for c in summary.get("corrections", []):
        lines.append(f"  CORRECTION batch {c['batch_id']} {c['file_name']}: {describe(c)}")
    for name in summary.get("unrecognised", []):
        lines.append(f"  UNRECOGNISED {name}: matches no data contract, not read")
    return lines


@with_heartbeat("checking source freshness")
def check_source_freshness(
    ctx: RunContext, settings: Settings | None = None, task_id: str | None = None
) -> dict:
    """dbt source freshness, recorded in audit.source_freshness; a stale source is a warning,
    never a failure (vawg_warehouse.dbt_run.freshness)."""
    from vawg_warehouse.dbt_run import freshness

    return freshness.check_sources(ctx, settings or get_settings(), task_id).as_dict()


@with_heartbeat("building the scorecard")
def build_scorecard(
    dag_run_id: str | None, settings: Settings | None = None, out_dir=None, png: bool = False
) -> dict:
    """The Police and Crime Panel's measures scorecard, HTML and PDF, in
    ``<reports dir>/scorecard/`` (vawg_warehouse.outputs.scorecard); read-only on the warehouse."""
    from vawg_warehouse.outputs import scorecard

    settings = settings or get_settings()
    out = out_dir or scorecard.scorecard_dir(settings.reports_dir)
    with connect(settings) as conn:
        result = scorecard.build(conn, out, run_id=dag_run_id, png=png)
    for panel in result.panels:
        log.info(
            "scorecard %s: %s %s (%s)",
            panel.measure.id,
            panel.latest_label or "-",
            panel.latest_text or "-",
            panel.status_key,
        )
    log.info("scorecard: %s%s", result.html, f", {result.pdf}" if result.pdf else "")
    return result.as_dict()


@with_heartbeat("writing dbt docs")
def build_dbt_docs(settings: Settings | None = None, out_dir=None) -> str:
    """dbt docs (models, columns, tests, lineage and exposures), one static page in
    ``<reports dir>/dbt_docs/index.html`` (vawg_warehouse.dbt_run.dbt_docs)."""
    from vawg_warehouse.dbt_run import dbt_docs

    settings = settings or get_settings()
    page = dbt_docs.generate(settings, out_dir or dbt_docs.docs_dir(settings.reports_dir))
    log.info("dbt docs: %s", page)
    return str(page)


# --------------------------------------------------------------------------------------------
# The run's outcome (vawg_warehouse.run_outcome)
# --------------------------------------------------------------------------------------------
