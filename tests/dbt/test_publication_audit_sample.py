"""The publication audit on the sample warehouse (tests/sample_warehouse.py, built without the
force group's audit step, so its publication tables hold the fixed point alone)."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from vawg_warehouse.dbt_run import publication_audit as pa


@pytest.fixture(scope="module")
def sample_system(sample_warehouse) -> tuple[pa.System, pa.Parameters]:
    with psycopg.connect(sample_warehouse.database.url) as conn:
        return pa.load(conn)


def test_the_fixed_point_alone_leaves_cells_that_can_be_worked_out(sample_system) -> None:
    """With the interval suppression off, the audit finds what the fixed point leaves: cells
    worked out exactly from the published tables."""
    system, params = sample_system
    _, rounds = pa.protect(system, dataclasses.replace(params, interval_suppression=False))
    assert len(rounds) == 1 and rounds[0].recovered
    assert set(rounds[0].recovered) <= set(rounds[0].unprotected)


def test_secondary_suppression_protects_every_cell_of_real_data(sample_system) -> None:
    """With it on, secondary suppression ends with every suppressed cell protected, and an
    audit of the cells it settles on, from scratch, finds none it can narrow."""
    system, params = sample_system
    params = dataclasses.replace(params, interval_suppression=True)
    hidden, rounds = pa.protect(system, params)
    assert rounds[0].unprotected and rounds[-1].unprotected == []
    final = pa.audit(system, hidden, params)
    assert final.unprotected == [] and final.recovered == []
