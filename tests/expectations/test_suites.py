"""The expectation suites: well-formed, in step with the contracts, and each rule catching its row.

The static tests read the JSON files and the contracts; the others build landing tables by hand in
a throwaway PostgreSQL database, break one value, validate in SQL and check that exactly the
intended rule fails, on the intended file line.
"""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest

from tests.expectations import cases_cps_funding, cases_public
from tests.expectations.conftest import PARAMETERS, clean_rows
from vawg_warehouse.ingest.contracts import all_contracts, load_contract
from vawg_warehouse.validate.results import ExpectationResult, ValidationReport, format_failures
from vawg_warehouse.validate.suites import (
    QUERY_RULE,
    SuiteFile,
    allowed_value_parameter,
    read_suite,
    run_parameters,
    seeds_dir,
    volume_bounds,
)
from vawg_warehouse.validate.validator import validate_batch
from vawg_warehouse.warehouse import ConnectionInfo

CONTRACTS = {c.dataset: c for c in all_contracts()}
DATASETS = sorted(CONTRACTS)
LOADER_COLUMNS = ["_row_number", "_malformed"]
FORMAT_TYPES = {
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_in_set",
}


def _suite(dataset: str) -> SuiteFile:
    return read_suite(dataset)


def _expectations(dataset: str, type_: str | None = None, column: str | None = None) -> list[dict]:
    return [
        e
        for e in _suite(dataset).expectations
        if (type_ is None or e["type"] == type_)
        and (column is None or e["kwargs"].get("column") == column)
    ]


