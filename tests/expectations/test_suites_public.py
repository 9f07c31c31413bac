"""The public open data suites: the rule a one-row change cannot test (a repeated row key).

The one-row cases are in cases_public.py, run by test_suites.py.
"""

from __future__ import annotations

import pytest

from tests.expectations.cases_public import REPEATED_KEY_RULES, SPECIAL_RULES
from tests.expectations.conftest import PARAMETERS, clean_rows
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.validate.suites import read_suite
from vawg_warehouse.validate.validator import validate_batch
from vawg_warehouse.warehouse import ConnectionInfo

BAD = 2
LINE = BAD + 2


def test_every_special_rule_is_in_its_suite() -> None:
    rules = {
        e["meta"]["rule"]
        for dataset, _ in REPEATED_KEY_RULES
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
    report = validate_batch(
        _gx_database, load_contract(dataset), table, batch_id=batch_id, parameters=PARAMETERS
    )
    assert report.failed_rules() == [rule]
    (result,) = [r for r in report.results if r.rule == rule]
    assert result.severity == "critical"
    assert (result.unexpected_count, result.failing_row_numbers) == (2, (LINE - 1, LINE))


def test_a_combined_code_may_repeat_within_a_quarter_and_force(
    landing_table, _gx_database: ConnectionInfo
) -> None:
    """Homicide as the Home Office publishes it: several rows per force and quarter under one
    combined code (14 characters), with different counts, and the same description: the batch
    passes (the rows are summed in dbt); a fraud body's code with spaces passes too."""
    dataset = "public_home_office_recorded_crime"
    rows = clean_rows(dataset)
    for row, count in zip(rows[BAD - 1 : BAD + 1], ("3", "1"), strict=True):
        row.update(
            financial_quarter="1",
            force_name="Lancashire",
            offence_description="Homicide",
            offence_group="Violence against the person",
            offence_subgroup="Homicide",
            offence_code="1/4.1/4.10/4.2",
            number_of_offences=count,
        )
    rows[BAD + 1].update(force_name="Action Fraud", offence_code="NFIB 52A")
    batch_id, table = landing_table(dataset, rows)
    report = validate_batch(
        _gx_database, load_contract(dataset), table, batch_id=batch_id, parameters=PARAMETERS
    )
    assert report.all_passed, report.failed_rules()
