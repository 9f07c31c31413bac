"""Measures 3 (MARAC repeats) and 5 (protective orders), end to end.

The marts built by the shared real Airflow run (tests/integration/conftest.py: `pipeline`) are
compared, row for row, with the measures computed here in Python straight from the generated
MARAC and protective-order files and the reference seeds: no SQL and no dbt in the expected side.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.integration.conftest import query, seed_rows

pytestmark = pytest.mark.integration

FOUR_PLACES = Decimal("0.0001")
ONE_PLACE = Decimal("0.1")
ORDER_COUNTS = {
    "notice_issued": "notices_issued",
    "applied": "applications",
    "granted": "orders_granted",
    "refused": "orders_refused",
    "withdrawn": "applications_withdrawn",
    "breached": "breaches",
}


def _latest_rows(landing: Path, folder: str, pattern: str, key: tuple[str, ...]) -> list[dict]:
    """Every row of the dataset's files; a row restated by a later file replaces the earlier."""
    rows: dict[tuple, dict[str, str]] = {}
    for path in sorted((landing / folder).glob(pattern)):  # the loader takes files in name order
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                rows[tuple(row[k] for k in key)] = row
    return list(rows.values())


def _month(text: str) -> date:
    return date.fromisoformat(text).replace(day=1)


def _months(first: date, last: date) -> list[date]:
    out = []
    while first <= last:
        out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def _add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end (PostgreSQL's
    date + interval)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _ratio(numerator: int, denominator: int | None) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR_PLACES, ROUND_HALF_UP)


def _pct(numerator: int | None, denominator: int | None) -> Decimal | None:
    """100 x numerator / denominator to 1 decimal place (the marts' macro pct)."""
    if numerator is None or not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(ONE_PLACE, ROUND_HALF_UP)


def data_as_of(landing: Path, folder: str, pattern: str) -> date:
    """The last whole day an extract covers: the day before its latest extraction (every row
    of every file counts, restated or not)."""
    latest = max(
        row["extracted_at"]
        for path in (landing / folder).glob(pattern)
        for row in csv.DictReader(path.open(newline=""))
    )
    return date.fromisoformat(latest[:10]) - timedelta(days=1)


def _month_end(month: date) -> date:
    return _add_months(month, 1) - timedelta(days=1)


def _population(basis: str) -> dict[tuple[str, int], int]:
    """(LA, year) -> the estimate applying to that year: the latest reference year at or
    before it, the earliest for years before every estimate."""
    by_la: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in seed_rows("population_mid_year"):
        by_la[row["local_authority_code"]].append((int(row["reference_year"]), int(row[basis])))
    out = {}
    for la, estimates in by_la.items():
        estimates.sort()
        for year in range(2015, 2036):
            usable = [value for ref, value in estimates if ref <= year] or [estimates[0][1]]
            out[(la, year)] = usable[-1]
    return out


# --------------------------------------------------------------------------------------------
# Measure 3: repeat victims heard at MARAC
# --------------------------------------------------------------------------------------------


def expected_marac(landing: Path) -> dict[tuple[date, str], dict]:
    parameters = {
        r["parameter"]: r["parameter_value"] for r in seed_rows("marac_measure_parameters")
    }
    window = int(parameters["window_months"])
    compared = "date_heard" if parameters["date_basis"] == "date_heard" else "date_referred"
    match_perpetrator = parameters["match_perpetrator"] == "true"
    population = _population(parameters["population_basis"])
    authorities = [a["local_authority_code"] for a in seed_rows("local_authorities")]

    cases = _latest_rows(landing, "force/marac", "marac_*.csv", ("case_reference",))
    by_person: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for case in cases:
        perpetrator = case["perpetrator_id"] if match_perpetrator else ""
        by_person[(case["victim_id"], perpetrator)].append(case)
    heard: Counter = Counter()
    repeats: Counter = Counter()
    # The extract's first day; a month has full history when every case heard in it, and its
    # first day, look back window months to no earlier than that day (SafeLives: a repeat is
    # within 12 months of the LAST referral, which must be in the data to be seen).
    first_day = min(date.fromisoformat(c[compared]) for c in cases)
    earliest_in_month: dict[date, date] = {}
    for case in cases:
        month, this = _month(case["date_heard"]), date.fromisoformat(case[compared])
        earliest_in_month[month] = min(this, earliest_in_month.get(month, this))
    as_of = data_as_of(landing, "force/marac", "marac_*.csv")
    benchmark = Decimal(parameters["benchmark_cases_per_10000_women_a_year"])
    for history in by_person.values():
        history.sort(key=lambda c: (c[compared], c["date_heard"], c["case_reference"]))
        last_referral = None
        for case in history:
            this = date.fromisoformat(case[compared])
            cell = (_month(case["date_heard"]), case["local_authority_code"])
            heard[cell] += 1
            if last_referral is not None and this <= _add_months(last_referral, window):
                repeats[cell] += 1
            last_referral = this

    expected = {}
    months = _months(min(k[0] for k in heard), max(k[0] for k in heard))
    for i, month in enumerate(months):
        for la in authorities:
            n, r = heard[(month, la)], repeats[(month, la)]
            women = population[(la, month.year)]
            # the twelve months of the grid up to this one; none until twelve are in the data
            year = sum(heard[(m, la)] for m in months[i - 11 : i + 1]) if i >= 11 else None
            expected[(month, la)] = {
                "cases_heard": n,
                "repeat_cases": r,
                "repeat_rate_pct": _pct(r, n),
                "population_women": women,
                "cases_per_10000_women": _ratio(10_000 * n, women),
                "cases_heard_12_months": year,
                "cases_per_10000_women_12_months": _pct(100 * year, women)
                if year is not None
                else None,
                "benchmark_cases_per_10000_women_a_year": benchmark,
                "repeat_window_months": window,
                "is_complete_period": _month_end(month) <= as_of,
                "has_full_history": _add_months(
                    min(month, earliest_in_month.get(month, month)), -window
                )
                >= first_day,
                "data_as_of_date": as_of,
            }
    return expected


