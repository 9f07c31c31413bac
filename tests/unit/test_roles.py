"""Each role gets only what it needs (migration 012), shown by logging in as each one.

Every test creates LOGIN roles in the test server's cluster, members of one group role each, and
connects as them: the pipeline adds to the audit trail but can neither disable its triggers nor
rewrite it; BI readers and auditors read nothing raw. The relations dbt builds (marts,
publication, lineage) are checked after a real build in tests/dbt/test_roles_after_build.py.
"""

from __future__ import annotations

import shutil
from datetime import date

import psycopg
import pytest
from psycopg import errors

from vawg_devtools.sample import generate, write_bad_crimes_file
from vawg_warehouse import migrations
from vawg_warehouse import orchestration as o
from vawg_warehouse.warehouse import ConnectionInfo

SHA = "ab" * 32
WAREHOUSE_SCHEMAS = (
    "audit",
    "landing",
    "quarantine",
    "lineage",
    "reference",
    "staging",
    "intermediate",
    "marts",
    "publication",
    "bi",
)
GROUP_ROLES = list(migrations.GROUP_ROLES)
READER_ROLES = ["vawg_bi_reader", "vawg_auditor", "vawg_dbt_recorder"]


def _connect(login: ConnectionInfo) -> psycopg.Connection:
    return psycopg.connect(login.url, autocommit=True)


def _refused(conn: psycopg.Connection, statement: str) -> str:
    """The statement fails for lack of privilege (or an audit trigger's refusal); the message."""
    with pytest.raises(errors.InsufficientPrivilege) as refusal:
        conn.execute(statement)
    return str(refusal.value)


def _create_group_roles(server: ConnectionInfo) -> None:
    """What a DBA creates first (README); roles belong to the cluster, so most already exist."""
    with psycopg.connect(server.for_database("postgres").url) as conn:
        migrations.ensure_roles(conn)


def _warehouse_schemas(conn: psycopg.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select nspname from pg_namespace where nspname = any(%s) or nspname like 'raw\\_%%' "
            "order by 1",
            (list(WAREHOUSE_SCHEMAS),),
        )
    ]


def test_the_owner_owns_every_schema_table_function_and_trigger(migrated) -> None:
    with psycopg.connect(migrated.url) as conn:
        schemas = dict(
            conn.execute(
                "select nspname, nspowner::regrole::text from pg_namespace where nspname = any(%s)",
                (_warehouse_schemas(conn),),
            ).fetchall()
        )
        relations = conn.execute(
            "select c.oid::regclass::text, c.relowner::regrole::text from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where (n.nspname = 'audit' or n.nspname like 'raw\\_%%') "
            "and c.relkind in ('r', 'p', 'v', 'm', 'S')"
        ).fetchall()
        routines = conn.execute(
            "select p.oid::regprocedure::text, p.proowner::regrole::text from pg_proc as p "
            "join pg_namespace as n on n.oid = p.pronamespace where n.nspname = 'audit'"
        ).fetchall()
        triggers = conn.execute(
            "select t.tgname, c.relowner::regrole::text from pg_trigger as t "
            "join pg_class as c on c.oid = t.tgrelid where not t.tgisinternal"
        ).fetchall()
        pipeline_is_owner = conn.execute(
            "select pg_has_role('vawg_pipeline', 'vawg_owner', 'MEMBER')"
        ).fetchone()[0]
    assert len(schemas) >= 9 + 5 and set(schemas.values()) == {"vawg_owner"}, schemas
    assert len(relations) >= 20 and {owner for _, owner in relations} == {"vawg_owner"}
    assert {"audit.refuse_change()", "audit.guard_load_batch()"} <= {r for r, _ in routines}
    assert {owner for _, owner in routines} == {"vawg_owner"}
    assert len(triggers) >= 20 and {owner for _, owner in triggers} == {"vawg_owner"}
    assert not pipeline_is_owner