def _parameter_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        if "$PARAMETER" in value:
            return {value["$PARAMETER"]}
        return set().union(*(_parameter_names(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_parameter_names(v) for v in value))
    return set()


# --------------------------------------------------------------------------------------------
# The files themselves
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_contract_has_a_suite_named_after_it(dataset: str) -> None:
    suite = _suite(dataset)
    assert suite.name == dataset
    assert suite.definition["meta"]["dataset"] == dataset
    assert suite.definition["meta"]["contract"].endswith(f"contracts/{dataset}.yml")


@pytest.mark.parametrize("dataset", DATASETS)
def test_suite_is_valid_gx_suite_json(dataset: str) -> None:
    """GX 1.x builds the suite from the file, every type known and every kwarg accepted."""
    suite = _suite(dataset)
    from vawg_warehouse.validate.gx_runtime import ExpectationSuite

    built = ExpectationSuite(
        name=suite.name, expectations=suite.expectations, meta=suite.definition["meta"]
    )
    assert len(built.expectations) == len(suite.expectations)
    for declared, expectation in zip(suite.expectations, built.expectations, strict=True):
        assert expectation.expectation_type == declared["type"]
        for key, value in declared["kwargs"].items():
            assert getattr(expectation, key) == value, (declared["meta"]["rule"], key)
        assert expectation.severity.value == declared["severity"]
        assert expectation.meta == declared["meta"]
    assert set(suite.definition) <= {"name", "meta", "expectations", "notes"}  # no generated ids


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_expectation_has_a_severity_and_a_unique_rule(dataset: str) -> None:
    rules = []
    for expectation in _suite(dataset).expectations:
        assert expectation["severity"] in ("critical", "warning"), expectation
        assert "severity" not in expectation["meta"], "use GX's own severity field"
        rule = expectation["meta"]["rule"]
        assert rule and len(rule) <= 80, expectation
        rules.append(rule)
    assert len(rules) == len(set(rules)), "rules name the expectations in reports: keep unique"


@pytest.mark.parametrize("dataset", DATASETS)
def test_table_columns_are_the_contracts(dataset: str) -> None:
    (rule,) = _expectations(dataset, "expect_table_columns_to_match_set")
    assert rule["severity"] == "critical"
    assert rule["kwargs"]["exact_match"] is True
    expected = CONTRACTS[dataset].stored_names + LOADER_COLUMNS
    assert sorted(rule["kwargs"]["column_set"]) == sorted(expected)


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_contract_column_is_covered(dataset: str) -> None:
    """Required: a critical not-null; every column: a format or allowed-value check."""
    iso_date = iso_timestamp = None
    for column in CONTRACTS[dataset].columns:
        name = column.stored_name
        not_null = _expectations(dataset, "expect_column_values_to_not_be_null", name)
        if column.required:
            assert [e["severity"] for e in not_null] == ["critical"], name
        else:
            assert not not_null, f"{name} is optional: no not-null rule"
        checks = [e for e in _expectations(dataset, column=name) if e["type"] in FORMAT_TYPES]
        assert checks, f"{name} has no format or allowed-value check"
        regexes = [e["kwargs"]["regex"] for e in checks if "regex" in e["kwargs"]]
        if column.pattern:
            assert column.pattern in regexes, f"{name}: the contract's pattern"
        if column.type == "date":
            (regex,) = regexes
            iso_date = iso_date or regex
            assert regex == iso_date, f"{name}: every date column uses the same pattern"
        if column.type == "timestamp":
            (regex,) = regexes
            iso_timestamp = iso_timestamp or regex
            assert regex == iso_timestamp
        if column.type == "integer":
            # a sequence or a code starts at 1; a count (e.g. referrals in a quarter) may be 0
            assert regexes in (["^[1-9][0-9]{0,8}$"], ["^(0|[1-9][0-9]{0,8})$"]), name
        if column.allowed_values is not None:
            parameter = allowed_value_parameter(name, column.allowed_values)
            in_set = [e for e in checks if e["type"] == "expect_column_values_to_be_in_set"]
            assert [e["kwargs"]["value_set"] for e in in_set] == [{"$PARAMETER": parameter}]
            assert in_set[0]["severity"] == column.allowed_values_severity, name


@pytest.mark.parametrize("dataset", DATASETS)
def test_allowed_values_are_not_copied_into_the_suite(dataset: str) -> None:
    """Value sets come at run time (seeds, contract): the JSON holds only parameter names."""
    suite = _suite(dataset)
    for expectation in suite.expectations:
        value_set = expectation["kwargs"].get("value_set")
        if value_set is None or expectation["kwargs"]["column"] == "_malformed":
            continue
        assert set(value_set) == {"$PARAMETER"}, expectation["meta"]["rule"]
    text = suite.path.read_text()
    parameters = run_parameters(CONTRACTS[dataset], PARAMETERS)
    for column in CONTRACTS[dataset].columns:
        if column.allowed_values is None:
            continue
        name = allowed_value_parameter(column.stored_name, column.allowed_values)
        assert parameters[name], f"{name} is empty"
        for value in parameters[name]:
            assert json.dumps(value) not in text, f"{value!r} ({name}) is copied into the suite"


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_parameter_is_documented_and_provided(dataset: str) -> None:
    suite = _suite(dataset)
    own = [e for e in suite.expectations if not e["meta"].get("from_contract")]
    used = _parameter_names([e["kwargs"] for e in own])
    assert used == set(suite.definition["meta"]["parameters"])
    provided = run_parameters(CONTRACTS[dataset], PARAMETERS)
    assert _parameter_names([e["kwargs"] for e in suite.expectations]) <= set(provided)


@pytest.mark.parametrize("dataset", DATASETS)
def test_query_rules_select_line_numbers_only(dataset: str) -> None:
    """A query rule's rows reach the report: they must be file lines, never data values."""
    for expectation in _expectations(dataset, QUERY_RULE):
        query = expectation["kwargs"]["unexpected_rows_query"]
        assert re.match(r"select _row_number from \{batch\} ", query), query


def test_seed_parameters_come_from_the_seed_files() -> None:
    contract = load_contract("force_crimes")
    parameters = run_parameters(contract, PARAMETERS)
    seeds = seeds_dir()
    with (seeds / "ho_offence_codes.csv").open() as handle:
        codes = [line.split(",")[0] for line in handle.read().splitlines()[1:] if line]
    assert parameters["seed_ho_offence_codes"] == codes
    assert "8Q" in codes and "19C" in codes
    assert parameters["contract_victim_sex"] == ["F", "M", "U"]


# --------------------------------------------------------------------------------------------
# The patterns, checked by the engine that runs them
# --------------------------------------------------------------------------------------------


def test_date_pattern_accepts_exactly_the_calendar(_gx_database: ConnectionInfo) -> None:
    """Every real date 1900-2099 and nothing else of the shape YYYY-MM-DD (leap years included)."""
    (rule,) = [
        e for e in _expectations("force_crimes", column="recorded_date") if "regex" in e["kwargs"]
    ]
    with psycopg.connect(_gx_database.url) as conn:
        wrong = conn.execute(
            """
            with candidates as (
                select format('%%s-%%s-%%s', y, lpad(m::text, 2, '0'), lpad(d::text, 2, '0')) as s
                from generate_series(1899, 2100) y, generate_series(0, 13) m,
                     generate_series(0, 32) d
            ),
            real_dates as (
                select to_char(day, 'YYYY-MM-DD') as s
                from generate_series('1900-01-01'::date, '2099-12-31', '1 day') day
            )
            (select s from candidates where s ~ %(re)s except select s from real_dates)
            union all
            (select s from real_dates except select s from candidates where s ~ %(re)s)
            """,
            {"re": rule["kwargs"]["regex"]},
        ).fetchall()
    assert wrong == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2025-03-03T01:15:00Z", True),
        ("2025-03-03T01:15:00.123456Z", True),
        ("2025-03-03T01:15:00+00:00", True),
        ("2024-02-29T23:59:59Z", True),
        ("2025-02-29T01:15:00Z", False),
        ("2025-03-03T24:00:00Z", False),
        ("2025-03-03 01:15:00Z", False),
        ("2025-03-03T01:15:00", False),
        ("2025-03-03T01:15:00+01:00", False),
        ("2025-03-03", False),
    ],
)
def test_timestamp_pattern(_gx_database: ConnectionInfo, value: str, ok: bool) -> None:
    (rule,) = [
        e for e in _expectations("force_crimes", column="extracted_at") if "regex" in e["kwargs"]
    ]
    with psycopg.connect(_gx_database.url) as conn:
        (matched,) = conn.execute("select %s ~ %s", (value, rule["kwargs"]["regex"])).fetchone()
    assert matched is ok


