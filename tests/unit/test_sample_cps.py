"""The CPS quarterly release generator: real files in tmp_path, checked against the contract,
the seeds, the force profile's magnitudes and each other (restated quarters)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from vawg_devtools.sample import generate
from vawg_devtools.sample.cps import CpsSource, Quarter
from vawg_devtools.sample.engine import make_context
from vawg_devtools.sample.funding import FundingSource
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.forces import home_force
from vawg_warehouse.ingest.contracts import load_contract

CONTRACT = load_contract("cps_quarterly_outcomes")
# Two releases: Q2 2023-24 (published 13 Jan 2024) and Q3 2023-24 (14 Apr 2024).
START, END = date(2024, 1, 1), date(2024, 4, 30)
MEASURES = {r["measure"]: r for r in read_seed("cps_measures")}
AREAS = {r["area_name"]: r for r in read_seed("cps_areas")}
CATEGORIES = {r["case_category"] for r in read_seed("cps_case_categories")}


def _true(text: str) -> bool:
    return text == "true"


def read_releases(landing: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(CONTRACT.landing_dir(landing).iterdir()):
        assert CONTRACT.matches(path.relative_to(landing).as_posix()), path.name
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == CONTRACT.column_names
            out[path.name] = list(reader)
    return out


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, list[dict[str, str]]]:
    landing = tmp_path_factory.mktemp("landing")
    summary = generate(landing, start=START, end=END, seed=5, sources=[CpsSource])
    found = read_releases(landing)
    assert summary.dataset("cps_quarterly_outcomes").files == len(found)
    assert summary.dataset("cps_quarterly_outcomes").rows == sum(map(len, found.values()))
    return found


def _figures(rows) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """(financial_year, quarter, area, category) -> measure -> volume."""
    out: dict = defaultdict(dict)
    for r in rows:
        key = (r["financial_year"], r["financial_quarter"], r["area_name"], r["case_category"])
        assert r["measure"] not in out[key], "the row key is unique"
        out[key][r["measure"]] = int(r["volume"])
    return out


def _sum(figures: dict[str, int], flag: str) -> int:
    return sum(v for m, v in figures.items() if _true(MEASURES[m][flag]))


def test_quarter_arithmetic() -> None:
    q = Quarter(2024, 2)
    assert (q.start, q.end, q.financial_year, q.label) == (
        date(2024, 7, 1),
        date(2024, 9, 30),
        "2024-25",
        "Q2",
    )
    assert Quarter.containing(date(2025, 3, 31)) == Quarter(2024, 4)
    assert Quarter.containing(date(2025, 4, 1)) == Quarter(2025, 1)
    assert Quarter(2024, 4) + 1 == Quarter(2025, 1) and Quarter(2025, 1) + (-4) == Quarter(2024, 1)
    assert Quarter(2025, 1) - Quarter(2024, 2) == 3
    assert q.file_name == "cps_2024Q2.csv" and CONTRACT.matches(f"cps/quarterly/{q.file_name}")


def test_a_release_on_its_day_with_its_quarter_and_the_three_before(releases) -> None:
    assert sorted(releases) == ["cps_2023Q2.csv", "cps_2023Q3.csv"]
    for name, rows in releases.items():
        release = Quarter(int(name[4:8]), int(name[9]))
        (published,) = {r["published_date"] for r in rows}
        assert date.fromisoformat(published) == release.end + timedelta(days=105)
        quarters = {(r["financial_year"], r["financial_quarter"]) for r in rows}
        expected = {(q.financial_year, q.label) for q in (release + (-k) for k in range(4))}
        assert quarters == expected


def test_values_follow_the_contract_and_the_seeds(releases) -> None:
    for rows in releases.values():
        _figures(rows)  # the row key is unique within a file
        for r in rows:
            assert r["area_name"] in AREAS and r["case_category"] in CATEGORIES
            assert r["measure"] in MEASURES and r["financial_quarter"] in ("Q1", "Q2", "Q3", "Q4")
            assert r["volume"].isdigit() and (r["volume"] == "0" or r["volume"][0] != "0")
            start, end = r["financial_year"].split("-")
            assert int(end) == (int(start) + 1) % 100


def test_figures_add_up(releases) -> None:
    """Convictions within completed prosecutions; adult rape within rape; the CPS Area (North
    West) at least the reporting area (Lancashire)."""
    pfa = home_force().police_force_area_code  # the home force's area reports
    reporting = next(a for a, r in AREAS.items() if r["police_force_area_code"] == pfa)
    region = AREAS[reporting]["cps_area_name"]
    for rows in releases.values():
        figures = _figures(rows)
        for (year, quarter, area, category), values in figures.items():
            assert set(values) == set(MEASURES)
            assert _sum(values, "is_conviction") <= _sum(values, "is_completed_prosecution")
            if category == "adult_rape":
                rape = figures[(year, quarter, area, "rape")]
                assert all(values[m] <= rape[m] for m in values)
            if area == reporting:
                whole = figures[(year, quarter, region, category)]
                assert all(values[m] <= whole[m] for m in values)


def test_stalking_and_harassment_only_from_2024_25(releases) -> None:
    categories_by_year = defaultdict(set)
    for rows in releases.values():
        for r in rows:
            categories_by_year[r["financial_year"]].add(r["case_category"])
    assert all("stalking" not in c for y, c in categories_by_year.items() if y < "2024-25")
    assert categories_by_year["2023-24"] == {"domestic_abuse", "rape", "adult_rape"}


def test_a_restated_quarter_grows_a_little(releases) -> None:
    first = _figures(releases["cps_2023Q2.csv"])
    later = _figures(releases["cps_2023Q3.csv"])
    shared = set(first) & set(later)
    assert {k[:2] for k in shared} == {("2023-24", "Q1"), ("2023-24", "Q2"), ("2022-23", "Q4")}
    grew = 0
    for key in shared:
        for measure, volume in first[key].items():
            assert volume <= later[key][measure] <= volume * 1.2 + 5, (key, measure)
            grew += later[key][measure] > volume
    assert grew > 0


def test_magnitudes_follow_the_force_profile(releases) -> None:
    """Lancashire, realistic volume: DA charges a quarter of the order of the force's DA charges
    (hundreds), rape tens; charge and conviction rates in the CPS's usual ranges."""
    lancashire = {
        k: v for k, v in _figures(releases["cps_2023Q3.csv"]).items() if k[2] == "Lancashire"
    }
    for (_, _, _, category), values in lancashire.items():
        charged = _sum(values, "is_charged")
        decisions = _sum(values, "is_legal_decision")
        completed = _sum(values, "is_completed_prosecution")
        if category == "domestic_abuse":
            assert 250 <= charged <= 550
            assert 0.7 <= charged / decisions <= 0.85
            assert 0.7 <= _sum(values, "is_conviction") / completed <= 0.85
        if category == "rape":
            assert 5 <= charged <= 40


def test_volumes_scale_with_the_run(tmp_path) -> None:
    """Fewer crime rows (a smaller run scale) means proportionally smaller CPS volumes."""
    small_ctx, _ = make_context(tmp_path, start=START, end=END, rows=2000)
    full_ctx, _ = make_context(tmp_path, start=START, end=END)
    small = CpsSource(small_ctx).figures.expected_charged["domestic_abuse"]
    full = CpsSource(full_ctx).figures.expected_charged["domestic_abuse"]
    assert small_ctx.scale < 0.25 < 0.9 < full_ctx.scale
    assert small / full == pytest.approx(small_ctx.scale / full_ctx.scale)


def test_same_arguments_write_the_same_files(tmp_path) -> None:
    args = dict(start=date(2024, 1, 10), end=date(2024, 1, 15), rows=300, seed=3)
    generate(tmp_path / "a", sources=[CpsSource, FundingSource], **args)
    generate(tmp_path / "b", sources=[CpsSource, FundingSource], **args)
    generate(tmp_path / "c", sources=[CpsSource, FundingSource], **{**args, "seed": 4})
    a, b, c = (read_releases(tmp_path / x) for x in "abc")
    assert a == b and list(a) == ["cps_2023Q2.csv"] and a != c
