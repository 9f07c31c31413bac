"""Public open data end to end: published-format files -> load path -> dbt -> the two public marts.

The test writes data.police.uk archive files and Home Office open data tables covering every
quirk real files have (blank Crime ID for anti-social behaviour, "No Location" rows, rows outside
the force area, a Crime ID repeated within a month, outcomes of crimes of earlier months, CRLF and
LF line ends, 2011 and 2021 LSOA codes, a month published twice with outcomes changed, two forces,
space-padded counts, "-00", negative adjustments, national bodies beside forces, a table
re-published with a revised quarter). It loads them through the orchestration functions the DAG
calls (register, load, validate, publish: no Airflow run), builds the marts with
``dbt build --select +mart_public_crime_monthly +mart_peer_comparison_yearly`` and compares
every mart row with what is computed here, in Python, from the fixture files and seeds alone.
The same build makes the marts' lineage views and runs their reconciliation tests; the views are
compared with the files behind each row, and `vawg trace` with what it prints.
"""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import HANG_GUARD_SECONDS, TEST_KEY, create_database, drop_database
from tests.integration.conftest import seed_rows
from vawg_warehouse import orchestration
from vawg_warehouse.cli import main as vawg_main
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import runner
from vawg_warehouse.ingest.datasets import SHARED_DATASETS, SOURCES

pytestmark = pytest.mark.integration

STREET = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
OUTCOMES = [*STREET[:9], "Outcome type"]
HOME_OFFICE = [
    "Financial Year",
    "Financial Quarter",
    "Force Name",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence Code",
    "Number of Offences",
]
LANCS = "Lancashire Constabulary"
VSO, ASB, PUBLIC_ORDER = "Violence and sexual offences", "Anti-social behaviour", "Public order"
NO_OUTCOME = "No outcome recorded"


