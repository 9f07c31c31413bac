"""The nightly run of one day's new files on the demo's 15-month warehouse, through Airflow.

1. The demo's sample (15 months, realistic volumes) is written to a staging folder, two days
   longer than the backlog. Every file but the last two days' daily extracts goes to the landing
   folder and is taken in by one `vawg run` (the backlog: what the demo's Airflow run does).
2. Night 1 (the figure): the first of the two days' files arrive; `vawg run --date` through
   Airflow (`airflow dags test`, a fresh process), wall time end to end.
3. Night 2 (the floor): the second day's files arrive; the same steps, in the DAG's order, called
   in one fresh Python process without Airflow (vawg_warehouse.orchestration). Same warehouse,
   the same kind of day: the ratio is what Airflow adds.
4. Night 3 (the real scheduler): the third day's files arrive; `vawg airflow up` starts Airflow
   as production runs it (four processes, LocalExecutor, PostgreSQL metadata) on the same
   warehouse, and the run is triggered through its REST API: wall time from trigger to success
   beside night 1's `dags test` figure, peak memory of Airflow and the warehouse together, and
   each task's start-up (vawg_devtools.bench.scheduler).
5. The backlog's Data Docs (one self-contained page for its thousands of validations): the size
   of the page and the seconds to build it from the audit rows, beside one read of those rows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from vawg_devtools.bench import Figure
from vawg_devtools.bench._support import BENCH_KEY, throwaway_database, timed_run
from vawg_devtools.bench.scheduler import run_under_scheduler
from vawg_warehouse.airflow_stack import free_api_port

BACKLOG_START = date(2024, 7, 1)
NIGHT_1 = date(2025, 10, 14)
NIGHT_2 = NIGHT_1 + timedelta(days=1)
NIGHT_3 = NIGHT_2 + timedelta(days=1)
_DATED = re.compile(r"(\d{4}-\d{2}-\d{2})")

FLOOR = r"""
import json, sys, time
from datetime import date
started = time.perf_counter()
from vawg_warehouse import orchestration as o
from vawg_warehouse.ingest.datasets import SOURCES
from vawg_warehouse.dbt_run.transform import GROUPS
ctx = o.run_context("vawg_nightly", "bench__without_airflow", date.fromisoformat(sys.argv[1]))
settings = o.settings_for_task()
o.prepare_warehouse(settings)
for family in SOURCES:
    ids = o.register_family(family, ctx, settings)
    loaded = o.load_batches(ids, ctx, settings)
    o.publish_batches(o.validate_batches(loaded, ctx, settings), ctx, settings)
for group in GROUPS:
    o.transform_group(group, ctx, settings)
o.finish_run(ctx.dag_id, ctx.dag_run_id, ctx.logical_date, settings)
o.build_data_docs(ctx.dag_run_id, settings)
o.report_run(ctx.dag_run_id, settings)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _day_of(path: Path) -> date | None:
    found = _DATED.search(path.name)
    return date.fromisoformat(found.group(1)) if found else None


def _move_files(staging: Path, landing: Path, keep) -> int:
    moved = 0
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        if keep(path):
            target = landing / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


def _vawg(env: dict[str, str], log: Path, *args: str) -> float:
    seconds, code = timed_run([sys.executable, "-m", "vawg_warehouse.cli", *args], env, log)
    if code != 0:
        raise RuntimeError(f"`vawg {' '.join(args)}` failed (exit {code}): see {log}")
    return seconds


def _data_docs_figures(url: str, out: Path) -> list[Figure]:
    """The Data Docs page of the backlog's run (the warehouse's first run): size and build time,
    the floor one read of the rows the page shows."""
    import psycopg

    from vawg_warehouse.outputs import data_docs

    with psycopg.connect(url) as conn:
        (run_id,) = conn.execute(
            "select dag_run_id from audit.validation_run order by validation_run_id limit 1"
        ).fetchone()
        began = time.perf_counter()
        rows = conn.execute(
            "select r.* from audit.validation_result r join audit.validation_run v "
            "using (validation_run_id) where v.dag_run_id = %s",
            (run_id,),
        ).fetchall()
        read_s = time.perf_counter() - began
        began = time.perf_counter()
        page = data_docs.build(conn, run_id, out / "data_docs")
        build_s = time.perf_counter() - began
    if page is None:
        raise RuntimeError(f"the backlog's run {run_id} has no Data Docs")
    size_mb = page.stat().st_size / 1e6
    what = f"Data Docs of the demo's backlog ({len(rows):,} rule results, one page)"
    return [
        Figure(
            name=f"{what}: page size",
            value=size_mb,
            unit="MB",
            target="<= 20 MB",
            met=size_mb <= 20,
            note="self-contained HTML, no script, nothing fetched",
        ),
        Figure(
            name=f"{what}: build from the audit rows",
            value=build_s,
            unit="s",
            target="<= 20 s",
            floor=read_s,
            floor_name="one read of the same rows",
            met=build_s <= 20,
        ),
    ]


