"""Measure 2 end to end: positive outcome rates, recorded-cohort basis, after a real DAG run.

The shared ``pipeline`` run (tests/integration/conftest.py) loads generated force crimes and
outcome events through Airflow; here both outcome marts are computed again, in Python, straight
from the generated CSV files and the reference seeds (no SQL, no dbt on the expected side), and
compared row for row. A crime's current outcome is its event with the highest outcome_sequence; a
crime with no event counts as awaiting (outcome 0), and awaiting crimes are never in an assigned
denominator.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.integration.conftest import query, seed_rows

pytestmark = pytest.mark.integration

UNKNOWN = "-1"  # the unknown members of dim_geography and dim_outcome
TENTH = Decimal("0.1")


def _file_rows(landing: Path, folder: str) -> list[dict[str, str]]:
    """Every row of a force extract, oldest file first (a later file restates an earlier one)."""
    rows: list[dict[str, str]] = []
    for path in sorted((landing / "force" / folder).glob("*.csv")):
        with path.open(newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def crimes_from_files(landing: Path) -> dict[str, dict[str, str]]:
    """Each crime's latest version, by crime reference."""
    return {row["crime_reference"]: row for row in _file_rows(landing, "crimes")}


def outcome_events_from_files(landing: Path) -> dict[tuple[str, int], dict[str, str]]:
    """Each outcome event's latest version, by (crime reference, outcome sequence)."""
    return {
        (row["crime_reference"], int(row["outcome_sequence"])): row
        for row in _file_rows(landing, "outcomes")
    }


def current_outcome_codes(events: dict[tuple[str, int], dict[str, str]]) -> dict[str, str]:
    """crime reference -> the code of its event with the highest outcome_sequence."""
    latest: dict[str, tuple[int, str]] = {}
    for (crime, sequence), row in events.items():
        if crime not in latest or sequence > latest[crime][0]:
            latest[crime] = (sequence, row["outcome_code"])
    return {crime: code for crime, (_, code) in latest.items()}


