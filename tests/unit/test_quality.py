"""validate/: parameters, the validator's report, the audit rows and the message, on a real
PostgreSQL (the throwaway database of tests/expectations/conftest.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from tests.expectations.conftest import (  # noqa: F401 - fixtures
    PARAMETERS,
    _gx_database,
    clean_rows,
    landing_table,
)
from vawg_warehouse.audit import store_validation, store_validations
from vawg_warehouse.config import get_settings
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.validate.results import (
    MAX_FAILING_ROWS,
    format_failures,
)
from vawg_warehouse.validate.suites import (
    QualityError,
    extract_date_from_file_name,
    read_suite,
    recent_volumes,
    recent_volumes_for,
    run_parameters,
    seeds_dir,
    split_table,
    suite_path,
    suites_dir,
    volume_bounds,
)
from vawg_warehouse.validate.validator import (
    BOOLEAN_ONLY,
    TWO_PASS,
    BatchValidator,
    get_validator,
    validate_batch,
)
from vawg_warehouse.warehouse import ConnectionInfo

CRIMES = load_contract("force_crimes")
OUTCOMES = load_contract("force_outcomes")
SECRET = "SECRET-VALUE-Jane-Doe"  # a bad value that must never reach the audit tables


def _validate(info: ConnectionInfo, table: str, batch_id: int, contract=CRIMES, **kwargs):
    kwargs.setdefault("parameters", PARAMETERS)
    return validate_batch(info, contract, table, batch_id=batch_id, **kwargs)


# --------------------------------------------------------------------------------------------
# Without a database
# --------------------------------------------------------------------------------------------


def test_importing_validate_does_not_import_great_expectations() -> None:
    code = (
        "import sys, vawg_warehouse.validate.validator, vawg_warehouse.validate.together; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_run_parameters_read_seeds_and_contract_lists() -> None:
    params = run_parameters(CRIMES, PARAMETERS)
    seed = seeds_dir() / "local_authorities.csv"
    lines = [line.split(",") for line in seed.read_text().splitlines()[1:] if line]
    codes = [line[0] for line in lines if "lancashire" in line]  # the home force's (default)
    assert params["seed_local_authorities"] == codes and len(codes) == 14
    assert params["contract_domestic_abuse_flag"] == ["Y", "N"]
    assert params["contract_victim_age_band"] == list(CRIMES.columns[7].allowed_values)
    assert (params["extract_date"], params["as_of"]) == ("2025-03-02", "2025-03-03T06:00:00Z")
    outcomes = run_parameters(OUTCOMES, PARAMETERS)
    assert "0" in outcomes["seed_ho_outcome_types"] and "1A" in outcomes["seed_ho_outcome_types"]


def test_allowed_areas_are_the_home_forces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A seed that holds several forces' rows allows the home force's only (VAWG_HOME_FORCE)."""
    monkeypatch.setenv("VAWG_HOME_FORCE", "cumbria")
    params = run_parameters(CRIMES, PARAMETERS)
    assert params["seed_local_authorities"] == ["E06000063", "E06000064"]
    returns = run_parameters(load_contract("services_quarterly_returns"), PARAMETERS)
    assert returns["seed_service_areas"] == ["E06000063", "E06000064", "E23000002"]
    # a seed whose force_code is each row's own id (every force) is never filtered
    public = run_parameters(load_contract("public_home_office_recorded_crime"), PARAMETERS)
    assert {"Lancashire", "Cumbria", "Kent"} <= set(public["seed_police_forces"])
    monkeypatch.setenv("VAWG_HOME_FORCE", "no-such-force")
    with pytest.raises(QualityError, match="no values in column 'local_authority_code' for"):
        run_parameters(CRIMES, PARAMETERS)


def test_extract_date_comes_from_the_parameters_then_file_name_then_run_date() -> None:
    def extract_date(**kwargs) -> str:
        return run_parameters(CRIMES, **kwargs)["extract_date"]

    name = "force/crimes/crimes_2025-03-01.csv"
    assert extract_date(parameters={"extract_date": date(2025, 2, 1)}, file_name=name) == (
        "2025-02-01"
    )
    assert extract_date(file_name=name, run_date=date(2025, 3, 9)) == "2025-03-01"
    assert extract_date(file_name="odd.csv", run_date=date(2025, 3, 9)) == "2025-03-09"
    as_of = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
    assert extract_date(parameters={"as_of": as_of}) == "2025-03-10"


