"""Migrations apply once, in order, and the raw tables match the data contracts."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from vawg_warehouse import migrations
from vawg_warehouse.ingest.contracts import all_contracts


def test_migrate_applies_once_and_records_checksums(database) -> None:
    with psycopg.connect(database.url) as conn:
        first = migrations.migrate(conn)
        second = migrations.migrate(conn)
        recorded = conn.execute("select version, sha256 from audit.schema_migration").fetchall()
    assert first == [m.path.name for m in migrations.available()]
    assert second == []
    assert recorded == [(m.version, m.sha256) for m in migrations.available()]


def test_an_applied_migration_that_changed_is_an_error(database, tmp_path, monkeypatch) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy)
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", copy)
    with psycopg.connect(database.url) as conn:
        migrations.migrate(conn)
        first = sorted(copy.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            migrations.migrate(conn)


@pytest.mark.parametrize("contract", all_contracts(), ids=lambda c: c.dataset)
def test_raw_table_matches_its_contract(migrated, contract) -> None:
    schema, table = contract.raw_table.split(".")
    with psycopg.connect(migrated.url) as conn:
        columns = conn.execute(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        ).fetchall()
    postgres_names = {"timestamptz": "timestamp with time zone"}
    expected = [
        (c.stored_name, postgres_names.get(c.sql_type, c.sql_type), "NO" if c.required else "YES")
        for c in contract.columns
    ]
    lineage = [
        ("_batch_id", "bigint", "NO"),
        ("_row_number", "bigint", "NO"),
        ("_published_at", "timestamp with time zone", "NO"),
    ]
    assert columns == expected + lineage
