"""Seeds that restate a contract's list of allowed values must say the same as the contract.

dim_victim_cohort is built from the seeds victim_age_bands and victim_sexes; a victim's age band or
sex that the contract allows but the seed lacks would fall to the unknown member unseen.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vawg_warehouse.ingest.contracts import all_contracts

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


# Offence codes: seed ho_offence_codes says what a code is (description, Home Office subgroup);
# seed reporting_category_rules alone says which reporting category it counts in.


def _rows(seed: str) -> list[dict[str, str]]:
    with (SEEDS / f"{seed}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _category_codes() -> dict[str, set[str]]:
    codes: dict[str, set[str]] = {}
    for rule in _rows("reporting_category_rules"):
        if rule["selection_rule"] == "offence_code":
            codes.setdefault(rule["reporting_category"], set()).add(rule["ho_offence_code"])
    return codes


def test_offence_codes_carry_no_category_flags() -> None:
    """A category flag beside the rules would say the same thing in a second place."""
    columns = set(_rows("ho_offence_codes")[0])
    assert columns == {
        "ho_offence_code",
        "offence_description",
        "offence_subgroup",
        "source",
        "status",
    }


def test_every_rule_names_a_known_offence_code() -> None:
    known = {row["ho_offence_code"] for row in _rows("ho_offence_codes")}
    named = set().union(*_category_codes().values())
    assert named and named <= known, sorted(named - known)


def test_rules_agree_with_the_home_office_subgroups() -> None:
    """docs/measures.md: rape is the HO subgroup Rape (19C-19H); sexual offences are rape plus
    the subgroup Other sexual offences; stalking (8Q) and harassment (8L, 8M) sit in the subgroup
    Stalking and harassment, and stalking_and_harassment IS that subgroup (8Q, 8L, 8M, 8R, 8U),
    so it compares with the Home Office's published figure."""
    by_subgroup: dict[str, set[str]] = {}
    for row in _rows("ho_offence_codes"):
        by_subgroup.setdefault(row["offence_subgroup"], set()).add(row["ho_offence_code"])
    categories = _category_codes()
    assert categories["rape"] == by_subgroup["Rape"] == {"19C", "19D", "19E", "19F", "19G", "19H"}
    assert (
        categories["sexual_offences"] == by_subgroup["Rape"] | by_subgroup["Other sexual offences"]
    )
    assert categories["stalking"] == {"8Q"} and categories["harassment"] == {"8L", "8M"}
    assert categories["stalking_and_harassment"] == by_subgroup["Stalking and harassment"]
    assert categories["stalking"] | categories["harassment"] < categories["stalking_and_harassment"]


def test_every_category_divides_by_a_population_of_every_sex() -> None:
    """Issue 12: every category counts victims of every sex (the force extract and the Home Office
    tables alike), so a female population would divide them by women. One basis per category,
    read by mart_reporting_monthly and mart_peer_comparison_yearly alike, stated in words."""
    rows = _rows("reporting_categories")
    assert {r["population_basis"] for r in rows} <= {"persons", "persons_16_plus"}
    assert all(r["rate_definition"].startswith("all victims per 1,000 people") for r in rows)
