"""The immutable archive: a verified, read-only, content-addressed copy of every file registered."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.unit.test_load import GOOD_ROWS, HEADER, write_csv
from vawg_warehouse.ingest.archive import (
    ArchiveError,
    archive_file,
    archive_relative_path,
    verify_archived,
)
from vawg_warehouse.ingest.batches import file_sha256
from vawg_warehouse.ingest.landing import discover, register
from vawg_warehouse.run_context import RunContext

CTX = RunContext(dag_id="test", dag_run_id="run-archive", logical_date=date(2025, 1, 2))


def test_the_archive_path_is_the_checksum_with_the_files_suffix() -> None:
    sha = "ab" + "0" * 62
    assert archive_relative_path(sha, "returns_2025Q1.XLSX") == f"ab/{sha}.xlsx"
    with pytest.raises(ValueError):
        archive_relative_path("not-a-checksum", "x.csv")


def test_archived_bytes_equal_the_original_and_are_read_only(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "landing" / "crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    sha = file_sha256(source)
    relative = archive_file(source, sha, tmp_path / "archive")
    copy = tmp_path / "archive" / relative
    assert relative == f"{sha[:2]}/{sha}.csv"
    assert copy.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o400  # owner only: identifiers in clear
    assert verify_archived(tmp_path / "archive", relative)
    assert list(copy.parent.glob(".*partial")) == []  # no temporary file left behind


def test_a_second_archive_of_the_same_content_does_not_rewrite_it(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "landing" / "a" / "crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    again = write_csv(tmp_path / "landing" / "b" / "crimes_2025-01-09.csv", HEADER, GOOD_ROWS)
    sha = file_sha256(first)
    relative = archive_file(first, sha, tmp_path / "archive")
    copy = tmp_path / "archive" / relative
    before = copy.stat()
    assert archive_file(again, sha, tmp_path / "archive") == relative
    after = copy.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_ctime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_ctime_ns,
    )


def test_a_file_that_does_not_match_its_checksum_is_not_archived(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "landing" / "crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    wrong = "0" * 64
    with pytest.raises(ArchiveError, match="changed after its checksum"):
        archive_file(source, wrong, tmp_path / "archive")
    assert not any(p.is_file() for p in (tmp_path / "archive").rglob("*"))


def test_a_writable_file_in_the_archive_is_an_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "landing" / "crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    sha = file_sha256(source)
    relative = archive_file(source, sha, tmp_path / "archive")
    (tmp_path / "archive" / relative).chmod(0o644)
    with pytest.raises(ArchiveError, match="writable"):
        archive_file(source, sha, tmp_path / "archive")


def test_register_archives_each_new_file_and_records_where(migrated, tmp_path: Path) -> None:
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    path = write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    sha = file_sha256(path)
    with psycopg.connect(migrated.url) as conn:
        (batch,) = register(conn, discover(landing), CTX, archive_root=archive)
        recorded = conn.execute(
            "select archive_path from audit.load_batch where batch_id = %s", (batch.batch_id,)
        ).fetchone()[0]
        assert recorded == f"{sha[:2]}/{sha}.csv"
        assert (archive / recorded).read_bytes() == path.read_bytes()
        # Registering the same folder again offers the unfinished batch; the copy is untouched.
        before = (archive / recorded).stat().st_mtime_ns
        (again,) = register(conn, discover(landing), CTX, archive_root=archive)
        assert again.batch_id == batch.batch_id
        assert (archive / recorded).stat().st_mtime_ns == before
        assert len([p for p in archive.rglob("*") if p.is_file()]) == 1


def test_a_batch_registered_before_the_archive_gets_its_path_later(
    migrated, tmp_path: Path
) -> None:
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    write_csv(landing / "force/crimes/crimes_2025-01-01.csv", HEADER, GOOD_ROWS)
    with psycopg.connect(migrated.url) as conn:
        (batch,) = register(conn, discover(landing), CTX)  # no archive (before migration 008)
        register(conn, discover(landing), CTX, archive_root=archive)
        path, events = conn.execute(
            "select b.archive_path, array_agg(e.status order by e.event_id) "
            "from audit.load_batch as b join audit.load_batch_event as e using (batch_id) "
            "where b.batch_id = %s group by b.archive_path",
            (batch.batch_id,),
        ).fetchone()
        assert path is not None and verify_archived(archive, path)
        assert events == ["registered", "archived"]