def test_as_of_defaults_to_now_and_is_checked() -> None:
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    as_of = run_parameters(CRIMES)["as_of"]
    assert as_of.endswith("Z") and as_of[:16] >= before
    assert run_parameters(CRIMES, {"as_of": "2025-03-03"})["as_of"] == "2025-03-03"
    for bad in ("2025-03-03T06:00:00+01:00", "yesterday", datetime(2025, 3, 3)):
        with pytest.raises(ValueError):
            run_parameters(CRIMES, {"as_of": bad})
    with pytest.raises(ValueError):
        run_parameters(CRIMES, {"extract_date": "2/3/2025"})


def test_extract_date_from_file_name() -> None:
    assert extract_date_from_file_name("a/crimes_2025-03-02.csv") == date(2025, 3, 2)
    assert extract_date_from_file_name("crimes_2025-02-30.csv") is None
    assert extract_date_from_file_name("crimes.csv") is None


def test_split_table() -> None:
    assert split_table("landing.force_crimes__b12") == ("landing", "force_crimes__b12")
    assert split_table("force_crimes__b12") == ("landing", "force_crimes__b12")
    for bad in ('landing."x"', "landing.x; drop table y", "Landing.X"):
        with pytest.raises(ValueError):
            split_table(bad)


def test_a_suite_without_severity_or_rule_is_refused(tmp_path: Path) -> None:
    suite = {"name": "force_crimes", "expectations": [{"type": "x", "kwargs": {}, "meta": {}}]}
    (tmp_path / "force_crimes.json").write_text(json.dumps(suite))
    with pytest.raises(QualityError, match="needs a severity"):
        read_suite("force_crimes", tmp_path)
    with pytest.raises(QualityError, match="no expectation suite"):
        read_suite("nothing", tmp_path)


def test_the_validator_takes_settings_or_a_connection(monkeypatch) -> None:
    url = "postgresql://someone:pw@db.example:5433/warehouse"
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", url)
    from_settings = BatchValidator(get_settings())
    assert from_settings.conn_info == ConnectionInfo.from_url(url)
    assert from_settings.suites == get_settings().expectations_dir / "expectations"
    info = ConnectionInfo.from_url("postgresql://postgres@127.0.0.1:5432/x")
    assert BatchValidator(info).conn_info == info


# --------------------------------------------------------------------------------------------
# On a real PostgreSQL
# --------------------------------------------------------------------------------------------


def test_a_clean_batch_passes_with_counts(landing_table, _gx_database) -> None:  # noqa: F811
    batch_id, table = landing_table("force_crimes", clean_rows("force_crimes"))
    report = _validate(_gx_database, table, batch_id, dag_run_id="run-1")
    assert report.success and report.all_passed
    assert report.failed_rules() == [] and report.critical_failures == []
    assert (report.batch_id, report.table, report.dag_run_id) == (batch_id, table, "run-1")
    path = suite_path("force_crimes")
    assert report.suite_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.gx_version.startswith("1.")
    assert report.parameters == PARAMETERS
    assert report.result_format == TWO_PASS
    by_type = {r.expectation_type: r for r in report.results}
    assert by_type["expect_table_row_count_to_be_between"].observed_value == 5
    columns = by_type["expect_table_columns_to_match_set"].observed_value
    assert sorted(columns) == sorted([*CRIMES.stored_names, "_row_number", "_malformed"])
    for result in report.results:
        if result.expectation_type.startswith("expect_column"):
            assert (result.element_count, result.unexpected_count) == (5, 0), result.rule
            assert result.observed_value is None and result.failing_row_numbers == ()
    assert report.finished_at >= report.started_at


def test_a_warning_only_failure_does_not_fail_the_batch(landing_table, _gx_database) -> None:  # noqa: F811
    rows = clean_rows("force_crimes")
    rows[0]["offence_date"] = "2025-03-04"  # after its recorded_date (line 2), not the run
    rows[3]["offence_date"] = "2025-03-01"  # line 5, recorded 2025-02-27
    batch_id, table = landing_table("force_crimes", rows)
    report = _validate(_gx_database, table, batch_id)
    assert report.success and not report.all_passed
    assert report.critical_failures == []
    (warning,) = report.warning_failures
    assert warning.rule == "offence_date is not after recorded_date"
    assert (warning.severity, warning.unexpected_count) == ("warning", 2)
    assert warning.failing_row_numbers == (2, 5)
    assert warning.column == "recorded_date,offence_date"


