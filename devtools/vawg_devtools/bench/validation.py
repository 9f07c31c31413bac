"""Validation of a backlog of small files of one dataset: batches together, and one by one.

    .venv/bin/python -m vawg_devtools.bench.validation [--size 450] [--workspace DIR]

``size`` daily force crimes files of about 200 rows (vawg_devtools.sample), after 28 days of
published history (so the volume rule has bounds), are registered and loaded into a throwaway
database on the configured server; three of them are broken (a few bad rows set aside, a file
set aside whole, a warning only). Each timed step starts from a copy of that database
(``create database ... template``) and runs the validate task as the DAG does
(``orchestration.validate_batches``: GX, audit rows, quarantine):

* together, all files clean;
* together, with the three broken files (they are validated again, alone: the fallback);
* one GX run per batch, as before, on the same files.

The floor is the same checks as one hand-written SQL statement over the same rows, grouped by
batch (the file's date a column, uniqueness a second grouping). GX is imported before the clock
starts (its import is printed apart: a fresh task process pays it once, either way).

Last, one landing table of 1,000,000 rows (10,000 below size 100), built in SQL like
tests/benchmarks/bench_quality.py's, with 3 bad rows: the task together and one by one must take
the same time, a single big batch taking the per-batch path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from vawg_devtools.bench import Figure
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.warehouse import ConnectionInfo, connection_info

DATASET = "force_crimes"
ROWS_PER_FILE = 200
HISTORY_DAYS = 28
FIRST_DAY = date(2024, 1, 1)
TARGET_SECONDS = 15.0
BIG_ROWS = 1_000_000


def measure(size: int = 450, workspace: Path | None = None) -> list[Figure]:
    """Figures for ``size`` files (at least 10)."""
    from vawg_warehouse import orchestration as o

    size = max(int(size), 10)
    workspace = Path(workspace or tempfile.mkdtemp(prefix="vawg-bench-validation-"))
    server = connection_info()
    started = time.perf_counter()
    import vawg_warehouse.validate.gx_runtime  # noqa: F401 - the import, once, before any clock

    gx_import = time.perf_counter() - started
    with _database(server) as base:
        settings = _settings(get_settings(), workspace, base)
        batches = _prepare(settings, size)
        timings: dict[str, float] = {}
        outcomes: dict[str, dict] = {}
        runs = {
            "together, all clean": (batches["clean"], True),
            "together, 3 broken": (batches["mixed"], True),
            "one by one, 3 broken": (batches["mixed"], False),
        }
        for name, (ids, together) in runs.items():
            with _database(server, template=base) as copy:
                run_settings = replace(settings, external_warehouse_url=copy.url)
                ctx = o.run_context("bench", f"bench-{name}", FIRST_DAY)
                began = time.perf_counter()
                with _combining(together):
                    passed = o.validate_batches(ids, ctx, run_settings)
                timings[name] = time.perf_counter() - began
                outcomes[name] = _outcome(copy, ids, passed)
        floor_times = [_floor(base, settings, batches["mixed"]) for _ in range(3)]
    floor = statistics.median(floor_times)
    big_rows = BIG_ROWS if size >= 100 else 10_000
    big = _one_big_batch(server, settings, big_rows)
    if outcomes["together, 3 broken"] != outcomes["one by one, 3 broken"]:
        raise RuntimeError("batches together and one by one disagree: see the tests")
    together, alone = timings["together, 3 broken"], timings["one by one, 3 broken"]
    detail = {
        "files": size,
        "rows": batches["rows"],
        "gx_import_s": round(gx_import, 2),
        "floor_runs_s": [round(t, 3) for t in floor_times],
        "outcome": outcomes["together, 3 broken"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    floor_name = "the same checks, one hand-written SQL statement over the same rows"
    common = {"unit": "s", "floor": floor, "floor_name": floor_name, "detail": detail}
    return [
        Figure(
            name=f"validate {size} small files of one dataset, together (3 broken)",
            value=together,
            target=f"<= {TARGET_SECONDS:g} s",
            met=together <= TARGET_SECONDS,
            note=(
                f"the task as the DAG runs it (GX, audit rows, quarantine); {alone / together:.1f}"
                f"x faster than one GX run per batch; GX import ({gx_import:.1f} s) apart"
            ),
            **common,
        ),
        Figure(
            name=f"validate {size} small files of one dataset, together (all clean)",
            value=timings["together, all clean"],
            target=f"<= {TARGET_SECONDS:g} s",
            met=timings["together, all clean"] <= TARGET_SECONDS,
            note="no file to validate again alone",
            **common,
        ),
        Figure(
            name=f"validate {size} small files of one dataset, one GX run per batch (before)",
            value=alone,
            target="(reference)",
            note="the task with combining off (COMBINE_MAX_BYTES 0), the same files",
            **common,
        ),
        Figure(
            name=f"validate one batch of {big_rows:,} rows, the task",
            value=big["together"],
            unit="s",
            target="not slower than before (<= 1.1x, noise)",
            floor=big["one by one"],
            floor_name="the same batch, the task with combining off (one GX run per batch)",
            met=big["together"] <= 1.1 * big["one by one"],
            note="a single batch takes the per-batch path; 3 bad rows, set aside row by row",
            detail={"rows": big_rows, "outcome": big["outcome"]},
        ),
    ]


# --------------------------------------------------------------------------------------------
# Set-up: a throwaway database, history, the backlog
# --------------------------------------------------------------------------------------------


@contextmanager
def _database(
    server: ConnectionInfo, template: ConnectionInfo | None = None
) -> Iterator[ConnectionInfo]:
    """A new database on the server (a copy of ``template``), dropped afterwards."""
    name = f"vawg_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
        query = sql.SQL("create database {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" template {}").format(sql.Identifier(template.dbname))
        conn.execute(query)
    info = server.for_database(name)
    try:
        yield info
    finally:
        from vawg_warehouse.validate.validator import close_validators

        close_validators()
        with psycopg.connect(server.for_database("postgres").url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


def _settings(settings: Settings, workspace: Path, database: ConnectionInfo) -> Settings:
    from vawg_warehouse.ingest.privacy import demo_key

    settings = replace(
        settings,
        home=workspace / "home",
        landing_dir=workspace / "landing",
        archive_dir=workspace / "archive",
        external_warehouse_url=database.url,
    )
    if not os.environ.get("VAWG_PSEUDONYM_KEY"):
        demo_key(settings)  # a key of the bench's own, in its workspace
    return settings


def _prepare(settings: Settings, size: int) -> dict:
    """History published, then the backlog loaded: ids of the clean and the mixed backlog."""
    from vawg_devtools.sample import generate, write_bad_crimes_file
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.ingest.contracts import load_contract
    from vawg_warehouse.ingest.landing import discover, register
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.warehouse import connect

    landing = settings.landing_dir
    days = HISTORY_DAYS + size
    last = FIRST_DAY + timedelta(days=days - 1)
    generate(landing, start=FIRST_DAY, end=last, rows=days * ROWS_PER_FILE, sources=[])
    with connect(settings) as conn:
        migrate(conn)
    ctx = o.run_context("bench", "bench-setup", FIRST_DAY)
    contract = load_contract(DATASET)
    files = discover(landing, [contract])
    with connect(settings) as conn:
        history = register(conn, files[:HISTORY_DAYS], ctx)
        backlog = register(conn, files[HISTORY_DAYS:], ctx)
    ids = [b.batch_id for b in history]
    validated = o.validate_batches(o.load_batches(ids, ctx, settings), ctx, settings)
    o.publish_batches(validated, ctx, settings)
    clean = o.load_batches([b.batch_id for b in backlog], ctx, settings)
    # Three files of the backlog again, broken (new content, so new batches).
    broken_days = [HISTORY_DAYS + size // 4, HISTORY_DAYS + size // 2, HISTORY_DAYS + 3 * size // 4]
    for day, rows in zip(broken_days, (ROWS_PER_FILE, 16, None), strict=True):
        when = FIRST_DAY + timedelta(days=day)
        if rows is None:  # a warning only: one offence date after its recorded date
            path = next(p for p in (landing / "force" / "crimes").glob(f"*{when}*"))
            lines = path.read_text().splitlines(keepends=True)
            fields = lines[1].split(",")
            fields[2] = "2099-01-01"
            lines[1] = ",".join(fields)
            path.write_text("".join(lines))
        else:  # critical rules broken on 7 lines: a few rows of 200, or the whole of 16
            write_bad_crimes_file(landing, when, rows=rows)
    with connect(settings) as conn:
        again = register(conn, discover(landing, [contract]), ctx)
        rebroken = [b for b in again if b.status == "registered"]  # the three new files
        rows = conn.execute(
            "select sum(rows_read)::bigint from audit.load_batch where batch_id = any(%s)",
            (clean,),
        ).fetchone()[0]
    broken = o.load_batches([b.batch_id for b in rebroken], ctx, settings)
    replaced = {b.file_name for b in rebroken}
    by_id = {b.batch_id: b.file_name for b in backlog}
    mixed = [i for i in clean if by_id[i] not in replaced] + broken
    return {"clean": clean, "mixed": sorted(mixed), "rows": int(rows)}


def _outcome(database: ConnectionInfo, ids: list[int], passed: list[int]) -> dict:
    """What the task decided (the same either way), for the figures' detail."""
    with psycopg.connect(database.url) as conn:
        statuses = conn.execute(
            "select status, count(*)::int, sum(rows_rejected)::int from audit.load_batch "
            "where batch_id = any(%s) group by status order by status",
            (ids,),
        ).fetchall()
        failed = conn.execute(
            "select r.rule, count(*)::int from audit.validation_result as r "
            "join audit.validation_run as v using (validation_run_id) "
            "where v.batch_id = any(%s) and not r.success group by r.rule order by r.rule",
            (ids,),
        ).fetchall()
    return {
        "passed": len(passed),
        "statuses": {s: {"files": n, "rows_rejected": r or 0} for s, n, r in statuses},
        "failed_rules": dict(failed),
    }


