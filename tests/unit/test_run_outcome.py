"""A run's outcome comes from what happened (vawg_warehouse.run_outcome), on a real warehouse.

The failure callback records each failed task in audit.task_failure; the DAG's last step records
the outcome in audit.run_outcome; the run report, the index, `vawg status` and the scorecard's
header say FAILED (or INCOMPLETE), the task and the cause, and never a value from the data.
Airflow's callback context is stood in for by plain objects with the attributes Airflow's have.
"""

from __future__ import annotations

import html
from datetime import date
from types import SimpleNamespace

import psycopg
import pytest

from vawg_devtools.sample import generate
from vawg_warehouse import orchestration as o
from vawg_warehouse import run_outcome
from vawg_warehouse.cli import main as vawg
from vawg_warehouse.ingest.privacy import PseudonymKeyError
from vawg_warehouse.outputs import reports, scorecard

GOOD_RUN = "scheduled__2025-01-05T02:30:00+00:00"
BAD_RUN = "scheduled__2025-01-06T02:30:00+00:00"
SECRET = "Jane-Doe-1984"  # stands for a cell value: must never be shown


def _context(run_id: str, task_id: str, exception: BaseException) -> dict:
    return {
        "ti": SimpleNamespace(dag_id="vawg_nightly", task_id=task_id, try_number=1, map_index=-1),
        "dag_run": SimpleNamespace(dag_id="vawg_nightly", run_id=run_id),
        "exception": exception,
    }


@pytest.fixture
def failed_run(migrated, tmp_path, monkeypatch):
    """A good run (files published), then a run whose loads fail on a short key: its files are
    left registered, two load tasks failed, the transform did not run."""
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("VAWG_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("VAWG_ALERT_SMTP_HOST", raising=False)
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 2), rows=30, seed=3)
    ctx = o.run_context("vawg_nightly", GOOD_RUN, date(2025, 1, 5))
    ids = o.register_files("force_crimes", ctx)
    o.publish_batches(o.validate_batches(o.load_batches(ids, ctx), ctx), ctx)
    o.finish_run("vawg_nightly", GOOD_RUN, date(2025, 1, 5))
    good = o.record_outcome(
        "vawg_nightly", GOOD_RUN, date(2025, 1, 5), {"extract_force.load": "success"}
    )

    generate(landing, start=date(2025, 1, 3), end=date(2025, 1, 4), rows=30, seed=4)
    ctx = o.run_context("vawg_nightly", BAD_RUN, date(2025, 1, 6))
    assert o.register_files("force_crimes", ctx)
    error = PseudonymKeyError("VAWG_PSEUDONYM_KEY is too short: use at least 32 bytes")
    for task in ("extract_force.load", "extract_cps.load"):
        o.record_failure(_context(BAD_RUN, task, error))
    o.finish_run("vawg_nightly", BAD_RUN, date(2025, 1, 6))
    o.report_run(BAD_RUN)  # the report task runs before the last step: it already says FAILED
    before_last_step = reports.run_page_path(tmp_path / "reports", BAD_RUN).read_text()
    states = {
        "extract_force.register": "success",
        "extract_force.load": "failed",
        "extract_cps.load": "failed",
        "extract_services.load": "failed",  # killed: no callback ran, no failure recorded
        "transform.dbt_force": "upstream_failed",
        "watcher": "failed",
        "record_outcome": "running",
    }
    bad = o.record_outcome("vawg_nightly", BAD_RUN, date(2025, 1, 6), states)
    return {
        "db": migrated,
        "reports": tmp_path / "reports",
        "good": good,
        "bad": bad,
        "before_last_step": before_last_step,
    }


def test_the_outcome_names_each_failed_task_and_its_error(failed_run) -> None:
    assert failed_run["good"]["state"] == "success"
    bad = failed_run["bad"]
    assert bad["state"] == "failed"
    tasks = {t["task_id"]: t for t in bad["failed_tasks"]}
    assert set(tasks) == {"extract_force.load", "extract_cps.load", "extract_services.load"}
    assert tasks["extract_force.load"]["error_class"] == "PseudonymKeyError"
    assert "too short" in tasks["extract_force.load"]["message"]
    assert tasks["extract_services.load"]["error_class"] == "unknown"
    assert bad["unfinished_files"] > 0
    with psycopg.connect(failed_run["db"].url) as conn:
        row = conn.execute(
            "select state, tasks_not_run from audit.run_outcome where dag_run_id = %s", (BAD_RUN,)
        ).fetchone()
    assert row == ("failed", 1)


def test_the_run_report_and_the_index_say_failed_with_the_task_and_cause(failed_run) -> None:
    page = html.unescape(reports.run_page_path(failed_run["reports"], BAD_RUN).read_text())
    assert "FAILED" in page and "extract_force.load" in page and "PseudonymKeyError" in page
    assert "OK: everything in" not in page
    early = html.unescape(failed_run["before_last_step"])
    assert "FAILED" in early and "extract_force.load" in early
    index = html.unescape((failed_run["reports"] / "index.html").read_text())
    assert "FAILED" in index and "extract_force.load: PseudonymKeyError" in index
    with psycopg.connect(failed_run["db"].url) as conn:
        kept = conn.execute(
            "select status from audit.run_report where dag_run_id = %s order by report_id",
            (BAD_RUN,),
        ).fetchall()
    assert kept[-1] == ("failed",)


