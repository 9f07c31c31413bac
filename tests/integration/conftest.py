"""The shared end-to-end run: generated files for every source, one real `vawg run` through Airflow.

Session-scoped, so every measure's test module (test_measure_*.py) compares its mart with the same
run. Each test module computes its measure independently, in Python, from the generated files and
the seeds. test_nightly_dag.py, which runs last (file order), then re-runs the DAG and adds a bad
file: tests that change the warehouse belong there, after the read-only ones.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.conftest import HANG_GUARD_SECONDS, TEST_KEY, create_database, drop_database
from vawg_devtools.sample import generate

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "reference"
# Two Januaries a year apart: small, yet the change on last year is exercised.
PERIODS = [(date(2024, 1, 1), date(2024, 1, 31), 11), (date(2025, 1, 1), date(2025, 1, 31), 12)]
RUN_DATE = date(2025, 2, 1)


def seed_rows(name: str) -> list[dict[str, str]]:
    """A seed's rows; of a seed that holds several forces' rows, the home force's (Lancashire
    in these tests: vawg_warehouse.forces)."""
    from vawg_warehouse.forces import of_home_force

    with (SEEDS / f"{name}.csv").open(newline="") as fh:
        return of_home_force(name, csv.DictReader(fh))


def vawg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vawg_warehouse.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )


def query(db, sql: str, *params) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def pipeline(server, tmp_path_factory):
    database = create_database(server)
    home = tmp_path_factory.mktemp("vawg_home")
    landing = home / "landing"
    for start, end, seed in PERIODS:
        generate(landing, start=start, end=end, rows=700, seed=seed)
    env = {
        **os.environ,
        "VAWG_HOME": str(home),
        "VAWG_LANDING_DIR": str(landing),
        "VAWG_WAREHOUSE_URL": database.url,
        "VAWG_PSEUDONYM_KEY": TEST_KEY,
    }
    first = vawg(env, "run", "--date", RUN_DATE.isoformat())
    try:
        yield {"db": database, "landing": landing, "env": env, "first": first, "home": home}
    finally:
        drop_database(database)
