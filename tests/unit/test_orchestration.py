"""The task functions, without Airflow, against a real database: the whole extract for a dataset."""

from __future__ import annotations

import json
from datetime import date

import psycopg

from vawg_devtools.sample import generate, write_bad_crimes_file
from vawg_warehouse import orchestration as o


def test_extract_functions_register_load_validate_publish_and_summarise(
    migrated, tmp_path, monkeypatch
) -> None:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 3), rows=60, seed=3)
    bad = write_bad_crimes_file(landing, date(2025, 1, 4))
    ctx = o.run_context("vawg_nightly", "run-1", date(2025, 1, 5))

    ids = o.register_files("force_crimes", ctx)
    assert len(ids) == 4
    assert o.load_batches(ids, ctx) == ids
    passed = o.validate_batches(ids, ctx)
    assert len(passed) == 3  # the bad file is quarantined
    published = o.publish_batches(passed, ctx)
    assert published == 60

    summary = o.finish_run("vawg_nightly", "run-1", date(2025, 1, 5))
    json.dumps(summary)  # a small, serialisable XCom
    statuses = {(b["status"], b["files"]) for b in summary["batches"]}
    assert statuses == {("published", 3), ("quarantined", 1)}
    (quarantined,) = summary["quarantined"]
    assert quarantined["file_name"] == bad.path.relative_to(landing).as_posix()
    assert "ho_offence_code" in quarantined["reason"]
    lines = o.format_summary(summary)
    assert any(line.startswith("  QUARANTINED") and bad.path.name in line for line in lines)
    with psycopg.connect(migrated.url) as conn:
        assert conn.execute("select count(*) from audit.pipeline_run").fetchone() == (1,)

    # A re-run over the same folder finds nothing to do.
    assert o.register_files("force_crimes", o.run_context("vawg_nightly", "run-2", None)) == []
