"""Batches validated together (validate/together.py) get exactly the reports they get alone.

For every suite, one call of validate_together judges a mix of batches: clean ones on different file
dates (so extract_date differs by batch), one for each rule's crafted bad row (test_suites.py's
cases), a repeated row key, an empty file, a renamed column, a file too big or small for its
series, and a file whose date makes some of its clean rows fail. Each batch judged in the one
combined run is then validated alone; the two reports must agree on every expectation: success,
counts, percentages, observed values, failing line numbers and errors. A batch validate_together
sent to be validated again alone already holds its alone report (BatchValidator.validate): it must
be exactly the batch the rule says (one that failed more than a row count, or was empty or
renamed), not another.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.expectations.conftest import PARAMETERS, clean_rows
from tests.expectations.test_suites import BAD, CRITICAL_CASES, LINE, WARNING_CASES
from vawg_warehouse.ingest.contracts import all_contracts, load_contract
from vawg_warehouse.validate import together
from vawg_warehouse.validate.combine import COMBINED, ROW_COUNT_RULE, BatchToValidate
from vawg_warehouse.validate.suites import read_suite, volume_bounds
from vawg_warehouse.validate.together import validate_together
from vawg_warehouse.validate.validator import TWO_PASS, BatchValidator, get_validator
from vawg_warehouse.warehouse import ConnectionInfo

DATASETS = sorted(c.dataset for c in all_contracts())
AS_OF = PARAMETERS["as_of"]


def _mixed_batches(dataset: str, landing_table) -> list[tuple[str, BatchToValidate]]:
    """(what it is, the batch) for every kind of batch the test mixes."""
    contract = load_contract(dataset)
    made: list[tuple[str, BatchToValidate]] = []

    def add(label: str, rows, parameters=None, **table_kwargs) -> None:
        batch_id, table = landing_table(dataset, rows, **table_kwargs)
        given = {**PARAMETERS, **(parameters or {})}
        made.append((label, BatchToValidate(batch_id, table, parameters=given)))

    for day in ("2025-03-02", "2025-03-03", "2025-03-02", "2025-03-03"):
        add(f"clean, file of {day}", clean_rows(dataset), {"extract_date": day})
    for ds, rule, change in CRITICAL_CASES + WARNING_CASES:
        if ds != dataset:
            continue
        rows = clean_rows(dataset)
        rows[BAD].update(change)
        malformed = (LINE,) if rule.startswith("every row has as many fields") else ()
        add(rule, rows, malformed=malformed)
    if contract.row_key:
        rows = clean_rows(dataset)
        for column in contract.row_key:
            rows[BAD][column] = rows[BAD - 1][column]
        add("a repeated row key", rows)
    add("an empty file", [])
    renamed = [c if i else f"{c}_renamed" for i, c in enumerate(contract.stored_names)]
    rows = [{renamed[0]: r[contract.stored_names[0]], **r} for r in clean_rows(dataset)]
    add("a renamed column", rows, columns=renamed)
    five = len(clean_rows(dataset))
    add("five times the recent files", clean_rows(dataset), volume_bounds([1] * 5))
    add("in line with recent files", clean_rows(dataset), volume_bounds([five] * 5))
    add("a file dated a year earlier", clean_rows(dataset), {"extract_date": "2024-03-02"})
    add("a file dated a year later", clean_rows(dataset), {"extract_date": "2026-03-02"})
    return made


def _alone(validator: BatchValidator, contract, batch: BatchToValidate):
    parameters = {"as_of": AS_OF, **batch.parameters}
    return validator.validate(contract, batch.table, batch_id=batch.batch_id, parameters=parameters)


# force_outcomes (a row key of two columns, and fewer rules than force_crimes: each mixed batch
# is validated again alone) in the fast tier; every other dataset in the full suite.
@pytest.mark.parametrize(
    "dataset",
    [d if d == "force_outcomes" else pytest.param(d, marks=pytest.mark.slow) for d in DATASETS],
)
def test_batches_validated_together_get_the_reports_they_get_alone(
    dataset: str, landing_table, _gx_database: ConnectionInfo
) -> None:
    contract = load_contract(dataset)
    made = _mixed_batches(dataset, landing_table)
    validator = BatchValidator(_gx_database)
    try:
        together = validate_together(
            validator, contract, [b for _, b in made], as_of=AS_OF, dag_run_id="run-1"
        )
        combined = 0
        for (label, batch), report in zip(made, together, strict=True):
            assert report.batch_id == batch.batch_id and report.table == batch.table, label
            assert report.dag_run_id == "run-1"
            if report.result_format == COMBINED:
                # judged in the one run: it must be what the batch gets alone
                alone = _alone(validator, contract, batch)
                assert report.results == alone.results, label
                assert report.parameters == alone.parameters, label
                assert (report.suite_name, report.suite_sha256) == (
                    alone.suite_name,
                    alone.suite_sha256,
                )
            else:
                # validated again by validate_together, alone (BatchValidator.validate): that
                # report is the batch's alone report, so it is not made a second time here
                assert report.result_format == TWO_PASS, label
                alone = report
            # Judged in the one run exactly when nothing but a row-count rule failed on a
            # non-empty table of the contract's columns; else validated again, alone (a clean
            # batch sent alone by mistake would show here: no failure, yet not combined).
            row_counts = [r for r in alone.results if r.expectation_type == ROW_COUNT_RULE]
            expected = label != "a renamed column" and row_counts[0].observed_value > 0
            expected = expected and all(r in row_counts for r in alone.failures)
            assert (report.result_format == COMBINED) is expected, label
            combined += expected
        assert combined >= 4  # the clean files at least
        # Nothing is left behind: scratch table, GX assets, suites, validation definitions.
        assert list(validator._datasource.assets) == []
        assert [s.name for s in validator._context.suites.all()] == [dataset]
        assert validator._context.validation_definitions.all() == []
    finally:
        validator.close()
    with psycopg.connect(_gx_database.url) as conn:
        left = conn.execute(
            "select count(*) from pg_tables where tablename like %s", (f"{dataset}__together%",)
        ).fetchone()[0]
    assert left == 0


def test_a_failed_rule_is_put_on_the_batch_that_broke_it(
    landing_table, _gx_database: ConnectionInfo
) -> None:
    """Three bad batches among clean ones: only they are validated again, each with its own
    failing lines; the clean ones around them pass."""
    contract = load_contract("force_crimes")
    batches = []
    for i in range(8):
        rows = clean_rows("force_crimes")
        if i == 2:
            rows[1]["victim_sex"] = "X"  # line 3
        if i == 5:
            rows[3]["crime_reference"] = rows[0]["crime_reference"]  # lines 2 and 5
        if i in (6, 7):
            rows[4]["recorded_date"] = "2025-03-03"  # line 6: after the date of file 6 only
        batch_id, table = landing_table("force_crimes", rows)
        day = "2025-03-03" if i == 7 else "2025-03-02"
        batches.append(BatchToValidate(batch_id, table, {**PARAMETERS, "extract_date": day}))
    # Every file lists the same crime references: a crime restated in a later file is allowed,
    # so "unique within the file" must not compare files with each other.
    reports = validate_together(get_validator(_gx_database), contract, batches, as_of=AS_OF)
    failed = {i: r.failed_rules() for i, r in enumerate(reports) if r.failures}
    assert failed == {
        2: ["victim_sex is F, M or U"],
        5: ["crime_reference is unique within the file"],
        6: ["recorded_date is not after the file's date"],
    }
    lines = {i: reports[i].failures[0].failing_row_numbers for i in failed}
    assert lines == {2: (3,), 5: (2, 5), 6: (6,)}
    assert [r.result_format == COMBINED for r in reports] == [i not in failed for i in range(8)]


def test_big_batches_and_suites_it_cannot_combine_are_validated_alone(
    landing_table, _gx_database: ConnectionInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    contract = load_contract("force_crimes")
    batches = [
        BatchToValidate(*landing_table("force_crimes", clean_rows("force_crimes")), PARAMETERS)
        for _ in range(3)
    ]
    validator = BatchValidator(_gx_database)
    try:
        monkeypatch.setattr(together, "COMBINE_MAX_BYTES", 1)
        reports = validate_together(validator, contract, batches, as_of=AS_OF)
        assert {r.result_format for r in reports} == {TWO_PASS}
        monkeypatch.undo()
        assert {r.result_format for r in validate_together(validator, contract, batches)} == {
            COMBINED
        }
        # A rule with "mostly" cannot be judged on the whole: every batch alone.
        definition = read_suite("force_crimes").definition
        definition["expectations"][4]["kwargs"]["mostly"] = 0.9
        (tmp_path / "force_crimes.json").write_text(json.dumps(definition))
        other = BatchValidator(_gx_database, suites=tmp_path)
        try:
            reports = validate_together(other, contract, batches, as_of=AS_OF)
            assert {r.result_format for r in reports} == {TWO_PASS}
        finally:
            other.close()
    finally:
        validator.close()


def test_parameters_that_differ_by_batch(landing_table, _gx_database: ConnectionInfo) -> None:
    """A date bound that differs by batch becomes a column; any other parameter that differs
    (here an allowed-value list given to two batches) splits the batches into runs of their own.
    Each batch still gets what it gets alone."""
    contract = load_contract("force_crimes")
    narrow = {"contract_victim_sex": ["F", "U"]}  # lines 3 and 8 are M: they fail
    early = {"as_of": "2025-03-03T01:00:00Z"}  # before every row's extracted_at
    given = [{}, narrow, {}, narrow, early, {}, {"extract_date": "2025-03-03"}]
    batches = []
    for extra in given:
        rows = clean_rows("force_crimes") + clean_rows("force_crimes")
        for i, row in enumerate(rows):
            row["crime_reference"] = f"LC-2025-{i:07d}"
        batch_id, table = landing_table("force_crimes", rows)
        batches.append(BatchToValidate(batch_id, table, {**PARAMETERS, **extra}))
    validator = BatchValidator(_gx_database)
    try:
        reports = validate_together(validator, contract, batches, as_of=AS_OF)
        for batch, report in zip(batches, reports, strict=True):
            assert report.results == _alone(validator, contract, batch).results
            assert report.parameters["as_of"] == batch.parameters["as_of"]
    finally:
        validator.close()
    failed = [r.failed_rules() for r in reports]
    assert failed == [
        [],
        ["victim_sex is F, M or U"],
        [],
        ["victim_sex is F, M or U"],
        ["extracted_at is not in the future"],
        [],
        [],
    ]
    assert reports[1].failures[0].failing_row_numbers == (3, 8)
    combined = [r.result_format == COMBINED for r in reports]
    assert combined == [True, False, True, False, False, True, True]