def crime_id(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def street_row(label, month, lsoa=None, crime_type=VSO, outcome="Under investigation", force=LANCS):
    """A street row; ``lsoa`` is (code, name) or None for "No Location"."""
    located = lsoa is not None
    return [
        crime_id(label) if label else "",
        month,
        force,
        force,
        "-2.703000" if located else "",
        "53.763000" if located else "",
        "On or near Church Street" if located else "No Location",
        lsoa[0] if located else "",
        lsoa[1] if located else "",
        crime_type,
        outcome if label else "",
        "",
    ]


def outcome_row(label, month, outcome, lsoa=("E01025305", "Preston 012B"), force=LANCS):
    return [
        crime_id(label),
        month,
        force,
        force,
        "-2.703000",
        "53.763000",
        "On or near Church Street",
        lsoa[0],
        lsoa[1],
        outcome,
    ]


PRESTON_2011 = ("E01025305", "Preston 012B")
PRESTON_2021 = ("E01035001", "Preston 020F")  # a 2021 LSOA (new code), same authority prefix
BLACKPOOL = ("E01012680", "Blackpool 001A")
BURNLEY = ("E01024790", "Burnley 003C")
WIGAN = ("E01006290", "Wigan 012C")  # outside the force area
CARLISLE = ("E01019100", "Carlisle 004D")  # Cumbria's own area: unknown to Lancashire's seed


def write_csv(path: Path, header: list[str], rows: list[list[str]], line_end: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator=line_end)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def first_drop(landing: Path) -> list[Path]:
    """The first night's files: two months of Lancashire, one of Cumbria, one Home Office table."""
    jan, feb = "2025-01", "2025-02"
    jan_street = [
        street_row("a", jan, PRESTON_2011),
        street_row("a", jan, PRESTON_2011),  # the same Crime ID twice in the month
        street_row("b", jan, PRESTON_2021, outcome="Investigation complete; no suspect identified"),
        street_row("c", jan, BLACKPOOL, crime_type=PUBLIC_ORDER),
        street_row(None, jan, BURNLEY, crime_type=ASB),  # anti-social behaviour: no Crime ID
        street_row(None, jan, None, crime_type=ASB),  # and no location
        street_row("d", jan, None),  # a crime with no location
        street_row("e", jan, WIGAN),  # outside the force area
        street_row("f", jan, BURNLEY, outcome=""),  # no outcome at all
    ]
    jan_outcomes = [
        outcome_row("a", jan, "Under investigation"),
        outcome_row("b", jan, "Investigation complete; no suspect identified"),
    ]
    feb_street = [
        street_row("g", feb, PRESTON_2011),
        street_row("h", feb, BLACKPOOL, outcome="Awaiting court outcome"),
        street_row(None, feb, PRESTON_2021, crime_type=ASB),
    ]
    feb_outcomes = [
        # outcomes in February of crimes recorded in January; crime a twice (last row wins)
        outcome_row("a", feb, "Suspect charged"),
        outcome_row("a", feb, "Awaiting court outcome"),
        outcome_row("d", feb, "Unable to prosecute suspect"),
        outcome_row("h", feb, "Awaiting court outcome"),
    ]
    cumbria = "Cumbria Constabulary"
    cumbria_street = [
        street_row("k", jan, CARLISLE, force=cumbria),
        street_row("l", jan, CARLISLE, crime_type=ASB, force=cumbria),
    ]
    folder = landing / "policeuk"
    return [
        write_csv(folder / jan / f"{jan}-lancashire-street.csv", STREET, jan_street, "\r\n"),
        write_csv(folder / jan / f"{jan}-lancashire-outcomes.csv", OUTCOMES, jan_outcomes, "\r\n"),
        write_csv(folder / feb / f"{feb}-lancashire-street.csv", STREET, feb_street),
        write_csv(folder / feb / f"{feb}-lancashire-outcomes.csv", OUTCOMES, feb_outcomes),
        write_csv(folder / jan / f"{jan}-cumbria-street.csv", STREET, cumbria_street),
        write_csv(
            landing / "homeoffice" / "recorded_crime" / "prc_pfa_2024_release1.csv",
            HOME_OFFICE,
            home_office_rows(revised=False),
            "\r\n",
        ),
    ]


def second_drop(landing: Path) -> list[Path]:
    """A later night: January re-published (an outcome changed, a row added), a revised table."""
    jan = "2025-01"
    jan_street = [
        street_row("a", jan, PRESTON_2011),
        street_row("a", jan, PRESTON_2011),
        street_row("b", jan, PRESTON_2021, outcome="Investigation complete; no suspect identified"),
        street_row("c", jan, BLACKPOOL, crime_type=PUBLIC_ORDER, outcome="Local resolution"),
        street_row(None, jan, BURNLEY, crime_type=ASB),
        street_row(None, jan, None, crime_type=ASB),
        street_row("d", jan, None),
        street_row("e", jan, WIGAN),
        street_row("f", jan, BURNLEY, outcome=""),
        street_row("m", jan, BURNLEY),  # recorded late: only in the second release
    ]
    jan_outcomes = [
        outcome_row("a", jan, "Under investigation"),
        outcome_row("b", jan, "Investigation complete; no suspect identified"),
        outcome_row("c", jan, "Local resolution", lsoa=BLACKPOOL),
    ]
    folder = landing / "policeuk" / "archive-2025-04" / jan
    return [
        write_csv(folder / f"{jan}-lancashire-street.csv", STREET, jan_street),
        write_csv(folder / f"{jan}-lancashire-outcomes.csv", OUTCOMES, jan_outcomes),
        write_csv(
            landing / "homeoffice" / "recorded_crime" / "prc_pfa_2024_release2.csv",
            HOME_OFFICE,
            home_office_rows(revised=True),
        ),
    ]


OFFENCES = [
    ("19C", "Rape of a female aged 16 and over", "Sexual offences", "Rape"),
    ("19D", "Rape of a female aged under 16", "Sexual offences", "Rape"),
    (
        "20A",
        "Sexual assault on a female aged 13 and over",
        "Sexual offences",
        "Other sexual offences",
    ),
    ("8Q", "Stalking", "Violence against the person", "Stalking and harassment"),
    ("8L", "Harassment", "Violence against the person", "Stalking and harassment"),
    ("28A", "Burglary in a dwelling", "Burglary", "Domestic burglary"),
]
FORCE_NAMES = ["Lancashire", "Kent", "Essex", "Cumbria", "British Transport Police", "Action Fraud"]


def _count_text(value: int, style: int) -> str:
    """As exported: some counts space-padded, zero written -00, adjustments negative."""
    if value == 0:
        return "-00" if style % 2 else "0"
    return f"{value:>6}" if style % 3 == 0 else str(value)


def home_office_rows(revised: bool) -> list[list[str]]:
    """2023/24 Q1-Q4 and 2024/25 Q1; the revised release changes 2024/25 Q1 only."""
    rows = []
    quarters = [("2023/24", q) for q in range(1, 5)] + [("2024/25", 1)]
    for qi, (year, quarter) in enumerate(quarters):
        for fi, force in enumerate(FORCE_NAMES):
            for oi, (code, description, group, subgroup) in enumerate(OFFENCES):
                value = (fi * 37 + oi * 11 + qi * 5) % 23 - (3 if (fi + oi + qi) % 7 == 0 else 0)
                if revised and year == "2024/25":
                    value += 4
                rows.append(
                    [
                        year,
                        str(quarter),
                        force,
                        description,
                        group,
                        subgroup,
                        code,
                        _count_text(value, fi + oi + qi),
                    ]
                )
    return rows


# --------------------------------------------------------------------------------------------
# Loading through the orchestration functions, and dbt
# --------------------------------------------------------------------------------------------


def load_public(night: str) -> dict[str, list[int]]:
    ctx = orchestration.run_context("test_public", f"night-{night}", date(2025, 4, 1))
    settings = get_settings()
    published = {}
    for dataset in SOURCES["public"]:
        batches = orchestration.register_files(dataset, ctx, settings)
        loaded = orchestration.load_batches(batches, ctx, settings)
        valid = orchestration.validate_batches(loaded, ctx, settings)
        orchestration.publish_batches(valid, ctx, settings)
        published[dataset] = valid
    return published


def dbt_build(tmp_path: Path) -> subprocess.CompletedProcess:
    return runner.run(
        "build",
        [
            "--select",
            "+mart_public_crime_monthly",
            "+mart_peer_comparison_yearly",
            # their lineage views, with the tests reconciling them with the marts
            "lineage_public_crime_monthly",
            "lineage_peer_comparison_yearly",
            # tests whose parents are all built (a seed's test may point at a model not selected)
            "--indirect-selection",
            "cautious",
        ],
        get_settings(),
        target_path=tmp_path / "dbt_target",
        log_path=tmp_path / "dbt_logs",
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )


# --------------------------------------------------------------------------------------------
# The expected marts, from the files and seeds only
# --------------------------------------------------------------------------------------------

NAME = re.compile(r"(\d{4}-\d{2})-([a-z0-9-]+)-(street|outcomes)\.csv$")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def latest_releases(files_in_order: list[Path], kind: str) -> dict[tuple[str, str], Path]:
    """(force, month) -> the file of that kind dropped last (a later night wins)."""
    winners = {}
    for path in files_in_order:
        match = NAME.search(path.name)
        if match and match.group(3) == kind:
            winners[(match.group(2), match.group(1))] = path
    return winners


def crimes_placed(files_in_order: list[Path]) -> list[tuple[tuple, Path, Path | None]]:
    """Every crime counted: (its mart key, its street file, the outcomes file of its current
    outcome or None when the outcome is the street file's or there is none)."""
    # An LSOA outside the home force's area (a peer force's crime) -> the unknown member, as the
    # mart's comment says: the names seed holds every force's authorities.
    home = {r["local_authority_code"] for r in seed_rows("local_authorities")}
    la_codes = {
        r["lsoa_local_authority_name"]: r["local_authority_code"]
        for r in seed_rows("policeuk_local_authority_names")
        if r["local_authority_code"] in home
    }
    current_outcome: dict[str, tuple[str, int, str, Path]] = {}
    for (_, month), path in sorted(latest_releases(files_in_order, "outcomes").items()):
        for line, row in enumerate(_read(path), start=2):
            key = (month, line)
            seen = current_outcome.get(row["Crime ID"])
            if seen is None or key > seen[:2]:
                current_outcome[row["Crime ID"]] = (month, line, row["Outcome type"], path)
    placed = []
    for (force, month), path in latest_releases(files_in_order, "street").items():
        for row in _read(path):
            prefix = row["LSOA name"].rsplit(" ", 1)[0] if row["LSOA name"] else None
            code = la_codes.get(prefix, "-1")
            _, _, outcome, outcome_file = current_outcome.get(row["Crime ID"], (None,) * 4)
            outcome = outcome or row["Last outcome category"] or NO_OUTCOME
            key = (date.fromisoformat(month + "-01"), force, code, row["Crime type"], outcome)
            placed.append((key, path, outcome_file))
    return placed


def expected_crime_mart(files_in_order: list[Path]) -> dict[tuple, dict]:
    la_names = {
        r["local_authority_code"]: r["local_authority_name"] for r in seed_rows("local_authorities")
    }
    counts = Counter(key for key, _, _ in crimes_placed(files_in_order))
    totals: Counter = Counter()
    for (month, force, code, crime_type, _), n in counts.items():
        totals[(month, force, code, crime_type)] += n
    expected = {}
    for key, n in counts.items():
        total = totals[key[:4]]
        expected[key] = {
            "local_authority_name": la_names.get(key[2], "Unknown"),
            "crime_count": n,
            "crime_type_count": total,
            "outcome_share_pct": (Decimal(100) * n / total).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            ),
        }
    return expected