def test_at_most_20_failing_lines_are_kept(landing_table, _gx_database) -> None:  # noqa: F811
    rows = [dict(clean_rows("force_crimes")[0]) for _ in range(30)]
    for i, row in enumerate(rows):
        row["crime_reference"] = f"LC-2025-{i:07d}"
        row["victim_sex"] = "X" if i % 2 == 0 else "F"  # lines 2, 4, ..., 30
    batch_id, table = landing_table("force_crimes", rows)
    report = _validate(_gx_database, table, batch_id)
    (failure,) = report.critical_failures
    assert failure.unexpected_count == 15 and failure.element_count == 30
    assert failure.unexpected_percent == pytest.approx(50.0)
    assert failure.failing_row_numbers == tuple(range(2, 31, 2))  # all 15 (under the cap)
    rows = [dict(rows[0], crime_reference=f"LC-2025-{i:07d}") for i in range(45)]  # all "X"
    batch_id, table = landing_table("force_crimes", rows)
    (failure,) = _validate(_gx_database, table, batch_id).critical_failures
    assert failure.unexpected_count == 45
    assert len(failure.failing_row_numbers) == MAX_FAILING_ROWS


def test_store_validation_writes_the_run_and_one_row_per_expectation(
    landing_table,  # noqa: F811
    _gx_database,  # noqa: F811
) -> None:
    rows = clean_rows("force_crimes")
    rows[1]["victim_sex"] = SECRET  # line 3: critical
    rows[2]["suspect_pseudonym"] = " "  # line 4: warning
    batch_id, table = landing_table("force_crimes", rows)
    report = _validate(_gx_database, table, batch_id, dag_run_id="manual__1")
    with psycopg.connect(_gx_database.url) as conn:
        run_id = store_validation(conn, report)
        run = conn.execute(
            "select batch_id, suite_name, suite_sha256, gx_version, success, critical_failures,"
            " warning_failures, dag_run_id, finished_at >= started_at"
            " from audit.validation_run where validation_run_id = %s",
            (run_id,),
        ).fetchone()
        results = conn.execute(
            "select expectation_index, rule, severity, success, element_count, unexpected_count,"
            " failing_row_numbers, observed_value, kwargs, expectation_type"
            " from audit.validation_result where validation_run_id = %s"
            " order by expectation_index",
            (run_id,),
        ).fetchall()
        parameters, result_format = conn.execute(
            "select parameters, result_format from audit.validation_run"
            " where validation_run_id = %s",
            (run_id,),
        ).fetchone()
        errors = conn.execute(
            "select count(*) from audit.validation_result where validation_run_id = %s"
            " and error is not null",
            (run_id,),
        ).fetchone()[0]
        stored = conn.execute(
            "select (select string_agg(t::text, '') from audit.validation_run t)"
            " || (select string_agg(t::text, '') from audit.validation_result t)"
        ).fetchone()[0]
    assert parameters == {"extract_date": "2025-03-02", "as_of": "2025-03-03T06:00:00Z"}
    assert result_format == report.result_format and errors == 0
    assert run == (
        batch_id,
        "force_crimes",
        report.suite_sha256,
        report.gx_version,
        False,
        1,
        1,
        "manual__1",
        True,
    )
    assert [r[0] for r in results] == list(range(len(report.results)))
    failed = {r[1]: r for r in results if not r[3]}
    assert set(failed) == {"victim_sex is F, M or U", "suspect_pseudonym, when given, is not blank"}
    sex = failed["victim_sex is F, M or U"]
    assert (sex[2], sex[4], sex[5], sex[6]) == ("critical", 5, 1, [3])
    assert sex[8] == {"column": "victim_sex", "value_set": {"$PARAMETER": "contract_victim_sex"}}
    assert failed["suspect_pseudonym, when given, is not blank"][6] == [4]
    for row in results:  # observed values only for table-level expectations
        assert (row[7] is not None) == row[9].startswith("expect_table_"), row[1]
    assert SECRET not in stored  # no data value reaches the audit trail


