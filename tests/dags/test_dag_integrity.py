"""The DAG folder imports cleanly and vawg_nightly is wired as the issue asks."""

from __future__ import annotations

import ast
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "vawg_nightly.py"
DATASETS = ("force_crimes", "force_outcomes")


def test_no_import_errors(dagbag) -> None:
    assert dagbag["import_errors"] == {}
    assert "vawg_nightly" in dagbag["dags"]


def test_nightly_schedule_no_catchup_one_run_at_a_time(dagbag) -> None:
    dag = dagbag["dags"]["vawg_nightly"]
    assert dag["catchup"] is False and dag["max_active_runs"] == 1
    assert "expression='30 2 * * *'" in dag["schedule"]
    assert {"vawg", "nightly"} <= set(dag["tags"])


def test_tasks_that_touch_the_outside_retry_with_back_off(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    extract = {k: v for k, v in tasks.items() if k.startswith("extract_")}
    assert extract and all(t["retries"] >= 2 and t["exponential_backoff"] for t in extract.values())


def test_each_dataset_is_registered_loaded_validated_then_published(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    for dataset in DATASETS:
        group = f"extract_{dataset}"
        assert tasks[f"{group}.register_files"]["upstream"] == ["prepare_warehouse"]
        assert tasks[f"{group}.load_batches"]["upstream"] == [f"{group}.register_files"]
        assert tasks[f"{group}.validate_batches"]["upstream"] == [f"{group}.load_batches"]
        assert tasks[f"{group}.publish_batches"]["upstream"] == [f"{group}.validate_batches"]


def test_dbt_runs_through_cosmos_a_task_per_model_after_every_publish(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    mart = tasks["transform.mart_reporting_monthly.run"]
    assert mart["operator"] == "DbtRunLocalOperator"
    assert "transform.mart_reporting_monthly.test" in tasks  # tests after each model
    dbt_tasks = {k: v for k, v in tasks.items() if k.startswith("transform.")}
    roots = [k for k, v in dbt_tasks.items() if not any(u in dbt_tasks for u in v["upstream"])]
    publishes = {f"extract_{d}.publish_batches" for d in DATASETS}
    assert roots
    for root in roots:  # the first dbt tasks wait for every source to be published
        assert set(tasks[root]["upstream"]) == publishes
    leaves = [k for k in dbt_tasks if not any(k in v["upstream"] for v in dbt_tasks.values())]
    assert set(tasks["finish"]["upstream"]) == set(leaves)


def test_dag_file_does_no_work_at_import_time() -> None:
    """Only imports, constants and definitions at module level; vawg_warehouse only in tasks."""
    tree = ast.parse(DAG_FILE.read_text())
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not any(
        isinstance(n, ast.ImportFrom) and (n.module or "").startswith("vawg_warehouse")
        for n in top_imports
    )
    statements = [
        ast.unparse(n)
        for n in tree.body
        if isinstance(n, ast.Expr | ast.Assign) and isinstance(n.value, ast.Call)
    ]
    assert statements == ["dag = vawg_nightly()"]


def test_cosmos_reads_the_manifest_rather_than_running_dbt_ls() -> None:
    source = DAG_FILE.read_text()
    assert "load_method=LoadMode.DBT_MANIFEST" in source
    assert "install_dbt_deps=False" in source
