"""CI's smoke run of `vawg bench` at its smallest size: every benchmark that fits runs to the
end against the test server and prints its figures. The figures are never asserted (they go to
docs/benchmarks.md from a run on a quiet machine); that they are printed, with a floor, is."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import HANG_GUARD_SECONDS

pytestmark = pytest.mark.slow


def test_the_smallest_bench_runs_every_benchmark_that_fits_and_prints_each_figure(
    server, tmp_path
) -> None:
    env = {**os.environ, "VAWG_HOME": str(tmp_path / "home"), "VAWG_WAREHOUSE_URL": server.url}
    done = subprocess.run(
        [sys.executable, "-m", "vawg_warehouse.cli", "bench", "--rows", "10000", "--no-write"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    started = [
        line for line in done.stdout.splitlines() if line.startswith("[bench] ") and "..." in line
    ]
    assert [line.split()[1] for line in started] == ["loader", "validation", "dag_parse"]
    figures = [line for line in done.stdout.splitlines() if " | floor " in line]
    assert len(figures) >= 4, done.stdout
    assert not (tmp_path / "home" / "docs").exists()
