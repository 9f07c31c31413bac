"""The whole pipeline at size: load, validate, publish and dbt, each step's peak memory, and the
dbt build of the measure marts beside a CREATE TABLE AS of the same aggregates.

    .venv/bin/python -m vawg_devtools.bench.pipeline --rows 10000000 [--workspace DIR]

The sample generator writes the demo's 15 months with ``size`` crime rows in all and every
related source in the profile's proportions (outcomes, MARAC, orders, Victims' Code records ...).
Each step runs in a fresh process, as an Airflow task would, and reports its wall time and peak
RSS (VmHWM): the target is 500 MB for each. Then, on the built warehouse:

  floor   for each measure mart, its compiled SQL run as ``create table ... as`` in one session
  dbt     ``dbt run`` of the same marts, and ``dbt build`` (the marts and their data tests)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from vawg_devtools.bench import Figure
from vawg_devtools.bench._support import BENCH_KEY, peak_rss_mb, throwaway_database

START, END = date(2024, 7, 1), date(2025, 9, 30)
TARGET_RSS_MB = 500.0
TARGET_DBT_RATIO = 3.0
MARTS = "path:models/marts/measures"
STEPS = ("load", "validate", "publish", "transform")


def _step(name: str) -> dict:
    """One step over every family, in this (fresh) process."""
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.audit import get_batches
    from vawg_warehouse.dbt_run.transform import GROUPS
    from vawg_warehouse.ingest.datasets import SOURCES
    from vawg_warehouse.warehouse import connect

    ctx = o.run_context("bench", "bench__pipeline", END)
    settings = o.settings_for_task()
    started = time.perf_counter()
    with connect(settings) as conn:
        statuses = {
            "load": ("registered",),
            "validate": ("loaded",),
            "publish": ("validated",),
        }.get(name, ())
        ids = [
            r[0]
            for r in conn.execute(
                "select batch_id from audit.load_batch where status = any(%s) order by batch_id",
                (list(statuses),),
            ).fetchall()
        ]
    rows = 0
    if name == "load":
        for family in SOURCES:
            o.register_family(family, ctx, settings)
        with connect(settings) as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "select batch_id from audit.load_batch where status = 'registered'"
                ).fetchall()
            ]
        o.load_batches(ids, ctx, settings)
    elif name == "validate":
        o.validate_batches(ids, ctx, settings)
    elif name == "publish":
        rows = o.publish_batches(ids, ctx, settings)
    elif name == "transform":
        for group in GROUPS:
            o.transform_group(group, ctx, settings, rebuild=True)
    with connect(settings) as conn:
        batches = len(get_batches(conn, ids)) if ids else 0
    return {
        "step": name,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
        "batches": batches,
        "rows": rows,
    }


def _marts_against_ctas() -> dict:
    """dbt run and dbt build of the measure marts, and their compiled SQL as CREATE TABLE AS."""
    import psycopg

    from vawg_warehouse.config import get_settings
    from vawg_warehouse.dbt_run import transform
    from vawg_warehouse.warehouse import connection_info

    settings = get_settings()
    select = ["--select", MARTS]
    ok, nodes, _, exc = transform.invoke("compile", settings, select)
    if not ok:
        raise RuntimeError(f"dbt compile failed: {exc}")
    compiled = {
        n.node.name: n.node.compiled_code
        for n in nodes
        if str(n.node.resource_type) == "model" and n.node.compiled_code
    }
    started = time.perf_counter()
    with psycopg.connect(connection_info(settings).url) as conn:
        for name, code in compiled.items():
            conn.execute(f"create temporary table bench_{name} as {code}")
        conn.rollback()
    ctas = time.perf_counter() - started
    timings = {"ctas": ctas, "marts": len(compiled)}
    for command in ("run", "build"):
        started = time.perf_counter()
        ok, nodes, _, exc = transform.invoke(command, settings, select)
        if not ok:
            raise RuntimeError(f"dbt {command} of the marts failed: {exc}")
        timings[command] = time.perf_counter() - started
        timings[f"{command}_nodes"] = len(nodes)
    timings["peak_rss_mb"] = peak_rss_mb()
    return timings


def _child(step: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "vawg_devtools.bench.pipeline", "--step", step],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pipeline step {step} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(size: int, workspace: Path) -> list[Figure]:
    from vawg_devtools.sample import generate

    home = workspace / f"pipeline_{size}"
    landing = home / "landing"
    if not landing.exists():
        generate(landing, start=START, end=END, rows=size, seed=20240401)
    files_mb = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 1e6
    with throwaway_database("vawg_bench_pipeline") as db:
        env = {
            **os.environ,
            "VAWG_HOME": str(home),
            "VAWG_LANDING_DIR": str(landing),
            "VAWG_WAREHOUSE_URL": db.url,
            "VAWG_PSEUDONYM_KEY": BENCH_KEY,
        }
        subprocess.run([sys.executable, "-m", "vawg_warehouse.cli", "migrate"], env=env, check=True)
        steps = [_child(step, env) for step in STEPS]
        marts = _child("marts", env)
    figures = [
        Figure(
            name=f"{s['step']} at {size:,} crime rows ({files_mb:,.0f} MB of files): peak RSS",
            value=s["peak_rss_mb"],
            unit="MB",
            target=f"<= {TARGET_RSS_MB:.0f} MB",
            met=s["peak_rss_mb"] <= TARGET_RSS_MB,
            note=f"{s['seconds']:,.0f} s in a fresh process",
        )
        for s in steps
    ]
    figures.append(
        Figure(
            name=f"dbt build of the {marts['marts']} measure marts (models and their tests) "
            f"at {size:,} crime rows",
            value=marts["build"],
            unit="s",
            target=f"<= {TARGET_DBT_RATIO:.0f}x the floor",
            floor=marts["ctas"],
            floor_name="their compiled SQL as CREATE TABLE AS, one session",
            met=marts["build"] <= TARGET_DBT_RATIO * marts["ctas"],
            note=(
                f"dbt run of the same marts (no tests): {marts['run']:,.1f} s = "
                f"{marts['run'] / marts['ctas']:.2f}x the floor; {marts['build_nodes']} nodes "
                f"built and tested; peak RSS of that process {marts['peak_rss_mb']:,.0f} MB"
            ),
        )
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        result = _marts_against_ctas() if args.step == "marts" else _step(args.step)
        print(json.dumps(result))
        return
    from vawg_devtools.bench.runner import print_figure
    from vawg_warehouse.config import get_settings

    workspace = Path(args.workspace or get_settings().home / "bench" / "pipeline")
    for figure in measure(args.rows, workspace):
        print_figure(figure)


if __name__ == "__main__":
    main()
