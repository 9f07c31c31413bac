"""What the benchmarks share: a throwaway database, peak memory, timing of a subprocess."""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from vawg_warehouse.warehouse import ConnectionInfo, connection_info, ensure_warehouse

# Benchmarks pseudonymise with a key of their own: never the deployment's.
# random per process: the key check refuses a key written in the repository (privacy.py)
BENCH_KEY = "bench-key-" + secrets.token_hex(24)


@contextlib.contextmanager
def throwaway_database(prefix: str = "vawg_bench") -> Iterator[ConnectionInfo]:
    """A new database on the configured server (VAWG_WAREHOUSE_URL, else the embedded one),
    dropped afterwards."""
    ensure_warehouse()
    server = connection_info()
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    info = server.for_database(name)
    try:
        yield info
    finally:
        with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_run(command: list[str], env: dict[str, str], log_path: Path) -> tuple[float, int]:
    """Run a command to the end with its output in a log file; (wall seconds, exit code)."""
    started = time.perf_counter()
    with log_path.open("w") as log:
        code = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - started, code