# --------------------------------------------------------------------------------------------
# Each rule on a crafted bad row
# --------------------------------------------------------------------------------------------

BAD = 2  # the row broken in each case: index 2, file line 4
LINE = BAD + 2

# (dataset, the one rule expected to fail, the change to row BAD)
CRITICAL_CASES: list[tuple[str, str, dict]] = [
    ("force_crimes", "every row has as many fields as the header", {}),
    *[
        ("force_crimes", f"{c} is present", {c: None})
        for c in [
            "crime_reference",
            "recorded_date",
            "ho_offence_code",
            "domestic_abuse_flag",
            "local_authority_code",
            "victim_pseudonym",
            "victim_age_band",
            "victim_sex",
            "extracted_at",
        ]
    ],
    ("force_crimes", "crime_reference is LC-<year>-<7 digits>", {"crime_reference": "LC-25-0001"}),
    ("force_crimes", "recorded_date is a real YYYY-MM-DD date", {"recorded_date": "2025-02-30"}),
    (
        "force_crimes",
        "offence_date, when given, is a real YYYY-MM-DD date",
        {"offence_date": "2025-02-31"},
    ),
    (
        "force_crimes",
        "extracted_at is an ISO 8601 UTC timestamp",
        {"extracted_at": "2025-03-03 01:15:00"},
    ),
    (
        "force_crimes",
        "ho_offence_code is a known Home Office offence code",
        {"ho_offence_code": "99Z"},
    ),
    ("force_crimes", "domestic_abuse_flag is Y or N", {"domestic_abuse_flag": "X"}),
    (
        "force_crimes",
        "local_authority_code is one of the home force's local authorities",
        {"local_authority_code": "E10000017"},  # the county council, not one of the 14
    ),
    ("force_crimes", "victim_pseudonym is not blank", {"victim_pseudonym": "  "}),
    (
        "force_crimes",
        "victim_age_band is one of the contract's age bands",
        {"victim_age_band": "30-40"},
    ),
    ("force_crimes", "victim_sex is F, M or U", {"victim_sex": "female"}),
    (
        "force_crimes",
        "record_status, when given, is a known record status",
        {"record_status": "deleted"},
    ),
    ("force_crimes", "recorded_date is not after the file's date", {"recorded_date": "2025-03-03"}),
    (
        "force_crimes",
        "recorded_date is between 1990-01-01 and the day after the run",
        {"recorded_date": "1900-01-01"},
    ),
    (
        "force_crimes",
        "offence_date is between 1920-01-01 and the day after the run",
        {"offence_date": "1919-06-01"},
    ),
    ("force_crimes", "extracted_at is not in the future", {"extracted_at": "2025-03-04T00:00:00Z"}),
    ("force_outcomes", "every row has as many fields as the header", {}),
    *[
        ("force_outcomes", f"{c} is present", {c: None})
        for c in [
            "crime_reference",
            "outcome_sequence",
            "outcome_code",
            "outcome_date",
            "extracted_at",
        ]
    ],
    (
        "force_outcomes",
        "crime_reference is LC-<year>-<7 digits>",
        {"crime_reference": "LC2024-0000103"},
    ),
    ("force_outcomes", "outcome_sequence is a whole number from 1", {"outcome_sequence": "0"}),
    ("force_outcomes", "outcome_code is a known Home Office outcome type", {"outcome_code": "23"}),
    ("force_outcomes", "outcome_date is a real YYYY-MM-DD date", {"outcome_date": "2025-02-29"}),
    (
        "force_outcomes",
        "extracted_at is an ISO 8601 UTC timestamp",
        {"extracted_at": "2025-03-03T01:15:00+01:00"},
    ),
    ("force_outcomes", "outcome_date is not after the file's date", {"outcome_date": "2025-03-04"}),
    (
        "force_outcomes",
        "extracted_at is not in the future",
        {"extracted_at": "2025-03-03T07:00:00Z"},
    ),
    ("force_marac_cases", "every row has as many fields as the header", {}),
    *[
        ("force_marac_cases", f"{c} is present", {c: None})
        for c in [
            "case_reference",
            "date_heard",
            "date_referred",
            "victim_pseudonym",
            "referring_agency",
            "local_authority_code",
            "risk_basis",
            "extracted_at",
        ]
    ],
    (
        "force_marac_cases",
        "case_reference is MRC-<year>-<6 digits>",
        {"case_reference": "MRC-25-000001"},
    ),
    ("force_marac_cases", "date_heard is a real YYYY-MM-DD date", {"date_heard": "2025-02-30"}),
    (
        "force_marac_cases",
        "date_referred is a real YYYY-MM-DD date",
        {"date_referred": "2025-02-31"},
    ),
    (
        "force_marac_cases",
        "extracted_at is an ISO 8601 UTC timestamp",
        {"extracted_at": "2025-03-03 01:15:00"},
    ),
    ("force_marac_cases", "victim_pseudonym is not blank", {"victim_pseudonym": "  "}),
    (
        "force_marac_cases",
        "referring_agency is one of the seed's agencies",
        {"referring_agency": "social_services"},
    ),
    (
        "force_marac_cases",
        "local_authority_code is one of the home force's local authorities",
        {"local_authority_code": "E10000017"},
    ),
    ("force_marac_cases", "risk_basis is one of the SafeLives criteria", {"risk_basis": "High"}),
    ("force_marac_cases", "date_heard is not after the file's date", {"date_heard": "2025-03-03"}),
    (
        "force_marac_cases",
        "extracted_at is not in the future",
        {"extracted_at": "2025-03-04T00:00:00Z"},
    ),
    ("force_protective_orders", "every row has as many fields as the header", {}),
    *[
        ("force_protective_orders", f"{c} is present", {c: None})
        for c in [
            "order_reference",
            "event_sequence",
            "order_type",
            "event_type",
            "event_date",
            "local_authority_code",
            "perpetrator_pseudonym",
            "extracted_at",
        ]
    ],
    (
        "force_protective_orders",
        "order_reference is PO-<year>-<6 digits>",
        {"order_reference": "PO-25-000001"},
    ),
    (
        "force_protective_orders",
        "event_sequence is a whole number from 1",
        {"event_sequence": "0"},
    ),
    (
        "force_protective_orders",
        "order_type is one of the seed's notices and orders",
        {"order_type": "DAPX"},
    ),
    (
        "force_protective_orders",
        "event_type is one of the contract's events",
        {"event_type": "issued"},
    ),
    (
        "force_protective_orders",
        "event_date is a real YYYY-MM-DD date",
        {"event_date": "2025-02-29"},
    ),
    (
        "force_protective_orders",
        "crime_reference, when given, is LC-<year>-<7 digits>",
        {"crime_reference": "LC2025-0000003"},
    ),
    (
        "force_protective_orders",
        "local_authority_code is one of the home force's local authorities",
        {"local_authority_code": "E10000017"},
    ),
    (
        "force_protective_orders",
        "perpetrator_pseudonym is not blank",
        {"perpetrator_pseudonym": "  "},
    ),
    (
        "force_protective_orders",
        "extracted_at is an ISO 8601 UTC timestamp",
        {"extracted_at": "2025-03-03T01:15:00+01:00"},
    ),
    (
        "force_protective_orders",
        "event_date is not after the file's date",
        {"event_date": "2025-03-04"},
    ),
    (
        "force_protective_orders",
        "extracted_at is not in the future",
        {"extracted_at": "2025-03-03T07:00:00Z"},
    ),
    ("force_victims_code", "every row has as many fields as the header", {}),
    *[
        ("force_victims_code", f"{c} is present", {c: None})
        for c in [
            "record_id",
            "crime_reference",
            "victim_pseudonym",
            "right_number",
            "date_due",
            "recorded_by_unit",
            "extracted_at",
        ]
    ],
    (
        "force_victims_code",
        "record_id is VC-<year>-<7 digits>-<2 digits>",
        {"record_id": "VC-2025-0000003"},
    ),
    (
        "force_victims_code",
        "crime_reference is LC-<year>-<7 digits>",
        {"crime_reference": "LC2025-0000003"},
    ),
    ("force_victims_code", "victim_pseudonym is not blank", {"victim_pseudonym": "  "}),
    (
        "force_victims_code",
        "right_number is one of the Victims' Code rights",
        {"right_number": "13"},
    ),
    ("force_victims_code", "status is met, not_met or not_applicable", {"status": "done"}),
    ("force_victims_code", "date_due is a real YYYY-MM-DD date", {"date_due": "2025-02-30"}),
    (
        "force_victims_code",
        "date_completed, when given, is a real YYYY-MM-DD date",
        {"status": "met", "date_completed": "2025-02-31"},
    ),
    ("force_victims_code", "recorded_by_unit is not blank", {"recorded_by_unit": " "}),
    (
        "force_victims_code",
        "extracted_at is an ISO 8601 UTC timestamp",
        {"extracted_at": "2025-03-03 01:15:00"},
    ),
    (
        "force_victims_code",
        "date_completed is not after the file's date",
        {"status": "met", "date_completed": "2025-03-03"},
    ),
    (
        "force_victims_code",
        "extracted_at is not in the future",
        {"extracted_at": "2025-03-04T00:00:00Z"},
    ),
    ("services_quarterly_returns", "every row has as many fields as the header", {}),
    *[
        ("services_quarterly_returns", f"{c} is present", {c: None})
        for c in [
            "service_code",
            "financial_year",
            "financial_quarter",
            "local_authority_code",
            "referrals_received",
            "clients_engaged",
            "cases_closed",
            "cases_closed_positive",
            "submitted_date",
        ]
    ],
    (
        "services_quarterly_returns",
        "service_code is a commissioned service",
        {"service_code": "IDVA-NORTH"},
    ),
    (
        "services_quarterly_returns",
        "financial_year is written YYYY/YY",
        {"financial_year": "2024-25"},
    ),
    (
        "services_quarterly_returns",
        "financial_year's second year follows its first",
        {"financial_year": "2024/26"},
    ),
    (
        "services_quarterly_returns",
        "financial_quarter is Q1, Q2, Q3 or Q4",
        {"financial_quarter": "Q5"},
    ),
    (
        "services_quarterly_returns",
        "local_authority_code is a local authority or county-wide",
        {"local_authority_code": "E10000017"},  # the county council: would double count
    ),
    ("services_quarterly_returns", "referrals_received is a count", {"referrals_received": "-1"}),
    ("services_quarterly_returns", "clients_engaged is a count", {"clients_engaged": "1.5"}),
    ("services_quarterly_returns", "cases_closed is a count", {"cases_closed": "2O"}),
    (
        "services_quarterly_returns",
        "cases_closed_positive is a count",
        {"cases_closed_positive": "x"},
    ),
    (
        "services_quarterly_returns",
        "submitted_date is a real YYYY-MM-DD date",
        {"submitted_date": "2025-02-30"},
    ),
    (
        "services_quarterly_returns",
        "submitted_date is not in the future",
        {"submitted_date": "2025-03-04"},
    ),
    (
        "services_quarterly_returns",
        "cases_closed_positive is not more than cases_closed",
        {"cases_closed_positive": "21"},
    ),
]

