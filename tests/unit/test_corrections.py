"""Corrections at the loader (corrections.py), without dbt: what a re-sent day supersedes,
withdraws and records, and that a re-sent file with rows set aside withdraws nothing for absence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from tests.unit.test_load import GOOD_ROWS, HEADER
from vawg_warehouse import orchestration as o

NAME = "force/crimes/crimes_2025-01-01.csv"


def row(n: int, sex: str = "F") -> str:
    values = list(GOOD_ROWS[n % 2])
    values[0] = f"LC-2025-{n:07d}"
    values[HEADER.index("victim_sex")] = sex
    return ",".join(values)


def send(landing: Path, lines: list[str], run: str) -> int:
    path = landing / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([",".join(HEADER), *lines]) + "\n")
    ctx = o.run_context("vawg_nightly", run, date(2025, 1, 2))
    (batch,) = o.register_files("force_crimes", ctx)
    o.publish_batches(o.validate_batches(o.load_batches([batch], ctx), ctx), ctx)
    return batch


@pytest.fixture
def landing(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path / "landing"))
    return tmp_path / "landing"


def state(db, batch: int) -> tuple:
    with psycopg.connect(db.url) as conn:
        return conn.execute(
            "select status, superseded_by_batch_id from audit.load_batch where batch_id = %s",
            (batch,),
        ).fetchone()


def events(db, batch: int) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(
            "select status, detail from audit.load_batch_event where batch_id = %s "
            "and status in ('withdrew', 'restatement_incomplete', 'superseded') order by event_id",
            (batch,),
        ).fetchall()


def test_a_resent_day_with_rows_set_aside_withdraws_nothing_until_a_whole_one(migrated, landing):
    first = send(landing, [row(n) for n in range(1, 21)], "run-1")
    # Re-sent without crimes 19 and 20, and crime 18 with a value that sets its row aside:
    # 18 might be one of the missing, so nothing is withdrawn for absence yet.
    partial = send(landing, [row(n) for n in range(1, 18)] + [row(18, sex="X")], "run-2")
    assert state(migrated, first) == ("published", None)
    ((status, detail),) = events(migrated, partial)
    assert status == "restatement_incomplete" and detail["rows_missing_kept"] == 3
    assert any("kept" in line for line in o.format_summary(o.run_summary("run-2")))

    # The whole day again, without 19 and 20: both earlier batches are superseded by it.
    whole = send(landing, [row(n) for n in range(1, 19)], "run-3")
    assert state(migrated, first) == ("superseded", whole)
    assert state(migrated, partial) == ("superseded", whole)
    ((status, detail),) = events(migrated, whole)
    assert status == "withdrew"
    assert (detail["withdrawn_absent"], detail["withdrawn_cancelled"]) == (2, 0)
    assert detail["superseded_batch_ids"] == [first, partial]
