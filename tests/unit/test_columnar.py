"""The columnar fast path lands exactly what the row-by-row path lands, or gives way to it."""

from __future__ import annotations

import hashlib
import hmac
import io
import random
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEST_KEY
from vawg_warehouse.ingest import columnar
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import discover, register
from vawg_warehouse.ingest.load import (
    _create_landing_table,
    _landing_columns,
    copy_csv_file,
    copy_records,
    load_batch,
)
from vawg_warehouse.ingest.privacy import Pseudonymiser
from vawg_warehouse.ingest.readers import csv_records
from vawg_warehouse.run_context import RunContext

CTX = RunContext(dag_id="test", dag_run_id="run-1", logical_date=date(2025, 1, 2))
CONTRACT = load_contract("force_crimes")
HEADER = CONTRACT.column_names
PSEUDONYMISE = Pseudonymiser(TEST_KEY.encode())


def row(n: int, victim: str = "P000000001", suspect: str = "") -> list[str]:
    return [
        f"LC-2025-{n:07d}",
        "2025-01-01",
        "",
        "8N",
        "Y",
        "E07000123",
        victim,
        "25-34",
        "F",
        suspect,
        "2025-01-02T01:15:00Z",
    ]


@pytest.fixture
def conn(migrated):
    with psycopg.connect(migrated.url, autocommit=True) as connection:
        yield connection


def land_both_ways(conn, path: Path) -> tuple[list, list, list[str]]:
    """The rows landed by copy_csv_file (fast path first) and by the row-by-row path alone."""
    from vawg_warehouse.audit import Batch

    results = []
    notes: list[str] = []
    for batch_id, fast in ((1, True), (2, False)):
        batch = Batch(batch_id, "force_crimes", path.name, "0" * 64, "registered")
        with conn.transaction():
            table = _create_landing_table(conn, batch)
            columns = sql.SQL(", ").join(map(sql.Identifier, _landing_columns(CONTRACT)))
            if fast:
                result = copy_csv_file(conn, table, columns, path, CONTRACT, PSEUDONYMISE, "f.csv")
                notes = result.notes
            else:
                statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(table, columns)
                with (
                    path.open(newline="", encoding="utf-8-sig") as source,
                    conn.cursor().copy(statement) as copy,
                ):
                    copy_records(copy, csv_records(source, "f.csv"), CONTRACT, PSEUDONYMISE, "f")
        results.append(
            conn.execute(sql.SQL("select * from {} order by _row_number").format(table)).fetchall()
        )
    return results[0], results[1], notes


def test_the_fast_path_lands_what_the_exact_path_lands(conn, tmp_path: Path) -> None:
    rng = random.Random(7)
    odd_ids = ["  p12 ", "p12", "ß-7", "Ab\x1c", "x\u00a0", "", " ", 'Q"1', "a,b", "Ünïcode"]
    rows = []
    for n in range(1, 3001):
        r = row(n, rng.choice(odd_ids + [f"P{n:09d}"]), rng.choice(odd_ids))
        r[2] = rng.choice(["", "2024-12-31", " padded "])
        rows.append(r)
    order = list(reversed(range(len(HEADER))))  # columns in another order
    buffer = io.StringIO(newline="")
    import csv

    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([HEADER[i] for i in order])
    writer.writerows([[r[i] for i in order] for r in rows])
    path = tmp_path / "crimes.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())  # BOM, CRLF

    fast, exact, notes = land_both_ways(conn, path)
    assert notes == []  # the fast path took it
    assert len(fast) == 3000 and fast == exact
    assert fast[0][-2] == 2 and fast[-1][-2] == 3001  # line numbers: header is line 1


def test_the_fast_path_pseudonyms_are_keyed_hmacs(conn, tmp_path: Path) -> None:
    path = tmp_path / "crimes.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(row(1, "p9 ", "P8")) + "\n")
    fast, _, notes = land_both_ways(conn, path)
    assert notes == []
    victim, suspect = fast[0][6], fast[0][9]
    key = TEST_KEY.encode()
    assert victim == hmac.new(key, b"P9", hashlib.sha256).hexdigest()
    assert suspect == hmac.new(key, b"P8", hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{r1}\n\n{r2}\n", "blank lines"),
        ("{r1}\n{r2q}\n", "blank lines or line breaks inside quoted fields"),
        ("{r1}\r{r2}\n", "lone carriage return"),
        ("{r1}\n{short}\n", "not plain CSV"),
    ],
)
def test_files_the_fast_path_cannot_number_go_row_by_row(
    conn, tmp_path: Path, body: str, reason: str
) -> None:
    quoted = row(2)
    quoted[7] = '"25-\n34"'
    text = body.format(
        r1=",".join(row(1)),
        r2=",".join(row(2)),
        r2q=",".join(quoted),
        short=",".join(row(2)[:-2]),
    )
    path = tmp_path / "crimes.csv"
    path.write_text(",".join(HEADER) + "\n" + text, newline="")
    fast, exact, notes = land_both_ways(conn, path)
    assert fast == exact and len(fast) == 2
    assert len(notes) == 1 and reason in notes[0]
    assert "LC-2025" not in notes[0]  # a reason, never a row


def test_a_line_longer_than_a_block_and_no_final_newline(conn, tmp_path: Path) -> None:
    long = row(2)
    long[7] = "x" * 50_000
    path = tmp_path / "crimes.csv"
    path.write_text(
        "\n".join([",".join(HEADER), ",".join(row(1)), ",".join(long), ",".join(row(3))])
    )
    with path.open("rb") as stream:
        columnar.read_header(stream)
        out = io.BytesIO()
        rows = columnar.copy_columnar(
            out.write, stream, len(HEADER), list(range(11)), [6, 9], PSEUDONYMISE.many, 2, 4096
        )
    assert rows == 3
    fast, exact, notes = land_both_ways(conn, path)
    assert notes == [] and fast == exact and [r[-2] for r in fast] == [2, 3, 4]


def test_already_normal_means_strip_and_upper_change_nothing() -> None:
    import re

    pattern = re.compile(columnar._ALREADY_NORMAL)
    for code in range(128):
        for value in (chr(code), f"A{chr(code)}", f"{chr(code)}A", f"A{chr(code)}B"):
            if pattern.fullmatch(value):
                assert value.strip().upper() == value, repr(value)


def test_a_loaded_batch_says_which_path_read_it(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    folder = landing / "force/crimes"
    folder.mkdir(parents=True)
    (folder / "crimes_2025-01-01.csv").write_text(
        ",".join(HEADER) + "\n" + ",".join(row(1)) + "\n\n"
    )
    (batch,) = register(conn, discover(landing, [CONTRACT]), CTX)
    result = load_batch(conn, batch, landing, PSEUDONYMISE, CTX)
    assert result.rows_read == 1
    assert result.notes == ["read row by row: blank lines or line breaks inside quoted fields"]
