"""Publish a validated batch: its rows cast into the typed raw table in one transaction, the
landing table dropped, earlier quarantined files of the same name superseded.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from vawg_warehouse.audit import Batch, record_event, transition
from vawg_warehouse.ingest import corrections
from vawg_warehouse.run_context import RunContext

log = logging.getLogger(__name__)


def _cast(column_name: str, contract_type: str) -> sql.Composable:
    ident = sql.Identifier(column_name)
    if contract_type == "flag":
        return sql.SQL("case {c} when 'Y' then true when 'N' then false end").format(c=ident)
    if contract_type == "text":
        return ident
    from vawg_warehouse.ingest.contracts import SQL_TYPES

    return sql.SQL("cast(nullif(btrim({c}), '') as {t})").format(
        c=ident, t=sql.SQL(SQL_TYPES[contract_type])
    )


class PublishMismatch(RuntimeError):
    """Publishing did not insert the rows it should have: the batch's transaction is undone."""


def insert_into_raw(conn: psycopg.Connection, batch: Batch, source: sql.Identifier) -> int:
    """Cast the rows of ``source`` (a landing or quarantine table) into the raw table. A row
    flagged ``_malformed`` (wrong field count, values not kept) is never inserted."""
    contract = batch.contract
    schema, table = contract.raw_table.split(".")
    targets = [*contract.stored_names, "_batch_id", "_row_number", "_published_at"]
    selects = [_cast(c.stored_name, c.type) for c in contract.columns]
    selects += [
        sql.Literal(batch.batch_id),
        sql.Identifier("_row_number"),
        sql.SQL("clock_timestamp()"),
    ]
    return conn.execute(
        sql.SQL(
            "insert into {raw} ({targets}) select {selects} from {source} where not _malformed"
        ).format(
            raw=sql.Identifier(schema, table),
            targets=sql.SQL(", ").join(map(sql.Identifier, targets)),
            selects=sql.SQL(", ").join(selects),
            source=source,
        )
    ).rowcount


def publish_batch(conn: psycopg.Connection, batch: Batch, ctx: RunContext) -> int:
    """Cast the validated rows into the raw table, in one transaction; returns rows published.

    Rows set aside by row-level quarantine are not in the landing table any more: they count as
    rejected (rows_read = rows_loaded + rows_rejected). Earlier batches of a file of the same
    name that were quarantined, whole or in part, are marked as corrected by this one.
    """
    contract = batch.contract
    landing = sql.Identifier("landing", batch.landing_table)
    schema, table = contract.raw_table.split(".")
    raw = sql.Identifier(schema, table)
    with conn.transaction():
        conn.execute(sql.SQL("delete from {} where _batch_id = %s").format(raw), (batch.batch_id,))
        published = insert_into_raw(conn, batch, landing)
        rows_read, set_aside = conn.execute(
            "select rows_read, coalesce(rows_rejected, 0) from audit.load_batch "
            "where batch_id = %s",
            (batch.batch_id,),
        ).fetchone()
        if rows_read is None or published != rows_read - set_aside:
            # e.g. a landing table emptied by a crash, or rows flagged malformed still in it
            raise PublishMismatch(
                f"batch {batch.batch_id} ({batch.file_name}): {published} row(s) would be "
                f"published but {rows_read} were read and {set_aside} set aside; nothing published"
            )
        conn.execute(sql.SQL("drop table {}").format(landing))
        # rows_loaded = rows_read - rows set aside, worked out by the ledger (checked above)
        transition(conn, batch.batch_id, "published", ctx)
        # What a re-sent file or a cancelling status withdraws (corrections.py).
        corrections.apply(conn, contract, batch.batch_id, batch.file_name, record_event, ctx)
        _supersede_earlier(conn, batch, ctx)
    log.info("published batch %d: %d rows into %s", batch.batch_id, published, contract.raw_table)
    return published


def _supersede_earlier(conn: psycopg.Connection, batch: Batch, ctx: RunContext) -> None:
    """A corrected file (same dataset and name, new content) releases what its forerunners left
    in quarantine: a batch quarantined whole becomes ``superseded``; a published batch with rows
    set aside keeps its status. Both point at the correcting batch, with an event each."""
    earlier = conn.execute(
        "select batch_id, status from audit.supersede_earlier(%s, false, null, '{}', %s)",
        (batch.batch_id, ctx.dag_run_id),
    ).fetchall()
    for batch_id, _status in earlier:  # each with its event (superseded or corrected)
        log.info("batch %d corrected by batch %d (%s)", batch_id, batch.batch_id, batch.file_name)