CRITICAL_CASES += cases_cps_funding.CRITICAL_CASES
CRITICAL_CASES += cases_public.CRITICAL_CASES

WARNING_CASES: list[tuple[str, str, dict]] = [
    ("force_crimes", "suspect_pseudonym, when given, is not blank", {"suspect_pseudonym": ""}),
    (
        "force_crimes",
        "offence_date is not after recorded_date",
        {"offence_date": "2025-03-02", "recorded_date": "2025-03-01"},
    ),
    (
        "force_crimes",
        "extracted_at is not before the file's date",
        {"extracted_at": "2025-03-01T23:00:00Z"},
    ),
    (
        "force_outcomes",
        "extracted_at is not before the file's date",
        {"extracted_at": "2025-03-01T12:00:00Z"},
    ),
    (
        "force_marac_cases",
        "perpetrator_pseudonym, when given, is not blank",
        {"perpetrator_pseudonym": ""},
    ),
    (
        "force_marac_cases",
        "date_referred is not after date_heard",
        {"date_referred": "2025-03-02", "date_heard": "2025-03-01"},
    ),
    (
        "force_marac_cases",
        "extracted_at is not before the file's date",
        {"extracted_at": "2025-03-01T23:00:00Z"},
    ),
    (
        "force_protective_orders",
        "victim_pseudonym, when given, is not blank",
        {"victim_pseudonym": ""},
    ),
    (
        "force_protective_orders",
        "extracted_at is not before the file's date",
        {"extracted_at": "2025-03-01T12:00:00Z"},
    ),
    (
        "force_victims_code",
        "extracted_at is not before the file's date",
        {"extracted_at": "2025-03-01T23:00:00Z"},
    ),
    ("force_victims_code", "a met right has a date_completed", {"status": "met"}),
    (
        "force_victims_code",
        "a not_applicable right has no date_completed",
        {"date_completed": "2025-03-01"},
    ),
    (
        "services_quarterly_returns",
        "clients_engaged is not more than referrals_received",
        {"clients_engaged": "29"},
    ),
]

