"""The DAG folder imports cleanly and its two DAGs are wired as the issues ask: vawg_nightly
(one force) and vawg_national (every force's night, fanned out by dynamic task mapping)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse.dbt_run.transform import GROUPS
from vawg_warehouse.ingest.datasets import SHARED_FAMILIES, SOURCES

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "vawg_nightly.py"
NATIONAL_FILE = DAG_FILE.with_name("vawg_national.py")
STEPS = ("register", "load", "validate", "publish")


def test_no_import_errors(dagbag) -> None:
    assert dagbag["import_errors"] == {}
    assert set(dagbag["dags"]) == {"vawg_nightly", "vawg_national"}


def test_nightly_schedule_no_catchup_one_run_at_a_time(dagbag) -> None:
    dag = dagbag["dags"]["vawg_nightly"]
    assert dag["catchup"] is False and dag["max_active_runs"] == 1
    assert "expression='30 2 * * *'" in dag["schedule"]
    assert {"vawg", "nightly"} <= set(dag["tags"])


def test_tasks_that_touch_the_outside_retry_with_back_off(dagbag) -> None:
    """Every task that touches the warehouse, the dbt groups and the last step included, retries
    with back-off: a short outage delays the night rather than losing it (a dbt group that
    failed on its own terms fails at once: tests/unit/test_dbt_retries.py)."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    extract = {k: v for k, v in tasks.items() if k.startswith("extract_")}
    assert extract and all(t["retries"] >= 2 and t["exponential_backoff"] for t in extract.values())
    touching = {k: v for k, v in tasks.items() if k != "watcher"}
    assert {
        k for k, t in touching.items() if t["retries"] < 2 or not t["exponential_backoff"]
    } == set()
    assert tasks["watcher"]["retries"] == 0  # it only reports that another task failed


def test_each_family_is_registered_loaded_validated_then_published(dagbag) -> None:
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    for family in SOURCES:
        group = f"extract_{family}"
        assert tasks[f"{group}.register"]["upstream"] == ["prepare_warehouse"]
        for before, after in zip(STEPS, STEPS[1:], strict=False):
            assert tasks[f"{group}.{after}"]["upstream"] == [f"{group}.{before}"]


def test_a_handful_of_tasks_whatever_the_size_of_the_dbt_project(dagbag) -> None:
    """One dbt task per group (shared + one per family), not one per model, seed or test."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    transform = sorted(t for t in tasks if t.startswith("transform."))
    assert transform == sorted(f"transform.dbt_{g}" for g in GROUPS)
    # + wait_for_turn, finish, data_docs, report, watcher, source_freshness, dbt_docs,
    # scorecard, record_outcome
    assert len(tasks) == 1 + 4 * len(SOURCES) + len(GROUPS) + 9


def test_one_run_at_a_time_whatever_started_it(dagbag) -> None:
    """Airflow 3 limits a backfill's runs by the backfill's own max_active_runs, not the DAG's:
    the first task waits, in reschedule mode (no worker slot held), for the run before it and
    any run going (vawg_warehouse.run_turn); everything else comes after it."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    gate = tasks["wait_for_turn"]
    assert gate["upstream"] == [] and gate["operator"].endswith("SensorOperator")
    assert gate["mode"] == "reschedule"
    assert gate["poke_interval"] == 30  # VAWG_TURN_POKE_SECONDS unset: the default
    assert [t for t, v in tasks.items() if not v["upstream"]] == ["wait_for_turn"]
    assert tasks["prepare_warehouse"]["upstream"] == ["wait_for_turn"]


