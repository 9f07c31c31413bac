"""The DAGs under a real scheduler: `vawg airflow up` starts api-server, scheduler,
dag-processor and triggerer on a PostgreSQL metadata database.

One stack runs the CeleryExecutor (VAWG_AIRFLOW_EXECUTOR=CeleryExecutor: the stack's own
redis-server as broker and two Celery workers). On it a national run (vawg_national) of two
forces is triggered through the api-server's REST API, as an operator would: Lancashire's night
reads the shared run's own files (tests/integration/conftest.py, generated again with the same
seeds) and must build the same marts as that `airflow dags test` run of vawg_nightly; Cumbria's
night builds its own marts in its own database; the mapped tasks run on both workers. The test
reads the shared run's warehouse, so it is in that fixture's xdist group and runs before the
tests that change it; it writes only databases and a home of its own.

A backfill of two dates of vawg_nightly runs on a stack of its own with the default executor
(LocalExecutor), so both DAGs and both executors run for real (the DAG keeps its schedule there:
a backfill needs one).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.conftest import TEST_KEY, create_database, drop_database
from tests.integration.conftest import PERIODS, RUN_DATE, vawg
from vawg_devtools import headline_check
from vawg_devtools.sample import generate
from vawg_warehouse import airflow_celery, national, task_preload
from vawg_warehouse.airflow_api import AirflowApi
from vawg_warehouse.airflow_stack import free_api_port
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest.landing_files import read_seed

pytestmark = pytest.mark.integration

DAG_ID = "vawg_nightly"
NATIONAL_DAG_ID = "vawg_national"
NATIONAL_FORCES = ("lancashire", "cumbria")
BACKFILL = [RUN_DATE + timedelta(days=n) for n in (1, 2)]
CELERY = {
    airflow_celery.EXECUTOR_ENV: "CeleryExecutor",
    airflow_celery.WORKERS_ENV: "2",
}
# What chooses the executor and its broker: from the test's arguments only, never the caller's.
EXECUTOR_SETTINGS = (
    airflow_celery.EXECUTOR_ENV,
    airflow_celery.REDIS_URL_ENV,
    airflow_celery.WORKERS_ENV,
    airflow_celery.CONCURRENCY_ENV,
)


def mart_rows(url: str) -> dict[str, list[tuple]]:
    """Every mart's rows as text, sorted; timestamps (when a row was built) left out."""
    marts: dict[str, list[tuple]] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name like 'mart\\_%' order by 1"
        ).fetchall()
        for (table,) in tables:
            columns = [
                name
                for name, kind in conn.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'marts' and table_name = %s order by ordinal_position",
                    (table,),
                ).fetchall()
                if not kind.startswith("timestamp")
            ]
            listed = ", ".join(f'"{c}"::text' for c in columns)
            rows = conn.execute(f'select {listed} from marts."{table}"').fetchall()  # noqa: S608
            marts[table] = sorted(rows, key=lambda row: tuple(v or "" for v in row))
    return marts


@contextlib.contextmanager
def airflow_up(server, tmp_path_factory, periods, rows: int, **extra: str):
    """A warehouse, a metadata database and a home of its own, sample files in its landing
    folder; the four Airflow processes up (the DAG paused, as at creation); all gone after."""
    warehouse = create_database(server)
    metadata = create_database(server, prefix="vawg_airflow_meta")
    home = tmp_path_factory.mktemp("vawg_stack_home")
    landing = home / "landing"
    for start, end, seed in periods:
        generate(landing, start=start, end=end, rows=rows, seed=seed)
    port = free_api_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in EXECUTOR_SETTINGS},
        "VAWG_HOME": str(home),
        "VAWG_LANDING_DIR": str(landing),
        "VAWG_WAREHOUSE_URL": warehouse.url,
        "VAWG_PSEUDONYM_KEY": TEST_KEY,
        "VAWG_AIRFLOW_METADATA_URL": metadata.url,
        "VAWG_AIRFLOW_PORT": str(port),
        **extra,
    }
    try:
        started = vawg(env, "airflow", "up")
        assert started.returncode == 0, started.stdout + started.stderr
        login = next(
            line for line in started.stdout.splitlines() if "login: user vawg, password" in line
        )
        api = AirflowApi(f"http://127.0.0.1:{port}", "vawg", login.rsplit(" ", 1)[-1])
        api.wait_for_dag(DAG_ID)
        yield {"api": api, "db": warehouse, "env": env, "home": home, "up": started}
    finally:
        vawg(env, "airflow", "down")
        drop_database(warehouse)
        drop_database(metadata)


