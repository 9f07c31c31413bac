"""The deployment files keep secrets out: docker-compose.yml has none of its own (each comes from
.env, documented in .env.example), .env is neither committed nor copied into the image, and the
pipeline's login is never the warehouse owner's. The stack is what production needs: Airflow 3's
four components after airflow-init, health checks, one JWT secret, separate metadata and
warehouse databases, Metabase as a BI login, a logs volume, and a CeleryExecutor profile."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse.airflow_celery import CELERY_CONFIG_OPTIONS, LOCAL_EXECUTOR_CLASS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"
INIT = ROOT / "deploy" / "init-databases.sh"
INIT_METADATA = ROOT / "deploy" / "init-metadata-db.sh"
PROFILES = (None, "celery")
AIRFLOW_COMPONENTS = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
DOCKER_COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose)",
)


def _example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {name.strip(): value.strip() for name, value in pairs}


def _config(env_file: Path, profile: str | None = None) -> subprocess.CompletedProcess:
    """`docker-compose config` with only ``env_file`` for secrets (none from our environment)."""
    env = {k: v for k, v in os.environ.items() if k not in _example()}
    profiles = ["--profile", profile] if profile else []
    return subprocess.run(
        [DOCKER_COMPOSE, "-f", str(COMPOSE), "--env-file", str(env_file), *profiles, "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )


@needs_compose
@pytest.mark.parametrize("profile", PROFILES)
def test_compose_is_valid_with_the_example_env_and_takes_every_secret_from_it(
    tmp_path, profile
) -> None:
    env_file = tmp_path / ".env"
    shutil.copy(EXAMPLE, env_file)
    done = _config(env_file, profile)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    rendered = done.stdout
    for name, value in _example().items():
        # (a path, such as the key's file, is rendered absolute)
        assert value.removeprefix("./") in rendered, f"{name} from .env is not used"

    def login(url: str) -> str:
        return re.match(r"[a-z+]+://([^:@]+)[:@]", url).group(1)

    for name, service in services.items():
        env = service.get("environment", {})
        if name == "vawg-migrate":
            assert login(env["VAWG_WAREHOUSE_URL"]) == "vawg_migrator"
            assert "VAWG_PSEUDONYM_KEY" not in env and "AIRFLOW_CONN_VAWG_WAREHOUSE" not in env
        elif name.startswith("airflow-") and name != "airflow-db":
            assert login(env["VAWG_WAREHOUSE_URL"]) == "vawg_loader"
            assert login(env["AIRFLOW_CONN_VAWG_WAREHOUSE"]) == "vawg_loader"
        elif name.startswith("metabase"):
            # Metabase sees the warehouse only as a BI login; never the pipeline's or the key.
            assert "VAWG_PSEUDONYM_KEY" not in env and "VAWG_WAREHOUSE_URL" not in env
            assert "vawg_loader" not in json.dumps(env)
    assert services["metabase-setup"]["environment"]["VAWG_METABASE_DB_USER"] == "vawg_metabase"
    assert "vawg-migrate" in services


@needs_compose
@pytest.mark.parametrize("profile", PROFILES)
def test_the_stack_is_airflow_3_with_init_ordering_health_checks_and_its_own_databases(
    tmp_path, profile
) -> None:
    env_file = tmp_path / ".env"
    text = EXAMPLE.read_text()
    if profile == "celery":
        text = text.replace(
            f"AIRFLOW_EXECUTOR={LOCAL_EXECUTOR_CLASS}", "AIRFLOW_EXECUTOR=CeleryExecutor"
        )
    env_file.write_text(text)
    done = _config(env_file, profile)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    airflow = {n: s for n, s in services.items() if n.startswith("airflow-") and n != "airflow-db"}
    assert set(AIRFLOW_COMPONENTS) <= set(airflow)
    executor = "CeleryExecutor" if profile == "celery" else LOCAL_EXECUTOR_CLASS
    jwt = {s["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for s in airflow.values()}
    assert len(jwt) == 1 and jwt != {""}, "api-server, scheduler and workers share one JWT secret"
    for name in (*AIRFLOW_COMPONENTS, "airflow-worker"):
        service = services[name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == executor
        # the tasks' libraries preloaded by the process that forks them, either executor
        assert env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == CELERY_CONFIG_OPTIONS
        assert "healthcheck" in service and service["healthcheck"]["test"], name
        assert (
            service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        )
        assert (
            service["depends_on"]["vawg-migrate"]["condition"] == "service_completed_successfully"
        )
        assert service["depends_on"]["airflow-db"]["condition"] == "service_healthy"
        assert any(
            v.endswith(":/opt/airflow/logs") or "/opt/airflow/logs" in str(v)
            for v in service["volumes"]
        ), f"{name} writes logs to the shared volume"
        assert "FabAuthManager" in env["AIRFLOW__CORE__AUTH_MANAGER"]  # not the dev-only auth
    assert services["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    # The metadata database is a server of its own: Airflow never reaches the warehouse's.
    metadata = services["airflow-apiserver"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@airflow-db:" in metadata and "warehouse-db" not in metadata
    assert "@warehouse-db:" in services["airflow-apiserver"]["environment"]["VAWG_WAREHOUSE_URL"]
    for name in ("airflow-db", "warehouse-db", "metabase", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["metabase"]["environment"]["MB_DB_HOST"] == "airflow-db"
    assert services["metabase-setup"]["depends_on"]["metabase"]["condition"] == "service_healthy"
    # Redis and the Celery workers belong to the celery profile only.
    assert services["redis"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    unprofiled = [n for n, s in services.items() if n not in ("redis", "airflow-worker")]
    assert all("profiles" not in services[n] for n in unprofiled)


@needs_compose
def test_compose_refuses_to_run_without_each_secret(tmp_path) -> None:
    example = EXAMPLE.read_text().splitlines()
    files = {}
    for name in _example():
        files[name] = tmp_path / f"{name}.env"
        files[name].write_text(
            "\n".join(line for line in example if not line.startswith(f"{name}="))
        )
    # one `docker-compose config` per secret, two at a time (each is a Python start-up)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done_by_name = dict(zip(files, pool.map(_config, files.values()), strict=True))
    for name, done in done_by_name.items():
        assert done.returncode != 0, f"docker-compose config passed without {name}"
        assert name in done.stderr and "set it in .env" in done.stderr, done.stderr


def test_every_secret_is_a_required_variable_documented_in_the_example() -> None:
    """Every variable must be in .env (``:?`` refuses it missing or empty; ``?``, for the alert
    settings that may be empty, refuses it missing)."""
    text = COMPOSE.read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))  # $${X}: the container's own
    required = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+):?\?", text))
    assert used == required, f"variables with a default: {sorted(used - required)}"
    assert used == set(_example()), (sorted(used - set(_example())), sorted(set(_example()) - used))
    # no password written into a URL or a setting
    assert not re.search(r"://[^:/\s]+:(?!\$\{)[^@\s]+@", text)
    # (a *_FILE variable is the path of a compose secret, not a secret)
    assert not re.search(
        r"^\s*(?![A-Z_]*_FILE:)[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*:\s*(?!\$\{)\S", text, re.M
    )
    for script in (INIT, INIT_METADATA):  # the init scripts take them from the environment
        assert "password '" not in script.read_text()


def test_dot_env_is_never_committed_nor_copied_into_the_image() -> None:
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    if shutil.which("git") and (ROOT / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "--quiet", ".env"], cwd=ROOT, check=False)
        assert ignored.returncode == 0, ".env is not in .gitignore"
        example = subprocess.run(
            ["git", "check-ignore", "--quiet", ".env.example"], cwd=ROOT, check=False
        )
        assert example.returncode == 1, ".env.example must not be ignored: it is committed"
    else:
        assert ".env" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.parametrize(
    ("script", "first"),
    [(INIT, "VAWG_MIGRATOR_PASSWORD"), (INIT_METADATA, "AIRFLOW_DB_PASSWORD")],
)
def test_the_database_init_scripts_refuse_the_examples_passwords(script, first) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "POSTGRES_USER": "postgres",
        **{k: v for k, v in _example().items() if k.endswith("_PASSWORD")},
    }
    done = subprocess.run(
        ["sh", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    assert done.returncode == 1
    assert f"set {first} in .env" in done.stderr


def test_the_images_code_is_roots_and_read_only_to_the_runtime_user() -> None:
    """Issue 20: the image's code was owned by the runtime user. Read from the Dockerfile (no
    Docker engine here to build it): the copy is root's, every write bit is taken off, only the
    state folder is airflow's, and the build step writes nothing into the code (dbt parse into
    /tmp)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    copies = re.findall(r"^COPY .*$", dockerfile, re.M)
    assert copies == ["COPY --chown=root:root . /opt/vawg"]
    assert "chmod -R a-w,a+rX /opt/vawg" in dockerfile
    assert "chown airflow:0 /opt/vawg/state" in dockerfile
    steps = dockerfile.split("\nUSER ")
    assert steps[-1].startswith("airflow"), "the image runs as airflow, not root"
    assert "--target-path /tmp/" in dockerfile and "--log-path /tmp/" in dockerfile