def test_a_familys_models_wait_for_its_own_extract_only(dagbag) -> None:
    """One family failing does not stop the others; its marts are not rebuilt on partial data."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    # the shared group comes after the extract that publishes the population estimates (the
    # night's estimate is in the night's build), and is not stopped by its failure
    shared = tasks["transform.dbt_shared"]
    assert SHARED_FAMILIES == ("public",)
    assert sorted(shared["upstream"]) == ["extract_public.publish", "prepare_warehouse"]
    assert shared["trigger_rule"] == "all_done_min_one_success"
    for family in SOURCES:
        upstream = tasks[f"transform.dbt_{family}"]["upstream"]
        assert sorted(upstream) == sorted([f"extract_{family}.publish", "transform.dbt_shared"])
        assert tasks[f"transform.dbt_{family}"]["trigger_rule"] == "all_success"


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
    assert {f"transform.dbt_{family}" for family in SOURCES} <= set(tasks["finish"]["upstream"])
    # Data Docs then the run report follow finish whatever happened; their failures reach the
    # watcher.
    assert tasks["data_docs"]["upstream"] == ["finish"]
    assert tasks["report"]["upstream"] == ["data_docs"]
    assert tasks["data_docs"]["trigger_rule"] == tasks["report"]["trigger_rule"] == "all_done"
    assert {"data_docs", "report"} <= set(tasks["watcher"]["upstream"])
    # The Panel's scorecard after the report; freshness once the extracts are done; dbt docs
    # after the transform. Each runs whatever happened, and its failure reaches the watcher.
    assert tasks["scorecard"]["upstream"] == ["report"]
    assert sorted(tasks["source_freshness"]["upstream"]) == sorted(
        f"extract_{family}.publish" for family in SOURCES
    )
    assert sorted(tasks["dbt_docs"]["upstream"]) == sorted(  # the transform group's leaves
        f"transform.dbt_{family}" for family in SOURCES
    )
    assert {"source_freshness", "dbt_docs"} <= set(tasks["finish"]["upstream"])
    for name in ("scorecard", "source_freshness", "dbt_docs"):
        assert tasks[name]["trigger_rule"] == "all_done"
        assert name in tasks["watcher"]["upstream"]


def test_the_last_step_records_the_outcome_whatever_happened(dagbag) -> None:
    """record_outcome runs after every other task but the watcher, whatever their state."""
    tasks = dagbag["dags"]["vawg_nightly"]["tasks"]
    outcome = tasks["record_outcome"]
    assert outcome["trigger_rule"] == "all_done"
    assert outcome["upstream"] == ["scorecard"]
    ancestors, frontier = set(), {"record_outcome"}
    while frontier:
        parents = {u for t in frontier for u in tasks[t]["upstream"]} - ancestors
        ancestors |= parents
        frontier = parents
    assert ancestors == set(tasks) - {"record_outcome", "watcher"}


def test_every_task_alerts_on_failure_and_the_marts_have_a_deadline(dagbag) -> None:
    """default_args give every task the configured notifier; a deadline alert (Airflow 3's
    DeadlineAlert, run by the triggerer) fires when the run has not finished by the hour the
    marts are due (VAWG_MARTS_FRESH_BY, 07:00 UTC when unset: 4.5 h after the 02:30 start)."""
    dag = dagbag["dags"]["vawg_nightly"]
    assert all(
        t["on_failure"] == ["vawg_warehouse.notify.task_failed"] for t in dag["tasks"].values()
    )
    # the first failed try alerts at once (issue 17), a retry that succeeds sends the all-clear
    assert all(
        t["on_retry"] == ["vawg_warehouse.notify.task_retrying"]
        and t["on_success"] == ["vawg_warehouse.notify.task_recovered"]
        for t in dag["tasks"].values()
    )
    assert dag["deadlines"] == [
        {
            "reference": "DagRunLogicalDateDeadline",
            "interval_seconds": 4.5 * 3600,
            "callback": "vawg_warehouse.notify.marts_late",
            "callback_kind": "AsyncCallback",
        }
    ]
    assert dag["serialized"]  # the deadline survives the DAG's serialisation


def test_dag_file_does_no_work_at_import_time() -> None:
    """Only imports, constants and definitions at module level; of vawg_warehouse, only the
    constants module (datasets), the alerts (notify) and the gate's poke interval (run_turn),
    the last two the standard library only, are imported at parse time, the rest inside tasks.
    No dbt, no manifest: the DAG's shape does not depend on the dbt project."""
    tree = ast.parse(DAG_FILE.read_text())
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    imported = {(n.module or "") for n in top_imports if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in top_imports if isinstance(n, ast.Import) for a in n.names}
    assert imported == {
        "__future__",
        "datetime",
        "airflow.sdk",
        "vawg_warehouse.ingest.datasets",
        "vawg_warehouse.notify",
        "vawg_warehouse.run_turn",
    }
    parsed_too = [
        ast.parse((DAG_FILE.parents[1] / f"plugins/vawg_warehouse/{name}.py").read_text())
        for name in ("notify", "run_turn")
    ]
    notify_imports = {
        (n.module if isinstance(n, ast.ImportFrom) else n.names[0].name).split(".")[0]
        for module in parsed_too
        for n in module.body
        if isinstance(n, ast.Import | ast.ImportFrom)
    }
    assert notify_imports <= {
        "collections",
        "__future__",
        "json",
        "logging",
        "os",
        "smtplib",
        "ssl",
        "urllib",
        "dataclasses",
        "datetime",
        "email",
        "typing",  # TYPE_CHECKING only: its names are imported for the type checker alone
    }
    called = {
        ast.unparse(n.value.func)
        for n in tree.body
        if isinstance(n, ast.Expr | ast.Assign) and isinstance(n.value, ast.Call)
    }
    assert called == {"vawg_nightly"}


