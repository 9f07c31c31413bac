"""`vawg run`'s own log and lock: one log file per run, and one run of a logical date at a time.

* A log named after the logical date alone was overwritten by the next run of that date. Each
  run's log is named after its Airflow run id (``airflow dags test`` names it ``manual__`` and
  the time it was created) and the time `vawg run` started
  (``vawg_nightly_manual__2025-02-02T03-15-01.123456-00-00_20250202T031500Z.log``), and kept.
* A second ``vawg run`` of a date that is still running would share its Airflow run and lose
  one run's error: :func:`date_lock` refuses it with a message that says which process holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from vawg_warehouse.private_files import FILE_MODE, private_folder

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
RUN_ID_IN_LOG = re.compile(r"\brun_id=['\"]?((?:manual|scheduled|backfill)__[^\s'\",)]+)")


class RunLocked(RuntimeError):
    """Another `vawg run` of the same logical date is running."""


def _safe(text: str) -> str:
    return _UNSAFE.sub("-", text).strip(".-") or "run"


def provisional_log_path(log_dir: Path, dag_id: str, logical_date: date, started: datetime) -> Path:
    """Where the log goes while the run id is not known yet."""
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return log_dir / f"{dag_id}_{logical_date.isoformat()}_{stamp}.log"


def final_log_path(provisional: Path, dag_id: str, run_id: str | None) -> Path:
    """The log's name once the run id is known: the run id, then the start time."""
    if not run_id:
        return provisional
    stamp = provisional.stem.rsplit("_", 1)[-1]
    return provisional.with_name(f"{dag_id}_{_safe(run_id)}_{stamp}.log")


def run_id_in(line: str) -> str | None:
    match = RUN_ID_IN_LOG.search(line)
    return match.group(1) if match else None


@contextlib.contextmanager
def date_lock(lock_dir: Path, dag_id: str, logical_date: date) -> Iterator[Path]:
    """Hold the lock of one logical date for the block; RunLocked when another process has it
    (the lock goes with the process: a run that was killed leaves none behind)."""
    private_folder(lock_dir)  # the run logs: every QUARANTINED line is in them
    path = lock_dir / f".{dag_id}_{logical_date.isoformat()}.lock"
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE), "a+")
    os.chmod(path, FILE_MODE)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunLocked(
                f"another `vawg run` of {logical_date} is running ({holder}): wait for it to "
                "finish, or run another date"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        yield path
    finally:
        handle.close()  # releases the lock
