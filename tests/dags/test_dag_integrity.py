"""The DAG folder imports cleanly and vawg_nightly is wired as the issue asks."""

from __future__ import annotations

import ast
from pathlib import Path

from vawg_warehouse.datasets import SOURCES

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "vawg_nightly.py"


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
    for family, datasets in SOURCES.items():
        for dataset in datasets:
            group = f"extract_{family}.{dataset}"
            assert tasks[f"{group}.register_files"]["upstream"] == ["prepare_warehouse"]
            assert tasks[f"{group}.load_batches"]["upstream"] == [f"{group}.register_files"]
            assert tasks[f"{group}.validate_batches"]["upstream"] == [f"{group}.load_batches"]
            assert tasks[f"{group}.publish_batches"]["upstream"] == [f"{group}.validate_batches"]


def _publishes(tasks: dict, task_id: str) -> set[str]:
    return {u for u in tasks[task_id]["upstream"] if u.endswith(".publish_batches")}


def test_a_familys_models_wait_for_its_own_extract_only(dagbag) -> None:
    """One family failing does not stop the others; its marts are not rebuilt on partial data."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    force = {f"extract_force.{d}.publish_batches" for d in SOURCES["force"]}
    assert _publishes(tasks, "transform.mart_reporting_monthly_model_build") == force
    assert _publishes(tasks, "transform.stg_force__crimes_model_build") == force
    for shared in ("transform.dim_geography_model_build", "transform.dim_date_model_build"):
        assert _publishes(tasks, shared) == set()  # conformed dimensions wait for no source
    assert tasks["transform.dim_date_model_build"]["upstream"] == ["prepare_warehouse"]
    for task_id in tasks:
        if task_id.startswith("transform."):
            families = {p.split(".")[0] for p in _publishes(tasks, task_id)}
            assert len(families) <= 1, task_id  # never waits on another family's extract


def test_publication_views_are_built_after_their_marts(dagbag) -> None:
    """A pub_<mart> view (small numbers suppressed) waits for its mart and its family's extract;
    the closed-basis measure 2 mart waits for the force extract like the recorded-cohort one."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    force = {f"extract_force.{d}.publish_batches" for d in SOURCES["force"]}
    publication = [t for t in tasks if t.startswith("transform.pub_mart_")]
    assert "transform.pub_mart_positive_outcomes_closed_monthly_model_build" in publication
    for task_id in publication:
        mart = task_id.removeprefix("transform.pub_")
        assert f"transform.{mart}" in tasks[task_id]["upstream"], task_id
        assert _publishes(tasks, task_id) == force, task_id
    closed = "transform.mart_positive_outcomes_closed_monthly_model_build"
    assert _publishes(tasks, closed) == force


def test_dbt_runs_through_cosmos_a_build_task_per_model(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    mart = tasks["transform.mart_reporting_monthly_model_build"]
    assert mart["operator"] == "DbtBuildLocalOperator"  # the model, then its tests
    assert not [t for t in tasks if t.endswith(".run")]  # no model runs untested
    assert tasks["transform.dim_geography_model_build"]["operator"] == "DbtBuildLocalOperator"
    # ...and every test once more over the whole project, after the builds, before finish.
    assert tasks["test_all"]["operator"] == "DbtTestLocalOperator"
    assert "test_all" in tasks["finish"]["upstream"]


def test_finish_runs_after_everything_and_the_watcher_reports_failures(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    leaves = {k for k in tasks if not any(k in v["upstream"] for v in tasks.values())}
    assert leaves == {"watcher"}
    ancestors, frontier = set(), {"watcher"}
    while frontier:
        parents = {u for t in frontier for u in tasks[t]["upstream"]} - ancestors
        ancestors |= parents
        frontier = parents
    assert ancestors == set(tasks) - {"watcher"}  # any failure anywhere reaches the watcher
    assert tasks["watcher"]["trigger_rule"] == "one_failed"
    assert tasks["finish"]["trigger_rule"] == "all_done"
    # Data Docs then the run report follow finish whatever happened; their failures reach the
    # watcher.
    assert tasks["data_docs"]["upstream"] == ["finish"]
    assert tasks["report"]["upstream"] == ["data_docs"]
    assert tasks["data_docs"]["trigger_rule"] == tasks["report"]["trigger_rule"] == "all_done"
    assert {"data_docs", "report"} <= set(tasks["watcher"]["upstream"])


def test_dag_file_does_no_work_at_import_time() -> None:
    """Only imports, constants and definitions at module level; of vawg_warehouse, only the
    constants module (datasets) is imported at parse time, the rest inside tasks."""
    tree = ast.parse(DAG_FILE.read_text())
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not any(
        isinstance(n, ast.ImportFrom)
        and (n.module or "").startswith("vawg_warehouse")
        and n.module != "vawg_warehouse.datasets"
        for n in top_imports
    )
    called = {
        ast.unparse(n.value.func)
        for n in tree.body
        if isinstance(n, ast.Expr | ast.Assign) and isinstance(n.value, ast.Call)
    }
    # cosmos's config objects (plain constructors, no I/O) and the DAG itself: nothing else.
    assert called == {"ProjectConfig", "ProfileConfig", "ExecutionConfig", "vawg_nightly"}


def test_cosmos_reads_the_manifest_rather_than_running_dbt_ls() -> None:
    source = DAG_FILE.read_text()
    assert "load_method=LoadMode.DBT_MANIFEST" in source
    assert "install_dbt_deps=False" in source


def test_the_public_marts_and_their_lineage_wait_for_the_public_extract_only(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    public = {f"extract_public.{d}.publish_batches" for d in SOURCES["public"]}
    for model in (
        "mart_public_crime_monthly",
        "mart_peer_comparison_yearly",
        "lineage_public_crime_monthly",
        "lineage_peer_comparison_yearly",
    ):
        assert _publishes(tasks, f"transform.{model}_model_build") == public
