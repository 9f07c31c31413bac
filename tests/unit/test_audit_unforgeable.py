"""The pipeline's login cannot forge what auditors read (issue 20).

It appends to the audit trail only through functions owned by vawg_owner (SECURITY DEFINER):
a load batch's status moves only along the allowed transitions, its counts come from the rows
(the landing table, the rows set aside), a run report's headline figures must be the ledger's,
and a status event is written only by the transition that makes it. It can neither update nor
delete an audit row itself. Run as a real login that is a member of vawg_pipeline only.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

SHA = "ab" * 32


def _refused(conn: psycopg.Connection, statement: str, params=None) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as refusal:
        conn.execute(statement, params)
    return str(refusal.value)


def _published_batch(conn: psycopg.Connection) -> int:
    """A batch taken through the real path: registered, loaded, validated, published."""
    (batch,) = conn.execute(
        "select batch_id from audit.register_batch('force_crimes', 'force/crimes/x.csv', %s, 10, "
        "'d', 'run-1', null, null, null, null, '{}'::jsonb)",
        (SHA,),
    ).fetchone()
    conn.execute(f"create table landing.force_crimes__b{batch} (_row_number int)")
    conn.execute(f"insert into landing.force_crimes__b{batch} values (1), (2), (3)")
    conn.execute("select audit.batch_transition(%s, 'loaded', '{}', 'run-1', null, 3)", (batch,))
    conn.execute("select audit.batch_transition(%s, 'validated', '{}', 'run-1')", (batch,))
    conn.execute("select audit.batch_transition(%s, 'published', '{}', 'run-1')", (batch,))
    return batch


def test_the_pipeline_cannot_rewrite_a_load_batch_or_its_history(migrated, make_login) -> None:
    pipeline = make_login(migrated, "vawg_pipeline")
    with psycopg.connect(pipeline.url, autocommit=True) as conn:
        conn.execute("set role vawg_pipeline")
        batch = _published_batch(conn)
        # Not by hand: no update, no insert of a batch or of a status event.
        _refused(conn, "update audit.load_batch set rows_read = 12345")
        _refused(conn, "update audit.load_batch set status = 'registered'")
        _refused(
            conn,
            "insert into audit.load_batch (dataset, file_name, file_sha256, file_size_bytes, "
            "status, rows_read) values ('force_crimes', 'y.csv', %s, 1, 'published', 99)",
            ("cd" * 32,),
        )
        _refused(
            conn,
            "insert into audit.load_batch_event (batch_id, status) values (%s, 'published')",
            (batch,),
        )
        # Not through the functions either: published never goes back, a count is the rows'.
        _refused(conn, "select audit.batch_transition(%s, 'registered', '{}', 'r')", (batch,))
        _refused(conn, "select audit.batch_transition(%s, 'loaded', '{}', 'r', null, 1)", (batch,))
        _refused(conn, "select audit.append_batch_event(%s, 'published', '{}', 'r')", (batch,))
        (other,) = conn.execute(
            "select batch_id from audit.register_batch('force_crimes', 'force/crimes/z.csv', %s, "
            "10, 'd', 'run-1', null, null, null, null, '{}'::jsonb)",
            ("ef" * 32,),
        ).fetchone()
        conn.execute(f"create table landing.force_crimes__b{other} (_row_number int)")
        assert "rows" in _refused(
            conn, "select audit.batch_transition(%s, 'loaded', '{}', 'r', null, 12345)", (other,)
        )
        # What is not a status may still be added (an event of the batch's life).
        conn.execute("select audit.append_batch_event(%s, 'duplicate_file', '{}', 'r')", (batch,))
    with psycopg.connect(migrated.url) as conn:
        assert conn.execute(
            "select status, rows_read, rows_loaded, rows_rejected from audit.load_batch "
            "where batch_id = %s",
            (batch,),
        ).fetchone() == ("published", 3, 3, 0)
        statuses = conn.execute(
            "select status from audit.load_batch_event where batch_id = %s order by event_id",
            (batch,),
        ).fetchall()
        assert [s for (s,) in statuses] == [
            "registered",
            "loaded",
            "validated",
            "published",
            "duplicate_file",
        ]


def test_the_pipeline_cannot_forge_a_run_report(migrated, make_login) -> None:
    pipeline = make_login(migrated, "vawg_pipeline")
    with psycopg.connect(pipeline.url, autocommit=True) as conn:
        conn.execute("set role vawg_pipeline")
        _published_batch(conn)
        truth = {
            "files": 1,
            "rows_read": 3,
            "rows_loaded": 3,
            "rows_set_aside": 0,
            "files_quarantined": 0,
        }
        forged = {**truth, "rows_read": 12345}
        _refused(
            conn,
            "insert into audit.run_report (dag_id, dag_run_id, status, figures, html) "
            "values ('d', 'run-1', 'ok', %s, '<p>all well</p>')",
            (Jsonb(forged),),
        )
        assert "figures" in _refused(
            conn,
            "select audit.append_run_report('d', 'run-1', null, 'ok', %s, '<p>x</p>')",
            (Jsonb(forged),),
        )
        conn.execute(
            "select audit.append_run_report('d', 'run-1', null, 'ok', %s, '<p>x</p>')",
            (Jsonb(truth),),
        )
        _refused(conn, "update audit.run_report set html = '<p>all well</p>'")
        _refused(conn, "delete from audit.run_report")
    with psycopg.connect(migrated.url) as conn:
        assert conn.execute("select figures from audit.run_report").fetchall() == [(truth,)]


def test_a_grant_to_bi_readers_outside_bi_is_taken_away_by_the_owner_and_fails_the_build(
    migrated, make_login, monkeypatch
) -> None:
    """dbt runs as vawg_pipeline, which owns what it builds: it could give BI tools a fact table
    (victim pseudonyms) or a bi view over one. After each build the owner's check takes both
    away and the build fails, naming them."""
    from vawg_warehouse.dbt_run import transform

    pipeline = make_login(migrated, "vawg_pipeline")
    with psycopg.connect(pipeline.url, autocommit=True) as conn:
        conn.execute("set role vawg_pipeline")  # as dbt does (profiles.yml, role)
        conn.execute("create table marts.fct_secret (victim_pseudonym text)")
        conn.execute("create view bi.secret as select * from marts.fct_secret")
        conn.execute("create view bi.fine as select 1 as n")
        conn.execute("grant select on marts.fct_secret to vawg_bi_reader")
        conn.execute("grant select on bi.secret, bi.fine to vawg_bi_reader")
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", pipeline.url)
    with pytest.raises(transform.TransformError) as refusal:
        transform.secure_bi_grants()
    assert "marts.fct_secret" in str(refusal.value) and "bi.secret" in str(refusal.value)
    with psycopg.connect(migrated.url) as conn:
        readable = conn.execute(
            "select has_table_privilege('vawg_bi_reader', 'marts.fct_secret', 'select'), "
            "has_table_privilege('vawg_bi_reader', 'bi.secret', 'select'), "
            "has_table_privilege('vawg_bi_reader', 'bi.fine', 'select')"
        ).fetchone()
    assert readable == (False, False, True)
    transform.secure_bi_grants()  # nothing left to take away: passes
