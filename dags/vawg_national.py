"""National run: every force's night, each in its own warehouse, fanned out by dynamic task mapping.

* `wait_for_turn` first: one national run at a time, a backfill's dates in date order (the
  nightly's gate, vawg_warehouse.run_turn, with `watcher` as the task that ends a run).
* `forces_tonight` lists the forces the run covers (VAWG_NATIONAL_FORCES, each in seed forces;
  unset: every force there): a small XCom, a list of data.police.uk force ids.
* `night`, a mapped task group (one map index per force, `.expand(force=...)`), runs one force's
  night with that force's settings (vawg_warehouse.national: its own warehouse database on the
  same server, `<db>_<force>`, its own landing folder `<landing>/<force>/`, home and reports):
  `prepare` (the database made if new, migrations), `extract_<family>` (register, load, validate
  and publish the family's new files: orchestration's four steps), `dbt_shared` (after the
  public extract, whatever its outcome) then `dbt_<family>` once that family's extract
  succeeded; `source_freshness` once the extracts are done (stale warns, never fails); then
  `finish`, `docs` (Data Docs of the run's validations, dbt docs), `report`, `scorecard` (the
  force's Panel scorecard), each in the force's own reports folder, and `record_outcome`
  whatever happened (the force's own audit.run_outcome). Forces are
  independent: one failing leaves the others' nights as they are.
* `watcher` fails the run if any task of any force failed.
* Alerts: the nightly's (vawg_warehouse.notify), each as the task's force: a failed try is
  recorded in the force's own audit.task_failure (so its run outcome names the error), its
  cause alerted once per run with the force named, and a retry that succeeds sends the
  all-clear.

Tasks hand each other database tables and small XComs only, never local files, so the forces'
nights spread over Celery (or Kubernetes) workers. One run at a time (max_active_runs=1, and the
gate for backfills, whose dates Airflow runs by the backfill's own max_active_runs); the
schedule is VAWG_NATIONAL_SCHEDULE (default none: triggered only, so the nightly is unchanged).

Wiring only: every task calls `vawg_warehouse.national` (imported inside the task). Parsing reads
the constants in `vawg_warehouse.ingest.datasets` and the schedule's setting, nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, TriggerRule, dag, task, task_group

from vawg_warehouse.ingest.datasets import SHARED_FAMILIES, SOURCES
from vawg_warehouse.notify import (
    national_schedule,
    national_task_failed,
    national_task_recovered,
    national_task_retrying,
)
from vawg_warehouse.run_turn import poke_seconds as turn_poke_seconds

GROUP = "night"  # vawg_warehouse.national.GROUP

default_args = {
    "owner": "vawg-data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    # the nightly's alerts, each as the failing task's force: recorded in its own warehouse, its
    # first failed try of a cause alerted at once, an all-clear when a retry succeeds
    "on_failure_callback": national_task_failed,
    "on_retry_callback": national_task_retrying,
    "on_success_callback": national_task_recovered,
}


def _context(dag_run, logical_date):
    from vawg_warehouse import orchestration as o

    when = logical_date or dag_run.run_after
    return o.run_context(dag_run.dag_id, dag_run.run_id, when.date())


def _base():
    """The run's own settings (the Airflow connection's warehouse when the deployment has one);
    each force's are derived from them."""
    from vawg_warehouse import orchestration as o

    return o.settings_for_task()