def test_store_validations_writes_each_report_as_store_validation_does(
    landing_table,  # noqa: F811
    _gx_database,  # noqa: F811
) -> None:
    """Many reports in one call: ids in order, each run with its own rows, as one by one."""
    reports = []
    for change in ({}, {"victim_sex": SECRET}, {"suspect_pseudonym": " "}):
        rows = clean_rows("force_crimes")
        rows[1].update(change)
        batch_id, table = landing_table("force_crimes", rows)
        reports.append(_validate(_gx_database, table, batch_id))

    def stored(conn, run_ids):
        return [
            conn.execute(
                "select v.batch_id, v.success, v.critical_failures, v.warning_failures, "
                "v.parameters, v.result_format, r.expectation_index, r.rule, r.success, "
                "r.element_count, r.unexpected_count, r.unexpected_percent, "
                "r.failing_row_numbers, r.observed_value, r.kwargs, r.error "
                "from audit.validation_run as v join audit.validation_result as r "
                "using (validation_run_id) where validation_run_id = %s "
                "order by r.expectation_index",
                (run_id,),
            ).fetchall()
            for run_id in run_ids
        ]

    with psycopg.connect(_gx_database.url) as conn:
        many = store_validations(conn, reports)
        one_by_one = [store_validation(conn, report) for report in reports]
        assert store_validations(conn, []) == []
        assert stored(conn, many) == stored(conn, one_by_one)
        batches = [rows[0][0] for rows in stored(conn, many)]
        assert batches == [r.batch_id for r in reports] and many == sorted(many)
        (secret,) = conn.execute(
            "select count(*) from audit.validation_result where failing_row_numbers = '{3}' "
            "and rule = 'victim_sex is F, M or U' and validation_run_id = any(%s)",
            (many,),
        ).fetchone()
        assert secret == 1


def test_format_failures_names_the_file_rules_counts_and_lines(
    landing_table,  # noqa: F811
    _gx_database,  # noqa: F811
) -> None:
    rows = clean_rows("force_crimes")
    rows[0]["ho_offence_code"] = "99Z"  # line 2
    rows[4]["ho_offence_code"] = "99Z"  # line 6
    rows[2]["extracted_at"] = "2025-03-01T09:00:00Z"  # line 4, warning
    batch_id, table = landing_table("force_crimes", rows)
    report = _validate(_gx_database, table, batch_id)
    message = format_failures(report, "force/crimes/crimes_2025-03-02.csv")
    lines = message.splitlines()
    assert lines[0].startswith(f"force/crimes/crimes_2025-03-02.csv (batch {batch_id}")
    assert "1 critical and 1 warning" in lines[0] and "quarantined" in lines[0]
    assert lines[1] == (
        "  CRITICAL ho_offence_code is a known Home Office offence code: 2 rows of 5, lines 2, 6"
    )
    assert lines[2] == ("  WARNING  extracted_at is not before the file's date: 1 row of 5, line 4")
    assert "99Z" not in message

    batch_id, table = landing_table("force_crimes", clean_rows("force_crimes"))
    report = _validate(_gx_database, table, batch_id)
    assert format_failures(report, "crimes_2025-03-02.csv") == (
        f"crimes_2025-03-02.csv (batch {batch_id}, suite force_crimes): "
        f"all {len(report.results)} expectations passed"
    )


def test_one_validator_serves_many_batches_and_cleans_up(
    landing_table,  # noqa: F811
    _gx_database,  # noqa: F811
    tmp_path: Path,
) -> None:
    suites = tmp_path / "suites"
    shutil.copytree(suites_dir(), suites)
    validator = BatchValidator(_gx_database, suites=suites)
    try:
        for dataset, contract in (("force_crimes", CRIMES), ("force_outcomes", OUTCOMES)) * 2:
            batch_id, table = landing_table(dataset, clean_rows(dataset))
            report = validator.validate(contract, table, batch_id=batch_id, parameters=PARAMETERS)
            assert report.all_passed
        datasource = validator._datasource
        assert list(datasource.assets) == []  # one asset per batch, removed after its run
        assert validator._context.validation_definitions.all() == []
        assert sorted(s.name for s in validator._context.suites.all()) == [
            "force_crimes",
            "force_outcomes",
        ]
        # An edited suite file is picked up by the same validator (and its new sha256 recorded).
        path = suites / "force_crimes.json"
        definition = json.loads(path.read_text())
        definition["expectations"][1]["meta"]["rule"] = "the file is not empty"
        path.write_text(json.dumps(definition, indent=2))
        batch_id, table = landing_table("force_crimes", [])
        report = validator.validate(CRIMES, table, batch_id=batch_id, parameters=PARAMETERS)
        assert report.failed_rules() == ["the file is not empty"]
        assert report.suite_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert validator._datasource is datasource
    finally:
        validator.close()


