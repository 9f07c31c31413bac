"""The national run's logic (vawg_warehouse.national), without Airflow, on a real PostgreSQL:
which forces a run covers, each force's settings and warehouse database, the environment set for
one call only, and two forces' files each loaded into its own database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from types import SimpleNamespace
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import drop_database
from vawg_devtools.sample import generate
from vawg_warehouse import national
from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.forces import all_forces, home_force_code
from vawg_warehouse.ingest.landing_files import read_seed
from vawg_warehouse.warehouse import ConnectionInfo


def _authorities(force: str) -> set[str]:
    return {
        r["local_authority_code"]
        for r in read_seed("local_authorities")
        if r["force_code"] == force
    }


@pytest.fixture
def base(database, tmp_path, monkeypatch):
    """The national run's own settings: a warehouse database (empty), a home and a landing."""
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.delenv("VAWG_REPORTS_DIR", raising=False)
    monkeypatch.delenv(national.FORCES_ENV, raising=False)
    monkeypatch.delenv("VAWG_HOME_FORCE", raising=False)
    return get_settings()


def _drop_force_databases(base_settings, forces) -> None:
    for force in forces:
        url = national.force_settings(force, base_settings).external_warehouse_url
        drop_database(ConnectionInfo.from_url(url))


def test_the_forces_of_a_run_come_from_the_setting_each_in_seed_forces(monkeypatch) -> None:
    monkeypatch.delenv(national.FORCES_ENV, raising=False)
    known = sorted(all_forces())
    assert {"cumbria", "lancashire"} <= set(known)
    assert national.national_forces() == known  # unset: every force of seed forces
    monkeypatch.setenv(national.FORCES_ENV, " Lancashire, cumbria,,lancashire ")
    assert national.national_forces() == ["lancashire", "cumbria"]  # as given, each once
    monkeypatch.setenv(national.FORCES_ENV, "lancashire,merseyside,atlantis")
    with pytest.raises(national.NationalError) as found:
        national.national_forces()
    message = str(found.value)
    assert "'merseyside', 'atlantis' not in seed forces" in message
    assert f"known forces are {', '.join(known)}" in message
    monkeypatch.setenv(national.FORCES_ENV, " , ")
    with pytest.raises(national.NationalError, match="names no force"):
        national.national_forces()


def test_the_schedule_is_a_setting_none_by_default(monkeypatch) -> None:
    from vawg_warehouse import notify

    monkeypatch.delenv(notify.NATIONAL_SCHEDULE_ENV, raising=False)
    assert notify.national_schedule() is None
    monkeypatch.setenv(notify.NATIONAL_SCHEDULE_ENV, "off")
    assert notify.national_schedule() is None
    monkeypatch.setenv(notify.NATIONAL_SCHEDULE_ENV, "0 3 * * *")
    assert notify.national_schedule() == "0 3 * * *"


