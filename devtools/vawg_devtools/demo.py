"""``vawg demo`` and ``vawg sample``: the whole job on the embedded warehouse with sample data.

The demo writes the synthetic extracts of a window (15 months by default) into the landing
folder, runs the nightly DAG once through the local Airflow runner (``airflow dags test``), then
ends with the BI login and a query on bi run as it, the scorecard, `vawg status` and the command
for Airflow's UI.

``--force NAME`` (a force of seed forces, e.g. cumbria) makes it that force's warehouse: its
sample files at its size, its local authorities, most similar group and scorecard. A warehouse
holds one force's data: the force is recorded in ``$VAWG_HOME/home_force`` and a demo for another
force needs another VAWG_HOME (and VAWG_EMBEDDED_PORT, for a second embedded server).
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

from vawg_devtools.sample import DEFAULT_SEED, SampleSummary, generate
from vawg_warehouse import forces
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.console import Step, progress_printer, say

DEMO_START = date(2024, 7, 1)
DEMO_END = date(2025, 9, 30)


class OtherForceError(forces.ForceError):
    """The warehouse of VAWG_HOME already holds another force's data."""


def choose_force(force: str | None, settings: Settings | None = None) -> forces.Force:
    """The demo's force (``force``, else the home force setting), checked against seed forces and
    against the force the warehouse already holds; recorded in VAWG_HOME and set in this
    process's environment, so dbt, the validation and the Airflow run it starts all use it."""
    settings = settings or get_settings()
    chosen = forces.home_force(force)
    held = forces.recorded_force(settings.home)
    if held is None and chosen.code != forces.DEFAULT_HOME_FORCE and _has_files(settings):
        held = forces.DEFAULT_HOME_FORCE  # a warehouse from before forces were recorded
    if held is not None and held != chosen.code:
        raise OtherForceError(
            f"the warehouse in {settings.home} holds {held}'s data: run the demo for "
            f"{chosen.code} with a state folder of its own, e.g. VAWG_HOME=.vawg-{chosen.code} "
            f"VAWG_EMBEDDED_PORT=55433 vawg demo --force {chosen.code}"
        )
    path = forces.recorded_force_path(settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(chosen.code + "\n", encoding="utf-8")
    os.environ[forces.HOME_FORCE_VARIABLE] = chosen.code
    return chosen


def _has_files(settings: Settings) -> bool:
    landing = settings.landing_dir
    return landing.is_dir() and any(p.is_file() for p in landing.rglob("*"))


def run_demo(
    start: date | None = None,
    end: date | None = None,
    *,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
    force: str | None = None,
) -> int:
    """Sample extracts of the force (``force``, else the home force), a real DAG run for the day
    after ``end``, then what to do next."""
    from vawg_warehouse.local_airflow import run_dag

    start, end = start or DEMO_START, end or DEMO_END
    settings = get_settings()
    chosen = choose_force(force, settings)
    started = time.monotonic()
    with Step(f"{chosen.name}'s sample extracts {start} to {end} into {settings.landing_dir}"):
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
    demo_ending(settings, started)
    return 0


def demo_ending(settings, started: float) -> None:
    """What a newcomer does next: the BI login and a query on bi (what Power BI or Metabase
    sees), the scorecard, `vawg status` and Airflow's UI on the runs."""
    from vawg_devtools import demo_bi
    from vawg_warehouse import status
    from vawg_warehouse.warehouse import connect

    say(f"done in {time.monotonic() - started:.0f} s")
    login = demo_bi.ensure_login(settings)
    print()
    print("BI tools (Power BI, Metabase) connect as a BI login, which reads schema bi only:")
    print(f"  {login.redacted()}  (password in {settings.secrets_dir / 'bi_demo.password'})")
    print(f"  psql '{login.url}'")
    print("A query on bi, as that login:\n")
    print(demo_bi.QUERY)
    print()
    columns, rows = demo_bi.query(login)
    print("  " + " | ".join(columns))
    for r in rows:
        print("  " + " | ".join("" if v is None else str(v) for v in r))
    page = settings.reports_dir / "scorecard" / "index.html"
    if page.exists():
        print(f"\nThe measures scorecard for the Police and Crime Panel: {page}")
    print("\nvawg status (where every source stands; run it any time):\n")
    with connect(settings) as conn:
        print("\n".join(status.format_status(status.collect(conn))))
    print("\nAirflow's UI on these runs: .venv/bin/vawg airflow ui  (prints its URL and login)")


def write_sample(
    start: date | None = None,
    end: date | None = None,
    *,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
    landing_dir: Path | None = None,
    force: str | None = None,
) -> SampleSummary:
    """``vawg sample``: the synthetic extracts of a window into the landing folder, for
    ``force`` (else the home force: vawg_warehouse.forces)."""
    start, end = start or DEMO_START, end or DEMO_END
    if force is not None:
        os.environ[forces.HOME_FORCE_VARIABLE] = forces.home_force(force).code
    landing = landing_dir or get_settings().landing_dir
    with Step(f"generating sample extracts {start} to {end} into {landing}"):
        summary = generate(
            landing, start=start, end=end, rows=rows, seed=seed, progress=progress_printer()
        )
    print(summary)
    return summary
