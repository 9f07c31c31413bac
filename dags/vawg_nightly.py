"""Nightly load of the VAWG warehouse: sources -> validated raw tables -> dbt star schema -> marts.

* `extract_<family>`: for each dataset of a source family (force, CPS, victim services, funding):
  register new files as load batches, stream them pseudonymised into landing tables with COPY,
  validate them with Great Expectations in SQL (a critical failure quarantines the batch), publish.
  Families are independent: one failing does not stop the others from loading.
* `transform`: dbt through cosmos, a task per model (`dbt build`: the model, then its tests).
  Seeds and conformed dimensions (dbt tag `shared`) run at once; a model tagged
  `source_<family>` also waits for that family's extract, so a family that failed leaves its own
  marts unbuilt (never rebuilt on partial data) while the other families' marts are rebuilt.
* `test_all` runs every dbt test once over the whole project (whatever was rebuilt).
* `finish` records what the run took in; `data_docs` builds the Great Expectations Data Docs of
  the run's validations and `report` the auditor's run report (files in, rows reconciled, rules
  failed, marts rebuilt, versions), both from the audit schema, even after a failure;
  `watcher` fails the run if any task failed.

Wiring only: every task calls `vawg_warehouse.orchestration` (imported inside the task). Parsing
reads the constants in `vawg_warehouse.datasets` and dbt's manifest, nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import TaskGroup, TriggerRule, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
from cosmos.operators.local import DbtTestLocalOperator
from cosmos.profiles import PostgresUserPasswordProfileMapping

from vawg_warehouse.datasets import SOURCES

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
WAREHOUSE_CONN_ID = "vawg_warehouse"

default_args = {
    "owner": "vawg-data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}

project_config = ProjectConfig(
    dbt_project_path=DBT_PROJECT,
    manifest_path=DBT_PROJECT / "target" / "manifest.json",
    install_dbt_deps=False,
)
profile_config = ProfileConfig(
    profile_name="vawg",
    target_name="prod",
    profile_mapping=PostgresUserPasswordProfileMapping(
        conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "staging"}
    ),
)
# `dbt build --select <model>` with buildable indirect selection runs each test in the first build
# where all of its parents exist; test_all (below) then runs every test once more, so a test whose
# parents no single build covers is never skipped.
execution_config = ExecutionConfig(
    invocation_mode=InvocationMode.DBT_RUNNER,
    test_indirect_selection=TestIndirectSelection.BUILDABLE,
)


def family_of(tags: list[str]) -> str | None:
    """The source family a dbt node belongs to (tag source_<family>); None for shared nodes."""
    return next((t.removeprefix("source_") for t in tags if t.startswith("source_")), None)


@dag(
    dag_id="vawg_nightly",
    schedule="30 2 * * *",
    start_date=datetime(2024, 4, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["vawg", "nightly", "warehouse"],
    doc_md=__doc__,
)
def vawg_nightly():
    @task
    def prepare_warehouse() -> list[str]:
        """Reach the warehouse and apply pending schema migrations."""
        from vawg_warehouse import orchestration

        return orchestration.prepare_warehouse(orchestration.settings_for_task())

    @task
    def register_files(dataset: str, dag_run=None, logical_date=None) -> list[int]:
        """New files of the dataset become load batches (same checksum: skipped)."""
        from vawg_warehouse import orchestration as o

        ctx = o.run_context(dag_run.dag_id, dag_run.run_id, logical_date.date())
        return o.register_files(dataset, ctx, o.settings_for_task())

    @task
    def load_batches(batch_ids: list[int], dag_run=None, logical_date=None) -> list[int]:
        """Stream each file, pseudonymised, into its landing table with COPY."""
        from vawg_warehouse import orchestration as o

        ctx = o.run_context(dag_run.dag_id, dag_run.run_id, logical_date.date())
        return o.load_batches(batch_ids, ctx, o.settings_for_task())

    @task
    def validate_batches(batch_ids: list[int], dag_run=None, logical_date=None) -> list[int]:
        """Great Expectations in SQL; a critical failure quarantines the batch."""
        from vawg_warehouse import orchestration as o

        ctx = o.run_context(dag_run.dag_id, dag_run.run_id, logical_date.date())
        return o.validate_batches(batch_ids, ctx, o.settings_for_task())

    @task
    def publish_batches(batch_ids: list[int], dag_run=None, logical_date=None) -> int:
        """Cast validated rows into the raw tables, one transaction per batch."""
        from vawg_warehouse import orchestration as o

        ctx = o.run_context(dag_run.dag_id, dag_run.run_id, logical_date.date())
        return o.publish_batches(batch_ids, ctx, o.settings_for_task())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def finish(dag_run=None, logical_date=None) -> dict:
        """Record and log what this run took in, set aside and rebuilt (even after a failure)."""
        from vawg_warehouse import orchestration as o

        return o.finish_run(
            dag_run.dag_id, dag_run.run_id, logical_date.date(), o.settings_for_task()
        )

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def data_docs(dag_run=None) -> str | None:
        """Great Expectations Data Docs of this run's validations, from the audit schema."""
        from vawg_warehouse import orchestration as o

        return o.build_data_docs(dag_run.run_id, o.settings_for_task())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def report(dag_run=None) -> dict:
        """The auditor's run report, from the audit schema (even after a failure)."""
        from vawg_warehouse import orchestration as o

        return o.report_run(dag_run.run_id, o.settings_for_task())

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def watcher() -> None:
        """Fails the run when any task failed (finish runs anyway and would hide it)."""
        raise RuntimeError("a task of this run failed: see the failed task's log")

    prepared = prepare_warehouse()
    extracts = {}
    for family, datasets in SOURCES.items():
        with TaskGroup(group_id=f"extract_{family}") as extracts[family]:
            for dataset in datasets:
                with TaskGroup(group_id=dataset):
                    batches = register_files.override(task_id="register_files")(dataset)
                    prepared >> batches
                    publish_batches(validate_batches(load_batches(batches)))

    # One cosmos group (the manifest is read once); each node also waits for its family's
    # extract, so a family that failed leaves its own models (and only those) unbuilt.
    transform = DbtTaskGroup(
        group_id="transform",
        project_config=project_config,
        profile_config=profile_config,
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # One task per model running `dbt build` on it: the model, then its tests at once.
            test_behavior=TestBehavior.BUILD,
        ),
        execution_config=execution_config,
        default_args={"retries": 0},
    )
    prepared >> transform
    for unique_id, node in transform.dbt_graph.filtered_nodes.items():
        family = family_of(node.tags)
        if family in extracts and unique_id in transform.tasks_map:
            extracts[family] >> transform.tasks_map[unique_id]

    test_all = DbtTestLocalOperator(
        task_id="test_all",
        project_dir=DBT_PROJECT,
        profile_config=profile_config,
        invocation_mode=InvocationMode.DBT_RUNNER,
        install_deps=False,
        trigger_rule=TriggerRule.ALL_DONE,
        retries=0,
    )
    transform >> test_all
    done = finish()
    [*extracts.values(), transform, test_all] >> done
    docs = data_docs()
    reported = report()
    done >> docs >> reported
    [*extracts.values(), transform, test_all, done, docs, reported] >> watcher()


dag = vawg_nightly()
