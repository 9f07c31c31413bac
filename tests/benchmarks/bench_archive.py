"""Benchmark: what the immutable archive adds to registering files (load.register).

    .venv/bin/python tests/benchmarks/bench_archive.py [--landing DIR] [--repeat 3]

Registers every landing file of every dataset twice over in throwaway databases on the configured
warehouse (VAWG_WAREHOUSE_URL, else the embedded server): once without the archive, once with a
fresh archive folder (hash, copy while hashing, fsync, read back and hash, chmod, link). Then once
more with the archive already full (a nightly re-run: every copy exists, only a stat). Without
--landing it writes the demo-sized sample (`vawg sample` defaults) into a temporary folder first.
Prints the median seconds of each, per file, and the archive's size.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

from vawg_devtools.demo import DEMO_END, DEMO_START
from vawg_devtools.sample import generate
from vawg_warehouse.ingest.contracts import all_contracts
from vawg_warehouse.ingest.landing import discover, register
from vawg_warehouse.migrations import migrate
from vawg_warehouse.run_context import RunContext
from vawg_warehouse.warehouse import connection_info, ensure_warehouse

CTX = RunContext(dag_id="bench", dag_run_id="bench", logical_date=date(2025, 10, 1))


def create_database(server, prefix: str):
    name = f"{prefix}_{secrets.token_hex(3)}"
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return server.for_database(name)


def drop_database(info) -> None:
    with psycopg.connect(info.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{info.dbname}" with (force)')


def _register_all(url: str, landing: Path, archive: Path | None) -> float:
    files = discover(landing, all_contracts())
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        register(conn, files, CTX, archive_root=archive)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ensure_warehouse()
    work = Path(tempfile.mkdtemp(prefix="vawg_bench_archive_"))
    try:
        landing = args.landing
        if landing is None:
            landing = work / "landing"
            print(f"writing the demo sample ({DEMO_START} to {DEMO_END}) ...", flush=True)
            generate(landing, start=DEMO_START, end=DEMO_END)
        files = discover(landing, all_contracts())
        size = sum(f.size_bytes for f in files)
        print(f"{len(files)} files, {size / 1e6:.1f} MB")
        timings: dict[str, list[float]] = {"without archive": [], "with archive": [], "re-run": []}
        for _ in range(args.repeat):
            for label in ("without archive", "with archive"):
                info = create_database(connection_info(), prefix="vawg_bench_archive")
                archive = work / "archive" if label == "with archive" else None
                try:
                    with psycopg.connect(info.url) as conn:
                        migrate(conn)
                    timings[label].append(_register_all(info.url, landing, archive))
                    if archive is not None:
                        # The same files again: batches exist, every copy exists (stat only).
                        timings["re-run"].append(_register_all(info.url, landing, archive))
                finally:
                    drop_database(info)
                    if archive is not None:
                        archived = sum(p.stat().st_size for p in archive.rglob("*") if p.is_file())
                        shutil.rmtree(archive)
        for label, values in timings.items():
            median = statistics.median(values)
            print(
                f"{label:<16} median {median:6.2f} s  ({1000 * median / len(files):5.1f} ms/file) "
                f"runs {', '.join(f'{v:.2f}' for v in values)}"
            )
        print(f"archive: {archived / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
