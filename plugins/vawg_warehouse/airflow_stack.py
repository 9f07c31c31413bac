"""`vawg airflow up|down|status`: Airflow as production runs it, on this machine.

Four processes, as ``docker-compose.yml`` starts them: ``api-server``, ``scheduler`` (with the
LocalExecutor), ``dag-processor`` and ``triggerer`` (it runs the DAG's deadline alert). Airflow's
metadata lives in a database of its own, ``airflow`` (``VAWG_AIRFLOW_METADATA_URL`` names another)
on the warehouse's server (the embedded one by default), created when missing and migrated by
``airflow db migrate``; the driver is psycopg 3, for both of Airflow's engines (the synchronous
and the asynchronous one), so nothing beyond ``uv.lock`` is needed (no asyncpg).

Sized for the machine: ``parallelism`` (how many task processes the LocalExecutor runs at once),
``max_active_tasks_per_dag`` and the ``default_pool``'s slots are ``VAWG_AIRFLOW_PARALLELISM``,
default the number of CPU cores (at least 2); one api-server worker; one DAG-parsing process;
small metadata connection pools. Airflow's default of 32 workers took 2 GB idle on 2 cores.

The processes belong to the command: each is started in a session of its own, its pid written to
``$VAWG_HOME/airflow_stack/run/<name>.pid`` and its output to ``$VAWG_HOME/airflow_stack/logs/``
(owner-only files); ``down`` stops exactly those processes (and their children: task processes),
after checking that each pid is still the Airflow process it wrote. The api-server's secret and
JWT key are generated once and kept owner-only in the stack's home, so every component (and every
task, which the api-server gives a token) shares them.

With ``VAWG_AIRFLOW_EXECUTOR=CeleryExecutor`` the scheduler sends the tasks to Celery workers
through Redis instead (vawg_warehouse.airflow_celery): the stack's own ``redis-server`` (unless
``VAWG_REDIS_URL`` names one) and ``VAWG_AIRFLOW_CELERY_WORKERS`` workers (default 2) are more of
its processes, with pid files and logs like the four above; ``down`` stops them too, Redis last.

The login is Airflow's simple auth manager (one admin, ``vawg``, its password generated once):
a local stack for one operator. The compose file uses the FAB auth manager, which ``uv.lock``
carries as well.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vawg_warehouse import airflow_celery as celery
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.private_files import write_private

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
USER = "vawg"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
METADATA_DATABASE = "airflow"
METADATA_URL_ENV = "VAWG_AIRFLOW_METADATA_URL"
PARALLELISM_ENV = "VAWG_AIRFLOW_PARALLELISM"
PORT_ENV = "VAWG_AIRFLOW_PORT"
DEFAULT_PORT = 8080
HOST = "127.0.0.1"
# The health endpoint's names for the components that report there.
HEALTH_NAMES = {
    "scheduler": "scheduler",
    "dag-processor": "dag_processor",
    "triggerer": "triggerer",
}


def stack_home(settings: Settings) -> Path:
    return settings.home / "airflow_stack"


def parallelism() -> int:
    """Task processes at once: VAWG_AIRFLOW_PARALLELISM, else the CPU cores (at least 2)."""
    raw = os.environ.get(PARALLELISM_ENV, "").strip()
    if raw:
        return max(1, int(raw))
    return max(2, os.cpu_count() or 2)


def port() -> int:
    return int(os.environ.get(PORT_ENV) or DEFAULT_PORT)


def metadata_url(settings: Settings) -> str:
    """``postgresql://`` URL of Airflow's metadata database (a database of its own)."""
    explicit = os.environ.get(METADATA_URL_ENV)
    if explicit:
        return explicit
    from vawg_warehouse.warehouse import connection_info

    return connection_info(settings).for_database(METADATA_DATABASE).url


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy through psycopg 3 (sync and async engines alike)."""
    scheme, rest = url.split("://", 1)
    if scheme not in ("postgresql", "postgres") and not scheme.startswith("postgresql+"):
        raise ValueError(f"{METADATA_URL_ENV} must be a postgresql:// URL, not {scheme}://")
    return f"postgresql+psycopg://{rest}"


def _secret(home: Path, name: str) -> str:
    """A random secret kept owner-only in the stack's home (made once)."""
    path = home / "secrets" / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    write_private(path, value + "\n")
    return value


