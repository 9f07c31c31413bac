"""The cps_quarterly_outcomes and funding_grants suites: the rules a one-row change cannot test.

The one-row cases of both suites are in cases_cps_funding.py, run by test_suites.py.
"""

from __future__ import annotations

import csv
from datetime import date

import pytest

from tests.expectations.cases_cps_funding import REPEATED_KEY_RULES, SPECIAL_RULES
from tests.expectations.conftest import PARAMETERS, clean_rows
from vawg_devtools.sample import generate
from vawg_devtools.sample.cps import CpsSource
from vawg_devtools.sample.funding import FundingSource
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.validate.results import ExpectationResult, ValidationReport, format_failures
from vawg_warehouse.validate.suites import extract_date_from_file_name, read_suite
from vawg_warehouse.validate.validator import validate_batch
from vawg_warehouse.warehouse import ConnectionInfo

BAD = 2
LINE = BAD + 2


def _validate(dataset: str, table: str, batch_id: int, database: ConnectionInfo, **parameters):
    return validate_batch(
        database,
        load_contract(dataset),
        table,
        batch_id=batch_id,
        parameters={**PARAMETERS, **parameters},
    )


def _result(report: ValidationReport, rule: str) -> ExpectationResult:
    (result,) = [r for r in report.results if r.rule == rule]
    return result


def test_every_special_rule_is_in_its_suite() -> None:
    rules = {
        e["meta"]["rule"]
        for dataset in ("cps_quarterly_outcomes", "funding_grants")
        for e in read_suite(dataset).expectations
    }
    assert rules >= SPECIAL_RULES


@pytest.mark.parametrize(("dataset", "rule"), REPEATED_KEY_RULES)
def test_a_repeated_row_key_fails_on_both_lines(
    dataset: str, rule: str, landing_table, _gx_database: ConnectionInfo
) -> None:
    rows = clean_rows(dataset)
    for column in load_contract(dataset).row_key:
        rows[BAD][column] = rows[BAD - 1][column]
    batch_id, table = landing_table(dataset, rows)
    report = _validate(dataset, table, batch_id, _gx_database)
    assert report.failed_rules() == [rule]
    result = _result(report, rule)
    assert result.severity == "critical"
    assert (result.unexpected_count, result.failing_row_numbers) == (2, (LINE - 1, LINE))


def test_a_register_dated_in_the_future_is_critical(
    landing_table, _gx_database: ConnectionInfo
) -> None:
    """A misnamed snapshot (its name, and so every row, dated after now) would win for ever."""
    rows = clean_rows("funding_grants")
    for row in rows:  # the day after the run (as_of 2025-03-03): within the contract's bounds
        row["register_date"] = "2025-03-04"
    batch_id, table = landing_table("funding_grants", rows)
    report = _validate("funding_grants", table, batch_id, _gx_database, extract_date="2025-03-04")
    assert report.failed_rules() == ["register_date is not in the future"]
    result = _result(report, "register_date is not in the future")
    assert result.unexpected_count == len(rows) and not report.success


@pytest.mark.parametrize("dataset", ["cps_quarterly_outcomes", "funding_grants"])
def test_generated_files_pass_their_suite(
    dataset: str, tmp_path, landing_table, _gx_database: ConnectionInfo
) -> None:
    """What `vawg sample` writes is what the suites accept (January 2024: a CPS release on the
    13th, a register snapshot on the 31st)."""
    generate(
        tmp_path,
        start=date(2024, 1, 1),
        end=date(2024, 1, 31),
        rows=300,
        sources=[CpsSource, FundingSource],
    )
    contract = load_contract(dataset)
    (path,) = sorted(contract.landing_dir(tmp_path).iterdir())
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [{k: v or None for k, v in row.items()} for row in csv.DictReader(fh)]
    batch_id, table = landing_table(dataset, rows)
    file_date = extract_date_from_file_name(path.name)
    parameters = {"extract_date": file_date.isoformat()} if file_date else {}
    report = _validate(dataset, table, batch_id, _gx_database, **parameters)
    assert report.all_passed, format_failures(report, path.name)
    assert len(rows) > 20