def _pct(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(TENTH, ROUND_HALF_UP)


def _months(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def _is_true(text: str) -> bool:
    return text.strip().lower() == "true"


def expected_marts(landing: Path) -> tuple[dict, dict]:
    """(mart_outcomes_by_type_monthly, mart_positive_outcomes_monthly) from files and seeds."""
    measured = {
        c["reporting_category"]: c["headline_rate"] for c in seed_rows("outcome_measure_categories")
    }
    by_code: dict[str, set[str]] = defaultdict(set)
    flag_categories: set[str] = set()
    for rule in seed_rows("reporting_category_rules"):
        if rule["reporting_category"] not in measured:
            continue
        if rule["selection_rule"] == "offence_code":
            by_code[rule["ho_offence_code"]].add(rule["reporting_category"])
        else:
            flag_categories.add(rule["reporting_category"])
    flags = {
        o["outcome_code"]: {
            name: _is_true(o[name])
            for name in (
                "is_open",
                "is_positive",
                "is_charge_summons",
                "is_diversion",
                "is_evidential_difficulties",
            )
        }
        for o in seed_rows("ho_outcome_types")
    }
    flags[UNKNOWN] = dict.fromkeys(flags[next(iter(flags))], False)
    open_code = next(code for code, f in flags.items() if f["is_open"])
    authorities = [a["local_authority_code"] for a in seed_rows("local_authorities")]

    crimes = crimes_from_files(landing)
    events = outcome_events_from_files(landing)
    current = current_outcome_codes(events)
    as_of = max(date.fromisoformat(e["outcome_date"]) for e in events.values())

    # (month, la, category, outcome code) -> crimes; and those without any outcome event
    counts: Counter = Counter()
    without_event: Counter = Counter()
    recorded_months = set()
    for reference, crime in crimes.items():
        month = date.fromisoformat(crime["recorded_date"]).replace(day=1)
        recorded_months.add(month)
        code = current.get(reference, open_code)
        code = code if code in flags else UNKNOWN
        categories = set(by_code.get(crime["ho_offence_code"], set()))
        if crime["domestic_abuse_flag"] == "Y":
            categories |= flag_categories
        for category in categories:
            key = (month, crime["local_authority_code"], category, code)
            counts[key] += 1
            without_event[key] += reference not in current

    by_type: dict[tuple, dict] = {}
    positive: dict[tuple, dict] = {}
    for month in _months(min(recorded_months), max(recorded_months)):
        for la in authorities:
            for category, headline in measured.items():
                cell = {code: counts[(month, la, category, code)] for code in flags}
                cohort = sum(cell.values())
                awaiting = sum(n for code, n in cell.items() if flags[code]["is_open"])
                assigned = cohort - awaiting
                for code, n in cell.items():
                    by_type[(month, la, category, code)] = {
                        "crime_count": n,
                        "without_outcome_event_count": without_event[(month, la, category, code)],
                        "cohort_crime_count": cohort,
                        "assigned_crime_count": assigned,
                        "share_of_cohort_pct": _pct(n, cohort),
                        "share_of_assigned_pct": None
                        if flags[code]["is_open"]
                        else _pct(n, assigned),
                        "outcomes_as_of_date": as_of,
                    }

                def total(flag: str, cell=cell) -> int:
                    return sum(n for code, n in cell.items() if flags[code][flag])

                row = {
                    "headline_rate": headline,
                    "crime_count": cohort,
                    "awaiting_outcome_count": awaiting,
                    "without_outcome_event_count": sum(
                        without_event[(month, la, category, code)] for code in flags
                    ),
                    "assigned_outcome_count": assigned,
                    "positive_count": total("is_positive"),
                    "charge_summons_count": total("is_charge_summons"),
                    "diversion_count": total("is_diversion"),
                    "evidential_difficulties_count": total("is_evidential_difficulties"),
                    "outcome_14_count": cell["14"],
                    "outcome_15_count": cell["15"],
                    "outcome_16_count": cell["16"],
                    "other_outcome_count": sum(
                        n
                        for code, n in cell.items()
                        if not any(
                            flags[code][f]
                            for f in (
                                "is_open",
                                "is_positive",
                                "is_diversion",
                                "is_evidential_difficulties",
                            )
                        )
                    ),
                }
                row |= {
                    "awaiting_outcome_pct": _pct(awaiting, cohort),
                    "positive_rate_pct": _pct(row["positive_count"], cohort),
                    "positive_rate_assigned_pct": _pct(row["positive_count"], assigned),
                    "charge_summons_rate_pct": _pct(row["charge_summons_count"], cohort),
                    "charge_summons_rate_assigned_pct": _pct(row["charge_summons_count"], assigned),
                    "diversion_share_assigned_pct": _pct(row["diversion_count"], assigned),
                    "evidential_difficulties_share_assigned_pct": _pct(
                        row["evidential_difficulties_count"], assigned
                    ),
                    "outcome_14_share_assigned_pct": _pct(cell["14"], assigned),
                    "outcome_15_share_assigned_pct": _pct(cell["15"], assigned),
                    "outcome_16_share_assigned_pct": _pct(cell["16"], assigned),
                    "outcomes_as_of_date": as_of,
                }
                row["headline_rate_pct"] = row[f"{headline}_rate_pct"]
                positive[(month, la, category)] = row
    return by_type, positive


def _mart_rows(db, table: str, keys: list[str], columns: list[str]) -> dict[tuple, dict]:
    rows = query(
        db,
        f"select {', '.join(keys + columns)} from marts.{table} "
        f"where local_authority_code <> '{UNKNOWN}'",
    )
    actual = {r[: len(keys)]: dict(zip(columns, r[len(keys) :], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    return actual


@pytest.fixture(scope="module")
def expected(pipeline) -> tuple[dict, dict]:
    first = pipeline["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return expected_marts(pipeline["landing"])


def test_outcomes_by_type_mart_equals_the_files(pipeline, expected) -> None:
    by_type, _ = expected
    columns = list(next(iter(by_type.values())))
    actual = _mart_rows(
        pipeline["db"],
        "mart_outcomes_by_type_monthly",
        ["month_start_date", "local_authority_code", "reporting_category", "outcome_code"],
        columns,
    )
    assert actual == by_type
    # The check has substance: outcomes of every kind the measure reports are in the data.
    assert sum(v["crime_count"] for v in by_type.values()) > 500
    for code in ("0", "1", "16"):
        assert sum(v["crime_count"] for k, v in by_type.items() if k[3] == code) > 0, code


def test_positive_outcomes_mart_equals_the_files(pipeline, expected) -> None:
    _, positive = expected
    columns = list(next(iter(positive.values())))
    actual = _mart_rows(
        pipeline["db"],
        "mart_positive_outcomes_monthly",
        ["month_start_date", "local_authority_code", "reporting_category"],
        columns,
    )
    assert actual == positive
    totals = Counter()
    for row in positive.values():
        totals.update(
            {k: row[k] for k in ("crime_count", "positive_count", "awaiting_outcome_count")}
        )
    assert totals["positive_count"] > 0 and totals["awaiting_outcome_count"] > 0
    assert totals["crime_count"] > totals["awaiting_outcome_count"]


def test_unknown_local_authority_rows_are_empty(pipeline) -> None:
    for table in ("mart_outcomes_by_type_monthly", "mart_positive_outcomes_monthly"):
        unknown = query(
            pipeline["db"],
            f"select coalesce(sum(crime_count), 0) from marts.{table} "
            f"where local_authority_code = '{UNKNOWN}'",
        )[0][0]
        assert unknown == 0, table


def test_every_outcome_event_is_kept_as_history(pipeline) -> None:
    events = outcome_events_from_files(pipeline["landing"])
    stored = query(
        pipeline["db"],
        "select crime_id, outcome_sequence, outcome_code, outcome_date, _batch_id "
        "from marts.fct_crime_outcome_event",
    )
    assert {(r[0], r[1]): (r[2], r[3]) for r in stored} == {
        key: (row["outcome_code"], date.fromisoformat(row["outcome_date"]))
        for key, row in events.items()
    }
    assert all(r[4] is not None for r in stored)  # lineage to the load batch
    changed = Counter(crime for crime, _ in events)
    assert any(n > 1 for n in changed.values())  # some crimes' outcomes changed over time


def test_current_outcome_is_the_highest_sequence(pipeline) -> None:
    landing = pipeline["landing"]
    current = current_outcome_codes(outcome_events_from_files(landing))
    stored = query(
        pipeline["db"],
        "select crime_id, current_outcome_code, has_outcome_event, is_awaiting_outcome "
        "from marts.fct_crime_current_outcome",
    )
    crimes = crimes_from_files(landing)
    assert {r[0] for r in stored} == set(crimes)
    open_codes = {
        o["outcome_code"] for o in seed_rows("ho_outcome_types") if _is_true(o["is_open"])
    }
    for crime_id, code, has_event, awaiting in stored:
        assert code == current.get(crime_id)
        assert has_event == (crime_id in current)
        assert awaiting == (crime_id not in current or current[crime_id] in open_codes)