WARNING_CASES += cases_cps_funding.WARNING_CASES
WARNING_CASES += cases_public.WARNING_CASES


def _validate(dataset: str, table: str, batch_id: int, database: ConnectionInfo):
    return validate_batch(
        database, load_contract(dataset), table, batch_id=batch_id, parameters=PARAMETERS
    )


def _result(report: ValidationReport, rule: str) -> ExpectationResult:
    (result,) = [r for r in report.results if r.rule == rule]
    return result


def test_every_rule_has_a_case() -> None:
    cased = {(d, r) for d, r, _ in CRITICAL_CASES + WARNING_CASES}
    special = {"the file has exactly the contract's columns", "the file has at least one row"}
    special |= {VOLUME_RULE}  # test_a_row_count_out_of_line_with_recent_files_is_a_warning
    special |= {"crime_reference is unique within the file"}
    special |= {"crime_reference and outcome_sequence are unique within the file"}
    special |= {"record_id is unique within the file"}
    special |= {"service, quarter and area are unique within the file"}
    # Cannot fail alone: a value that is not a whole number is not in the seed's list either.
    special |= {"right_number is a whole number from 1"}
    special |= {"case_reference is unique within the file"}
    special |= {"order_reference and event_sequence are unique within the file"}
    special |= cases_cps_funding.SPECIAL_RULES  # tested in test_suites_cps_funding.py
    special |= cases_public.SPECIAL_RULES  # tested in test_suites_public.py
    for dataset in DATASETS:
        for expectation in _suite(dataset).expectations:
            rule = expectation["meta"]["rule"]
            if (dataset, rule) not in cased and expectation["meta"].get("from_contract"):
                continue  # every one: test_contract_rules.py
            assert (dataset, rule) in cased or rule in special, f"{dataset}: no test for {rule!r}"


