"""dbt's results reach the audit trail: the on-run-end hook in a real `dbt build`, and the same
results again from its run_results.json (vawg_warehouse.dbt_run.dbt_results), into a second
database."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.conftest import HANG_GUARD_SECONDS, create_database, drop_database
from vawg_warehouse.audit import dbt_results_of_run
from vawg_warehouse.dbt_run import runner
from vawg_warehouse.dbt_run.dbt_results import record_run_results, run_document
from vawg_warehouse.migrations import migrate

SEED = "local_authorities"
# relation_name is left out: dbt 1.11 writes null there for seeds, the hook has the relation.
RESULT_COLUMNS = (
    "unique_id, resource_type, status, execution_seconds, rows_affected, "
    "failures, message, started_at, completed_at"
)


def _dbt_build(database, target_path: Path, **airflow_context: str) -> subprocess.CompletedProcess:
    return runner.run(
        "build",
        ["--select", SEED, "--indirect-selection", "cautious"],
        connection=database,
        extra_env={f"AIRFLOW_CTX_{k.upper()}": v for k, v in airflow_context.items()},
        target_path=target_path,
        log_path=target_path / "logs",
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )


@pytest.fixture(scope="module")
def dbt_build(server, tmp_path_factory):
    """One real `dbt build` of a seed and its tests, run as if by an Airflow task."""
    database = create_database(server)
    target = tmp_path_factory.mktemp("dbt_target")
    with psycopg.connect(database.url) as conn:
        migrate(conn)
    done = _dbt_build(
        database,
        target,
        dag_id="vawg_nightly",
        dag_run_id="manual__2025-02-01T00:00:00+00:00",
        task_id="transform.local_authorities_seed",
        try_number="1",
    )
    try:
        yield {"db": database, "target": target, "done": done}
    finally:
        drop_database(database)


def _rows(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.slow  # a dbt build: the full suite, not the fast tier (README)
def test_the_hook_records_the_invocation_with_its_airflow_run(dbt_build) -> None:
    assert dbt_build["done"].returncode == 0, dbt_build["done"].stdout[-3000:]
    run_results = json.loads((dbt_build["target"] / "run_results.json").read_text())
    ((invocation, command, version, dag_run, task, try_number, success, count, by),) = _rows(
        dbt_build["db"].url,
        "select invocation_id, command, dbt_version, dag_run_id, task_id, try_number, success, "
        "node_count, recorded_by from audit.dbt_run",
    )
    assert invocation == run_results["metadata"]["invocation_id"]
    assert (command, version) == ("build", run_results["metadata"]["dbt_version"])
    assert dag_run == "manual__2025-02-01T00:00:00+00:00"
    assert (task, try_number) == ("transform.local_authorities_seed", 1)
    assert success and by == "on-run-end"
    nodes = [r for r in run_results["results"] if not r["unique_id"].startswith("operation.")]
    assert count == len(nodes) > 1  # the seed and its tests


@pytest.mark.slow  # a dbt build: the full suite, not the fast tier (README)
def test_every_node_result_is_recorded_as_in_run_results_json(dbt_build) -> None:
    run_results = json.loads((dbt_build["target"] / "run_results.json").read_text())
    expected = {
        r["unique_id"]: r for r in run_results["results"] if "operation." not in r["unique_id"]
    }
    stored = _rows(
        dbt_build["db"].url,
        "select unique_id, resource_type, status, rows_affected, failures, relation_name "
        "from audit.dbt_result",
    )
    assert {r[0] for r in stored} == set(expected)
    by_id = {r[0]: r for r in stored}
    seed = by_id[f"seed.vawg.{SEED}"]
    assert seed[1:4] == ("seed", "success", expected[seed[0]]["adapter_response"]["rows_affected"])
    assert seed[5].endswith('"reference"."local_authorities"')
    tests = [r for r in stored if r[1] == "test"]
    assert tests and all(r[2] == "pass" and r[4] == 0 for r in tests)
    with psycopg.connect(dbt_build["db"].url) as conn:
        results = dbt_results_of_run(conn, "manual__2025-02-01T00:00:00+00:00")
    assert {r["unique_id"] for r in results} == set(expected)


@pytest.mark.slow  # a dbt build: the full suite, not the fast tier (README)
def test_run_results_json_gives_the_same_rows_as_the_hook(dbt_build, server) -> None:
    path = dbt_build["target"] / "run_results.json"
    # Recording the same invocation again changes nothing.
    with psycopg.connect(dbt_build["db"].url) as conn:
        assert record_run_results(conn, path) == 0
    assert _rows(dbt_build["db"].url, "select count(*) from audit.dbt_run") == [(1,)]

    other = create_database(server)
    try:
        with psycopg.connect(other.url) as conn:
            migrate(conn)
            stored = record_run_results(
                conn, path, dag_id="vawg_nightly", dag_run_id="manual__2025-02-01T00:00:00+00:00"
            )
        sql = f"select {RESULT_COLUMNS} from audit.dbt_result order by unique_id"
        assert stored == len(_rows(dbt_build["db"].url, sql)) > 1
        # Same nodes, statuses, counts and times; the hook's times are the same instants.
        assert _rows(other.url, sql) == _rows(dbt_build["db"].url, sql)
        ((by, command, success),) = _rows(
            other.url, "select recorded_by, command, success from audit.dbt_run"
        )
        assert (by, command, success) == ("run_results.json", "build", True)
    finally:
        drop_database(other)


def test_messages_lose_row_values_and_sql(migrated, tmp_path) -> None:
    """A failing node's message keeps what went wrong, never a row's values or the SQL."""
    document = {
        "metadata": {
            "invocation_id": "00000000-0000-0000-0000-000000000001",
            "dbt_version": "1.11.16",
            "invocation_started_at": "2025-02-01T02:30:00Z",
            "generated_at": "2025-02-01T02:31:00Z",
        },
        "args": {"which": "build"},
        "results": [
            {
                "unique_id": "model.vawg.fct_recorded_crime",
                "status": "error",
                "execution_time": 0.5,
                "adapter_response": {},
                "failures": None,
                "message": "Database Error in model fct_recorded_crime (models/x.sql)\n"
                '  null value in column "victim_key" of relation "fct" violates not-null '
                "constraint\n  DETAIL:  Failing row contains (C-123, 2025-01-01, abc).\n"
                "  compiled code at target/run/vawg/models/x.sql",
                "compiled_code": "select 'C-123' as secret",
                "timing": [],
                "relation_name": '"db"."marts"."fct_recorded_crime"',
            },
            {
                "unique_id": "model.vawg.stg_force__crimes",
                "status": "error",
                "execution_time": 0.1,
                "adapter_response": {},
                "failures": None,
                "message": 'invalid input syntax for type date: "2025-13-40"',
                "timing": [],
            },
        ],
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(document))
    assert run_document(document)["nodes"][0]["resource_type"] == "model"
    with psycopg.connect(migrated.url) as conn:
        assert record_run_results(conn, path) == 2
        messages = dict(conn.execute("select unique_id, message from audit.dbt_result").fetchall())
        success = conn.execute("select success from audit.dbt_run").fetchone()[0]
    assert not success
    assert messages["model.vawg.fct_recorded_crime"] == (
        "Database Error in model fct_recorded_crime (models/x.sql) null value in column "
        '"victim_key" of relation "fct" violates not-null constraint'
    )
    assert messages["model.vawg.stg_force__crimes"] == (
        'invalid input syntax for type date: "(redacted)"'
    )
    assert not any("C-123" in m or "2025-13-40" in m for m in messages.values())
