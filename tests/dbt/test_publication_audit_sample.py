"""The publication audit on the sample warehouse (tests/sample_warehouse.py), built as the nightly
run builds it: the force group's build step (publication_audit.secure) has run."""

from __future__ import annotations

import dataclasses

import psycopg

from vawg_warehouse import publication_audit as pa


def _load(sample_warehouse) -> tuple[pa.System, pa.Parameters]:
    with psycopg.connect(sample_warehouse.database.url) as conn:
        return pa.load(conn)


def test_no_suppressed_cell_of_the_built_warehouse_can_be_narrowed(sample_warehouse) -> None:
    system, params = _load(sample_warehouse)
    result = pa.audit(system, pa._built(system), params)
    assert result.suppressed > 0
    assert result.unprotected == [] and result.recovered == []
    with psycopg.connect(sample_warehouse.database.url) as conn:
        last = conn.execute(
            "select unprotected_cells, is_decision from audit.publication_audit "
            "order by audit_id desc limit 1"
        ).fetchone()
    assert last == (0, False)  # the build step's own check of what it built


def test_the_fixed_point_alone_leaves_cells_that_can_be_worked_out(sample_warehouse) -> None:
    """With the interval suppression off, the audit finds what the fixed point leaves."""
    system, params = _load(sample_warehouse)
    _, rounds = pa.protect(system, dataclasses.replace(params, interval_suppression=False))
    assert len(rounds) == 1 and rounds[0].recovered
    assert set(rounds[0].recovered) <= set(rounds[0].unprotected)
