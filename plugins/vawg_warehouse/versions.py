"""What produced a run: the versions that audit rows are stamped with.

* **code**: the package version, plus the git commit when the project is a git checkout
  (``0.1.0+g1a2b3c4d5e6f``; ``.dirty`` when tracked files differ from that commit).
* **suites**: sha256 of each Great Expectations suite file, and one sha256 over all of them
  (the sorted ``<file name> <sha256>`` lines), so a changed rule changes the suites version.
* **dbt project**: one sha256 over the files that define what dbt builds (``dbt_project.yml``,
  and every ``.sql``, ``.yml``, ``.yaml``, ``.csv`` and ``.md`` under models, seeds, macros,
  tests, snapshots and analyses), hashed as sorted ``<relative path> <sha256>`` lines: the
  same files give the same version on any machine, whatever their timestamps.
* **tools**: the installed versions of dbt-core, Great Expectations and Airflow, read from
  package metadata (no import of the tools themselves).

Each value is computed once per process and folder (``functools.cache``): a task pays a few
milliseconds once. Call :func:`clear_cache` where files may change under a long-lived process
(tests).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from vawg_warehouse import __version__
from vawg_warehouse.config import Settings, get_settings

DBT_FOLDERS = ("models", "seeds", "macros", "tests", "snapshots", "analyses")
DBT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md")
TOOLS = {"dbt": "dbt-core", "great_expectations": "great-expectations", "airflow": "apache-airflow"}


@dataclass(frozen=True)
class Versions:
    code: str
    suites_sha256: str
    dbt_project_sha256: str
    suites: dict[str, str]  # suite file name -> sha256
    tools: dict[str, str]  # tool -> installed version ("" when not installed)

    def as_dict(self) -> dict:
        return asdict(self)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest_of(listing: dict[str, str]) -> str:
    lines = "".join(f"{name} {digest}\n" for name, digest in sorted(listing.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


@cache
def git_commit(project_root: Path) -> str | None:
    """``<12-hex commit>`` or ``<commit>.dirty``; None when not a git checkout or no git."""
    if not (project_root / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(project_root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(project_root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}.dirty" if dirty else head


def code_version(project_root: Path | None = None) -> str:
    """The package version, with ``+g<commit>`` when the project is a git checkout."""
    root = project_root or get_settings().project_root
    commit = git_commit(root)
    return f"{__version__}+g{commit}" if commit else __version__


@cache
def suite_versions(suites_dir: Path) -> dict[str, str]:
    """sha256 of every suite file (``<dataset>.json``) in the folder, by file name."""
    return {p.name: _sha256(p) for p in sorted(suites_dir.glob("*.json"))}


def suites_version(suites_dir: Path) -> str:
    return _digest_of(suite_versions(suites_dir))


@cache
def dbt_project_files(project_dir: Path) -> dict[str, str]:
    """sha256 of each file that defines what dbt builds, by path relative to the project."""
    found: dict[str, str] = {}
    main = project_dir / "dbt_project.yml"
    if main.exists():
        found[main.name] = _sha256(main)
    for folder in DBT_FOLDERS:
        for path in sorted((project_dir / folder).rglob("*")):
            if path.is_file() and path.suffix in DBT_SUFFIXES:
                found[path.relative_to(project_dir).as_posix()] = _sha256(path)
    return found


def dbt_project_version(project_dir: Path) -> str:
    return _digest_of(dbt_project_files(project_dir))


@cache
def tool_versions() -> dict[str, str]:
    found = {}
    for tool, distribution in TOOLS.items():
        try:
            found[tool] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[tool] = ""
    return found


def current(settings: Settings | None = None) -> Versions:
    """The versions of this checkout: code, suites, dbt project, tools."""
    settings = settings or get_settings()
    suites_dir = settings.expectations_dir / "expectations"
    return Versions(
        code=code_version(settings.project_root),
        suites_sha256=suites_version(suites_dir),
        dbt_project_sha256=dbt_project_version(settings.dbt_project_dir),
        suites=dict(suite_versions(suites_dir)),
        tools=dict(tool_versions()),
    )


def clear_cache() -> None:
    for cached in (git_commit, suite_versions, dbt_project_files, tool_versions):
        cached.cache_clear()
