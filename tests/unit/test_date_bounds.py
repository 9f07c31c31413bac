"""Dates in a plausible range (issue 20): a crime recorded in 1900 or committed in 2099 is set
aside, with its file, row and rule, never published."""

from __future__ import annotations

import csv
from datetime import date

import psycopg

from vawg_devtools.sample import generate
from vawg_warehouse import orchestration as o


def test_a_recorded_date_before_1990_or_an_offence_date_in_the_future_is_set_aside(
    migrated, tmp_path, monkeypatch
) -> None:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 1), rows=40, seed=11)
    (path,) = (landing / "force" / "crimes").glob("crimes_*.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    rows[0]["recorded_date"] = "1900-01-01"
    rows[1]["offence_date"] = "2099-01-01"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    ctx = o.run_context("vawg_nightly", "run-dates", date(2025, 1, 2))
    ids = o.register_files("force_crimes", ctx)
    passed = o.validate_batches(o.load_batches(ids, ctx), ctx)
    assert o.publish_batches(passed, ctx) == 38
    with psycopg.connect(migrated.url) as conn:
        published = conn.execute(
            "select count(*) from raw_force.crimes where recorded_date < '1990-01-01' "
            "or offence_date > '2030-01-01'"
        ).fetchone()
        rules = conn.execute(
            "select row_number, rule from audit.rejected_row order by row_number"
        ).fetchall()
    assert published == (0,)
    assert [r for _, r in rules] == [
        "recorded_date is between 1990-01-01 and the day after the run",
        "offence_date is between 1920-01-01 and the day after the run",
    ]
