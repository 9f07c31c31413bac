"""Airflow's two executors as `vawg airflow up` and the compose stack run them: each preloads
the tasks' libraries in the process that forks the task processes (vawg_warehouse.task_preload).

Airflow imports this module itself, by the paths in its settings:

* ``AIRFLOW__CORE__EXECUTOR=vawg_warehouse.airflow_executors.LocalExecutor``: Airflow's
  LocalExecutor, which preloads in the scheduler before it forks its workers;
* ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=vawg_warehouse.airflow_executors.CELERY_CONFIG``:
  Airflow's default Celery configuration (the same object, so nothing of it changes), with a
  ``worker_init`` handler that preloads in a Celery worker's main process before its pool
  starts. Celery is imported only when that setting is read (the module's ``__getattr__``), so
  the LocalExecutor's scheduler never imports it.
"""

from __future__ import annotations

import gc
from typing import Any

from airflow.executors.local_executor import LocalExecutor as _AirflowLocalExecutor

from vawg_warehouse.task_preload import preload


class LocalExecutor(_AirflowLocalExecutor):
    """Airflow's LocalExecutor; its workers (and so every task) start with the libraries in."""

    def start(self) -> None:
        preload()
        super().start()


def _preload_in_worker(**_: Any) -> None:
    preload()
    # As the LocalExecutor does before forking its workers: what is loaded now lives as long as
    # the worker, so the collector of every process forked from it leaves it alone (and so does
    # not touch, and copy, its pages).
    gc.freeze()


def __getattr__(name: str) -> Any:
    if name != "CELERY_CONFIG":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
    from celery.signals import worker_init

    worker_init.connect(_preload_in_worker, weak=False, dispatch_uid=__name__)
    return DEFAULT_CELERY_CONFIG
