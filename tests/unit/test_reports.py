"""The auditor's run report, built from a real warehouse after the task functions ran (no DAG).

A batch that fails a critical expectation must be named on the page with the rule it failed;
rows must reconcile; dbt's results for the run must show; the index must list every run.
"""

from __future__ import annotations

import html
import json
import re
import stat
from datetime import date
from pathlib import Path

import psycopg
import pytest

from vawg_devtools.sample import generate, write_bad_crimes_file
from vawg_warehouse import orchestration as o
from vawg_warehouse.cli import main as vawg
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run.dbt_results import record_run_results
from vawg_warehouse.outputs import reports

SUITE = Path(__file__).resolve().parents[2] / "expectations" / "expectations" / "force_crimes.json"
RUN_1 = "scheduled__2025-01-05T02:30:00+00:00"
RUN_2 = "manual__2025-01-06T09:00:00+00:00"


def _critical_rule(column: str) -> str:
    """The rule's human name, read from the suite file (what the report must show)."""
    suite = json.loads(SUITE.read_text())
    (rule,) = [
        e["meta"]["rule"]
        for e in suite["expectations"]
        if e.get("severity") == "critical"
        and e["kwargs"].get("column") == column
        and e["type"] == "expect_column_values_to_be_in_set"
    ]
    return rule


def _dbt_results_of(run_id: str, tmp_path: Path) -> Path:
    """A run_results.json of a `dbt build` that rebuilt a mart and had one failing test."""
    document = {
        "metadata": {
            "invocation_id": "11111111-2222-3333-4444-555555555555",
            "dbt_version": "1.11.16",
            "invocation_started_at": "2025-01-05T02:40:00Z",
            "generated_at": "2025-01-05T02:41:00Z",
        },
        "args": {"which": "build"},
        "results": [
            {
                "unique_id": "model.vawg.mart_reporting_monthly",
                "status": "success",
                "execution_time": 1.25,
                "adapter_response": {"rows_affected": 1234},
                "failures": None,
                "message": "SELECT 1234",
                "relation_name": '"w"."marts"."mart_reporting_monthly"',
                "timing": [],
            },
            {
                "unique_id": "test.vawg.unique_mart_reporting_monthly_key.0a1b2c3d4e",
                "status": "fail",
                "execution_time": 0.2,
                "adapter_response": {},
                "failures": 3,
                "message": "Got 3 results, configured to fail if != 0",
                "timing": [],
            },
        ],
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def two_runs(migrated, tmp_path, monkeypatch):
    """Run 1 takes in three good files and a bad one; run 2 finds nothing new."""
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 3), rows=45, seed=5)
    bad = write_bad_crimes_file(landing, date(2025, 1, 4))
    ctx = o.run_context("vawg_nightly", RUN_1, date(2025, 1, 5))
    ids = o.register_files("force_crimes", ctx)
    o.publish_batches(o.validate_batches(o.load_batches(ids, ctx), ctx), ctx)
    with psycopg.connect(migrated.url) as conn:
        record_run_results(
            conn, _dbt_results_of(RUN_1, tmp_path), dag_id="vawg_nightly", dag_run_id=RUN_1
        )
    o.finish_run("vawg_nightly", RUN_1, date(2025, 1, 5))
    docs = o.build_data_docs(RUN_1)
    first = o.report_run(RUN_1)

    ctx2 = o.run_context("vawg_nightly", RUN_2, date(2025, 1, 6))
    assert o.register_files("force_crimes", ctx2) == []
    o.finish_run("vawg_nightly", RUN_2, date(2025, 1, 6))
    assert o.build_data_docs(RUN_2) is None  # nothing validated: no site
    second = o.report_run(RUN_2)
    return {
        "docs": docs,
        "db": migrated,
        "bad": bad.path.relative_to(landing).as_posix(),
        "reports": tmp_path / "reports",
        "first": first,
        "second": second,
    }


def _page(reports_dir: Path, run_id: str) -> str:
    return reports.run_page_path(reports_dir, run_id).read_text(encoding="utf-8")


def test_the_report_names_the_quarantined_file_and_the_critical_rule_it_failed(two_runs) -> None:
    page = _page(two_runs["reports"], RUN_1)
    text = html.unescape(page)
    assert two_runs["bad"] in text
    rule = _critical_rule("ho_offence_code")
    # The rule's row: its name, critical, the bad file, the column, at least one line number.
    row = next(r for r in re.findall(r"<tr>.*?</tr>", text, re.S) if rule in r)
    assert "critical" in row and two_runs["bad"] in row and "ho_offence_code" in row
    assert re.search(r"\b3\b", row)  # write_bad_crimes_file puts the unknown code on line 3
    # A quarantined file, and a failing dbt test: the run's status is the worse of the two.
    assert two_runs["first"]["status"] == "failed"
    assert two_runs["first"]["figures"]["files_quarantined"] == 1


