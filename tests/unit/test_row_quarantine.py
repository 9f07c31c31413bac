"""Row-level quarantine, correction and release of quarantined data, and the append-only audit
trail: the task functions against a real database, with real Great Expectations."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from vawg_devtools.sample import generate, write_bad_crimes_file
from vawg_devtools.sample.bad_data import CRIME_VIOLATIONS, UNKNOWN_OFFENCE_CODE
from vawg_warehouse import orchestration as o
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.quarantine import release_quarantined
from vawg_warehouse.validate import together as combine_together
from vawg_warehouse.validate.combine import COMBINED
from vawg_warehouse.validate.validator import TWO_PASS

DAY = date(2025, 1, 4)
CTX = o.run_context("vawg_nightly", "run-1", date(2025, 1, 5))


@pytest.fixture
def landing(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    return landing


def extract(dataset: str = "force_crimes", ctx=CTX) -> list[int]:
    """One dataset through register, load, validate and publish; returns the registered ids."""
    ids = o.register_files(dataset, ctx)
    loaded = o.load_batches(ids, ctx)
    o.publish_batches(o.validate_batches(loaded, ctx), ctx)
    return ids


def batch_row(db, batch_id: int) -> tuple:
    with psycopg.connect(db.url) as conn:
        return conn.execute(
            "select status, rows_read, rows_loaded, rows_rejected, rows_quarantined_published, "
            "superseded_by_batch_id from audit.load_batch where batch_id = %s",
            (batch_id,),
        ).fetchone()


def events(db, batch_id: int) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(
            "select status, detail from audit.load_batch_event where batch_id = %s "
            "order by event_id",
            (batch_id,),
        ).fetchall()


def rewrite(path: Path, change) -> None:
    """Rewrite a CSV file in place, each data row passed through ``change(line, row)``."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [rows[0]]
    for line, row in enumerate(rows[1:], start=2):
        new = change(line, row)
        if new is not None:
            kept.append(new)
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(kept)


def test_contracts_say_which_datasets_allow_row_level_quarantine() -> None:
    assert load_contract("force_crimes").row_quarantine_max_share == 0.10
    assert load_contract("force_outcomes").row_quarantine_max_share == 0.10
    for whole in ("cps_quarterly_outcomes", "funding_grants", "services_quarterly_returns"):
        assert load_contract(whole).row_quarantine_max_share is None


def test_a_mostly_good_batch_sets_its_bad_rows_aside_and_publishes_the_rest(
    migrated, landing
) -> None:
    write_bad_crimes_file(landing, DAY, rows=80)  # 7 bad lines of 80: under 10%
    (batch_id,) = extract()

    with psycopg.connect(migrated.url) as conn:
        failing = conn.execute(
            "select r.severity, r.rule, unnest(r.failing_row_numbers) "
            "from audit.validation_result as r join audit.validation_run using (validation_run_id) "
            "where batch_id = %s and not r.success",
            (batch_id,),
        ).fetchall()
        rejected_rows = conn.execute(
            "select row_number, rule from audit.rejected_row where batch_id = %s", (batch_id,)
        ).fetchall()
        held = conn.execute(
            f"select _row_number from quarantine.force_crimes__b{batch_id} order by 1"
        ).fetchall()
        published = conn.execute(
            "select _row_number from raw_force.crimes where _batch_id = %s", (batch_id,)
        ).fetchall()
    critical = {line for severity, _, line in failing if severity == "critical"}
    warned = {line for severity, _, line in failing if severity == "warning"} - critical
    # each bad line broke the rule it was written to break; one breaks a warning rule only
    assert critical | warned == set(CRIME_VIOLATIONS) and warned
    n = len(critical)
    status, read, loaded, rejected, _, _ = batch_row(migrated, batch_id)
    assert (status, read, loaded, rejected) == ("published", 80, 80 - n, n)
    # every (line, critical rule) pair is recorded; the lines are set aside, the rest published
    assert set(rejected_rows) == {(line, rule) for sev, rule, line in failing if sev == "critical"}
    assert [r[0] for r in held] == sorted(critical)
    published_lines = {r[0] for r in published}
    assert published_lines.isdisjoint(critical) and warned <= published_lines
    assert len(published) == 80 - n
    kinds = [e[0] for e in events(migrated, batch_id)]
    assert kinds == ["registered", "loaded", "rows_quarantined", "validated", "published"]


