"""The national run: each force's night in a warehouse of its own, one Airflow run for them all.

A national run covers the forces of the setting ``VAWG_NATIONAL_FORCES`` (data.police.uk force
ids, comma-separated, e.g. ``lancashire,cumbria``; unset: every force of seed forces). Each must
be a force of seed forces: any other is an error that names it and the known forces.

Each force has its own settings, derived from the run's (the environment, and the Airflow
connection when the deployment defines one):

* its own warehouse **database** on the same server: ``<database>_<force>`` (``-`` -> ``_``),
  e.g. ``vawg_lancashire`` beside ``vawg``; made on first use (``ensure_force_database``) and
  migrated like any warehouse. A force's rows are loaded, validated, published and modelled in
  its own database only: no table of one force's is ever in another's;
* its own landing folder ``<landing>/<force>/`` (the same layout as a one-force landing folder
  below it), archive ``<archive>/<force>/``, state folder ``<home>/national/<force>/`` (dbt's
  parse cache) and reports ``<reports>/national/<force>/``.

The project reads its settings from the environment afresh (config.get_settings, and
forces.home_force_code for the home force), so a task runs a force's step inside
``force_environment(force)``: the force's variables are set for the call only and the
environment is restored after it, whatever the step changed there (the dbt runner sets the
profile's variables), because a worker process may run tasks of several forces.

The national DAG (dags/vawg_national.py) only wires the functions below to Airflow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.forces import HOME_FORCE_VARIABLE, ForceError, all_forces

log = logging.getLogger(__name__)

FORCES_ENV = "VAWG_NATIONAL_FORCES"
# The task whose end is the end of a national run, for the run gate (vawg_warehouse.run_turn):
# the watcher comes after every task of every force's night (skipped when none failed).
LAST_TASK = "watcher"
NATIONAL_FOLDER = "national"
# PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1): a longer one is refused here
# rather than silently cut (two forces' databases could then be one).
MAX_IDENTIFIER = 63
# What a force's step reads from the environment (config.get_settings, forces.home_force_code).
FORCE_VARIABLES = (
    HOME_FORCE_VARIABLE,
    "VAWG_WAREHOUSE_URL",
    "VAWG_HOME",
    "VAWG_LANDING_DIR",
    "VAWG_ARCHIVE_DIR",
    "VAWG_REPORTS_DIR",
)


class NationalError(ForceError):
    """A national run that cannot be set up as configured (the message says why)."""


def national_forces(raw: str | None = None, folder: Path | None = None) -> list[str]:
    """The forces a national run covers, in the order given (each once): ``raw``, else
    ``VAWG_NATIONAL_FORCES``, else every force of seed forces. A force seed forces lacks is an
    error naming it and the known forces."""
    known = all_forces(folder)
    value = os.environ.get(FORCES_ENV, "") if raw is None else raw
    wanted = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not wanted:
        if raw is not None or value.strip():
            raise NationalError(f"{FORCES_ENV} names no force (e.g. lancashire,cumbria)")
        return sorted(known)
    unknown = [force for force in wanted if force not in known]
    if unknown:
        raise NationalError(
            f"{FORCES_ENV}: {', '.join(repr(f) for f in unknown)} not in seed forces "
            f"(dbt_project/seeds/reference/forces.csv); known forces are "
            f"{', '.join(sorted(known))}"
        )
    return list(dict.fromkeys(wanted))


def force_database(database: str, force: str) -> str:
    """The name of ``force``'s warehouse database beside ``database``: ``<database>_<force>``,
    hyphens as underscores."""
    name = f"{database}_{force.replace('-', '_')}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise NationalError(
            f"the warehouse database of force {force!r} would be named {name!r}, longer than "
            f"PostgreSQL's {MAX_IDENTIFIER} bytes: use a shorter warehouse database name"
        )
    return name


def _with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` (login, host, port and options kept as they are)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def force_settings(force: str, base: Settings | None = None) -> Settings:
    """``force``'s settings in a national run whose own settings are ``base``: its database on
    the same server, its landing, archive, state and reports folders (module docstring)."""
    from vawg_warehouse.warehouse import connection_info

    base = base or get_settings()
    info = connection_info(base)
    database = force_database(info.dbname, force)
    if base.external_warehouse_url:
        url = _with_database(base.external_warehouse_url, database)
    else:  # the embedded server: the same server, named by URL (its password is not a secret)
        url = info.for_database(database).url
    home = base.home / NATIONAL_FOLDER / force
    return dataclasses.replace(
        base,
        home=home,
        landing_dir=base.landing_dir / force,
        external_warehouse_url=url,
        archive_dir=base.archive_dir / force,
        reports_override=base.reports_dir / NATIONAL_FOLDER / force,
    )


def force_variables(force: str, settings: Settings, base: Settings) -> dict[str, str]:
    """The environment under which config.get_settings() gives ``settings`` and the home force is
    ``force``. One pseudonym key for every force: a demo key kept in the run's own state folder
    (no key in the environment) is named by file, never copied."""
    from vawg_warehouse.ingest.privacy import KEY_ENV, KEY_FILE_ENV, _key_file

    found = {
        HOME_FORCE_VARIABLE: force,
        "VAWG_WAREHOUSE_URL": settings.external_warehouse_url or "",
        "VAWG_HOME": str(settings.home),
        "VAWG_LANDING_DIR": str(settings.landing_dir),
        "VAWG_ARCHIVE_DIR": str(settings.archive_dir),
        "VAWG_REPORTS_DIR": str(settings.reports_dir),
    }
    if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        if _key_file(base).exists():
            found[KEY_FILE_ENV] = str(_key_file(base))
    return found


@contextlib.contextmanager
def force_environment(force: str, base: Settings | None = None) -> Iterator[Settings]:
    """Run the body as ``force``'s warehouse: its variables set in os.environ, its settings
    given; afterwards the environment is as it was before, every variable the body set or
    changed too (the dbt runner sets the profile's), so the next task of the same process
    (another force's) starts clean."""
    known = national_forces(force)  # a force of seed forces, or a clear error
    if len(known) != 1:
        raise NationalError(f"one force at a time, not {force!r}")
    base = base or get_settings()
    settings = force_settings(known[0], base)
    saved = dict(os.environ)
    os.environ.update(force_variables(known[0], settings, base))
    try:
        yield settings
    finally:
        for key in [k for k in os.environ if k not in saved]:
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def ensure_force_database(settings: Settings) -> bool:
    """Make the force's warehouse database on its server if it has none (the login of the
    warehouse URL needs CREATEDB); True when it was made."""
    import psycopg
    from psycopg import sql

    from vawg_warehouse.warehouse import connection_info

    if force_database_exists(settings):
        return False
    info = connection_info(settings)
    with psycopg.connect(info.for_database("postgres").url, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(info.dbname)))
        except psycopg.errors.DuplicateDatabase:  # another worker made it meanwhile
            return False
    log.info("made the warehouse database %s", info.dbname)
    return True


# --------------------------------------------------------------------------------------------
# A force's night: the nightly's steps (orchestration) with the force's settings
# --------------------------------------------------------------------------------------------


def prepare_force(force: str, base: Settings | None = None) -> list[str]:
    """The force's warehouse database made if new, its schema migrated: the migrations applied."""
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.warehouse import ensure_warehouse

    base = base or get_settings()
    ensure_warehouse(base)  # the server is up (the embedded one is started)
    with force_environment(force, base) as settings:
        ensure_force_database(settings)
        return o.prepare_warehouse(settings)


def extract_family(force: str, family: str, ctx, base: Settings | None = None) -> dict:
    """One source family of the force: its new files registered, loaded, validated and published
    (orchestration's four steps, each idempotent for its batches: a retry goes on where the last
    try stopped). A small summary for XCom: batch counts and rows published."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        registered = o.register_family(family, ctx, settings)
        loaded = o.load_batches(registered, ctx, settings)
        validated = o.validate_batches(loaded, ctx, settings)
        rows = o.publish_batches(validated, ctx, settings)
    return {
        "force": force,
        "family": family,
        "registered": len(registered),
        "loaded": len(loaded),
        "validated": len(validated),
        "rows_published": rows,
    }


def transform_force_group(
    force: str,
    group: str,
    ctx,
    base: Settings | None = None,
    rebuild: bool = False,
    task_id: str | None = None,
) -> dict:
    """dbt build (or test) of one group in the force's warehouse (orchestration.transform_group)."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        done = o.transform_group(group, ctx, settings, rebuild, task_id)
    return {"force": force, **done}


def finish_force(
    force: str,
    dag_id: str | None,
    run_id: str | None,
    logical_date: date | None,
    base: Settings | None = None,
) -> dict:
    """The run's summary in the force's audit.pipeline_run (counts and file names only)."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        summary = o.finish_run(dag_id, run_id, logical_date, settings)
    return {"force": force, "batches": len(summary["batches"])}


def freshness_force(force: str, ctx, base: Settings | None = None, task_id: str | None = None):
    """dbt source freshness of the force's warehouse, recorded in its audit.source_freshness
    (orchestration.check_source_freshness: a stale source warns, never fails)."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        checked = o.check_source_freshness(ctx, settings, task_id)
    return {"force": force, "stale": checked.get("stale", [])}


def scorecard_force(force: str, run_id: str | None, base: Settings | None = None) -> dict:
    """The Police and Crime Panel's measures scorecard (HTML and PDF) of the force, from its own
    warehouse, in its own reports folder (orchestration.build_scorecard)."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        card = o.build_scorecard(run_id, settings)
    return {"force": force, "html": card["html"], "pdf": card["pdf"]}


def docs_force(force: str, run_id: str, base: Settings | None = None) -> dict:
    """The auditor's pages of the force's night, in its own reports folder: Great Expectations
    Data Docs of the run's validations (none when nothing was validated) and dbt's docs as one
    static page (orchestration.build_data_docs, build_dbt_docs)."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        data_docs = o.build_data_docs(run_id, settings)
        dbt_docs = o.build_dbt_docs(settings)
    return {"force": force, "data_docs": data_docs, "dbt_docs": dbt_docs}


def report_force(force: str, run_id: str, base: Settings | None = None) -> dict:
    """The auditor's run report of the force's warehouse, in its own reports folder."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        facts = o.report_run(run_id, settings)
    return {"force": force, "status": facts.get("status")}


def states_of_force(states: dict[str, str | None] | None, map_index: int, group: str):
    """The states of one force's tasks (one map index of the mapped group), by the task's name
    inside the group (``night.extract_force_1`` -> ``extract_force``), as run_outcome wants
    them (``record_outcome`` is not a cause); None when Airflow could not say."""
    if states is None:
        return None
    suffix, prefix = f"_{map_index}", f"{group}."
    found: dict[str, str | None] = {}
    for key, state in states.items():
        if not (key.startswith(prefix) and key.endswith(suffix)):
            continue
        found[key[len(prefix) : -len(suffix)]] = state
    return found


def record_force_outcome(
    force: str,
    dag_id: str | None,
    run_id: str,
    logical_date: date | None,
    states: dict[str, str | None] | None,
    base: Settings | None = None,
) -> dict:
    """The force's outcome of the run in its own audit.run_outcome (orchestration
    .record_outcome)."""
    from vawg_warehouse import orchestration as o

    with force_environment(force, base) as settings:
        outcome = o.record_outcome(dag_id, run_id, logical_date, states, settings)
    return {"force": force, "state": outcome["state"], "failed": len(outcome["failed_tasks"])}


def force_database_exists(settings: Settings) -> bool:
    """Whether the force's warehouse database is on its server (asked of the server's
    ``postgres`` database, so a missing one is not made nor an error)."""
    import psycopg

    from vawg_warehouse.warehouse import connection_info

    info = connection_info(settings)
    with psycopg.connect(info.for_database("postgres").url, connect_timeout=10) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (info.dbname,))
        return found.fetchone() is not None


def status_lines(forces: list[str] | None = None, base: Settings | None = None) -> list[str]:
    """``vawg status --national``: each force's status (vawg_warehouse.status) from its own
    warehouse and landing folder, under a line naming the force and its database; a force the
    national run has not prepared yet says so. ``forces``: these (each in seed forces), else
    the national run's."""
    from vawg_warehouse import status
    from vawg_warehouse.warehouse import connection_info

    base = base or get_settings()
    chosen = national_forces(",".join(forces)) if forces else national_forces()
    lines = [f"national run: {len(chosen)} force(s): {', '.join(chosen)}"]
    for force in chosen:
        with force_environment(force, base) as settings:
            database = connection_info(settings).dbname
            lines.append("")
            if not force_database_exists(settings):
                lines.append(
                    f"== {force}: no warehouse yet (database {database}): no national run has "
                    "prepared it"
                )
                continue
            lines.append(f"== {force}: database {database}, landing {settings.landing_dir}")
            lines.extend(f"  {line}" if line else "" for line in status.status_lines(settings))
    return lines