def test_rows_reconcile_per_file_and_the_figures_add_up(two_runs) -> None:
    figures = two_runs["first"]["figures"]
    with psycopg.connect(two_runs["db"].url) as conn:
        read, loaded, rejected = conn.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_rejected) from audit.load_batch"
        ).fetchone()
    assert (figures["rows_read"], figures["rows_loaded"], figures["rows_set_aside"]) == (
        read,
        loaded,
        rejected,
    )
    assert figures["files"] == 4 and figures["unreconciled"] == 0 and read == loaded + rejected
    text = html.unescape(_page(two_runs["reports"], RUN_1))
    assert text.count(">yes<") == 4 and ">NO<" not in text


def test_the_report_shows_dbt_models_rebuilt_and_tests_failed(two_runs) -> None:
    text = html.unescape(_page(two_runs["reports"], RUN_1))
    assert "mart_reporting_monthly" in text and "1,234" in text
    assert "unique_mart_reporting_monthly_key" in text
    assert "Got 3 results, configured to fail if != 0" in text
    assert two_runs["first"]["figures"]["models_rebuilt"] == 1
    assert two_runs["first"]["figures"]["tests_failed"] == 1


def test_the_report_is_stamped_with_versions(two_runs) -> None:
    from vawg_warehouse import versions

    stamp = versions.current(get_settings())
    text = _page(two_runs["reports"], RUN_1)
    assert stamp.code in text and stamp.suites_sha256 in text
    assert stamp.dbt_project_sha256 in text and stamp.suites["force_crimes.json"] in text
    with psycopg.connect(two_runs["db"].url) as conn:
        stamped = conn.execute(
            "select code_version, suites_sha256, dbt_project_sha256 from audit.pipeline_run "
            "where dag_run_id = %s",
            (RUN_1,),
        ).fetchone()
        validation_codes = conn.execute(
            "select distinct code_version from audit.validation_run"
        ).fetchall()
    assert stamped == (stamp.code, stamp.suites_sha256, stamp.dbt_project_sha256)
    assert validation_codes == [(stamp.code,)]


def test_reports_are_kept_in_the_warehouse_and_the_index_lists_runs_newest_first(
    two_runs,
) -> None:
    with psycopg.connect(two_runs["db"].url) as conn:
        kept = conn.execute(
            "select dag_run_id, status, html from audit.run_report order by report_id"
        ).fetchall()
    assert [(r[0], r[1]) for r in kept] == [(RUN_1, "failed"), (RUN_2, "ok")]
    assert kept[0][2] == _page(two_runs["reports"], RUN_1)
    index = (two_runs["reports"] / "index.html").read_text()
    links = re.findall(r'href="(runs/[^"]+)"', index)
    assert links == [
        f"runs/{reports.safe_name(RUN_2)}.html",
        f"runs/{reports.safe_name(RUN_1)}.html",
    ]
    assert all((two_runs["reports"] / link).exists() for link in links)
    assert "No new files" in _page(two_runs["reports"], RUN_2)


def test_vawg_report_rebuilds_the_files_from_the_warehouse(two_runs, tmp_path, capsys) -> None:
    out = tmp_path / "elsewhere"
    assert vawg(["report", "--out", str(out)]) == 0
    assert reports.run_page_path(out, RUN_1).exists() and (out / "index.html").exists()
    assert vawg(["report", "--run", RUN_2, "--out", str(out / "one")]) == 0
    assert reports.run_page_path(out / "one", RUN_2).exists()
    assert not reports.run_page_path(out / "one", RUN_1).exists()
    assert vawg(["report", "--run", "no-such-run", "--out", str(out)]) == 2
    with psycopg.connect(two_runs["db"].url) as conn:  # the CLI only reads the warehouse
        assert conn.execute("select count(*) from audit.run_report").fetchone() == (2,)


