"""The local Airflow runner behind ``vawg run`` (and the demo): the nightly DAG run for one
logical date with ``airflow dags test`` in a child process, its whole output kept in a log file
under ``$VAWG_HOME/logs``, one line printed per task as it ends, and the run's summary read back
from ``audit.pipeline_run``.

``airflow dags test`` prints no machine-readable record of the run, so its log is read with the
regular expressions below (task started, task state, DAG run finished); a new Airflow version
that words these lines differently shows up as a run whose state is "unknown".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.console import Step, say

DAG_ID = "vawg_nightly"


def console_script(name: str) -> str:
    """A console script of this environment (the venv the package is installed in)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def prepare_airflow(settings: Settings) -> dict[str, str]:
    """Environment for Airflow; migrates its metadata database and dbt's manifest when needed."""
    from vawg_warehouse.airflow_env import with_airflow_environment

    env = with_airflow_environment(settings)
    marker = settings.airflow_home / ".migrated"
    if not marker.exists():
        with Step("airflow db migrate (first run only)"):
            subprocess.run(
                [console_script("airflow"), "db", "migrate"],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                umask=0o077,  # airflow.db: the service account's only
            )
        marker.touch()
    return env


def run_dag(logical_date: date, settings: Settings | None = None, rebuild: bool = False) -> int:
    """Run vawg_nightly for one logical date through Airflow (``airflow dags test``); with
    ``rebuild`` every dbt group is rebuilt, changed or not. One run of a date at a time: a
    second is refused (exit 3) while the first holds the date's lock (vawg_warehouse.run_log)."""
    from vawg_warehouse import run_log

    settings = settings or get_settings()
    log_dir = settings.home / "logs"
    try:
        with run_log.date_lock(log_dir, DAG_ID, logical_date):
            return _run_dag_locked(logical_date, settings, rebuild, log_dir)
    except run_log.RunLocked as exc:
        say(f"error: {exc}")
        return 3


def _run_dag_locked(logical_date: date, settings: Settings, rebuild: bool, log_dir: Path) -> int:
    from datetime import UTC, datetime

    from vawg_warehouse import run_log
    from vawg_warehouse.ingest.privacy import KEY_ENV, demo_key
    from vawg_warehouse.orchestration import prepare_warehouse

    if settings.uses_embedded_warehouse and not os.environ.get(KEY_ENV):
        demo_key(settings)  # the local demo only; a real deployment sets the key
    with Step("warehouse up and migrated"):
        prepare_warehouse(settings)
    env = prepare_airflow(settings)
    log_path = run_log.provisional_log_path(log_dir, DAG_ID, logical_date, datetime.now(UTC))
    with Step(f"airflow dags test {DAG_ID} {logical_date} (log: {log_path})"):
        command = [console_script("airflow"), "dags", "test", DAG_ID, logical_date.isoformat()]
        if rebuild:
            command += ["--conf", '{"rebuild": true}']
        returncode, run_id = _stream_airflow(command, env, log_path)
    kept = run_log.final_log_path(log_path, DAG_ID, run_id)
    if kept != log_path:
        log_path = log_path.replace(kept)
        say(f"log kept as {log_path}")
    state = _final_state(log_path)
    if returncode != 0 or state != "success":
        _print_outcome(settings, logical_date)
        say(f"the run did not succeed (exit {returncode}, state {state}): see {log_path}")
        return returncode or 1
    _print_run_summary(settings, logical_date)
    return 0


def _print_outcome(settings: Settings, logical_date: date) -> None:
    """The run's outcome as its last task recorded it: each failed task and its error line."""
    from vawg_warehouse import run_outcome
    from vawg_warehouse.warehouse import connect

    try:
        with connect(settings) as conn:
            row = conn.execute(
                "select dag_run_id from audit.run_outcome where logical_date = %s "
                "order by run_outcome_id desc limit 1",
                (logical_date,),
            ).fetchone()
            outcome = run_outcome.recorded(conn, row[0]) if row else None
    except Exception as exc:  # noqa: BLE001 - the log still has it
        say(f"the run's outcome could not be read: {type(exc).__name__}")
        return
    if outcome is None:
        say("no outcome recorded for this run (its last task did not run)")
        return
    say(f"run {outcome.dag_run_id}: {outcome.word}")
    for task in outcome.failed_tasks:
        say(f"  FAILED {task.line()}")
    if outcome.unfinished_files:
        say(f"  {outcome.unfinished_files} file(s) registered and left unfinished")


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_TASK_STATE = re.compile(r"Task instance state updated .*new_state=(\w+)")
_RUN_STATE = re.compile(r"DagRun Finished: .*?state=(\w+)")


def _stream_airflow(
    command: list[str], env: dict[str, str], log_path: Path
) -> tuple[int, str | None]:
    """Run Airflow, keep its whole output in a log file, show one line per task as it ends
    (and each PROGRESS line of a long task); returns the exit code and the Airflow run id."""
    from vawg_warehouse.private_files import FILE_MODE, private_folder
    from vawg_warehouse.run_log import run_id_in

    current, started, run_id = "", time.monotonic(), None
    private_folder(log_path.parent)
    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.chmod(log_path, FILE_MODE)  # one written before, whatever its mode
    with os.fdopen(descriptor, "w") as log_file:
        process = subprocess.Popen(  # what Airflow writes is the owner's only too
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            umask=0o077,
        )
        assert process.stdout is not None
        for line in process.stdout:
            log_file.write(line)
            run_id = run_id or run_id_in(line)
            if match := _TASK_START.search(line):
                current, started = match.group(1), time.monotonic()
            elif (match := _TASK_STATE.search(line)) and current:
                took = time.monotonic() - started
                say(f"  {match.group(1):<14} {current} ({took:.1f} s)")
                current = ""
            elif "PROGRESS" in line:
                say("  " + line.strip()[line.find("PROGRESS") + 9 :][:200])
            elif "QUARANTINED" in line:
                say("  " + line.strip()[line.find("QUARANTINED") :][:400])
        return process.wait(), run_id


def _final_state(log_path: Path) -> str:
    found = _RUN_STATE.findall(log_path.read_text(errors="replace"))
    return found[-1] if found else "unknown"


def _print_run_summary(settings: Settings, logical_date: date) -> None:
    from vawg_warehouse.audit import pipeline_run_summary
    from vawg_warehouse.orchestration import format_summary
    from vawg_warehouse.warehouse import connect

    with connect(settings) as conn:
        summary = pipeline_run_summary(conn, logical_date)
    if summary:
        for line in format_summary(summary):
            say(line)
