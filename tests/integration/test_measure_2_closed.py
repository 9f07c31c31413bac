"""Measure 2 end to end on the closed basis: outcomes assigned in a month, after a real DAG run.

The shared ``pipeline`` run (tests/integration/conftest.py) loads generated force crimes and
outcome events through Airflow; here mart_positive_outcomes_closed_monthly is computed again, in
Python, straight from the generated CSV files and the reference seeds, and compared row for row.
The rule (the mart's yml): a crime counts once, in the month its current outcome (highest
outcome_sequence) was assigned, and only when that outcome is not open.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from tests.integration.conftest import query, seed_rows
from tests.integration.test_measure_2 import (
    UNKNOWN,
    _is_true,
    _months,
    _pct,
    crimes_from_files,
    outcome_events_from_files,
)

pytestmark = pytest.mark.integration

FLAGS = (
    "is_open",
    "is_positive",
    "is_charge_summons",
    "is_diversion",
    "is_evidential_difficulties",
)


def expected_closed_mart(landing: Path) -> dict[tuple, dict]:
    """(month assigned, local authority, category) -> the mart's row, from files and seeds."""
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
        o["outcome_code"]: {f: _is_true(o[f]) for f in FLAGS} for o in seed_rows("ho_outcome_types")
    }
    flags[UNKNOWN] = dict.fromkeys(FLAGS, False)
    authorities = [a["local_authority_code"] for a in seed_rows("local_authorities")]

    crimes = crimes_from_files(landing)
    events = outcome_events_from_files(landing)
    history: dict[str, list[tuple[int, str, date]]] = defaultdict(list)
    for (crime, sequence), row in events.items():
        code = row["outcome_code"] if row["outcome_code"] in flags else UNKNOWN
        history[crime].append((sequence, code, date.fromisoformat(row["outcome_date"])))
    event_months = {d.replace(day=1) for h in history.values() for _, _, d in h}
    as_of = max(d for h in history.values() for _, _, d in h)

    # (month, la, category) -> Counter of outcome codes; and the crimes that moved there
    cells: dict[tuple, Counter] = defaultdict(Counter)
    changed: Counter = Counter()
    for reference, crime_events in history.items():
        _, code, assigned_on = max(crime_events)
        if flags[code]["is_open"] or reference not in crimes:
            continue
        crime = crimes[reference]
        categories = set(by_code.get(crime["ho_offence_code"], set()))
        if crime["domestic_abuse_flag"] == "Y":
            categories |= flag_categories
        assigned_events = sum(not flags[c]["is_open"] for _, c, _ in crime_events)
        for category in categories:
            key = (assigned_on.replace(day=1), crime["local_authority_code"], category)
            cells[key][code] += 1
            changed[key] += assigned_events > 1

    expected: dict[tuple, dict] = {}
    for month in _months(min(event_months), max(event_months)):
        for la in authorities:
            for category, headline in measured.items():
                cell = cells[(month, la, category)]

                def total(flag: str, cell=cell) -> int:
                    return sum(n for code, n in cell.items() if flags[code][flag])

                assigned = sum(cell.values())
                row = {
                    "headline_rate": headline,
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
                        if not any(flags[code][f] for f in FLAGS if f != "is_charge_summons")
                    ),
                    "changed_outcome_count": changed[(month, la, category)],
                }
                row |= {
                    "positive_rate_pct": _pct(row["positive_count"], assigned),
                    "charge_summons_rate_pct": _pct(row["charge_summons_count"], assigned),
                    "diversion_share_pct": _pct(row["diversion_count"], assigned),
                    "evidential_difficulties_share_pct": _pct(
                        row["evidential_difficulties_count"], assigned
                    ),
                    "outcome_14_share_pct": _pct(cell["14"], assigned),
                    "outcome_15_share_pct": _pct(cell["15"], assigned),
                    "outcome_16_share_pct": _pct(cell["16"], assigned),
                    "outcomes_as_of_date": as_of,
                }
                row["headline_rate_pct"] = row[f"{headline}_rate_pct"]
                expected[(month, la, category)] = row
    return expected


@pytest.fixture(scope="module")
def expected(pipeline) -> dict[tuple, dict]:
    first = pipeline["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return expected_closed_mart(pipeline["landing"])


def test_closed_basis_mart_equals_the_files(pipeline, expected) -> None:
    keys = ["month_start_date", "local_authority_code", "reporting_category"]
    columns = list(next(iter(expected.values())))
    rows = query(
        pipeline["db"],
        f"select {', '.join(keys + columns)} from marts.mart_positive_outcomes_closed_monthly "
        f"where local_authority_code <> '{UNKNOWN}'",
    )
    actual = {r[:3]: dict(zip(columns, r[3:], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    assert actual == expected
    # The check has substance: assigned, positive and open outcomes are all in the data.
    totals = Counter()
    for row in expected.values():
        totals.update({k: row[k] for k in ("assigned_outcome_count", "positive_count")})
    assert totals["positive_count"] > 0
    assert totals["assigned_outcome_count"] > totals["positive_count"]


def test_each_closed_crime_counts_once_and_open_ones_never(pipeline, expected) -> None:
    """Over all months, a category's assigned outcomes are its crimes whose current outcome is
    assigned (fct_crime_current_outcome), whatever month their outcome moved to."""
    rows = query(
        pipeline["db"],
        "select reporting_category, sum(assigned_outcome_count) "
        "from marts.mart_positive_outcomes_closed_monthly group by reporting_category",
    )
    by_category = Counter()
    for (_, _, category), row in expected.items():
        by_category[category] += row["assigned_outcome_count"]
    assert {category: int(n) for category, n in rows} == dict(by_category)
    not_awaiting = query(
        pipeline["db"],
        "select count(*) from marts.fct_crime_current_outcome "
        "where is_domestic_abuse and not is_awaiting_outcome",
    )[0][0]
    assert by_category["domestic_abuse"] == not_awaiting
