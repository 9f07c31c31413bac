"""Corrections that remove: a re-sent file restates what it covers, and a status cancels a row.

For a dataset whose contract has a ``corrections`` block (force_crimes), two rules hold, here
for the audit trail and in dbt (``int_crimes_withdrawn``) for the facts, in the same words:

* **A re-sent file restates the whole of what it covers.** ``crimes_2025-03-01.csv`` sent again
  (same name, new content) is the day as the force now holds it: a crime whose current version
  came from an earlier file of that name and that the new file leaves out is **withdrawn**. Only
  a whole restatement withdraws: when some of the new file's rows were set aside (row-level
  quarantine), a crime missing from what was published may be one of those rows, so nothing is
  withdrawn for absence until a whole file of that name arrives (an event says so). A whole
  restatement marks the earlier batches of that name ``superseded`` (``superseded_by_batch_id``).
* **A status column cancels.** A row whose status the seed marks ``is_withdrawn`` (transferred,
  cancelled as no crime under the Home Office Counting Rules ...) withdraws its crime, in any file.

Raw rows are never deleted: the history stays in ``raw_*`` and a crime sent again later is
reinstated. Events name batches, files and counts, never a key or a value.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from vawg_warehouse.config import get_settings
from vawg_warehouse.ingest.contracts import Contract

log = logging.getLogger(__name__)


@dataclass
class Correction:
    """What publishing one batch withdrew, and what it superseded."""

    batch_id: int
    file_name: str
    absent: int = 0  # crimes withdrawn: their day was restated without them
    cancelled: int = 0  # rows of the batch whose status withdraws their crime
    absent_kept: int = 0  # missing from a restatement with rows set aside: not withdrawn
    superseded: list[int] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.absent or self.cancelled or self.absent_kept or self.superseded)


def withdrawn_statuses(seed: str, directory: Path | None = None) -> list[str]:
    """The values of the statuses seed whose ``is_withdrawn`` is true."""
    folder = directory or get_settings().dbt_project_dir / "seeds" / "reference"
    with (folder / f"{seed}.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    key = next(iter(rows[0])) if rows else ""
    return [r[key] for r in rows if str(r.get("is_withdrawn", "")).strip().lower() == "true"]


def apply(
    conn: psycopg.Connection,
    contract: Contract,
    batch_id: int,
    file_name: str,
    event,
    ctx,
) -> Correction | None:
    """After ``batch_id`` was published (same transaction): count what it withdraws, supersede
    the earlier batches of its file when it is a whole restatement, and record both as events
    (``event(conn, batch_id, status, ctx, **detail)``). None for a dataset without corrections."""
    if contract.restates is None and contract.status_column is None:
        return None
    schema, table = contract.raw_table.split(".")
    raw = sql.Identifier(schema, table)
    key = sql.SQL(", ").join(map(sql.Identifier, contract.row_key))
    correction = Correction(batch_id, file_name)
    params = {"batch": batch_id, "dataset": contract.dataset, "file": file_name}

    if contract.status_column and contract.statuses_seed:
        params["withdrawn"] = withdrawn_statuses(contract.statuses_seed)
        correction.cancelled = conn.execute(
            sql.SQL(
                "select count(distinct ({key})) from {raw} "
                "where _batch_id = %(batch)s and {status} = any(%(withdrawn)s)"
            ).format(key=key, raw=raw, status=sql.Identifier(contract.status_column)),
            params,
        ).fetchone()[0]

    if contract.restates == "file":
        standing = [
            r[0]
            for r in conn.execute(
                "select batch_id from audit.load_batch where dataset = %(dataset)s "
                "and file_name = %(file)s and batch_id < %(batch)s and status = 'published' "
                "order by batch_id",
                params,
            ).fetchall()
        ]
        if standing:
            params["standing"] = standing
            # Keys whose current version (highest batch, then line) is in a standing earlier
            # batch of this file: the new file left them out.
            absent = conn.execute(
                sql.SQL(
                    """
                    with keys as (
                        select distinct {key} from {raw} where _batch_id = any(%(standing)s)
                    ),
                    current_versions as (
                        select distinct on ({key_r}) r._batch_id
                        from {raw} as r
                        join keys using ({key})
                        order by {key_r}, r._batch_id desc, r._row_number desc
                    )
                    select count(*) from current_versions
                    where _batch_id = any(%(standing)s)
                    """
                ).format(
                    key=key,
                    raw=raw,
                    key_r=sql.SQL(", ").join(sql.Identifier("r", c) for c in contract.row_key),
                ),
                params,
            ).fetchone()[0]
            (rejected,) = conn.execute(
                "select coalesce(rows_rejected, 0) from audit.load_batch where batch_id = %s",
                (batch_id,),
            ).fetchone()
            if rejected:
                correction.absent_kept = absent
            else:
                correction.absent = absent
                correction.superseded = standing
                # each with its event, through the ledger's function (migration 020)
                conn.execute(
                    "select audit.supersede_earlier(%s, true, %s, %s, %s)",
                    (
                        batch_id,
                        standing,
                        Jsonb(
                            {
                                "reason": "the file was sent again: it restates the whole of "
                                "what it covers"
                            }
                        ),
                        ctx.dag_run_id,
                    ),
                )

    if correction.absent_kept:
        event(
            conn,
            batch_id,
            "restatement_incomplete",
            ctx,
            file_name=file_name,
            rows_missing_kept=correction.absent_kept,
            reason="rows of the re-sent file were set aside: nothing is withdrawn for absence "
            "until a whole file of this name arrives",
        )
    if correction.absent or correction.cancelled:
        event(
            conn,
            batch_id,
            "withdrew",
            ctx,
            file_name=file_name,
            withdrawn_absent=correction.absent,
            withdrawn_cancelled=correction.cancelled,
            superseded_batch_ids=correction.superseded,
        )
    if correction.changed_anything:
        log.info(
            "batch %d (%s): %d withdrawn (left out of the restated file), %d cancelled by "
            "status, %d left out but kept (rows set aside); supersedes %s",
            batch_id,
            file_name,
            correction.absent,
            correction.cancelled,
            correction.absent_kept,
            correction.superseded or "nothing",
        )
    return correction


def describe(entry: dict) -> str:
    """One line for a log or a page: what a correcting batch did."""
    parts = [
        f"{entry['withdrawn_absent']} crime(s) withdrawn (left out of the re-sent file)",
        f"{entry['withdrawn_cancelled']} cancelled by status",
    ]
    if entry["kept_missing"]:
        parts.append(f"{entry['kept_missing']} left out but kept (rows of the file were set aside)")
    superseded = entry["superseded_batch_ids"]
    parts.append(
        "supersedes batch " + ", ".join(map(str, superseded)) if superseded else "supersedes none"
    )
    return "; ".join(parts)
