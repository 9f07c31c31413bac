"""kill -9 of the database server between validate and publish, then a re-run: the warehouse is
the one a clean run builds (issue 11). Landing and quarantine tables are logged, so validated
batches survive crash recovery; publish checks its rows against ``rows_loaded`` either way.

The test starts an embedded server of its own in a temporary folder: killing the shared server
other tests use is not an option.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_KEY
from tests.unit.test_load_safety import CTX, HEADER, crime, crimes_path, write
from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.migrations import migrate
from vawg_warehouse.warehouse import EmbeddedServer

# Every row of every raw and quarantine table, without the pipeline's own timestamps.
DIGEST = """
select md5(coalesce(string_agg(r, '|' order by r), ''))
from (
    select (
        select jsonb_object_agg(k, v) from jsonb_each(to_jsonb(t)) as e(k, v)
        where not (k like '\\_%%' and k like '%%\\_at')
    )::text as r
    from {table} as t
) as rows
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_server(data_dir: Path) -> None:
    """SIGKILL the postmaster and every process it started: no shutdown, no checkpoint."""
    postmaster = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    children = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _parent(p) == postmaster
    ]
    for pid in [postmaster, *children]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in [postmaster, *children]):
        assert time.monotonic() < deadline, "the server's processes did not die"
        time.sleep(0.1)


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def _files(landing: Path) -> None:
    first = [HEADER] + [crime(n, suspect=f"S{n % 7}") for n in range(1, 301)]
    first[5] = crime(5, ho_offence_code="ZZ9")  # set aside by a rule, kept in quarantine
    write(crimes_path(landing), first)
    write(  # a file with no header row: quarantined whole
        crimes_path(landing, "2025-01-02"),
        [crime(400, recorded_date="2025-01-02")],
    )
    third = [HEADER] + [crime(n, recorded_date="2025-01-03") for n in range(500, 650)]
    write(crimes_path(landing, "2025-01-03"), third)


def _state(url: str) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        batches = conn.execute(
            "select file_name, file_sha256, status, rows_read, rows_loaded, rows_rejected "
            "from audit.load_batch order by file_name"
        ).fetchall()
        tables = conn.execute(
            "select format('%I.%I', schemaname, tablename) from pg_tables "
            "where schemaname like 'raw%%' or schemaname = 'quarantine' order by 1"
        ).fetchall()
        digests = {t: conn.execute(DIGEST.format(table=t)).fetchone()[0] for (t,) in tables}
        raw = conn.execute("select count(*) from raw_force.crimes").fetchone()[0]
    return {"batches": batches, "tables": digests, "raw_rows": raw}


def test_a_server_killed_between_validate_and_publish_then_a_rerun_is_a_clean_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAWG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_EMBEDDED_PORT", str(_free_port()))
    monkeypatch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    server = EmbeddedServer(get_settings())
    info = server.up()
    try:
        urls = {}
        for name in ("crashed", "clean"):
            with psycopg.connect(info.for_database("postgres").url, autocommit=True) as conn:
                conn.execute(f"create database {name}")
            urls[name] = info.for_database(name).url

        def until_validated(name: str) -> list[int]:
            monkeypatch.setenv("VAWG_WAREHOUSE_URL", urls[name])
            monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path / name / "landing"))
            monkeypatch.setenv("VAWG_ARCHIVE_DIR", str(tmp_path / name / "archive"))
            with psycopg.connect(urls[name]) as conn:
                migrate(conn)
            _files(tmp_path / name / "landing")
            ids = o.register_files("force_crimes", CTX)
            return o.validate_batches(o.load_batches(ids, CTX), CTX)

        validated = until_validated("crashed")
        assert len(validated) == 2  # the headerless file was refused at load
        with psycopg.connect(urls["crashed"]) as conn:
            waiting = conn.execute(
                "select count(*) from audit.load_batch where status = 'validated'"
            ).fetchone()[0]
        assert waiting == 2

        _kill_server(server.data_dir)
        assert not server.is_running()
        server.up()  # crash recovery
        log = server.log_file.read_text()
        assert "database system was interrupted" in log or "not properly shut down" in log

        # The re-run: the same task functions, from where the run stopped.
        o.publish_batches(validated, CTX)
        o.finish_run("vawg_nightly", CTX.dag_run_id, CTX.logical_date)
        crashed = _state(urls["crashed"])

        o.publish_batches(until_validated("clean"), CTX)
        o.finish_run("vawg_nightly", CTX.dag_run_id, CTX.logical_date)
        clean = _state(urls["clean"])

        assert crashed == clean
        assert crashed["raw_rows"] == 299 + 150  # one row of the first file set aside
        statuses = sorted(b[2] for b in crashed["batches"])
        assert statuses == ["published", "published", "quarantined"], crashed["batches"]
        assert any(t.startswith("quarantine.") for t in crashed["tables"])
    finally:
        server.down()