@pytest.mark.parametrize("dataset", DATASETS)
def test_a_clean_batch_passes(dataset: str, landing_table, _gx_database: ConnectionInfo) -> None:
    batch_id, table = landing_table(dataset, clean_rows(dataset))
    report = _validate(dataset, table, batch_id, _gx_database)
    assert report.all_passed, format_failures(report, f"{dataset}.csv")


def _tiered(cases: list[tuple[str, str, dict]]) -> list:
    """force_crimes' cases (the most rules) in the fast tier; every other dataset's in the full
    suite (each case is a GX validation of its own: about 300 in all)."""
    return [
        pytest.param(
            *case,
            id=f"{case[0]}:{case[1]}",
            marks=() if case[0] == "force_crimes" else pytest.mark.slow,
        )
        for case in cases
    ]


@pytest.mark.parametrize(("dataset", "rule", "change"), _tiered(CRITICAL_CASES))
def test_each_critical_rule_catches_its_row(
    dataset: str, rule: str, change: dict, landing_table, _gx_database: ConnectionInfo
) -> None:
    rows = clean_rows(dataset)
    rows[BAD].update(change)
    malformed = (LINE,) if rule.startswith("every row has as many fields") else ()
    batch_id, table = landing_table(dataset, rows, malformed=malformed)
    report = _validate(dataset, table, batch_id, _gx_database)
    assert report.failed_rules() == [rule], "the change should break exactly one rule"
    result = _result(report, rule)
    assert result.severity == "critical"
    assert (result.unexpected_count, result.failing_row_numbers) == (1, (LINE,))
    assert not report.success