def test_vawg_run_leaves_the_deadline_out(tmp_path) -> None:
    """`vawg run` runs the DAG with `airflow dags test`, which on Airflow 3.3.2 fails after a
    successful run of a DAG with a deadline alert: its environment switches the alert off."""
    import json
    import subprocess
    import sys

    from tests.dags.conftest import PROBE
    from vawg_warehouse.airflow_env import with_airflow_environment
    from vawg_warehouse.config import get_settings

    env = with_airflow_environment(get_settings())
    assert env["VAWG_DEADLINE_ALERT"] == "off"
    env.update(
        AIRFLOW_HOME=str(tmp_path),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path / 'airflow.db'}",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dag = json.loads(done.stdout.strip().splitlines()[-1])["dags"]["vawg_nightly"]
    assert dag["deadlines"] == []
    assert all(t["on_failure"] for t in dag["tasks"].values())  # failures still alert


def test_every_name_the_dag_file_takes_from_the_package_exists() -> None:
    """The DAG file imports the package only inside its tasks, so a name it calls that a refactor
    moved away fails no parse, only the task, at run time: check each `o.<name>` here."""
    import vawg_warehouse.orchestration as o

    tree = ast.parse(DAG_FILE.read_text())
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "o"
    }
    assert len(used) > 10
    assert sorted(name for name in used if not hasattr(o, name)) == []


# --------------------------------------------------------------------------------------------
# vawg_national: one force's night per map index of a mapped task group
# --------------------------------------------------------------------------------------------

NIGHT_STEPS = (
    "prepare",
    "source_freshness",
    "finish",
    "docs",
    "report",
    "scorecard",
    "record_outcome",
)


def _national(dagbag) -> dict:
    return dagbag["dags"]["vawg_national"]


def test_national_is_triggered_only_by_default_one_run_at_a_time(dagbag) -> None:
    """VAWG_NATIONAL_SCHEDULE unset: no schedule, so the nightly stays the only scheduled run."""
    dag = _national(dagbag)
    assert dag["catchup"] is False and dag["max_active_runs"] == 1
    assert "NullTimetable" in dag["schedule"]
    assert {"vawg", "national"} <= set(dag["tags"])


def test_national_fans_out_one_mapped_group_per_force(dagbag) -> None:
    """forces_tonight lists the forces, after the run gate; every other task but the watcher is
    in the mapped task group `night`, and each reads the force from it."""
    tasks = _national(dagbag)["tasks"]
    assert tasks["forces_tonight"]["upstream"] == ["wait_for_turn"]
    night = {t for t in tasks if t.startswith("night.")}
    assert night == {f"night.{s}" for s in NIGHT_STEPS} | {
        f"night.{kind}_{family}" for kind in ("extract", "dbt") for family in SOURCES
    } | {"night.dbt_shared"}
    assert set(tasks) == night | {"wait_for_turn", "forces_tonight", "watcher"}
    assert {tasks[t]["mapped_group"] for t in night} == {"night"}
    unmapped = ("wait_for_turn", "forces_tonight", "watcher")
    assert {tasks[t]["mapped_group"] for t in unmapped} == {None}
    assert all("forces_tonight" in tasks[t]["upstream"] for t in night)  # the mapped force
    assert len(tasks) == 3 + len(NIGHT_STEPS) + len(SOURCES) + len(GROUPS)


def test_national_runs_take_turns_as_the_nightlys_do(dagbag) -> None:
    """The nightly's run gate first (a backfill's dates run by the backfill's max_active_runs):
    a reschedule-mode sensor, the only root; a run holds the turn until its watcher has ended
    (vawg_warehouse.national.LAST_TASK), which comes after every force's night."""
    from vawg_warehouse import national

    tasks = _national(dagbag)["tasks"]
    gate = tasks["wait_for_turn"]
    assert gate["operator"].endswith("SensorOperator") and gate["mode"] == "reschedule"
    assert gate["poke_interval"] == 30  # VAWG_TURN_POKE_SECONDS unset: the default
    assert [t for t, v in tasks.items() if not v["upstream"]] == ["wait_for_turn"]
    last = tasks[national.LAST_TASK]
    assert set(last["upstream"]) == {t for t in tasks if t.startswith("night.")}


