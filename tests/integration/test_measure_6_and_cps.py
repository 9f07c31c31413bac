"""End to end: plan measure 6 (funding secured) and the CPS prosecution outcomes, after the real
vawg_nightly run of the shared ``pipeline`` fixture (January 2024 and January 2025 generated).

Both marts are computed here, in Python, from the generated CSV files and the reference seeds
alone (no SQL, no dbt on the expected side), and compared with the marts row for row:

* CPS: each release restates the quarters before its own; for each quarter the release published
  last wins. The reporting area, the category mapping and what each measure counts come from the
  seeds cps_areas, cps_case_categories and cps_measures.
* Funding: each register snapshot restates every grant; for each grant reference the latest
  snapshot (by the date in the file's name) wins. Government funding = funders of type government
  in seed funders.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.integration.conftest import query, seed_rows

pytestmark = pytest.mark.integration

CPS_DATASET, FUNDING_DATASET = "cps_quarterly_outcomes", "funding_grants"
TENTH = Decimal("0.1")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pct(numerator: int | Decimal, denominator: int | Decimal | None) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(100) * Decimal(numerator) / Decimal(denominator)).quantize(
        TENTH, rounding=ROUND_HALF_UP
    )


def _financial_year(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


# --------------------------------------------------------------------------------------------
# CPS
# --------------------------------------------------------------------------------------------


def expected_cps_mart(landing: Path) -> dict[tuple[date, str], dict]:
    """mart_cps_outcomes_quarterly from the release files and the seeds."""
    releases = [
        (path.name, _read(path)) for path in sorted((landing / "cps" / "quarterly").glob("*.csv"))
    ]
    # For each quarter, the rows of the release published last (the later file on a tie).
    winners: dict[tuple[str, str], tuple[str, str]] = {}
    for name, rows in releases:
        for row in rows:
            quarter = (row["financial_year"], row["financial_quarter"])
            candidate = (row["published_date"], name)
            winners[quarter] = max(winners.get(quarter, candidate), candidate)
    current = [
        row
        for name, rows in releases
        for row in rows
        if winners[(row["financial_year"], row["financial_quarter"])][1] == name
    ]

    (home,) = [f for f in seed_rows("forces") if f["force_code"] == "lancashire"]
    (reporting_area,) = [  # the home force's police force area
        a["area_name"]
        for a in seed_rows("cps_areas")
        if a["police_force_area_code"] == home["police_force_area_code"]
    ]
    categories = {
        c["case_category"]: c["reporting_category"]
        for c in seed_rows("cps_case_categories")
        if c["reporting_category"]
    }
    flags = {m["measure"]: m for m in seed_rows("cps_measures")}

    totals: dict[tuple[date, str], dict] = {}
    quarters: dict[date, dict] = {}
    for row in current:
        if row["area_name"] != reporting_area:
            continue
        start_year = int(row["financial_year"][:4])
        number = int(row["financial_quarter"][1])
        month = 4 + 3 * (number - 1)
        start = date(start_year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        quarters[start] = {
            "financial_year": _financial_year(start_year),
            "financial_quarter": row["financial_quarter"],
            "area_name": reporting_area,
        }
        category = categories.get(row["case_category"])
        if category is None:
            continue  # e.g. adult rape: a part of rape, never added
        figures = totals.setdefault(
            (start, category),
            {
                "legal_decisions": 0,
                "charged": 0,
                "administrative_finalisations": 0,
                "completed_prosecutions": 0,
                "convictions": 0,
                "published_date": date.min,
            },
        )
        measure, volume = flags[row["measure"]], int(row["volume"])
        for flag, column in (
            ("is_legal_decision", "legal_decisions"),
            ("is_charged", "charged"),
            ("is_administrative_finalisation", "administrative_finalisations"),
            ("is_completed_prosecution", "completed_prosecutions"),
            ("is_conviction", "convictions"),
        ):
            if measure[flag] == "true":
                figures[column] += volume
        published = date.fromisoformat(row["published_date"])
        figures["published_date"] = max(figures["published_date"], published)

    expected = {}
    for start, quarter in quarters.items():
        for category in set(categories.values()):
            figures = totals.get((start, category))
            row = {**quarter, "has_figures": figures is not None}
            if figures is None:
                row.update(
                    dict.fromkeys(
                        [
                            "legal_decisions",
                            "charged",
                            "charge_rate_pct",
                            "administrative_finalisations",
                            "completed_prosecutions",
                            "convictions",
                            "conviction_rate_pct",
                            "published_date",
                        ]
                    )
                )
            else:
                row.update(figures)
                row["charge_rate_pct"] = _pct(figures["charged"], figures["legal_decisions"])
                row["conviction_rate_pct"] = _pct(
                    figures["convictions"], figures["completed_prosecutions"]
                )
            expected[(start, category)] = row
    last_quarter = max(start for start, _ in expected)
    next_quarter = date(
        last_quarter.year + (last_quarter.month + 2) // 12, (last_quarter.month + 2) % 12 + 1, 1
    )
    as_of = next_quarter - timedelta(days=1)
    for row in expected.values():
        row["is_complete_period"] = True  # a release publishes whole quarters
        row["data_as_of_date"] = as_of
    return expected


CPS_COLUMNS = [
    "financial_year",
    "financial_quarter",
    "area_name",
    "legal_decisions",
    "charged",
    "charge_rate_pct",
    "administrative_finalisations",
    "completed_prosecutions",
    "convictions",
    "conviction_rate_pct",
    "has_figures",
    "published_date",
    "is_complete_period",
    "data_as_of_date",
]


def test_the_cps_and_funding_files_were_taken_in_and_their_marts_built(pipeline) -> None:
    first = pipeline["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for family, mart in (
        ("cps", "mart_cps_outcomes_quarterly"),
        ("funding", "mart_funding_secured_yearly"),
    ):
        # one line per task as it ends: "success  transform.dbt_<family> (1.2 s)"
        assert re.search(rf"success\s+transform\.dbt_{family}\b", first.stdout), family
        built = query(
            pipeline["db"],
            "select count(*) from audit.dbt_result where unique_id = %s and status = 'success'",
            f"model.vawg.{mart}",
        )
        assert built == [(1,)], mart
    landing = pipeline["landing"]
    files = {
        CPS_DATASET: sorted((landing / "cps" / "quarterly").glob("*.csv")),
        FUNDING_DATASET: sorted((landing / "funding" / "grants").glob("*.csv")),
    }
    batches = query(
        pipeline["db"],
        "select dataset, file_name, status, rows_read, rows_loaded from audit.load_batch "
        "where dataset = any(%s) order by file_name",
        list(files),
    )
    expected = sorted(
        (dataset, path.relative_to(landing).as_posix(), "published", len(_read(path)))
        for dataset, paths in files.items()
        for path in paths
    )
    assert sorted((d, f, s, r) for d, f, s, r, _ in batches) == expected
    assert all(read == loaded for _, _, _, read, loaded in batches)


def test_cps_mart_equals_the_figures_of_the_latest_releases(pipeline) -> None:
    expected = expected_cps_mart(pipeline["landing"])
    rows = query(
        pipeline["db"],
        f"select quarter_start_date, reporting_category, {', '.join(CPS_COLUMNS)} "
        "from marts.mart_cps_outcomes_quarterly",
    )
    actual = {(r[0], r[1]): dict(zip(CPS_COLUMNS, r[2:], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    assert actual == expected
    # the comparison has substance: hundreds of DA charges, and stalking and harassment both
    # published (2024/25) and not (older quarters)
    assert sum(r["charged"] or 0 for (_, c), r in expected.items() if c == "domestic_abuse") > 200
    published = {r["has_figures"] for (_, c), r in expected.items() if c != "domestic_abuse"}
    assert published == {True, False}


# --------------------------------------------------------------------------------------------
# Funding (plan measure 6)
# --------------------------------------------------------------------------------------------


def current_grants(landing: Path) -> dict[str, dict[str, str]]:
    """Each grant as the latest snapshot (by the date in the file's name) records it."""
    grants: dict[str, tuple[date, dict[str, str]]] = {}
    for path in sorted((landing / "funding" / "grants").glob("grant_register_*.csv")):
        day = date.fromisoformat(path.stem.rsplit("_", 1)[1])
        for row in _read(path):
            known = grants.get(row["grant_reference"])
            if known is None or day >= known[0]:
                grants[row["grant_reference"]] = (day, row)
    return {reference: row for reference, (_, row) in grants.items()}


def _money(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def expected_funding_mart(landing: Path) -> dict[tuple[str, str, str], dict]:
    """mart_funding_secured_yearly from the register snapshots and the seeds."""
    funders = {f["funder"]: f for f in seed_rows("funders")}
    schemes = {s["scheme"]: s for s in seed_rows("funding_schemes")}
    rules = {
        r["allocation_type"]: r["additional_rule"] for r in seed_rows("funding_additionality_rules")
    }
    (baseline,) = [
        r["parameter_value"]
        for r in seed_rows("funding_measure_parameters")
        if r["parameter"] == "core_allocation_baseline"
    ]
    assert baseline == "previous_financial_year"  # what this recomputation implements
    totals: dict[tuple[int, str, str], dict] = defaultdict(
        lambda: {
            "grant_count": 0,
            "awarded_grant_count": 0,
            "amount_applied": Decimal(0),
            "amount_awarded": Decimal(0),
            "amount_received": Decimal(0),
        }
    )
    grants = current_grants(landing)
    as_of = max(date.fromisoformat(g["register_date"]) for g in grants.values())
    for grant in grants.values():
        cell = totals[(int(grant["financial_year"][:4]), grant["funder"], grant["scheme"])]
        cell["grant_count"] += 1
        cell["awarded_grant_count"] += bool(grant["amount_awarded"])
        for column in ("amount_applied", "amount_awarded", "amount_received"):
            cell[column] += _money(grant[column])

    years = range(min(k[0] for k in totals), max(k[0] for k in totals) + 1)
    pairs = {(funder, scheme) for _, funder, scheme in totals}
    empty = {
        "grant_count": 0,
        "awarded_grant_count": 0,
        "amount_applied": Decimal(0),
        "amount_awarded": Decimal(0),
        "amount_received": Decimal(0),
    }
    expected = {}
    for year in years:
        for funder, scheme in pairs:
            this = totals.get((year, funder, scheme), empty)
            last = totals.get((year - 1, funder, scheme), empty) if year > years[0] else None
            complete = date(year + 1, 3, 31) <= as_of
            rule = rules[schemes[scheme]["allocation_type"]]
            base = None if last is None else last["amount_awarded"]
            if rule == "whole_award":
                additional = this["amount_awarded"]
            else:  # uplift_on_baseline: above the previous year's award, never below 0
                additional = None if base is None else max(this["amount_awarded"] - base, 0)
            row = {
                **this,
                "funder_type": funders[funder]["funder_type"],
                "financial_year_start_year": year,
                "is_government_funding": funders[funder]["funder_type"] == "government",
                "is_competitive": schemes[scheme]["is_competitive"] == "true",
                "allocation_type": schemes[scheme]["allocation_type"],
                "additional_rule": rule,
                "baseline_amount_awarded": base,
                "additional_amount_awarded": additional,
                "is_complete_period": complete,
                "data_as_of_date": as_of,
            }
            compared = last is not None and complete  # an incomplete year is not compared
            for measure in ("applied", "awarded", "received"):
                column = f"amount_{measure}"
                row[f"{column}_previous_year"] = None if last is None else last[column]
                row[f"change_in_{measure}"] = this[column] - last[column] if compared else None
            row["change_in_awarded_pct"] = (
                _pct(row["change_in_awarded"], last["amount_awarded"]) if compared else None
            )
            expected[(_financial_year(year), funder, scheme)] = row
    return expected


FUNDING_COLUMNS = [
    "grant_count",
    "awarded_grant_count",
    "amount_applied",
    "amount_awarded",
    "amount_received",
    "funder_type",
    "financial_year_start_year",
    "is_government_funding",
    "is_competitive",
    "amount_applied_previous_year",
    "change_in_applied",
    "amount_awarded_previous_year",
    "change_in_awarded",
    "amount_received_previous_year",
    "change_in_received",
    "change_in_awarded_pct",
    "allocation_type",
    "additional_rule",
    "baseline_amount_awarded",
    "additional_amount_awarded",
    "is_complete_period",
    "data_as_of_date",
]


def test_funding_mart_equals_the_latest_snapshot_of_each_grant(pipeline) -> None:
    expected = expected_funding_mart(pipeline["landing"])
    rows = query(
        pipeline["db"],
        f"select financial_year, funder_name, scheme_name, {', '.join(FUNDING_COLUMNS)} "
        "from marts.mart_funding_secured_yearly",
    )
    actual = {(r[0], r[1], r[2]): dict(zip(FUNDING_COLUMNS, r[3:], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    assert actual == expected
    # the comparison has substance: millions secured from Government funders, and a later
    # snapshot that restated grants of the earlier one
    government = sum(r["amount_awarded"] for r in expected.values() if r["is_government_funding"])
    assert government > 5_000_000
    # additional money is far less than the money: core allocations count by their uplift only
    additional = sum(
        r["additional_amount_awarded"] or 0 for r in expected.values() if r["is_government_funding"]
    )
    assert 0 < additional < government / 2
    assert any(not r["is_complete_period"] for r in expected.values())  # the current year
    snapshots = sorted((pipeline["landing"] / "funding" / "grants").glob("*.csv"))
    assert len(snapshots) == 2
    first, last = ({r["grant_reference"] for r in _read(p)} for p in snapshots)
    assert first & last


def test_fct_grant_keeps_one_current_version_per_grant(pipeline) -> None:
    grants = current_grants(pipeline["landing"])
    rows = query(
        pipeline["db"],
        "select grant_id, grant_status, register_date, snapshot_count from marts.fct_grant",
    )
    assert {r[0]: (r[1], r[2].isoformat()) for r in rows} == {
        ref: (g["status"], g["register_date"]) for ref, g in grants.items()
    }
    history = query(
        pipeline["db"],
        "select count(*), count(*) filter (where is_current_version) "
        "from intermediate.int_grant_versions_ranked",
    )
    snapshots = sorted((pipeline["landing"] / "funding" / "grants").glob("*.csv"))
    assert history == [(sum(len(_read(p)) for p in snapshots), len(grants))]
