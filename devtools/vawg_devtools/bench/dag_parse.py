"""How long Airflow takes to parse dags/vawg_nightly.py, beside what any DAG file pays anyway.

Each repeat is a fresh process with the project's Airflow environment, as a DAG processor parses:
it times importing what the file uses of ``airflow.sdk`` (the floor: every TaskFlow DAG file of
Airflow 3 pays it), then the DAG
file on top of it. The DAG reads no dbt manifest and builds a fixed, small set of tasks, so its
own cost is the figure (target: under 0.5 s).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from vawg_devtools.bench import Figure

CHILD = r"""
import importlib.util, json, sys, time
t0 = time.perf_counter()
# What every Airflow 3 DAG file written with the TaskFlow API pays (airflow.sdk loads lazily):
from airflow.sdk import DAG, Param, TaskGroup, TriggerRule, dag, task  # noqa: F401
t1 = time.perf_counter()
spec = importlib.util.spec_from_file_location("vawg_nightly_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t2 = time.perf_counter()
dags = [v for v in vars(module).values() if isinstance(v, DAG)]
tasks = sum(len(d.tasks) for d in dags)
print(json.dumps({"imports": t1 - t0, "dag_file": t2 - t1, "tasks": tasks}))
"""


def measure(size: int, workspace: Path, repeat: int = 5) -> list[Figure]:
    from vawg_warehouse.airflow_env import with_airflow_environment
    from vawg_warehouse.config import get_settings

    settings = get_settings()
    env = with_airflow_environment(settings)
    dag_file = str(settings.dags_dir / "vawg_nightly.py")
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, dag_file],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    imports = statistics.median(r["imports"] for r in runs)
    dag_file_s = statistics.median(r["dag_file"] for r in runs)
    return [
        Figure(
            name="DAG file parse (vawg_nightly.py, fresh process)",
            value=dag_file_s,
            unit="s",
            target="< 0.5 s",
            floor=imports,
            floor_name="importing dag, task, TaskGroup, Param from airflow.sdk (any TaskFlow DAG)",
            met=dag_file_s < 0.5,
            note=(
                f"median of {repeat} fresh processes; {runs[0]['tasks']} tasks; "
                f"min {min(r['dag_file'] for r in runs):.3f} s, "
                f"max {max(r['dag_file'] for r in runs):.3f} s"
            ),
        )
    ]
