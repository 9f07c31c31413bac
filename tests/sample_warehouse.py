"""A real warehouse with a couple of years of sample data, built fast enough for the fast tier.

The sample generator writes its files, the real loader registers and COPYs every one of them and
publishes it into the raw tables, and dbt (in process, as the nightly run's groups do) builds
every model into a migrated database on the test server. Only the Great Expectations step is
skipped (each batch is marked validated): the suites have tests of their own
(tests/expectations) and validating ~2,000 daily files would take ten minutes. dbt's data tests
are skipped too (each group's ``dbt build`` without tests); the dbt tier runs them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from tests.conftest import TEST_KEY, create_database
from vawg_warehouse.warehouse import ConnectionInfo

START = date(2024, 1, 1)
END = date(2025, 9, 14)
ROWS = 8_000


@dataclass(frozen=True)
class SampleWarehouse:
    database: ConnectionInfo
    landing: Path
    home: Path
    start: date
    end: date
    force: str = "lancashire"  # the home force (seed forces)

    def environment(self) -> dict[str, str]:
        return {
            "VAWG_HOME_FORCE": self.force,
            "VAWG_WAREHOUSE_URL": self.database.url,
            "VAWG_LANDING_DIR": str(self.landing),
            "VAWG_HOME": str(self.home),
            "VAWG_ARCHIVE_DIR": str(self.home / "archive"),
            "VAWG_PSEUDONYM_KEY": TEST_KEY,
        }


def build(
    server: ConnectionInfo,
    workspace: Path,
    force: str = "lancashire",
    rows: int = ROWS,
    prefix: str = "vawg_sample",
    validate_since: date | None = None,
) -> SampleWarehouse:
    """The sample warehouse of ``force`` (seed forces), ``rows`` crimes from START to END. With
    ``validate_since``, Great Expectations validates for real the batches of files dated from
    that day (and those without a date in their name); the others are marked validated."""
    from vawg_devtools.sample import generate
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.audit import get_batches
    from vawg_warehouse.dbt_run import transform
    from vawg_warehouse.ingest.batches import mark_validated
    from vawg_warehouse.ingest.datasets import SOURCES
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.validate.suites import extract_date_from_file_name

    database = create_database(server, prefix=prefix)
    landing, home = workspace / "landing", workspace / "home"
    sample = SampleWarehouse(database, landing, home, START, END, force)
    saved = {k: os.environ.get(k) for k in sample.environment()}
    os.environ.update(sample.environment())
    try:
        with psycopg.connect(database.url) as conn:
            migrate(conn)
        generate(landing, start=START, end=END, rows=rows, seed=13)
        ctx = o.run_context("vawg_nightly", "sample-run", END)
        for family in SOURCES:
            loaded = o.load_batches(o.register_family(family, ctx), ctx)
            checked = []
            with psycopg.connect(database.url, autocommit=True) as conn:
                for batch in get_batches(conn, loaded, status="loaded"):
                    day = extract_date_from_file_name(batch.file_name)
                    if validate_since is not None and (day is None or day >= validate_since):
                        checked.append(batch.batch_id)
                    else:
                        mark_validated(conn, batch, ctx)
            passed = set(o.validate_batches(checked, ctx)) if checked else set()
            assert passed == set(checked), f"{family}: batches failed validation"
            o.publish_batches(loaded, ctx)
        o.finish_run("vawg_nightly", "sample-run", END)
        for group in transform.GROUPS:
            ok, _, _, exc = transform.invoke(
                "build",
                o.get_settings(),
                [
                    "--select",
                    transform.selector(group),
                    "--exclude-resource-type",
                    "test",
                    "--exclude-resource-type",
                    "unit_test",
                ],
            )
            assert ok and exc is None, f"dbt run of group {group} failed: {exc}"
            _record_build(database, group)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return sample


def _record_build(database: ConnectionInfo, group: str) -> None:
    """What transform.run_group records after a build, so bi.data_as_of has the marts' times."""
    with psycopg.connect(database.url) as conn:
        conn.execute(
            "insert into audit.dbt_group_build (group_name, command, reason, dbt_project_sha256, "
            "success, node_count, dag_run_id, started_at, finished_at) "
            "values (%s, 'build', 'sample warehouse for tests', %s, true, 0, 'sample-run', "
            "clock_timestamp(), clock_timestamp())",
            (group, "0" * 64),
        )
