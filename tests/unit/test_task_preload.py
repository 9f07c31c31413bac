"""The tasks' libraries, imported once by the process that forks the task processes: the
preload itself, the LocalExecutor that runs it before forking its workers, and the Celery
configuration whose worker_init handler runs it in a worker's main process."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

import pytest
from airflow.configuration import conf
from airflow.executors.executor_loader import ExecutorLoader, ExecutorName
from airflow.executors.local_executor import LocalExecutor as AirflowLocalExecutor

from vawg_warehouse import airflow_celery, airflow_executors, task_preload

# Standard-library modules nothing in the suite imports, so the test sees them arrive.
UNUSED = ("colorsys", "sndhdr")


def _not_imported(name: str) -> None:
    sys.modules.pop(name, None)


def test_preload_imports_each_library_and_logs_one_that_fails_without_stopping(caplog) -> None:
    for name in UNUSED:
        _not_imported(name)
    with caplog.at_level(logging.INFO, logger=task_preload.__name__):
        seconds = task_preload.preload(("colorsys", "vawg_no_such_library", "sndhdr"))
    assert set(seconds) == set(UNUSED)
    assert all(s >= 0 for s in seconds.values())
    assert all(name in sys.modules for name in UNUSED)
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "vawg_no_such_library not imported" in warning[0].getMessage()
    assert "task preload: 2 libraries" in caplog.records[-1].getMessage()


def test_the_preloaded_libraries_are_installed_and_none_is_the_projects_own() -> None:
    """A library missing from the environment would be a warning at every start: each one named
    is importable here (found, not imported), and none is the project's (those change without a
    restart, so each task imports them itself)."""
    from importlib.util import find_spec

    assert task_preload.PRELOADED[0] == "great_expectations"  # the costliest: about 7 s
    for name in task_preload.PRELOADED:
        assert find_spec(name) is not None, name
        assert not name.startswith("vawg_"), name


def test_the_stacks_local_executor_is_airflows_and_preloads_before_forking_its_workers(
    monkeypatch, caplog
) -> None:
    name = ExecutorName(module_path=airflow_celery.LOCAL_EXECUTOR_CLASS)
    executor_cls, _ = ExecutorLoader.import_executor_cls(name)  # as the scheduler loads it
    assert executor_cls is airflow_executors.LocalExecutor
    assert issubclass(executor_cls, AirflowLocalExecutor)
    _not_imported("colorsys")
    monkeypatch.setattr(task_preload, "PRELOADED", ("colorsys",))
    executor = executor_cls(parallelism=1)
    with caplog.at_level(logging.INFO, logger=task_preload.__name__):
        executor.start()
    try:
        assert "colorsys" in sys.modules  # imported in this process, then the worker forked
        assert len(executor.workers) == 1
        assert all(p.is_alive() for p in executor.workers.values())
        pids = list(executor.workers)
        assert "task preload: 1 libraries" in caplog.records[-1].getMessage()
    finally:
        executor.end()
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]  # the worker is gone


def test_the_celery_configuration_is_airflows_own_with_a_preload_at_worker_init(
    monkeypatch, caplog
) -> None:
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
    from celery.signals import worker_init

    monkeypatch.setenv(
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS", airflow_celery.CELERY_CONFIG_OPTIONS
    )
    # as Airflow's Celery app reads it
    assert conf.getimport("celery", "celery_config_options") is DEFAULT_CELERY_CONFIG
    _not_imported("sndhdr")
    monkeypatch.setattr(task_preload, "PRELOADED", ("sndhdr",))
    frozen = gc.get_freeze_count()
    with caplog.at_level(logging.INFO, logger=task_preload.__name__):
        try:
            worker_init.send(sender=None)
            # what was loaded is out of the collector's way in the processes forked from it
            assert gc.get_freeze_count() > frozen
        finally:
            gc.unfreeze()
    assert "sndhdr" in sys.modules
    assert "task preload: 1 libraries" in caplog.records[-1].getMessage()
    with pytest.raises(AttributeError, match="CELERY_CONFIGURATION"):
        airflow_executors.CELERY_CONFIGURATION  # noqa: B018 - only CELERY_CONFIG is lazy