@pytest.mark.parametrize(("dataset", "rule", "change"), _tiered(WARNING_CASES))
def test_a_warning_rule_flags_its_row_but_the_batch_passes(
    dataset: str, rule: str, change: dict, landing_table, _gx_database: ConnectionInfo
) -> None:
    rows = clean_rows(dataset)
    rows[BAD].update(change)
    batch_id, table = landing_table(dataset, rows)
    report = _validate(dataset, table, batch_id, _gx_database)
    assert report.failed_rules() == [rule]
    assert _result(report, rule).failing_row_numbers == (LINE,)
    assert report.success and not report.critical_failures
    assert [r.rule for r in report.warning_failures] == [rule]


@pytest.mark.parametrize(
    ("dataset", "rule"),
    [
        ("force_crimes", "crime_reference is unique within the file"),
        ("force_outcomes", "crime_reference and outcome_sequence are unique within the file"),
        ("force_victims_code", "record_id is unique within the file"),
        ("services_quarterly_returns", "service, quarter and area are unique within the file"),
        ("force_marac_cases", "case_reference is unique within the file"),
        (
            "force_protective_orders",
            "order_reference and event_sequence are unique within the file",
        ),
    ],
)
def test_a_repeated_row_key_fails_on_both_lines(
    dataset: str, rule: str, landing_table, _gx_database: ConnectionInfo
) -> None:
    rows = clean_rows(dataset)
    for column in CONTRACTS[dataset].row_key:
        rows[BAD][column] = rows[BAD - 1][column]
    batch_id, table = landing_table(dataset, rows)
    report = _validate(dataset, table, batch_id, _gx_database)
    assert report.failed_rules() == [rule]
    result = _result(report, rule)
    assert result.severity == "critical"
    assert (result.unexpected_count, result.failing_row_numbers) == (2, (LINE - 1, LINE))