def test_the_pipeline_adds_to_the_audit_trail_but_cannot_disable_or_rewrite_it(
    migrated, make_login
) -> None:
    pipeline = make_login(migrated, "vawg_pipeline")
    with _connect(pipeline) as conn:
        # through the owner's functions only (migration 020; tests/unit/test_audit_unforgeable.py)
        (batch,) = conn.execute(
            "select batch_id from audit.register_batch('force_crimes', 'force/crimes/x.csv', %s, "
            "10, null, null, null, null, null, null, '{}')",
            (SHA,),
        ).fetchone()
        conn.execute("set role vawg_pipeline")  # as the loader does
        conn.execute(f"create table landing.force_crimes__b{batch} (i int)")
        conn.execute("reset role")
        conn.execute("select audit.batch_transition(%s, 'loaded', '{}', null, null, 0)", (batch,))
        _refused(conn, "update audit.load_batch set status = 'registered'")

        # No trigger can be switched off: only the owner (vawg_owner) or a superuser may.
        assert "must be owner" in _refused(conn, "alter table audit.load_batch disable trigger all")
        _refused(
            conn,
            "alter table audit.load_batch_event disable trigger load_batch_event_append_only",
        )
        _refused(conn, "drop trigger load_batch_guard on audit.load_batch")
        _refused(conn, "set session_replication_role = replica")  # skips triggers: superuser only
        _refused(conn, "set role vawg_owner")
        _refused(conn, "grant vawg_owner to current_user")
        _refused(conn, "alter table audit.load_batch owner to vawg_pipeline")
        # History is neither changed nor removed, by privilege and by trigger.
        _refused(conn, "update audit.load_batch_event set status = 'published'")
        _refused(conn, "delete from audit.load_batch_event")
        _refused(conn, "delete from audit.load_batch")
        _refused(conn, "truncate audit.validation_run")
        _refused(conn, "drop table audit.load_batch_event")
        _refused(conn, "drop table audit.load_batch cascade")
        _refused(conn, f"update audit.load_batch set file_sha256 = '{'cd' * 32}'")
        _refused(
            conn, "insert into audit.schema_migration (version, name, sha256) values (99, 'x', 'y')"
        )
        _refused(conn, "create table audit.shadow (i int)")
        _refused(conn, "create table raw_force.shadow (i int)")
        _refused(conn, "update raw_force.crimes set victim_pseudonym = 'x'")
        _refused(conn, "truncate raw_force.crimes")

    with psycopg.connect(migrated.url) as conn:
        assert conn.execute("select status, file_sha256 from audit.load_batch").fetchall() == [
            ("loaded", SHA)
        ]
        assert conn.execute("select count(*) from audit.load_batch_event").fetchone() == (2,)
        disabled = conn.execute(
            "select count(*) from pg_trigger where tgenabled = 'D' and not tgisinternal"
        ).fetchone()
        assert disabled == (0,)


def test_the_pipeline_has_what_loading_needs_on_every_raw_and_audit_table(migrated) -> None:
    """Select, insert and delete (a batch re-published) on every raw table, whichever migration
    made it; select only on every audit table (the owner's functions append to them: migrations
    020 and 022); never update, truncate or trigger."""
    with psycopg.connect(migrated.url) as conn:
        rows = conn.execute(
            """
            select n.nspname, c.relname, privilege,
                has_table_privilege('vawg_pipeline', c.oid, privilege)
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            cross join unnest(array['select', 'insert', 'update', 'delete', 'truncate',
                                    'trigger', 'references']) as privilege
            where (n.nspname = 'audit' or n.nspname like 'raw\\_%%') and c.relkind in ('r', 'p')
            """
        ).fetchall()
    assert len(rows) >= 7 * 15
    wrong = []
    for schema, table, privilege, granted in rows:
        if schema.startswith("raw_"):
            expected = privilege in ("select", "insert", "delete")
        else:  # audit: appended to only through the owner's functions (020, 022)
            expected = privilege == "select"
        if granted != expected:
            wrong.append(f"{schema}.{table} {privilege}: {granted}")
    assert not wrong, wrong


def test_a_pipeline_login_loads_validates_quarantines_and_publishes(
    migrated, make_login, tmp_path, monkeypatch
) -> None:
    """The whole extract of a dataset as a login that is only a member of vawg_pipeline: its
    grants are enough, and what it creates belongs to the group, not to the login."""
    pipeline = make_login(migrated, "vawg_pipeline")
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", pipeline.url)
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 2), rows=40, seed=7)
    write_bad_crimes_file(landing, date(2025, 1, 3))
    ctx = o.run_context("vawg_nightly", "run-roles", date(2025, 1, 4))

    assert o.prepare_warehouse() == []  # nothing pending: the pipeline's login passes
    ids = o.register_files("force_crimes", ctx)
    passed = o.validate_batches(o.load_batches(ids, ctx), ctx)
    assert len(ids) == 3 and len(passed) == 2  # the bad file is quarantined
    assert o.publish_batches(passed, ctx) == 40
    o.finish_run("vawg_nightly", "run-roles", date(2025, 1, 4))

    with psycopg.connect(migrated.url) as conn:
        held = conn.execute(
            "select c.relowner::regrole::text from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace where n.nspname = 'quarantine'"
        ).fetchall()
        assert held == [("vawg_pipeline",)]
        assert conn.execute("select count(*) from raw_force.crimes").fetchone() == (40,)
        assert conn.execute("select count(*) from audit.pipeline_run").fetchone() == (1,)