@needs_compose
def test_the_pseudonym_key_is_a_file_given_only_to_the_containers_that_run_tasks(tmp_path) -> None:
    """Issue 20: the key was in the environment of every Airflow container, the api-server that
    serves users included. Now it is a compose secret (a file, mounted at /run/secrets), given to
    the scheduler (LocalExecutor: it runs the tasks) and the Celery workers only."""
    env_file = tmp_path / ".env"
    env_file.write_text(EXAMPLE.read_text())
    done = _config(env_file, "celery")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert "pseudonym_key" in config["secrets"]
    holders = set()
    for name, service in config["services"].items():
        env = service.get("environment") or {}
        assert "VAWG_PSEUDONYM_KEY" not in env, name
        given = [s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])]
        if "pseudonym_key" in given:
            holders.add(name)
            assert env["VAWG_PSEUDONYM_KEY_FILE"] == "/run/secrets/pseudonym_key"
        else:
            assert "VAWG_PSEUDONYM_KEY_FILE" not in env, name
    assert holders == {"airflow-scheduler", "airflow-worker"}


@needs_compose
def test_the_loader_and_smtp_passwords_are_files_given_only_to_the_containers_that_need_them(
    tmp_path,
) -> None:
    """Issue 20: the pipeline login's password (in VAWG_WAREHOUSE_URL and the Airflow
    connection) and the SMTP password were in the environment of every Airflow container, the
    api-server that serves users included. Now each is a compose secret (a file under
    /run/secrets): the loader's for warehouse-db (its init script sets it) and the containers
    that run tasks; the SMTP password for those and the triggerer (the deadline alert). No
    environment variable of any service holds either."""
    env_file = tmp_path / ".env"
    env_file.write_text(EXAMPLE.read_text())
    done = _config(env_file, "celery")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert {"loader_password", "smtp_password"} <= set(config["secrets"])
    files = {"loader_password": set(), "smtp_password": set()}
    for name, service in config["services"].items():
        env = service.get("environment") or {}
        for variable, value in env.items():
            assert "LOADER_PASSWORD" not in variable or variable.endswith("_FILE"), name
            assert "SMTP_PASSWORD" not in variable or variable.endswith("_FILE"), name
            if isinstance(value, str) and "://" in value:  # no password written in a URL
                assert not re.search(r"://[^:/@]+:[^@]+@", value) or "vawg_loader" not in value
        given = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        for secret in files:
            if secret in given:
                files[secret].add(name)
    assert files["loader_password"] == {"warehouse-db", "airflow-scheduler", "airflow-worker"}
    assert files["smtp_password"] == {"airflow-scheduler", "airflow-worker", "airflow-triggerer"}
    services = config["services"]
    for name in ("airflow-scheduler", "airflow-worker"):
        env = services[name]["environment"]
        assert env["VAWG_WAREHOUSE_PASSWORD_FILE"] == "/run/secrets/loader_password"
        assert env["VAWG_ALERT_SMTP_PASSWORD_FILE"] == "/run/secrets/smtp_password"
    assert services["warehouse-db"]["environment"]["VAWG_LOADER_PASSWORD_FILE"] == (
        "/run/secrets/loader_password"
    )
    assert "VAWG_WAREHOUSE_PASSWORD_FILE" not in services["airflow-apiserver"]["environment"]