def test_too_many_bad_rows_set_the_whole_batch_aside(migrated, landing) -> None:
    write_bad_crimes_file(landing, DAY, rows=16)  # 7 bad lines of 16: over 10%
    (batch_id,) = extract()
    status, read, loaded, rejected, _, _ = batch_row(migrated, batch_id)
    assert (status, loaded, rejected) == ("quarantined", 0, read)
    with psycopg.connect(migrated.url) as conn:
        kept = conn.execute(f"select count(*) from quarantine.force_crimes__b{batch_id}")
        assert kept.fetchone()[0] == read == 16
        rolled_back = conn.execute(
            "select count(*) from audit.rejected_row where batch_id = %s", (batch_id,)
        )
        assert rolled_back.fetchone()[0] == 0


def test_a_corrected_file_of_the_same_name_supersedes_the_quarantined_one(
    migrated, landing
) -> None:
    bad = write_bad_crimes_file(landing, DAY, rows=16)
    (first,) = extract()
    assert batch_row(migrated, first)[0] == "quarantined"

    # the force sends the file again, the bad lines corrected (here: left out)
    rewrite(bad.path, lambda line, row: None if line in CRIME_VIOLATIONS else row)
    second_ctx = o.run_context("vawg_nightly", "run-2", date(2025, 1, 6))
    (second,) = extract(ctx=second_ctx)

    good = 16 - len(CRIME_VIOLATIONS)
    assert batch_row(migrated, second)[:4] == ("published", good, good, 0)
    status, *_, superseded_by = batch_row(migrated, first)
    assert (status, superseded_by) == ("superseded", second)
    last_status, detail = events(migrated, first)[-1]
    assert (last_status, detail["by_batch_id"]) == ("superseded", second)
    with psycopg.connect(migrated.url) as conn:  # the evidence stays
        kept = conn.execute(f"select count(*) from quarantine.force_crimes__b{first}")
        assert kept.fetchone()[0] == 16


def test_an_operator_releases_quarantined_rows_with_a_reason(migrated, landing) -> None:
    generate(landing, start=DAY, end=DAY, rows=60, seed=5)
    path = next((landing / "force" / "crimes").glob("crimes_*.csv"))
    # two codes the reference data lacks (say, added to the HO list this month)
    rewrite(
        path,
        lambda line, row: [*row[:3], UNKNOWN_OFFENCE_CODE, *row[4:]] if line in (2, 3) else row,
    )
    (batch_id,) = extract()
    status, read, loaded, rejected, _, _ = batch_row(migrated, batch_id)
    assert (status, loaded, rejected) == ("published", read - 2, 2)

    with psycopg.connect(migrated.url) as conn:
        with pytest.raises(ValueError, match="reason"):
            release_quarantined(conn, batch_id, " ", "analyst", CTX)
        released = release_quarantined(conn, batch_id, "code 999/99 added by HO", "analyst", CTX)
        assert released == 2
        in_raw = conn.execute(
            "select count(*) from raw_force.crimes where _batch_id = %s", (batch_id,)
        ).fetchone()[0]
    assert in_raw == read
    assert batch_row(migrated, batch_id)[:5] == ("published", read, read, 0, 2)
    last_status, detail = events(migrated, batch_id)[-1]
    assert last_status == "released"
    assert detail == {"rows": 2, "reason": "code 999/99 added by HO", "by": "analyst"}
    with psycopg.connect(migrated.url) as conn, pytest.raises(ValueError, match="nothing"):
        release_quarantined(conn, batch_id, "again", "analyst", CTX)  # released once only


