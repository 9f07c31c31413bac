"""The deployment files keep secrets out: docker-compose.yml has none of its own (each comes from
.env, documented in .env.example), .env is neither committed nor copied into the image, and the
pipeline's login is never the warehouse owner's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"
INIT = ROOT / "deploy" / "init-databases.sh"
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


def _config(env_file: Path) -> subprocess.CompletedProcess:
    """`docker-compose config` with only ``env_file`` for secrets (none from our environment)."""
    env = {k: v for k, v in os.environ.items() if k not in _example()}
    return subprocess.run(
        [DOCKER_COMPOSE, "-f", str(COMPOSE), "--env-file", str(env_file), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_compose
def test_compose_is_valid_with_the_example_env_and_takes_every_secret_from_it(tmp_path) -> None:
    env_file = tmp_path / ".env"
    shutil.copy(EXAMPLE, env_file)
    done = _config(env_file)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    rendered = done.stdout
    for name, value in _example().items():
        assert value in rendered, f"{name} from .env is not used"

    def login(url: str) -> str:
        return re.match(r"postgresql://([^:]+):", url).group(1)

    for name, service in services.items():
        env = service.get("environment", {})
        if name == "vawg-migrate":
            assert login(env["VAWG_WAREHOUSE_URL"]) == "vawg_migrator"
            assert "VAWG_PSEUDONYM_KEY" not in env and "AIRFLOW_CONN_VAWG_WAREHOUSE" not in env
        elif name.startswith("airflow"):
            assert login(env["VAWG_WAREHOUSE_URL"]) == "vawg_loader"
            assert login(env["AIRFLOW_CONN_VAWG_WAREHOUSE"]) == "vawg_loader"
    assert "vawg-migrate" in services


@needs_compose
def test_compose_refuses_to_run_without_each_secret(tmp_path) -> None:
    example = EXAMPLE.read_text().splitlines()
    for name in _example():
        env_file = tmp_path / f"{name}.env"
        env_file.write_text("\n".join(line for line in example if not line.startswith(f"{name}=")))
        done = _config(env_file)
        assert done.returncode != 0, f"docker-compose config passed without {name}"
        assert name in done.stderr and "set it in .env" in done.stderr, done.stderr


def test_every_secret_is_a_required_variable_documented_in_the_example() -> None:
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert used == required, f"variables with a default: {sorted(used - required)}"
    assert used == set(_example()), (sorted(used - set(_example())), sorted(set(_example()) - used))
    # no password written into a URL or a setting
    assert not re.search(r"://[^:/\s]+:(?!\$\{)[^@\s]+@", text)
    assert not re.search(r"^\s*[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*:\s*(?!\$\{)\S", text, re.M)
    assert "password '" not in INIT.read_text()  # the init script takes them from the environment


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


def test_the_database_init_script_refuses_the_examples_passwords() -> None:
    env = {
        "PATH": os.environ["PATH"],
        "POSTGRES_USER": "postgres",
        **{k: v for k, v in _example().items() if k.endswith("_PASSWORD")},
    }
    done = subprocess.run(
        ["sh", str(INIT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 1
    assert "set AIRFLOW_DB_PASSWORD in .env" in done.stderr