def test_data_docs_show_every_validation_of_the_run_without_values(two_runs) -> None:
    from vawg_devtools.sample.bad_data import UNKNOWN_OFFENCE_CODE

    site = Path(two_runs["docs"]).parent
    assert site == reports.data_docs_index(two_runs["reports"], RUN_1).parent
    pages = sorted(site.glob("validations/force_crimes/**/batch_*.html"))
    assert len(pages) == 4  # one per validated file
    with psycopg.connect(two_runs["db"].url) as conn:
        (bad_batch,) = conn.execute(
            "select batch_id from audit.load_batch where status = 'quarantined'"
        ).fetchone()
    bad_page = next(p for p in pages if p.name == f"batch_{bad_batch}.html").read_text()
    assert "Failed" in bad_page and two_runs["bad"] in html.unescape(bad_page)
    assert (site / "expectations" / "force_crimes.html").exists()
    assert (site / "static" / "styles").is_dir()  # the shared static files, linked
    everything = "".join(p.read_text(errors="replace") for p in site.rglob("*.html"))
    # The bad value itself is never kept (as a word: GX's timestamps end in digits and a Z).
    assert not re.search(rf"\b{UNKNOWN_OFFENCE_CODE}\b", everything)
    # The run report links to the site.
    page = _page(two_runs["reports"], RUN_1)
    link = f"../data_docs/{reports.safe_name(RUN_1)}/index.html"
    assert f'href="{link}"' in page
    assert (reports.run_page_path(two_runs["reports"], RUN_1).parent / link).resolve().exists()


def test_pages_and_data_docs_are_for_their_owner_only(two_runs, tmp_path) -> None:
    """They name files and batches: folders 0700, files 0600 (the shared static files too)."""
    written = [p for p in two_runs["reports"].rglob("*") if not p.is_symlink()]
    files = [p for p in written if p.is_file()]
    assert len(files) > 20 and any(p.suffix == ".css" for p in files)  # GX's own files too
    modes = {p.relative_to(two_runs["reports"]): stat.S_IMODE(p.stat().st_mode) for p in written}
    wrong = {
        p: oct(m)
        for p, m in modes.items()
        if m != (0o700 if (two_runs["reports"] / p).is_dir() else 0o600)
    }
    assert not wrong, wrong
    assert stat.S_IMODE(two_runs["reports"].stat().st_mode) == 0o700
    # A rebuild by `vawg report` into another folder writes the same way.
    assert vawg(["report", "--out", str(tmp_path / "again")]) == 0
    rebuilt = [p for p in (tmp_path / "again").rglob("*")]
    assert rebuilt and {stat.S_IMODE(p.stat().st_mode) for p in rebuilt if p.is_file()} == {0o600}


def test_everything_on_the_page_is_escaped() -> None:
    facts = reports.RunFacts(
        dag_run_id="manual__<script>alert(1)</script>",
        batches=[
            {
                "batch_id": 1,
                "dataset": "force_crimes",
                "file_name": 'force/crimes/"><img src=x onerror=alert(1)>.csv',
                "file_sha256": "0" * 64,
                "file_size_bytes": 10,
                "status": "quarantined",
                "rows_read": 2,
                "rows_loaded": 0,
                "rows_rejected": 2,
                "error_message": "<b>bad</b>",
                "reconciled": True,
            }
        ],
    )
    assert facts.status == "quarantined"
    page = reports.render_run(facts)
    assert "<script>" not in page and "<img" not in page and "<b>bad</b>" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x" in page
    assert reports.safe_name(facts.dag_run_id) == "manual__-script-alert-1-script"


def test_a_failed_batch_shows_the_error_without_the_value_it_quotes(migrated, tmp_path) -> None:
    with psycopg.connect(migrated.url) as conn:
        (batch_id,) = conn.execute(
            "insert into audit.load_batch (dataset, file_name, file_sha256, file_size_bytes, "
            "status, rows_read, error_message) values ('force_crimes', 'force/crimes/x.csv', "
            "%s, 10, 'failed', 3, %s) returning batch_id",
            ("a" * 64, 'publish: invalid input syntax for type date: "1990-01-01"'),
        ).fetchone()
        conn.execute(
            "insert into audit.load_batch_event (batch_id, status, dag_run_id) "
            "values (%s, 'failed', 'run-x')",
            (batch_id,),
        )
        facts, path = reports.report_run(conn, "run-x", tmp_path)
        # finish never ran for run-x (no audit.pipeline_run row): the index lists it all the same
        assert reports.runs(conn) == ["run-x"]
    page = path.read_text()
    assert "runs/run-x.html" in (tmp_path / "index.html").read_text()
    assert facts.status == "failed" and "1990-01-01" not in page
    assert "invalid input syntax for type date" in html.unescape(page)
    assert facts.batches[0]["reconciled"] is None  # unfinished: neither yes nor no
