"""The auditor's run report: one self-contained HTML page per pipeline run, and an index of runs.

Everything on the page comes from the audit schema, so any machine can (re)build it and it
survives whatever executor ran the tasks:

* files in: ``audit.load_batch`` (name, sha256, size, status) for the batches the run touched
  (``audit.load_batch_event``); rows read, loaded and set aside, and whether read = loaded +
  set aside for each batch;
* rules failed: ``audit.validation_run`` / ``validation_result`` (rule, severity, observed
  value, unexpected count, failing line numbers: never values);
* dbt: ``audit.dbt_run`` / ``dbt_result`` (models and seeds rebuilt, tests failed, errors);
* versions: ``audit.pipeline_run`` (code, suites, dbt project, tools).

The audit schema holds no personal data (file names, counts, line numbers, rule names), and the
page shows nothing else; every value is HTML-escaped (jinja2 autoescape).

The DAG's ``report`` task stores each page in ``audit.run_report`` and writes it to
``<reports dir>/runs/<run>.html`` with ``<reports dir>/index.html``; ``vawg report`` rebuilds
the files from the warehouse without writing to it (an auditor's read-only login can run it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from vawg_warehouse import audit, run_outcome
from vawg_warehouse.ingest import landing_check
from vawg_warehouse.private_files import private_folder, write_private

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
RUNS_FOLDER = "runs"
DATA_DOCS_FOLDER = "data_docs"
BUILT = ("model", "seed", "snapshot")
PROBLEM_STATUSES = ("error", "fail", "warn", "skipped", "runtime error", "partial success")
FAILED_STATUSES = ("error", "fail", "runtime error", "partial success")
STATUS_WORDS = {
    "ok": "OK: everything in, checked and rebuilt",
    "warnings": "Warnings: published, with rules or tests to look at",
    "quarantined": "Quarantined: some files set aside",
    "incomplete": "INCOMPLETE: files registered and left unfinished",
    "failed": "FAILED: a task, a load, a model or a test failed",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(run_id: str) -> str:
    """A file name for a run id (``manual__2025-02-01T00:00:00+00:00`` ->
    ``manual__2025-02-01T00-00-00-00-00``): letters, digits, ``._-`` only."""
    name = _UNSAFE.sub("-", run_id).strip(".-")
    return name or "run"


@dataclass
class RunFacts:
    """What one run did, read from the audit schema."""

    dag_run_id: str
    dag_id: str | None = None
    logical_date: date | None = None
    finished_at: datetime | None = None
    versions: dict[str, Any] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)
    validations: int = 0
    failed_rules: list[dict[str, Any]] = field(default_factory=list)
    dbt_invocations: int = 0
    built: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, int] = field(default_factory=dict)
    dbt_problems: list[dict[str, Any]] = field(default_factory=list)
    data_docs: str | None = None  # path of the run's Data Docs index, relative to the page
    corrections: list[dict[str, Any]] = field(default_factory=list)  # corrections.py
    outcome: run_outcome.Outcome | None = None  # the run's tasks (audit.run_outcome)
    unrecognised: list[str] = field(default_factory=list)  # landing files no contract takes

    @property
    def unfinished(self) -> list[dict[str, Any]]:
        return [b for b in self.batches if b["status"] in run_outcome.UNFINISHED_BATCH_STATUSES]

    @property
    def status(self) -> str:
        if self.outcome is not None and self.outcome.state == run_outcome.FAILED:
            return "failed"
        if any(b["status"] == "failed" for b in self.batches) or any(
            p["status"] in FAILED_STATUSES for p in self.dbt_problems
        ):
            return "failed"
        if self.unfinished or (
            self.outcome is not None and self.outcome.state == run_outcome.INCOMPLETE
        ):
            return "incomplete"
        if any(b["status"] == "quarantined" or (b["rows_rejected"] or 0) > 0 for b in self.batches):
            return "quarantined"  # a whole file, or some of its rows, set aside
        if self.failed_rules or self.dbt_problems:
            return "warnings"
        return "ok"

    @property
    def figures(self) -> dict[str, Any]:
        """The headline numbers (the index shows them; audit.run_report keeps them)."""
        return {
            "files": len(self.batches),
            "rows_read": sum(b["rows_read"] or 0 for b in self.batches),
            "rows_loaded": sum(b["rows_loaded"] or 0 for b in self.batches),
            "rows_set_aside": sum(b["rows_rejected"] or 0 for b in self.batches),
            "files_quarantined": sum(b["status"] == "quarantined" for b in self.batches),
            "unreconciled": sum(b["reconciled"] is False for b in self.batches),
            "files_unrecognised": len(self.unrecognised),
            "rules_failed": len(self.failed_rules),
            "critical_rules_failed": sum(r["severity"] == "critical" for r in self.failed_rules),
            "models_rebuilt": sum(b["resource_type"] == "model" for b in self.built),
            "tests_failed": sum(
                p["resource_type"] in ("test", "unit_test") and p["status"] in ("fail", "error")
                for p in self.dbt_problems
            ),
        }


def _reconciled(status: str, read: int | None, loaded: int | None, rejected: int | None):
    """True/False for a batch that finished (published, quarantined, or superseded by a
    corrected file); None while unfinished."""
    if status not in ("published", "quarantined", "superseded") or read is None:
        return None
    return read == (loaded or 0) + (rejected or 0)


def gather(conn: psycopg.Connection, dag_run_id: str) -> RunFacts:
    """Read everything the report shows about one run from the audit schema."""
    facts = RunFacts(dag_run_id=dag_run_id)
    run = conn.execute(
        """
        select dag_id, logical_date, finished_at, code_version, suites_sha256,
               dbt_project_sha256, versions
        from audit.pipeline_run where dag_run_id = %s
        order by pipeline_run_id desc limit 1
        """,
        (dag_run_id,),
    ).fetchone()
    if run:
        facts.dag_id, facts.logical_date, facts.finished_at = run[0], run[1], run[2]
        facts.versions = {
            "code": run[3],
            "suites_sha256": run[4],
            "dbt_project_sha256": run[5],
            **{k: v for k, v in (run[6] or {}).items() if k in ("suites", "tools")},
        }

    batch_rows = audit.batches_of_run(conn, dag_run_id)
    for batch in batch_rows:
        batch["reconciled"] = _reconciled(
            batch["status"], batch["rows_read"], batch["rows_loaded"], batch["rows_rejected"]
        )
        facts.batches.append(batch)

    from vawg_warehouse.ingest.corrections import describe

    facts.corrections = [
        {**c, "line": describe(c)} for c in audit.corrections_of_run(conn, dag_run_id)
    ]
    facts.validations = audit.validations_of_run(conn, dag_run_id)
    facts.failed_rules = audit.failed_rules_of_run(conn, dag_run_id)

    results = audit.dbt_results_of_run(conn, dag_run_id)
    facts.dbt_invocations = len({r["invocation_id"] for r in results})
    latest: dict[str, dict[str, Any]] = {}
    for result in results:  # oldest first: the last word on a node wins
        latest[result["unique_id"]] = result
    facts.built = [
        r for r in latest.values() if r["resource_type"] in BUILT and r["status"] == "success"
    ]
    facts.built.sort(key=lambda r: (r["resource_type"], r["unique_id"]))
    for r in latest.values():
        if r["resource_type"] in ("test", "unit_test"):
            facts.tests[r["status"]] = facts.tests.get(r["status"], 0) + 1
    facts.dbt_problems = sorted(
        (r for r in latest.values() if r["status"] in PROBLEM_STATUSES),
        key=lambda r: (r["status"] not in FAILED_STATUSES, r["resource_type"], r["unique_id"]),
    )
    facts.outcome = run_outcome.of_run(conn, dag_run_id)
    facts.unrecognised = landing_check.of_run(conn, dag_run_id)
    return facts


def runs(conn: psycopg.Connection) -> list[str]:
    """Every run recorded, newest first: finished (audit.pipeline_run), or reported only (its
    finish task failed, the report task ran)."""
    rows = conn.execute(
        """
        select dag_run_id
        from (
            select dag_run_id, finished_at as recorded_at from audit.pipeline_run
            union all
            select dag_run_id, generated_at from audit.run_report
            where dag_run_id not in (select p.dag_run_id from audit.pipeline_run as p)
            union all
            select dag_run_id, recorded_at from audit.run_outcome
        ) as recorded
        group by dag_run_id
        order by max(recorded_at) desc
        """
    ).fetchall()
    return [r[0] for r in rows]


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every value is escaped; the templates hold the only markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: "" if n is None else f"{n:,}"
    env.filters["short_sha"] = lambda s: (s or "")[:12]
    env.filters["node_name"] = lambda unique_id: unique_id.split(".")[-1]
    env.filters["test_name"] = _test_name
    env.filters["observed"] = _observed
    return env


def _test_name(unique_id: str) -> str:
    """dbt test ids end in a hash (``test.vawg.not_null_x_y.1a2b3c``): drop it."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) >= 3 else unique_id