def expected_crime_lineage(files_in_order: list[Path]) -> Counter:
    """(mart key, model, file) -> rows: each crime's street row, and its current outcome's row."""
    lineage: Counter = Counter()
    for key, street_file, outcome_file in crimes_placed(files_in_order):
        lineage[(*key, "int_policeuk_crimes_deduplicated", street_file)] += 1
        if outcome_file is not None:
            lineage[(*key, "int_policeuk_crime_outcomes_ranked", outcome_file)] += 1
    return lineage


def winning_quarters(files_in_order: list[Path]) -> dict[tuple[str, str], tuple[Path, list]]:
    """(year, quarter) -> (the table it comes from, its rows): a later release replaces each
    quarter it holds, as a whole."""
    quarters: dict[tuple[str, str], tuple[Path, list]] = {}
    for path in (p for p in files_in_order if p.parent.name == "recorded_crime"):
        by_quarter = defaultdict(list)
        for row in _read(path):
            by_quarter[(row["Financial Year"], row["Financial Quarter"])].append(row)
        quarters.update({quarter: (path, rows) for quarter, rows in by_quarter.items()})
    return quarters


def compared_areas() -> tuple[dict[str, tuple[list[str], list[str]]], dict[str, set]]:
    """area -> (its member forces, whose population estimates add up to it), and
    category -> its offence codes."""
    forces = {r["force_name"]: r for r in seed_rows("police_forces")}
    with_persons = {
        r["force_name"]
        for r in seed_rows("police_force_populations")
        if r["population_basis"] == "persons"
    }
    categories = defaultdict(set)
    for rule in seed_rows("reporting_category_rules"):
        if rule["selection_rule"] == "offence_code":
            categories[rule["reporting_category"]].add(rule["ho_offence_code"])
    (home,) = [f["force_name"] for f in seed_rows("forces") if f["force_code"] == "lancashire"]
    members = [
        m["member_force_name"] for m in seed_rows("most_similar_groups")
    ]  # the home force's (seed_rows: Lancashire's rows)
    compared = [home] + [n for n in forces if n in members and n != home]
    group = [n for n in compared if n in with_persons and n != home]
    territorial = [n for n, f in forces.items() if f["area_type"] == "territorial_force"]
    (country,) = [n for n, f in forces.items() if f["area_type"] == "country"]
    areas = {n: ([n], [n]) for n in compared}
    areas["Most similar group"] = (group, group)
    areas["England and Wales"] = (territorial, [country])
    return areas, categories


