"""What an operator does with quarantine (``vawg quarantine list`` and ``release``): everything
set aside and why, and the release of a batch's held rows, each as one call on the warehouse."""

from __future__ import annotations

from vawg_warehouse.audit import rules_broken
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.ingest.home_office_bodies import note_bodies_set_apart
from vawg_warehouse.ingest.quarantine import release_quarantined
from vawg_warehouse.run_context import RunContext
from vawg_warehouse.warehouse import connect


def quarantined_batches(settings: Settings | None = None) -> list[dict]:
    """Everything set aside now, and why (names, rules and counts, never values): batches set
    aside whole (rows held, or a file that could not be read at all), published batches with
    rows set aside, not yet corrected or released; batches refused (their file vanished or was
    rewritten); and landing entries refused unread (links, odd names)."""
    settings = settings or get_settings()
    with connect(settings, autocommit=True) as conn:
        rows = conn.execute(
            """
            select b.batch_id, b.dataset, b.file_name, b.status, b.rows_read, b.rows_rejected,
                   coalesce(
                       (select array_agg(distinct r.rule order by r.rule)
                        from audit.rejected_row as r where r.batch_id = b.batch_id),
                       array[b.error_message]
                   ) as rules
            from audit.load_batch as b
            where b.superseded_by_batch_id is null
              and (
                  b.status = 'refused'
                  or (b.status = 'quarantined'
                      and to_regclass('quarantine.' || b.dataset || '__b' || b.batch_id) is null)
                  or (b.rows_rejected > 0 and b.status in ('quarantined', 'published')
                      and to_regclass('quarantine.' || b.dataset || '__b' || b.batch_id)
                          is not null)
              )
            order by b.batch_id
            """
        ).fetchall()
        refused = conn.execute(
            "select dataset, file_name, rule, message from audit.refused_file order by refusal_id"
        ).fetchall()
        broken = rules_broken(conn, [row[0] for row in rows])
    keys = ("batch_id", "dataset", "file_name", "status", "rows_read", "rows_held", "rules")
    held = [dict(zip(keys, row, strict=True)) for row in rows]
    for entry in held:  # the rules by name (a validation's), not the message's first line
        entry["rules"] = broken.get(entry["batch_id"], entry["rules"])
    for dataset, file_name, rule, message in refused:
        held.append(
            {
                "batch_id": None,
                "dataset": dataset,
                "file_name": file_name,
                "status": "refused unread",
                "rows_read": None,
                "rows_held": None,
                "rules": [f"{rule}: {message}"],
            }
        )
    return held


def release(batch_id: int, reason: str, released_by: str, settings: Settings | None = None) -> int:
    """An operator's release of a batch's quarantined rows (see load.release_quarantined)."""
    settings = settings or get_settings()
    ctx = RunContext(dag_id=None, dag_run_id=f"manual:{released_by}")
    with connect(settings, autocommit=True) as conn:
        released = release_quarantined(conn, batch_id, reason, released_by, ctx)
        (dataset, file_name) = conn.execute(
            "select dataset, file_name from audit.load_batch where batch_id = %s", (batch_id,)
        ).fetchone()
        note_bodies_set_apart(conn, batch_id, dataset, file_name, ctx)
        return released