def _observed(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_run(facts: RunFacts, generated_at: datetime | None = None) -> str:
    return (
        _environment()
        .get_template("run_report.html.j2")
        .render(
            facts=facts,
            status=facts.status,
            status_words=STATUS_WORDS[facts.status],
            figures=facts.figures,
            generated_at=generated_at or datetime.now(UTC),
        )
    )


def render_index(entries: list[dict[str, Any]], generated_at: datetime | None = None) -> str:
    """``entries``: newest first, each with dag_run_id, logical_date, finished_at, status,
    figures and href (the run's page, relative to the index)."""
    return (
        _environment()
        .get_template("runs_index.html.j2")
        .render(
            entries=entries,
            status_words=STATUS_WORDS,
            generated_at=generated_at or datetime.now(UTC),
        )
    )


def index_entry(facts: RunFacts) -> dict[str, Any]:
    return {
        "dag_run_id": facts.dag_run_id,
        "logical_date": facts.logical_date,
        "finished_at": facts.finished_at,
        "status": facts.status,
        "cause": facts.outcome.cause() if facts.outcome else "",
        "figures": facts.figures,
        "href": f"{RUNS_FOLDER}/{safe_name(facts.dag_run_id)}.html",
    }


# --------------------------------------------------------------------------------------------
# Files and the warehouse
# --------------------------------------------------------------------------------------------


def run_page_path(reports_dir: Path, dag_run_id: str) -> Path:
    return reports_dir / RUNS_FOLDER / f"{safe_name(dag_run_id)}.html"


def data_docs_index(reports_dir: Path, dag_run_id: str) -> Path:
    return reports_dir / DATA_DOCS_FOLDER / safe_name(dag_run_id) / "index.html"


def _with_data_docs(facts: RunFacts, reports_dir: Path) -> RunFacts:
    if data_docs_index(reports_dir, facts.dag_run_id).exists():
        facts.data_docs = f"../{DATA_DOCS_FOLDER}/{safe_name(facts.dag_run_id)}/index.html"
    return facts


def store(conn: psycopg.Connection, facts: RunFacts, html: str) -> int:
    """Keep the page in audit.run_report (a new row; the newest of a run is current), through
    audit.append_run_report, which refuses figures that are not the ledger's (migration 020)."""
    with conn.transaction():
        row = conn.execute(
            "select audit.append_run_report(%s, %s, %s, %s, %s, %s)",
            (
                facts.dag_id,
                facts.dag_run_id,
                facts.logical_date,
                facts.status,
                Jsonb(facts.figures),
                html,
            ),
        ).fetchone()
    assert row is not None
    return int(row[0])


def write_index(conn: psycopg.Connection, reports_dir: Path, *, limit: int | None = None) -> Path:
    """``index.html``: every recorded run (or the newest ``limit``), newest first."""
    private_folder(reports_dir)
    entries = [index_entry(gather(conn, run_id)) for run_id in runs(conn)[:limit]]
    path = reports_dir / "index.html"
    write_private(path, render_index(entries))
    return path


def report_run(
    conn: psycopg.Connection, dag_run_id: str, reports_dir: Path, *, keep: bool = True
) -> tuple[RunFacts, Path]:
    """Render one run's page from the warehouse, write it (and the index) under ``reports_dir``;
    with ``keep``, also store it in audit.run_report. Returns the facts and the page's path."""
    facts = _with_data_docs(gather(conn, dag_run_id), reports_dir)
    html = render_run(facts)
    if keep:
        store(conn, facts, html)
    path = run_page_path(reports_dir, dag_run_id)
    write_private(path, html)
    write_index(conn, reports_dir)
    return facts, path


def report_all(conn: psycopg.Connection, reports_dir: Path) -> list[Path]:
    """Rewrite every run's page and the index from the warehouse (stores nothing)."""
    written = []
    for run_id in runs(conn):
        facts = _with_data_docs(gather(conn, run_id), reports_dir)
        path = run_page_path(reports_dir, run_id)
        write_private(path, render_run(facts))
        written.append(path)
    written.append(write_index(conn, reports_dir))
    return written


def facts_as_dict(facts: RunFacts) -> dict[str, Any]:
    """For logs and XComs: the run id, its status and figures (small, JSON-ready)."""
    return {"dag_run_id": facts.dag_run_id, "status": facts.status, "figures": facts.figures}
