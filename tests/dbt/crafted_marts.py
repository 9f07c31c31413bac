"""Crafted measure marts for the publication tests: exact counts by month, category, local
authority and Home Office outcome type, written into the three marts that measures 1 and 2
publish from (mart_reporting_monthly, mart_positive_outcomes_monthly,
mart_outcomes_by_type_monthly), each row's derived counts worked out from its types as the
marts do. tests/dbt/test_publication_suppression.py and test_publication_audit.py build the
publication tables on them."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import psycopg

from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "reference"
LAS = [
    "E06000008", "E06000009", "E07000117", "E07000118", "E07000119", "E07000120",
    "E07000121", "E07000122", "E07000123", "E07000124", "E07000125", "E07000126",
    "E07000127", "E07000128", "-1",
]  # fmt: skip
FLAGS = (
    "is_open",
    "is_positive",
    "is_charge_summons",
    "is_diversion",
    "is_evidential_difficulties",
)


def _outcome_types() -> dict[str, dict[str, bool]]:
    with (SEEDS / "ho_outcome_types.csv").open(newline="") as fh:
        return {r["outcome_code"]: {f: r[f] == "true" for f in FLAGS} for r in csv.DictReader(fh)}


TYPES = _outcome_types()
CODES = list(TYPES)

# (month, category, local authority) -> {outcome code: crimes in the recorded cohort}
Counts = dict[tuple[date, str, str], dict[str, int]]


def insert(conn: psycopg.Connection, table: str, rows: list[dict]) -> None:
    """Replace mart ``table``'s rows with ``rows`` (keys the mart does not have are dropped)."""
    columns = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = %s",
            (table,),
        ).fetchall()
    }
    conn.execute(f"truncate marts.{table}")
    for row in rows:
        kept = {k: v for k, v in row.items() if k in columns}
        names = ", ".join(kept)
        marks = ", ".join(["%s"] * len(kept))
        conn.execute(f"insert into marts.{table} ({names}) values ({marks})", list(kept.values()))


def write_crime_marts(conn: psycopg.Connection, counts: Counts) -> None:
    """The three marts of measures 1 and 2 from ``counts`` (every row a complete period)."""
    reporting, positive, by_type = [], [], []
    for (month, category, la), row in counts.items():
        key = {
            "month_start_date": month,
            "local_authority_code": la,
            "reporting_category": category,
            "financial_year": "2024/25",
            "local_authority_name": la,
            "is_complete_period": True,
            "is_change_across_trend_break": False,
            "population_basis": "persons",
        }
        cohort = sum(row.values())
        reporting.append({**key, "crime_count": cohort})

        def of(flag: str, row=row) -> int:
            return sum(n for c, n in row.items() if TYPES[c][flag])

        assigned = cohort - of("is_open")
        evidential = of("is_evidential_difficulties")
        positive.append({
            **key,
            "headline_rate": "charge_summons",
            "crime_count": cohort,
            "awaiting_outcome_count": of("is_open"),
            "without_outcome_event_count": 0,
            "assigned_outcome_count": assigned,
            "positive_count": of("is_positive"),
            "charge_summons_count": of("is_charge_summons"),
            "diversion_count": of("is_diversion"),
            "evidential_difficulties_count": evidential,
            "outcome_14_count": row["14"],
            "outcome_15_count": row["15"],
            "outcome_16_count": row["16"],
            "other_outcome_count": assigned - of("is_positive") - of("is_diversion") - evidential,
        })  # fmt: skip
        for code, n in row.items():
            by_type.append({
                **key,
                "outcome_code": code,
                "crime_count": n,
                "without_outcome_event_count": 0,
                "cohort_crime_count": cohort,
                "assigned_crime_count": assigned,
                **TYPES[code],
            })  # fmt: skip
    insert(conn, "mart_reporting_monthly", reporting)
    insert(conn, "mart_positive_outcomes_monthly", positive)
    insert(conn, "mart_outcomes_by_type_monthly", by_type)


def invoke(command: str, *args: str) -> None:
    """dbt in process, as the build runs it; every node must pass."""
    success, nodes, _, exception = transform.invoke(command, get_settings(), list(args))
    failed = [n.node.unique_id for n in nodes if str(n.status) in transform.FAILED_STATUSES]
    assert success and exception is None and not failed, (exception, failed)