def test_national_each_forces_night_is_wired_as_the_nightly(dagbag) -> None:
    tasks = _national(dagbag)["tasks"]

    def up(task: str) -> set[str]:
        return set(tasks[f"night.{task}"]["upstream"]) - {"forces_tonight"}

    assert up("prepare") == set()
    # after the extract that publishes the population estimates, not stopped by its failure
    assert up("dbt_shared") == {"night.prepare", *(f"night.extract_{f}" for f in SHARED_FAMILIES)}
    assert tasks["night.dbt_shared"]["trigger_rule"] == "all_done_min_one_success"
    for family in SOURCES:
        assert up(f"extract_{family}") == {"night.prepare"}
        assert up(f"dbt_{family}") == {"night.dbt_shared", f"night.extract_{family}"}
        assert tasks[f"night.dbt_{family}"]["trigger_rule"] == "all_success"
    assert up("source_freshness") == {f"night.extract_{family}" for family in SOURCES}
    assert up("finish") == {
        "night.dbt_shared",
        "night.source_freshness",
        *(f"night.{kind}_{family}" for kind in ("extract", "dbt") for family in SOURCES),
    }
    assert up("docs") == {"night.finish"} and up("report") == {"night.docs"}
    assert up("scorecard") == {"night.report"} and up("record_outcome") == {"night.scorecard"}
    for name in ("source_freshness", "finish", "docs", "report", "scorecard", "record_outcome"):
        assert tasks[f"night.{name}"]["trigger_rule"] == "all_done"
    # any task of any force failing reaches the watcher
    assert set(tasks["watcher"]["upstream"]) == {t for t in tasks if t.startswith("night.")}
    assert tasks["watcher"]["trigger_rule"] == "one_failed" and tasks["watcher"]["retries"] == 0
    touching = {k: v for k, v in tasks.items() if k != "watcher"}
    assert {k for k, t in touching.items() if t["retries"] < 2 or not t["exponential_backoff"]} == (
        set()
    )


def test_national_tasks_alert_as_their_force(dagbag) -> None:
    """Every task carries the nightly's three alert callbacks in their national form (each runs
    as the failing task's force: vawg_warehouse.national.as_force); the package's group name is
    the DAG's, so a task is known as its force's."""
    from vawg_warehouse import national

    tasks = _national(dagbag)["tasks"]
    for kind, name in (
        ("on_failure", "failed"),
        ("on_retry", "retrying"),
        ("on_success", "recovered"),
    ):
        assert {tuple(t[kind]) for t in tasks.values()} == {
            (f"vawg_warehouse.notify.national_task_{name}",)
        }, kind
    assert {t["mapped_group"] for t in tasks.values()} == {national.GROUP, None}


def test_national_dag_file_parses_fast_and_imports_nothing_heavy() -> None:
    """Only imports, constants and definitions at module level: of the package, only the
    constants module (datasets), the schedule's setting (notify) and the gate's poke interval
    (run_turn), the last two standard library only.
    Parsed in a fresh process, the file costs well under half a second above airflow.sdk's own
    import, and brings in no dbt, Great Expectations, database driver or data library, nor the
    package's task modules."""
    import json
    import subprocess
    import sys

    from vawg_warehouse.airflow_env import with_airflow_environment
    from vawg_warehouse.config import get_settings

    tree = ast.parse(NATIONAL_FILE.read_text())
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    imported = {(n.module or "") for n in top_imports if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in top_imports if isinstance(n, ast.Import) for a in n.names}
    assert imported == {
        "__future__",
        "datetime",
        "airflow.sdk",
        "vawg_warehouse.ingest.datasets",
        "vawg_warehouse.notify",
        "vawg_warehouse.run_turn",
    }
    called = {
        ast.unparse(n.value.func)
        for n in tree.body
        if isinstance(n, ast.Expr | ast.Assign) and isinstance(n.value, ast.Call)
    }
    assert called == {"vawg_national"}

    child = r"""
import importlib.util, json, sys, time
from airflow.sdk import DAG, Param, TriggerRule, dag, task, task_group  # noqa: F401
before = set(sys.modules)
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("vawg_national_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
took = time.perf_counter() - t0
print(json.dumps({"seconds": took, "new": sorted(set(sys.modules) - before)}))
"""
    env = with_airflow_environment(get_settings())
    done = subprocess.run(
        [sys.executable, "-c", child, str(NATIONAL_FILE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    heavy = ("dbt", "great_expectations", "psycopg", "pandas", "pyarrow", "sqlalchemy")
    package = ("vawg_warehouse.national", "vawg_warehouse.orchestration", "vawg_warehouse.config")
    assert [m for m in found["new"] if m.split(".")[0] in heavy or m in package] == []
    assert found["seconds"] < 0.5, found["seconds"]


def test_every_name_the_national_dag_takes_from_the_package_exists() -> None:
    import vawg_warehouse.national as national
    import vawg_warehouse.orchestration as o

    tree = ast.parse(NATIONAL_FILE.read_text())
    used = {
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("o", "national")
    }
    assert len(used) >= 8
    modules = {"o": o, "national": national}
    assert sorted(f"{m}.{n}" for m, n in used if not hasattr(modules[m], n)) == []