def redis_config_file(settings: Settings) -> Path:
    return stack_home(settings) / "redis" / "redis.conf"


def broker_url(settings: Settings) -> str:
    """VAWG_REDIS_URL, else the stack's own Redis: its config written (owner-only) with a
    generated password and, unless that Redis is running, a free port."""
    given = celery.broker_url_setting()
    if given:
        return given
    home = stack_home(settings)
    password = _secret(home, "redis_password")
    config = redis_config_file(settings)
    port_ = celery.redis_port(config)
    if port_ is None or not _running(settings, celery.REDIS):
        taken = {port() + n for n in range(3)}  # the api-server's and the log servers' (up)
        port_ = celery.free_port(HOST)
        while port_ in taken:
            port_ = celery.free_port(HOST)
    folder = config.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(config, celery.redis_config(folder, port_, password))
    return celery.redis_url(port_, password)


def stack_environment(
    settings: Settings, listen_port: int | None = None, broker: str | None = None
) -> dict[str, str]:
    """The variables every component of the stack (and so every task) runs with; with the
    CeleryExecutor, ``broker`` (default: broker_url()) is the Celery broker."""
    chosen = celery.executor()
    from vawg_warehouse.airflow_env import airflow_environment

    listen_port = listen_port or port()
    home = stack_home(settings)
    for folder in (home, home / "logs", home / "run"):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    workers = str(parallelism())
    database = sqlalchemy_url(metadata_url(settings))
    base_url = f"http://{HOST}:{listen_port}"
    executor_env = {"AIRFLOW__CORE__EXECUTOR": celery.LOCAL_EXECUTOR_CLASS}
    if chosen == celery.CELERY:
        executor_env = celery.celery_environment(
            database, broker or broker_url(settings), worker_concurrency()
        )
    return {
        **airflow_environment(settings),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": database,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "5",
        **executor_env,
        "AIRFLOW__CORE__PARALLELISM": workers,
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": workers,
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "1",
        "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": workers,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(listen_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": _secret(home, "api_secret_key"),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs" / "tasks"),
        # The log servers of the task runner and the triggerer: the API port's next two, not
        # Airflow's fixed 8793 and 8794, so two stacks on one machine do not take each other's
        # (a second stack's triggerer died at start-up on 8794).
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(listen_port + 1),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(listen_port + 2),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # A production stack carries the deadline alert (`vawg run` cannot: airflow_env.py).
        "VAWG_DEADLINE_ALERT": os.environ.get("VAWG_DEADLINE_ALERT", "on"),
    }


@dataclass(frozen=True)
class Component:
    name: str
    pid: int | None
    running: bool
    log: Path


def _pid_file(settings: Settings, name: str) -> Path:
    return stack_home(settings) / "run" / f"{name}.pid"


def _log_file(settings: Settings, name: str) -> Path:
    return stack_home(settings) / "logs" / f"{name}.log"


def _is_ours(pid: int, name: str) -> bool:
    """The pid is alive and is still the process we started as ``name`` (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True  # no /proc (not Linux): trust the pid file
    if not cmdline.strip():
        # For an instant after it was started (its exec under way) /proc shows no command line,
        # and `up` checks right after starting the last component: such a process is ours if it
        # is the leader of its own process group (start() makes each one so) and not a zombie.
        # (A zombie and a kernel thread show none either.)
        return _starting(pid)
    if name == celery.REDIS:  # redis-server renames itself "redis-server 127.0.0.1:port"
        return "redis-server" in cmdline
    if celery.is_worker(name):
        return "celery" in cmdline and f"vawg-{name}@" in cmdline
    # The api-server renames itself "airflow api_server -- host:... port:...".
    return "airflow" in cmdline and (name in cmdline or name.replace("-", "_") in cmdline)


def _starting(pid: int) -> bool:
    """The process is alive, not a zombie, and leads its own process group."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state, _parent, group = stat[stat.rindex(")") + 2 :].split()[:3]
    return state not in ("Z", "X", "x") and int(group) == pid


