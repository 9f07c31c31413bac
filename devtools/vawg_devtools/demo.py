"""``vawg demo`` and ``vawg sample``: the whole job on the embedded warehouse with sample data.

The demo writes the synthetic extracts of a window (15 months by default) into the landing
folder, runs the nightly DAG once through the local Airflow runner (``airflow dags test``), then
prints a query of the measure 1 mart and where to connect.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

from vawg_devtools.sample import DEFAULT_SEED, SampleSummary, generate
from vawg_warehouse.config import get_settings
from vawg_warehouse.console import Step, progress_printer, say

DEMO_START = date(2024, 7, 1)
DEMO_END = date(2025, 9, 30)

DEMO_QUERY = """\
select month_start_date, local_authority_name, reporting_category,
       crime_count, rate_per_1000, change_on_last_year
from marts.mart_reporting_monthly
where reporting_category = 'domestic_abuse'
order by month_start_date desc, local_authority_name
limit 14;"""


def run_demo(
    start: date | None = None,
    end: date | None = None,
    *,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
) -> int:
    """Sample extracts, a real DAG run for the day after ``end``, then the mart's first rows."""
    from vawg_warehouse.local_airflow import run_dag
    from vawg_warehouse.warehouse import connect, connection_info

    start, end = start or DEMO_START, end or DEMO_END
    settings = get_settings()
    started = time.monotonic()
    with Step(f"sample extracts {start} to {end} into {settings.landing_dir}"):
        summary = generate(
            settings.landing_dir,
            start=start,
            end=end,
            rows=rows,
            seed=seed,
            progress=progress_printer(),
        )
    say(str(summary))
    code = run_dag(end + timedelta(days=1), settings)
    if code:
        return code
    info = connection_info(settings)
    with connect(settings) as conn:
        first_rows = conn.execute(DEMO_QUERY).fetchall()
        count = conn.execute("select count(*) from marts.mart_reporting_monthly").fetchone()[0]
    say(f"done in {time.monotonic() - started:.0f} s")
    print()
    print(
        f"The measure 1 mart is marts.mart_reporting_monthly ({count:,} rows) in {info.redacted()}"
    )
    print(f"Connect with:  psql '{info.url}'")
    print("A query to try:\n")
    print(DEMO_QUERY)
    print()
    for r in first_rows:
        print("  " + " | ".join("" if v is None else str(v) for v in r))
    page = settings.reports_dir / "scorecard" / "index.html"
    if page.exists():
        print(f"\nThe measures scorecard for the Police and Crime Panel: {page}")
    return 0


def write_sample(
    start: date | None = None,
    end: date | None = None,
    *,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
    landing_dir: Path | None = None,
) -> SampleSummary:
    """``vawg sample``: the synthetic extracts of a window into the landing folder."""
    start, end = start or DEMO_START, end or DEMO_END
    landing = landing_dir or get_settings().landing_dir
    with Step(f"generating sample extracts {start} to {end} into {landing}"):
        summary = generate(
            landing, start=start, end=end, rows=rows, seed=seed, progress=progress_printer()
        )
    print(summary)
    return summary
