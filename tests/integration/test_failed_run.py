"""A run that fails reads failed everywhere: the real DAG through `vawg run`, with a key too short.

Every extract's load fails at once (a wrong setting: no retries); the DAG's last step records the
outcome; then the console, the run report, the index of runs, `vawg status` and the scorecard's
header all say FAILED, the task and the cause, the scorecard that the data were not refreshed,
and one alert is sent for the one cause. A file that matches no contract is listed, not skipped.
Its own database and VAWG_HOME, apart from the shared good run of conftest.py.
"""

from __future__ import annotations

import html
import json
import os
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import create_database, drop_database
from tests.integration.conftest import query, vawg
from vawg_devtools.sample import generate
from vawg_warehouse.outputs.reports import run_page_path

pytestmark = pytest.mark.integration

RUN_DATE = date(2025, 3, 1)
STRAY = "ons/Domestic_abuse_prevalence_2024.xlsx"


class _Webhook:
    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vawg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def failed_run(server, tmp_path_factory):
    home = tmp_path_factory.mktemp("vawg_home_failed")
    landing = home / "landing"
    generate(landing, start=date(2025, 2, 1), end=date(2025, 2, 3), rows=60, seed=21)
    (landing / STRAY).parent.mkdir(parents=True, exist_ok=True)  # the sample's ONS files
    (landing / STRAY).write_bytes(b"PK not really a workbook")
    hook = _Webhook()
    database = create_database(server)  # last before the try that drops it: none left behind
    env = {
        **os.environ,
        "VAWG_HOME": str(home),
        "VAWG_LANDING_DIR": str(landing),
        "VAWG_WAREHOUSE_URL": database.url,
        "VAWG_PSEUDONYM_KEY": "too-short",
        "VAWG_ALERT_WEBHOOK_URL": hook.url,
    }
    env.pop("VAWG_ALERT_SMTP_HOST", None)
    try:
        run = vawg(env, "run", "--date", RUN_DATE.isoformat())
        status = vawg(env, "status")
        yield {
            "db": database,
            "home": home,
            "run": run,
            "status": status,
            "alerts": list(hook.received),
        }
    finally:
        hook.close()
        drop_database(database)


def _run_id(failed_run) -> str:
    ((run_id,),) = query(failed_run["db"], "select distinct dag_run_id from audit.run_outcome")
    return run_id


def test_the_run_fails_and_its_outcome_names_the_failed_loads(failed_run) -> None:
    assert failed_run["run"].returncode != 0, failed_run["run"].stdout[-3000:]
    ((state, tasks),) = query(failed_run["db"], "select state, failed_tasks from audit.run_outcome")
    assert state == "failed"
    loads = {t["task_id"]: t for t in tasks if t["task_id"].endswith(".load")}
    assert "extract_force.load" in loads
    assert all(t["error_class"] == "PseudonymKeyError" for t in loads.values())
    # A wrong setting fails at once: one try per load task, no retries.
    tries = query(
        failed_run["db"],
        "select task_id, max(try_number) from audit.task_failure where task_id like '%%.load' "
        "group by 1",
    )
    assert tries and all(n == 1 for _, n in tries)


def test_the_console_prints_the_failing_tasks_error_line(failed_run) -> None:
    printed = failed_run["run"].stdout + failed_run["run"].stderr
    assert "FAILED extract_force.load: PseudonymKeyError" in printed


def test_the_run_keeps_its_own_log_named_after_its_run_id(failed_run) -> None:
    from vawg_warehouse.outputs.reports import safe_name

    (log,) = (failed_run["home"] / "logs").glob("vawg_nightly_manual__*.log")
    assert log.name.startswith(f"vawg_nightly_{safe_name(_run_id(failed_run))}_")
    assert "PseudonymKeyError" in log.read_text(errors="replace")


def test_the_run_report_and_the_index_say_failed_with_task_and_cause(failed_run) -> None:
    reports = failed_run["home"] / "reports"
    page = html.unescape(run_page_path(reports, _run_id(failed_run)).read_text())
    assert "FAILED" in page and "extract_force.load" in page and "PseudonymKeyError" in page
    assert "OK: everything in" not in page
    assert STRAY in page  # unrecognised, listed
    index = html.unescape((reports / "index.html").read_text())
    assert "FAILED" in index and "PseudonymKeyError" in index


def test_vawg_status_says_failed_and_lists_the_unrecognised_file(failed_run) -> None:
    printed = failed_run["status"].stdout
    assert failed_run["status"].returncode == 0, failed_run["status"].stderr[-2000:]
    assert f"run {_run_id(failed_run)}: FAILED" in printed
    assert "FAILED task extract_force.load: PseudonymKeyError" in printed
    assert "the data were not refreshed" in printed
    assert f"UNRECOGNISED {STRAY}" in printed


def test_the_scorecard_header_says_the_data_were_not_refreshed(failed_run) -> None:
    page = html.unescape((failed_run["home"] / "reports" / "scorecard" / "index.html").read_text())
    header = page[page.index("<header>") : page.index("</header>")]
    assert "FAILED" in header and "the data were not refreshed" in header
    assert "No run on record refreshed them" in header


def test_one_alert_per_cause(failed_run) -> None:
    causes = query(failed_run["db"], "select distinct error_class, message from audit.task_failure")
    alerts = failed_run["alerts"]
    key_alerts = [a for a in alerts if "PseudonymKeyError" in a["facts"]["error"]]
    assert len(key_alerts) == 1, [a["title"] for a in alerts]
    assert len(alerts) == len(causes)
    assert all(a["facts"]["task"] not in ("watcher", "record_outcome") for a in alerts)