def _running(settings: Settings, name: str) -> bool:
    try:
        pid = int(_pid_file(settings, name).read_text().strip())
    except (OSError, ValueError):
        return False
    return _is_ours(pid, name)


def _celery_names(settings: Settings) -> list[str]:
    """The Celery processes this stack started (their pid files): workers by number, Redis."""
    run = stack_home(settings) / "run"
    found = [p.stem for p in run.glob("*.pid")] if run.is_dir() else []
    workers = sorted((n for n in found if celery.is_worker(n)), key=lambda n: int(n.split("-")[1]))
    return workers + ([celery.REDIS] if celery.REDIS in found else [])


def components(settings: Settings | None = None) -> list[Component]:
    """The four Airflow components, then the Celery workers and Redis this stack started."""
    settings = settings or get_settings()
    found = []
    for name in [*COMPONENTS, *_celery_names(settings)]:
        pid = None
        try:
            pid = int(_pid_file(settings, name).read_text().strip())
        except (OSError, ValueError):
            pass
        running = pid is not None and _is_ours(pid, name)
        found.append(Component(name, pid, running, _log_file(settings, name)))
    return found


def worker_concurrency() -> int:
    return celery.worker_concurrency(parallelism(), celery.worker_count())


def _airflow() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def ensure_metadata_database(settings: Settings) -> None:
    """Create Airflow's metadata database when it is missing (the login must be allowed to)."""
    import psycopg
    from psycopg import sql

    from vawg_warehouse.warehouse import ConnectionInfo

    info = ConnectionInfo.from_url(metadata_url(settings))
    with psycopg.connect(info.for_database("postgres").url, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (info.dbname,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(info.dbname)))


def size_pools(settings: Settings, slots: int) -> None:
    """The default pool's slots (Airflow sets them only when it creates the pool)."""
    import psycopg

    from vawg_warehouse.warehouse import ConnectionInfo

    info = ConnectionInfo.from_url(metadata_url(settings))
    with psycopg.connect(info.url, autocommit=True) as conn:
        conn.execute("update slot_pool set slots = %s where pool = 'default_pool'", (slots,))


def migrate_metadata(env: dict[str, str], settings: Settings) -> None:
    log = _log_file(settings, "db-migrate")
    with _private_log(log) as out:
        subprocess.run(
            [_airflow(), "db", "migrate"], env=env, stdout=out, stderr=subprocess.STDOUT, check=True
        )


def _private_log(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, "a")


