"""What each role can read once dbt has built everything, checked in the catalog and by logging in.

One real `dbt build` of every seed and model (tests are left to the other dbt tests) into a
migrated database, run as a login that is only a member of vawg_pipeline: dbt needs nothing
more. Then the catalog must show that vawg_bi_reader can read exactly the views of schema bi
(from the manifest) and nothing else, so a mart, fact, raw or staging relation that became
readable by BI tools fails here; and that every description reached PostgreSQL as a comment.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import errors

from tests.conftest import (
    HANG_GUARD_SECONDS,
    create_database,
    create_login,
    drop_database,
    drop_login,
)
from vawg_warehouse.dbt_run import runner
from vawg_warehouse.migrations import migrate

# a dbt build of every model: the full suite, not the fast tier (README)
pytestmark = pytest.mark.slow

SYSTEM = ("pg_catalog", "information_schema", "pg_toast")


@pytest.fixture(scope="module")
def built(server, tmp_path_factory):
    database = create_database(server)
    with psycopg.connect(database.url) as conn:
        migrate(conn)
    logins = {
        role: create_login(server, database, role)
        for role in ("vawg_pipeline", "vawg_bi_reader", "vawg_auditor")
    }
    target = tmp_path_factory.mktemp("dbt_roles")
    try:
        done = runner.run(
            "build",
            ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
            connection=logins["vawg_pipeline"],
            target_path=target,
            log_path=target / "logs",
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )
        assert done.returncode == 0, done.stdout[-6000:]
        manifest = json.loads((target / "manifest.json").read_text())
        yield {"db": database, "logins": logins, "manifest": manifest}
    finally:
        for login in logins.values():
            drop_login(server, login)
        drop_database(database)


def _models(manifest: dict) -> dict[str, dict]:
    return {n["unique_id"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def _bi_relations(manifest: dict) -> set[str]:
    """What BI tools read: the views of schema bi (models/bi), by the name dbt gives them, and
    bi.measure_headlines, the union of two of them that their post-hook makes (macros/bi.sql)."""
    return {
        f"bi.{m['alias'] or m['name']}" for m in _models(manifest).values() if m["schema"] == "bi"
    } | {"bi.measure_headlines"}


def _readable(conn: psycopg.Connection, role: str) -> set[str]:
    rows = conn.execute(
        "select n.nspname || '.' || c.relname from pg_class as c "
        "join pg_namespace as n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname <> all(%s) "
        "and has_schema_privilege(%s, n.oid, 'usage') "
        "and has_table_privilege(%s, c.oid, 'select')",
        (list(SYSTEM), role, role),
    ).fetchall()
    return {name for (name,) in rows}


def test_bi_readers_can_read_exactly_the_views_of_schema_bi(built) -> None:
    with psycopg.connect(built["db"].url) as conn:
        readable = _readable(conn, "vawg_bi_reader")
    expected = _bi_relations(built["manifest"])
    off_limits = {r for r in readable if r.split(".")[0] != "bi"}
    assert not off_limits, f"vawg_bi_reader can read outside schema bi: {sorted(off_limits)}"
    assert readable == expected, (sorted(readable - expected), sorted(expected - readable))
    assert {"bi.date", "bi.data_as_of", "bi.local_authorities", "bi.reporting_monthly"} <= readable
    assert len(expected) >= 7 + 2 + 4


def test_every_description_is_a_postgresql_comment_bi_tools_can_read(built) -> None:
    """persist_docs: relations and columns of every model carry their yml description; the bi
    views' columns carry the description of the column they show (macros/bi.sql)."""
    with psycopg.connect(built["db"].url) as conn:
        relations = conn.execute(
            "select n.nspname || '.' || c.relname, obj_description(c.oid, 'pg_class') "
            "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname in ('bi', 'marts', 'publication') and c.relkind in ('r', 'v')"
        ).fetchall()
        bi_columns = conn.execute(
            "select c.relname || '.' || a.attname, col_description(c.oid, a.attnum) "
            "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
            "join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 "
            "and not a.attisdropped where n.nspname = 'bi'"
        ).fetchall()
    with psycopg.connect(built["logins"]["vawg_bi_reader"].url) as conn:
        seen_by_bi = conn.execute(
            "select col_description('bi.reporting_monthly'::regclass, 1), "
            "obj_description('bi.date'::regclass, 'pg_class')"
        ).fetchone()
    assert len(relations) > 40
    assert not [name for name, comment in relations if not comment]
    assert len(bi_columns) > 200
    assert not [name for name, comment in bi_columns if not comment]
    assert all(seen_by_bi)


