"""How `vawg trace` prints a trace (the lines an auditor reads); the queries are in tests/dbt."""

from __future__ import annotations

from datetime import UTC, date, datetime

from vawg_warehouse.lineage import BatchEvidence, Trace, format_trace, lineage_view

AT = datetime(2025, 2, 1, 2, 40, tzinfo=UTC)


def _batch(**overrides) -> BatchEvidence:
    values = dict(
        batch_id=7,
        dataset="force_crimes",
        status="published",
        file_name="force/crimes/crimes_2025-01-02.csv",
        file_sha256="ab" * 32,
        archive_path=f"ab/{'ab' * 32}.csv",
        archive_location=f"/archive/ab/{'ab' * 32}.csv",
        archive_present=True,
        rows_read=40,
        rows_loaded=40,
        published_at=AT,
        validation_runs=1,
        last_validation_run_id=3,
        suite_name="force_crimes",
        last_validation_success=True,
        critical_failures=0,
        warning_failures=1,
        failed_rules=[],
        fact_rows={"fct_recorded_crime": 12},
        validations=[
            {
                "validation_run_id": 3,
                "suite_name": "force_crimes",
                "success": True,
                "critical_failures": 0,
                "warning_failures": 1,
                "finished_at": AT,
                "failed_rules": [
                    {
                        "rule": "offence_date is not after recorded_date",
                        "severity": "warning",
                        "column": "offence_date",
                        "unexpected_count": 2,
                        "failing_row_numbers": [5, 9],
                    }
                ],
            }
        ],
    )
    values.update(overrides)
    return BatchEvidence(**values)


def _trace(batches: list[BatchEvidence], matched: int = 1) -> Trace:
    keys = ["month_start_date", "local_authority_code", "reporting_category"]
    row = {
        "month_start_date": date(2025, 1, 1),
        "local_authority_code": "E07000117",
        "reporting_category": "domestic_abuse",
        "crime_count": 12,
    }
    return Trace(
        "mart_reporting_monthly",
        keys,
        {"local_authority_code": "E07000117"},
        matched,
        [row],
        batches,
    )


def test_a_trace_names_batch_file_checksum_archive_and_failed_rules() -> None:
    lines = format_trace(_trace([_batch()]))
    text = "\n".join(lines)
    assert lines[0] == (
        "marts.mart_reporting_monthly where local_authority_code = 'E07000117': 1 row(s)"
    )
    assert "[month_start_date=2025-01-01, local_authority_code=E07000117, " in text
    assert "crime_count=12" in text
    assert "batch 7  force_crimes  published  rows read 40  loaded 40" in text
    assert "counted here: 12 row(s) of fct_recorded_crime" in text
    assert f"sha256   {'ab' * 32}" in text
    assert f"archive  /archive/ab/{'ab' * 32}.csv (present)" in text
    assert "suite force_crimes: passed, 0 critical and 1 warning failure(s)" in text
    assert "failed (warning): offence_date is not after recorded_date - 2 row(s)" in text


def test_a_missing_archive_copy_and_an_unvalidated_batch_are_said_plainly() -> None:
    text = "\n".join(
        format_trace(_trace([_batch(archive_present=False, validations=[])], matched=25))
    )
    assert "(MISSING)" in text
    assert "validation  none recorded" in text
    assert "... 24 more row(s) not shown" in text
    legacy = "\n".join(format_trace(_trace([_batch(archive_path=None)])))
    assert "archive  none (registered before the archive existed)" in legacy


def test_a_grid_zero_has_no_batches_and_lineage_views_are_named_for_their_mart() -> None:
    assert format_trace(_trace([]))[-1].startswith("no fact rows behind these rows")
    assert lineage_view("mart_reporting_monthly") == "lineage_reporting_monthly"