def population_of(names: list[str], basis: str, start_year: int) -> tuple[int | None, int | None]:
    """The summed estimates of ``basis`` (the latest at or before ``start_year``, else the
    earliest) of ``names``, and the latest reference year; None when one has none."""
    total, years = 0, []
    for name in names:
        estimates = sorted(
            (int(r["reference_year"]), int(r["population"]))
            for r in seed_rows("police_force_populations")
            if r["force_name"] == name and r["population_basis"] == basis
        )
        if not estimates:
            return None, None
        usable = [e for e in estimates if e[0] <= start_year] or [estimates[0]]
        year, value = usable[-1]
        total += value
        years.append(year)
    return (total, max(years)) if names else (None, None)


def expected_peer_mart(files_in_order: list[Path]) -> dict[tuple, dict]:
    quarters = {quarter: rows for quarter, (_, rows) in winning_quarters(files_in_order).items()}
    areas, categories = compared_areas()
    bases = {
        c["reporting_category"]: c["population_basis"] for c in seed_rows("reporting_categories")
    }

    expected = {}
    years = sorted({year for year, _ in quarters})
    for year in years:
        published = sum(1 for y, _ in quarters if y == year)
        for category, codes in categories.items():
            for area, (members, population_areas) in areas.items():
                offences = sum(
                    int(row["Number of Offences"].strip())
                    for (y, _), rows in quarters.items()
                    if y == year
                    for row in rows
                    if row["Force Name"] in members and row["Offence Code"] in codes
                )
                population, _ = population_of(population_areas, bases[category], int(year[:4]))
                # None of the category's codes in the year's tables (any force or body): unknown,
                # not 0.
                available = any(
                    row["Offence Code"] in codes
                    for (y, _), rows in quarters.items()
                    if y == year
                    for row in rows
                )
                offences = offences if available else None
                rate = (
                    (Decimal(1000) * offences / population).quantize(
                        Decimal("0.001"), rounding=ROUND_HALF_UP
                    )
                    if population and offences is not None
                    else None
                )
                expected[(year, area, category)] = {
                    "offence_count": offences,
                    "population_basis": bases[category],
                    "population": population,
                    "rate_per_1000": rate,
                    "quarters_published": published,
                    "forces_in_area": len(members),
                    "is_complete_period": published == 4,
                }
    return expected


