"""`vawg run` keeps one log per run (run id and start time in its name) and refuses a second run of
a logical date that is still running, saying which process holds it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse import run_log

DAY = date(2025, 2, 1)


def test_each_run_has_its_own_log_named_after_its_run_id() -> None:
    from pathlib import Path

    first = run_log.provisional_log_path(
        Path("/l"), "vawg_nightly", DAY, datetime(2025, 2, 2, 3, 15, tzinfo=UTC)
    )
    second = run_log.provisional_log_path(
        Path("/l"), "vawg_nightly", DAY, datetime(2025, 2, 2, 4, 0, tzinfo=UTC)
    )
    line = "[DAG TEST] ... dag_id=vawg_nightly run_id=manual__2025-02-01T00:00:00+00:00 map_index"
    run_id = run_log.run_id_in(line)
    assert run_id == "manual__2025-02-01T00:00:00+00:00"
    names = {run_log.final_log_path(p, "vawg_nightly", run_id).name for p in (first, second)}
    assert names == {
        "vawg_nightly_manual__2025-02-01T00-00-00-00-00_20250202T031500Z.log",
        "vawg_nightly_manual__2025-02-01T00-00-00-00-00_20250202T040000Z.log",
    }


def test_a_second_run_of_the_same_date_is_refused_with_who_holds_it(tmp_path) -> None:
    with run_log.date_lock(tmp_path, "vawg_nightly", DAY):
        # Another process (as a second `vawg run` would be) cannot take it.
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(
                    f"""
                    from datetime import date
                    from pathlib import Path
                    from vawg_warehouse import run_log
                    try:
                        with run_log.date_lock(Path({str(tmp_path)!r}), "vawg_nightly",
                                               date(2025, 2, 1)):
                            print("taken")
                    except run_log.RunLocked as exc:
                        print(exc)
                    """
                ),
            ],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )
        assert "another `vawg run` of 2025-02-01 is running (pid" in other.stdout
        # Another date is free.
        with run_log.date_lock(tmp_path, "vawg_nightly", date(2025, 2, 2)):
            pass
    with run_log.date_lock(tmp_path, "vawg_nightly", DAY):  # released with the block
        pass


def test_vawg_run_refuses_while_the_date_is_locked(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    with run_log.date_lock(tmp_path / "home" / "logs", "vawg_nightly", DAY):
        # A child process, as a second `vawg run` is (a lock is per open file).
        code = subprocess.run(
            [sys.executable, "-m", "vawg_warehouse.cli", "run", "--date", DAY.isoformat()],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )
    assert code.returncode == 3, code.stdout[-2000:] + code.stderr[-2000:]
    assert "another `vawg run` of 2025-02-01 is running (pid" in code.stdout + code.stderr