def test_vawg_status_says_the_last_run_failed_and_since_when_the_data_stand(
    failed_run, capsys
) -> None:
    assert vawg(["status"]) == 0
    printed = capsys.readouterr().out
    assert f"run {BAD_RUN}: FAILED" in printed
    assert "FAILED task extract_force.load: PseudonymKeyError" in printed
    assert f"not refreshed: they stand as refreshed since run {GOOD_RUN}" in printed


def test_a_scorecard_built_after_a_failed_run_says_the_data_were_not_refreshed(
    failed_run, tmp_path
) -> None:
    with psycopg.connect(failed_run["db"].url) as conn:
        result = scorecard.build(conn, tmp_path / "card", pdf=False)
    page = html.unescape(result.html.read_text())
    header = page[page.index("<header>") : page.index("</header>")]
    assert "FAILED" in header and "the data were not refreshed" in header
    assert GOOD_RUN in header and "extract_force.load" in header


def test_files_left_registered_with_no_task_failed_read_incomplete(migrated, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 1), rows=20, seed=2)
    ctx = o.run_context("vawg_nightly", BAD_RUN, date(2025, 1, 6))
    assert o.register_files("force_crimes", ctx)
    o.finish_run("vawg_nightly", BAD_RUN, date(2025, 1, 6))
    outcome = o.record_outcome("vawg_nightly", BAD_RUN, date(2025, 1, 6), {})
    assert outcome["state"] == "incomplete"
    page = html.unescape(reports.run_page_path(tmp_path / "reports", BAD_RUN).read_text())
    assert "INCOMPLETE" in page and "left unfinished" in page
    assert "OK: everything in" not in page


def test_a_failure_message_never_holds_a_value(migrated) -> None:
    errors = [
        ValueError(f"could not convert string to float: '{SECRET}'"),
        ValueError(f'invalid input syntax for type integer: "{SECRET}"'),
        ValueError("cell C7 of sheet Returns holds text where a number is due: 123456"),
    ]
    for error in errors:
        assert SECRET not in run_outcome.safe_message(error)
        assert "123456" not in run_outcome.safe_message(error)
    with psycopg.connect(migrated.url, autocommit=True) as conn:
        conn.execute("create temporary table t (n integer)")
        with pytest.raises(psycopg.Error) as caught:
            conn.execute("insert into t values (%s::integer)", (SECRET,))
    assert SECRET in str(caught.value)
    assert SECRET not in run_outcome.safe_message(caught.value)
    o.record_failure(_context(BAD_RUN, "extract_force.load", caught.value))
    with psycopg.connect(migrated.url) as conn:
        stored = conn.execute("select error_class, message from audit.task_failure").fetchall()
    assert stored and all(SECRET not in " ".join(row) for row in stored)


# --------------------------------------------------------------------------------------------
# The landing folder: missing or unreadable fails the run; files no contract takes are listed
# --------------------------------------------------------------------------------------------


def test_a_missing_landing_folder_fails_the_register_step_with_its_name(
    migrated, tmp_path, monkeypatch
) -> None:
    missing = tmp_path / "share-not-mounted"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(missing))
    ctx = o.run_context("vawg_nightly", BAD_RUN, date(2025, 1, 6))
    with pytest.raises(run_outcome.ConfigurationError, match="share-not-mounted.*does not exist"):
        o.register_family("force", ctx)


def test_a_source_folder_that_is_not_a_readable_folder_fails_with_its_name(
    migrated, tmp_path, monkeypatch
) -> None:
    landing = tmp_path / "landing"
    (landing / "force").mkdir(parents=True)
    (landing / "force" / "crimes").write_text("a file where the crimes folder should be")
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    ctx = o.run_context("vawg_nightly", BAD_RUN, date(2025, 1, 6))
    with pytest.raises(run_outcome.ConfigurationError, match="force_crimes.*is not a folder"):
        o.register_family("force", ctx)


def test_files_that_match_no_contract_are_listed_in_the_report_and_status(
    migrated, tmp_path, monkeypatch, capsys
) -> None:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 1), rows=20, seed=2)
    strays = ["ons/prevalence_2024.xlsx", "force/crimes/crimes_January.csv", "notes.txt"]
    for name in strays:
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text("not a contract's file")
    ctx = o.run_context("vawg_nightly", GOOD_RUN, date(2025, 1, 5))
    ids = o.register_family("force", ctx)
    o.publish_batches(o.validate_batches(o.load_batches(ids, ctx), ctx), ctx)
    summary = o.finish_run("vawg_nightly", GOOD_RUN, date(2025, 1, 5))
    assert sorted(summary["unrecognised"]) == sorted(strays)
    o.report_run(GOOD_RUN)
    page = html.unescape(reports.run_page_path(tmp_path / "reports", GOOD_RUN).read_text())
    assert all(name in page for name in strays)
    assert vawg(["status"]) == 0
    printed = capsys.readouterr().out
    assert all(f"UNRECOGNISED {name}" in printed for name in strays)
