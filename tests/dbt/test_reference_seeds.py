"""Seeds that restate a contract's list of allowed values must say the same as the contract.

dim_victim_cohort is built from the seeds victim_age_bands and victim_sexes; a victim's age band or
sex that the contract allows but the seed lacks would fall to the unknown member unseen.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vawg_warehouse.contracts import all_contracts

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "reference"

# contract column name -> (seed, seed column)
SEEDED_COLUMNS = {
    "victim_age_band": ("victim_age_bands", "victim_age_band"),
    "victim_sex": ("victim_sexes", "victim_sex"),
}


def _seed_values(seed: str, column: str) -> set[str]:
    with (SEEDS / f"{seed}.csv").open(newline="", encoding="utf-8") as fh:
        return {row[column] for row in csv.DictReader(fh)}


CASES = [
    (contract.dataset, column)
    for contract in all_contracts()
    for column in contract.columns
    if column.name in SEEDED_COLUMNS
]


def test_some_contract_uses_the_seeded_columns() -> None:
    assert {column.name for _, column in CASES} == set(SEEDED_COLUMNS)


@pytest.mark.parametrize(("dataset", "column"), CASES, ids=[f"{d}.{c.name}" for d, c in CASES])
def test_contract_values_match_the_seed(dataset: str, column) -> None:
    seed, seed_column = SEEDED_COLUMNS[column.name]
    allowed = column.allowed_values
    if isinstance(allowed, str):  # "seed <name>": the contract reads the seed itself
        assert allowed == f"seed {seed}", f"{dataset}.{column.name}: {allowed}"
        return
    assert set(allowed) == _seed_values(seed, seed_column), f"{dataset}.{column.name}"
