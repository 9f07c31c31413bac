"""The national run (dags/vawg_national.py) on the Celery stack: what one more force and one more
worker cost.

Three runs, each on a stack of its own (`vawg airflow up` with the CeleryExecutor, its own Redis,
a fresh warehouse and metadata database), each force with the same size of sample (one month,
``size`` crimes per force), triggered through the REST API and timed from the trigger to the
run's end:

* A: one force (lancashire), one worker;
* B: two forces (lancashire, cumbria), one worker: B - A is the cost of one more force;
* C: two forces, two workers: C beside B is what a second worker buys;
* D: one force, one worker, a backlog of the same month and the 12 before it (13 months, at the
  same ``size`` a month), in one run: D - A is the cost of one more year of a force's backlog.

Each figure is printed beside its floor: B beside A (the same night of one force less), C beside
B (the same run on one worker less), D beside A (the same run with a year of files less). The
stack's start-up (about 40 s) is outside every figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

from vawg_devtools.bench import Figure
from vawg_devtools.bench._support import BENCH_KEY, throwaway_database
from vawg_warehouse.airflow_stack import free_api_port

DAG_ID = "vawg_national"
START, END = date(2025, 1, 1), date(2025, 1, 31)
YEAR_BEFORE = date(2024, 1, 1)  # D's backlog starts here: the month and the 12 before it
RUN_DATE = date(2025, 2, 1)


def _drop(info) -> None:
    with psycopg.connect(info.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{info.dbname}" with (force)')


def national_run(
    forces: list[str], workers: int, rows: int, workspace: Path, start: date = START
) -> dict:
    """One national run of ``forces`` on a Celery stack of ``workers`` workers, each force's files
    from ``start`` to END at ``rows`` crimes a month: seconds from the trigger to the end, the
    run's state, tasks per worker."""
    from vawg_devtools.sample import generate
    from vawg_warehouse import national
    from vawg_warehouse.airflow_api import AirflowApi

    months = (END.year - start.year) * 12 + END.month - start.month + 1
    home = workspace / f"{len(forces)}forces_{workers}workers_{months}months"
    landing = home / "landing"
    for n, force in enumerate(forces):
        saved = os.environ.get("VAWG_HOME_FORCE")
        os.environ["VAWG_HOME_FORCE"] = force
        try:
            generate(landing / force, start=start, end=END, rows=rows * months, seed=31 + n)
        finally:
            if saved is None:
                os.environ.pop("VAWG_HOME_FORCE", None)
            else:
                os.environ["VAWG_HOME_FORCE"] = saved
    port = free_api_port()
    log = home / "stack.log"
    with throwaway_database("vawg_bench_nat") as warehouse:
        with throwaway_database("vawg_bench_meta") as metadata:
            env = {
                **os.environ,
                "VAWG_HOME": str(home),
                "VAWG_LANDING_DIR": str(landing),
                "VAWG_WAREHOUSE_URL": warehouse.url,
                "VAWG_PSEUDONYM_KEY": BENCH_KEY,
                "VAWG_AIRFLOW_METADATA_URL": metadata.url,
                "VAWG_AIRFLOW_PORT": str(port),
                "VAWG_AIRFLOW_EXECUTOR": "CeleryExecutor",
                "VAWG_AIRFLOW_CELERY_WORKERS": str(workers),
                "VAWG_NIGHTLY_SCHEDULE": "none",
                national.FORCES_ENV: ",".join(forces),
            }
            env.pop("VAWG_REDIS_URL", None)
            command = [sys.executable, "-m", "vawg_warehouse.cli", "airflow"]
            force_dbs = [
                warehouse.for_database(national.force_database(warehouse.dbname, f)) for f in forces
            ]
            try:
                with log.open("w") as out:
                    up = subprocess.run(
                        [*command, "up"], env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                if up.returncode != 0:
                    raise RuntimeError(f"`vawg airflow up` failed: see {log}")
                text = log.read_text()
                password = text.split("login: user vawg, password", 1)[1].split()[0]
                api = AirflowApi(f"http://127.0.0.1:{port}", "vawg", password)
                api.wait_for_dag(DAG_ID)
                began = time.perf_counter()
                run_id = api.trigger(DAG_ID, RUN_DATE)
                api.unpause(DAG_ID)
                finished = api.wait_for_run(DAG_ID, run_id, poll=1.0)
                seconds = time.perf_counter() - began
                tis = api.task_instances(DAG_ID, run_id)
            finally:
                with log.open("a") as out:
                    subprocess.run(
                        [*command, "down"], env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                for info in force_dbs:
                    _drop(info)
    workers_used: dict[str, int] = {}
    for ti in tis:
        if ti.get("hostname"):
            name = ti["hostname"].split(".", 1)[0]
            workers_used[name] = workers_used.get(name, 0) + 1
    return {
        "seconds": seconds,
        "state": finished["state"],
        "tasks": len(tis),
        "workers": workers_used,
    }


def measure(size: int, workspace: Path) -> list[Figure]:
    runs = {
        "A": national_run(["lancashire"], 1, size, workspace),
        "B": national_run(["lancashire", "cumbria"], 1, size, workspace),
        "C": national_run(["lancashire", "cumbria"], 2, size, workspace),
        "D": national_run(["lancashire"], 1, size, workspace, start=YEAR_BEFORE),
    }
    return figures(runs, size)


def figures(runs: dict[str, dict], size: int) -> list[Figure]:
    """Each run beside its floor: B beside A, C beside B, D beside A (module docstring)."""
    comparisons = (
        ("B", "A", f"2 forces on 1 Celery worker ({size:,} crimes a force)",
         "the same run of 1 force on 1 worker", "per extra force"),
        ("C", "B", f"2 forces on 2 Celery workers ({size:,} crimes a force)",
         "the same run of 2 forces on 1 worker", "per extra worker"),
        ("D", "A", f"1 force with 13 months of files on 1 Celery worker ({size:,} crimes a month)",
         "the same run with 1 month of files", "per extra year of backlog"),
    )  # fmt: skip
    ok = {r["state"] for r in runs.values()} == {"success"}
    found = []
    for run, floor, name, floor_name, per in comparisons:
        value, below = runs[run]["seconds"], runs[floor]["seconds"]
        said = "; ".join(
            f"{k}: {runs[k]['state']}, {runs[k]['tasks']} task instances, "
            f"per worker {runs[k]['workers']}"
            for k in (floor, run)
        )
        found.append(
            Figure(
                name=f"national run, {name}",
                value=value,
                unit="s",
                target=f"cost {per} ({run} - {floor})",
                floor=below,
                floor_name=floor_name,
                met=None if ok else False,
                note=f"{per} {value - below:+.1f} s; {said}",
                detail={k: runs[k] for k in (floor, run)},
            )
        )
    return found
