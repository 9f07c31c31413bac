"""Benchmarks of the package: each module exposes ``measure(size, workspace) -> list[Figure]``.

A module measures against the configured warehouse (``warehouse.connection_info()``) in a
throwaway database of its own, and measures its floor (the same work done the plainest way) in
the same run, so that figures are read as ratios on a busy, shared machine.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from vawg_warehouse.warehouse import ConnectionInfo, connection_info, ensure_warehouse


@dataclass
class Figure:
    """One measured figure, with its target and the floor it is compared with."""

    name: str
    value: float
    unit: str
    target: float | None = None
    floor: float | None = None
    floor_name: str | None = None
    met: bool | None = None
    note: str = ""
    detail: dict = field(default_factory=dict)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def throwaway_database(prefix: str = "vawg_bench") -> Iterator[ConnectionInfo]:
    """A new database on the configured warehouse server, dropped afterwards."""
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
