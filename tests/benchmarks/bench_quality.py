"""Benchmark: Great Expectations validation per batch, warm validator, by result format.

    .venv/bin/python -m pytest tests/benchmarks/bench_quality.py -s -q

Not collected by the test suite (the file name does not start with test_); prints medians for a
100-row and a 1,000,000-row landing table, clean and with 3 bad rows.
"""

from __future__ import annotations

import statistics
import time

import psycopg

from tests.expectations.conftest import (  # noqa: F401 - fixtures
    PARAMETERS,
    _gx_database,
    landing_table,
)
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.validate.validator import BOOLEAN_ONLY, ROWS_FORMAT, BatchValidator

CRIMES = load_contract("force_crimes")


def test_benchmark_validation(landing_table, _gx_database) -> None:  # noqa: F811
    """Per-batch wall time, warm validator: 100 rows and 1,000,000 rows, by result format."""
    repeats = {"100": 20, "1000000": 3, "1000000 (3 bad rows)": 3}
    tables = {}
    for size in repeats:
        batch_id, table = landing_table("force_crimes", [])
        with psycopg.connect(_gx_database.url) as conn:
            conn.execute(
                f"""
                insert into {table}
                select 'LC-2025-' || lpad(g::text, 7, '0'), '2025-03-02',
                    case when g % 3 = 0 then null else '2025-02-' || lpad((1 + g % 28)::text, 2, '0') end,
                    (array['19C', '8Q', '8L', '105A', '3B'])[1 + g % 5],
                    case when g % 2 = 0 then 'Y' else 'N' end,
                    (array['E06000008', 'E06000009', 'E07000117', 'E07000118'])[1 + g % 4],
                    md5(g::text) || md5((g + 1)::text),
                    (array['18-24', '25-34', '35-44', '65+'])[1 + g % 4],
                    (array['F', 'M', 'U'])[1 + g % 3],
                    case when g % 2 = 0 then md5((g * 7)::text) end,
                    '2025-03-03T01:15:00Z', g + 1, false
                from generate_series(1, {int(size.split()[0])}) g
                """  # noqa: E501
            )
            if "bad" in size:
                conn.execute(
                    f"update {table} set ho_offence_code = '99Z'"
                    " where _row_number in (500000, 999999);"
                    f" update {table} set recorded_date = '2025-03-09' where _row_number = 700000"
                )
            conn.execute(f"analyze {table}")
        tables[size] = (batch_id, table)
    validator = BatchValidator(_gx_database)
    started = time.perf_counter()
    validator.validate(CRIMES, tables["100"][1], batch_id=tables["100"][0], parameters=PARAMETERS)
    print(
        f"\nfirst batch in the process (GX import if not yet, context, datasource, suite): "
        f"{time.perf_counter() - started:.2f} s"
    )
    formats = {
        "two-pass (default)": None,
        "SUMMARY + _row_number, one pass": ROWS_FORMAT,
        "BOOLEAN_ONLY": BOOLEAN_ONLY,
    }
    for size, (batch_id, table) in tables.items():
        for name, result_format in formats.items():
            times = []
            for _ in range(repeats[size]):
                started = time.perf_counter()
                report = validator.validate(
                    CRIMES,
                    table,
                    batch_id=batch_id,
                    parameters=PARAMETERS,
                    result_format=result_format,
                )
                times.append(time.perf_counter() - started)
                assert report.success is ("bad" not in size)
            print(
                f"{size:>20} rows  {name:32} median {statistics.median(times):6.3f} s  "
                f"min {min(times):6.3f} s  (n={len(times)})"
            )
    validator.close()
