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
            )
        marker.touch()
    return env


def run_dag(logical_date: date, settings: Settings | None = None, rebuild: bool = False) -> int:
    """Run vawg_nightly for one logical date through Airflow (``airflow dags test``); with
    ``rebuild`` every dbt group is rebuilt, changed or not."""
    from vawg_warehouse.ingest.privacy import KEY_ENV, demo_key
    from vawg_warehouse.orchestration import prepare_warehouse

    settings = settings or get_settings()
    if settings.uses_embedded_warehouse and not os.environ.get(KEY_ENV):
        demo_key(settings)  # the local demo only; a real deployment sets the key
    with Step("warehouse up and migrated"):
        prepare_warehouse(settings)
    env = prepare_airflow(settings)
    log_dir = settings.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{DAG_ID}_{logical_date.isoformat()}.log"
    with Step(f"airflow dags test {DAG_ID} {logical_date} (log: {log_path})"):
        command = [console_script("airflow"), "dags", "test", DAG_ID, logical_date.isoformat()]
        if rebuild:
            command += ["--conf", '{"rebuild": true}']
        returncode = _stream_airflow(command, env, log_path)
    state = _final_state(log_path)
    if returncode != 0 or state != "success":
        say(f"the run did not succeed (exit {returncode}, state {state}): see {log_path}")
        return returncode or 1
    _print_run_summary(settings, logical_date)
    return 0


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_TASK_STATE = re.compile(r"Task instance state updated .*new_state=(\w+)")
_RUN_STATE = re.compile(r"DagRun Finished: .*?state=(\w+)")


def _stream_airflow(command: list[str], env: dict[str, str], log_path: Path) -> int:
    """Run Airflow, keep its whole output in a log file, show one line per task as it ends."""
    current, started = "", time.monotonic()
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log_file.write(line)
            if match := _TASK_START.search(line):
                current, started = match.group(1), time.monotonic()
            elif (match := _TASK_STATE.search(line)) and current:
                took = time.monotonic() - started
                say(f"  {match.group(1):<14} {current} ({took:.1f} s)")
                current = ""
            elif "QUARANTINED" in line:
                say("  " + line.strip()[line.find("QUARANTINED") :][:400])
        return process.wait()


def _final_state(log_path: Path) -> str:
    found = _RUN_STATE.findall(log_path.read_text(errors="replace"))
    return found[-1] if found else "unknown"


def _print_run_summary(settings: Settings, logical_date: date) -> None:
    from vawg_warehouse.orchestration import format_summary
    from vawg_warehouse.warehouse import connect

    with connect(settings) as conn:
        row = conn.execute(
            "select summary from audit.pipeline_run where logical_date = %s "
            "order by pipeline_run_id desc limit 1",
            (logical_date,),
        ).fetchone()
    if row:
        for line in format_summary(row[0]):
            say(line)
