#!/usr/bin/env python3
"""Set up the environment and run the project: the README's two commands.

    python3 dev.py demo     sample data -> embedded PostgreSQL -> a real Airflow run -> the mart
    python3 dev.py test     the test suite (pytest); extra arguments go to pytest
    python3 dev.py test --fast   the fast tier: no Airflow run, nothing marked slow
    python3 dev.py lint     ruff (check, format), sqlfluff over the dbt SQL, mypy over the package
    python3 dev.py setup    only make or sync the environment

Needs only Python 3.11+. It makes a virtual environment in .venv from the lock file (uv.lock),
with uv installed into a small bootstrap environment of its own, so repeated calls are quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BOOTSTRAP = ROOT / ".vawg" / "bootstrap"
VENV = ROOT / ".venv"
UV_VERSION = "0.13.9"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(command: list[str], **kwargs) -> None:
    subprocess.run(command, check=True, **kwargs)


def bin_of(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before the venv exists
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]})")
    started = time.monotonic()
    uv = bin_of(BOOTSTRAP, "uv")
    if not uv.exists():
        say(f"installing uv {UV_VERSION} into {BOOTSTRAP.relative_to(ROOT)} ...")
        venv.EnvBuilder(with_pip=True, clear=True).create(BOOTSTRAP)
        run(
            [
                str(bin_of(BOOTSTRAP, "python")),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"uv=={UV_VERSION}",
            ]
        )
    say("syncing .venv with uv.lock (the first time installs about 190 packages) ...")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "UV_PYTHON": sys.executable}
    run([str(uv), "sync", "--frozen", "--quiet"], cwd=ROOT, env=env)
    say(f"environment ready in {time.monotonic() - started:.0f} s")


# What `python3 dev.py lint` runs, in order (the pre-commit hooks and .ci/run run the same).
SQL_PATHS = ["dbt_project/models", "dbt_project/macros", "dbt_project/tests"]
LINTERS = [
    ("ruff check", ["ruff", "check", "."]),
    ("ruff format", ["ruff", "format", "--check", "."]),
    ("sqlfluff", ["sqlfluff", "lint", *SQL_PATHS, "--processes", "2", "--disable-progress-bar"]),
    ("mypy", ["mypy"]),  # the files and options are in pyproject.toml ([tool.mypy])
]


def lint() -> int:
    """Run every linter (all of them, even after a failure); non-zero when any failed."""
    failed = []
    for name, (tool, *args) in LINTERS:
        started = time.monotonic()
        code = subprocess.call([str(bin_of(VENV, tool)), *args], cwd=ROOT)
        say(f"{name}: {'ok' if code == 0 else 'FAILED'} ({time.monotonic() - started:.0f} s)")
        if code != 0:
            failed.append(name)
    if failed:
        say(f"lint failed: {', '.join(failed)}")
        return 1
    say("lint clean")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup", "lint"):
        print(__doc__)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    if command == "lint":
        return lint()
    if command == "demo":
        return subprocess.call([str(bin_of(VENV, "vawg")), "demo", *rest], cwd=ROOT)
    if "--fast" in rest:
        rest = [a for a in rest if a != "--fast"] + ["-m", "not integration and not slow"]
    return subprocess.call([str(bin_of(VENV, "python")), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
