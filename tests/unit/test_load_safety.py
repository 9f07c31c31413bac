"""Nothing lost, nothing leaked: the loader against the files users really send, on a real
PostgreSQL (each test writes its own files). Issue 11, the loader's half."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_KEY
from vawg_warehouse import orchestration as o
from vawg_warehouse.audit import get_batches
from vawg_warehouse.ingest import quarantine_admin
from vawg_warehouse.ingest.batches import mark_validated
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import register, survey
from vawg_warehouse.ingest.load import FileRefused, load_batch
from vawg_warehouse.ingest.privacy import Pseudonymiser
from vawg_warehouse.ingest.publish import PublishMismatch, publish_batch
from vawg_warehouse.ingest.quarantine import release_quarantined

CTX = o.run_context("vawg_nightly", "run-1", date(2025, 1, 2))
CRIMES = load_contract("force_crimes")
HEADER = [c.name for c in CRIMES.columns if not c.optional_in_file]  # record_status left out
MARKER = "VICTIM-MARKER-7731"
PSEUDONYMISE = Pseudonymiser(TEST_KEY.encode())


def crime(n: int, victim: str = "", suspect: str = "", **changes: str) -> list[str]:
    values = {
        "crime_reference": f"LC-2025-{n:07d}",
        "recorded_date": "2025-01-01",
        "offence_date": "2024-12-30",
        "ho_offence_code": "8N",
        "domestic_abuse_flag": "Y",
        "local_authority_code": "E07000123",
        "victim_id": victim or f"P{n:09d}",
        "victim_age_band": "25-34",
        "victim_sex": "F",
        "suspect_id": suspect,
        "extracted_at": "2025-01-02T01:15:00Z",
    }
    values.update(changes)
    return [values[c] for c in HEADER]


def write(path: Path, lines: list[list[str]] | None = None, raw: bytes | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is None:
        raw = ("\n".join(",".join(cells) for cells in lines) + "\n").encode()
    path.write_bytes(raw)
    return path


def crimes_path(landing: Path, day: str = "2025-01-01") -> Path:
    return landing / "force/crimes" / f"crimes_{day}.csv"


@pytest.fixture
def landing(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    return landing


@pytest.fixture
def conn(migrated):
    with psycopg.connect(migrated.url, autocommit=True) as connection:
        yield connection


def load_all(ctx=CTX) -> list[int]:
    ids = o.register_files("force_crimes", ctx)
    o.load_batches(ids, ctx)
    return ids


def batch_state(conn, batch_id: int) -> tuple:
    return conn.execute(
        "select status, rows_read, rows_loaded, rows_rejected, error_message "
        "from audit.load_batch where batch_id = %s",
        (batch_id,),
    ).fetchone()


def event_kinds(conn, batch_id: int) -> list[str]:
    rows = conn.execute(
        "select status from audit.load_batch_event where batch_id = %s order by event_id",
        (batch_id,),
    ).fetchall()
    return [r[0] for r in rows]


def all_text(conn, schemas: tuple[str, ...]) -> dict[str, str]:
    """Every row of every table of ``schemas`` as text, by table."""
    tables = conn.execute(
        "select schemaname, tablename from pg_tables where schemaname = any(%s)", (list(schemas),)
    ).fetchall()
    found = {}
    for schema, table in tables:
        rows = conn.execute(f'select t::text from "{schema}"."{table}" as t').fetchall()
        found[f"{schema}.{table}"] = "\n".join(r[0] for r in rows)
    return found


# ------------------------------------------------------------------------------------------------
# 1. No cell value in an error, audit row or log
# ------------------------------------------------------------------------------------------------


def test_a_file_without_its_header_is_quarantined_without_quoting_its_first_row(
    conn, landing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    write(crimes_path(landing), [crime(1, victim=MARKER, suspect=MARKER), crime(2)])
    (batch_id,) = load_all()
    status, _, _, _, error = batch_state(conn, batch_id)
    assert status == "quarantined"
    assert "line 1" in error and "11 of the contract's columns missing" in error
    assert "11 column(s) the contract does not name" in error
    assert "header row missing" in error
    assert MARKER not in error and "LC-2025" not in error and "2024-12-30" not in error
    assert MARKER not in caplog.text and "LC-2025-0000001" not in caplog.text
    texts = all_text(conn, ("audit",))
    assert not [t for t, text in texts.items() if MARKER in text or "LC-2025-0000001" in text]


def test_csv_errors_name_the_line_and_rule_not_the_text(conn, landing: Path) -> None:
    header = ",".join(HEADER).encode()
    write(crimes_path(landing), raw=header + b"\n" + b'LC-2025-0000001,"2025\x00' + b"\n")
    (batch_id,) = load_all()
    status, _, _, _, error = batch_state(conn, batch_id)
    assert status == "quarantined" and "a NUL byte" in error and "(rule: file is CSV)" in error
    assert "LC-2025" not in error


# ------------------------------------------------------------------------------------------------
# 2. A row with the wrong field count: no value kept, never released
# ------------------------------------------------------------------------------------------------


def test_a_row_with_a_missing_or_extra_field_keeps_no_value(conn, landing: Path) -> None:
    short = crime(3, victim=MARKER)
    del short[2]  # offence_date missing: the victim id slides one column to the left
    long = crime(4, victim=MARKER)
    long.insert(5, "extra")
    write(crimes_path(landing), [HEADER, crime(1), crime(2), short, long])
    (batch_id,) = load_all()
    landed = conn.execute(
        f"select _row_number, _malformed, crime_reference, victim_age_band, victim_pseudonym "
        f"from landing.force_crimes__b{batch_id} order by 1"
    ).fetchall()
    assert [r[:2] for r in landed] == [(2, False), (3, False), (4, True), (5, True)]
    assert landed[2][2:] == (None, None, None) and landed[3][2:] == (None, None, None)
    assert MARKER not in str(all_text(conn, ("landing", "audit")))
    loaded = conn.execute(
        "select detail from audit.load_batch_event where batch_id = %s and status = 'loaded'",
        (batch_id,),
    ).fetchone()[0]
    assert loaded["malformed_rows"] == 2 and loaded["malformed_lines"] == [4, 5]


# ------------------------------------------------------------------------------------------------
# 3. Tables that hold data between steps survive a crash; publish checks its count
# ------------------------------------------------------------------------------------------------


def test_landing_and_quarantine_tables_are_logged(conn, landing: Path) -> None:
    write(crimes_path(landing), [HEADER, crime(1)])
    write(crimes_path(landing, "2025-01-02"), [HEADER, crime(2, recorded_date="2025-01-02")])
    first, second = load_all()
    from vawg_warehouse.ingest.quarantine import quarantine_batch

    quarantine_batch(conn, get_batches(conn, [second])[0], CTX, "rule x failed")
    kinds = conn.execute(
        "select n.nspname, c.relpersistence from pg_class as c join pg_namespace as n "
        "on n.oid = c.relnamespace where n.nspname in ('landing', 'quarantine') "
        "and c.relkind = 'r' order by 1"
    ).fetchall()
    assert kinds == [("landing", "p"), ("quarantine", "p")]


def test_publish_refuses_when_rows_went_missing(conn, landing: Path) -> None:
    write(crimes_path(landing), [HEADER, crime(1), crime(2), crime(3)])
    (batch_id,) = load_all()
    mark_validated(conn, get_batches(conn, [batch_id])[0], CTX)
    conn.execute(f"delete from landing.force_crimes__b{batch_id} where _row_number = 3")
    with pytest.raises(o.BatchesFailed, match=f"batch {batch_id}.*PublishMismatch"):
        o.publish_batches([batch_id], CTX)
    assert batch_state(conn, batch_id)[0] == "failed"
    assert conn.execute("select count(*) from raw_force.crimes").fetchone()[0] == 0
    with pytest.raises(PublishMismatch, match="2 row.*3 were read"):
        publish_batch(conn, get_batches(conn, [batch_id])[0], CTX)


# ------------------------------------------------------------------------------------------------
# 4. Each batch commits or fails on its own
# ------------------------------------------------------------------------------------------------


def test_a_batch_that_fails_does_not_undo_the_others(conn, landing: Path) -> None:
    for day in ("2025-01-01", "2025-01-02", "2025-01-03"):
        write(crimes_path(landing, day), [HEADER, crime(1, recorded_date=day)])
    first, second, third = o.register_files("force_crimes", CTX)
    # Something of ours goes wrong for the second batch only: its landing table name is taken.
    conn.execute(f"create view landing.force_crimes__b{second} as select 1 as x")
    with pytest.raises(o.BatchesFailed, match=f"batch {second} .*SQLSTATE"):
        o.load_batches([first, second, third], CTX)
    assert [batch_state(conn, b)[0] for b in (first, second, third)] == [
        "loaded",
        "failed",
        "loaded",
    ]
    assert event_kinds(conn, second) == ["registered", "failed"]
    conn.execute(f"drop view landing.force_crimes__b{second}")
    assert o.load_batches([second], CTX) == [second]  # the retry loads it

    for b in (first, second, third):
        mark_validated(conn, get_batches(conn, [b])[0], CTX)
    conn.execute(f"drop table landing.force_crimes__b{second}")
    with pytest.raises(o.BatchesFailed, match=f"batch {second} "):
        o.publish_batches([first, second, third], CTX)
    assert [batch_state(conn, b)[0] for b in (first, second, third)] == [
        "published",
        "failed",
        "published",
    ]
    assert event_kinds(conn, second)[-1] == "failed"


# ------------------------------------------------------------------------------------------------
# 5. Load reads the archived copy it checksummed
# ------------------------------------------------------------------------------------------------


def test_load_reads_the_archived_copy_not_the_landing_file(conn, landing: Path) -> None:
    path = write(crimes_path(landing), [HEADER, crime(1), crime(2)])
    (batch_id,) = o.register_files("force_crimes", CTX)
    write(path, [HEADER, crime(1), crime(2), crime(3)])  # rewritten after registration
    assert o.load_batches([batch_id], CTX) == [batch_id]
    assert batch_state(conn, batch_id)[:2] == ("loaded", 2)
    detail = conn.execute(
        "select detail from audit.load_batch_event where batch_id = %s and status = 'loaded'",
        (batch_id,),
    ).fetchone()[0]
    assert detail["read_from"] == "archive"
    path.unlink()  # gone from landing: the archive still has it
    assert o.load_batches([batch_id], CTX) == [batch_id]


# ------------------------------------------------------------------------------------------------
# 6. Terminal states for every batch
# ------------------------------------------------------------------------------------------------


def test_without_an_archive_a_vanished_or_rewritten_file_is_refused(conn, landing: Path) -> None:
    gone = write(crimes_path(landing), [HEADER, crime(1)])
    changed = write(crimes_path(landing, "2025-01-02"), [HEADER, crime(2)])
    from vawg_warehouse.ingest.landing import discover

    first, second = register(conn, discover(landing, [CRIMES]), CTX)  # no archive
    gone.unlink()
    write(changed, [HEADER, crime(3)])
    for batch, why in ((first, "no longer in the landing folder"), (second, "changed after")):
        with pytest.raises(FileRefused, match=why):
            load_batch(conn, batch, landing, PSEUDONYMISE, CTX)
        assert batch_state(conn, batch.batch_id)[0] == "refused"
        assert event_kinds(conn, batch.batch_id) == ["registered", "refused"]
    listed = {(b["batch_id"], b["status"]) for b in quarantine_admin.quarantined_batches()}
    assert {(first.batch_id, "refused"), (second.batch_id, "refused")} <= listed


def test_the_same_bytes_under_a_second_name_leave_a_trace_once(conn, landing: Path) -> None:
    rows = [HEADER, crime(1)]
    write(crimes_path(landing), rows)
    (batch_id,) = o.register_files("force_crimes", CTX)
    write(crimes_path(landing, "2025-01-09"), rows)
    o.register_files("force_crimes", CTX)
    o.register_files("force_crimes", CTX)  # a re-run records nothing new
    duplicates = conn.execute(
        "select detail ->> 'file_name' from audit.load_batch_event "
        "where batch_id = %s and status = 'duplicate_file'",
        (batch_id,),
    ).fetchall()
    assert duplicates == [("force/crimes/crimes_2025-01-09.csv",)]


def test_quarantine_list_shows_unreadable_files_and_release_refuses_a_corrected_batch(
    conn, landing: Path
) -> None:
    write(crimes_path(landing), raw=b"\xff\xfe not a csv \x00\x01")  # binary named .csv
    (unreadable,) = load_all()
    listed = {b["batch_id"]: b for b in quarantine_admin.quarantined_batches()}
    assert listed[unreadable]["status"] == "quarantined"
    assert "UTF-8" in listed[unreadable]["rules"][0]

    # A batch held in quarantine, then a corrected file of the same name published.
    write(crimes_path(landing, "2025-01-02"), [HEADER, crime(1, recorded_date="2025-01-02")])
    (held,) = load_all()
    from vawg_warehouse.ingest.quarantine import quarantine_batch

    quarantine_batch(conn, get_batches(conn, [held])[0], CTX, "rule x failed")
    fixed = [HEADER, crime(1, recorded_date="2025-01-02"), crime(2, recorded_date="2025-01-02")]
    write(crimes_path(landing, "2025-01-02"), fixed)
    (correction,) = load_all()
    mark_validated(conn, get_batches(conn, [correction])[0], CTX)
    o.publish_batches([correction], CTX)
    assert batch_state(conn, held)[0] == "superseded"
    with pytest.raises(ValueError, match=f"corrected by batch {correction}"):
        release_quarantined(conn, held, "try", "tester", CTX)


def test_release_refuses_a_batch_a_later_file_corrected(conn, landing: Path) -> None:
    rows = [HEADER] + [crime(n) for n in range(1, 31)]
    rows[3] = crime(3, ho_offence_code="ZZZ")
    write(crimes_path(landing), rows)
    (first,) = load_all()
    from vawg_warehouse.ingest.quarantine import RowRejection, quarantine_rows

    run_id = conn.execute(
        "insert into audit.validation_run (batch_id, suite_name, suite_sha256, gx_version, "
        "success, critical_failures, warning_failures, started_at, finished_at) "
        "values (%s, 'force_crimes', repeat('0', 64), 'test', false, 1, 0, now(), now()) "
        "returning validation_run_id",
        (first,),
    ).fetchone()[0]
    rejection = RowRejection(
        "ho_offence_code is known",
        "expect_column_values_to_be_in_set",
        f"select _row_number from landing.force_crimes__b{first} where ho_offence_code = 'ZZZ'",
    )
    batch = get_batches(conn, [first])[0]
    assert quarantine_rows(conn, batch, CTX, [rejection], run_id, 0.1) == 1
    mark_validated(conn, batch, CTX)
    publish_batch(conn, get_batches(conn, [first])[0], CTX)
    rows[3] = crime(3)
    write(crimes_path(landing), rows)  # the corrected file, same name
    (second,) = load_all()
    mark_validated(conn, get_batches(conn, [second])[0], CTX)
    publish_batch(conn, get_batches(conn, [second])[0], CTX)
    with pytest.raises(ValueError, match=f"corrected by batch {second}"):
        release_quarantined(conn, first, "the code is fine", "tester", CTX)


# ------------------------------------------------------------------------------------------------
# 7. Symlinks and odd names are refused, recorded, never followed
# ------------------------------------------------------------------------------------------------


def test_symlinks_and_odd_names_are_refused_and_recorded(
    conn, landing: Path, tmp_path: Path
) -> None:
    outside = write(tmp_path / "secret.csv", [HEADER, crime(1, victim=MARKER)])
    folder = landing / "force/crimes"
    folder.mkdir(parents=True)
    (folder / "crimes_2025-01-01.csv").symlink_to(outside)
    for odd in ("crimes_2025-01\n02.csv", 'crimes_2025-01-0".csv', "crimes_..-..-...csv"):
        write(folder / odd, [HEADER, crime(2)])
    write(folder / "crimes_2025-01-05.csv", [HEADER, crime(5)])
    police = landing / "policeuk"
    police.mkdir()
    (police / "2025-01").symlink_to(tmp_path, target_is_directory=True)

    files, refusals = survey(landing)
    assert [f.relative_path for f in files] == ["force/crimes/crimes_2025-01-05.csv"]
    assert len(refusals) == 6  # the crimes link, 3 odd names, the folder link in each police.uk
    ids = o.register_files("force_crimes", CTX)
    assert len(ids) == 1
    recorded = conn.execute("select file_name, rule from audit.refused_file order by 1").fetchall()
    assert ("force/crimes/crimes_2025-01\\n02.csv", "plain file names only") in recorded
    assert ("force/crimes/crimes_2025-01-01.csv", "no symbolic links in the landing folder") in (
        recorded
    )
    o.register_files("force_crimes", CTX)  # a re-run records each once
    assert conn.execute("select count(*) from audit.refused_file").fetchone()[0] == 4
    assert MARKER not in str(all_text(conn, ("audit", "landing")))
    listed = [b for b in quarantine_admin.quarantined_batches() if b["status"] == "refused unread"]
    assert len(listed) == 4


# ------------------------------------------------------------------------------------------------
# 8. Owner-only archive copies and run reports
# ------------------------------------------------------------------------------------------------


def test_archive_copies_and_reports_are_owner_only(conn, landing: Path, tmp_path: Path) -> None:
    write(crimes_path(landing), [HEADER, crime(1)])
    (batch_id,) = o.register_files("force_crimes", CTX)
    archive_root = Path(os.environ["VAWG_ARCHIVE_DIR"])
    (relative,) = conn.execute(
        "select archive_path from audit.load_batch where batch_id = %s", (batch_id,)
    ).fetchone()
    copy = archive_root / relative
    assert stat.S_IMODE(copy.stat().st_mode) == 0o400
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(archive_root.stat().st_mode) == 0o700
    from vawg_warehouse.private_files import write_private

    page = tmp_path / "reports/runs/x.html"
    write_private(page, "<p>x</p>")
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(page.parent.stat().st_mode) == 0o700


# ------------------------------------------------------------------------------------------------
# The bad inputs users send
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("empty file", b"", ("quarantined", "the file is empty")),
        ("header only", ",".join(HEADER).encode() + b"\n", ("loaded", 0)),
        ("BOM and CRLF", b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n", ("loaded", 0)),
        ("wrong delimiter", ";".join(HEADER).encode() + b"\n", ("quarantined", "11 of")),
        (
            "Windows-1252",
            ",".join(HEADER).encode()
            + b"\n"
            + ",".join(crime(1)).encode()
            + b"\n"
            + ",".join(crime(2, victim="Zo\xeb")).encode("latin-1")
            + b"\n",
            ("quarantined", "line 3"),
        ),
        ("binary named .csv", bytes(range(256)) * 4, ("quarantined", "line 2: not valid UTF-8")),
        ("NUL bytes", ",".join(HEADER).encode() + b"\n\x00\x00\n", ("quarantined", "NUL byte")),
    ],
)
def test_bad_inputs_users_send(conn, landing: Path, name: str, raw: bytes, expected) -> None:
    write(crimes_path(landing), raw=raw)
    (batch_id,) = load_all()
    status, rows_read, _, _, error = batch_state(conn, batch_id)
    assert status == expected[0], name
    if status == "loaded":
        assert rows_read == expected[1]
    else:
        assert expected[1] in error
        assert "Zo" not in error


def test_quoted_newlines_a_long_field_and_a_truncated_last_line(conn, landing: Path) -> None:
    quoted = crime(2)
    quoted[HEADER.index("offence_date")] = '"2024-12-\n30"'
    long = crime(3)
    long[HEADER.index("victim_age_band")] = "x" * (1 << 20)  # a 1 MB field
    truncated = crime(4)[:6]  # the file stops half-way through its last line
    text = "\n".join(",".join(r) for r in [HEADER, crime(1), quoted, long, crime(5)])
    write(crimes_path(landing), raw=(text + "\n" + ",".join(truncated)).encode())
    (batch_id,) = load_all()
    landed = conn.execute(
        f"select _row_number, _malformed, offence_date, length(victim_age_band) "
        f"from landing.force_crimes__b{batch_id} order by 1"
    ).fetchall()
    assert landed == [
        (2, False, "2024-12-30", 5),
        (3, False, "2024-12-\n30", 5),  # starts on line 3, ends on 4
        (5, False, "2024-12-30", 1 << 20),
        (6, False, "2024-12-30", 5),
        (7, True, None, None),
    ]
    assert batch_state(conn, batch_id)[:2] == ("loaded", 5)


def test_a_workbook_with_extra_sheets_merged_headers_and_dates_as_text(conn, landing: Path) -> None:
    from openpyxl import Workbook

    services = load_contract("services_quarterly_returns")
    folder = landing / services.landing_path
    folder.mkdir(parents=True)
    good = [services.column_names]
    row = {c.name: "1" for c in services.columns}
    row.update(service_code="IDVA", financial_year="2024-25", financial_quarter="Q1")
    row.update(local_authority_code="E07000123", submitted_date="2024-07-10")  # a date as text
    good.append([row[c] for c in services.column_names])

    def workbook(path: Path, header_merged: bool) -> None:
        book = Workbook()
        book.active.title = "Notes"
        book.active.append(["anything, in any shape", MARKER])
        sheet = book.create_sheet("Return")
        for values in good:
            sheet.append(values)
        if header_merged:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2)
        book.create_sheet("Lookup").append(["code", "meaning"])
        book.save(path)

    workbook(folder / "idva_2024Q1.xlsx", header_merged=False)
    ids = o.register_files(services.dataset, CTX)
    assert o.load_batches(ids, CTX) == ids
    (batch,) = get_batches(conn, ids)
    landed = conn.execute(
        f"select service_code, submitted_date from landing.{batch.landing_table}"
    ).fetchall()
    assert landed == [("IDVA", "2024-07-10")]  # the Return sheet only; the date as written

    workbook(folder / "isva_2024Q1.xlsx", header_merged=True)
    (merged,) = set(o.register_files(services.dataset, CTX)) - set(ids)
    o.load_batches([merged], CTX)
    status, _, _, _, error = batch_state(conn, merged)
    assert status == "quarantined" and "columns missing: ['financial_year']" in error
    assert MARKER not in error


def test_validation_sets_aside_duplicates_bad_dates_and_unknown_codes(conn, landing: Path) -> None:
    rows = [HEADER] + [crime(n) for n in range(1, 41)]
    rows.append(crime(5))  # a key repeated within the file
    rows.append(crime(41, recorded_date="2025-02-30"))  # an impossible date
    # an offence after its recording (a date after the run is set aside: test_date_bounds.py)
    rows.append(crime(42, offence_date="2025-01-05"))
    rows.append(crime(43, ho_offence_code="ZZ9"))  # an unknown code
    write(crimes_path(landing), rows)
    write(  # the same crime restated by the next day's file: allowed (the latest batch wins)
        crimes_path(landing, "2025-01-02"),
        [HEADER] + [crime(n, recorded_date="2025-01-02") for n in range(100, 120)] + [crime(1)],
    )
    ids = o.register_files("force_crimes", CTX)
    o.publish_batches(o.validate_batches(o.load_batches(ids, CTX), CTX), CTX)
    for batch_id in ids:
        status, read, loaded, rejected, _ = batch_state(conn, batch_id)
        assert read == (loaded or 0) + (rejected or 0), "nothing lost"
    assert batch_state(conn, ids[0])[0] == "published"
    held = conn.execute(
        f"select _row_number from quarantine.force_crimes__b{ids[0]} order by 1"
    ).fetchall()
    # both copies of the repeated key (lines 6 and 42), the impossible date (43), the unknown
    # code (45); an offence date after the recorded date (44) breaks a warning rule only:
    # published
    assert [r[0] for r in held] == [6, 42, 43, 45]
    published = conn.execute(
        "select _row_number from raw_force.crimes where _batch_id = %s and _row_number = 44",
        (ids[0],),
    ).fetchall()
    assert published == [(44,)]
    assert batch_state(conn, ids[1])[:4] == ("published", 21, 21, 0)


# ------------------------------------------------------------------------------------------------
# kill -9 of the loader mid-COPY, then a re-run
# ------------------------------------------------------------------------------------------------


def test_a_loader_killed_mid_copy_leaves_nothing_and_the_rerun_is_a_clean_run(
    conn, landing: Path, migrated
) -> None:
    path = crimes_path(landing)
    path.parent.mkdir(parents=True)
    with path.open("w") as fh:
        fh.write(",".join(HEADER) + "\n")
        for n in range(1, 250_001):
            fh.write(",".join(crime(n, suspect=f"S{n % 977}")) + "\n")
        fh.write("\n")  # a blank last line: the slower row-by-row path, more time to kill it
    (batch_id,) = o.register_files("force_crimes", CTX)
    script = textwrap.dedent(
        f"""
        from datetime import date
        from vawg_warehouse import orchestration as o
        o.load_batches([{batch_id}], o.run_context("vawg_nightly", "run-1", date(2025, 1, 2)))
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            copying = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and query ilike 'copy%%' and state = 'active'"
            ).fetchone()[0]
            if copying:
                break
            assert child.poll() is None, "the loader finished before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the loader never started its COPY")
        time.sleep(0.3)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while conn.execute(
        "select count(*) from pg_stat_activity where datname = current_database() "
        "and pid <> pg_backend_pid() and application_name = 'vawg_warehouse'"
    ).fetchone()[0]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert batch_state(conn, batch_id)[0] == "registered"  # nothing of the attempt committed
    assert (
        conn.execute("select to_regclass(%s)", (f"landing.force_crimes__b{batch_id}",)).fetchone()[
            0
        ]
        is None
    )

    assert o.load_batches([batch_id], CTX) == [batch_id]
    digest = "select count(*), md5(string_agg(t::text, '|' order by _row_number)) from {} as t"
    after_kill = conn.execute(digest.format(f"landing.force_crimes__b{batch_id}")).fetchone()
    assert o.load_batches([batch_id], CTX) == [batch_id]  # a clean run of the same batch
    clean = conn.execute(digest.format(f"landing.force_crimes__b{batch_id}")).fetchone()
    assert after_kill == clean and after_kill[0] == 250_000
    assert batch_state(conn, batch_id)[:2] == ("loaded", 250_000)


