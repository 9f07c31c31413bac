"""The loader against a real PostgreSQL: register, stream with COPY, pseudonymise, publish."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_KEY
from vawg_warehouse.audit import get_batches
from vawg_warehouse.ingest.batches import LoadError, file_sha256, mark_validated
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import discover, register
from vawg_warehouse.ingest.load import load_batch
from vawg_warehouse.ingest.privacy import Pseudonymiser
from vawg_warehouse.ingest.publish import publish_batch
from vawg_warehouse.ingest.quarantine import quarantine_batch
from vawg_warehouse.run_context import RunContext

CTX = RunContext(dag_id="test", dag_run_id="run-1", logical_date=date(2025, 1, 2))
HEADER = load_contract("force_crimes").column_names
GOOD_ROWS = [
    [
        "LC-2025-0000001",
        "2025-01-01",
        "2024-12-31",
        "8N",
        "Y",
        "E07000123",
        "P000000001",
        "25-34",
        "F",
        "P000000002",
        "2025-01-02T01:15:00Z",
    ],
    [
        "LC-2025-0000002",
        "2025-01-01",
        "",
        "19C",
        "N",
        "E06000009",
        "P000000003",
        "18-24",
        "F",
        "",
        "2025-01-02T01:15:00Z",
    ],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


def expected_pseudonym(identifier: str) -> str:
    return hmac.new(TEST_KEY.encode(), identifier.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def conn(migrated):
    with psycopg.connect(migrated.url) as connection:
        yield connection


def registered(conn, landing: Path) -> list:
    return register(conn, discover(landing), CTX)


def test_discover_finds_only_files_matching_a_contract(landing: Path) -> None:
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    write_csv(landing / "force/crimes/notes.csv", HEADER, GOOD_ROWS)
    write_csv(landing / "elsewhere/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    found = discover(landing)
    assert [f.relative_path for f in found] == ["force/crimes/crimes_2025-01-01.csv"]
    assert found[0].dataset == "force_crimes"


def test_load_and_publish_pseudonymises_and_keeps_line_numbers(conn, landing: Path) -> None:
    path = write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    (batch,) = registered(conn, landing)
    result = load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    assert result.rows_read == 2 and result.malformed_rows == 0

    landed = conn.execute(
        f"select victim_pseudonym, suspect_pseudonym, _row_number, _malformed "
        f"from landing.{batch.landing_table} order by _row_number"
    ).fetchall()
    assert landed[0] == (
        expected_pseudonym("P000000001"),
        expected_pseudonym("P000000002"),
        2,
        False,
    )
    assert landed[1][1] is None and landed[1][2] == 3  # no suspect stays empty

    (batch,) = get_batches(conn, [batch.batch_id])
    mark_validated(conn, batch, CTX)
    assert publish_batch(conn, get_batches(conn, [batch.batch_id])[0], CTX) == 2
    raw = conn.execute(
        "select crime_reference, recorded_date, offence_date, domestic_abuse_flag, _batch_id "
        "from raw_force.crimes order by crime_reference"
    ).fetchall()
    assert raw == [
        ("LC-2025-0000001", date(2025, 1, 1), date(2024, 12, 31), True, batch.batch_id),
        ("LC-2025-0000002", date(2025, 1, 1), None, False, batch.batch_id),
    ]
    audit = conn.execute(
        "select status, rows_read, rows_loaded, rows_rejected, file_sha256 "
        "from audit.load_batch where batch_id = %s",
        (batch.batch_id,),
    ).fetchone()
    assert audit == ("published", 2, 2, 0, file_sha256(path))
    leftovers = conn.execute(
        "select count(*) from pg_tables where schemaname = 'landing'"
    ).fetchone()[0]
    assert leftovers == 0
    # No identifier in clear anywhere in the raw table.
    clear = conn.execute(
        "select count(*) from raw_force.crimes where victim_pseudonym like 'P0%' "
        "or suspect_pseudonym like 'P0%'"
    ).fetchone()[0]
    assert clear == 0


def test_a_file_already_taken_in_is_skipped(conn, landing: Path) -> None:
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    (batch,) = registered(conn, landing)
    load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    mark_validated(conn, get_batches(conn, [batch.batch_id])[0], CTX)
    publish_batch(conn, get_batches(conn, [batch.batch_id])[0], CTX)
    # The same content under another name is the same file.
    write_csv(landing / "force/crimes/crimes_2025-01-09.csv", HEADER, GOOD_ROWS)
    assert registered(conn, landing) == []
    assert conn.execute("select count(*) from audit.load_batch").fetchone()[0] == 1


def test_an_unfinished_batch_is_offered_again(conn, landing: Path) -> None:
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    (first,) = registered(conn, landing)
    (again,) = registered(conn, landing)
    assert again.batch_id == first.batch_id


def test_crlf_line_ends_and_another_column_order_load_the_same(conn, landing: Path) -> None:
    order = list(reversed(range(len(HEADER))))
    write_csv(
        landing / "force/crimes/crimes_2025-01-01.csv",
        [HEADER[i] for i in order],
        [[r[i] for i in order] for r in GOOD_ROWS],
        newline="\r\n",
    )
    (batch,) = registered(conn, landing)
    load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    rows = conn.execute(
        f"select crime_reference, extracted_at, _row_number "
        f"from landing.{batch.landing_table} order by 3"
    ).fetchall()
    assert rows == [
        ("LC-2025-0000001", "2025-01-02T01:15:00Z", 2),
        ("LC-2025-0000002", "2025-01-02T01:15:00Z", 3),
    ]


def test_a_row_with_the_wrong_number_of_fields_is_kept_and_flagged(conn, landing: Path) -> None:
    short = GOOD_ROWS[1][:-3]
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, [GOOD_ROWS[0], short])
    (batch,) = registered(conn, landing)
    result = load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    assert result.rows_read == 2 and result.malformed_rows == 1
    flagged = conn.execute(
        f"select _row_number from landing.{batch.landing_table} where _malformed"
    ).fetchall()
    assert flagged == [(3,)]


def test_a_file_missing_a_column_is_quarantined_naming_file_line_and_rule(
    conn, landing: Path
) -> None:
    header = [c for c in HEADER if c != "victim_sex"]
    rows = [[v for c, v in zip(HEADER, r, strict=True) if c != "victim_sex"] for r in GOOD_ROWS]
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", header, rows)
    (batch,) = registered(conn, landing)
    with pytest.raises(LoadError) as caught:
        load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    message = str(caught.value)
    assert "force/crimes/crimes_2025-01-01.csv, line 1" in message
    assert "1 of the contract's columns missing: ['victim_sex']" in message
    assert "header matches the contract" in message
    status, error = conn.execute(
        "select status, error_message from audit.load_batch where batch_id = %s",
        (batch.batch_id,),
    ).fetchone()
    assert status == "quarantined" and "victim_sex" in error
    assert registered(conn, landing) == []  # not retried: the same file fails the same way


def test_a_file_that_is_not_utf8_names_the_line(conn, landing: Path) -> None:
    path = write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    path.write_bytes(path.read_bytes() + b"LC-2025-0000003,\xff\xfe\n")
    (batch,) = registered(conn, landing)
    with pytest.raises(LoadError, match="not valid UTF-8") as caught:
        load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    assert caught.value.line == 4  # header, two good rows, then the bad one


def test_quarantine_keeps_the_rows_out_of_raw(conn, landing: Path) -> None:
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    (batch,) = registered(conn, landing)
    load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)
    quarantine_batch(conn, batch, CTX, "rule x failed")
    kept = conn.execute(f"select count(*) from quarantine.{batch.landing_table}").fetchone()[0]
    assert kept == 2
    assert conn.execute("select count(*) from raw_force.crimes").fetchone()[0] == 0
    assert conn.execute(
        "select status, rows_rejected, rows_loaded from audit.load_batch"
    ).fetchone() == ("quarantined", 2, 0)
    events = conn.execute(
        "select status from audit.load_batch_event where batch_id = %s order by event_id",
        (batch.batch_id,),
    ).fetchall()
    assert [e[0] for e in events] == ["registered", "loaded", "quarantined"]


def test_a_file_rewritten_after_registration_is_refused(conn, landing: Path) -> None:
    path = write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    (batch,) = registered(conn, landing)
    write_csv(path.parent / path.name, HEADER, GOOD_ROWS[:1])
    with pytest.raises(LoadError, match="changed after it was registered"):
        load_batch(conn, batch, landing, Pseudonymiser(TEST_KEY.encode()), CTX)


def test_an_excel_worksheet_streams_like_a_csv(conn, tmp_path: Path) -> None:
    """Workbooks (victim-service returns, grant registers) go through the same COPY path."""
    import dataclasses
    from datetime import datetime

    from openpyxl import Workbook

    from vawg_warehouse.ingest.load import copy_records
    from vawg_warehouse.ingest.readers import xlsx_records

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Return"
    sheet.append(HEADER)
    sheet.append(
        [
            "LC-2025-0000001",
            datetime(2025, 1, 1),
            date(2024, 12, 31),
            "8N",
            "Y",
            "E07000123",
            "P000000001",
            "25-34",
            "F",
            None,
            "2025-01-02T01:15:00Z",
        ]
    )
    sheet.append([])  # a blank row is not a row
    sheet.append(["LC-2025-0000002", "2025-01-01", None, 19.0, "N", "E06000009", "P3"])
    path = tmp_path / "return.xlsx"
    workbook.save(path)

    records = list(xlsx_records(path, "return.xlsx", "Return"))
    assert [line for line, _ in records] == [1, 2, 4]
    assert records[1][1][1:3] == ["2025-01-01", "2024-12-31"]  # dates as ISO text
    assert records[2][1][3] == "19"  # a whole number without '.0'

    contract = dataclasses.replace(load_contract("force_crimes"), file_format={"type": "xlsx"})
    names = [*contract.stored_names, "_row_number", "_malformed"]
    conn.execute(f"create temp table landed ({', '.join(n + ' text' for n in names)})")
    with conn.cursor().copy(f"copy landed ({', '.join(names)}) from stdin (format csv)") as copy:
        result = copy_records(
            copy, iter(records), contract, Pseudonymiser(TEST_KEY.encode()), "return.xlsx"
        )
    assert result.rows_read == 2 and result.malformed_rows == 0  # short Excel rows are blank
    landed = conn.execute(
        "select crime_reference, victim_pseudonym, victim_sex, _row_number from landed order by 4"
    ).fetchall()
    assert landed == [
        ("LC-2025-0000001", expected_pseudonym("P000000001"), "F", "2"),
        ("LC-2025-0000002", expected_pseudonym("P3"), None, "4"),
    ]


def test_a_missing_worksheet_is_named(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from vawg_warehouse.ingest.readers import xlsx_records

    path = tmp_path / "r.xlsx"
    Workbook().save(path)
    with pytest.raises(LoadError, match="no worksheet named 'Return'"):
        list(xlsx_records(path, "r.xlsx", "Return"))
