"""Data Docs for one pipeline run: every Great Expectations validation of the run, one page.

Validation runs in many task processes (one per dataset, on any worker), each with its own
ephemeral GX context whose results vanish with the process. So the page is built afterwards,
from what ``audit.store_validations`` kept in ``audit.validation_run`` / ``validation_result``
(expectation type, column, severity, rule name, counts, observed value, failing line numbers),
into ``<reports dir>/data_docs/<run>/index.html``.

It is one self-contained HTML page (the run report's style sheet inline, no script at all), not
GX's own site builder: that site loads jQuery, Bootstrap and fonts from other sites (an empty
page on a network without internet), wrote a file name into its HTML unescaped, and took minutes
and a hundred megabytes for the demo's backlog. Every value here is escaped (jinja2 autoescape);
the audit rows hold no data values, so neither does the page.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from vawg_warehouse.private_files import make_private, private_folder, write_private

log = logging.getLogger(__name__)


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


def build(conn: psycopg.Connection, dag_run_id: str, site_dir: Path) -> Path | None:
    """Write the run's Data Docs, one self-contained page, as ``site_dir/index.html`` (the folder
    replaced); returns it, or None when the run validated nothing (nothing is written).

    The page is rendered here (jinja2, every value escaped) from the audit rows: no Great
    Expectations site, so no script, font or style sheet from another site, nothing to load
    when the police network has no internet, and no static folder to share or link."""
    validations = _validations(conn, dag_run_id)
    if not validations:
        return None
    began = time.perf_counter()
    from vawg_warehouse.outputs import reports

    page = (
        reports._environment()
        .get_template("data_docs.html.j2")
        .render(
            dag_run_id=dag_run_id,
            validations=[_for_page(v) for v in validations],
            suites=sorted({v["suite_name"] for v in validations}),
            generated_at=datetime.now(UTC),
        )
    )
    private_folder(site_dir.parent)  # <reports dir>/data_docs: owner-only
    building = site_dir.with_name(site_dir.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    private_folder(building)
    write_private(building / "index.html", page)
    make_private(building)
    shutil.rmtree(site_dir, ignore_errors=True)
    building.replace(site_dir)
    log.info(
        "Data Docs for %d validation(s) of %s written in %.1f s: %s",
        len(validations),
        dag_run_id,
        time.perf_counter() - began,
        site_dir,
    )
    return site_dir / "index.html"


def _for_page(validation: dict[str, Any]) -> dict[str, Any]:
    """One validation as the page shows it: each expectation with its counts and failing lines
    (line numbers and observed aggregates only: the audit rows hold no values)."""
    rows = []
    for row in validation["results"]:
        (index, rule, kind, severity, success, element_count, unexpected, percent, lines,
         observed, kwargs, error) = row  # fmt: skip
        rows.append(
            {
                "index": index,
                "rule": rule,
                "type": kind,
                "column": (kwargs or {}).get("column")
                or ", ".join((kwargs or {}).get("column_list") or ()),
                "severity": severity,
                "success": success,
                "element_count": element_count,
                "unexpected_count": unexpected,
                "unexpected_percent": float(percent) if percent is not None else None,
                "lines": lines or [],
                "observed": observed,
                "error": error,
            }
        )
    return {
        **{k: v for k, v in validation.items() if k != "results"},
        "results": rows,
        "failed": sum(not r["success"] for r in rows),
        "critical_failed": sum(not r["success"] and r["severity"] == "critical" for r in rows),
    }
