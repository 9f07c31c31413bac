"""Benchmark: the loader's rows/s on a crimes file beside a bare COPY of the same file.

    .venv/bin/python -m vawg_devtools.bench.loader [--rows 1000000] [--rounds 3] [--workspace DIR]

The file is made by the sample generator (one day of force files, ``size`` crime rows). In a
throwaway database on the configured warehouse, rounds alternate two steps, each in a fresh
process so that its peak memory (VmHWM) is its own:

  loader  ``load.load_batch`` of the registered file: header mapping, identifiers pseudonymised
          (keyed HMAC), line numbers, COPY into the landing table
  floor   a bare COPY of the file's bytes into an all-text table of the same kind as the landing
          table (logged or unlogged), no parsing in Python; the other kind is measured too and
          printed beside it

Reported: the median rows/s of each, their ratio (target: the loader at least half the floor),
and the loader's peak RSS (target: 500 MB, the project's limit for load, validate and dbt).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from vawg_devtools.bench import Figure
from vawg_devtools.bench._support import BENCH_KEY, peak_rss_mb, throwaway_database

DAY = date(2025, 3, 3)
TARGET_RATIO = 0.5
TARGET_RSS_MB = 500.0


def crimes_file(size: int, workspace: Path) -> tuple[Path, Path]:
    """(landing folder, crimes file) with ``size`` crime rows, made once per workspace."""
    from vawg_devtools.sample import generate

    landing = workspace / f"landing_{size}"
    found = sorted(landing.glob("force/crimes/*.csv"))
    if not found:
        generate(landing, start=DAY, end=DAY, rows=size, seed=1)
        found = sorted(landing.glob("force/crimes/*.csv"))
    (path,) = found
    return landing, path


def _step(name: str, url: str, landing: Path) -> dict:
    """One measured step, in this (fresh) process."""
    import psycopg
    from psycopg import sql

    from vawg_warehouse.ingest.contracts import load_contract
    from vawg_warehouse.ingest.landing import discover, register
    from vawg_warehouse.ingest.load import load_batch
    from vawg_warehouse.ingest.privacy import Pseudonymiser
    from vawg_warehouse.run_context import RunContext

    contract = load_contract("force_crimes")
    ctx = RunContext(dag_id="bench", dag_run_id="bench")
    with psycopg.connect(url, autocommit=True) as conn:
        if name == "loader":
            (batch,) = register(conn, discover(landing, [contract]), ctx)
            pseudonymise = Pseudonymiser(BENCH_KEY.encode())
            started = time.perf_counter()
            result = load_batch(conn, batch, landing, pseudonymise, ctx)
            elapsed = time.perf_counter() - started
            kind = conn.execute(
                "select relpersistence from pg_class where oid = to_regclass(%s)",
                (f"landing.{batch.landing_table}",),
            ).fetchone()[0]
            return {
                "rows": result.rows_read,
                "seconds": elapsed,
                "peak_rss_mb": peak_rss_mb(),
                "notes": result.notes,
                "persistence": kind,
            }
        kind = os.environ.get("VAWG_BENCH_FLOOR_KIND", "p")
        (path,) = sorted((landing / contract.landing_path).glob("*.csv"))
        columns = sql.SQL(", ").join(
            sql.SQL("{} text").format(sql.Identifier(c)) for c in contract.column_names
        )
        conn.execute("drop table if exists bench_floor")
        started = time.perf_counter()
        with conn.transaction():
            conn.execute(
                sql.SQL("create {} table bench_floor ({})").format(
                    sql.SQL("unlogged" if kind == "u" else ""), columns
                )
            )
            with (
                path.open("rb") as fh,
                conn.cursor().copy("copy bench_floor from stdin (format csv, header true)") as copy,
            ):
                while block := fh.read(1 << 20):
                    copy.write(block)
        elapsed = time.perf_counter() - started
        rows = conn.execute("select count(*) from bench_floor").fetchone()[0]
        conn.execute("drop table bench_floor")
        return {"rows": rows, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


def _run_step(name: str, url: str, landing: Path, floor_kind: str = "p") -> dict:
    env = {**os.environ, "VAWG_BENCH_FLOOR_KIND": floor_kind}
    done = subprocess.run(
        [sys.executable, "-m", "vawg_devtools.bench.loader", "--step", name, "--url", url]
        + ["--landing", str(landing)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(size: int, workspace: Path, rounds: int = 3) -> list[Figure]:
    """The loader against a bare COPY of the same file, ``rounds`` times each, alternating."""
    import psycopg

    from vawg_warehouse.migrations import migrate

    workspace.mkdir(parents=True, exist_ok=True)
    landing, path = crimes_file(size, workspace)
    loader_runs: list[dict] = []
    floor_runs: list[dict] = []
    with throwaway_database("vawg_bench_loader") as db:
        with psycopg.connect(db.url) as conn:
            migrate(conn)
        other_runs: list[dict] = []
        for _ in range(rounds):
            loader_runs.append(_run_step("loader", db.url, landing))
            kind = loader_runs[0]["persistence"]
            floor_runs.append(_run_step("floor", db.url, landing, kind))
            other_runs.append(_run_step("floor", db.url, landing, "u" if kind == "p" else "p"))
    loader_rate = statistics.median(r["rows"] / r["seconds"] for r in loader_runs)
    floor_rate = statistics.median(r["rows"] / r["seconds"] for r in floor_runs)
    other_rate = statistics.median(r["rows"] / r["seconds"] for r in other_runs)
    ratio = loader_rate / floor_rate
    rss = max(r["peak_rss_mb"] for r in loader_runs)
    kind = "logged" if loader_runs[0]["persistence"] == "p" else "unlogged"
    floor_name = f"bare COPY of the same file into an all-text {kind} table"
    detail = {
        "file": path.name,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "rows": loader_runs[0]["rows"],
        "rounds": rounds,
        "loader_seconds": [round(r["seconds"], 2) for r in loader_runs],
        "floor_seconds": [round(r["seconds"], 2) for r in floor_runs],
        "loader_notes": loader_runs[0]["notes"],
        "landing_table": kind,
        "other_floor": (
            f"bare COPY into an {'unlogged' if kind == 'logged' else 'logged'} table: "
            f"{other_rate:,.0f} rows/s, loader / it = {loader_rate / other_rate:.2f}, "
            f"seconds {[round(r['seconds'], 2) for r in other_runs]}"
        ),
    }
    return [
        Figure(
            name="loader rows/s",
            value=round(loader_rate),
            unit="rows/s",
            target=f">= {TARGET_RATIO}x the floor's rows/s ({TARGET_RATIO * floor_rate:,.0f})",
            floor=round(floor_rate),
            floor_name=floor_name,
            met=ratio >= TARGET_RATIO,
            note=f"median of {rounds}; loader / floor = {ratio:.2f}",
            detail=detail,
        ),
        Figure(
            name="loader / bare COPY rows/s",
            value=round(ratio, 3),
            unit="ratio",
            target=f">= {TARGET_RATIO}x",
            floor=1.0,
            floor_name=floor_name,
            met=ratio >= TARGET_RATIO,
            note="same file, same server, same run",
        ),
        Figure(
            name="loader peak RSS",
            value=round(rss),
            unit="MB",
            target=f"<= {TARGET_RSS_MB:.0f} MB",
            met=rss <= TARGET_RSS_MB,
            note="the loader's process (imports included), VmHWM; largest of the rounds",
            detail={"floor_peak_rss_mb": round(max(r["peak_rss_mb"] for r in floor_runs))},
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--landing", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.url, args.landing)))
        return
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        workspace = args.workspace or Path(tmp)
        for figure in measure(args.rows, workspace, rounds=args.rounds):
            met = {True: "met", False: "NOT met", None: ""}[figure.met]
            print(
                f"{figure.name:<28} {figure.value:>12,} {figure.unit:<7} "
                f"target {figure.target} {met}  ({figure.note})"
            )
            if figure.floor_name:
                print(f"{'':<28} floor {figure.floor:,}: {figure.floor_name}")
            for key, value in figure.detail.items():
                print(f"{'':<28} {key}: {value}")


if __name__ == "__main__":
    main()
