"""The reports in the Airflow UI: Airflow 3 loads plugins/vawg_reports_plugin.py, mounts its app
on the API server at /vawg behind Airflow's own login, and lists its menu entries. Checked with
Airflow's real API app (create_app) and auth manager, in a child process with a throwaway
AIRFLOW_HOME and metadata database (``airflow db migrate``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse.airflow_env import with_airflow_environment
from vawg_warehouse.config import get_settings

# `airflow db migrate` and Airflow's API app: the full suite, not the fast tier (README)
pytestmark = pytest.mark.slow

PROBE = r"""
import json
from airflow import plugins_manager
from airflow.api_fastapi.app import create_app, get_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from fastapi.testclient import TestClient

apps, _ = plugins_manager.get_fastapi_plugins()
client = TestClient(create_app("all"))
token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="auditor", role="viewer"))
auth = {"Authorization": f"Bearer {token}"}
out = {"apps": [[a["name"], a["url_prefix"]] for a in apps], "pages": {}, "anonymous": {}}
for path in ("/vawg/", "/vawg/reports/scorecard/index.html", "/vawg/reports/index.html",
             "/vawg/data-docs/", "/vawg/reports/data_docs/run-1/index.html",
             "/vawg/reports/dbt_docs/index.html"):
    r = client.get(path, headers=auth)
    out["pages"][path] = [r.status_code, r.text[:3000]]
    out["anonymous"][path] = client.get(path).status_code
plugins = client.get("/api/v2/plugins", headers=auth).json()["plugins"]
out["external_views"] = [
    [v["name"], v["href"], v.get("url_route")]
    for p in plugins if p["name"] == "vawg_reports" for v in p["external_views"]
]
print(json.dumps(out))
"""


def test_the_plugin_serves_the_reports_behind_airflows_login(tmp_path) -> None:
    reports = tmp_path / "reports"
    for relative, text in {
        "scorecard/index.html": "<html>the measures scorecard</html>",
        "index.html": "<html>run reports</html>",
        "data_docs/run-1/index.html": "<html>data docs of run-1</html>",
        "dbt_docs/index.html": "<html>dbt docs</html>",
    }.items():
        (reports / relative).parent.mkdir(parents=True, exist_ok=True)
        (reports / relative).write_text(text)
    home = tmp_path / "airflow"
    env = with_airflow_environment(get_settings())
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        VAWG_REPORTS_DIR=str(reports),
    )
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["apps"] == [["VAWG reports", "/vawg"]]
    assert set(out["anonymous"].values()) == {401}  # no Airflow login, no report
    pages = out["pages"]
    assert all(status == 200 for status, _ in pages.values()), pages
    assert "the measures scorecard" in pages["/vawg/reports/scorecard/index.html"][1]
    assert "data docs of run-1" in pages["/vawg/reports/data_docs/run-1/index.html"][1]
    assert "run-1" in pages["/vawg/data-docs/"][1]
    names = {name: (href, route) for name, href, route in out["external_views"]}
    assert set(names) == {"VAWG scorecard", "Run reports", "Data Docs", "dbt docs"}
    assert names["VAWG scorecard"][0] == "vawg/reports/scorecard/index.html"
