"""Quarantine and release.

Row-level quarantine (datasets whose contract allows it): when only some rows break critical
rules, and no more than the contract's share, those rows are set aside and the rest validated.
A batch that cannot be published moves to the ``quarantine`` schema whole; an operator may
release it, with a reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from vawg_warehouse.audit import Batch, get_batches, record_event, transition
from vawg_warehouse.ingest import corrections
from vawg_warehouse.ingest.publish import insert_into_raw
from vawg_warehouse.run_context import RunContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowRejection:
    """A critical rule that rows of a batch broke, and the SQL that selects those rows."""

    rule: str
    expectation_type: str
    rows_query: str


def quarantine_rows(
    conn: psycopg.Connection,
    batch: Batch,
    ctx: RunContext,
    rejections: list[RowRejection],
    validation_run_id: int,
    max_share: float,
) -> int | None:
    """Row-level quarantine: set aside the rows that broke critical rules, keep the rest.

    Every (row, rule) pair goes to audit.rejected_row; the rows themselves move, as loaded, from
    the landing table to ``quarantine.<dataset>__b<id>``. All in one transaction, and only if the
    rows set aside are at most ``max_share`` of the batch: otherwise nothing changes and None is
    returned (the caller quarantines the batch whole). Returns the number of rows set aside.
    """
    landing = sql.Identifier("landing", batch.landing_table)
    held = sql.Identifier("quarantine", batch.landing_table)
    try:
        with conn.transaction():
            for rejection in rejections:
                rows_query = sql.SQL(
                    rejection.rows_query.strip().rstrip(";")
                )  # GX's or the suite's SQL
                # The failing rows are found as this login (GX's or the suite's SQL); the rows
                # naming them are appended by the owner's function (migration 022).
                conn.execute(
                    sql.SQL(
                        "select audit.append_rows('rejected_row', coalesce(jsonb_agg("
                        "jsonb_build_object('batch_id', {batch}::bigint, 'row_number', "
                        "failing._row_number, 'rule', {rule}::text, 'expectation_type', "
                        "{kind}::text, 'validation_run_id', {run}::bigint)), '[]'::jsonb)) "
                        "from (select distinct _row_number from ({query}) as f) as failing"
                    ).format(
                        batch=sql.Literal(batch.batch_id),
                        rule=sql.Literal(rejection.rule),
                        kind=sql.Literal(rejection.expectation_type),
                        run=sql.Literal(validation_run_id),
                        query=rows_query,
                    )
                ).fetchall()
            rows_read, rejected = conn.execute(
                "select b.rows_read, (select count(distinct r.row_number) from audit.rejected_row "
                "as r where r.batch_id = b.batch_id) from audit.load_batch as b "
                "where b.batch_id = %s",
                (batch.batch_id,),
            ).fetchone()
            if rejected == 0 or rejected > max_share * rows_read:
                raise _TooManyRejected(rejected, rows_read)
            conn.execute(sql.SQL("drop table if exists {}").format(held))
            conn.execute(
                sql.SQL(
                    "create table {held} as select * from {landing} where _row_number in "
                    "(select row_number from audit.rejected_row where batch_id = %s)"
                ).format(held=held, landing=landing),
                (batch.batch_id,),
            )
            conn.execute(
                sql.SQL(
                    "delete from {landing} where _row_number in (select _row_number from {held})"
                ).format(landing=landing, held=held)
            )
            # rows_rejected: the rows audit.rejected_row holds for the batch, counted there
            conn.execute(
                "select audit.batch_rows_set_aside(%s, %s, %s)",
                (
                    batch.batch_id,
                    Jsonb({"rules": sorted({r.rule for r in rejections})}),
                    ctx.dag_run_id,
                ),
            )
    except _TooManyRejected as exc:
        log.warning(
            "batch %d (%s): %d of %d rows broke critical rules, more than row-level quarantine "
            "allows (%.0f%%): the whole batch is set aside",
            batch.batch_id,
            batch.file_name,
            exc.rejected,
            exc.rows_read,
            100 * max_share,
        )
        return None
    log.warning(
        "batch %d (%s): %d row(s) set aside in quarantine, the rest goes on",
        batch.batch_id,
        batch.file_name,
        rejected,
    )
    return rejected


class _TooManyRejected(Exception):
    def __init__(self, rejected: int, rows_read: int) -> None:
        self.rejected, self.rows_read = rejected, rows_read


def release_quarantined(
    conn: psycopg.Connection, batch_id: int, reason: str, released_by: str, ctx: RunContext
) -> int:
    """Publish what a batch has in quarantine, as it is, on an operator's word; returns rows.

    For a rule that was wrong rather than the data (a volume check on a busy day, a code the
    reference data lacked). The release, its reason and who gave it are kept as an event; the
    rows keep their batch and line, so lineage still leads to the file. A file that could not be
    read at all has no rows to release.
    """
    if not reason.strip():
        raise ValueError("a release needs a reason")
    (batch,) = get_batches(conn, [batch_id]) or [None]
    if batch is None:
        raise LookupError(f"no load batch {batch_id}")
    held = sql.Identifier("quarantine", batch.landing_table)
    exists = conn.execute(
        "select to_regclass(%s) is not null", (f"quarantine.{batch.landing_table}",)
    ).fetchone()[0]
    (superseded_by,) = conn.execute(
        "select superseded_by_batch_id from audit.load_batch where batch_id = %s", (batch_id,)
    ).fetchone()
    if superseded_by is not None and exists:
        raise ValueError(
            f"batch {batch_id} ({batch.file_name}) was corrected by batch {superseded_by}: "
            "its held rows are out of date and are not released"
        )
    if batch.status not in ("quarantined", "published") or not exists:
        raise ValueError(
            f"batch {batch_id} ({batch.file_name}) has nothing in quarantine to release "
            f"(status {batch.status})"
        )
    (malformed,) = conn.execute(
        sql.SQL("select count(*) from {} where _malformed").format(held)
    ).fetchone()
    if malformed:
        raise ValueError(
            f"batch {batch_id} ({batch.file_name}) holds {malformed} row(s) with the wrong "
            "number of fields (their values were not kept): a release cannot publish them; "
            "correct the file and drop it again"
        )
    with conn.transaction():
        try:
            with conn.transaction():
                released = insert_into_raw(conn, batch, held)
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            # Named by class and column only: the database's message may quote the value.
            column = f", column {exc.diag.column_name}" if exc.diag.column_name else ""
            raise ValueError(
                f"batch {batch_id} ({batch.file_name}): the quarantined rows cannot be published "
                f"as they are ({type(exc).__name__}{column}): correct the file instead"
            ) from None
        conn.execute(
            sql.SQL("alter table {} rename to {}").format(
                held, sql.Identifier(f"{batch.landing_table}__released")
            )
        )
        # the rows released: counted in the renamed quarantine table by the ledger's function
        (counted,) = conn.execute(
            "select audit.release_rows(%s, %s, %s, %s)",
            (batch_id, Jsonb({"reason": reason, "by": released_by}), ctx.dag_run_id, released),
        ).fetchone()
        if counted != released:
            raise ValueError(
                f"batch {batch_id}: {released} row(s) published but {counted} held: not released"
            )
        # The batch as it now stands (corrections.py): whole now, it restates its file.
        corrections.apply(conn, batch.contract, batch_id, batch.file_name, record_event, ctx)
    log.warning("batch %d: %d quarantined row(s) released by %s", batch_id, released, released_by)
    return released


def quarantine_batch(
    conn: psycopg.Connection, batch: Batch, ctx: RunContext, reason: str, **detail
) -> None:
    """Keep the batch's rows, as loaded, in the quarantine schema; never publish them."""
    landing = sql.Identifier("landing", batch.landing_table)
    with conn.transaction():
        conn.execute(
            sql.SQL("drop table if exists {}").format(
                sql.Identifier("quarantine", batch.landing_table)
            )
        )
        conn.execute(sql.SQL("alter table {} set schema quarantine").format(landing))
        transition(conn, batch.batch_id, "quarantined", ctx, error=reason, reason=reason, **detail)
    log.warning("quarantined batch %d (%s): %s", batch.batch_id, batch.file_name, reason)
