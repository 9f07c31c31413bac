"""What operators get: alerts to a webhook or by email (to servers of the test's own on localhost),
dbt source freshness recorded and warned about but never failing, `vawg status` from the audit
schema, and the reports app the Airflow plugin mounts (files under the reports folder only)."""

from __future__ import annotations

import asyncio
import json
import socketserver
import threading
from datetime import time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import psycopg
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse import notify, status
from vawg_warehouse import orchestration as o
from vawg_warehouse.ingest.datasets import SOURCES
from vawg_warehouse.outputs import airflow_ui

# --------------------------------------------------------------------------------------------
# Alerts
# --------------------------------------------------------------------------------------------


class _Webhook:
    """A chat's incoming webhook: records each JSON body POSTed to it."""

    def __init__(self, status: int = 200):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                received.append((self.path, self.headers["Content-Type"], self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vawg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _Smtp(socketserver.ThreadingTCPServer):
    """Just enough of SMTP (RFC 5321) to accept one message and keep it."""

    allow_reuse_address = True

    def __init__(self):
        self.messages: list[bytes] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 localhost test SMTP\r\n")
                while line := self.rfile.readline():
                    verb = line.split(b" ", 1)[0].strip().upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250 localhost\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 end with .\r\n")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            body.append(data)
                        outer.messages.append(b"".join(body))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _failure_context(exception: Exception) -> dict:
    ti = SimpleNamespace(
        dag_id="vawg_nightly",
        task_id="extract_force.load",
        try_number=3,
        log_url="http://airflow.example/dags/vawg_nightly/runs/r1/tasks/extract_force.load",
    )
    return {
        "ti": ti,
        "dag_run": SimpleNamespace(run_id="scheduled__2025-10-01"),
        "exception": exception,
    }


def test_a_failed_task_is_posted_to_the_configured_webhook(migrated, monkeypatch) -> None:
    hook = _Webhook()
    try:
        monkeypatch.setenv("VAWG_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.delenv("VAWG_ALERT_SMTP_HOST", raising=False)
        error = o.BatchesFailed("load failed for batch 7 (force/crimes/crimes_2025-10-01.csv): X")
        notify.task_failed(_failure_context(error))
    finally:
        hook.close()
    ((path, content_type, body),) = hook.received
    payload = json.loads(body)
    assert path == "/hooks/vawg" and content_type == "application/json"
    assert payload["kind"] == "task_failed"
    assert payload["facts"]["task"] == "extract_force.load"
    assert payload["facts"]["run"] == "scheduled__2025-10-01" and payload["facts"]["try"] == "3"
    assert payload["facts"]["error"].startswith("BatchesFailed: load failed for batch 7")
    assert "extract_force.load" in payload["text"] and "log: http://airflow" in payload["text"]


def test_a_failed_task_is_emailed_through_the_configured_smtp_server(monkeypatch) -> None:
    server = _Smtp()
    try:
        settings = notify.AlertSettings(
            smtp_host="127.0.0.1",
            smtp_port=server.server_address[1],
            email_from="vawg-airflow@example.org",
            email_to=("data-team@example.org", "duty@example.org"),
        )
        alert = notify.task_failure_alert(_failure_context(RuntimeError("dbt group force")))
        assert notify.send(alert, settings) == ["email"]
    finally:
        server.shutdown()
        server.server_close()
    (message,) = server.messages
    assert b"Subject: VAWG warehouse: task extract_force.load failed" in message
    assert b"To: data-team@example.org, duty@example.org" in message


def test_an_alert_that_cannot_be_delivered_never_raises(migrated, monkeypatch, caplog) -> None:
    hook = _Webhook(status=500)
    try:
        monkeypatch.setenv("VAWG_ALERT_WEBHOOK_URL", hook.url)
        notify.task_failed(_failure_context(ValueError("x")))  # the task's failure stands alone
    finally:
        hook.close()
    assert "alert webhook failed" in caplog.text
    monkeypatch.delenv("VAWG_ALERT_WEBHOOK_URL")
    assert notify.send(notify.task_failure_alert(_failure_context(ValueError("y")))) == []


def test_the_marts_deadline_follows_the_configured_hour(monkeypatch) -> None:
    monkeypatch.delenv("VAWG_MARTS_FRESH_BY", raising=False)
    assert notify.deadline_after_schedule() == timedelta(hours=4, minutes=30)  # 02:30 -> 07:00
    monkeypatch.setenv("VAWG_MARTS_FRESH_BY", "09:15")
    assert notify.fresh_by() == time(9, 15)
    assert notify.deadline_after_schedule() == timedelta(hours=6, minutes=45)
    assert notify.deadline_after_schedule(due=time(1, 0)) == timedelta(hours=22, minutes=30)


def test_a_bad_alert_setting_is_a_warning_and_the_default_never_an_import_error(
    monkeypatch, caplog
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    monkeypatch.setenv("VAWG_MARTS_FRESH_BY", "7am")
    assert notify.fresh_by() == time(7, 0)
    assert "VAWG_MARTS_FRESH_BY='7am' is not HH:MM" in caplog.text
    dag_file = Path(__file__).resolve().parents[2] / "dags" / "vawg_nightly.py"
    env = {**__import__("os").environ, "VAWG_MARTS_FRESH_BY": "7am", "VAWG_DEADLINE_ALERT": "on"}
    parsed = subprocess.run(
        [sys.executable, "-c", f"import runpy; runpy.run_path({str(dag_file)!r})"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert parsed.returncode == 0, parsed.stderr[-2000:]


def test_one_alert_per_run_and_cause_with_links_under_the_base_url(migrated, monkeypatch):
    hook = _Webhook()
    try:
        monkeypatch.setenv("VAWG_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VAWG_BASE_URL", "https://airflow.force.example/")
        monkeypatch.delenv("VAWG_ALERT_SMTP_HOST", raising=False)
        key = "VAWG_PSEUDONYM_KEY is too short: use at least 32 bytes"
        for task in ("extract_force.load", "extract_cps.load", "extract_funding.load"):
            context = _failure_context(RuntimeError(key))
            context["ti"].task_id = task
            notify.task_failed(context)
        notify.task_failed(_failure_context(ValueError("another cause")))
        watcher = _failure_context(RuntimeError("a task of this run failed"))
        watcher["ti"].task_id = "watcher"
        notify.task_failed(watcher)
    finally:
        hook.close()
    payloads = [json.loads(body) for _, _, body in hook.received]
    assert [p["facts"]["error"] for p in payloads] == [
        f"RuntimeError: {key}",
        "ValueError: another cause",
    ]
    first = payloads[0]["facts"]
    assert first["log"] == (
        "https://airflow.force.example/dags/vawg_nightly/runs/scheduled__2025-10-01"
        "/tasks/extract_force.load"
    )
    assert first["report"] == (
        "https://airflow.force.example/vawg/reports/runs/scheduled__2025-10-01.html"
    )
    assert "localhost" not in json.dumps(payloads)
    with psycopg.connect(migrated.url) as conn:
        recorded = conn.execute("select task_id from audit.task_failure").fetchall()
    assert len(recorded) == 4  # every failure recorded, the watcher's not


def test_the_deadline_callback_posts_that_the_marts_are_late(monkeypatch) -> None:
    """As the triggerer calls it: an async callable given the run as a JSON dict."""
    hook = _Webhook()
    try:
        monkeypatch.setenv("VAWG_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VAWG_MARTS_FRESH_BY", "07:00")
        context = {
            "dag_run": {"dag_id": "vawg_nightly", "dag_run_id": "scheduled__2025-10-01"},
            "deadline": {"id": "d1", "deadline_time": "2025-10-01T07:00:00Z"},
        }
        asyncio.run(notify.marts_late(context=context))
    finally:
        hook.close()
    payload = json.loads(hook.received[0][2])
    assert payload["kind"] == "marts_late" and payload["facts"]["due"] == "07:00 UTC"
    assert payload["facts"]["run"] == "scheduled__2025-10-01"
    assert "not fresh by 07:00 UTC" in payload["title"]


# --------------------------------------------------------------------------------------------
# dbt source freshness and vawg status
# --------------------------------------------------------------------------------------------


@pytest.mark.slow  # dbt source freshness on a warehouse: in the full suite (README)
def test_stale_sources_are_recorded_and_warned_about_never_failed(migrated, caplog) -> None:
    """An empty warehouse: every source is stale. The check warns, records and returns."""
    ctx = o.run_context("vawg_nightly", "run-fresh", None)
    summary = o.check_source_freshness(ctx, task_id="source_freshness")
    sources = sum(len(v) for v in SOURCES.values())
    assert summary["checked"] == sources and summary["by_status"] == {"warn": sources}
    assert "SOURCE STALE force.crimes: warn (newest row published never" in caplog.text
    with psycopg.connect(migrated.url) as conn:
        rows = conn.execute(
            "select source_name || '.' || table_name, status, max_loaded_at, warn_after, "
            "dag_run_id from audit.source_freshness order by 1"
        ).fetchall()
    assert len(rows) == sources
    assert ("force.crimes", "warn", None, "2 day", "run-fresh") in rows


@pytest.mark.xdist_group("sample_warehouse")
def test_status_prints_each_sources_last_run_with_rows_and_failures(
    on_sample_warehouse, capsys
) -> None:
    from vawg_warehouse.cli import main

    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        report = status.collect(conn)
        expected = dict(
            conn.execute(
                "select dataset, sum(rows_loaded)::bigint from audit.load_batch group by 1"
            ).fetchall()
        )
    crimes = report.datasets["force_crimes"]
    assert crimes.dag_run_id == "sample-run"
    assert crimes.rows_loaded == expected["force_crimes"] and crimes.by_status == {
        "published": crimes.files
    }
    assert main(["status"]) == 0
    printed = capsys.readouterr().out
    for names in SOURCES.values():
        for dataset in names:
            assert dataset in printed
    assert f"loaded {expected['force_crimes']:,}" in printed
    assert "dbt groups (last attempt):" in printed and "last nightly run: sample-run" in printed


# --------------------------------------------------------------------------------------------
# The reports app of the Airflow plugin
# --------------------------------------------------------------------------------------------


@pytest.fixture
def reports(tmp_path):
    root = tmp_path / "reports"
    (root / "scorecard").mkdir(parents=True)
    (root / "scorecard" / "index.html").write_text("<html>scorecard</html>")
    (root / "scorecard" / "scorecard.pdf").write_bytes(b"%PDF-1.4 test")
    (root / "runs").mkdir()
    (root / "index.html").write_text("<html>runs</html>")
    (root / "data_docs" / "scheduled__2025-10-01").mkdir(parents=True)
    (root / "data_docs" / "scheduled__2025-10-01" / "index.html").write_text("<html>dd</html>")
    (root / ".secret.html").write_text("hidden")
    (tmp_path / "outside.html").write_text("outside")
    (root / "runs" / "link.html").symlink_to(tmp_path / "outside.html")
    return root


def test_the_reports_app_serves_the_reports_folder_and_nothing_else(reports) -> None:
    client = TestClient(airflow_ui.create_app(reports_dir=lambda: reports))
    assert client.get("/reports/scorecard/index.html").text == "<html>scorecard</html>"
    pdf = client.get("/reports/scorecard/scorecard.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get("/reports/").text == "<html>runs</html>"
    assert "scheduled__2025-10-01" in client.get("/data-docs/").text
    index = client.get("/").text
    assert "Measures scorecard" in index and "dbt docs" in index and "not written yet" in index
    # "/reports/../outside.html" is not here: the test client normalises it to
    # "/outside.html", so it never reached the app (tests/unit/test_reports_app_raw.py sends it
    # raw). "%2e%2e" does reach it: with no containment check it serves the outside file.
    for refused in (
        "/reports/%2e%2e/outside.html",
        "/reports/.secret.html",
        "/reports/runs/link.html",
        "/reports/nothing.html",
    ):
        assert client.get(refused).status_code == 404, refused


def test_the_reports_app_refuses_a_request_its_auth_dependency_refuses(reports) -> None:
    def no_login():
        raise HTTPException(status_code=401, detail="Not authenticated")

    client = TestClient(airflow_ui.create_app(auth=no_login, reports_dir=lambda: reports))
    assert client.get("/reports/scorecard/index.html").status_code == 401
    assert client.get("/").status_code == 401


@pytest.mark.xdist_group("sample_warehouse")
def test_dbt_docs_are_one_static_page_with_the_catalog_and_exposures(
    on_sample_warehouse, tmp_path
) -> None:
    page = o.build_dbt_docs(out_dir=tmp_path / "dbt_docs")
    html = (tmp_path / "dbt_docs" / "index.html").read_text()
    assert page.endswith("index.html") and "INLINE DATA" not in html  # manifest and catalog in
    assert '"exposure.vawg.measures_scorecard"' in html
    assert '"model.vawg.bi_reporting_monthly"' in html and '"Crimes suppressed"' in html
    assert ((tmp_path / "dbt_docs" / "index.html").stat().st_mode & 0o777) == 0o600


def test_every_page_of_the_reports_app_has_a_content_security_policy(reports) -> None:
    (reports / "data_docs" / "static-1.24.1").mkdir()  # an old GX site's shared assets
    (reports / "dbt_docs").mkdir()
    (reports / "dbt_docs" / "index.html").write_text("<html>dbt</html>")
    client = TestClient(airflow_ui.create_app(reports_dir=lambda: reports))
    for path in (
        "/",
        "/data-docs/",
        "/reports/index.html",
        "/reports/scorecard/index.html",
        "/reports/data_docs/scheduled__2025-10-01/index.html",
        "/reports/nothing.html",
    ):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'none'" in policy, path
        assert "http" not in policy, path  # nothing from another site
    dbt = client.get("/reports/dbt_docs/index.html").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in dbt and "http" not in dbt
    assert "static-1.24.1" not in client.get("/data-docs/").text
