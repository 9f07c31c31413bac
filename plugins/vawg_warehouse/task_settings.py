"""A task's settings: the environment's, with the warehouse (and the pseudonym key) taken from
Airflow connections when the deployment defines them. Airflow is imported only here, and only
when a task asks."""

from __future__ import annotations

import dataclasses
import os

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest.privacy import KEY_ENV

WAREHOUSE_CONN_ID = "vawg_warehouse"
PSEUDONYM_CONN_ID = "vawg_pseudonym_key"


def settings_for_task() -> Settings:
    """Settings, with the warehouse taken from the Airflow connection when one is defined.

    Outside Airflow (CLI, tests) the environment alone decides.
    """
    settings = get_settings()
    try:
        from airflow.sdk import Connection

        conn = Connection.get(WAREHOUSE_CONN_ID)
    except Exception:  # noqa: BLE001 - no Airflow, or no such connection: use the environment
        return settings
    url = conn.get_uri().replace("postgres://", "postgresql://", 1)
    if not os.environ.get(KEY_ENV):
        try:
            key_conn = Connection.get(PSEUDONYM_CONN_ID)
            if key_conn.password:
                os.environ[KEY_ENV] = key_conn.password
        except Exception:  # noqa: BLE001 - the key may come from the environment instead
            pass
    return dataclasses.replace(settings, external_warehouse_url=url)