def expected_peer_lineage(files_in_order: list[Path]) -> dict[tuple, tuple[int, int]]:
    """(year, area, category, table) -> (rows summed, their offences)."""
    areas, categories = compared_areas()
    lineage: dict[tuple, tuple[int, int]] = {}
    for (year, _), (path, rows) in winning_quarters(files_in_order).items():
        for category, codes in categories.items():
            for area, (members, _) in areas.items():
                summed = [
                    int(r["Number of Offences"].strip())
                    for r in rows
                    if r["Force Name"] in members and r["Offence Code"] in codes
                ]
                if summed:
                    n, total = lineage.get((year, area, category, path), (0, 0))
                    lineage[(year, area, category, path)] = (n + len(summed), total + sum(summed))
    return lineage


# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def public_warehouse(server, tmp_path_factory):
    """One throwaway warehouse for the module: two nights of files loaded, the marts built."""
    from vawg_warehouse.migrations import migrate

    database = create_database(server)
    tmp_path = tmp_path_factory.mktemp("public")
    landing = tmp_path / "landing"
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("VAWG_WAREHOUSE_URL", database.url)
            patch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
            patch.setenv("VAWG_LANDING_DIR", str(landing))
            with psycopg.connect(database.url) as conn:
                migrate(conn)
            files = first_drop(landing)
            first = load_public("1")
            files += second_drop(landing)
            second = load_public("2")
            build = dbt_build(tmp_path)
            assert build.returncode == 0, build.stdout[-4000:]
        yield {
            "db": database,
            "files": files,
            "landing": landing,
            "first": first,
            "second": second,
        }
    finally:
        drop_database(database)


def _query(db, sql: str) -> list[tuple]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(sql).fetchall()


