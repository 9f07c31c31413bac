"""A landing file is registered only when whole: unchanged across the settle interval, or
marked done by its sender (settle.py), through the registration the DAG calls."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.unit.test_load import GOOD_ROWS, HEADER
from vawg_warehouse import orchestration as o
from vawg_warehouse.ingest.settle import whole_files

CTX = o.run_context("vawg_nightly", "settle-1", date(2025, 1, 2))


def _row(n: int) -> str:
    row = list(GOOD_ROWS[n % 2])
    row[0] = f"LC-2025-{n:07d}"
    return ",".join(row) + "\n"


def _batches(db) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(
            "select file_name, status, rows_read from audit.load_batch order by batch_id"
        ).fetchall()


@pytest.fixture
def landing(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "landing"
    (landing / "force/crimes").mkdir(parents=True)
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    return landing


def test_a_file_still_being_written_is_left_until_it_is_stable(migrated, landing, monkeypatch):
    monkeypatch.setenv("VAWG_SETTLE_SECONDS", "0.3")
    path = landing / "force/crimes/crimes_2025-01-01.csv"
    path.write_text(",".join(HEADER) + "\n" + "".join(_row(n) for n in range(1, 121)))
    stop = threading.Event()

    def keep_writing() -> None:  # the sender, still copying the file in
        n = 121
        while not stop.is_set() and n <= 200:
            with path.open("a") as fh:
                fh.write(_row(n))
            n += 1
            stop.wait(0.01)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert o.register_files("force_crimes", CTX) == []
    finally:
        stop.set()
        writer.join()
    assert _batches(migrated) == []  # nothing half-written was taken

    with path.open("a") as fh:  # the sender finishes the file
        fh.write("".join(_row(n) for n in range(len(path.read_text().splitlines()), 201)))
    ids = o.register_files("force_crimes", CTX)  # stable across the interval now
    assert len(ids) == 1
    o.publish_batches(o.validate_batches(o.load_batches(ids, CTX), CTX), CTX)
    assert _batches(migrated) == [("force/crimes/crimes_2025-01-01.csv", "published", 200)]


def test_with_a_done_marker_a_file_waits_for_its_marker(migrated, landing, monkeypatch):
    monkeypatch.setenv("VAWG_DONE_MARKER", ".done")
    path = landing / "force/crimes/crimes_2025-01-01.csv"
    path.write_text(",".join(HEADER) + "\n" + "".join(_row(n) for n in range(1, 11)))
    assert o.register_files("force_crimes", CTX) == []
    assert _batches(migrated) == []
    (landing / "force/crimes/crimes_2025-01-01.csv.done").touch()
    assert len(o.register_files("force_crimes", CTX)) == 1
    assert [(name, status) for name, status, _ in _batches(migrated)] == [
        ("force/crimes/crimes_2025-01-01.csv", "registered")
    ]


def test_an_old_file_is_taken_without_waiting_and_a_changing_one_is_not(tmp_path: Path):
    old, young = tmp_path / "old.csv", tmp_path / "young.csv"
    old.write_text("a\n")
    young.write_text("a\n")
    clock = young.stat().st_mtime + 1
    import os

    os.utime(old, (clock - 60, clock - 60))

    class Landed:
        def __init__(self, path: Path) -> None:
            self.path, self.relative_path = path, path.name

    waits: list[float] = []

    def wait(seconds: float) -> None:  # the sender writes while we wait
        waits.append(seconds)
        with young.open("a") as fh:
            fh.write("b\n")

    files = [Landed(old), Landed(young)]
    settled = whole_files(files, 5, now=lambda: clock, wait=wait)
    assert [f.path for f in settled.whole] == [old]
    assert [name for name, _ in settled.waiting] == ["young.csv"] and waits == [5]
    settled = whole_files(files, 5, now=lambda: clock, wait=lambda s: None)
    assert [f.path for f in settled.whole] == [old, young]