@contextlib.contextmanager
def _combining(on: bool) -> Iterator[None]:
    """The validate task as it runs (``on``), or with no batch small enough to combine: each
    batch validated alone, one GX run per batch (the path before batches were combined)."""
    from vawg_warehouse.validate import together

    kept = together.COMBINE_MAX_BYTES
    together.COMBINE_MAX_BYTES = kept if on else 0
    try:
        yield
    finally:
        together.COMBINE_MAX_BYTES = kept


def _one_big_batch(server: ConnectionInfo, settings: Settings, rows: int) -> dict:
    """The validate task on one landing table of ``rows`` crime rows (built in SQL, 3 bad rows),
    together and one by one, each on its own copy of the database."""
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.warehouse import act_as_pipeline

    timings: dict = {}
    with _database(server) as base:
        with psycopg.connect(base.url) as conn:
            migrate(conn)
            # The batch as the loader leaves it, written here by the bench's superuser: the
            # pipeline login appends to the ledger only through the owner's functions
            # (migration 020), which take a file, not a table made in SQL.
            (batch_id,) = conn.execute(
                "insert into audit.load_batch (dataset, file_name, file_sha256, "
                "file_size_bytes, status, rows_read) values (%s, %s, %s, 0, 'loaded', %s) "
                "returning batch_id",
                (DATASET, "force/crimes/crimes_2025-03-02.csv", secrets.token_hex(32), rows),
            ).fetchone()
            act_as_pipeline(conn)  # the landing table is the pipeline's, as the loader's are
            table = sql.Identifier("landing", f"{DATASET}__b{batch_id}")
            conn.execute(sql.SQL(BIG_TABLE).format(table=table, rows=sql.Literal(rows)))
            conn.execute(sql.SQL(BIG_BAD_ROWS).format(table=table, rows=sql.Literal(rows)))
            conn.execute(sql.SQL("analyze {}").format(table))
        for name, together in (("one by one", False), ("together", True)):
            with _database(server, template=base) as copy:
                run_settings = replace(settings, external_warehouse_url=copy.url)
                ctx = o.run_context("bench", f"bench-big-{name}", FIRST_DAY)
                began = time.perf_counter()
                with _combining(together):
                    passed = o.validate_batches([batch_id], ctx, run_settings)
                timings[name] = time.perf_counter() - began
                timings["outcome"] = _outcome(copy, [batch_id], passed)
    return timings


