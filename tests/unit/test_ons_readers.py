"""ONS population estimates as published, read into their contracts' long rows; and the landing
folder's files that no contract takes, named (no database).

The fixtures (tests/fixtures/ons/, written by make_fixtures.py) are built to the publishers'
layouts: an ONS workbook with titles and notes above each MYE2 sheet's header, an older .xls
release (Geography1, last age column headed 90, the year only in the file name), and a Nomis CSV
download with its selection lines, two blocks and footnotes.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from vawg_warehouse.ingest.batches import LoadError
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import unrecognised_files
from vawg_warehouse.ingest.ons_readers import mye2_records, nomis_records, reference_year

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ONS = FIXTURES / "ons"
WORKBOOK = ONS / "mid-year-estimates-mid2023.xlsx"
OLD_XLS = ONS / "ukpopestimatesmid2021on2021geographyfinal.xls"
NOMIS = ONS / "nomis-population-estimates-2024.csv"
AREAS = 18  # England and Wales, England, the North West, Lancashire county, 14 authorities
COLUMNS = 1 + 90 + 1  # All ages, 0-89, 90+


@pytest.mark.parametrize("path", [WORKBOOK, OLD_XLS], ids=["xlsx", "xls"])
def test_mye2_sheets_become_one_row_per_cell(path: Path) -> None:
    records = list(mye2_records(path, path.name))
    header, rows = records[0][1], [values for _, values in records[1:]]
    assert header == load_contract("public_ons_mid_year_estimates").file_headers
    assert len(rows) == 3 * AREAS * COLUMNS  # persons, females, males; titles and notes skipped
    assert Counter(r[1] for r in rows) == {
        s: AREAS * COLUMNS for s in ("persons", "females", "males")
    }
    year = "2023" if path == WORKBOOK else "2021"  # the title's mid-2023; the file name's mid2021
    assert {r[0] for r in rows} == {year}
    ages = {r[5] for r in rows}
    assert {"All ages", "0", "89"} <= ages and ({"90+"} <= ages or {"90"} <= ages)
    # Preston's persons: All ages is the sum of its single years, read as whole numbers
    preston = {r[5]: int(r[6]) for r in rows if r[2] == "E07000123" and r[1] == "persons"}
    assert preston.pop("All ages") == sum(preston.values())


def test_the_2021_xls_reads_back_the_published_totals() -> None:
    """The .xls fixture spreads ONS's mid-2021 totals over single years: read back, they add
    up to them (Blackburn with Darwen: 154,922 people, 60,723 females aged 16+)."""
    rows = [v for _, v in list(mye2_records(OLD_XLS, OLD_XLS.name))[1:] if v[2] == "E06000008"]
    persons = [int(r[6]) for r in rows if r[1] == "persons" and r[5] != "All ages"]
    females_16 = [
        int(r[6]) for r in rows if r[1] == "females" and r[5] != "All ages" and int(r[5]) >= 16
    ]
    assert (sum(persons), sum(females_16)) == (154922, 60723)


def test_nomis_blocks_become_one_row_per_area_and_measure() -> None:
    records = list(nomis_records(NOMIS, NOMIS.name))
    header, rows = records[0][1], [values for _, values in records[1:]]
    assert header == load_contract("public_nomis_population_estimates").file_headers
    assert Counter((r[0], r[1], r[4]) for r in rows) == {
        (year_, sex, measure): 14
        for year_ in ["2024"]
        for sex in ("Total", "Female")
        for measure in ("All Ages", "Aged 16+")
    }
    assert all(r[3].startswith("E0") for r in rows)  # no footnote or title line became a row


def test_a_workbook_without_mye2_sheets_is_refused_by_rule(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "mid-2023.xlsx"
    book = Workbook()
    book.active.title = "MYE1"
    book.save(path)
    with pytest.raises(LoadError, match="rule: workbook has an MYE2 sheet"):
        list(mye2_records(path, path.name))


def test_reference_year_from_titles_else_the_file_name() -> None:
    assert reference_year(["MYE2: Persons, mid-2023"], "x.xlsx") == "2023"
    assert reference_year([], "ukpopestimatesmid2020on2020geography.xls") == "2020"
    assert reference_year([], "mye22final.xlsx") == "2022"
    assert reference_year(["Population estimates"], "estimates.xlsx") is None


def test_files_no_contract_takes_are_named(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    recognised = {
        "ons/mid_year_estimates/mid-year-estimates-mid2023.xlsx": WORKBOOK,
        "ons/mid_year_estimates/ukpopestimatesmid2021on2021geographyfinal.xls": OLD_XLS,
        "ons/nomis/nomis-population-estimates-2024.csv": NOMIS,
        "homeoffice/recorded_crime/prc-pfa-2024_25.csv": FIXTURES
        / "homeoffice"
        / "prc-pfa-2024_25.csv",
        "policeuk/2025-01/2025-01-lancashire-street.csv": NOMIS,
    }
    stray = {
        "ons/nomis-population-estimates-2024.csv": NOMIS,  # one folder too high
        "homeoffice/prc-pfa-2024_25.xlsx": WORKBOOK,  # one folder too high
        "notes.txt": NOMIS,
    }
    for relative, source in {**recognised, **stray}.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, landing / relative)
    (landing / ".DS_Store").write_text("")
    assert unrecognised_files(landing) == sorted(stray)
    assert unrecognised_files(tmp_path / "missing") == []
