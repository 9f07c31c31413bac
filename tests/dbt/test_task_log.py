"""No false error lines in a successful task's log (issue 19): a dbt task that succeeds, run as
Airflow runs a task (a forked child that leaves by os._exit, tests/dbt/forked_task.py), writes
nothing to stderr, which Airflow's supervisor logs at error level. dbt's locks are spawn-context
semaphores; before vawg_warehouse.dbt_run.runner freed them at exit, multiprocessing's resource
tracker reported them in every dbt task ("There appear to be 3 leaked semaphore objects")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse.airflow_env import with_airflow_environment
from vawg_warehouse.config import get_settings

SCRIPT = Path(__file__).with_name("forked_task.py")
ROOT = Path(__file__).resolve().parents[2]

# a dbt seed against a warehouse in an Airflow-style forked child: the full suite (README)
pytestmark = pytest.mark.slow


def test_a_successful_dbt_task_writes_no_error_line(migrated) -> None:
    env = with_airflow_environment(get_settings())
    env["VAWG_WAREHOUSE_URL"] = migrated.url
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=True,
    )
    child = json.loads(result.stdout.strip().splitlines()[-1])
    assert child["status"] == 0 and "dbt ok" in child["stdout"], child
    assert child["stderr"] == "", child["stderr"]