def test_rows_that_cannot_be_typed_are_not_released(migrated, landing) -> None:
    write_bad_crimes_file(landing, DAY, rows=16)
    (batch_id,) = extract()
    with psycopg.connect(migrated.url) as conn:
        with pytest.raises(ValueError, match="cannot be published as they are") as caught:
            release_quarantined(conn, batch_id, "try anyway", "analyst", CTX)
        assert "X" not in str(caught.value).split("(")[-1]  # no value in the message
    assert batch_row(migrated, batch_id)[0] == "quarantined"


def _audit_trail(db) -> dict[str, list]:
    """What a run leaves for auditors and for dbt, without generated ids, times and as_of."""
    queries = {
        "batches": "select batch_id, file_name, status, rows_read, rows_loaded, rows_rejected, "
        "error_message from audit.load_batch order by batch_id",
        "events": "select batch_id, status, detail from audit.load_batch_event "
        "order by batch_id, event_id",
        "runs": "select batch_id, suite_name, suite_sha256, gx_version, success, "
        "critical_failures, warning_failures, dag_run_id, parameters - 'as_of' "
        "from audit.validation_run order by batch_id",
        "results": "select v.batch_id, r.expectation_index, r.rule, r.expectation_type, "
        "r.column_name, r.severity, r.success, r.element_count, r.unexpected_count, "
        "r.unexpected_percent, r.failing_row_numbers, r.observed_value, r.kwargs, r.error "
        "from audit.validation_result as r join audit.validation_run as v "
        "using (validation_run_id) order by 1, 2",
        "rejected": "select batch_id, row_number, rule, expectation_type from audit.rejected_row "
        "order by 1, 2, 3",
        "published": "select _batch_id, _row_number from raw_force.crimes order by 1, 2",
        "held": "select table_name from information_schema.tables "
        "where table_schema in ('landing', 'quarantine') order by 1",
    }
    with psycopg.connect(db.url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in queries.items()}


def test_a_night_of_many_files_leaves_the_same_trail_together_as_one_by_one(
    migrated, landing, server, monkeypatch
) -> None:
    """Eight daily files, clean and bad mixed (a few bad rows set aside, a file set aside whole,
    a warning), through the whole extract twice: batches validated together, and one GX run per
    batch (no batch small enough to combine: COMBINE_MAX_BYTES 0), each into a database of its
    own. Every audit row is the same."""
    from tests.conftest import create_database, drop_database
    from vawg_warehouse.migrations import migrate

    generate(landing, start=DAY, end=DAY + timedelta(days=7), rows=8 * 60, seed=3)
    write_bad_crimes_file(landing, DAY + timedelta(days=2), rows=80)  # rows set aside
    write_bad_crimes_file(landing, DAY + timedelta(days=5), rows=16)  # the whole file
    warned = next((landing / "force" / "crimes").glob(f"crimes_{DAY + timedelta(days=6)}*.csv"))
    # an offence the day after its recording: a warning (a date in the future, such as 2099, is
    # a critical rule since issue 20: tests/unit/test_date_bounds.py)
    after = (DAY + timedelta(days=7)).isoformat()
    rewrite(warned, lambda line, row: [*row[:2], after, *row[3:]] if line == 4 else row)

    extract()
    together = _audit_trail(migrated)
    together_formats = _result_formats(migrated)
    one_by_one_db = create_database(server)
    try:
        monkeypatch.setenv("VAWG_WAREHOUSE_URL", one_by_one_db.url)
        with psycopg.connect(one_by_one_db.url) as conn:
            migrate(conn)
        monkeypatch.setattr(combine_together, "COMBINE_MAX_BYTES", 0)
        extract()
        one_by_one = _audit_trail(one_by_one_db)
        one_by_one_formats = _result_formats(one_by_one_db)
    finally:
        drop_database(one_by_one_db)

    statuses = [(b[2], b[5] > 0) for b in together["batches"]]
    assert statuses.count(("published", True)) == 1  # the file with a few bad rows
    assert statuses.count(("quarantined", True)) == 1  # the file set aside whole
    assert len(together["rejected"]) == len(CRIME_VIOLATIONS) - 1
    warned_rules = [r[2] for r in together["results"] if not r[6] and r[5] == "warning"]
    assert "offence_date is not after recorded_date" in warned_rules
    for name in together:
        assert together[name] == one_by_one[name], name
    assert COMBINED in together_formats  # some batches were validated together ...
    assert one_by_one_formats == {TWO_PASS}  # ... and here every batch alone


