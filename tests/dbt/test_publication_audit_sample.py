"""The publication audit on the sample warehouse (tests/sample_warehouse.py, built without the
force group's audit step: on its sparse data the added suppression does not converge yet, so the
test that the built warehouse has no unprotected cell is still to write)."""

from __future__ import annotations

import dataclasses

import psycopg

from vawg_warehouse.dbt_run import publication_audit as pa


def test_the_fixed_point_alone_leaves_cells_that_can_be_worked_out(sample_warehouse) -> None:
    """With the interval suppression off, the audit finds what the fixed point leaves: cells
    worked out exactly from the published tables."""
    with psycopg.connect(sample_warehouse.database.url) as conn:
        system, params = pa.load(conn)
    _, rounds = pa.protect(system, dataclasses.replace(params, interval_suppression=False))
    assert len(rounds) == 1 and rounds[0].recovered
    assert set(rounds[0].recovered) <= set(rounds[0].unprotected)
