"""Airflow 3 plugin: the VAWG reports in the Airflow UI (menu "VAWG reports").

Mounts vawg_warehouse.outputs.airflow_ui's FastAPI app on the API server at /vawg (the measures
scorecard, the run reports, each run's Data Docs, the dbt docs) behind Airflow's own login: a
request needs a user allowed to see the Airflow UI. The menu entries open those pages inside the
UI. Requires Airflow 3.1+ (fastapi_apps, external_views).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from vawg_warehouse.outputs.airflow_ui import EXTERNAL_VIEWS, URL_PREFIX, create_app


def _requires_airflow_login():
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import requires_access_view

    return requires_access_view(AccessView.WEBSITE)


class VawgReportsPlugin(AirflowPlugin):
    name = "vawg_reports"
    fastapi_apps = [
        {
            "app": create_app(auth=_requires_airflow_login()),
            "url_prefix": URL_PREFIX,
            "name": "VAWG reports",
        }
    ]
    external_views = EXTERNAL_VIEWS