def _command(env: dict[str, str], settings: Settings, name: str) -> list[str]:
    if name == celery.REDIS:
        return [celery.redis_server(), str(redis_config_file(settings))]
    if celery.is_worker(name):
        return celery.worker_command(
            _airflow(), name, int(env["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
        )
    command = [_airflow(), name]
    if name == "api-server":
        command += ["--host", env["AIRFLOW__API__HOST"], "--port", env["AIRFLOW__API__PORT"]]
    return command


def start(env: dict[str, str], settings: Settings, names: list[str] | None = None) -> None:
    """Start each of ``names`` (default: the four components) that is not running."""
    for name in names or list(COMPONENTS):
        if _running(settings, name):
            continue
        extra = celery.worker_environment(name) if celery.is_worker(name) else {}
        with _private_log(_log_file(settings, name)) as out:
            process = subprocess.Popen(
                _command(env, settings, name),
                env={**env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: down stops its children too
                cwd=stack_home(settings),
            )
        write_private(_pid_file(settings, name), f"{process.pid}\n")


def wait_redis(url: str, settings: Settings, timeout: float = 30.0) -> None:
    """Wait until the broker answers a PING (with its password)."""
    deadline = time.monotonic() + timeout
    while not celery.redis_ping(url):
        if _pid_file(settings, celery.REDIS).exists() and not _running(settings, celery.REDIS):
            raise RuntimeError(f"redis-server stopped (log: {_log_file(settings, celery.REDIS)})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis not answering after {timeout:.0f} s: {celery.redacted(url)}")
        time.sleep(0.2)


def health(base_url: str) -> dict | None:
    try:
        with urllib.request.urlopen(  # noqa: S310 - the local api-server
            f"{base_url}/api/v2/monitor/health", timeout=5
        ) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def all_healthy(report: dict | None) -> bool:
    if not report:
        return False
    if (report.get("metadatabase") or {}).get("status") != "healthy":
        return False
    return all((report.get(key) or {}).get("status") == "healthy" for key in HEALTH_NAMES.values())


def wait_healthy(base_url: str, settings: Settings, timeout: float = 300.0) -> dict:
    """Wait until the api-server answers and reports every component healthy."""
    deadline = time.monotonic() + timeout
    while True:
        report = health(base_url)
        if all_healthy(report):
            return report or {}
        stopped = [c.name for c in components(settings) if not c.running]
        if stopped:
            raise RuntimeError(
                f"Airflow component(s) stopped: {', '.join(stopped)} (logs in "
                f"{stack_home(settings) / 'logs'})"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"Airflow not healthy after {timeout:.0f} s: {report}")
        time.sleep(2)


def password(settings: Settings) -> str | None:
    try:
        data = json.loads((stack_home(settings) / PASSWORDS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data.get(USER)


def _stop_all(settings: Settings, chosen: list[Component], timeout: float) -> list[str]:
    stopped = []
    for component in chosen:
        if component.running and component.pid is not None:
            try:
                os.killpg(component.pid, signal.SIGTERM)
            except OSError:
                pass
            stopped.append(component.name)
    deadline = time.monotonic() + timeout
    for component in chosen:
        if component.pid is None:
            continue
        while _is_ours(component.pid, component.name) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _is_ours(component.pid, component.name):
            try:
                os.killpg(component.pid, signal.SIGKILL)
            except OSError:
                pass
        _pid_file(settings, component.name).unlink(missing_ok=True)
    return stopped


def stop(settings: Settings | None = None, timeout: float = 30.0) -> list[str]:
    """Stop the processes this stack started (their process groups), Redis last (the workers
    and the scheduler talk to it until they stop); returns their names."""
    settings = settings or get_settings()
    found = components(settings)
    first = [c for c in found if c.name != celery.REDIS]
    last = [c for c in found if c.name == celery.REDIS]
    return _stop_all(settings, first, timeout) + _stop_all(settings, last, timeout)


def wait_workers(settings: Settings, names: list[str], timeout: float = 120.0) -> None:
    """Wait until each Celery worker says in its log that it is ready (connected to the broker
    and consuming)."""
    deadline = time.monotonic() + timeout
    waiting = list(names)
    while waiting:
        for name in list(waiting):
            try:
                text = _log_file(settings, name).read_text(errors="replace")
            except OSError:
                text = ""
            if f"vawg-{name}@" in text and " ready." in text:
                waiting.remove(name)
            elif not _running(settings, name):
                raise RuntimeError(f"Celery {name} stopped (log: {_log_file(settings, name)})")
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"Celery {', '.join(waiting)} not ready after {timeout:.0f} s")
        if waiting:
            time.sleep(1)


def up(settings: Settings | None = None, say=print, timeout: float = 300.0) -> int:
    """Warehouse up and migrated, metadata database made and migrated, the four components
    (and with the CeleryExecutor Redis and the workers) started and healthy; prints where and
    how to log in."""
    from vawg_warehouse.ingest.privacy import KEY_ENV, demo_key
    from vawg_warehouse.orchestration import prepare_warehouse

    settings = settings or get_settings()
    try:  # the settings first: a wrong one is said before anything starts
        chosen = celery.executor()
        workers = celery.worker_names(celery.worker_count()) if chosen == celery.CELERY else []
        concurrency = worker_concurrency() if workers else 0
        given_broker = celery.broker_url_setting() if workers else None
    except celery.SettingError as exc:
        say(f"error: {exc}")
        return 2
    if settings.uses_embedded_warehouse and not os.environ.get(KEY_ENV):
        demo_key(settings)  # the local demo only; a real deployment sets the key
    prepare_warehouse(settings)
    ensure_metadata_database(settings)
    broker = (given_broker or broker_url(settings)) if workers else None
    env = {**os.environ, **stack_environment(settings, broker=broker)}
    base_url = env["AIRFLOW__API__BASE_URL"]
    # (a stack of this home already running holds its own ports: `up` starts what is missing)
    ours = any(component.running for component in components(settings))
    taken = [] if ours else ports_in_use(stack_ports(env))
    if taken:
        say(
            f"error: port(s) {', '.join(map(str, taken))} on {HOST} already in use: the stack "
            f"takes {PORT_ENV} ({env['AIRFLOW__API__PORT']}) and the two after it (log servers); "
            f"choose another {PORT_ENV}, or stop what holds them (vawg airflow status)"
        )
        return 1
    try:
        if broker:
            if not given_broker:
                say(f"starting redis-server (127.0.0.1, {celery.redacted(broker)}) ...")
                start(env, settings, [celery.REDIS])
            wait_redis(broker, settings)
        say(f"airflow db migrate ({metadata_url_redacted(settings)}) ...")
        migrate_metadata(env, settings)
        slots = parallelism()
        size_pools(settings, slots)
        detail = f"{chosen}, parallelism {slots}"
        if workers:
            detail += f"; {len(workers)} Celery workers of {concurrency} task processes each"
        say(f"starting {', '.join([*COMPONENTS, *workers])} ({detail}) ...")
        start(env, settings, [*COMPONENTS, *workers])
        wait_healthy(base_url, settings, timeout)
        wait_workers(settings, workers, timeout)
    except (RuntimeError, celery.SettingError) as exc:
        say(f"error: {exc}")
        return 1
    say(f"Airflow: {base_url}")
    say(f"login: user {USER}, password {password(settings) or '(see the api-server log)'}")
    if broker:
        say(f"Celery broker: {celery.redacted(broker)}; results in the metadata database")
    say(f"logs and pid files: {stack_home(settings) / 'logs'}, {stack_home(settings) / 'run'}")
    say("stop it with: vawg airflow down")
    return 0


def stack_ports(env: dict[str, str]) -> list[int]:
    """The ports the stack listens on: the api-server's and the two log servers'."""
    return [
        int(env[key])
        for key in (
            "AIRFLOW__API__PORT",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
        )
    ]


def ports_in_use(ports: list[int]) -> list[int]:
    """Those of ``ports`` something on this machine already listens on (at HOST or on all
    addresses), found by binding each as a component would."""
    taken = []
    for number in ports:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, number))
            except OSError:
                taken.append(number)
    return taken


def free_api_port() -> int:
    """A port for a stack's api-server (VAWG_AIRFLOW_PORT) that is free on this machine with
    the two after it, its log servers' (stack_ports): for a second stack beside another."""
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            number = probe.getsockname()[1]
        if number < 65533 and not ports_in_use([number, number + 1, number + 2]):
            return number


def metadata_url_redacted(settings: Settings) -> str:
    from vawg_warehouse.warehouse import ConnectionInfo

    return ConnectionInfo.from_url(metadata_url(settings)).redacted()
