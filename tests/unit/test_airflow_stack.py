"""`vawg airflow up|down|status` (vawg_warehouse.airflow_stack): the environment its four
processes share, its pid files, and the compose file's matching sizes. The stack run for real is
tests/integration/test_real_scheduler.py."""

from __future__ import annotations

import contextlib
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.unit.test_deployment import EXAMPLE, _config, needs_compose
from vawg_warehouse import airflow_celery, airflow_stack
from vawg_warehouse.cli import build_parser
from vawg_warehouse.config import get_settings

SIZING = (
    "AIRFLOW__CORE__PARALLELISM",
    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG",
    "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG",
    "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT",
    "AIRFLOW__API__WORKERS",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES",
)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://u:pw@db.example:5432/vawg")
    monkeypatch.delenv(airflow_stack.METADATA_URL_ENV, raising=False)
    monkeypatch.setenv(airflow_stack.PARALLELISM_ENV, "2")
    return tmp_path / "home"


def test_the_stack_runs_the_local_executor_on_a_postgresql_metadata_database_of_its_own(
    home,
) -> None:
    env = airflow_stack.stack_environment(get_settings(), listen_port=8123)
    # Airflow's LocalExecutor, preloading the tasks' libraries (vawg_warehouse.airflow_executors)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "vawg_warehouse.airflow_executors.LocalExecutor"
    # psycopg 3 for both engines: no asyncpg needed (Airflow would derive +asyncpg otherwise)
    metadata = "postgresql+psycopg://u:pw@db.example:5432/airflow"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == metadata
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == metadata
    assert env["AIRFLOW_CONN_VAWG_WAREHOUSE"].endswith("@db.example:5432/vawg")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8123/execution/"
    # sized for 2 cores, not Airflow's 32 workers
    assert [env[k] for k in SIZING] == ["2", "2", "1", "2", "1", "1"]
    # a production stack keeps the deadline alert (`vawg run` leaves it out)
    assert env["VAWG_DEADLINE_ALERT"] == "on"
    # every component shares one api secret and one JWT key, kept owner-only
    again = airflow_stack.stack_environment(get_settings(), listen_port=8123)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == again["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert env["AIRFLOW__API__SECRET_KEY"] == again["AIRFLOW__API__SECRET_KEY"]
    for secret in (home / "airflow_stack" / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret


def test_the_metadata_database_can_be_named_and_must_be_postgresql(home, monkeypatch) -> None:
    monkeypatch.setenv(airflow_stack.METADATA_URL_ENV, "postgresql://a:b@h:6543/meta")
    env = airflow_stack.stack_environment(get_settings())
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg://a:b@h:6543/meta"
    with pytest.raises(ValueError, match="postgresql"):
        airflow_stack.sqlalchemy_url("sqlite:///x.db")


def test_the_cli_has_up_down_and_status() -> None:
    parser = build_parser()
    for action in ("up", "down", "status"):
        args = parser.parse_args(["airflow", action])
        assert args.airflow_command == action
    assert parser.parse_args(["airflow", "up", "--port", "8111"]).port == 8111


def test_down_stops_only_the_processes_it_started(home) -> None:
    settings = get_settings()
    run = home / "airflow_stack" / "run"
    run.mkdir(parents=True)
    # a pid file naming a process that is not an Airflow component (a reused pid): left alone
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name in ("scheduler", "worker-1", "redis"):
            (run / f"{name}.pid").write_text(f"{stranger.pid}\n")
        listed = airflow_stack.components(settings)
        assert [c.name for c in listed][-2:] == ["worker-1", "redis"]
        assert not [c for c in listed if c.running]
        assert airflow_stack.stop(settings, timeout=1) == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_a_component_just_started_is_running_a_dead_one_is_not() -> None:
    """Right after start() (its exec under way) /proc shows a component no command line: it is
    running if it leads its own process group and is not a zombie; `up` had taken the last
    component started for stopped, under load (a kernel thread has no command line either)."""
    leader = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    dead = subprocess.Popen(["true"], start_new_session=True)
    try:
        assert airflow_stack._starting(leader.pid)
        assert not airflow_stack._starting(2)  # kthreadd: no process group of its own
        while Path(f"/proc/{dead.pid}/stat").read_text().split(") ")[1][0] != "Z":
            time.sleep(0.05)  # exited, not yet reaped: a zombie with no command line
        assert Path(f"/proc/{dead.pid}/cmdline").read_bytes() == b""
        assert not airflow_stack._is_ours(dead.pid, "triggerer")
        assert not airflow_stack._is_ours(leader.pid, "triggerer")  # a command line, not ours
    finally:
        leader.kill()
        leader.wait()
        dead.wait()


@needs_compose
def test_compose_sizes_airflow_as_the_local_stack_does(tmp_path, monkeypatch) -> None:
    env_file = tmp_path / ".env"
    shutil.copy(EXAMPLE, env_file)
    done = _config(env_file)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    monkeypatch.setenv(airflow_stack.PARALLELISM_ENV, "2")
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://u:pw@h:5432/vawg")
    local = airflow_stack.stack_environment(get_settings())
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        env = services[name]["environment"]
        assert [str(env.get(k)) for k in SIZING] == [local[k] for k in SIZING], name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg://")


def test_two_stacks_on_one_machine_listen_on_ports_of_their_own(home, monkeypatch) -> None:
    """Airflow's log servers default to 8793 (task runner) and 8794 (triggerer) whatever the
    api-server's port: a second stack's triggerer died at start-up. Each stack takes its API
    port and the two after it, and `up` refuses, naming them, when one is held."""
    settings = get_settings()
    one = airflow_stack.stack_environment(settings, listen_port=18230)
    two = airflow_stack.stack_environment(settings, listen_port=18240)
    assert airflow_stack.stack_ports(one) == [18230, 18231, 18232]
    assert not set(airflow_stack.stack_ports(one)) & set(airflow_stack.stack_ports(two))
    with contextlib.ExitStack() as holding:
        while True:  # a port held here whose two below are free (other stacks may run beside)
            held = holding.enter_context(socket.socket())
            held.bind(("0.0.0.0", 0))  # noqa: S104 - on every address, as a log server binds
            held.listen()
            number = held.getsockname()[1]
            if number > 1025 and not airflow_stack.ports_in_use([number - 2, number - 1]):
                break
        assert airflow_stack.ports_in_use([number]) == [number]
        monkeypatch.setenv(airflow_stack.PORT_ENV, str(number - 2))  # its triggerer's port
        monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://u:pw@127.0.0.1:1/unused")
        said: list[str] = []
        monkeypatch.setattr("vawg_warehouse.orchestration.prepare_warehouse", lambda s: None)
        monkeypatch.setattr(airflow_stack, "ensure_metadata_database", lambda s: None)
        assert airflow_stack.up(get_settings(), say=said.append) == 1
    assert len(said) == 1 and f"port(s) {number} " in said[0] and "VAWG_AIRFLOW_PORT" in said[0]
    assert not (home / "airflow_stack" / "run" / "scheduler.pid").exists()  # nothing started


def test_a_free_api_port_has_its_two_log_server_ports_free_too() -> None:
    for _ in range(20):
        port = airflow_stack.free_api_port()
        assert 1024 < port < 65533
        assert airflow_stack.ports_in_use([port, port + 1, port + 2]) == []


# The CeleryExecutor's settings (vawg_warehouse.airflow_celery); its stack run for real is the
# triggered run of tests/integration/test_real_scheduler.py.
needs_redis = pytest.mark.skipif(
    not (Path(airflow_celery.REDIS_SERVER).exists() or shutil.which("redis-server")),
    reason="redis-server is not installed (Debian: apt-get install redis-server)",
)


@pytest.fixture
def celery_home(home, monkeypatch) -> Path:
    monkeypatch.setenv(airflow_celery.EXECUTOR_ENV, "CeleryExecutor")
    for name in (
        airflow_celery.REDIS_URL_ENV,
        airflow_celery.WORKERS_ENV,
        airflow_celery.CONCURRENCY_ENV,
    ):
        monkeypatch.delenv(name, raising=False)
    return home


def test_the_executor_is_local_by_default_and_a_bad_one_is_refused_before_anything_starts(
    home, monkeypatch
) -> None:
    monkeypatch.delenv(airflow_celery.EXECUTOR_ENV, raising=False)
    assert airflow_celery.executor() == "LocalExecutor"
    monkeypatch.setenv(airflow_celery.EXECUTOR_ENV, "celeryexecutor")
    assert airflow_celery.executor() == "CeleryExecutor"
    monkeypatch.setenv(airflow_celery.EXECUTOR_ENV, "KubernetesExecutor")
    with pytest.raises(airflow_celery.SettingError, match="VAWG_AIRFLOW_EXECUTOR"):
        airflow_stack.stack_environment(get_settings())
    said: list[str] = []
    # refused before the warehouse is touched (db.example does not exist) or anything starts
    assert airflow_stack.up(get_settings(), say=said.append) == 2
    assert said == [
        "error: VAWG_AIRFLOW_EXECUTOR must be one of LocalExecutor, CeleryExecutor, "
        "not 'KubernetesExecutor'"
    ]
    assert not (home / "airflow_stack" / "run").exists()


def test_celery_takes_the_redis_url_from_the_setting_and_keeps_results_in_the_metadata_db(
    celery_home, monkeypatch
) -> None:
    monkeypatch.setenv(airflow_celery.REDIS_URL_ENV, "redis://:s3cret@redis.example:6380/2")
    env = airflow_stack.stack_environment(get_settings(), listen_port=8123)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:s3cret@redis.example:6380/2"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == (
        "db+postgresql+psycopg://u:pw@db.example:5432/airflow"
    )
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "1"  # parallelism 2, two workers
    assert env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == (
        "vawg_warehouse.airflow_executors.CELERY_CONFIG"
    )
    # a broker of the operator's: the stack writes no Redis of its own
    assert not (celery_home / "airflow_stack" / "redis").exists()
    assert airflow_celery.redacted(env["AIRFLOW__CELERY__BROKER_URL"]) == (
        "redis://:***@redis.example:6380/2"
    )
    monkeypatch.setenv(airflow_celery.REDIS_URL_ENV, "amqp://guest@rabbit:5672//")
    with pytest.raises(airflow_celery.SettingError, match="VAWG_REDIS_URL"):
        airflow_stack.stack_environment(get_settings())


def test_workers_are_counted_and_sized_by_settings(celery_home, monkeypatch) -> None:
    assert airflow_celery.worker_names(airflow_celery.worker_count()) == ["worker-1", "worker-2"]
    assert airflow_celery.worker_concurrency(parallelism=2, workers=2) == 1
    assert airflow_celery.worker_concurrency(parallelism=4, workers=3) == 2
    monkeypatch.setenv(airflow_celery.CONCURRENCY_ENV, "3")
    assert airflow_celery.worker_concurrency(parallelism=2, workers=2) == 3
    for bad in ("0", "two"):
        monkeypatch.setenv(airflow_celery.WORKERS_ENV, bad)
        with pytest.raises(airflow_celery.SettingError, match="VAWG_AIRFLOW_CELERY_WORKERS"):
            airflow_celery.worker_count()
    command = airflow_celery.worker_command("airflow", "worker-2", 1)
    assert command[:3] == ["airflow", "celery", "worker"] and "--skip-serve-logs" in command
    assert command[command.index("--celery-hostname") + 1] == "vawg-worker-2@%h"
    assert airflow_celery.worker_environment("worker-2")["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == (
        airflow_celery.HOSTNAME_CALLABLE
    )
    # the machine's name as Airflow's default finds it, the worker's in front
    from airflow.utils.net import getfqdn

    monkeypatch.setenv(airflow_celery.WORKER_NAME_ENV, "worker-2")
    assert airflow_celery.worker_hostname() == f"worker-2.{getfqdn()}"


@needs_redis
def test_the_stacks_own_redis_keeps_its_password_out_of_logs_and_status(
    celery_home, capsys
) -> None:
    """Starts only the stack's redis-server (no Airflow): loopback, a free port, the password
    owner-only and never printed; `status` lists it, `down` stops it and removes its pid file."""
    settings = get_settings()
    broker = airflow_stack.broker_url(settings)
    secret = (celery_home / "airflow_stack" / "secrets" / "redis_password").read_text().strip()
    config = celery_home / "airflow_stack" / "redis" / "redis.conf"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert broker.startswith(f"redis://:{secret}@127.0.0.1:") and ":6379/" not in broker
    env = airflow_stack.stack_environment(settings, broker=broker)
    try:
        airflow_stack.start(env, settings, [airflow_celery.REDIS])
        airflow_stack.wait_redis(broker, settings)
        assert not airflow_celery.redis_ping(broker.replace(secret, "wrong"))
        args = build_parser().parse_args(["airflow", "status"])
        assert args.func(args) == 3  # redis runs, the four Airflow components do not
        shown = capsys.readouterr()
        assert "redis" in shown.out and "running (pid" in shown.out
        assert secret not in shown.out + shown.err
        log = celery_home / "airflow_stack" / "logs" / "redis.log"
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert "Ready to accept connections" in log.read_text()
        assert secret not in log.read_text()
    finally:
        assert airflow_stack.stop(settings, timeout=10) == ["redis"]
    assert not airflow_celery.redis_ping(broker)
    assert not (celery_home / "airflow_stack" / "run" / "redis.pid").exists()
