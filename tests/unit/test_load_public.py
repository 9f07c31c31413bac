"""The loader on published open data formats: headings with spaces, any sub-folder, the quirks.

A real PostgreSQL database per test (``migrated``); files written in the published layouts.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_KEY
from vawg_warehouse.audit import get_batches
from vawg_warehouse.ingest.batches import LoadError, mark_validated
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import discover, register
from vawg_warehouse.ingest.load import load_batch
from vawg_warehouse.ingest.privacy import Pseudonymiser
from vawg_warehouse.ingest.publish import publish_batch
from vawg_warehouse.run_context import RunContext

CTX = RunContext(dag_id="test", dag_run_id="test-run")
STREET = load_contract("public_policeuk_street_crimes")
HOME_OFFICE = load_contract("public_home_office_recorded_crime")
CRIME_ID = "a" * 64


def write(path: Path, header: list[str], rows: list[list[str]], line_end: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator=line_end).writerows([header, *rows])
    return path


@pytest.fixture
def conn(migrated):
    with psycopg.connect(migrated.url) as connection:
        yield connection


def test_police_uk_files_are_found_in_any_sub_folder(tmp_path: Path) -> None:
    header = STREET.file_headers
    write(tmp_path / "policeuk/2025-01/2025-01-lancashire-street.csv", header, [])
    write(tmp_path / "policeuk/zips/2025-04/2025-01/2025-01-cumbria-street.csv", header, [])
    write(tmp_path / "policeuk/2025-01/2025-01-lancashire-outcomes.csv", header, [])
    write(tmp_path / "policeuk/2025-01/2025-01-lancashire-stop-and-search.csv", header, [])
    write(tmp_path / "elsewhere/2025-01-lancashire-street.csv", header, [])
    found = sorted((f.dataset, f.relative_path) for f in discover(tmp_path))
    assert found == [
        ("public_policeuk_outcomes", "policeuk/2025-01/2025-01-lancashire-outcomes.csv"),
        ("public_policeuk_street_crimes", "policeuk/2025-01/2025-01-lancashire-street.csv"),
        (
            "public_policeuk_street_crimes",
            "policeuk/zips/2025-04/2025-01/2025-01-cumbria-street.csv",
        ),
    ]
    # a contract without `recursive` still looks in its own folder only
    assert not load_contract("force_crimes").matches("force/crimes/old/crimes_2025-01-01.csv")


def _load(conn, root: Path):
    (batch,) = register(conn, discover(root), CTX)
    load_batch(conn, batch, root, Pseudonymiser(TEST_KEY.encode()), CTX)
    (batch,) = get_batches(conn, [batch.batch_id])
    mark_validated(conn, batch, CTX)
    return publish_batch(conn, get_batches(conn, [batch.batch_id])[0], CTX)


def test_a_street_file_with_crlf_and_its_quirks_loads_as_published(conn, tmp_path) -> None:
    rows = [
        [CRIME_ID, "2025-01", "Lancashire Constabulary", "Lancashire Constabulary", "-2.703",
         "53.763", "On or near Church Street", "E01025305", "Preston 012B",
         "Violence and sexual offences", "Under investigation", ""],
        [CRIME_ID, "2025-01", "Lancashire Constabulary", "Lancashire Constabulary", "-2.703",
         "53.763", "On or near Church Street", "E01035001", "Preston 020F",
         "Violence and sexual offences", "Under investigation", ""],
        ["", "2025-01", "Lancashire Constabulary", "Lancashire Constabulary", "", "",
         "No Location", "", "", "Anti-social behaviour", "", ""],
    ]  # fmt: skip
    write(tmp_path / "policeuk/2025-01/2025-01-lancashire-street.csv", STREET.file_headers, rows,
          "\r\n")  # fmt: skip
    assert _load(conn, tmp_path) == 3
    raw = conn.execute(
        "select crime_id, longitude, lsoa_code, crime_type, last_outcome_category, _row_number "
        "from raw_public.policeuk_street_crimes order by _row_number"
    ).fetchall()
    assert raw == [
        (CRIME_ID, Decimal("-2.703"), "E01025305", "Violence and sexual offences",
         "Under investigation", 2),
        (CRIME_ID, Decimal("-2.703"), "E01035001", "Violence and sexual offences",
         "Under investigation", 3),
        (None, None, None, "Anti-social behaviour", None, 4),
    ]  # fmt: skip


def test_home_office_counts_are_kept_as_exported(conn, tmp_path) -> None:
    rows = [
        ["2023/24", "1", "Lancashire", "Rape", "Sexual offences", "Rape", "19C", "   12"],
        ["2023/24", "1", "Kent", "Rape", "Sexual offences", "Rape", "19C", "-00"],
        ["2023/24", "1", "Action Fraud", "Rape", "Sexual offences", "Rape", "19C", "-3"],
    ]
    write(tmp_path / "homeoffice/recorded_crime/prc.csv", HOME_OFFICE.file_headers, rows)
    assert _load(conn, tmp_path) == 3
    counts = conn.execute(
        "select number_of_offences, cast(btrim(number_of_offences) as integer) "
        "from raw_public.home_office_recorded_crime order by _row_number"
    ).fetchall()
    assert counts == [("   12", 12), ("-00", 0), ("-3", -3)]


def test_a_file_with_the_snake_case_names_instead_of_the_published_headings_is_refused(
    conn, tmp_path
) -> None:
    write(tmp_path / "homeoffice/recorded_crime/prc.csv", HOME_OFFICE.column_names, [])
    (batch,) = register(conn, discover(tmp_path), CTX)
    with pytest.raises(LoadError, match="columns missing"):
        load_batch(conn, batch, tmp_path, Pseudonymiser(TEST_KEY.encode()), CTX)