# A landing table as the loader makes it (every column text), rows as bench_quality builds them.
BIG_TABLE = """
create table {table} as
select 'LC-2025-' || lpad(g::text, 7, '0') as crime_reference,
    '2025-03-02' as recorded_date,
    case when g % 3 = 0 then null else '2025-02-' || lpad((1 + g % 28)::text, 2, '0') end
        as offence_date,
    (array['19C', '8Q', '8L', '105A', '3B'])[1 + g % 5] as ho_offence_code,
    case when g % 2 = 0 then 'Y' else 'N' end as domestic_abuse_flag,
    (array['E06000008', 'E06000009', 'E07000117', 'E07000118'])[1 + g % 4]
        as local_authority_code,
    md5(g::text) || md5((g + 1)::text) as victim_pseudonym,
    (array['18-24', '25-34', '35-44', '65+'])[1 + g % 4] as victim_age_band,
    (array['F', 'M', 'U'])[1 + g % 3] as victim_sex,
    case when g % 2 = 0 then md5((g * 7)::text) end as suspect_pseudonym,
    '2025-03-03T01:15:00Z' as extracted_at,
    (g + 1)::bigint as _row_number,
    false as _malformed
from generate_series(1, {rows}) as g
"""
BIG_BAD_ROWS = """
update {table} set ho_offence_code = '99Z' where _row_number in ({rows} / 2, {rows} - 1);
update {table} set recorded_date = '2025-03-09' where _row_number = {rows} * 7 / 10
"""


