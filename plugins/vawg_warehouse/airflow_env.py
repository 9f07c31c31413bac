"""The environment a local Airflow needs to run this project's DAGs against the warehouse.

Used by ``vawg run`` (which runs the DAG for one logical date as ``airflow dags test`` does) and
by the tests. A deployed Airflow (docker-compose.yml) sets the same variables itself.
"""

from __future__ import annotations

import os

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.private_files import FILE_MODE, private_folder
from vawg_warehouse.warehouse import connection_info

WAREHOUSE_CONN_ENV = "AIRFLOW_CONN_VAWG_WAREHOUSE"


def airflow_environment(settings: Settings | None = None) -> dict[str, str]:
    """Variables to add to os.environ for an Airflow process (no secrets but the DB password)."""
    settings = settings or get_settings()
    home = settings.airflow_home
    tmp = settings.home / "tmp"
    for folder in (home, tmp):
        private_folder(folder)  # 0700: Airflow's database, logs and the admin password inside
    for secret in ("airflow.db", "simple_auth_manager_passwords.json.generated"):
        if (home / secret).is_file():
            (home / secret).chmod(FILE_MODE)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.project_root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "TMPDIR": str(tmp),
        WAREHOUSE_CONN_ENV: connection_info(settings).url,
        "VAWG_HOME": str(settings.home),
        "VAWG_LANDING_DIR": str(settings.landing_dir),
        "VAWG_PROJECT_DIR": str(settings.project_root),
        # `airflow dags test` (how this runs the DAG) fails on Airflow 3.3.2 after a successful
        # run of a DAG with a deadline alert: leave it out here (vawg_warehouse.notify).
        "VAWG_DEADLINE_ALERT": "off",
    }
    return env


def with_airflow_environment(settings: Settings | None = None) -> dict[str, str]:
    """os.environ plus the Airflow variables: the environment for an ``airflow`` subprocess."""
    return {**os.environ, **airflow_environment(settings)}
