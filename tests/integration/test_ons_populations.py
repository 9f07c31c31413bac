"""ONS mid-year population estimates loaded like every other source, and the marts dividing by
them.

The ONS fixtures (tests/fixtures/ons/: a mid-2023 workbook, a mid-2021 .xls release and a 2024
Nomis download, built to the publishers' layouts) and the Home Office tables
(tests/fixtures/homeoffice/: 2023/24 and 2024/25) go through the functions the DAG calls; dbt builds
the population dimension and the peer comparison. The figures are compared with sums computed here
from the files alone: each year of the peer comparison divides by the estimate of the year it
starts in, or the latest earlier one when none is loaded yet; a year no file gives falls back to
the seeds. `vawg status` lists the landing files no contract takes.
"""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_KEY, create_database, drop_database
from tests.integration.conftest import seed_rows
from tests.integration.test_home_office_published_layout import dbt_build
from vawg_warehouse import orchestration
from vawg_warehouse.cli import main as vawg_main
from vawg_warehouse.config import get_settings

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DROPS = {
    "ons/mid_year_estimates": [
        FIXTURES / "ons" / "mid-year-estimates-mid2023.xlsx",
        FIXTURES / "ons" / "ukpopestimatesmid2021on2021geographyfinal.xls",
    ],
    "ons/nomis": [FIXTURES / "ons" / "nomis-population-estimates-2024.csv"],
    "homeoffice/recorded_crime": sorted((FIXTURES / "homeoffice").glob("*.csv")),
}
DATASETS = (
    "public_ons_mid_year_estimates",
    "public_nomis_population_estimates",
    "public_home_office_recorded_crime",
)
LANCASHIRE_LAS = [
    r["local_authority_code"]
    for r in seed_rows("local_authorities")
    if r["police_force_area_name"] == "Lancashire"
]


def _workbook_estimates(path: Path) -> dict[tuple, int]:
    """(area code, year, basis) -> estimate, read here from the workbook with openpyxl or xlrd."""
    year = 2023 if "2023" in path.name else 2021
    sheets = {"MYE2 - Persons": "persons", "MYE2 - Females": "females"}
    found: dict[tuple, int] = {}
    if path.suffix == ".xls":
        import xlrd

        book = xlrd.open_workbook(str(path))
        tables = {s: [r for r in book.sheet_by_name(s).get_rows()] for s in sheets}
        tables = {s: [[c.value for c in row] for row in rows] for s, rows in tables.items()}
    else:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        tables = {s: [list(r) for r in book[s].iter_rows(values_only=True)] for s in sheets}
    for sheet, sex in sheets.items():
        rows = tables[sheet]
        start = next(i for i, r in enumerate(rows) if r[:2] == ["Code", "Name"])
        for row in rows[start + 1 :]:
            code, ages = row[0], [int(v) for v in row[4:]]
            found[(code, year, sex)] = int(row[3])
            found[(code, year, f"{sex}_16_plus")] = sum(ages[16:])
    return found


def _nomis_estimates(path: Path) -> dict[tuple, int]:
    found: dict[tuple, int] = {}
    sex = None
    with path.open(newline="") as fh:
        for row in csv.reader(fh):
            if row and row[0].startswith("Sex"):
                sex = {"Total": "persons", "Female": "females"}[row[1]]
            elif len(row) == 4 and row[1].startswith("E0"):
                found[(row[1], 2024, sex)] = int(row[2])
                found[(row[1], 2024, f"{sex}_16_plus")] = int(row[3])
    return found


def expected_estimates() -> dict[tuple, int]:
    estimates = {}
    for path in DROPS["ons/mid_year_estimates"]:
        estimates.update(_workbook_estimates(path))
    estimates.update(_nomis_estimates(DROPS["ons/nomis"][0]))
    return estimates