def test_the_code_reads_the_loader_and_smtp_passwords_from_their_files(
    tmp_path, monkeypatch
) -> None:
    from vawg_warehouse.notify import AlertSettings
    from vawg_warehouse.warehouse import WarehouseError, connection_info

    (tmp_path / "loader").write_text("s3cret-loader\n")
    (tmp_path / "smtp").write_text("s3cret-smtp\n")
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://vawg_loader@warehouse-db:5432/vawg")
    monkeypatch.setenv("VAWG_WAREHOUSE_PASSWORD_FILE", str(tmp_path / "loader"))
    monkeypatch.delenv("VAWG_ALERT_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("VAWG_ALERT_SMTP_PASSWORD_FILE", str(tmp_path / "smtp"))
    info = connection_info()
    assert (info.user, info.password) == ("vawg_loader", "s3cret-loader")
    assert AlertSettings.from_environment().smtp_password == "s3cret-smtp"
    monkeypatch.setenv("VAWG_WAREHOUSE_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(WarehouseError, match="VAWG_WAREHOUSE_PASSWORD_FILE") as refusal:
        connection_info()
    assert "s3cret" not in str(refusal.value)


def test_the_warehouse_init_script_reads_the_loader_password_from_its_file(tmp_path) -> None:
    """The loader's password reaches warehouse-db as a file too; a placeholder in it is
    refused like any other (psql is not reached: the script stops first)."""
    secret = tmp_path / "loader_password"
    secret.write_text("change-me-warehouse-loader\n")
    env = {
        "PATH": os.environ["PATH"],
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "a" * 20,
        "VAWG_MIGRATOR_PASSWORD": "b" * 20,
        "VAWG_METABASE_DB_PASSWORD": "c" * 20,
        "VAWG_LOADER_PASSWORD_FILE": str(secret),
    }
    done = subprocess.run(
        ["sh", str(INIT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "set VAWG_LOADER_PASSWORD in .env" in done.stderr
    env["VAWG_LOADER_PASSWORD_FILE"] = str(tmp_path / "missing")
    done = subprocess.run(
        ["sh", str(INIT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "VAWG_LOADER_PASSWORD_FILE cannot be read" in done.stderr
