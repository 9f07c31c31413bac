"""The public open data generator: real files in tmp_path, read back as the loader reads them."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from vawg_devtools.sample import generate
from vawg_devtools.sample.public import HOME_OFFICE, OUTCOMES, STREET, PublicSource
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract

START, END = date(2024, 4, 1), date(2025, 3, 31)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    landing = tmp_path_factory.mktemp("landing")
    summary = generate(landing, start=START, end=END, rows=300, sources=[PublicSource])
    return landing, summary


def _files(landing: Path, dataset: str) -> dict[str, list[dict[str, str]]]:
    contract = load_contract(dataset)
    out = {}
    for path in sorted(contract.landing_dir(landing).rglob("*.csv")):
        relative = path.relative_to(landing).as_posix()
        if not contract.matches(relative):
            continue  # the street and outcomes files share their folders
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == contract.file_headers
            out[relative] = list(reader)
    return out


def test_a_street_and_an_outcomes_file_each_month_and_one_month_republished(sample) -> None:
    landing, summary = sample
    street, outcomes = _files(landing, STREET), _files(landing, OUTCOMES)
    assert len(outcomes) == 12
    assert len(street) == 13  # twelve months and the first one published again
    assert "policeuk/republished-2025-03/2024-04/2024-04-lancashire-street.csv" in street
    assert summary.dataset(STREET).rows == sum(len(rows) for rows in street.values())
    for name, rows in street.items():
        month = re.search(r"(\d{4}-\d{2})-lancashire", name).group(1)
        assert {r["Month"] for r in rows} == {month}


def test_street_files_hold_the_quirks_of_real_ones(sample) -> None:
    landing, _ = sample
    rows = [r for rows in _files(landing, STREET).values() for r in rows]
    types = {r["crime_type"] for r in read_seed("policeuk_crime_types")}
    assert {r["Crime type"] for r in rows} <= types
    asb = [r for r in rows if r["Crime type"] == "Anti-social behaviour"]
    assert asb and all(r["Crime ID"] == "" and r["Last outcome category"] == "" for r in asb)
    no_location = [r for r in rows if r["Location"] == "No Location"]
    assert no_location and all(r["LSOA code"] == r["Longitude"] == "" for r in no_location)
    names = {r["lsoa_local_authority_name"] for r in read_seed("policeuk_local_authority_names")}
    outside = [r for r in rows if r["LSOA name"] and r["LSOA name"].rsplit(" ", 1)[0] not in names]
    assert outside
    ids = Counter((r["Month"], r["Crime ID"]) for r in rows if r["Crime ID"])
    assert max(ids.values()) >= 2  # a Crime ID repeated within a month
    codes = {int(r["LSOA code"][3:]) >= 35000 for r in rows if r["LSOA code"]}
    assert codes == {True, False}  # 2011 and 2021 codes
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["Crime ID"]) for r in rows if r["Crime ID"])


def test_outcomes_refer_to_crimes_of_earlier_months(sample) -> None:
    landing, _ = sample
    crime_month = {
        r["Crime ID"]: r["Month"]
        for name, rows in _files(landing, STREET).items()
        if "republished" not in name
        for r in rows
        if r["Crime ID"]
    }
    outcomes = [r for rows in _files(landing, OUTCOMES).values() for r in rows]
    assert all(r["Crime ID"] in crime_month for r in outcomes)
    assert any(crime_month[r["Crime ID"]] < r["Month"] for r in outcomes)
    categories = {r["outcome_category"] for r in read_seed("policeuk_outcome_categories")}
    assert {r["Outcome type"] for r in outcomes} <= categories


def test_the_republished_month_has_later_outcomes(sample) -> None:
    landing, _ = sample
    street = _files(landing, STREET)
    first = street["policeuk/2024-04/2024-04-lancashire-street.csv"]
    again = street["policeuk/republished-2025-03/2024-04/2024-04-lancashire-street.csv"]
    assert [r["Crime ID"] for r in first] == [r["Crime ID"] for r in again]
    changed = sum(
        a["Last outcome category"] != b["Last outcome category"]
        for a, b in zip(first, again, strict=True)
    )
    assert changed > 0


def _count(text: str) -> int:
    return int(text.strip())  # "-00" is 0


def test_home_office_tables_restate_quarters_with_export_quirks(sample) -> None:
    landing, _ = sample
    tables = _files(landing, HOME_OFFICE)
    # Q1 2024-25 (Apr-Jun 2024) ends 30 Jun: published 120 days later; Q3's table is due after END
    folder = "homeoffice/recorded_crime"
    assert sorted(tables) == [f"{folder}/prc_pfa_2024q1.csv", f"{folder}/prc_pfa_2024q2.csv"]
    first, last = tables[f"{folder}/prc_pfa_2024q1.csv"], tables[f"{folder}/prc_pfa_2024q2.csv"]
    assert {(r["Financial Year"], r["Financial Quarter"]) for r in last} == {
        ("2024/25", "1"),
        ("2024/25", "2"),
    }
    forces = {r["force_name"] for r in read_seed("police_forces") if r["area_type"] != "country"}
    assert {r["Force Name"] for r in last} == forces
    counts = [r["Number of Offences"] for r in first + last]
    assert all(re.fullmatch(r" *-?[0-9]+ *", c) for c in counts)
    assert any(c.startswith(" ") for c in counts) and "-00" in counts
    assert any(_count(c) < 0 for c in counts)  # adjustments
    # a quarter's figures agree between releases
    q1 = {(r["Force Name"], r["Offence Code"]): _count(r["Number of Offences"]) for r in first}
    q1_again = {
        (r["Force Name"], r["Offence Code"]): _count(r["Number of Offences"])
        for r in last
        if r["Financial Quarter"] == "1"
    }
    assert q1 == q1_again
