"""Settings read from the environment, in one place.

Every part of the project (loader, Great Expectations, the dbt profile, the Airflow connection,
the tests) asks this module where things are, so one environment variable re-points all of them.

| variable | meaning | default |
|---|---|---|
| ``VAWG_WAREHOUSE_URL`` | ``postgresql://`` URL of an external warehouse | the embedded server |
| ``VAWG_HOME`` | run-time state (embedded data, Airflow home, reports) | ``<project>/.vawg`` |
| ``VAWG_LANDING_DIR`` | where source systems drop their files | ``$VAWG_HOME/landing`` |
| ``VAWG_ARCHIVE_DIR`` | read-only copies of the files taken in (shared) | ``$VAWG_HOME/archive`` |
| ``VAWG_EMBEDDED_PORT`` | TCP port of the embedded server on 127.0.0.1 | ``55432`` |
| ``VAWG_PSEUDONYM_KEY`` | key of the HMAC that pseudonymises people | none (privacy.py) |
| ``VAWG_REPORTS_DIR`` | run reports and Data Docs for auditors | ``$VAWG_HOME/reports`` |
| ``VAWG_SETTLE_SECONDS`` | a landing file is taken once unchanged this long (settle.py) | ``2`` |
| ``VAWG_DONE_MARKER`` | a file is taken once ``<file><marker>`` exists, e.g. ``.done`` | none |
| ``VAWG_HOME_FORCE`` | the home force (seed ``forces``, forces.py) | recorded, or ``lancashire`` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_EMBEDDED_PORT = 55432
DEFAULT_SETTLE_SECONDS = 2.0
EMBEDDED_DATABASE = "vawg"
# The embedded server trusts local connections; a password is still given because the dbt profile
# (dbt_project/profiles.yml) reads VAWG_DB_PASSWORD and an Airflow connection URL carries one.
EMBEDDED_PASSWORD = "embedded"  # noqa: S105 - not a secret: the embedded server uses trust auth


def _project_root() -> Path:
    explicit = os.environ.get("VAWG_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    # plugins/vawg_warehouse/config.py -> the project root is two folders up.
    return PACKAGE_DIR.parent.parent


@dataclass(frozen=True)
class Settings:
    project_root: Path
    home: Path
    landing_dir: Path
    external_warehouse_url: str | None
    embedded_port: int
    # Like the landing folder, shared storage when tasks run on several workers (archive.py).
    archive_dir: Path
    reports_override: Path | None = None
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    done_marker: str | None = None

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    @property
    def dags_dir(self) -> Path:
        return self.project_root / "dags"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def embedded_data_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def reports_dir(self) -> Path:
        return self.reports_override or self.home / "reports"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def uses_embedded_warehouse(self) -> bool:
        return self.external_warehouse_url is None


PORT_FILE = "embedded.port"


def recorded_port(home: Path) -> int | None:
    """The port the embedded server of ``home`` was started on (it records it), so every command
    finds it without VAWG_EMBEDDED_PORT; None before it first started."""
    try:
        return int((home / PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def get_settings() -> Settings:
    """Read the settings afresh from the environment (never cached, so tests can re-point)."""
    root = _project_root()
    home = Path(os.environ.get("VAWG_HOME") or root / ".vawg").resolve()
    landing = Path(os.environ.get("VAWG_LANDING_DIR") or home / "landing").resolve()
    url = os.environ.get("VAWG_WAREHOUSE_URL") or None
    port = int(os.environ.get("VAWG_EMBEDDED_PORT") or recorded_port(home) or DEFAULT_EMBEDDED_PORT)
    reports = os.environ.get("VAWG_REPORTS_DIR")
    archive = Path(os.environ.get("VAWG_ARCHIVE_DIR") or home / "archive").resolve()
    settle = os.environ.get("VAWG_SETTLE_SECONDS")
    return Settings(
        project_root=root,
        home=home,
        landing_dir=landing,
        external_warehouse_url=url,
        embedded_port=port,
        reports_override=Path(reports).resolve() if reports else None,
        archive_dir=archive,
        settle_seconds=float(settle) if settle else DEFAULT_SETTLE_SECONDS,
        done_marker=os.environ.get("VAWG_DONE_MARKER") or None,
    )