def test_the_bi_date_table_has_every_day_and_no_null_date(built) -> None:
    with psycopg.connect(built["logins"]["vawg_bi_reader"].url) as conn:
        days, nulls, first, last, distinct = conn.execute(
            'select count(*), count(*) filter (where "Date" is null), min("Date"), max("Date"), '
            'count(distinct "Date") from bi.date'
        ).fetchone()
        quarter = conn.execute(
            'select "Financial year", "Financial quarter", "Financial year and quarter", '
            '"Quarter" from bi.date where "Date" = date \'2025-04-01\''
        ).fetchone()
    assert nulls == 0 and distinct == days == (last - first).days + 1
    assert quarter == ("2025/26", "Q1", "2025/26 Q1", "2025 Q2")


def test_auditors_read_audit_marts_lineage_and_publication_and_nothing_raw(built) -> None:
    with psycopg.connect(built["db"].url) as conn:
        readable = _readable(conn, "vawg_auditor")
        every = conn.execute(
            "select n.nspname || '.' || c.relname, n.nspname from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where c.relkind in ('r', 'p', 'v', 'm') and n.nspname = any(%s)",
            (["audit", "marts", "lineage", "publication"],),
        ).fetchall()
    assert {name for name, _ in every} <= readable
    assert {name.split(".")[0] for name in readable} == {
        "audit",
        "marts",
        "lineage",
        "publication",
        "bi",
    }


def test_dbt_built_everything_as_the_pipeline_and_recorded_it(built) -> None:
    with psycopg.connect(built["db"].url) as conn:
        owners = conn.execute(
            "select n.nspname, array_agg(distinct c.relowner::regrole::text) from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where c.relkind in ('r', 'p', 'v', 'm') and n.nspname <> all(%s) group by 1",
            (list(SYSTEM),),
        ).fetchall()
        (runs,) = conn.execute("select count(*) from audit.dbt_run where success").fetchone()
    by_schema = dict(owners)
    for schema in ("reference", "staging", "intermediate", "marts", "lineage", "publication", "bi"):
        assert by_schema[schema] == ["vawg_pipeline"], (schema, by_schema[schema])
    for schema in [s for s in by_schema if s == "audit" or s.startswith("raw_")]:
        assert by_schema[schema] == ["vawg_owner"], (schema, by_schema[schema])
    assert runs == 1  # the on-run-end hook, as vawg_pipeline


def test_each_login_reads_what_its_role_allows(built) -> None:
    logins = built["logins"]
    with psycopg.connect(logins["vawg_bi_reader"].url, autocommit=True) as conn:
        for allowed in ("bi.reporting_monthly", "bi.local_authorities", "bi.date", "bi.data_as_of"):
            conn.execute(f"select count(*) from {allowed}")
        for refused in (
            "marts.mart_reporting_monthly",
            "marts.dim_geography",
            "publication.pub_mart_reporting_monthly",
            "marts.fct_recorded_crime",
            "marts.fct_marac_case",
            "raw_force.crimes",
            "staging.stg_force__crimes",
            "audit.load_batch",
            "lineage.lineage_reporting_monthly",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"select count(*) from {refused}")
    with psycopg.connect(logins["vawg_auditor"].url, autocommit=True) as conn:
        for allowed in (
            "marts.fct_recorded_crime",
            "lineage.lineage_reporting_monthly",
            "publication.pub_mart_reporting_monthly",
            "audit.dbt_result",
        ):
            conn.execute(f"select count(*) from {allowed}")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select count(*) from raw_force.crimes")
    with psycopg.connect(logins["vawg_pipeline"].url, autocommit=True) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("alter table audit.dbt_run disable trigger all")