def test_marac_mart_equals_the_measure_computed_from_the_files(pipeline) -> None:
    expected = expected_marac(pipeline["landing"])
    columns = list(next(iter(expected.values())))
    rows = query(
        pipeline["db"],
        f"select month_start_date, local_authority_code, {', '.join(columns)} "
        "from marts.mart_marac_repeat_monthly where local_authority_code <> '-1'",
    )
    actual = {(r[0], r[1]): dict(zip(columns, r[2:], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    assert actual == expected
    # the check has substance: cases in both Januaries, some of them repeats
    assert sum(v["cases_heard"] for v in expected.values()) > 40
    assert sum(v["repeat_cases"] for v in expected.values()) > 0
    unknown = query(
        pipeline["db"],
        "select coalesce(sum(cases_heard), 0) from marts.mart_marac_repeat_monthly "
        "where local_authority_code = '-1'",
    )
    assert unknown == [(0,)]


def test_marac_victims_are_the_pseudonymised_crime_victims(pipeline) -> None:
    """One keyed HMAC across sources: every MARAC victim is a victim of a loaded crime."""
    stray = query(
        pipeline["db"],
        "select count(*) from raw_force.marac_cases m where not exists "
        "(select from raw_force.crimes c where c.victim_pseudonym = m.victim_pseudonym)",
    )
    assert stray == [(0,)]
    cases = _latest_rows(pipeline["landing"], "force/marac", "marac_*.csv", ("case_reference",))
    clear = {case["victim_id"] for case in cases}
    stored = {
        r[0] for r in query(pipeline["db"], "select victim_pseudonym from raw_force.marac_cases")
    }
    assert stored and not stored & clear


# --------------------------------------------------------------------------------------------
# Measure 5: protective orders
# --------------------------------------------------------------------------------------------


def expected_orders(landing: Path) -> dict[tuple[date, str, str], dict]:
    order_types = {r["order_type"]: r for r in seed_rows("order_types")}
    authorities = [a["local_authority_code"] for a in seed_rows("local_authorities")]
    events = _latest_rows(
        landing, "force/orders", "orders_*.csv", ("order_reference", "event_sequence")
    )
    granted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event["event_type"] == "granted":
            granted[event["order_reference"]].add(event["order_type"])
    counts: dict[tuple[date, str, str], Counter] = defaultdict(Counter)
    for event in events:
        cell = (_month(event["event_date"]), event["local_authority_code"], event["order_type"])
        counts[cell][ORDER_COUNTS[event["event_type"]]] += 1
        leads_to = order_types[event["order_type"]]["leads_to_order_type"]
        if event["event_type"] == "notice_issued" and leads_to in granted[event["order_reference"]]:
            counts[cell]["notices_converted"] += 1

    as_of = data_as_of(landing, "force/orders", "orders_*.csv")
    expected = {}
    for month in _months(min(k[0] for k in counts), max(k[0] for k in counts)):
        for la in authorities:
            for order_type in order_types:
                found = counts.get((month, la, order_type), Counter())
                row = {column: found[column] for column in ORDER_COUNTS.values()}
                row["notices_converted"] = found["notices_converted"]
                row["conversion_rate_pct"] = _pct(
                    found["notices_converted"], found["notices_issued"]
                )
                row["is_complete_period"] = _month_end(month) <= as_of
                row["data_as_of_date"] = as_of
                expected[(month, la, order_type)] = row
    return expected


def test_orders_mart_equals_the_measure_computed_from_the_files(pipeline) -> None:
    expected = expected_orders(pipeline["landing"])
    columns = list(next(iter(expected.values())))
    rows = query(
        pipeline["db"],
        f"select month_start_date, local_authority_code, order_type, {', '.join(columns)} "
        "from marts.mart_protective_orders_monthly "
        "where local_authority_code <> '-1' and order_type <> '-1'",
    )
    actual = {(r[0], r[1], r[2]): dict(zip(columns, r[3:], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    assert actual == expected
    totals = Counter()
    for (_, _, order_type), row in expected.items():
        totals[order_type, "granted"] += row["orders_granted"]
        totals[order_type, "notices"] += row["notices_issued"]
    assert totals["DVPN", "notices"] > 0 and totals["DVPO", "granted"] > 0  # it has substance
    assert totals["DAPN", "notices"] == totals["DAPO", "granted"] == 0  # not a pilot force
    unknown = query(
        pipeline["db"],
        "select coalesce(sum(notices_issued + applications + orders_granted + orders_refused "
        "+ applications_withdrawn + breaches), 0) from marts.mart_protective_orders_monthly "
        "where local_authority_code = '-1' or order_type = '-1'",
    )
    assert unknown == [(0,)]
