"""Benchmark: how long Airflow takes to parse dags/vawg_nightly.py (target: under a second).

    .venv/bin/python tests/benchmarks/bench_dag_parse.py [--repeat 5]

Each repeat is a fresh process with the project's Airflow environment: it times the imports every
DAG file pays anyway (airflow.sdk, cosmos), then the DAG file on top of them (cosmos reading the
dbt manifest and building a task per model), and prints medians and the task count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from vawg_warehouse.airflow_env import with_airflow_environment
from vawg_warehouse.cli import ensure_manifest
from vawg_warehouse.config import get_settings

CHILD = r"""
import importlib.util, json, sys, time
t0 = time.perf_counter()
import airflow.sdk, cosmos  # noqa: F401 - what any DAG file using cosmos pays
from airflow.sdk import DAG
t1 = time.perf_counter()
spec = importlib.util.spec_from_file_location("vawg_nightly_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t2 = time.perf_counter()
dags = [v for v in vars(module).values() if isinstance(v, DAG)]
tasks = sum(len(d.tasks) for d in dags) if dags else None
print(json.dumps({"imports": t1 - t0, "dag_file": t2 - t1, "tasks": tasks}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = get_settings()
    ensure_manifest(settings)
    env = with_airflow_environment(settings)
    dag_file = str(settings.dags_dir / "vawg_nightly.py")
    runs = []
    for _ in range(args.repeat):
        out = (
            subprocess.run(
                [sys.executable, "-c", CHILD, dag_file],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        runs.append(json.loads(out))
    imports = statistics.median(r["imports"] for r in runs)
    dag_file_s = statistics.median(r["dag_file"] for r in runs)
    print(f"runs: {args.repeat}")
    print(f"import airflow.sdk + cosmos (paid by any cosmos DAG): median {imports:.2f} s")
    print(
        f"vawg_nightly.py on top of that (LoadMode.DBT_MANIFEST): median {dag_file_s:.3f} s "
        f"(min {min(r['dag_file'] for r in runs):.3f}, max {max(r['dag_file'] for r in runs):.3f})"
    )
    print(f"tasks in the DAG: {runs[0]['tasks']}")


if __name__ == "__main__":
    main()
