"""Great Expectations Data Docs for one pipeline run, rebuilt from the audit schema.

Validation runs in many task processes (one per dataset, on any worker), each with its own
ephemeral GX context whose results vanish with the process. So the site is built afterwards,
from what ``audit.store_validations`` kept in ``audit.validation_run`` / ``validation_result``:
each stored validation becomes a GX ``ExpectationSuiteValidationResult`` again (expectation type,
kwargs, severity, rule name, counts, observed value, failing line numbers), goes into a fresh
ephemeral context's validation results store, and GX's own ``build_data_docs`` renders a static
site into ``<reports dir>/data_docs/<run>/``. The audit rows hold no data values, so neither
does the site: GX shows "unexpected values" only when it has them.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import psycopg

from vawg_warehouse.private_files import make_private, private_folder
from vawg_warehouse.validate.suites import ROW_NUMBER_COLUMN

log = logging.getLogger(__name__)

SITE_NAME = "vawg_run"


def _validations(conn: psycopg.Connection, dag_run_id: str) -> list[dict[str, Any]]:
    runs = conn.execute(
        """
        select v.validation_run_id, v.batch_id, v.suite_name, v.success, v.started_at,
               v.finished_at, v.parameters, v.gx_version, b.file_name, b.dataset
        from audit.validation_run as v
        join audit.load_batch as b using (batch_id)
        where v.dag_run_id = %s
        order by v.validation_run_id
        """,
        (dag_run_id,),
    ).fetchall()
    found = []
    for run in runs:
        results = conn.execute(
            """
            select expectation_index, rule, expectation_type, severity, success, element_count,
                   unexpected_count, unexpected_percent, failing_row_numbers, observed_value,
                   kwargs, error
            from audit.validation_result
            where validation_run_id = %s order by expectation_index
            """,
            (run[0],),
        ).fetchall()
        found.append(
            {
                "validation_run_id": run[0],
                "batch_id": run[1],
                "suite_name": run[2],
                "success": run[3],
                "started_at": run[4],
                "finished_at": run[5],
                "parameters": run[6] or {},
                "gx_version": run[7],
                "file_name": run[8],
                "dataset": run[9],
                "results": results,
            }
        )
    return found


def _suites(validations: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each suite as it ran (the first validation of it in the run), from the stored rows."""
    suites: dict[str, list[dict[str, Any]]] = {}
    for validation in validations:
        if validation["suite_name"] in suites:
            continue
        suites[validation["suite_name"]] = [
            {
                "type": kind,
                "kwargs": kwargs or {},
                "meta": {"rule": rule},
                "severity": severity,
            }
            for (_, rule, kind, severity, *_, kwargs, _) in validation["results"]
        ]
    return suites


def _result_body(row: tuple) -> dict[str, Any]:
    (_, _, _, _, _, element_count, unexpected, percent, lines, observed, _, _) = row
    body: dict[str, Any] = {}
    if element_count is not None:
        body["element_count"] = element_count
    if unexpected is not None:
        body["unexpected_count"] = unexpected
        body["unexpected_percent"] = float(percent) if percent is not None else None
        body["partial_unexpected_list"] = []  # never values: they can be personal data
    if lines:
        body["partial_unexpected_index_list"] = [{ROW_NUMBER_COLUMN: n} for n in lines]
        body["unexpected_index_column_names"] = [ROW_NUMBER_COLUMN]
    if observed is not None:
        body["observed_value"] = observed
    return body


def _suite_result(validation: dict[str, Any], dag_run_id: str) -> tuple[Any, Any]:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    results = []
    for row in validation["results"]:
        index, rule, kind, severity, success, *_, kwargs, error = row
        config = ExpectationConfiguration(
            type=kind,
            kwargs=kwargs or {},
            meta={"rule": rule, "expectation_index": index},
            severity=severity,
        )
        results.append(
            ExpectationValidationResult(
                success=success,
                expectation_config=config,
                result=_result_body(row),
                exception_info={
                    "raised_exception": error is not None,
                    "exception_message": error,
                    "exception_traceback": None,
                },
            )
        )
    passed = sum(r.success for r in results)
    run_id = RunIdentifier(run_name=dag_run_id, run_time=validation["started_at"])
    return ExpectationSuiteValidationResult(
        success=validation["success"],
        results=results,
        suite_name=validation["suite_name"],
        suite_parameters=dict(validation["parameters"]),
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
        meta={
            "great_expectations_version": validation["gx_version"],
            "run_id": run_id,
            "validation_time": validation["started_at"],
            "active_batch_definition": {
                "datasource_name": "warehouse",
                "data_connector_name": "fluent",
                "data_asset_name": f"batch {validation['batch_id']}: {validation['file_name']}",
                "batch_identifiers": {"batch_id": validation["batch_id"]},
            },
            "batch_markers": {"batch_id": validation["batch_id"]},
            "batch_spec": {
                "data_asset_name": f"{validation['file_name']} (batch {validation['batch_id']})"
            },
        },
        batch_id=f"batch_{validation['batch_id']}",
    ), run_id


def build(conn: psycopg.Connection, dag_run_id: str, site_dir: Path) -> Path | None:
    """Build the run's Data Docs site in ``site_dir`` (replaced); returns its index.html, or
    None when the run validated nothing (no site is written)."""
    validations = _validations(conn, dag_run_id)
    if not validations:
        return None
    began = time.perf_counter()
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    # GX, quiet, with the project's own expectations registered
    from vawg_warehouse.validate import gx_runtime as g

    context = g.gx.get_context(mode="ephemeral")
    context.variables.progress_bars = g.ProgressBarsConfig(globally=False)
    context.enable_analytics(False)
    private_folder(site_dir.parent)  # <reports dir>/data_docs: owner-only before GX writes
    building = site_dir.with_name(site_dir.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    private_folder(building)
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "show_how_to_buttons": False,
            },
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(building),
            },
        },
    )
    for name, expectations in _suites(validations).items():
        context.suites.add(g.ExpectationSuite(name=name, expectations=expectations))
    store = context.validation_results_store
    for validation in validations:
        result, run_id = _suite_result(validation, dag_run_id)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run_id,
            batch_identifier=f"batch_{validation['batch_id']}",
        )
        store.set(key, result)
    context.build_data_docs(site_names=[SITE_NAME])
    _share_static(building, site_dir.parent / f"static-{g.version}")
    make_private(building)  # files 0600, folders 0700, whatever GX's umask gave them
    shutil.rmtree(site_dir, ignore_errors=True)
    building.replace(site_dir)
    log.info(
        "Data Docs for %d validation(s) of %s built in %.1f s: %s",
        len(validations),
        dag_run_id,
        time.perf_counter() - began,
        site_dir,
    )
    return site_dir / "index.html"


def _share_static(site: Path, shared: Path) -> None:
    """GX copies 4 MB of fonts, images and styles into every site: keep one copy per GX version
    beside the run sites and link each site's ``static`` to it (kept as is where links fail)."""
    static = site / "static"
    if not static.is_dir():
        return
    if not shared.exists():
        partial = shared.with_name(shared.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(static, partial)
        make_private(partial)
        partial.replace(shared)
    shutil.rmtree(static)
    try:
        static.symlink_to(Path("..") / shared.name, target_is_directory=True)
    except OSError:  # no symbolic links here: a copy of its own
        shutil.copytree(shared, static)
