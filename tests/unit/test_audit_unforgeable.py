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


# Every audit table the pipeline adds rows to (migration 022), with a row it might add.
APPENDED = {
    "task_failure": "(dag_id, dag_run_id, task_id, error_class, message) "
    "values ('d', 'run-1', 'load', 'ValueError', 'x')",
    "run_outcome": "(dag_id, dag_run_id, state) values ('d', 'run-1', 'success')",
    "pipeline_run": "(dag_id, dag_run_id, code_version) values ('d', 'run-1', 'v')",
    "refused_file": "(dataset, file_name, rule, message) values ('force_crimes', 'a', 'r', 'm')",
    "unrecognised_file": "(dag_run_id, file_name) values ('run-1', 'stray.csv')",
    "source_freshness": "(source_name, table_name, status) values ('s', 't', 'pass')",
    "dbt_group_build": "(group_name, command, reason, success, node_count) "
    "values ('g', 'build', 'r', true, 1)",
    "publication_audit": "(suppressed_cells, unprotected_cells, recovered_cells, "
    "protection_interval, problems, programs, seconds, is_decision) "
    "values (1, 0, 0, 0.1, 1, 1, 1, false)",
}


RUN = {
    "suite_sha256": "00" * 32,
    "gx_version": "1",
    "started_at": "2025-01-02T01:00:00Z",
    "finished_at": "2025-01-02T01:00:01Z",
    "result_format": "counts",
    "code_version": "v",
}


def test_the_pipeline_appends_every_other_audit_row_only_through_the_owner(
    migrated, make_login
) -> None:
    """Validations, rows set aside, task failures, run outcomes and every other audit table
    the pipeline writes: no insert, update or delete of its own (a forged validation that
    passed, rows set aside from a published batch, a failure stamped with another time); it
    appends through audit.append_rows, which checks what it can."""
    pipeline = make_login(migrated, "vawg_pipeline")
    with psycopg.connect(pipeline.url, autocommit=True) as conn:
        conn.execute("set role vawg_pipeline")
        published = _published_batch(conn)
        (loaded,) = conn.execute(
            "select batch_id from audit.register_batch('force_crimes', 'force/crimes/l.csv', "
            "%s, 10, 'd', 'run-1', null, null, null, null, '{}'::jsonb)",
            ("12" * 32,),
        ).fetchone()
        conn.execute(f"create table landing.force_crimes__b{loaded} (_row_number int)")
        conn.execute(f"insert into landing.force_crimes__b{loaded} values (1), (2)")
        conn.execute(
            "select audit.batch_transition(%s, 'loaded', '{}', 'run-1', null, 2)", (loaded,)
        )

        # By hand: refused on every table, for insert, update and delete.
        for table, values in APPENDED.items():
            _refused(conn, f"insert into audit.{table} {values}")
        _refused(
            conn,
            "insert into audit.validation_run (batch_id, suite_name, success, critical_failures, "
            "warning_failures) values (%s, 'force_crimes', true, 0, 0)",
            (published,),
        )
        _refused(
            conn,
            "insert into audit.rejected_row (batch_id, row_number, rule, expectation_type) "
            "values (%s, 1, 'r', 't')",
            (loaded,),
        )

        def append(table: str, rows: list[dict]) -> list:
            return [
                r
                for (r,) in conn.execute(
                    "select audit.append_rows(%s, %s)", (table, Jsonb(rows))
                ).fetchall()
            ]

        # Through the owner's function: what the pipeline really writes is taken...
        (run,) = append(
            "validation_run",
            [
                {
                    "batch_id": loaded,
                    "suite_name": "force_crimes",
                    **RUN,
                    "success": False,
                    "critical_failures": 1,
                    "warning_failures": 0,
                    "dag_run_id": "run-1",
                }
            ],
        )
        append(
            "validation_result",
            [
                {
                    "validation_run_id": run,
                    "expectation_index": 0,
                    "rule": "r",
                    "expectation_type": "t",
                    "severity": "critical",
                    "success": False,
                }
            ],
        )
        append(
            "rejected_row",
            [
                {
                    "batch_id": loaded,
                    "row_number": 1,
                    "rule": "r",
                    "expectation_type": "t",
                    "validation_run_id": run,
                }
            ],
        )
        (failure,) = append(
            "task_failure",
            [
                {
                    "dag_id": "d",
                    "dag_run_id": "run-1",
                    "task_id": "load",
                    "error_class": "E",
                    "message": "m",
                }
            ],
        )
        # ...what would forge the record is not.
        assert "judged" in _refused(
            conn,
            "select audit.append_rows('validation_run', %s)",
            (
                Jsonb(
                    [
                        {
                            "batch_id": published,
                            "suite_name": "force_crimes",
                            **RUN,
                            "success": True,
                            "critical_failures": 0,
                            "warning_failures": 0,
                        }
                    ]
                ),
            ),
        )
        assert "once" in _refused(
            conn,
            "select audit.append_rows('validation_result', %s)",
            (
                Jsonb(
                    [
                        {
                            "validation_run_id": run,
                            "expectation_index": 1,
                            "rule": "r2",
                            "expectation_type": "t",
                            "severity": "critical",
                            "success": True,
                        }
                    ]
                ),
            ),
        )
        assert "judged" in _refused(
            conn,
            "select audit.append_rows('rejected_row', %s)",
            (
                Jsonb(
                    [{"batch_id": published, "row_number": 2, "rule": "r", "expectation_type": "t"}]
                ),
            ),
        )
        assert "stamps" in _refused(
            conn,
            "select audit.append_rows('task_failure', %s)",
            (
                Jsonb(
                    [
                        {
                            "dag_id": "d",
                            "dag_run_id": "run-1",
                            "task_id": "load",
                            "error_class": "E",
                            "message": "m",
                            "failed_at": "2020-01-01T00:00:00Z",
                        }
                    ]
                ),
            ),
        )
        _refused(conn, "select audit.append_rows('load_batch', '[{\"dataset\": \"x\"}]')")
        _refused(conn, "select audit.append_rows('schema_migration', '[{\"version\": 99}]')")

        # Nothing written can be changed or removed by the pipeline.
        for table in [*APPENDED, "validation_run", "validation_result", "rejected_row"]:
            _refused(conn, f"delete from audit.{table}")
            _refused(conn, f"truncate audit.{table}")
        _refused(conn, "update audit.validation_run set success = true")
        _refused(conn, "update audit.validation_result set success = true")
        _refused(conn, "update audit.rejected_row set rule = 'none'")
        _refused(conn, "update audit.task_failure set message = 'fine'")
        _refused(conn, "update audit.run_outcome set state = 'success'")
    with psycopg.connect(migrated.url) as conn:
        assert conn.execute(
            "select count(*) from audit.rejected_row where batch_id = %s", (loaded,)
        ).fetchone() == (1,)
        assert conn.execute(
            "select failed_at > now() - interval '1 hour' from audit.task_failure "
            "where task_failure_id = %s",
            (failure,),
        ).fetchone() == (True,)
