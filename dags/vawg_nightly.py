"""Nightly load of the VAWG warehouse: sources -> validated raw tables -> dbt star schema -> marts.

Wiring only: every task calls a function of ``vawg_warehouse.orchestration`` (imported inside
the task, so parsing this file does no work beyond reading dbt's manifest).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import TaskGroup, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode
from cosmos.profiles import PostgresUserPasswordProfileMapping

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
WAREHOUSE_CONN_ID = "vawg_warehouse"
# Each dataset has a contract in plugins/vawg_warehouse/contracts/ and a suite in expectations/.
DATASETS = ("force_crimes", "force_outcomes")

default_args = {
    "owner": "vawg-data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


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

    @task
    def finish(dag_run=None, logical_date=None) -> dict:
        """Record and log what this run took in, set aside and rebuilt."""
        from vawg_warehouse import orchestration as o

        return o.finish_run(
            dag_run.dag_id, dag_run.run_id, logical_date.date(), o.settings_for_task()
        )

    prepared = prepare_warehouse()
    published = []
    for dataset in DATASETS:
        with TaskGroup(group_id=f"extract_{dataset}"):
            batches = register_files(dataset)
            prepared >> batches
            published.append(publish_batches(validate_batches(load_batches(batches))))

    transform = DbtTaskGroup(
        group_id="transform",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_PROJECT / "target" / "manifest.json",
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="vawg",
            target_name="prod",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "staging"}
            ),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            should_detach_multiple_parents_tests=True,
        ),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        default_args={"retries": 0},
    )
    published >> transform >> finish()


dag = vawg_nightly()