# ------------------------------------------------------------------------------------------------
# The leak test: markers in, nowhere out
# ------------------------------------------------------------------------------------------------


def test_marker_identifiers_reach_no_audit_table_landing_quarantine_raw_table_or_log(
    conn, landing: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    caplog.set_level(logging.DEBUG)
    markers = [f"{MARKER}-{i}" for i in range(6)]
    good = [HEADER] + [crime(n) for n in range(1, 41)]
    good[1] = crime(1, victim=markers[0], suspect=markers[1])  # published, hashed
    good[2] = crime(2, victim=markers[2], ho_offence_code="ZZ9")  # set aside by a rule
    shifted = crime(3, victim=markers[3])
    del shifted[1]  # a missing field slides the victim id
    good[3] = shifted
    write(crimes_path(landing), good)
    write(  # a file without its header row
        crimes_path(landing, "2025-01-02"),
        [crime(50, victim=markers[4], suspect=markers[5], recorded_date="2025-01-02")],
    )
    ids = o.register_files("force_crimes", CTX)
    o.publish_batches(o.validate_batches(o.load_batches(ids, CTX), CTX), CTX)
    o.finish_run("vawg_nightly", CTX.dag_run_id, CTX.logical_date)
    o.build_data_docs(CTX.dag_run_id)
    o.report_run(CTX.dag_run_id)
    summary = o.format_summary(o.run_summary(CTX.dag_run_id))
    listed = quarantine_admin.quarantined_batches()

    states = [batch_state(conn, b)[0] for b in ids]
    assert states == ["published", "quarantined"]
    # 40 rows, one set aside by a rule (unknown code), one for its field count
    assert conn.execute("select count(*) from raw_force.crimes").fetchone()[0] == 38
    schemas = conn.execute(
        "select array_agg(nspname) from pg_namespace where nspname in "
        "('audit', 'landing', 'quarantine') or nspname like 'raw%'"
    ).fetchone()[0]
    texts = all_text(conn, tuple(schemas))
    assert texts["raw_force.crimes"] and texts["audit.load_batch"]
    leaks = {t for t, text in texts.items() if MARKER in text}
    assert not leaks, f"markers in {leaks}"
    assert PSEUDONYMISE(markers[0]) in texts["raw_force.crimes"]  # they are there, hashed
    pages = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert any("data_docs" in p.parts for p in pages) and any("runs" in p.parts for p in pages)
    reports = "\n".join(p.read_text(errors="replace") for p in pages)
    assert MARKER not in reports
    run_pages = [p for p in pages if p.suffix == ".html" and "static" not in str(p)]
    assert {stat.S_IMODE(p.stat().st_mode) for p in run_pages} == {0o600}  # owner only
    assert MARKER not in "\n".join(summary) and MARKER not in str(listed)
    out = capsys.readouterr()
    assert MARKER not in caplog.text and MARKER not in out.out and MARKER not in out.err
