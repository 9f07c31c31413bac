"""Lineage and as-of recomputation against a real PostgreSQL, with real dbt builds.

The story an auditor asks about: crime files arrive and are published, the marts are built; later
the force re-sends a file with changed rows (domestic abuse flags corrected), the marts are built
again. Then:
* a mart row traces to the batches, files (sha256, archived copy) and validations behind it;
* ``asof`` at a moment between the two publications reproduces the first mart rows exactly,
  while the live mart shows the corrected figures;
* auditors can read the lineage schema, BI readers cannot.
The extract runs through the orchestration functions (no Airflow); dbt runs as the CLI does.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import psycopg
import pytest

from vawg_devtools.sample import generate
from vawg_warehouse import orchestration as o
from vawg_warehouse.cli import main as vawg_main
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform
from vawg_warehouse.dbt_run.asof import AsOfError, as_of_text, build_as_of, schema_prefix
from vawg_warehouse.ingest.batches import file_sha256
from vawg_warehouse.lineage import TraceError, parse_where, trace

MART = "mart_reporting_monthly"
KEYS = "month_start_date, local_authority_code, reporting_category"
RESENT = "force/crimes/crimes_2025-01-02.csv"


def test_as_of_values_and_schema_prefixes() -> None:
    assert as_of_text(date(2025, 1, 31)) == "2025-01-31"
    assert schema_prefix("2025-01-31") == "asof_20250131_"
    assert schema_prefix("2025-01-31T14:05:09.123+00:00") == "asof_20250131140509_"
    with pytest.raises(AsOfError):
        as_of_text("2025-01-31; drop schema marts")
    assert parse_where(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(TraceError):
        parse_where(["no_equals_sign"])


def _extract(dataset: str, run_id: str) -> list[int]:
    ctx = o.run_context("test", run_id, date(2025, 1, 4))
    ids = o.register_files(dataset, ctx)
    passed = o.validate_batches(o.load_batches(ids, ctx), ctx)
    o.publish_batches(passed, ctx)
    return passed


def _dbt_build(*selection: str) -> None:
    """dbt build in this process, as the DAG's tasks run it (one parse for both builds)."""
    success, nodes, _, exception = transform.invoke(
        "build",
        get_settings(),
        ["--indirect-selection", "cautious", "--select", *selection],
    )
    failed = [n.node.unique_id for n in nodes if str(n.status) in transform.FAILED_STATUSES]
    assert success and exception is None and not failed, (exception, failed)


def _rows(conn: psycopg.Connection, schema: str) -> list[tuple]:
    return conn.execute(f"select * from {schema}.{MART} order by {KEYS}").fetchall()


def _resend_with_flags_corrected(landing: Path) -> int:
    """Rewrite a published file as a source re-sending it: every DA flag Y becomes N."""
    path = landing / RESENT
    reader = csv.DictReader(io.StringIO(path.read_text()))
    rows = list(reader)
    flipped = sum(1 for r in rows if r["domestic_abuse_flag"] == "Y")
    for r in rows:
        r["domestic_abuse_flag"] = "N"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue())
    return flipped


@pytest.mark.slow  # two loads, two dbt builds and an as-of build: about a minute
def test_trace_and_asof_reproduce_a_mart_before_a_correction(
    migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    landing, home = tmp_path / "landing", tmp_path / "home"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_HOME", str(home))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 3), rows=90, seed=5)
    original_sha = file_sha256(landing / RESENT)
    selection = (f"+{MART}", "+lineage_reporting_monthly", "stg_audit__load_batches")

    first_batches = _extract("force_crimes", "run-1")
    assert len(first_batches) == 3
    _dbt_build(*selection)
    with psycopg.connect(migrated.url) as conn:
        first = _rows(conn, "marts")
        first_da = conn.execute(
            f"select sum(crime_count) from marts.{MART} where reporting_category = 'domestic_abuse'"
        ).fetchone()[0]
        between = conn.execute("select clock_timestamp()").fetchone()[0]

    flipped = _resend_with_flags_corrected(landing)
    assert flipped > 0
    (resent_batch,) = _extract("force_crimes", "run-2")
    _dbt_build(*selection)

    build = build_as_of(between, [MART], get_settings())
    assert build.returncode == 0, build.output[-6000:]
    assert build.schema_prefix == schema_prefix(between)

    with psycopg.connect(migrated.url) as conn:
        live = _rows(conn, "marts")
        live_da = conn.execute(
            f"select sum(crime_count) from marts.{MART} where reporting_category = 'domestic_abuse'"
        ).fetchone()[0]
        as_of_rows = _rows(conn, build.marts_schema)
        assert as_of_rows == first  # exactly the mart as it stood before the correction
        assert live != first and live_da < first_da  # the live mart has the corrected flags
        # The as-of build left the live schemas alone and used schemas of its own.
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
        assert {f"{build.schema_prefix}staging", build.marts_schema} <= schemas

        # Trace a live row that the re-sent file contributes to.
        month, authority, category, contributed = conn.execute(
            f"select {KEYS}, fact_row_count from lineage.lineage_reporting_monthly "
            "where batch_id = %s order by fact_row_count desc limit 1",
            (resent_batch,),
        ).fetchone()
        where = {
            "month_start_date": month.isoformat(),
            "local_authority_code": authority,
            "reporting_category": category,
        }
        result = trace(conn, MART, where, get_settings().archive_dir)

    assert result.matched_rows == 1 and len(result.rows) == 1
    crime_count = result.rows[0]["crime_count"]
    counted = {b.batch_id: b.fact_rows["fct_recorded_crime"] for b in result.batches}
    assert sum(counted.values()) == crime_count  # every crime counted has its batch
    assert counted[resent_batch] == contributed
    by_id = {b.batch_id: b for b in result.batches}
    resent = by_id[resent_batch]
    assert resent.file_name == RESENT and resent.status == "published"
    assert resent.file_sha256 == file_sha256(landing / RESENT) != original_sha
    for b in result.batches:
        assert b.dataset == "force_crimes" and b.archive_present
        assert file_sha256(Path(b.archive_location)) == b.file_sha256
        assert b.validation_runs == len(b.validations) >= 1 and b.last_validation_success
        assert b.validations[-1]["validation_run_id"] == b.last_validation_run_id
        assert b.validations[-1]["suite_name"] == "force_crimes"
    # The original file is still archived, under its own checksum, beside the corrected one.
    assert (get_settings().archive_dir / original_sha[:2] / f"{original_sha}.csv").is_file()

    # The CLI prints the same, with the file, checksum and validation.
    args = [f"--where={k}={v}" for k, v in where.items()]
    assert vawg_main(["trace", MART, *args]) == 0
    printed = capsys.readouterr().out
    assert f"batch {resent_batch}  force_crimes  published" in printed
    assert resent.file_sha256 in printed and "validation  run" in printed
    assert vawg_main(["trace", MART, "--where", "no_such_column=1"]) == 2

    # Auditors read the lineage and the marts; BI readers neither (they read schema bi only).
    with psycopg.connect(migrated.url) as conn:
        conn.execute("set role vawg_auditor")
        assert conn.execute("select count(*) from lineage.lineage_reporting_monthly").fetchone()[0]
        assert conn.execute("select count(*) from audit.load_batch_evidence").fetchone()[0] == 4
        assert conn.execute(f"select count(*) from marts.{MART}").fetchone()[0] == len(live)
        conn.execute("reset role")
        conn.execute("set role vawg_bi_reader")
        for relation in (f"marts.{MART}", "lineage.lineage_reporting_monthly"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"select count(*) from {relation}")
