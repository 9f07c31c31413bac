"""The heavy libraries of the tasks, imported once by the process that forks the task processes.

On Linux both executors fork every task process from a long-lived parent: the LocalExecutor
forks its workers from the scheduler and each task from a worker; a Celery worker forks its pool
from its main process and each task from a pool process. A module imported in that parent is in
every task from the start. Without it, each validate task imported Great Expectations (about 7 s
of CPU), each dbt task dbt (about 3 s), and so on, in a fresh task process, every night.

Only third-party libraries are preloaded: they change only with a reinstall, which restarts the
stack. The project's own modules are still imported by each task, so a change to them is in the
next task without a restart (as the DAG files are).

Two hooks, each in the process that forks:

* ``vawg_warehouse.airflow_executors.LocalExecutor`` (``AIRFLOW__CORE__EXECUTOR``) preloads in
  the scheduler before it starts its workers;
* ``vawg_warehouse.airflow_executors.CELERY_CONFIG`` (``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS``)
  is Airflow's Celery configuration, with a ``worker_init`` handler that preloads in a worker's
  main process before its pool starts.

A library that fails to import is logged and skipped: the task that needs it fails with the real
error, in its own log, where the engineer looks.

Only the standard library here.
"""

from __future__ import annotations

import importlib
import logging
import time

log = logging.getLogger(__name__)

# The libraries the tasks import, the costliest first: validate and data_docs (Great
# Expectations), the dbt groups, freshness and docs (dbt), load (pyarrow), the publication check
# (SciPy), the scorecard (matplotlib).
PRELOADED = (
    "great_expectations",
    "dbt.cli.main",
    "pyarrow.csv",
    "pyarrow.compute",
    "scipy.optimize",
    "scipy.stats",
    "matplotlib.figure",
)


def preload(modules: tuple[str, ...] | None = None) -> dict[str, float]:
    """Import each module (default: PRELOADED); return the seconds each took (a module that
    failed to import is left out)."""
    seconds: dict[str, float] = {}
    for name in PRELOADED if modules is None else modules:
        started = time.perf_counter()
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the task that needs it reports the real error
            log.warning("task preload: %s not imported (%s); its tasks import it", name, exc)
            continue
        seconds[name] = time.perf_counter() - started
    log.info(
        "task preload: %d libraries in %.1f s (%s)",
        len(seconds),
        sum(seconds.values()),
        ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items()),
    )
    return seconds
