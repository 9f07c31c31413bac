"""Rules a suite takes from its contract (issue 20): every date column's bounds, and every
person identifier's alphabet. Each is checked on a real landing table for every contract."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml

from tests.expectations.conftest import PARAMETERS, clean_rows
from vawg_warehouse.ingest import contracts
from vawg_warehouse.ingest.contracts import all_contracts, load_contract
from vawg_warehouse.ingest.privacy import OUTSIDE_ALPHABET
from vawg_warehouse.validate.suites import read_suite, run_parameters
from vawg_warehouse.validate.validator import validate_batch
from vawg_warehouse.warehouse import ConnectionInfo

LINE = 3  # file line of the row changed (clean_rows starts at line 2)

DATE_COLUMNS = [
    (c.dataset, column.name)
    for c in all_contracts()
    for column in c.columns
    if column.type == "date"
]
IDENTIFIERS = [(c.dataset, column.name) for c in all_contracts() for column in c.pseudonymised]


def _tiered(columns: list[tuple[str, str]]) -> list:
    """force_crimes' columns in the fast tier, every other dataset's in the full suite (each case
    is a GX validation of its own), as tests/expectations/test_suites.py does."""
    return [
        pytest.param(
            dataset,
            name,
            id=f"{dataset}:{name}",
            marks=() if dataset == "force_crimes" else pytest.mark.slow,
        )
        for dataset, name in columns
    ]


def test_every_date_column_of_every_contract_has_its_bounds_in_the_contract() -> None:
    assert len(DATE_COLUMNS) >= 14
    for dataset, name in DATE_COLUMNS:
        raw = yaml.safe_load((contracts.CONTRACTS_DIR / f"{dataset}.yml").read_text())
        (column,) = [c for c in raw["columns"] if c["name"] == name]
        assert {"earliest", "latest"} <= set(column["bounds"]), (dataset, name)
        rules = [e["meta"]["rule"] for e in read_suite(dataset).expectations]
        assert any(r.startswith(f"{name} is between ") for r in rules), (dataset, name)


def test_a_date_column_without_bounds_is_refused(tmp_path, monkeypatch) -> None:
    source = (contracts.CONTRACTS_DIR / "force_outcomes.yml").read_text()
    changed = "\n".join(line for line in source.splitlines() if "bounds:" not in line)
    (tmp_path / "force_outcomes.yml").write_text(changed)
    monkeypatch.setattr(contracts, "CONTRACTS_DIR", tmp_path)
    load_contract.cache_clear()
    try:
        with pytest.raises(ValueError, match="need bounds"):
            load_contract("force_outcomes")
    finally:
        load_contract.cache_clear()


def _failed(dataset: str, change: dict, landing_table, database: ConnectionInfo):
    rows = clean_rows(dataset)
    rows[LINE - 2].update(change)
    batch_id, table = landing_table(dataset, rows)
    report = validate_batch(
        database, load_contract(dataset), table, batch_id=batch_id, parameters=PARAMETERS
    )
    return {r.rule: r for r in report.critical_failures}


@pytest.mark.parametrize(("dataset", "name"), _tiered(DATE_COLUMNS))
def test_a_date_outside_its_contracts_bounds_is_critical(
    dataset: str, name: str, landing_table, _gx_database: ConnectionInfo
) -> None:
    column = next(c for c in load_contract(dataset).columns if c.name == name)
    assert column.bounds is not None
    rule = next(
        e["meta"]["rule"]
        for e in read_suite(dataset).expectations
        if e["meta"].get("from_contract") == "bounds" and e["kwargs"]["column"] == name
    )
    parameters = run_parameters(load_contract(dataset), PARAMETERS)
    latest = parameters[
        "latest_date"
        if not column.bounds.years_after_run
        else f"latest_date_plus_{column.bounds.years_after_run}_years"
    ]
    day = timedelta(days=1)
    too_early = (date.fromisoformat(column.bounds.earliest) - day).isoformat()
    too_late = (date.fromisoformat(latest) + day).isoformat()
    for value in (too_early, too_late):
        failed = _failed(dataset, {name: value}, landing_table, _gx_database)
        assert rule in failed, (value, sorted(failed))
        assert failed[rule].failing_row_numbers == (LINE,)
    for value in (column.bounds.earliest, latest):  # the bounds themselves are inside
        assert rule not in _failed(dataset, {name: value}, landing_table, _gx_database)


@pytest.mark.parametrize(("dataset", "name"), _tiered(IDENTIFIERS))
def test_an_identifier_outside_its_alphabet_sets_its_row_aside(
    dataset: str, name: str, landing_table, _gx_database: ConnectionInfo
) -> None:
    column = next(c for c in load_contract(dataset).columns if c.name == name)
    rule = f"{name} holds only the characters of its contract's alphabet"
    failed = _failed(dataset, {column.stored_name: OUTSIDE_ALPHABET}, landing_table, _gx_database)
    assert list(failed) == [rule]
    assert failed[rule].failing_row_numbers == (LINE,)