def test_public_files_load_and_the_marts_equal_counts_from_the_files(public_warehouse) -> None:
    db, files = public_warehouse["db"], public_warehouse["files"]

    # Every file was taken in and published; nothing quarantined (the quirks are not errors).
    statuses = _query(db, "select file_name, status, rows_read, rows_loaded from audit.load_batch")
    assert len(statuses) == len(files)
    assert {s for _, s, _, _ in statuses} == {"published"}
    assert all(read == loaded for _, _, read, loaded in statuses)
    # History kept: both releases of Lancashire's January are in raw.
    (releases,) = _query(
        db,
        "select count(distinct _batch_id) from raw_public.policeuk_street_crimes "
        "where month = '2025-01' and reported_by = 'Lancashire Constabulary'",
    )
    assert releases == (2,)

    expected = expected_crime_mart(files)
    rows = _query(
        db,
        "select month_start_date, force_code, local_authority_code, crime_type, outcome_category,"
        " local_authority_name, crime_count, crime_type_count, outcome_share_pct"
        " from marts.mart_public_crime_monthly",
    )
    actual = {
        r[:5]: {
            "local_authority_name": r[5],
            "crime_count": r[6],
            "crime_type_count": r[7],
            "outcome_share_pct": r[8],
        }
        for r in rows
    }
    assert actual == expected
    # The quirks, spelled out on top of the full comparison:
    jan = date(2025, 1, 1)
    preston_vso = {
        k[4]: v["crime_count"]
        for k, v in actual.items()
        if k[:4] == (jan, "lancashire", "E07000123", VSO)
    }
    # a twice (repeated id; February's last outcome row wins over January's), b once
    assert preston_vso == {
        "Awaiting court outcome": 2,
        "Investigation complete; no suspect identified": 1,
    }
    unknown = sum(v["crime_count"] for k, v in actual.items() if k[:3] == (jan, "lancashire", "-1"))
    assert unknown == 3  # ASB without location, crime d without location, crime e in Wigan
    assert sum(v["crime_count"] for k, v in actual.items() if k[1] == "cumbria") == 2
    # the re-published January wins: crime m (only in it) is counted, c's outcome changed
    assert (
        actual[(jan, "lancashire", "E06000009", PUBLIC_ORDER, "Local resolution")]["crime_count"]
        == 1
    )


def test_peer_comparison_equals_sums_from_the_tables(public_warehouse) -> None:
    db, files = public_warehouse["db"], public_warehouse["files"]
    expected = expected_peer_mart(files)
    rows = _query(
        db,
        "select financial_year, area_name, reporting_category, offence_count, population_basis,"
        " population, rate_per_1000, quarters_published, forces_in_area, is_complete_period"
        " from marts.mart_peer_comparison_yearly",
    )
    names = list(next(iter(expected.values())))
    actual = {r[:3]: dict(zip(names, r[3:], strict=True)) for r in rows}
    assert actual == expected
    # one population basis per category, the same as measure 1's (seed reporting_categories)
    bases = {
        c["reporting_category"]: c["population_basis"] for c in seed_rows("reporting_categories")
    }
    assert all(v["population_basis"] == bases[k[2]] for k, v in actual.items())
    # The revised release wins for 2024/25 Q1: its counts are 4 higher for every row.
    assert actual[("2024/25", "Lancashire", "rape")]["quarters_published"] == 1
    assert actual[("2023/24", "Lancashire", "rape")]["quarters_published"] == 4


