"""The one place that sets up a dbt invocation: project and profiles folder, the connection the
profile reads from the environment, and dbt's quiet defaults. The nightly groups, source
freshness, dbt docs, ``vawg asof``, ``vawg dbt-parse`` and the tests all call it.

Why dbt runs in process (``dbtRunner``), one invocation per group, and not through Cosmos
(astronomer-cosmos, which renders each dbt model as an Airflow task):

* the DAG's shape does not depend on the dbt project. The DAG file reads a few constants and
  parses in 0.05 s in a fresh process (docs/benchmarks.md); a DAG rendered from the project would
  parse the dbt project (or read its manifest) every time the scheduler parses the file, and
  would grow a task per model and per test (the project has about 1,200 data tests);
* no process per model: each group is one ``dbt build`` (or ``dbt test``) in the task's own
  process, on a manifest parsed once per process, partially from a cache (about a second), so a
  group costs dbt's own work and little more (the 12 measure marts at 1M rows: ``dbt build``
  0.97x the time of ``CREATE TABLE AS`` of their compiled SQL, docs/benchmarks.md);
* one decision per group (build, or only test, and why) is recorded in
  ``audit.dbt_group_build``, and every data test runs once per run, in its group.

Two ways to run: :func:`invoke` (in this process, through ``dbtRunner``; the environment is set
in ``os.environ``, as dbt reads it there) and :func:`run` (a ``dbt`` process, for work that must
not share this process's dbt state: an as-of build, a build as another login, a parse with a
fake connection).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.forces import HOME_FORCE_VARIABLE, home_force_code
from vawg_warehouse.warehouse import ConnectionInfo, connection_info

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

QUIET_DEFAULTS = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DBT_USE_COLORS": "False",  # plain text in the task logs
}


def dbt_executable() -> str:
    """The ``dbt`` of this Python environment (beside the interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def environment(
    settings: Settings | None = None, connection: ConnectionInfo | None = None
) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads, for ``connection`` (default: the
    warehouse of ``settings``), and dbt's quiet defaults."""
    connection = connection or connection_info(settings or get_settings())
    return {
        **QUIET_DEFAULTS,
        **connection.dbt_env(),
        HOME_FORCE_VARIABLE: home_force_code(),  # macro home_force (vawg_warehouse.forces)
    }


def arguments(
    command: str,
    args: Sequence[str] = (),
    settings: Settings | None = None,
    *,
    flags: Sequence[str] = (),
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> list[str]:
    """dbt's command line without the program: ``flags`` (global: ``--quiet``), the command
    (``"build"``, ``"docs generate"``), the project and profiles folder, where artefacts and logs
    go, then ``args``."""
    project = str((settings or get_settings()).dbt_project_dir)
    paths: list[str] = []
    if target_path is not None:
        paths += ["--target-path", str(target_path)]
    if log_path is not None:
        paths += ["--log-path", str(log_path)]
    return [
        *flags,
        *command.split(),
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        *paths,
        *args,
    ]


def invoke(
    command: str,
    args: Sequence[str] = (),
    settings: Settings | None = None,
    *,
    manifest: Any = None,
    flags: Sequence[str] = (),
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> dbtRunnerResult:
    """Run dbt in this process (``dbtRunner``, on ``manifest`` when given). dbt reads the
    profile's variables from os.environ: they are set there (the quiet defaults only if unset)."""
    from dbt.cli.main import dbtRunner

    settings = settings or get_settings()
    _release_at_exit()
    os.environ.update(connection_info(settings).dbt_env())
    os.environ[HOME_FORCE_VARIABLE] = home_force_code()  # macro home_force (vawg_warehouse.forces)
    for name, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)
    argv = arguments(
        command, args, settings, flags=flags, target_path=target_path, log_path=log_path
    )
    return dbtRunner(manifest=manifest).invoke(argv)


_released_by: int | None = None  # the process that registered _release (a fork clears atexit)
_forget: list[Callable[[], None]] = []  # what lets go of dbt objects kept by this package


def forget_at_exit(callback: Callable[[], None]) -> None:
    """Have ``callback`` let go of dbt objects this package keeps (the parsed manifest) when the
    process exits, before they are collected (see :func:`_release_at_exit`)."""
    _forget.append(callback)


def _release_at_exit() -> None:
    """Free dbt's locks when this process exits, once per process.

    dbt makes its locks from a ``spawn`` multiprocessing context (the manifest's, each adapter's
    connection lock): named POSIX semaphores that multiprocessing's resource tracker watches and
    that are unlinked when the lock object is freed or, at exit, by multiprocessing's own atexit
    hook. Airflow runs a task in a child it forks, clears the atexit hooks registered before the
    fork (multiprocessing's among them: the LocalExecutor's worker had imported it) and leaves by
    ``os._exit``, running only the hooks registered after. Nothing then frees dbt's locks and the
    resource tracker reports them at shutdown on the task's stderr ("There appear to be 3 leaked
    semaphore objects"), which Airflow logs at error level in every successful dbt task. This
    hook, registered after the fork, frees them: the adapters and the parsed manifest are let go
    and collected, and each lock's finaliser unlinks its semaphore and tells the tracker."""
    global _released_by
    if _released_by == os.getpid():
        return
    import atexit

    atexit.register(_release)
    _released_by = os.getpid()


def _release() -> None:
    import gc

    try:
        from dbt.adapters.factory import reset_adapters

        reset_adapters()
    except Exception:  # noqa: BLE001, S110 - at exit: nothing left to report to
        pass
    for callback in _forget:
        callback()
    gc.collect()


def run(
    command: str,
    args: Sequence[str] = (),
    settings: Settings | None = None,
    *,
    connection: ConnectionInfo | None = None,
    extra_env: Mapping[str, str] | None = None,
    flags: Sequence[str] = (),
    target_path: Path | None = None,
    log_path: Path | None = None,
    **subprocess_options: Any,
) -> subprocess.CompletedProcess:
    """Run dbt as a process, in the project folder, as ``connection`` (default: the warehouse
    of ``settings``). ``subprocess_options`` go to subprocess.run (capture_output, check ...)."""
    settings = settings or get_settings()
    env = {**os.environ, **environment(settings, connection), **(extra_env or {})}
    argv = arguments(
        command, args, settings, flags=flags, target_path=target_path, log_path=log_path
    )
    subprocess_options.setdefault("cwd", settings.dbt_project_dir)
    return subprocess.run([dbt_executable(), *argv], env=env, **subprocess_options)