def _result_formats(db) -> set[str]:
    with psycopg.connect(db.url) as conn:
        return {r[0] for r in conn.execute("select result_format from audit.validation_run")}


# --------------------------------------------------------------------------------------------
# The audit trail is append-only
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "update audit.load_batch_event set status = 'published'",
        "delete from audit.load_batch_event",
        "delete from audit.validation_result",
        "update audit.validation_run set success = true",
        "delete from audit.rejected_row",
        "truncate audit.load_batch_event cascade",
        "delete from audit.load_batch",
        "update audit.load_batch set file_sha256 = repeat('0', 64)",
        "update audit.load_batch set file_name = 'other.csv'",
        "delete from audit.schema_migration",
        "truncate audit.dbt_run cascade",  # empty here: a statement trigger fires all the same
        "truncate audit.run_report",
    ],
)
def test_history_cannot_be_changed_or_removed(migrated, landing, statement: str) -> None:
    write_bad_crimes_file(landing, DAY, rows=80)
    extract()
    with psycopg.connect(migrated.url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only|never"):
            conn.execute(statement)


def test_the_auditor_role_reads_the_audit_trail_and_nothing_else(migrated, landing) -> None:
    write_bad_crimes_file(landing, DAY, rows=80)
    extract()
    with psycopg.connect(migrated.url) as conn:
        conn.execute("set role vawg_auditor")
        rejected = conn.execute("select count(distinct row_number) from audit.rejected_row")
        assert rejected.fetchone()[0] == len(CRIME_VIOLATIONS) - 1  # one breaks a warning only
        assert conn.execute("select count(*) from audit.load_batch").fetchone()[0] == 1
        for forbidden in (
            "select count(*) from raw_force.crimes",
            "select count(*) from quarantine.force_crimes__b1",
            "insert into audit.load_batch_event (batch_id, status) values (1, 'x')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(forbidden)


def test_operators_list_and_release_quarantine_from_the_command_line(
    migrated, landing, capsys
) -> None:
    from vawg_warehouse.cli import main

    write_bad_crimes_file(landing, DAY, rows=80)
    (batch_id,) = extract()
    assert main(["quarantine", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"batch {batch_id:>6}" in listed and "crimes_2025-01-04.csv" in listed
    assert "broke: ho_offence_code is a known Home Office offence code" in listed
    # a release needs a reason; rows that cannot be typed are refused, plainly
    assert main(["quarantine", "release", str(batch_id)]) == 2
    assert main(["quarantine", "release", str(batch_id), "--reason", "checked"]) == 2
    assert "cannot be published as they are" in capsys.readouterr().out
    assert batch_row(migrated, batch_id)[3] > 0  # still held


def test_every_audit_table_but_load_batch_is_append_only(migrated) -> None:
    """A table added to schema audit without its triggers fails here, so none is forgotten."""
    with psycopg.connect(migrated.url) as conn:
        unguarded = conn.execute(
            """
            select c.relname from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = 'audit' and c.relkind = 'r' and c.relname <> 'load_batch'
              and not exists (
                  select from pg_trigger as t
                  join pg_proc as p on p.oid = t.tgfoid
                  where t.tgrelid = c.oid and p.proname = 'refuse_change'
                    and t.tgtype & 8 = 8 and t.tgtype & 16 = 16  -- delete and update
              )
            order by 1
            """
        ).fetchall()
    assert unguarded == []