@pytest.fixture(scope="module")
def stack(server, tmp_path_factory):
    """Triggered runs only (no scheduled run races a triggered one); the CeleryExecutor with two
    workers and the stack's own Redis. No files in the nightly's landing folder: each force's
    are written by the national run's test."""
    if not (os.path.exists(airflow_celery.REDIS_SERVER) or shutil.which("redis-server")):
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    with airflow_up(
        server,
        tmp_path_factory,
        (),
        0,
        VAWG_NIGHTLY_SCHEDULE="none",
        VAWG_NATIONAL_FORCES=",".join(NATIONAL_FORCES),
        **CELERY,
    ) as found:
        yield found


# With the national run's test (in the shared fixture's group: it reads that warehouse), so the
# module's stack is started once, on one worker.
@pytest.mark.xdist_group("airflow_run")
def test_up_runs_four_components_workers_and_redis_with_pid_files_and_owner_only_logs(
    stack,
) -> None:
    status = vawg(stack["env"], "airflow", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = {line.split()[1]: line for line in status.stdout.splitlines() if "log:" in line}
    names = ("api-server", "scheduler", "dag-processor", "triggerer", "worker-1", "worker-2")
    assert sorted(lines) == sorted([*names, "redis"]), status.stdout
    stack_home = stack["home"] / "airflow_stack"
    for name in [*names, "redis"]:
        assert "running (pid" in lines[name], lines[name]
        pid_file = stack_home / "run" / f"{name}.pid"
        log = stack_home / "logs" / f"{name}.log"
        assert pid_file.stat().st_mode & 0o077 == 0 and log.stat().st_mode & 0o077 == 0
    # the stack's own Redis: loopback only, a password kept owner-only, nothing on disk
    config = (stack_home / "redis" / "redis.conf").read_text()
    assert "bind 127.0.0.1\n" in config and 'save ""' in config and "appendonly no" in config
    assert (stack_home / "redis" / "redis.conf").stat().st_mode & 0o077 == 0
    assert (stack_home / "secrets" / "redis_password").stat().st_mode & 0o077 == 0
    port = airflow_celery.redis_port(stack_home / "redis" / "redis.conf")
    assert port != 6379 and "redis://:***@127.0.0.1:" in stack["up"].stdout
    preloaded = f"task preload: {len(task_preload.PRELOADED)} libraries"
    for name in ("worker-1", "worker-2"):
        log = (stack_home / "logs" / f"{name}.log").read_text()
        assert f"vawg-{name}@" in log
        # each worker's main process imported the tasks' libraries before forking its pool
        assert preloaded in log and "not imported" not in log


def _authorities(force: str) -> dict[str, str]:
    return {
        r["local_authority_code"]: r["local_authority_name"]
        for r in read_seed("local_authorities")
        if r["force_code"] == force
    }


def _force_marts(url: str, force: str) -> None:
    """The force's marts are built in its own database and name its force and its local
    authorities only, never another force's."""
    own = _authorities(force)
    others = {c: n for f in NATIONAL_FORCES if f != force for c, n in _authorities(f).items()}
    name = next(r["force_name"] for r in read_seed("forces") if r["force_code"] == force)
    with psycopg.connect(url) as conn:
        marts = mart_rows(url)
        assert len(marts) >= 10 and sum(len(rows) for rows in marts.values()) > 0, force
        built = conn.execute(
            "select distinct local_authority_code from marts.mart_reporting_monthly"
        ).fetchall()
        assert {r[0] for r in built} & set(own), (force, built)
        for column, theirs in (("local_authority_code", others), ("local_authority_name", None)):
            relations = conn.execute(
                "select table_schema, table_name from information_schema.columns "
                "where column_name = %s and table_schema in ('marts', 'bi', 'publication')",
                (column,),
            ).fetchall()
            assert relations, column
            for schema, table in relations:
                found = {
                    r[0]
                    for r in conn.execute(
                        f'select distinct "{column}"::text from "{schema}"."{table}"'  # noqa: S608
                    )
                }
                if theirs is not None:
                    assert not found & set(theirs), (force, schema, table, found)
                    assert found - {None, "-1"} <= set(own), (force, schema, table, found)
                else:
                    assert not found & set(others.values()), (force, schema, table, found)
        headline = conn.execute(
            "select distinct area_name from bi.measure_headlines where area_level = 'force'"
        ).fetchall()
        assert headline == [(name,)], (force, headline)
        outcome = conn.execute(
            "select state from audit.run_outcome order by run_outcome_id desc limit 1"
        ).fetchone()
        assert outcome == ("success",), force
        checked = conn.execute("select count(*) from audit.source_freshness").fetchone()[0]
        assert checked > 0, force  # the night's source freshness, in the force's own audit


def _force_pages(home, force: str) -> None:
    """The force's pages, written by its night into its own reports folder: Data Docs of the
    run's validations, dbt docs, and the Panel scorecard, which names the force and none of the
    other forces' authorities."""
    name = next(r["force_name"] for r in read_seed("forces") if r["force_code"] == force)
    reports = home / "reports" / "national" / force
    assert list((reports / "data_docs").rglob("index.html")), force
    assert (reports / "dbt_docs" / "index.html").stat().st_size > 0, force
    page = reports / "scorecard" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert f'data-force="{name}"' in html, force
    others = {n for f in NATIONAL_FORCES if f != force for n in _authorities(f).values()}
    assert not [n for n in others if n in html], force


def _force_headlines(base: Settings, force: str) -> None:
    """Each headline of the force's Panel scorecard beside its own bi.measure_headlines (read as
    the BI login) and its own marts (vawg_devtools.headline_check): the three agree, and the page
    shows no figure its warehouse does not hold."""
    settings = national.force_settings(force, base)
    page = settings.reports_dir / "scorecard" / "index.html"
    rows = headline_check.compare(page, settings)
    assert rows, force
    assert [row for row in rows if not headline_check._agrees(row)] == [], force
    on_page = {
        m for m, attrs in headline_check.page_headlines(page).items() if attrs.get("data-value")
    }
    assert on_page <= {row["measure"] for row in rows}, force
    if force == "lancashire":  # the shared run's two Januaries: figures shown, not all hidden
        assert [row for row in rows if not row["suppressed"]], rows


def _national_files(landing) -> None:
    """Each force's files in its own landing folder: Lancashire's are the shared run's own
    (same periods, volume and seeds, so the same files), Cumbria's a month of its own."""
    for force in NATIONAL_FORCES:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("VAWG_HOME_FORCE", force)
            if force == "lancashire":
                for start, end, seed in PERIODS:
                    generate(landing / force, start=start, end=end, rows=700, seed=seed)
            else:
                generate(landing / force, start=PERIODS[1][0], end=PERIODS[1][1], rows=300, seed=22)


@pytest.mark.xdist_group("airflow_run")
def test_a_national_run_builds_each_forces_marts_in_its_own_database_on_both_workers(
    stack, pipeline, monkeypatch
) -> None:
    """vawg_national on the Celery stack, triggered through the REST API: one force's night per
    map index of the mapped task group, each from its own landing folder into its own database
    (<db>_<force>), the tasks spread over both workers. Lancashire's night, on the shared run's
    files, builds exactly the marts of that `airflow dags test` run of vawg_nightly; each force's
    scorecard headlines agree with its own BI view and marts; the stack's own warehouse (the
    nightly's) takes nothing in; the broker's password is in no log."""
    api: AirflowApi = stack["api"]
    _national_files(stack["home"] / "landing")
    databases = [
        stack["db"].for_database(national.force_database(stack["db"].dbname, force))
        for force in NATIONAL_FORCES
    ]
    try:
        api.wait_for_dag(NATIONAL_DAG_ID)
        run_id = api.trigger(NATIONAL_DAG_ID, RUN_DATE)
        api.unpause(NATIONAL_DAG_ID)
        finished = api.wait_for_run(NATIONAL_DAG_ID, run_id)
        instances = api.task_instances(NATIONAL_DAG_ID, run_id)
        states = {(ti["task_id"], ti["map_index"]): ti["state"] for ti in instances}
        assert finished["state"] == "success", states
        assert states.pop(("watcher", -1)) == "skipped"
        assert set(states.values()) == {"success"}, states
        # one map index per force, for every task of the group
        mapped = [ti for ti in instances if ti["task_id"].startswith("night.")]
        assert {ti["map_index"] for ti in mapped} == set(range(len(NATIONAL_FORCES)))
        assert len(mapped) == len(NATIONAL_FORCES) * len({ti["task_id"] for ti in mapped})
        # both Celery workers ran tasks: each records its name in the task instances' hostname
        by_worker = {ti["hostname"].split(".", 1)[0] for ti in mapped}
        assert by_worker == {"worker-1", "worker-2"}, sorted(
            (t["task_id"], t["map_index"], t["hostname"]) for t in mapped
        )
        for name in ("VAWG_HOME", "VAWG_LANDING_DIR", "VAWG_WAREHOUSE_URL"):
            monkeypatch.setenv(name, stack["env"][name])
        for force, database in zip(NATIONAL_FORCES, databases, strict=True):
            _force_marts(database.url, force)
            _force_pages(stack["home"], force)
            _force_headlines(get_settings(), force)
        # Lancashire's night on the shared run's files: the marts of that run, row for row
        assert pipeline["first"].returncode == 0, pipeline["first"].stdout[-2000:]
        lancashire = databases[NATIONAL_FORCES.index("lancashire")]
        ours, theirs = mart_rows(lancashire.url), mart_rows(pipeline["db"].url)
        assert set(ours) == set(theirs) and len(ours) >= 10
        for mart in theirs:
            assert ours[mart] == theirs[mart], mart
        with psycopg.connect(stack["db"].url) as conn:
            batches = conn.execute(
                "select case when to_regclass('audit.load_batch') is null then 0 "
                "else (select count(*) from audit.load_batch) end"
            ).fetchone()
        assert batches == (0,)
        # the broker's password is in no log of the stack (task logs included) nor its status
        stack_home = stack["home"] / "airflow_stack"
        secret = (stack_home / "secrets" / "redis_password").read_text().strip()
        status = vawg(stack["env"], "airflow", "status")
        assert secret not in status.stdout + status.stderr + stack["up"].stdout
        logs = [p for p in (stack_home / "logs").rglob("*") if p.is_file()]
        assert len(logs) > 10
        assert not [p for p in logs if secret in p.read_text(errors="replace")]
    finally:
        for database in databases:
            drop_database(database)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_backfill_runs_one_date_at_a_time_in_date_order(server, tmp_path_factory) -> None:
    """Airflow runs a backfill's dates by the backfill's max_active_runs (2 here), not the
    DAG's: the gate (vawg_warehouse.run_turn) makes them take turns, in date order; files are
    the unit of work, so the first date takes every new file, the second registers nothing,
    and no file is taken twice (README, "Backfills"). The DAG keeps its nightly schedule (a
    backfill needs one): unpausing it makes tonight's scheduled run too, which comes after the
    backfill's dates by logical date and so waits for them."""
    with airflow_up(server, tmp_path_factory, PERIODS[1:], 300) as stack:
        _backfill_takes_turns(stack)
        # the scheduler imported the tasks' libraries before forking its LocalExecutor workers
        scheduler = (stack["home"] / "airflow_stack" / "logs" / "scheduler.log").read_text()
        assert f"task preload: {len(task_preload.PRELOADED)} libraries" in scheduler


def _backfill_takes_turns(stack) -> None:
    api: AirflowApi = stack["api"]
    api.backfill(DAG_ID, BACKFILL[0], BACKFILL[-1], max_active_runs=len(BACKFILL))
    api.unpause(DAG_ID)
    deadline = datetime.now().timestamp() + 3600
    while True:
        runs = [r for r in api.runs(DAG_ID) if r["run_type"] == "backfill"]
        if len(runs) == len(BACKFILL) and all(r["state"] in ("success", "failed") for r in runs):
            break
        assert datetime.now().timestamp() < deadline, runs
        time.sleep(5)
    runs.sort(key=lambda r: r["logical_date"])
    assert [r["logical_date"][:10] for r in runs] == [d.isoformat() for d in BACKFILL]
    assert [r["state"] for r in runs] == ["success"] * len(BACKFILL)
    spans = []
    for run in runs:
        work = [
            ti
            for ti in api.task_instances(DAG_ID, run["dag_run_id"])
            if ti["task_id"] != "wait_for_turn" and ti["start_date"]
        ]
        spans.append(
            (min(_moment(t["start_date"]) for t in work), max(_moment(t["end_date"]) for t in work))
        )
    for (_, ended), (began, _) in zip(spans, spans[1:], strict=False):
        assert began >= ended, f"two backfill dates overlapped: {spans}"
    with psycopg.connect(stack["db"].url) as conn:
        takers = conn.execute(
            "select dag_run_id, count(*) from audit.load_batch group by 1"
        ).fetchall()
        twice = conn.execute(
            "select count(*) from (select file_sha256 from audit.load_batch "
            "group by file_sha256 having count(*) > 1) as d"
        ).fetchone()[0]
        outcomes = conn.execute(
            "select logical_date, state from audit.run_outcome order by logical_date"
        ).fetchall()
    assert [run_id for run_id, _ in takers] == [runs[0]["dag_run_id"]]  # the first took all
    assert twice == 0
    assert [(d, o) for d, o in outcomes if d in BACKFILL] == [(d, "success") for d in BACKFILL]
