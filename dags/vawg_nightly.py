"""Nightly load of the VAWG warehouse: sources -> validated raw tables -> dbt star schema -> marts.

* `wait_for_turn` first: one run at a time, a backfill's dates in date order (Airflow 3 runs a
  backfill's dates by the backfill's own max_active_runs, not the DAG's; vawg_warehouse.run_turn).
* `extract_<family>` (force, CPS, victim services, funding, public open data): `register` the
  family's new files as load batches, `load` them pseudonymised into landing tables with COPY,
  `validate` them with Great Expectations in SQL (a critical failure quarantines the batch or its
  failing rows), `publish` them into the typed raw tables. Families are independent: one failing
  does not stop the others.
* `transform`: dbt, one in-process invocation per group: `dbt_shared` (reference seeds, conformed
  dimensions; after the public extract, which publishes the population estimates it is built
  from, whatever that extract's outcome), then `dbt_<family>` once that family's extract
  succeeded, so a family that failed leaves its own marts unbuilt (never rebuilt on partial
  data) while the others are rebuilt. A group is rebuilt when its sources published new rows or
  the dbt project changed, and otherwise only tested: every data test runs once per run, in its
  group (audit.dbt_group_build says which and why; audit.dbt_result has every node). Trigger
  with `{"rebuild": true}` to rebuild all.
* `source_freshness` runs `dbt source freshness` once the extracts are done and records it: a
  source that has gone quiet is a warning, never a failure. `dbt_docs` writes dbt's docs as one
  static page after the transform.
* `finish` records what the run took in; `data_docs` builds the Great Expectations Data Docs of
  the run's validations and `report` the auditor's run report, both from the audit schema, even
  after a failure; `scorecard` then writes the Police and Crime Panel's measures scorecard (HTML
  and PDF); `record_outcome`, last and whatever happened before, records the run's outcome
  (failed, each failed task and its error; incomplete; or success) in audit.run_outcome and
  rewrites the run report to say it; `watcher` fails the run if any task failed.
* Alerts (vawg_warehouse.notify, configured by environment): a task's first failed try goes to
  the configured webhook or email at once, once per run and cause, marked as retrying; a retry
  that succeeds sends an all-clear; a failure for good of a cause not yet alerted alerts too; a
  deadline alert fires when the run has not finished (the marts are not fresh) by
  VAWG_MARTS_FRESH_BY (default 07:00 UTC); VAWG_DEADLINE_ALERT=off leaves it out (`vawg run`
  does: `airflow dags test` cannot run a DAG with one on Airflow 3.3.2).

Wiring only: every task calls `vawg_warehouse.orchestration` (imported inside the task). Parsing
reads the constants in `vawg_warehouse.ingest.datasets`, nothing else: no dbt, no manifest, no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import (
    AsyncCallback,
    DeadlineAlert,
    DeadlineReference,
    Param,
    TaskGroup,
    TriggerRule,
    dag,
    task,
)

from vawg_warehouse.ingest.datasets import SHARED_FAMILIES, SOURCES
from vawg_warehouse.notify import (
    deadline_after_schedule,
    deadline_alert_enabled,
    fresh_by_text,
    marts_late,
    nightly_schedule,
    task_failed,
    task_recovered,
    task_retrying,
)
from vawg_warehouse.run_turn import poke_seconds as turn_poke_seconds

default_args = {
    "owner": "vawg-data-engineering",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": task_failed,
    # the first failed try of a cause alerts at once (not after the retries' back-off); a
    # retry that succeeds sends the all-clear (vawg_warehouse.notify)
    "on_retry_callback": task_retrying,
    "on_success_callback": task_recovered,
}

# The marts are due by VAWG_MARTS_FRESH_BY (UTC): that long after the scheduled start. Left out
# under `vawg run` (airflow dags test, which fails on a DAG with a deadline in Airflow 3.3.2).
marts_deadline = (
    DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=deadline_after_schedule(),
        # the time the deadline was computed from, for the message (the triggerer's own
        # environment may differ)
        callback=AsyncCallback(marts_late, kwargs={"due": fresh_by_text()}),
        name="marts_fresh_by",
    )
    if deadline_alert_enabled()
    else None
)


def _context(dag_run, logical_date):
    from vawg_warehouse import orchestration as o

    return o.run_context(dag_run.dag_id, dag_run.run_id, logical_date.date())


@dag(
    dag_id="vawg_nightly",
    schedule=nightly_schedule(),
    start_date=datetime(2024, 4, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    deadline=marts_deadline,
    params={
        "rebuild": Param(
            False, type="boolean", description="Rebuild every dbt group, changed or not."
        )
    },
    tags=["vawg", "nightly", "warehouse"],
    doc_md=__doc__,
)
def vawg_nightly():
    @task.sensor(poke_interval=turn_poke_seconds(), mode="reschedule", timeout=20 * 3600)
    def wait_for_turn(dag_run=None, ti=None) -> bool:
        """One run at a time, backfills included: waits (holding no worker slot) for the run
        before it and for any run going (vawg_warehouse.run_turn)."""
        from vawg_warehouse import orchestration as o

        return o.wait_for_turn(ti, dag_run.dag_id, dag_run.run_id)

    @task
    def prepare_warehouse() -> list[str]:
        """Reach the warehouse and apply pending schema migrations."""
        from vawg_warehouse import orchestration as o

        return o.prepare_warehouse(o.settings_for_task())

    @task
    def register(family: str, dag_run=None, logical_date=None) -> list[int]:
        """The family's new files become load batches (same checksum: skipped)."""
        from vawg_warehouse import orchestration as o

        ctx = _context(dag_run, logical_date)
        return o.register_family(family, ctx, o.settings_for_task())

    @task
    def load(batch_ids: list[int], dag_run=None, logical_date=None) -> list[int]:
        """Stream each file, pseudonymised, into its landing table with COPY."""
        from vawg_warehouse import orchestration as o

        ctx = _context(dag_run, logical_date)
        return o.load_batches(batch_ids, ctx, o.settings_for_task())

    @task
    def validate(batch_ids: list[int], dag_run=None, logical_date=None) -> list[int]:
        """Great Expectations in SQL; a critical failure quarantines the batch."""
        from vawg_warehouse import orchestration as o

        ctx = _context(dag_run, logical_date)
        return o.validate_batches(batch_ids, ctx, o.settings_for_task())

    @task
    def publish(batch_ids: list[int], dag_run=None, logical_date=None) -> int:
        """Cast validated rows into the raw tables, one transaction per batch."""
        from vawg_warehouse import orchestration as o

        ctx = _context(dag_run, logical_date)
        return o.publish_batches(batch_ids, ctx, o.settings_for_task())

    @task
    def dbt_group(group: str, dag_run=None, logical_date=None, params=None, ti=None) -> dict:
        """dbt build (or, when nothing it reads changed, dbt test) of one group of models; a lost
        connection is retried, a failed test or model fails at once."""
        from vawg_warehouse import orchestration as o

        ctx = _context(dag_run, logical_date)
        rebuild = bool((params or {}).get("rebuild"))
        return o.transform_group(group, ctx, o.settings_for_task(), rebuild, ti.task_id)

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

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def source_freshness(dag_run=None, logical_date=None, ti=None) -> dict:
        """dbt source freshness, recorded in audit.source_freshness: stale warns, never fails."""
        from vawg_warehouse import orchestration as o

        ctx = _context(dag_run, logical_date)
        return o.check_source_freshness(ctx, o.settings_for_task(), ti.task_id)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def dbt_docs() -> str:
        """dbt docs as one static page in the reports folder (the Airflow UI links to it)."""
        from vawg_warehouse import orchestration as o

        return o.build_dbt_docs(o.settings_for_task())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def scorecard(dag_run=None) -> dict:
        """The Police and Crime Panel's measures scorecard (HTML and PDF) from the warehouse."""
        from vawg_warehouse import orchestration as o

        return o.build_scorecard(dag_run.run_id, o.settings_for_task())

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def record_outcome(dag_run=None, logical_date=None, ti=None) -> dict:
        """The run's outcome from what happened (failed tasks, their errors, files left
        unfinished), in audit.run_outcome; rewrites the run report and index to say it."""
        from vawg_warehouse import orchestration as o

        states = o.task_states(ti, dag_run.dag_id, dag_run.run_id)
        return o.record_outcome(
            dag_run.dag_id, dag_run.run_id, logical_date.date(), states, o.settings_for_task()
        )

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def watcher() -> None:
        """Fails the run when any task failed (finish runs anyway and would hide it)."""
        raise RuntimeError("a task of this run failed: see the failed task's log")

    prepared = prepare_warehouse()
    wait_for_turn() >> prepared
    extracts = {}
    for family in SOURCES:
        with TaskGroup(group_id=f"extract_{family}") as extracts[family]:
            batches = register.override(task_id="register")(family)
            prepared >> batches
            publish(validate(load(batches)))

    with TaskGroup(group_id="transform") as transform:
        # after the extracts that publish population estimates (tonight's estimate is in
        # tonight's build), but not stopped by their failure: once the warehouse is prepared
        shared = dbt_group.override(
            task_id="dbt_shared", trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS
        )("shared")
        prepared >> shared
        for family in SHARED_FAMILIES:
            extracts[family] >> shared
        for family in SOURCES:
            built = dbt_group.override(task_id=f"dbt_{family}")(family)
            [shared, extracts[family]] >> built

    fresh = source_freshness()
    [*extracts.values()] >> fresh
    dbt_pages = dbt_docs()
    transform >> dbt_pages
    done = finish()
    [*extracts.values(), transform, fresh, dbt_pages] >> done
    docs = data_docs()
    reported = report()
    card = scorecard()
    outcome = record_outcome()
    done >> docs >> reported >> card >> outcome
    everything = [*extracts.values(), transform, fresh, dbt_pages, done, docs, reported, card]
    [*everything, outcome] >> watcher()


dag = vawg_nightly()