def test_lineage_views_give_each_figures_files(public_warehouse, monkeypatch, capsys) -> None:
    """The public marts' lineage views (rows from int_ models, not facts) list, for each mart row,
    the releases behind it, as computed here from the files; `vawg trace` prints them."""
    db, files, landing = (
        public_warehouse["db"],
        public_warehouse["files"],
        public_warehouse["landing"],
    )
    batch_of = {
        landing / name: batch_id
        for batch_id, name in _query(db, "select batch_id, file_name from audit.load_batch")
    }

    # The build ran both reconciliation tests (lineage against mart, row by row), and they passed.
    reconciled = _query(
        db,
        "select unique_id, status from audit.dbt_result"
        " where unique_id like 'test.vawg.assert_lineage_%' order by 1",
    )
    assert reconciled == [
        ("test.vawg.assert_lineage_peer_comparison_yearly_reconciles_with_mart", "pass"),
        ("test.vawg.assert_lineage_public_crime_monthly_reconciles_with_mart", "pass"),
    ]

    crime_lineage = _query(
        db,
        "select l.month_start_date, l.force_code, g.local_authority_code, l.crime_type,"
        " l.outcome_category, l.fact_model, l.batch_id, l.fact_row_count"
        " from lineage.lineage_public_crime_monthly as l"
        " inner join marts.dim_geography as g on l.geography_key = g.geography_key",
    )
    assert {r[:7]: r[7] for r in crime_lineage} == {
        (*key, batch_of[path]): n for (*key, path), n in expected_crime_lineage(files).items()
    }
    peer_lineage = _query(
        db,
        "select financial_year, area_name, reporting_category, batch_id, fact_row_count,"
        " offence_count from lineage.lineage_peer_comparison_yearly",
    )
    assert {r[:4]: r[4:] for r in peer_lineage} == {
        (*key, batch_of[path]): counts
        for (*key, path), counts in expected_peer_lineage(files).items()
    }
    # The revised table restates every quarter: the first release is behind no figure any more.
    assert {r[3] for r in peer_lineage} == {batch_of[files[-1]]}

    # Crime a (Preston, January; twice in the street file) traces to the re-published January and
    # to February's outcomes file, which gave its current outcome.
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", db.url)
    args = [
        "--where=month_start_date=2025-01-01",
        "--where=force_code=lancashire",
        "--where=local_authority_code=E07000123",
        f"--where=crime_type={VSO}",
        "--where=outcome_category=Awaiting court outcome",
    ]
    assert vawg_main(["trace", "mart_public_crime_monthly", *args]) == 0
    printed = capsys.readouterr().out
    assert "1 row(s)" in printed and "crime_count=2" in printed
    assert "2 row(s) of int_policeuk_crimes_deduplicated" in printed
    assert "2 row(s) of int_policeuk_crime_outcomes_ranked" in printed
    assert "policeuk/archive-2025-04/2025-01/2025-01-lancashire-street.csv" in printed
    assert "policeuk/2025-02/2025-02-lancashire-outcomes.csv" in printed
    assert "policeuk/2025-01/2025-01-lancashire-street.csv" not in printed  # the first release

    # Auditors read the lineage views; BI readers do not.
    with psycopg.connect(db.url, autocommit=True) as conn:
        for view in ("lineage_public_crime_monthly", "lineage_peer_comparison_yearly"):
            conn.execute("set role vawg_auditor")
            assert conn.execute(f"select count(*) from lineage.{view}").fetchone()[0]
            conn.execute("set role vawg_bi_reader")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select count(*) from lineage.{view}")
            conn.execute("reset role")


def test_the_sample_generators_public_files_load_clean(server, tmp_path, monkeypatch) -> None:
    """What `vawg sample` and the demo write passes the contracts and suites: nothing set aside."""
    from vawg_devtools.sample import generate
    from vawg_devtools.sample.public import PublicSource
    from vawg_warehouse.migrations import migrate

    database = create_database(server)
    try:
        landing = tmp_path / "landing"
        monkeypatch.setenv("VAWG_WAREHOUSE_URL", database.url)
        monkeypatch.setenv("VAWG_PSEUDONYM_KEY", TEST_KEY)
        monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
        with psycopg.connect(database.url) as conn:
            migrate(conn)
        summary = generate(
            landing, start=date(2024, 7, 1), end=date(2025, 3, 31), rows=300,
            sources=[PublicSource],
        )  # fmt: skip
        load_public("sample")
        counts = _query(
            database,
            "select dataset, status, count(*), sum(rows_loaded) from audit.load_batch "
            "group by 1, 2 order by 1, 2",
        )
        # the generator writes no population estimates: the demo divides by the seeds
        assert counts == [
            (d, "published", summary.dataset(d).files, summary.dataset(d).rows)
            for d in sorted(SOURCES["public"])
            if d not in SHARED_DATASETS
        ]
        warnings = _query(
            database,
            "select distinct r.rule from audit.validation_result as r where not r.success",
        )
        assert warnings == []
    finally:
        drop_database(database)