def test_the_pipeline_cannot_migrate(migrated, make_login, tmp_path, monkeypatch) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy)
    (copy / "099_later.sql").write_text("create table audit.later (i int);\n")
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", copy)
    pipeline = make_login(migrated, "vawg_pipeline")
    with psycopg.connect(pipeline.url) as conn:
        with pytest.raises(
            migrations.MigrationError, match="099_later.sql.*not a member of vawg_owner"
        ):
            migrations.migrate(conn)
    # The owner's side (here a superuser) applies it, as vawg_owner.
    with psycopg.connect(migrated.url) as conn:
        assert migrations.migrate(conn) == ["099_later.sql"]
        owner = conn.execute(
            "select relowner::regrole::text from pg_class where oid = 'audit.later'::regclass"
        )
        assert owner.fetchone() == ("vawg_owner",)
        granted = conn.execute(
            "select has_table_privilege('vawg_pipeline', 'audit.later', 'insert'), "
            "has_table_privilege('vawg_pipeline', 'audit.later', 'delete'), "
            "has_table_privilege('vawg_auditor', 'audit.later', 'select')"
        ).fetchone()
        # the owner's default privileges in audit: read by the pipeline and auditors; added to
        # only through audit.append_rows (migration 022), once a migration lists the table
        assert granted == (False, False, True)


def test_bi_readers_and_auditors_read_nothing_raw(migrated, make_login) -> None:
    bi = make_login(migrated, "vawg_bi_reader")
    auditor = make_login(migrated, "vawg_auditor")
    with psycopg.connect(migrated.url) as conn:
        usable = conn.execute(
            "select r, array_agg(n.nspname order by n.nspname) from pg_namespace as n "
            "cross join unnest(array['vawg_bi_reader', 'vawg_auditor']) as r "
            "where has_schema_privilege(r, n.oid, 'usage') and n.nspname = any(%s) group by r",
            (_warehouse_schemas(conn),),
        ).fetchall()
    # BI tools read schema bi only (migration 015); auditors read it too.
    assert dict(usable) == {
        "vawg_bi_reader": ["bi"],
        "vawg_auditor": ["audit", "bi", "lineage", "marts", "publication"],
    }
    with _connect(bi) as conn:
        for relation in ("raw_force.crimes", "audit.load_batch", "audit.load_batch_evidence"):
            _refused(conn, f"select count(*) from {relation}")
        _refused(conn, "create table marts.mine (i int)")
        _refused(conn, "create table bi.mine (i int)")
    with _connect(auditor) as conn:
        assert conn.execute("select count(*) from audit.load_batch_evidence").fetchone() == (0,)
        assert conn.execute("select count(*) from audit.schema_migration").fetchone()[0] >= 10
        _refused(conn, "select count(*) from raw_force.crimes")
        _refused(
            conn,
            "insert into audit.pipeline_run (dag_id, dag_run_id, code_version, summary) "
            "values ('a', 'b', 'c', '{}')",
        )


