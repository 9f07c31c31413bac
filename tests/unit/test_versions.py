"""The version stamps: what changes them, what does not, and that they are cheap."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from vawg_warehouse import __version__, versions
from vawg_warehouse.config import get_settings


@pytest.fixture(autouse=True)
def _fresh_cache():
    versions.clear_cache()
    yield
    versions.clear_cache()


def _project(root: Path) -> Path:
    (root / "expectations" / "expectations").mkdir(parents=True)
    (root / "expectations" / "expectations" / "a.json").write_text('{"name": "a"}')
    (root / "expectations" / "expectations" / "b.json").write_text('{"name": "b"}')
    dbt = root / "dbt_project"
    (dbt / "models" / "marts").mkdir(parents=True)
    (dbt / "macros").mkdir()
    (dbt / "target").mkdir()
    (dbt / "dbt_project.yml").write_text("name: x\n")
    (dbt / "models" / "marts" / "m.sql").write_text("select 1 as one\n")
    (dbt / "macros" / "k.sql").write_text("{% macro k() %}1{% endmacro %}\n")
    (dbt / "target" / "manifest.json").write_text("{}")
    return root


def test_suite_versions_are_the_files_sha256_and_one_digest_over_them(tmp_path) -> None:
    suites = _project(tmp_path) / "expectations" / "expectations"
    listing = versions.suite_versions(suites)
    assert listing == {
        "a.json": hashlib.sha256(b'{"name": "a"}').hexdigest(),
        "b.json": hashlib.sha256(b'{"name": "b"}').hexdigest(),
    }
    lines = "".join(f"{n} {d}\n" for n, d in sorted(listing.items()))
    assert versions.suites_version(suites) == hashlib.sha256(lines.encode()).hexdigest()


def test_a_changed_rule_changes_the_suites_version(tmp_path) -> None:
    suites = _project(tmp_path) / "expectations" / "expectations"
    before = versions.suites_version(suites)
    (suites / "b.json").write_text('{"name": "b", "expectations": []}')
    versions.clear_cache()
    assert versions.suites_version(suites) != before


def test_dbt_version_follows_model_and_macro_files_not_target_or_timestamps(tmp_path) -> None:
    dbt = _project(tmp_path) / "dbt_project"
    first = versions.dbt_project_version(dbt)
    assert set(versions.dbt_project_files(dbt)) == {
        "dbt_project.yml",
        "models/marts/m.sql",
        "macros/k.sql",
    }
    # Build output and timestamps are not the project.
    (dbt / "target" / "manifest.json").write_text('{"changed": true}')
    os.utime(dbt / "models" / "marts" / "m.sql", (time.time() + 60, time.time() + 60))
    versions.clear_cache()
    assert versions.dbt_project_version(dbt) == first
    # A copy elsewhere (another worker's checkout) has the same version.
    copy = tmp_path / "copy"
    shutil.copytree(dbt, copy)
    assert versions.dbt_project_version(copy) == first
    # A macro change is a new version.
    (dbt / "macros" / "k.sql").write_text("{% macro k() %}2{% endmacro %}\n")
    versions.clear_cache()
    assert versions.dbt_project_version(dbt) != first


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


def test_code_version_is_the_package_version_plus_the_commit(tmp_path) -> None:
    root = _project(tmp_path / "p")
    assert versions.code_version(root) == __version__  # not a git checkout
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    versions.clear_cache()
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert versions.code_version(root) == f"{__version__}+g{head}"
    (root / "dbt_project" / "dbt_project.yml").write_text("name: y\n")
    versions.clear_cache()
    assert versions.code_version(root) == f"{__version__}+g{head}.dirty"


def test_current_versions_of_this_checkout_are_computed_once_per_process() -> None:
    """The second call reads the cache: no cached function runs again (its cost is a figure of
    `vawg bench`, not an assertion here)."""
    versions.clear_cache()
    settings = get_settings()
    first = versions.current(settings)
    cached = (
        versions.git_commit,
        versions.suite_versions,
        versions.dbt_project_files,
        versions.tool_versions,
    )
    misses = [f.cache_info().misses for f in cached]
    assert all(m >= 1 for m in misses), misses
    again = versions.current(settings)
    assert [f.cache_info().misses for f in cached] == misses
    assert first == again
    assert first.code.startswith(__version__)
    assert "force_crimes.json" in first.suites
    assert len(first.dbt_project_sha256) == 64 and len(first.suites_sha256) == 64
    assert first.tools["dbt"] and first.tools["great_expectations"]