@dag(
    dag_id="vawg_national",
    schedule=national_schedule(),
    start_date=datetime(2024, 4, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={
        "rebuild": Param(
            False, type="boolean", description="Rebuild every dbt group of every force."
        )
    },
    tags=["vawg", "national", "warehouse"],
    doc_md=__doc__,
)
def vawg_national():
    @task.sensor(poke_interval=turn_poke_seconds(), mode="reschedule", timeout=20 * 3600)
    def wait_for_turn(dag_run=None, ti=None) -> bool:
        """One national run at a time, backfills included: waits (holding no worker slot) for
        the run before it and for any run going (vawg_warehouse.run_turn)."""
        from vawg_warehouse import national
        from vawg_warehouse import orchestration as o

        return o.wait_for_turn(ti, dag_run.dag_id, dag_run.run_id, national.LAST_TASK)

    @task
    def forces_tonight() -> list[str]:
        """The forces of this run (VAWG_NATIONAL_FORCES, each a force of seed forces)."""
        from vawg_warehouse import national

        return national.national_forces()

    @task
    def prepare(force: str) -> list[str]:
        """The force's warehouse database made if new, its schema migrated."""
        from vawg_warehouse import national

        return national.prepare_force(force, _base())

    @task
    def extract(force: str, family: str, dag_run=None, logical_date=None) -> dict:
        """Register, load (pseudonymised, COPY), validate (Great Expectations) and publish the
        family's new files of the force."""
        from vawg_warehouse import national

        ctx = _context(dag_run, logical_date)
        return national.extract_family(force, family, ctx, _base())

    @task
    def dbt_group(
        force: str, group: str, dag_run=None, logical_date=None, params=None, ti=None
    ) -> dict:
        """dbt build (or test only) of one group in the force's warehouse."""
        from vawg_warehouse import national

        ctx = _context(dag_run, logical_date)
        rebuild = bool((params or {}).get("rebuild"))
        return national.transform_force_group(force, group, ctx, _base(), rebuild, ti.task_id)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def finish(force: str, dag_run=None, logical_date=None) -> dict:
        """The force's summary of the run in its audit.pipeline_run (even after a failure)."""
        from vawg_warehouse import national

        when = _context(dag_run, logical_date).logical_date
        return national.finish_force(force, dag_run.dag_id, dag_run.run_id, when, _base())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def source_freshness(force: str, dag_run=None, logical_date=None, ti=None) -> dict:
        """dbt source freshness of the force's warehouse: stale warns, never fails."""
        from vawg_warehouse import national

        ctx = _context(dag_run, logical_date)
        return national.freshness_force(force, ctx, _base(), ti.task_id)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def docs(force: str, dag_run=None) -> dict:
        """The force's Data Docs of the run's validations and dbt docs, its own reports folder."""
        from vawg_warehouse import national

        return national.docs_force(force, dag_run.run_id, _base())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def scorecard(force: str, dag_run=None) -> dict:
        """The force's Police and Crime Panel scorecard (HTML and PDF), its own reports folder."""
        from vawg_warehouse import national

        return national.scorecard_force(force, dag_run.run_id, _base())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def report(force: str, dag_run=None) -> dict:
        """The auditor's run report of the force's warehouse (even after a failure)."""
        from vawg_warehouse import national

        return national.report_force(force, dag_run.run_id, _base())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def record_outcome(force: str, dag_run=None, logical_date=None, ti=None) -> dict:
        """The force's outcome of the run, from its own tasks' states, in its audit.run_outcome."""
        from vawg_warehouse import national
        from vawg_warehouse import orchestration as o

        found = o.task_states(ti, dag_run.dag_id, dag_run.run_id)
        states = national.states_of_force(found, ti.map_index, GROUP)
        when = _context(dag_run, logical_date).logical_date
        return national.record_force_outcome(
            force, dag_run.dag_id, dag_run.run_id, when, states, _base()
        )

    @task_group(group_id=GROUP)
    def night(force: str):
        prepared = prepare(force)
        extracts = {
            family: extract.override(task_id=f"extract_{family}")(force, family)
            for family in SOURCES
        }
        # as in the nightly: after the extracts that publish population estimates, whatever
        # their outcome, once the force's warehouse is prepared
        shared = dbt_group.override(
            task_id="dbt_shared", trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
        )(force, "shared")
        prepared >> [shared, *extracts.values()]
        for family in SHARED_FAMILIES:
            extracts[family] >> shared
        built = []
        for family in SOURCES:
            group = dbt_group.override(task_id=f"dbt_{family}")(force, family)
            [shared, extracts[family]] >> group
            built.append(group)
        fresh = source_freshness(force)
        [*extracts.values()] >> fresh
        done = finish(force)
        [*extracts.values(), shared, *built, fresh] >> done
        outcome = record_outcome(force)
        pages = docs(force)
        reported = report(force)
        card = scorecard(force)
        done >> pages >> reported >> card >> outcome
        # every task of the night reaches the watcher (returned: the group's edges bind to them)
        night_tasks = [prepared, *extracts.values(), shared, *built, fresh, done, pages, reported]
        return [*night_tasks, card, outcome]

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def watcher() -> None:
        """Fails the run when any task of any force failed (finish runs anyway and would hide
        it)."""
        raise RuntimeError("a task of this run failed: see the failed task's log")

    forces = forces_tonight()
    wait_for_turn() >> forces
    every_task = night.expand(force=forces)
    every_task >> watcher()


dag = vawg_national()
