"""Benchmark: what the auditor's outputs cost per run: Data Docs and the run report.

    .venv/bin/python tests/benchmarks/bench_reports.py [--days 31] [--rows 700]

In a throwaway database on the configured warehouse (VAWG_WAREHOUSE_URL, else the embedded
server): sample files for every source over ``--days`` days, extracted and validated by the task
functions as one run (no Airflow, no dbt). Then, each in a fresh process as a real executor runs
a task: the `data_docs` task (GX import included), and again with GX already imported; the
`report` task. Prints seconds, peak RSS and the size of the site on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

RUN_ID = "bench_reports"


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _size_mb(folder: Path) -> float:
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 1e6


def step(name: str) -> dict:
    """One measured step, in this (fresh) process."""
    from vawg_warehouse import orchestration as o

    began = time.perf_counter()
    if name == "data_docs":
        o.build_data_docs(RUN_ID)
    elif name == "data_docs_warm":
        import vawg_warehouse.validate.gx_runtime  # noqa: F401 - the import, before the clock

        began = time.perf_counter()
        o.build_data_docs(RUN_ID)
    else:
        o.report_run(RUN_ID)
    return {"seconds": time.perf_counter() - began, "peak_rss_mb": _peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--rows", type=int, default=700)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.*
    from tests.conftest import TEST_KEY, create_database, drop_database
    from vawg_devtools.sample import generate
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.ingest.datasets import SOURCES
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.outputs.reports import data_docs_index
    from vawg_warehouse.warehouse import connect, connection_info, ensure_warehouse

    ensure_warehouse()
    database = create_database(connection_info(), prefix="vawg_bench")
    with tempfile.TemporaryDirectory() as tmp:
        landing, reports = Path(tmp) / "landing", Path(tmp) / "reports"
        os.environ.update(
            VAWG_WAREHOUSE_URL=database.url,
            VAWG_PSEUDONYM_KEY=TEST_KEY,
            VAWG_LANDING_DIR=str(landing),
            VAWG_REPORTS_DIR=str(reports),
        )
        try:
            start = date(2025, 1, 1)
            generate(
                landing, start=start, end=start + timedelta(days=args.days - 1), rows=args.rows
            )
            with connect() as conn:
                migrate(conn)
            ctx = o.run_context("vawg_nightly", RUN_ID, start + timedelta(days=args.days))
            for datasets in SOURCES.values():
                for dataset in datasets:
                    ids = o.register_files(dataset, ctx)
                    o.publish_batches(o.validate_batches(o.load_batches(ids, ctx), ctx), ctx)
            o.finish_run("vawg_nightly", RUN_ID, ctx.logical_date)
            with connect() as conn:
                validations = conn.execute("select count(*) from audit.validation_run").fetchone()
            print(f"{validations[0]} validations in the run ({args.days} days of files)")
            for name in ("data_docs", "data_docs_warm", "report"):
                done = subprocess.run(
                    [sys.executable, __file__, "--step", name],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=os.environ,
                )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                seconds, rss = result["seconds"], result["peak_rss_mb"]
                print(f"{name:<15} {seconds:6.1f} s   peak RSS {rss:5.0f} MB")
            site = data_docs_index(reports, RUN_ID).parent
            print(f"Data Docs site  {_size_mb(site):6.1f} MB (static files shared, not counted)")
        finally:
            drop_database(database)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--step":
        print(json.dumps(step(sys.argv[2])))
        sys.exit(0)
    sys.exit(main())