# --------------------------------------------------------------------------------------------
# Alerts: the nightly's callbacks, each as the failing task's force
# --------------------------------------------------------------------------------------------

GROUP = "night"  # the mapped task group of dags/vawg_national.py
FORCES_TASK = "forces_tonight"  # its task that lists the run's forces (a list in XCom)


class ForceTask:
    """A task instance of the mapped group as its force's own warehouse sees it: named as inside
    the group (``night.extract_force`` -> ``extract_force``, as ``states_of_force`` names the
    force's task states), its run's task states those of its own force only. Anything else is
    the task instance's own."""

    def __init__(self, ti, force: str):
        self._ti = ti
        self.force = force
        self.airflow_task_id = ti.task_id
        self.task_id = ti.task_id.removeprefix(f"{GROUP}.")

    def __getattr__(self, name: str):
        return getattr(self._ti, name)

    def get_task_states(self, dag_id: str, run_ids: list[str]) -> dict:
        found = self._ti.get_task_states(dag_id=dag_id, run_ids=run_ids)
        map_index = self._ti.map_index
        return {run: states_of_force(states, map_index, GROUP) for run, states in found.items()}


def force_of_task(context: dict) -> str | None:
    """The force a task of the mapped group runs for: the run's list of forces (the XCom of
    ``forces_tonight``) at the task's map index. (A callback's context does not carry the
    task's expanded ``force`` argument: its task's op_kwargs are empty, Airflow 3.3.) None for
    a task outside the group (``forces_tonight``, ``watcher``) or when the list is not there."""
    ti = context.get("ti") or context.get("task_instance")
    if not str(getattr(ti, "task_id", "")).startswith(f"{GROUP}."):
        return None
    map_index = getattr(ti, "map_index", -1)
    forces = ti.xcom_pull(task_ids=FORCES_TASK, map_indexes=-1)
    if not isinstance(forces, list) or not isinstance(map_index, int) or map_index < 0:
        return None
    force = forces[map_index] if map_index < len(forces) else None
    return force if isinstance(force, str) and force else None


def as_force(context: dict, callback: Callable[[dict, Settings | None], None]) -> None:
    """Run one of the nightly's callbacks (vawg_warehouse.notify: the failure recorded in
    audit.task_failure, one alert per cause and run, the all-clear) as the task's force: with
    its settings (its own warehouse), its own tasks' states, the alert naming the force. A task
    outside the mapped group, or whose force cannot be told, runs it as the run's own warehouse
    (settings None: the task's own), as does one whose force could not be read: its alert
    still goes out."""
    try:
        force = force_of_task(context)
    except Exception as exc:  # noqa: BLE001 - the alert matters more than where it is recorded
        log.warning("could not tell the task's force (%s): as the run's own", type(exc).__name__)
        force = None
    if force is None:
        callback(context, None)
        return
    from vawg_warehouse.task_settings import settings_for_task

    task = ForceTask(context.get("ti") or context.get("task_instance"), force)
    seen = {**context, "ti": task, "task_instance": task}
    with force_environment(force, settings_for_task()) as settings:
        callback(seen, settings)