def test_a_missing_table_is_an_error_not_a_failure(_gx_database) -> None:  # noqa: F811
    with pytest.raises(QualityError, match="landing.force_crimes__b999999"):
        _validate(_gx_database, "landing.force_crimes__b999999", 999999)


def test_boolean_only_gives_pass_fail_without_counts(landing_table, _gx_database) -> None:  # noqa: F811
    rows = clean_rows("force_crimes")
    rows[1]["victim_sex"] = "X"
    batch_id, table = landing_table("force_crimes", rows)
    report = get_validator(_gx_database).validate(
        CRIMES, table, batch_id=batch_id, parameters=PARAMETERS, result_format=BOOLEAN_ONLY
    )
    (failure,) = report.failures
    assert failure.rule == "victim_sex is F, M or U" and failure.unexpected_count is None
    assert report.result_format == "BOOLEAN_ONLY"


def test_volume_bounds_need_five_files_then_span_a_quarter_to_four_times_the_median() -> None:
    assert volume_bounds([10, 12, 9, 11]) == {
        "recent_volume_min": 0,
        "recent_volume_max": None,
    }
    assert volume_bounds([10, 12, 9, 11, 400]) == {
        "recent_volume_min": 2,  # floor(11 / 4): one huge file does not move the median
        "recent_volume_max": 44,
    }


def test_recent_volumes_compare_a_file_with_its_own_series(migrated) -> None:
    files = [
        ("services_quarterly_returns", "services/idva_2024-Q1.xlsx", 14, "published"),
        ("services_quarterly_returns", "services/sarc_2024-Q1.xlsx", 1, "published"),
        ("services_quarterly_returns", "services/idva_2024-Q2.xlsx", 15, "published"),
        ("services_quarterly_returns", "services/idva_2024-Q3.xlsx", 99, "quarantined"),
        ("force_crimes", "force/crimes/idva_2024-Q4.xlsx", 7, "published"),
        ("services_quarterly_returns", "services/idva_2024-Q4.xlsx", 13, "published"),
    ]
    with psycopg.connect(migrated.url) as conn:
        for i, (dataset, name, rows, status) in enumerate(files):
            conn.execute(
                "insert into audit.load_batch (dataset, file_name, file_sha256, file_size_bytes, "
                "status, rows_read) values (%s, %s, %s, 1, %s, %s)",
                (dataset, name, f"{i:064x}", status, rows),
            )
        recent = recent_volumes(
            conn, "services_quarterly_returns", "services/idva_2025-Q1.xlsx", 100
        )
        before_q4 = recent_volumes(
            conn, "services_quarterly_returns", "services/idva_2025-Q1.xlsx", 6
        )
    assert recent == [13, 15, 14]  # newest first; same series, published, same dataset
    assert before_q4 == [15, 14]


def test_recent_volumes_of_many_batches_in_one_query(migrated) -> None:
    """recent_volumes_for gives each batch what recent_volumes gives it alone."""
    with psycopg.connect(migrated.url) as conn:
        ids = []
        for i in range(40):
            dataset = ("force_crimes", "force_outcomes")[i % 2]
            name = f"force/{dataset[6:]}/{dataset[6:]}_2025-01-{1 + i // 2:02d}.csv"
            status = ("published", "published", "quarantined", "loaded")[i % 4]
            (batch_id,) = conn.execute(
                "insert into audit.load_batch (dataset, file_name, file_sha256, file_size_bytes, "
                "status, rows_read) values (%s, %s, %s, 1, %s, %s) returning batch_id",
                (dataset, name, f"{i:064x}", status, 100 + 7 * i),
            ).fetchone()
            ids.append(batch_id)
        many = recent_volumes_for(conn, ids)
        alone = {
            b: recent_volumes(conn, dataset, name, b)
            for b, dataset, name in conn.execute(
                "select batch_id, dataset, file_name from audit.load_batch"
            ).fetchall()
        }
        assert recent_volumes_for(conn, []) == {}
    assert many == alone
    assert max(len(v) for v in many.values()) == 10  # 20 published, half before the last