@pytest.fixture(scope="module")
def loaded(server, tmp_path_factory):
    from vawg_warehouse.migrations import migrate

    tmp_path = tmp_path_factory.mktemp("ons")
    landing = tmp_path / "landing"
    for folder, files in DROPS.items():
        (landing / folder).mkdir(parents=True)
        for path in files:
            shutil.copyfile(path, landing / folder / path.name)
    # files no contract takes: one folder too high, and a note beside the tables
    shutil.copyfile(DROPS["ons/nomis"][0], landing / "ons" / "nomis-population-estimates-2024.csv")
    (landing / "homeoffice" / "README.txt").write_text("downloaded by hand")
    database = create_database(server)
    patch = pytest.MonkeyPatch()
    try:
        patch.setenv("VAWG_WAREHOUSE_URL", database.url)
        patch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
        patch.setenv("VAWG_LANDING_DIR", str(landing))
        with psycopg.connect(database.url) as conn:
            migrate(conn)
        ctx = orchestration.run_context("test_ons", "night-1", date(2025, 4, 1))
        settings = get_settings()
        for dataset in DATASETS:
            batches = orchestration.register_files(dataset, ctx, settings)
            valid = orchestration.validate_batches(
                orchestration.load_batches(batches, ctx, settings), ctx, settings
            )
            orchestration.publish_batches(valid, ctx, settings)
        build = dbt_build(tmp_path, ("+mart_peer_comparison_yearly", "+dim_population"))
        yield {"db": database, "build": build}
    finally:
        patch.undo()
        drop_database(database)


def _query(db, sql: str, *params) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(sql, params).fetchall()


def test_ons_files_load_with_no_batch_set_aside(loaded) -> None:
    batches = _query(
        loaded["db"],
        "select dataset, file_name, status, rows_read, rows_loaded from audit.load_batch",
    )
    assert {(d, s) for d, _, s, _, _ in batches} == {(d, "published") for d in DATASETS}
    assert len(batches) == sum(len(files) for files in DROPS.values())
    for dataset, name, _, read, loaded_rows in batches:
        assert read == loaded_rows, name
        if dataset == "public_ons_mid_year_estimates":
            assert read == 3 * 18 * 92, name  # every cell of the three MYE2 sheets
    assert loaded["build"].returncode == 0, loaded["build"].stdout[-4000:]


def test_the_population_dimension_holds_each_estimate_loaded(loaded) -> None:
    expected = {
        (code, year, basis): value
        for (code, year, basis), value in expected_estimates().items()
        if code in LANCASHIRE_LAS
    }
    rows = _query(
        loaded["db"],
        "select area_code, reference_year, population_basis, population, is_ons_estimate "
        "from marts.dim_population where area_type = 'local_authority'",
    )
    actual = {r[:3]: r[3] for r in rows if r[4]}
    assert actual == expected
    # The .xls release reads back ONS's published mid-2021 figures (seed population_mid_year)
    seed = {r["local_authority_code"]: r for r in seed_rows("population_mid_year")}
    for code in LANCASHIRE_LAS:
        assert actual[(code, 2021, "persons")] == int(seed[code]["persons"])
        assert actual[(code, 2021, "females_16_plus")] == int(seed[code]["females_16_plus"])


def test_forces_and_the_country_use_the_estimate_of_the_year(loaded) -> None:
    estimates = expected_estimates()
    by_year: dict[tuple, int] = defaultdict(int)
    for (code, year, basis), value in estimates.items():
        if code in LANCASHIRE_LAS:
            by_year[(year, basis)] += value
    rows = _query(
        loaded["db"],
        "select financial_year, area_name, population_basis, population, "
        "population_reference_year from marts.mart_peer_comparison_yearly "
        "where area_name in ('Lancashire', 'England and Wales')",
    )
    assert rows
    for year, area, basis, population, reference_year in rows:
        start = int(year[:4])
        if area == "Lancashire":  # the sum of its authorities of the year the period starts in
            assert (reference_year, population) == (start, by_year[(start, basis)])
        elif basis == "persons":
            # England and Wales: the workbook's row; 2024/25 has no 2024 row, so mid-2023's
            assert (reference_year, population) == (2023, estimates[("K04000001", 2023, basis)])
    sources = _query(
        loaded["db"],
        "select distinct population_source from intermediate.int_force_populations "
        "where force_name = 'Lancashire'",
    )
    assert ("sum of its local authorities: Nomis download",) in sources


def test_status_names_the_landing_files_no_contract_takes(loaded, capsys) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAWG_WAREHOUSE_URL", loaded["db"].url)
        capsys.readouterr()
        assert vawg_main(["status"]) == 0
    printed = capsys.readouterr().out
    unrecognised = [line.split()[-1] for line in printed.splitlines() if "UNRECOGNISED" in line]
    assert unrecognised == ["homeoffice/README.txt", "ons/nomis-population-estimates-2024.csv"]