VOLUME_RULE = "the row count is in line with recent files"


@pytest.mark.parametrize("dataset", DATASETS)
def test_a_row_count_out_of_line_with_recent_files_is_a_warning(
    dataset: str, landing_table, _gx_database
) -> None:
    rows = clean_rows(dataset)
    batch_id, table = landing_table(dataset, rows)
    contract = load_contract(dataset)
    for recent, flagged in (([len(rows)] * 5, False), ([len(rows) * 5] * 5, True)):
        parameters = {**PARAMETERS, **volume_bounds(recent)}
        report = validate_batch(
            _gx_database, contract, table, batch_id=batch_id, parameters=parameters
        )
        assert report.failed_rules() == ([VOLUME_RULE] if flagged else [])
        assert report.success  # a warning: published, and flagged for a look


@pytest.mark.parametrize("dataset", DATASETS)
def test_an_empty_file_is_a_warning(dataset: str, landing_table, _gx_database) -> None:
    batch_id, table = landing_table(dataset, [])
    report = _validate(dataset, table, batch_id, _gx_database)
    assert report.failed_rules() == ["the file has at least one row"]
    assert report.success
    assert _result(report, "the file has at least one row").observed_value == 0


def test_a_renamed_column_is_critical(landing_table, _gx_database: ConnectionInfo) -> None:
    contract = CONTRACTS["force_crimes"]
    columns = [c if c != "victim_sex" else "victim_gender" for c in contract.stored_names]
    rows = [
        {("victim_gender" if k == "victim_sex" else k): v for k, v in row.items()}
        for row in clean_rows("force_crimes")
    ]
    batch_id, table = landing_table("force_crimes", rows, columns=columns)
    report = _validate("force_crimes", table, batch_id, _gx_database)
    assert not report.success
    assert report.failed_rules()[0] == "the file has exactly the contract's columns"
    message = format_failures(report, "crimes_2025-03-02.csv")
    assert "missing victim_sex" in message and "unexpected victim_gender" in message
    # The rules on the missing column cannot run: reported as failures, with GX's reason.
    sex_rules = [r for r in report.critical_failures if r.column == "victim_sex"]
    assert sex_rules and all(r.error for r in sex_rules)


def test_results_follow_the_suite_file(landing_table, _gx_database) -> None:
    """One result per expectation, in the file's order (GX returns them in its own order)."""
    for dataset in DATASETS:
        batch_id, table = landing_table(dataset, clean_rows(dataset))
        report = _validate(dataset, table, batch_id, _gx_database)
        assert [r.index for r in report.results] == list(range(len(_suite(dataset).expectations)))
        assert re.fullmatch(r"[0-9a-f]{64}", report.suite_sha256)