# --------------------------------------------------------------------------------------------
# The floor: the suite's checks as one SQL statement
# --------------------------------------------------------------------------------------------


def _floor(database: ConnectionInfo, settings: Settings, ids: list[int]) -> float:
    """Seconds for the suite's checks on every batch as one hand-written SQL statement (with the
    catalog query for the column sets and the per-batch parameters), no GX, nothing stored."""
    from vawg_warehouse.audit import get_batches
    from vawg_warehouse.ingest.contracts import load_contract
    from vawg_warehouse.validate.combine import (
        COMPOUND_UNIQUE,
        PARAMETER_COLUMN,
        column_set,
        combined_expectations,
        rule_kinds,
        unexpected_condition,
    )
    from vawg_warehouse.validate.suites import (
        read_suite,
        recent_volumes_for,
        run_parameters,
        volume_bounds,
    )
    from vawg_warehouse.validate.together import _landing_tables

    contract = load_contract(DATASET)
    file = read_suite(DATASET)
    kinds = rule_kinds(file)
    assert kinds is not None
    seeds = settings.dbt_project_dir / "seeds" / "reference"
    began = time.perf_counter()
    with psycopg.connect(database.url) as conn:
        batches = get_batches(conn, ids)
        recent = recent_volumes_for(conn, ids)
        params = {
            b.batch_id: run_parameters(
                contract,
                {**volume_bounds(recent[b.batch_id])},
                file_name=b.file_name,
                seeds=seeds,
            )
            for b in batches
        }
        tables = [f"landing.{b.landing_table}" for b in batches]
        _landing_tables(conn, tables)
        written, _ = combined_expectations(file, kinds, {"extract_date"})
        shared = params[batches[0].batch_id]
        columns = sorted(column_set(file))
        arms = sql.SQL(" union all ").join(
            sql.SQL(
                "select {id}::bigint as _batch_id, {day}::text as {day_column}, {cols} from {t}"
            ).format(
                id=sql.Literal(b.batch_id),
                day=sql.Literal(params[b.batch_id]["extract_date"]),
                day_column=sql.Identifier(PARAMETER_COLUMN.format("extract_date")),
                cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                t=sql.Identifier("landing", b.landing_table),
            )
            for b in batches
        )
        checks, values, repeats = [], [], []
        for e in written:
            if e["type"] == COMPOUND_UNIQUE:
                column = sql.Identifier(e["kwargs"]["column_list"][1])
                repeats.append(
                    sql.SQL(
                        "select _batch_id, sum(n) as repeated from (select _batch_id, count(*) "
                        "as n from batch_rows where {c} is not null group by _batch_id, {c} "
                        "having count(*) > 1) as r group by _batch_id"
                    ).format(c=column)
                )
                continue
            condition, more = unexpected_condition(e, shared)
            checks.append(sql.SQL("count(*) filter (where {})").format(condition))
            values += more
        query = sql.SQL(
            "with batch_rows as not materialized ({arms}), "
            "checks as (select _batch_id, count(*) as n, {checks} from batch_rows "
            "group by _batch_id) "
            "select * from checks{joins}"
        ).format(
            arms=arms,
            checks=sql.SQL(", ").join(checks),
            joins=sql.SQL("").join(
                sql.SQL(" left join ({}) as {} using (_batch_id)").format(
                    r, sql.Identifier(f"u{i}")
                )
                for i, r in enumerate(repeats)
            ),
        )
        conn.execute(query, values).fetchall()
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=450, help="files in the backlog")
    parser.add_argument("--workspace", type=Path, default=None)
    args = parser.parse_args(argv)
    for figure in measure(args.size, args.workspace):
        ratio = f"{figure.ratio:.1f}x the floor" if figure.ratio else ""
        verdict = {True: "met", False: "NOT met", None: ""}[figure.met]
        print(
            f"{figure.name}: {figure.value:.2f} {figure.unit} ({ratio}, floor "
            f"{figure.floor:.2f} s: {figure.floor_name}); target {figure.target} {verdict}"
        )
        print(f"    {figure.note}")
    print(f"    detail: {figure.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
