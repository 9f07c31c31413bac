"""`vawg asof` builds are checked like the nightly's (issue 20): after the build, the owner's
audit.secure_bi_grants() takes away what BI tools may not read (an asof_* schema holds a copy of
the marts, facts with victim pseudonyms included) and the build fails, naming it."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run.asof import build_as_of

# a dbt as-of build against a warehouse: the full suite, not the fast tier (README)
pytestmark = pytest.mark.slow


def test_an_as_of_build_takes_away_a_bi_readers_grant_and_fails(
    migrated, make_login, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    pipeline = make_login(migrated, "vawg_pipeline")
    with psycopg.connect(pipeline.url, autocommit=True) as conn:
        conn.execute("set role vawg_pipeline")  # as dbt does: it owns what it builds
        # what a build could have left: a copy of a fact table BI tools were given
        conn.execute("create schema asof_20250131_marts")
        conn.execute("create table asof_20250131_marts.fct_crimes (victim_pseudonym text)")
        conn.execute("grant usage on schema asof_20250131_marts to vawg_bi_reader")
        conn.execute("grant select on asof_20250131_marts.fct_crimes to vawg_bi_reader")

    build = build_as_of(date(2025, 1, 31), ["stg_audit__load_batches"], get_settings(), False)

    assert build.returncode != 0
    assert "asof_20250131_marts.fct_crimes" in build.output
    with psycopg.connect(migrated.url) as conn:
        assert conn.execute(
            "select has_table_privilege('vawg_bi_reader', 'asof_20250131_marts.fct_crimes', "
            "'select'), has_schema_privilege('vawg_bi_reader', 'asof_20250131_marts', 'usage')"
        ).fetchone() == (False, False)
    # nothing left to take away: the same build passes
    again = build_as_of(date(2025, 1, 31), ["stg_audit__load_batches"], get_settings(), False)
    assert again.returncode == 0, again.output[-3000:]