def test_each_force_has_its_own_database_folders_and_reports(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(
        "VAWG_WAREHOUSE_URL", "postgresql://etl:p%40ss@db.example:6543/vawg?sslmode=require"
    )
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("VAWG_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.delenv("VAWG_REPORTS_DIR", raising=False)
    base = get_settings()
    found = national.force_settings("cumbria", base)
    url = urlsplit(found.external_warehouse_url)
    # the same server, login and options; the force's own database
    assert (url.username, url.password, url.hostname, url.port) == (
        "etl",
        "p%40ss",
        "db.example",
        6543,
    )
    assert url.path == "/vawg_cumbria" and url.query == "sslmode=require"
    assert found.landing_dir == tmp_path / "landing" / "cumbria"
    assert found.archive_dir == tmp_path / "archive" / "cumbria"
    assert found.home == tmp_path / "home" / "national" / "cumbria"
    assert found.reports_dir == tmp_path / "home" / "reports" / "national" / "cumbria"
    assert national.force_database("vawg", "avon-and-somerset") == "vawg_avon_and_somerset"
    with pytest.raises(national.NationalError, match="longer than PostgreSQL's 63 bytes"):
        national.force_database("w" * 55, "lancashire")


def test_the_embedded_server_gives_each_force_a_database_on_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VAWG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_EMBEDDED_PORT", "55499")
    found = national.force_settings("lancashire", get_settings())
    info = ConnectionInfo.from_url(found.external_warehouse_url)
    assert (info.host, info.port, info.dbname) == ("127.0.0.1", 55499, "vawg_lancashire")


def test_a_forces_environment_is_set_for_the_call_only(tmp_path, monkeypatch) -> None:
    """Inside, get_settings() and the home force are the force's; after (even after an error)
    the environment is as it was, variables the body set or changed included."""
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/vawg_x")
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_HOME_FORCE", "lancashire")
    monkeypatch.delenv("VAWG_LANDING_DIR", raising=False)
    monkeypatch.delenv("VAWG_DB_NAME", raising=False)
    before = dict(os.environ)
    with national.force_environment("cumbria") as settings:
        assert get_settings() == settings
        assert home_force_code() == "cumbria"
        assert settings.external_warehouse_url.endswith("/vawg_x_cumbria")
        os.environ["VAWG_DB_NAME"] = "vawg_x_cumbria"  # what the dbt runner does
        os.environ["VAWG_HOME"] = "elsewhere"
    assert dict(os.environ) == before
    with pytest.raises(RuntimeError, match="boom"), national.force_environment("lancashire"):
        os.environ["VAWG_DB_NAME"] = "vawg_x_lancashire"
        raise RuntimeError("boom")
    assert dict(os.environ) == before
    with pytest.raises(national.NationalError, match="one force at a time"):
        with national.force_environment("lancashire,cumbria"):
            pass
    with pytest.raises(national.NationalError, match="not in seed forces"):
        with national.force_environment("atlantis"):
            pass
    assert dict(os.environ) == before


def test_a_demo_key_in_the_runs_home_is_named_by_file_for_every_force(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/vawg_x")
    monkeypatch.setenv("VAWG_HOME", str(tmp_path))
    monkeypatch.delenv("VAWG_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("VAWG_PSEUDONYM_KEY_FILE", raising=False)
    key = tmp_path / "secrets" / "pseudonym.key"
    key.parent.mkdir()
    key.write_text("k" * 40)
    with national.force_environment("cumbria"):
        assert os.environ["VAWG_PSEUDONYM_KEY_FILE"] == str(key)
    assert "VAWG_PSEUDONYM_KEY_FILE" not in os.environ


def test_states_of_one_force_are_its_map_indexs_by_task_name() -> None:
    states = {
        "forces_tonight": "success",
        "night.extract_force_0": "success",
        "night.extract_force_1": "failed",
        "night.dbt_force_1": "upstream_failed",
        "night.record_outcome_1": "running",
        "night.extract_force_10": "failed",
        "watcher": None,
    }
    assert national.states_of_force(states, 1, "night") == {
        "extract_force": "failed",
        "dbt_force": "upstream_failed",
        "record_outcome": "running",
    }
    assert national.states_of_force(None, 1, "night") is None


@pytest.mark.slow  # two databases migrated and Great Expectations run: about 50 s
def test_two_forces_files_load_each_into_its_own_database(base, tmp_path) -> None:
    """prepare makes and migrates each force's database (once); each force's files, from its
    own landing folder, are registered, loaded, validated and published there only; the run's
    own database is left as it was."""
    forces = ["lancashire", "cumbria"]
    try:
        for force in forces:
            with national.force_environment(force, base) as settings:
                generate(
                    settings.landing_dir, start=date(2025, 1, 1), end=date(2025, 1, 2), rows=40
                )
            applied = national.prepare_force(force, base)
            assert applied, force  # a new database: every migration
            assert national.prepare_force(force, base) == []  # made and migrated once
        ctx = o.run_context("vawg_national", "national-1", date(2025, 1, 3))
        summaries = {f: national.extract_family(f, "force", ctx, base) for f in forces}
        for summary in summaries.values():
            assert summary["registered"] == summary["validated"] > 0, summary
            assert summary["rows_published"] > 0, summary
        for force in forces:
            url = national.force_settings(force, base).external_warehouse_url
            with psycopg.connect(url) as conn:
                areas = {
                    r[0]
                    for r in conn.execute(
                        "select distinct local_authority_code from raw_force.crimes"
                    )
                }
                files = {
                    r[0] for r in conn.execute("select distinct file_name from audit.load_batch")
                }
            assert areas and areas <= _authorities(force), (force, areas)
            assert files and all("cumbria" not in f and "lancashire" not in f for f in files)
        with psycopg.connect(base.external_warehouse_url) as conn:
            schemas = conn.execute(
                "select count(*) from information_schema.schemata where schema_name = 'audit'"
            ).fetchone()[0]
        assert schemas == 0  # the run's own database holds no force's rows
        # a retry of the same night finds nothing new
        again = national.extract_family("cumbria", "force", ctx, base)
        assert again["registered"] == 0 and again["rows_published"] == 0
        # what a data engineer reads after the night: each force's status, its own warehouse's
        shown = subprocess.run(
            [sys.executable, "-m", "vawg_warehouse.cli", "status", "--national", *forces],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shown.returncode == 0, shown.stdout + shown.stderr
        blocks = shown.stdout.split("\n== ")[1:]
        assert [b.split(":", 1)[0] for b in blocks] == forces
        for force, block in zip(forces, blocks, strict=True):
            database = national.force_database(base_settings_db(base), force)
            assert f"database {database}, landing {base.landing_dir / force}" in block
            crimes = next(line for line in block.splitlines() if "force_crimes " in line)
            assert "run national-1: " in crimes and "published" in crimes, crimes
            assert "funding_grants" in block and "no file taken in yet" in block
    finally:
        _drop_force_databases(base, forces)


def base_settings_db(settings) -> str:
    return ConnectionInfo.from_url(settings.external_warehouse_url).dbname


def test_the_national_status_says_which_forces_have_no_warehouse_yet(base) -> None:
    """Before any national run prepared them, each force's status says it has no warehouse
    (nothing is made by asking); a force the seed lacks is an error naming it."""
    lines = national.status_lines(["cumbria", "lancashire"], base)
    assert lines[0] == "national run: 2 force(s): cumbria, lancashire"
    for force in ("cumbria", "lancashire"):
        database = national.force_database(base_settings_db(base), force)
        assert (
            f"== {force}: no warehouse yet (database {database}): no national run has prepared it"
        ) in lines
        assert not national.force_database_exists(national.force_settings(force, base))
    with pytest.raises(national.NationalError, match="atlantis"):
        national.status_lines(["atlantis"], base)


# --------------------------------------------------------------------------------------------
# Alerts: the nightly's callbacks as the failing task's force
# --------------------------------------------------------------------------------------------

NATIONAL_RUN = "manual__2025-02-01T02:30:00+00:00"
OUTAGE = "connection to the warehouse was lost: server closed the connection unexpectedly"


class _TaskInstance(SimpleNamespace):
    """What the Task SDK hands a callback of a mapped task: its try and map index, and the
    run's task states (every force's, by Airflow's ``<task>_<map index>`` key) on request."""

    def get_task_states(self, dag_id, run_ids):
        return {run_ids[0]: dict(self.states)}

    def xcom_pull(self, task_ids, map_indexes):
        assert (task_ids, map_indexes) == (national.FORCES_TASK, -1)
        return ["lancashire", "cumbria"]


def _national_context(task_id: str, map_index: int, try_number: int, states):
    ti = _TaskInstance(
        dag_id="vawg_national",
        task_id=task_id,
        try_number=try_number,
        max_tries=2,
        map_index=map_index,
        states=states,
    )
    return {
        "ti": ti,
        "dag_run": SimpleNamespace(run_id=NATIONAL_RUN, dag_id="vawg_national"),
        "exception": RuntimeError(OUTAGE),
    }


def _failures(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select task_id, map_index, try_number, error_class "
            "from audit.task_failure order by task_failure_id"
        ).fetchall()


def test_a_forces_failed_task_is_recorded_and_alerted_as_that_force(base, monkeypatch) -> None:
    """Cumbria's load fails (map index 1) while Lancashire's night goes on: the failed try and
    the failure for good are recorded in Cumbria's warehouse only, under the task's name in the
    group; one alert, at the first failed try, names the force and links the mapped task's log;
    Cumbria's run outcome then names the task and its error. A task outside the group records
    in the run's own warehouse."""
    from tests.unit.test_operations import _Webhook
    from vawg_warehouse import notify

    forces = ("lancashire", "cumbria")
    hook = _Webhook()
    monkeypatch.setenv("VAWG_ALERT_WEBHOOK_URL", hook.url)
    monkeypatch.delenv("VAWG_ALERT_SMTP_HOST", raising=False)
    monkeypatch.setenv("VAWG_BASE_URL", "https://airflow.example")
    urls = {f: national.force_settings(f, base).external_warehouse_url for f in forces}
    try:
        for force in forces:
            national.prepare_force(force, base)
        o.prepare_warehouse(base)
        states = {
            "night.extract_force_0": "success",
            "night.extract_force_1": "up_for_retry",
            "forces_tonight": "success",
        }
        failing = ("night.extract_force", 1)  # Cumbria's map index
        notify.national_task_retrying(_national_context(*failing, 1, states))
        states["night.extract_force_1"] = "failed"
        notify.national_task_failed(_national_context(*failing, 3, states))
        assert os.environ.get("VAWG_HOME_FORCE") is None  # the force's settings are gone after

        assert _failures(urls["cumbria"]) == [
            ("extract_force", 1, 1, "RuntimeError"),
            ("extract_force", 1, 3, "RuntimeError"),
        ]
        assert _failures(urls["lancashire"]) == []
        assert _failures(base.external_warehouse_url) == []
        posted = [json.loads(body) for _, _, body in hook.received]
        assert [p["kind"] for p in posted] == ["task_retrying"]  # once per cause and run
        alert = posted[0]
        assert "(vawg_national, cumbria)" in alert["title"]
        assert alert["facts"]["force"] == "cumbria"
        assert alert["facts"]["log"] == (
            "https://airflow.example/dags/vawg_national/runs/"
            "manual__2025-02-01T02%3A30%3A00%2B00%3A00/tasks/night.extract_force/mapped/1"
        )
        # the force's outcome of the run names the failed task and its error
        cumbria_states = national.states_of_force(states, 1, national.GROUP)
        outcome = national.record_force_outcome(
            "cumbria", "vawg_national", NATIONAL_RUN, date(2025, 2, 1), cumbria_states, base
        )
        assert outcome == {"force": "cumbria", "state": "failed", "failed": 1}
        with psycopg.connect(urls["cumbria"]) as conn:
            (failed,) = conn.execute(
                "select failed_tasks::text from audit.run_outcome where dag_run_id = %s",
                (NATIONAL_RUN,),
            ).fetchone()
        assert "extract_force" in failed and "RuntimeError" in failed and OUTAGE[:30] in failed

        # a task outside the group: the run's own warehouse
        notify.national_task_failed(_national_context("forces_tonight", -1, 1, states))
        assert [f[0] for f in _failures(base.external_warehouse_url)] == ["forces_tonight"]
        # a task whose force cannot be read (XCom unreachable): still alerted, as the run's own
        lost = _national_context("night.dbt_force", 0, 1, states)

        def unreachable(**_):
            raise ConnectionError("the API server is gone")

        lost["ti"].xcom_pull = unreachable
        lost["exception"] = RuntimeError("dbt failed")
        notify.national_task_failed(lost)
        assert _failures(base.external_warehouse_url)[-1][0] == "night.dbt_force"
        posted = [json.loads(body) for _, _, body in hook.received]
        assert [p["kind"] for p in posted] == ["task_retrying", "task_failed", "task_failed"]
    finally:
        _drop_force_databases(base, forces)
