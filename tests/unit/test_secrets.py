"""Every placeholder of .env.example is refused by the component that uses it (issue 20).

The example is copied as it is into a compose configuration (``docker-compose config``); then,
one placeholder at a time (the others given random values), the checks the services run before
they start are run with that service's own environment: the database init scripts, the Airflow
containers' ``vawg check-secrets``, ``vawg migrate`` and ``vawg metabase``, the wrappers of Redis
and Metabase. Each placeholder must be refused by at least one of them. The pseudonymisation key
check refuses the example's key and every key the repository ever held.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import HANG_GUARD_SECONDS
from tests.unit.test_deployment import _example
from vawg_warehouse.ingest.privacy import KEY_ENV, PseudonymKeyError, resolve_key
from vawg_warehouse.secrets_check import placeholders

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"
DOCKER_COMPOSE = shutil.which("docker-compose")
# Where each service's check lives: the init scripts mounted into the PostgreSQL images.
INIT_SCRIPTS = {
    "warehouse-db": ROOT / "deploy" / "init-databases.sh",
    "airflow-db": ROOT / "deploy" / "init-metadata-db.sh",
}
# Services of the project's image that run `vawg check-secrets` (itself, or through vawg
# migrate / vawg metabase) before anything else.
CHECKED_BY_VAWG = ("airflow-init", "vawg-migrate", "metabase-setup")
# Services whose own command refuses first (a shell wrapper in docker-compose.yml).
WRAPPED = ("redis", "metabase")


def _placeholders() -> dict[str, str]:
    return {k: v for k, v in _example().items() if "change-me" in v}


def test_the_key_check_refuses_the_examples_key_and_keys_the_repository_held(monkeypatch):
    for published in (
        "change-me-a-random-key-of-at-least-32-characters",  # .env.example's, before issue 20
        "test-key-" + "0123456789abcdef" * 3,  # the tests' fixed key before issue 20
        "bench-key-" + "0123456789abcdef" * 3,  # the benchmarks'
        "change-me-" + "x" * 40,
    ):
        monkeypatch.setenv(KEY_ENV, published)
        with pytest.raises(PseudonymKeyError, match="published key"):
            resolve_key()
    monkeypatch.setenv(KEY_ENV, secrets.token_hex(32))
    assert len(resolve_key()) == 64


def test_vawg_check_secrets_names_every_placeholder_of_the_example() -> None:
    env = {"PATH": os.environ["PATH"], **_example()}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "vawg"), "check-secrets"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    assert done.returncode == 1
    for name in _placeholders():
        assert name in done.stdout
    assert "change-me-" not in done.stdout  # names, never values


def _services(env_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _example()}
    done = subprocess.run(
        [
            DOCKER_COMPOSE,
            "-f",
            str(COMPOSE),
            "--env-file",
            str(env_file),
            "--profile",
            "celery",
            "config",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=True,
    )
    return yaml.safe_load(done.stdout)["services"]


def _environment(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def _refuses(name: str, service: dict, env: dict[str, str]) -> bool:
    """Whether ``name``'s check, as the service runs it, stops it with ``env``."""
    if name in INIT_SCRIPTS:
        # A compose secret (/run/secrets/...) given to the service: a file of a random value.
        for variable, value in list(env.items()):
            if value.startswith("/run/secrets/"):
                handle = tempfile.NamedTemporaryFile("w", delete=False, suffix=".secret")  # noqa: SIM115
                with handle:
                    handle.write(secrets.token_hex(16))
                env[variable] = handle.name
        done = subprocess.run(
            ["sh", str(INIT_SCRIPTS[name])],
            env={"PATH": os.environ["PATH"], "POSTGRES_USER": "postgres", **env},
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
            check=False,
        )
        return done.returncode == 1 and "set " in done.stderr
    if name in CHECKED_BY_VAWG:
        return bool(placeholders(env))
    if name in WRAPPED:
        script = service.get("entrypoint") or service.get("command")
        assert script[:2] in (["sh", "-c"], ["/bin/sh", "-c"]), (name, script)
        done = subprocess.run(
            ["sh", "-c", script[2].replace("$$", "$")],
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
            check=False,
        )
        return done.returncode == 1  # (not refused: exec of a program not here, 127)
    return False


@pytest.mark.skipif(DOCKER_COMPOSE is None, reason="docker-compose is not installed")
def test_every_placeholder_of_the_example_is_refused_where_it_is_used(tmp_path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(EXAMPLE.read_text())
    services = _services(env_file)
    assert set(CHECKED_BY_VAWG) | set(WRAPPED) | set(INIT_SCRIPTS) <= set(services)
    assert "vawg check-secrets" in services["airflow-init"]["command"][-1]
    found = _placeholders()
    assert len(found) >= 13  # (the loader's password is a file now: not in .env.example)
    not_refused = []
    for variable, value in found.items():
        others = {v: secrets.token_hex(16) for k, v in found.items() if k != variable}
        refused_by = []
        for name, service in services.items():
            env = _environment(service)
            for placeholder, replacement in others.items():
                env = {k: v.replace(placeholder, replacement) for k, v in env.items()}
            if not any(value in v for v in env.values()):
                continue  # this service is not given the variable
            if _refuses(name, service, env):
                refused_by.append(name)
        if not refused_by:
            not_refused.append(variable)
    assert not not_refused, f"accepted by every service given it: {not_refused}"
