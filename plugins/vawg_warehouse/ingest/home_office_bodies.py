"""Home Office open data tables: the rows of bodies that are not territorial police forces.

A police recorded crime table by police force area lists, beside the 43 territorial forces,
British Transport Police and the fraud recording bodies (Action Fraud, CIFAS, UK Finance,
Financial Fraud Action UK). Their rows are published to raw like every other (a table is one
whole) and set apart in dbt: seed ``police_forces`` says which names are territorial forces, and
only those are in a force's or England and Wales totals (``int_peer_areas_composed``). A name the
seed does not know is set apart the same way (a warning of the suite, never a lost file).

So that nothing is set apart silently, each published batch of the dataset gets an event
``bodies_set_apart`` naming those bodies with their rows and offences (public names and counts:
no personal data), and the run logs the same as a warning. ``vawg status`` shows it.
"""

from __future__ import annotations

import csv
import logging
from functools import cache
from pathlib import Path

import psycopg

from vawg_warehouse.audit import record_event
from vawg_warehouse.run_context import RunContext

log = logging.getLogger(__name__)

DATASET = "public_home_office_recorded_crime"
EVENT = "bodies_set_apart"
# A count as the suite accepts it (a released batch may hold others: they add nothing here).
COUNT_PATTERN = r"^ *-?([0-9]{1,9}|[0-9]{1,3}(,[0-9]{3}){1,2}) *$"
RULE = "rows of bodies that are not territorial police forces are in no force's or E&W totals"


def _seed_path() -> Path:
    from vawg_warehouse.ingest.landing_files import seeds_dir

    return seeds_dir() / "police_forces.csv"


@cache
def _territorial(path: Path, _mtime_ns: int) -> frozenset[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return frozenset(
            row["force_name"]
            for row in csv.DictReader(handle)
            if row["area_type"] == "territorial_force"
        )


def territorial_forces(path: Path | None = None) -> frozenset[str]:
    """The names seed police_forces marks as territorial forces (re-read when the seed changes)."""
    path = path or _seed_path()
    return _territorial(path, path.stat().st_mtime_ns)


def bodies_in_batch(conn: psycopg.Connection, batch_id: int) -> list[dict]:
    """The names of a published batch that are not territorial forces, each with its rows and
    offences (as published: negative adjustments included; a count that is not a whole number,
    in a batch released as it was, adds nothing), by name."""
    territorial = sorted(territorial_forces())
    rows = conn.execute(
        """
        select force_name, count(*)::int,
               coalesce(sum(replace(btrim(number_of_offences), ',', '')::bigint)
                   filter (where number_of_offences ~ %s), 0)
        from raw_public.home_office_recorded_crime
        where _batch_id = %s and not (force_name = any(%s))
        group by force_name
        order by force_name
        """,
        (COUNT_PATTERN, batch_id, territorial),
    ).fetchall()
    return [{"name": name, "rows": n, "offences": int(total)} for name, n, total in rows]


def note_bodies_set_apart(
    conn: psycopg.Connection, batch_id: int, dataset: str, file_name: str, ctx: RunContext
) -> list[dict]:
    """After a Home Office batch is published: record (event ``bodies_set_apart``) and log which
    bodies' rows are set apart. Other datasets: nothing. Returns the bodies."""
    if dataset != DATASET:
        return []
    bodies = bodies_in_batch(conn, batch_id)
    if not bodies:
        return []
    with conn.transaction():
        record_event(conn, batch_id, EVENT, ctx, rule=RULE, bodies=bodies)
    log.warning("batch %d (%s): %s", batch_id, file_name, describe(bodies))
    return bodies


def describe(bodies: list[dict]) -> str:
    """One line for people: which bodies' rows are set apart."""
    named = ", ".join(f"{b['name']} ({b['rows']:,} rows)" for b in bodies)
    return f"set apart, in no force's or England and Wales totals: {named}"