def test_a_dba_migrates_as_a_member_of_the_owner(database, server, make_login) -> None:
    """An external server: a DBA creates the roles and a database owned by vawg_owner; the owner's
    login (a member of vawg_owner, no CREATEROLE: tests/unit/test_roles_old_postgres.py) migrates;
    the pipeline's login then loads."""
    _create_group_roles(server)
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'alter database "{database.dbname}" owner to vawg_owner')
    migrator = make_login(database, "vawg_owner")
    with psycopg.connect(migrator.url) as conn:
        applied = migrations.migrate(conn)
        assert applied == [m.path.name for m in migrations.available()]
        owners = conn.execute(
            "select distinct c.relowner::regrole::text from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = 'audit' or n.nspname like 'raw\\_%%'"
        ).fetchall()
        left_to_login = conn.execute(
            "select count(*) from pg_class where relowner = session_user::regrole"
        ).fetchone()
        pipeline_creates_schemas = conn.execute(
            "select has_database_privilege('vawg_pipeline', current_database(), 'create')"
        ).fetchone()[0]
    assert owners == [("vawg_owner",)] and left_to_login == (0,)
    assert pipeline_creates_schemas  # vawg asof builds into schemas of its own
    pipeline = make_login(database, "vawg_pipeline")
    with _connect(pipeline) as conn:
        conn.execute(
            "select audit.register_batch('force_crimes', 'force/crimes/y.csv', %s, 1, null, null, "
            "null, null, null, null, '{}')",
            (SHA,),
        )
        _refused(conn, "alter table audit.load_batch disable trigger all")


def test_a_warehouse_migrated_before_the_owner_is_handed_over(
    database, server, make_login, tmp_path, monkeypatch
) -> None:
    """Before 012 the pipeline's login owned everything (as in the first docker-compose file).
    012 refuses until that login is made a member of vawg_owner, then hands every schema,
    table and function to vawg_owner, dbt's relations to vawg_pipeline, and takes the fact
    tables away from BI readers (and 015 the marts too: BI tools read schema bi only)."""
    _create_group_roles(server)
    # CREATEROLE (and, from PostgreSQL 16, admin of the roles 001 and 007 comment on)
    legacy = make_login(database, createrole=True, admin_of=READER_ROLES)
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        conn.execute(f'alter database "{database.dbname}" owner to "{legacy.user}"')
    before = tmp_path / "before_012"
    before.mkdir()
    for migration in migrations.available():
        if migration.version < 12:
            shutil.copy(migration.path, before)
    everything = migrations.MIGRATIONS_DIR
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", before)
    with psycopg.connect(legacy.url) as conn:
        migrations.migrate(conn)
        # what dbt and the loader made as that login
        conn.execute("create schema marts")
        conn.execute("create table marts.fct_recorded_crime (crime_reference text)")
        conn.execute("create table marts.mart_reporting_monthly (n int)")
        conn.execute("grant usage on schema marts to vawg_bi_reader")
        conn.execute("grant select on all tables in schema marts to vawg_bi_reader")
        conn.execute("create unlogged table landing.force_crimes__b1 (crime_reference text)")
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", everything)

    with psycopg.connect(legacy.url) as conn:
        with pytest.raises(migrations.MigrationError, match="012_.*vawg_owner"):
            migrations.migrate(conn)
    with psycopg.connect(database.url) as conn:
        last_before_012 = max(m.version for m in migrations.available() if m.version < 12)
        assert conn.execute("select max(version) from audit.schema_migration").fetchone() == (
            last_before_012,
        )
        conn.execute(f'grant vawg_owner to "{legacy.user}"')
    with psycopg.connect(legacy.url) as conn:
        applied = migrations.migrate(conn)
        assert applied[0].startswith("012_")  # and any later one, as vawg_owner
        owners = dict(
            conn.execute(
                "select c.oid::regclass::text, c.relowner::regrole::text from pg_class as c "
                "where c.oid = any(array['audit.load_batch', 'raw_force.crimes', "
                "'marts.fct_recorded_crime', 'marts.mart_reporting_monthly', "
                "'landing.force_crimes__b1']::regclass[])"
            ).fetchall()
        )
        still_legacy = conn.execute(
            "select (select count(*) from pg_class where relowner = session_user::regrole) "
            "+ (select count(*) from pg_namespace where nspowner = session_user::regrole) "
            "+ (select count(*) from pg_proc where proowner = session_user::regrole)"
        ).fetchone()
        bi = conn.execute(
            "select has_table_privilege('vawg_bi_reader', 'marts.fct_recorded_crime', 'select'), "
            "has_table_privilege('vawg_bi_reader', 'marts.mart_reporting_monthly', 'select')"
        ).fetchone()
    assert owners == {
        "audit.load_batch": "vawg_owner",
        "raw_force.crimes": "vawg_owner",
        "marts.fct_recorded_crime": "vawg_pipeline",
        "marts.mart_reporting_monthly": "vawg_pipeline",
        "landing.force_crimes__b1": "vawg_pipeline",
    }
    assert still_legacy == (0,)
    assert bi == (False, False)
