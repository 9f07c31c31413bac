"""The CeleryExecutor for `vawg airflow up`: its settings, its Redis broker and its workers.

``VAWG_AIRFLOW_EXECUTOR`` chooses the executor: ``LocalExecutor`` (the default: the scheduler
runs the tasks) or ``CeleryExecutor`` (the scheduler sends each task through a Redis broker to
``airflow celery worker`` processes). Any other value is an error that names the setting.

With the CeleryExecutor:

* the broker is ``VAWG_REDIS_URL`` (``redis://`` or ``rediss://``) when it is set; otherwise
  the stack starts Debian's ``redis-server`` itself, one more of its processes: bound to
  127.0.0.1 on a free port, a password generated once and kept owner-only in the stack's home
  (in its config file, never on a command line), nothing written to disk (no RDB, no AOF);
* the result backend is Airflow's metadata database (``db+postgresql+psycopg://``);
* ``VAWG_AIRFLOW_CELERY_WORKERS`` workers (default 2), each with a Celery hostname of its own
  (``vawg-worker-N@<host>``) and each recording that name as the hostname of the task instances
  it runs (``worker_hostname``), so the UI and the REST API say which worker ran a task;
  ``VAWG_AIRFLOW_WORKER_CONCURRENCY`` task processes each (default: the stack's parallelism
  shared among the workers, rounded up, at least 1). Workers serve no logs of their own: every
  process of the stack writes task logs to the one local folder the api-server reads.

Only the standard library at import: Airflow imports ``worker_hostname`` in every task.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

EXECUTOR_ENV = "VAWG_AIRFLOW_EXECUTOR"
REDIS_URL_ENV = "VAWG_REDIS_URL"
WORKERS_ENV = "VAWG_AIRFLOW_CELERY_WORKERS"
CONCURRENCY_ENV = "VAWG_AIRFLOW_WORKER_CONCURRENCY"
LOCAL, CELERY = "LocalExecutor", "CeleryExecutor"
EXECUTORS = (LOCAL, CELERY)
DEFAULT_WORKERS = 2
WORKER_PREFIX = "worker-"
REDIS = "redis"
# The variable each worker is started with: its name, read back by worker_hostname().
WORKER_NAME_ENV = "VAWG_CELERY_WORKER"
HOSTNAME_CALLABLE = "vawg_warehouse.airflow_celery.worker_hostname"
# Airflow's executor and Celery configuration with the tasks' libraries preloaded in the process
# that forks the task processes (vawg_warehouse.airflow_executors, which imports Airflow: named
# here, not imported).
LOCAL_EXECUTOR_CLASS = "vawg_warehouse.airflow_executors.LocalExecutor"
CELERY_CONFIG_OPTIONS = "vawg_warehouse.airflow_executors.CELERY_CONFIG"
REDIS_SERVER = "/usr/bin/redis-server"


class SettingError(ValueError):
    """A setting of the Celery stack with a value it cannot use (the message names it)."""


def executor() -> str:
    """``VAWG_AIRFLOW_EXECUTOR``: LocalExecutor (default) or CeleryExecutor (any case)."""
    raw = os.environ.get(EXECUTOR_ENV, "").strip()
    if not raw:
        return LOCAL
    for name in EXECUTORS:
        if raw.lower() == name.lower():
            return name
    raise SettingError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)}, not {raw!r}")


def _positive(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingError(f"{variable} must be a whole number of at least 1, not {raw!r}")
    return value


def worker_count() -> int:
    return _positive(WORKERS_ENV, DEFAULT_WORKERS)


def worker_concurrency(parallelism: int, workers: int) -> int:
    """Task processes per worker: the setting, else the parallelism shared out, rounded up."""
    return _positive(CONCURRENCY_ENV, max(1, -(-parallelism // workers)))


def worker_names(count: int) -> list[str]:
    return [f"{WORKER_PREFIX}{n}" for n in range(1, count + 1)]


def is_worker(name: str) -> bool:
    return name.startswith(WORKER_PREFIX) and name[len(WORKER_PREFIX) :].isdigit()


def celery_hostname(name: str) -> str:
    """The worker's Celery node name (``%h``: Celery puts the machine's host name there)."""
    return f"vawg-{name}@%h"


def _machine_name() -> str:
    """The host's canonical name, as Airflow's default hostname_callable finds it (socket's
    getfqdn() may answer ``localhost`` where the host name maps to 127.0.0.1)."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    return next((entry[3] for entry in found if entry[3]), name)


def worker_hostname() -> str:
    """Airflow's ``[core] hostname_callable`` in a worker: the machine's name with the worker's
    in front (``worker-1.host``), recorded as the hostname of each task instance it runs."""
    machine = _machine_name()
    name = os.environ.get(WORKER_NAME_ENV)
    return f"{name}.{machine}" if name else machine


def broker_url_setting() -> str | None:
    """``VAWG_REDIS_URL`` when set (checked to be a Redis URL), else None (the stack's own)."""
    raw = os.environ.get(REDIS_URL_ENV, "").strip()
    if not raw:
        return None
    scheme = urlsplit(raw).scheme
    if scheme not in ("redis", "rediss"):
        raise SettingError(f"{REDIS_URL_ENV} must be a redis:// or rediss:// URL, not {scheme}://")
    return raw


def redacted(url: str) -> str:
    """The URL with its password (if any) replaced by ***: what may be printed or logged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def celery_environment(
    metadata_sqlalchemy_url: str, broker_url: str, concurrency: int
) -> dict[str, str]:
    """The [celery] settings every component shares (scheduler, workers, api-server)."""
    return {
        "AIRFLOW__CORE__EXECUTOR": CELERY,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_sqlalchemy_url}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": CELERY_CONFIG_OPTIONS,
        # One task per free process: a long dbt task never holds a second one back in a queue.
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        # How many processes the scheduler uses to read task states: one on a small machine.
        "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
        # Airflow's default, said here so its start-up warning does not fill the logs.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
    }


def worker_command(airflow: str, name: str, concurrency: int) -> list[str]:
    return [
        airflow,
        "celery",
        "worker",
        "--celery-hostname",
        celery_hostname(name),
        "--concurrency",
        str(concurrency),
        # Two workers on one machine would both take the log server's port; the api-server
        # reads task logs from the local folder they all write to.
        "--skip-serve-logs",
    ]


def worker_environment(name: str) -> dict[str, str]:
    return {WORKER_NAME_ENV: name, "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def redis_server() -> str:
    """Debian's redis-server (the package of that name), else one on PATH."""
    if Path(REDIS_SERVER).exists():
        return REDIS_SERVER
    found = shutil.which("redis-server")
    if not found:
        raise SettingError(
            f"redis-server is not installed (Debian: apt-get install redis-server); or set "
            f"{REDIS_URL_ENV} to a Redis of your own"
        )
    return found


def redis_config(folder: Path, port: int, password: str) -> str:
    """The stack's own Redis: loopback only, a password, nothing kept on disk."""
    return "\n".join(
        [
            "bind 127.0.0.1",
            f"port {port}",
            "protected-mode yes",
            f"requirepass {password}",
            'save ""',
            "appendonly no",
            f"dir {folder}",
            "daemonize no",
            'logfile ""',
            "",
        ]
    )


def redis_port(config: Path) -> int | None:
    """The port a config file written by redis_config names."""
    try:
        for line in config.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "port":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def redis_url(port: int, password: str) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0"


def redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False
