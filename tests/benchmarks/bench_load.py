"""Benchmark: the loader's rows/s on a 1M-row crimes file beside a bare COPY of the same file.

    .venv/bin/python tests/benchmarks/bench_load.py [--rows 1000000]

Runs against the configured warehouse (VAWG_WAREHOUSE_URL, else the embedded server) in a
throwaway database. Each step runs in its own process so its peak memory (max RSS) is its own:
  bare COPY   the file's bytes streamed into an all-text table (no parsing in Python)
  loader      load_batch: csv parse, HMAC of two identifiers per row, COPY into landing
  validate    the Great Expectations suite in SQL on the landing table
  publish     cast into the typed raw table (one INSERT ... SELECT)
Prints seconds, rows/s, peak RSS and the loader / bare-COPY ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2025, 3, 3)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name: str, url: str, landing: str) -> dict:
    """One measured step, in this (fresh) process."""
    import psycopg

    from vawg_warehouse.contracts import load_contract
    from vawg_warehouse.load import RunContext, discover, get_batches, load_batch, register
    from vawg_warehouse.orchestration import publish_batches, validate_batches
    from vawg_warehouse.privacy import Pseudonymiser, resolve_key

    os.environ["VAWG_WAREHOUSE_URL"] = url
    landing_dir = Path(landing)
    ctx = RunContext(dag_id="bench", dag_run_id="bench")
    contract = load_contract("force_crimes")
    (path,) = sorted((landing_dir / contract.landing_path).glob("*.csv"))
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        if name == "bare_copy":
            cols = ", ".join(f"{c} text" for c in contract.column_names)
            conn.execute(f"create unlogged table bare_copy ({cols})")
            with (
                path.open("rb") as fh,
                conn.cursor().copy("copy bare_copy from stdin (format csv, header true)") as copy,
            ):
                while block := fh.read(1 << 20):
                    copy.write(block)
            conn.commit()
            rows = conn.execute("select count(*) from bare_copy").fetchone()[0]
            started_count = time.perf_counter()
            elapsed = started_count - started
        elif name == "loader":
            (batch,) = register(conn, discover(landing_dir, [contract]), ctx)
            started = time.perf_counter()
            result = load_batch(conn, batch, landing_dir, Pseudonymiser(resolve_key()), ctx)
            elapsed = time.perf_counter() - started
            rows = result.rows_read
        elif name in ("validate", "publish"):
            (batch_id,) = [
                r[0] for r in conn.execute("select batch_id from audit.load_batch").fetchall()
            ]
            rows = conn.execute("select rows_read from audit.load_batch").fetchone()[0]
            started = time.perf_counter()
            if name == "validate":
                ok = validate_batches([batch_id], ctx)
                assert ok == [batch_id], "the benchmark file failed validation"
            else:
                published = publish_batches([batch_id], ctx)
                assert published == rows
            elapsed = time.perf_counter() - started
            assert get_batches(conn, [batch_id])
        else:
            raise SystemExit(f"unknown step {name}")
    return {"step": name, "rows": rows, "seconds": elapsed, "peak_rss_mb": _peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--landing", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.url, args.landing)))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import psycopg

    from tests.conftest import TEST_KEY, create_database, drop_database
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.sample import generate
    from vawg_warehouse.warehouse import connection_info, ensure_warehouse

    ensure_warehouse()
    db = create_database(connection_info(), prefix="vawg_bench")
    os.environ.setdefault("VAWG_PSEUDONYM_KEY", TEST_KEY)
    try:
        with psycopg.connect(db.url) as conn:
            migrate(conn)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            generate(Path(tmp), start=DAY, end=DAY, rows=args.rows, seed=1)
            crimes = next(Path(tmp).glob("force/crimes/*.csv"))
            print(
                f"generated {crimes.name}: {crimes.stat().st_size / 1e6:.0f} MB "
                f"in {time.perf_counter() - started:.1f} s"
            )
            results = {}
            for name in ("bare_copy", "loader", "validate", "publish"):
                out = (
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--step",
                            name,
                            "--url",
                            db.url,
                            "--landing",
                            tmp,
                        ],
                        check=True,
                        capture_output=True,
                        text=True,
                        env=os.environ,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                results[name] = json.loads(out)
    finally:
        drop_database(db)
    print(f"{'step':<10} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak RSS MB':>12}")
    for r in results.values():
        print(
            f"{r['step']:<10} {r['rows']:>10,} {r['seconds']:>8.2f} "
            f"{r['rows'] / r['seconds']:>10,.0f} {r['peak_rss_mb']:>12.0f}"
        )
    ratio = results["loader"]["seconds"] / results["bare_copy"]["seconds"]
    print(f"loader / bare COPY time ratio: {ratio:.2f}x (server: {db.host}:{db.port})")


if __name__ == "__main__":
    main()
