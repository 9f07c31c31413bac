"""The Home Office police recorded crime table as published: the fixture files load whole and the
peer mart is built from them.

tests/fixtures/homeoffice/ holds two years' sheets exported to CSV in the published layout
(Financial Year, Financial Quarter, Force Name, Offence Description, Offence Group, Offence
Subgroup, Offence Code, Number of Offences) with every quirk real tables have: homicide as several
rows per force and quarter under the combined code 1/4.1/4.10/4.2 (twice under one description
too), bodies that are not territorial forces (British Transport Police, Action Fraud, CIFAS, UK
Finance, Financial Fraud Action UK) with codes holding spaces, "London, City of" quoted,
space-padded counts, "-00", negative adjustments, thousands separators, a BOM and CRLF line ends
in one file, and a year (2024/25) with no controlling or coercive behaviour (8U) row at all.

They go through the functions the DAG calls (register, load, validate, publish), then dbt builds
the mart; what it holds is compared with sums computed here from the files and seeds alone. A
second warehouse takes a table with a repeated row: it is quarantined, `vawg quarantine list` and
`vawg status` name the rule, and once released the rebuild passes its staging tests.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.conftest import HANG_GUARD_SECONDS, TEST_KEY, create_database, drop_database
from tests.integration.conftest import seed_rows
from vawg_warehouse import orchestration
from vawg_warehouse.cli import main as vawg_main
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import runner

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "homeoffice"
DATASET = "public_home_office_recorded_crime"
HOMICIDE = "1/4.1/4.10/4.2"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _count(text: str) -> int:
    return int(text.strip().replace(",", ""))


def load_home_office(night: str) -> list[int]:
    ctx = orchestration.run_context("test_home_office", f"night-{night}", date(2025, 4, 1))
    settings = get_settings()
    batches = orchestration.register_files(DATASET, ctx, settings)
    loaded = orchestration.load_batches(batches, ctx, settings)
    valid = orchestration.validate_batches(loaded, ctx, settings)
    orchestration.publish_batches(valid, ctx, settings)
    return batches


def dbt_build(
    tmp_path: Path,
    select: tuple[str, ...] = ("+mart_peer_comparison_yearly", "lineage_peer_comparison_yearly"),
) -> subprocess.CompletedProcess:
    return runner.run(
        "build",
        ["--select", *select, "--indirect-selection", "cautious"],
        get_settings(),
        target_path=tmp_path / "dbt_target",
        log_path=tmp_path / "dbt_logs",
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )


def _warehouse(server, tmp_path: Path, files: list[Path]):
    """A throwaway migrated warehouse with ``files`` dropped in the Home Office landing folder."""
    from vawg_warehouse.migrations import migrate

    database = create_database(server)
    landing = tmp_path / "landing"
    folder = landing / "homeoffice" / "recorded_crime"
    folder.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, folder / path.name)
    patch = pytest.MonkeyPatch()
    patch.setenv("VAWG_WAREHOUSE_URL", database.url)
    patch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
    patch.setenv("VAWG_LANDING_DIR", str(landing))
    with psycopg.connect(database.url) as conn:
        migrate(conn)
    return database, folder, patch


@pytest.fixture(scope="module")
def published(server, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("home_office")
    files = sorted(FIXTURES.glob("*.csv"))
    database, _, patch = _warehouse(server, tmp_path, files)
    try:
        load_home_office("1")
        build = dbt_build(tmp_path)
        yield {"db": database, "files": files, "build": build}
    finally:
        patch.undo()
        drop_database(database)


def _query(db, sql: str, *params) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(sql, params).fetchall()


def test_published_tables_load_with_no_batch_set_aside(published) -> None:
    db, files = published["db"], published["files"]
    batches = _query(db, "select file_name, status, rows_read, rows_loaded from audit.load_batch")
    assert len(batches) == len(files)
    assert {status for _, status, _, _ in batches} == {"published"}
    for name, _, read, loaded in batches:
        (path,) = [f for f in files if name.endswith(f.name)]
        assert read == loaded == len(_rows(path))
    build = published["build"]
    assert build.returncode == 0, build.stdout[-4000:]


def test_homicide_rows_are_summed_under_the_combined_code(published) -> None:
    expected: dict[tuple, int] = defaultdict(int)
    for path in published["files"]:
        for row in _rows(path):
            if row["Offence Code"] == HOMICIDE:
                key = (row["Financial Year"], int(row["Financial Quarter"]), row["Force Name"])
                expected[key] += _count(row["Number of Offences"])
    rows = _query(
        published["db"],
        "select financial_year, financial_quarter_number, force_name, offence_count "
        "from intermediate.int_home_office_recorded_crimes_deduplicated "
        "where ho_offence_code = %s",
        HOMICIDE,
    )
    assert {r[:3]: r[3] for r in rows} == dict(expected)
    # Lancashire 2023/24 Q2: four rows under their own descriptions and two under "Homicide"
    assert expected[("2023/24", 2, "Lancashire")] == 1 + 2 + 3 + 0 + 2 + 1


def test_bodies_that_are_not_forces_are_set_apart_and_named(published, capsys) -> None:
    db, files = published["db"], published["files"]
    territorial = {
        r["force_name"] for r in seed_rows("police_forces") if r["area_type"] == "territorial_force"
    }
    for path in files:
        bodies: dict[str, int] = defaultdict(int)
        for row in _rows(path):
            if row["Force Name"] not in territorial:
                bodies[row["Force Name"]] += 1
        ((detail,),) = _query(
            db,
            "select e.detail from audit.load_batch_event as e join audit.load_batch as b "
            "using (batch_id) where e.status = 'bodies_set_apart' and b.file_name like %s",
            f"%{path.name}",
        )
        assert {b["name"]: b["rows"] for b in detail["bodies"]} == dict(bodies)
    assert "Financial Fraud Action UK" in {
        row["Force Name"] for row in _rows(FIXTURES / "prc-pfa-2024_25.csv")
    }

    # England and Wales sums the territorial forces only; the fraud bodies' large counts are out.
    codes = {
        r["ho_offence_code"]
        for r in seed_rows("reporting_category_rules")
        if r["reporting_category"] == "stalking_and_harassment"
    }
    expected = sum(
        _count(row["Number of Offences"])
        for row in _rows(FIXTURES / "prc-pfa-2023_24.csv")
        if row["Force Name"] in territorial and row["Offence Code"] in codes
    )
    ((actual,),) = _query(
        db,
        "select offence_count from marts.mart_peer_comparison_yearly where financial_year = "
        "'2023/24' and area_name = 'England and Wales' "
        "and reporting_category = 'stalking_and_harassment'",
    )
    assert actual == expected

    # vawg status names them, as a warning (the file was published)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAWG_WAREHOUSE_URL", db.url)
        capsys.readouterr()
        assert vawg_main(["status"]) == 0
    printed = capsys.readouterr().out
    assert "WARNING batch" in printed
    for name in ("Action Fraud", "Financial Fraud Action UK", "UK Finance"):
        assert name in printed


def test_a_category_with_none_of_its_codes_in_a_year_is_not_available(published) -> None:
    rows = _query(
        published["db"],
        "select financial_year, area_name, offence_count, rate_per_1000, not_available_reason "
        "from marts.mart_peer_comparison_yearly "
        "where reporting_category = 'controlling_coercive_behaviour'",
    )
    assert rows
    for year, _, count, rate, reason in rows:
        if year == "2024/25":  # no 8U row for any force or body in the year's table
            assert (count, rate) == (None, None)
            assert reason and "8U" in reason
        else:
            assert count is not None and reason is None
    lancashire_2023 = sum(
        _count(row["Number of Offences"])
        for row in _rows(FIXTURES / "prc-pfa-2023_24.csv")
        if row["Force Name"] == "Lancashire" and row["Offence Code"] == "8U"
    )
    assert [r[2] for r in rows if r[:2] == ("2023/24", "Lancashire")] == [lancashire_2023]


def test_a_quarantined_table_names_its_rule_and_a_release_then_builds(
    server, tmp_path, capsys
) -> None:
    """A table with one offence twice for a force and quarter (not a combined code) and a count
    that is not a whole number is set aside; the list and the status name both rules; released,
    the rebuild passes (its staging tests warn of the unreadable count, none fails)."""
    rows = _rows(FIXTURES / "prc-pfa-2024_25.csv")
    header = list(rows[0])
    repeated = next(r for r in rows if r["Offence Code"] == "19C")
    bad = tmp_path / "prc-pfa-2024_25-repeated.csv"
    with bad.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        # the row repeated with another count, and a count that is not a whole number
        writer.writerows([*rows, {**repeated, "Number of Offences": "5"}])
        writer.writerow({**rows[-1], "Offence Description": "Other", "Number of Offences": "2.5"})
    database, _, patch = _warehouse(server, tmp_path, [bad])
    rule = "each quarter, force and offence appears once in the file"
    try:
        (batch_id,) = load_home_office("1")
        assert _query(database, "select status from audit.load_batch") == [("quarantined",)]
        capsys.readouterr()
        assert vawg_main(["quarantine", "list"]) == 0
        listed = capsys.readouterr().out
        assert f"broke: {rule} (2 rows)" in listed
        assert "broke: number_of_offences is a whole number (1 row)" in listed
        assert vawg_main(["status"]) == 0
        printed = capsys.readouterr().out
        assert rule in printed and "number_of_offences is a whole number" in printed
        assert (
            vawg_main(["quarantine", "release", str(batch_id), "--reason", "checked by hand"]) == 0
        )
        build = dbt_build(tmp_path)
        assert build.returncode == 0, build.stdout[-4000:]
        assert "ERROR=0" in build.stdout and "WARN=" in build.stdout
    finally:
        patch.undo()
        drop_database(database)
