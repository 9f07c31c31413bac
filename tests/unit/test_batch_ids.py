"""A batch id is taken only for a file registered (issue 20): surveying the landing folder again
takes none (`insert ... on conflict do nothing` took one per file surveyed, ~2,000 a run)."""

from __future__ import annotations

from datetime import date

import psycopg

from vawg_devtools.sample import generate
from vawg_warehouse import orchestration as o


def test_registering_the_same_files_again_takes_no_batch_id(migrated, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 3), rows=10, seed=3)
    ctx = o.run_context("vawg_nightly", "run-ids", date(2025, 1, 4))
    first = o.register_files("force_crimes", ctx)
    assert len(first) == 3
    for _ in range(3):
        assert sorted(o.register_files("force_crimes", ctx)) == sorted(first)
    generate(landing, start=date(2025, 1, 4), end=date(2025, 1, 4), rows=10, seed=4)
    (new,) = set(o.register_files("force_crimes", ctx)) - set(first)
    assert new == max(first) + 1  # no id spent on the files surveyed again
    with psycopg.connect(migrated.url) as conn:
        assert conn.execute("select count(*) from audit.load_batch").fetchone() == (4,)
