"""Load the DAG folder with Airflow's own DagBag, in a child process with the project's Airflow
environment (so the test process does not import or configure Airflow itself)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse.airflow_env import with_airflow_environment
from vawg_warehouse.config import get_settings

PROBE = r"""
import json, time
started = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag()
out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "tags": sorted(dag.tags),
        "schedule": str(getattr(dag.timetable, "_expression", dag.timetable)),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tasks": {
            t.task_id: {
                "retries": t.retries,
                "exponential_backoff": bool(getattr(t, "retry_exponential_backoff", False)),
                "upstream": sorted(t.upstream_task_ids),
                "operator": type(t).__name__,
                "mode": getattr(t, "mode", None),
                "poke_interval": getattr(t, "poke_interval", None),
                "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                "mapped_group": getattr(t.get_closest_mapped_task_group(), "group_id", None),
                "on_failure": [
                    f"{c.__module__}.{c.__qualname__}"
                    for c in (t.on_failure_callback if isinstance(t.on_failure_callback, list)
                              else [t.on_failure_callback] if t.on_failure_callback else [])
                ],
                "on_retry": [
                    f"{c.__module__}.{c.__qualname__}"
                    for c in (t.on_retry_callback if isinstance(t.on_retry_callback, list)
                              else [t.on_retry_callback] if t.on_retry_callback else [])
                ],
                "on_success": [
                    f"{c.__module__}.{c.__qualname__}"
                    for c in (t.on_success_callback if isinstance(t.on_success_callback, list)
                              else [t.on_success_callback] if t.on_success_callback else [])
                ],
            }
            for t in dag.tasks
        },
        "deadlines": [
            {
                "reference": type(d.reference).__name__,
                "interval_seconds": d.interval.total_seconds(),
                "callback": d.callback.path,
                "callback_kind": type(d.callback).__name__,
            }
            for d in (dag.deadline or [])
        ],
    }
    from airflow.serialization.serialized_objects import DagSerialization
    out["dags"][dag_id]["serialized"] = bool(DagSerialization.to_dict(dag))
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def dagbag(tmp_path_factory) -> dict:
    settings = get_settings()
    env = with_airflow_environment(settings)
    home = tmp_path_factory.mktemp("airflow_home")
    env.pop("VAWG_DEADLINE_ALERT")  # the DAG as deployed: with its deadline alert
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
