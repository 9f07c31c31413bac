"""The nightly run's dbt groups (vawg_warehouse.dbt_run.transform), against a real PostgreSQL and
dbt.

* the groups' selections partition the project's data tests: each runs in exactly one group, so
  once per run (never twice, never skipped);
* a group is built when something it reads changed, and only tested otherwise, with the reason
  recorded in audit.dbt_group_build;
* a real build of two groups, then a run where nothing changed, as the DAG's tasks do them.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import psycopg
import pytest

from tests.conftest import ProjectParse
from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform
from vawg_warehouse.run_context import RunContext

SHA = "a" * 64


def _ls(settings, args: list[str]) -> list[str]:
    from vawg_warehouse.dbt_run import runner

    manifest = transform.parsed_manifest(settings)
    result = runner.invoke(
        "ls",
        [
            "--resource-type",
            "test",
            "--output",
            "json",
            "--output-keys",
            "unique_id",
            "--quiet",
            *args,
        ],
        settings,
        manifest=manifest,
    )
    assert result.success, result.exception
    return [json.loads(line)["unique_id"] for line in result.result]


def test_the_groups_partition_every_data_test(dbt_parse: ProjectParse) -> None:
    with dbt_parse.environment() as settings:
        _partition_every_data_test(settings)


def _partition_every_data_test(settings) -> None:
    every_test = set(_ls(settings, ["--select", "test_type:data"]))
    assert len(every_test) > 1000  # the project's ~1,200 data tests
    selected = Counter()
    for group in transform.GROUPS:
        tests = _ls(settings, transform.selection_args(group))
        assert tests, group
        selected.update(tests)
    twice = sorted(t for t, n in selected.items() if n > 1)
    never = sorted(every_test - set(selected))
    assert not twice, twice[:10]
    assert not never, never[:10]
    assert set(selected) == every_test  # and no unit test: those run in the suite


def _record(conn, group: str, command: str, success: bool, sha: str, through: int | None):
    conn.execute(
        "insert into audit.dbt_group_build (group_name, command, reason, dbt_project_sha256, "
        "published_through_event_id, success, node_count, started_at, finished_at) "
        "values (%s, %s, 'test', %s, %s, %s, 0, now(), now())",
        (group, command, sha, through, success),
    )


def _publish_event(conn, dataset: str) -> int:
    batch = conn.execute(
        "insert into audit.load_batch (dataset, file_name, file_sha256, file_size_bytes, status) "
        "values (%s, %s, md5(random()::text) || md5(random()::text), 1, 'published') "
        "returning batch_id",
        (dataset, f"{dataset}-{date.today()}.csv"),
    ).fetchone()[0]
    return conn.execute(
        "insert into audit.load_batch_event (batch_id, status) values (%s, 'published') "
        "returning event_id",
        (batch,),
    ).fetchone()[0]


def test_a_group_is_built_only_when_something_it_reads_changed(migrated) -> None:
    with psycopg.connect(migrated.url, autocommit=True) as conn:

        def plan(group: str, sha: str = SHA, rebuild: bool = False):
            return transform.plan_group(conn, group, sha, rebuild=rebuild)

        assert plan("cps").command == "build"
        assert plan("cps").reason == "never built in this warehouse"
        _record(conn, "shared", "build", True, SHA, None)
        _record(conn, "cps", "build", True, SHA, None)
        assert (plan("shared").command, plan("cps").command) == ("test", "test")
        assert plan("cps", rebuild=True).command == "build"

        # The force family publishes a file: force is rebuilt, cps is only tested.
        event = _publish_event(conn, "force_crimes")
        assert plan("force").command == "build"
        _record(conn, "force", "build", True, SHA, event)
        assert plan("force").command == "test"
        assert plan("force").published_through_event_id == event
        assert plan("cps").command == "test"
        assert plan("cps").published_through_event_id is None  # nothing published for it

        _publish_event(conn, "cps_quarterly_outcomes")
        assert plan("cps").reason == "its sources published new rows"

        # A new dbt project version (code or seeds) rebuilds every group.
        assert plan("shared", sha="b" * 64).reason == (
            "the dbt project (models, macros or seeds) changed"
        )
        # A failed attempt is built again, even if nothing changed since.
        _record(conn, "force", "test", False, SHA, event)
        assert plan("force").reason == "its last test failed"
        _record(conn, "force", "build", True, SHA, event)
        # The shared group rebuilt after a family: the family is rebuilt on the new reference.
        _record(conn, "shared", "build", True, SHA, None)
        assert plan("force").reason == "the shared reference data was rebuilt after it"
        assert plan("shared").command == "test"


@pytest.mark.slow  # dbt builds of groups: the full suite, not the fast tier (README)
def test_build_then_test_only_then_a_failure_through_the_task_functions(migrated) -> None:
    """The DAG's dbt tasks, without Airflow: shared and one family are built on an empty
    warehouse, every result reaches audit.dbt_result; run again, they are tested only. Then the
    family cannot build: TransformError names the failed nodes, and the failed attempt is kept so
    that the next run builds the group again. (One test: each new database costs a dbt parse.)"""
    settings = get_settings()
    ctx = RunContext(dag_id="vawg_nightly", dag_run_id="manual__transform_test")
    first = [o.transform_group(g, ctx, settings, task_id=f"dbt_{g}") for g in ("shared", "cps")]
    assert [(r["group"], r["command"], r["success"]) for r in first] == [
        ("shared", "build", True),
        ("cps", "build", True),
    ]
    assert first[0]["counts"]["success"] > 20 and first[0]["counts"]["pass"] > 100
    second = [o.transform_group(g, ctx, settings) for g in ("shared", "cps")]
    assert [(r["command"], r["success"]) for r in second] == [("test", True), ("test", True)]
    assert second[1]["reason"].startswith("nothing it reads changed since build")
    # Tests only: the same number of tests, and no model or seed run again.
    assert second[1]["counts"]["pass"] == first[1]["counts"]["pass"]
    with psycopg.connect(migrated.url) as conn:
        rows = conn.execute(
            "select g.group_name, g.command, g.node_count, "
            "(select count(*) from audit.dbt_result r where r.invocation_id = g.dbt_invocation_id) "
            "from audit.dbt_group_build g order by g.group_build_id"
        ).fetchall()
        models_in_tests_only = conn.execute(
            "select count(*) from audit.dbt_result r join audit.dbt_group_build g "
            "on g.dbt_invocation_id = r.invocation_id "
            "where g.command = 'test' and r.resource_type in ('model', 'seed')"
        ).fetchone()[0]
    assert [(g, c) for g, c, _, _ in rows] == [
        ("shared", "build"),
        ("cps", "build"),
        ("shared", "test"),
        ("cps", "test"),
    ]
    # Every node of every invocation reached audit.dbt_result through the on-run-end hook.
    for _, _, node_count, results in rows:
        assert results == node_count
    assert models_in_tests_only == 0

    # The family's staging view reads its raw table: without it, the group fails.
    with psycopg.connect(migrated.url, autocommit=True) as conn:
        conn.execute("alter table raw_cps.quarterly_outcomes rename to gone")
        try:
            with pytest.raises(transform.TransformError, match="group cps did not pass"):
                o.transform_group("cps", ctx, settings, rebuild=True)
        finally:
            conn.execute("alter table raw_cps.gone rename to quarterly_outcomes")
        failed = conn.execute(
            "select success, cardinality(failed_nodes) > 0 from audit.dbt_group_build "
            "where group_name = 'cps' order by group_build_id desc limit 1"
        ).fetchone()
        assert failed == (False, True)
        assert transform.plan_group(conn, "cps", SHA).reason == "its last build failed"
