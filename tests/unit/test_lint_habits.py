"""The lint habits: one command (``python3 dev.py lint``) that CI runs before the tests and the
pre-commit hooks run too, with local hooks only (no hook repository is fetched)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_runs_lint_before_the_tests() -> None:
    commands = [
        line.split("#")[0].strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("python3 dev.py")
    ]
    assert "python3 dev.py lint" in commands
    lint = commands.index("python3 dev.py lint")
    assert any(c.startswith("python3 dev.py test") for c in commands[lint + 1 :]), commands


def test_lint_runs_ruff_sqlfluff_and_mypy_over_the_dbt_sql_and_the_package() -> None:
    linters = {name: command for name, command in _dev().LINTERS}
    tools = [command[0] for command in linters.values()]
    assert tools == ["ruff", "ruff", "sqlfluff", "mypy"]
    assert linters["ruff format"][1:3] == ["format", "--check"]
    assert {"dbt_project/models", "dbt_project/macros", "dbt_project/tests"} <= set(
        linters["sqlfluff"]
    )
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'(?m)^files = \["plugins/vawg_warehouse"\]', pyproject)
    assert re.search(r"(?m)^dialect = postgres$", (ROOT / ".sqlfluff").read_text())


def test_pre_commit_runs_the_same_tools_as_local_hooks() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert all(hook["language"] == "system" for hook in hooks)
    entries = " ".join(hook["entry"] for hook in hooks)
    for tool in ("ruff check", "ruff format --check", "sqlfluff lint", "mypy"):
        assert f".venv/bin/{tool}" in entries, tool