def measure(size: int, workspace: Path) -> list[Figure]:
    from vawg_devtools.sample import generate

    home = workspace / "nightly"
    shutil.rmtree(home, ignore_errors=True)
    staging, landing, logs = home / "staging", home / "landing", home / "bench-logs"
    for folder in (staging, landing, logs):
        folder.mkdir(parents=True)
    summary = generate(staging, start=BACKLOG_START, end=NIGHT_3, seed=20240401)
    backlog = _move_files(staging, landing, lambda p: _day_of(p) is None or _day_of(p) < NIGHT_1)
    with throwaway_database("vawg_bench_nightly") as db:
        env = {
            **os.environ,
            "VAWG_HOME": str(home),
            "VAWG_LANDING_DIR": str(landing),
            "VAWG_WAREHOUSE_URL": db.url,
            "VAWG_PSEUDONYM_KEY": BENCH_KEY,
        }
        backlog_s = _vawg(env, logs / "backlog.log", "run", "--date", NIGHT_1.isoformat())
        docs = _data_docs_figures(db.url, home / "bench-docs")
        night_files = _move_files(staging, landing, lambda p: _day_of(p) == NIGHT_1)
        night_s = _vawg(env, logs / "night1.log", "run", "--date", NIGHT_2.isoformat())
        floor_files = _move_files(staging, landing, lambda p: _day_of(p) == NIGHT_2)
        floor_run = subprocess.run(
            [sys.executable, "-c", FLOOR, (NIGHT_2 + timedelta(days=1)).isoformat()],
            env=env,
            capture_output=True,
            text=True,
        )
        if floor_run.returncode != 0:
            (logs / "night2.log").write_text(floor_run.stdout + floor_run.stderr)
            raise RuntimeError(f"the night without Airflow failed: see {logs / 'night2.log'}")
        floor_s = json.loads(floor_run.stdout.strip().splitlines()[-1])["seconds"]
        third_files = _move_files(staging, landing, lambda p: _day_of(p) == NIGHT_3)
        with throwaway_database("vawg_bench_airflow_meta") as metadata:
            stack_env = {
                **env,
                "VAWG_AIRFLOW_METADATA_URL": metadata.url,
                "VAWG_AIRFLOW_PORT": str(free_api_port()),
                "VAWG_NIGHTLY_SCHEDULE": "none",  # the triggered run only
            }
            scheduled = run_under_scheduler(
                stack_env, home, NIGHT_3 + timedelta(days=1), logs / "night3-scheduler.log"
            )
    ratio = scheduled.seconds / night_s
    scheduler_met = ratio <= 1.5 and scheduled.peak_rss_mb <= 2048 and scheduled.state == "success"
    return [
        Figure(
            name=f"nightly run of one day's new files ({night_files} files) on the demo's "
            f"15-month warehouse, through Airflow (`vawg run --date`)",
            value=night_s,
            unit="s",
            target="<= 90 s",
            floor=floor_s,
            floor_name=f"the next day's {floor_files} files, same steps without Airflow",
            met=night_s <= 90,
            note="airflow dags test in a fresh process, SQLite metadata, every data test once",
        ),
        Figure(
            name=f"nightly run of one day's new files ({third_files} files) under the real "
            "scheduler (`vawg airflow up`: LocalExecutor, PostgreSQL metadata), trigger to success",
            value=scheduled.seconds,
            unit="s",
            target="<= 1.5x the `dags test` night, <= 2 GB peak",
            floor=night_s,
            floor_name="night 1 through `airflow dags test` (the figure above)",
            met=scheduler_met,
            note=f"run {scheduled.state}; peak RSS of Airflow's processes and the warehouse's "
            f"PostgreSQL together {scheduled.peak_rss_mb:,.0f} MB; {scheduled.startup_note()}",
        ),
        Figure(
            name=f"the demo's backlog through Airflow ({backlog:,} files, "
            f"{summary.rows:,} rows, one `vawg run`)",
            value=backlog_s,
            unit="s",
            target="(demo <= 5 min with sample generation)",
            note="the Airflow run that `vawg demo` makes, without writing the sample",
        ),
        *docs,
    ]
