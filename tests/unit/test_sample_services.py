"""The services' quarterly returns generator: real workbooks in tmp_path, read with openpyxl and
with the loader, checked against the contract and the seeds."""

from __future__ import annotations

import re
import time
import zipfile
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from vawg_devtools.sample import generate
from vawg_devtools.sample.services import Quarter, ServicesSource, write_xlsx
from vawg_warehouse.forces import read_home_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.readers import xlsx_records

START, END = date(2023, 4, 1), date(2024, 9, 30)
CONTRACT = load_contract("services_quarterly_returns")
SERVICES = {r["service_code"]: r for r in read_home_seed("services")}
AREAS = {r["area_code"]: r for r in read_home_seed("service_areas")}
DIVISIONS = {
    r["local_authority_code"]: r["division_name"] for r in read_home_seed("local_authorities")
}
NAME = re.compile(r"^(?P<provider>[a-z0-9-]+)_(?P<year>\d{4})Q(?P<quarter>[1-4])\.xlsx$")
COUNTS = ["referrals_received", "clients_engaged", "cases_closed", "cases_closed_positive"]


def read_returns(landing: Path) -> list[tuple[Path, list[dict]]]:
    out = []
    for path in sorted(CONTRACT.landing_dir(landing).iterdir()):
        assert CONTRACT.matches(path.relative_to(landing).as_posix()), path.name
        workbook = load_workbook(path, read_only=True)
        sheet = workbook[CONTRACT.file_format["sheet"]]
        header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        workbook.close()
        out.append((path, [dict(zip(header, r, strict=True)) for r in rows]))
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    summary = generate(landing, start=START, end=END, sources=[ServicesSource])
    return {"landing": landing, "summary": summary, "returns": read_returns(landing)}


def test_quarter_arithmetic():
    q = Quarter.of(date(2025, 1, 15))
    assert (q.year, q.number, q.financial_year, q.label) == (2024, 4, "2024/25", "Q4")
    assert (q.start, q.end) == (date(2025, 1, 1), date(2025, 3, 31))
    assert q.next() == Quarter(2025, 1) and q.previous() == Quarter(2024, 3)
    assert Quarter(2024, 1).previous() == Quarter(2023, 4)
    assert Quarter.of(date(2024, 4, 1)).start == date(2024, 4, 1)


def test_one_workbook_per_provider_and_quarter_named_as_the_contract_says(sample):
    providers = {s["provider_code"] for s in SERVICES.values()}
    names = [NAME.match(p.name) for p, _ in sample["returns"]]
    assert all(names)
    found = Counter((m["provider"], m["year"], m["quarter"]) for m in names)
    assert set(m["provider"] for m in names) == providers and max(found.values()) == 1
    # The returns of the quarters ending 2023-03-31 to 2024-06-30 arrive within the run.
    quarters = {(m["year"], m["quarter"]) for m in names}
    assert quarters == {("2022", "4"), *((str(2023), str(q)) for q in range(1, 5)), ("2024", "1")}
    assert len(sample["returns"]) == 6 * len(providers)
    summary = sample["summary"].dataset("services_quarterly_returns")
    assert summary.files == len(sample["returns"])
    assert summary.rows == sum(len(rows) for _, rows in sample["returns"])


def test_header_sheets_and_properties(sample):
    path = sample["returns"][0][0]
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Return", "Notes"]
    assert [c.value for c in workbook["Return"][1]] == CONTRACT.column_names
    provider = NAME.match(path.name)["provider"]
    assert workbook.properties.creator in {
        s["provider_name"] for s in SERVICES.values() if s["provider_code"] == provider
    }


def test_every_value_is_allowed_and_the_loader_reads_it(sample):
    for path, rows in sample["returns"]:
        provider = NAME.match(path.name)["provider"]
        for r in rows:
            assert SERVICES[r["service_code"]]["provider_code"] == provider
            assert re.fullmatch(r"20\d{2}/\d{2}", r["financial_year"])
            assert int(r["financial_year"][5:]) == (int(r["financial_year"][2:4]) + 1) % 100
            assert r["financial_quarter"] in {"Q1", "Q2", "Q3", "Q4"}
            assert r["local_authority_code"] in AREAS
            assert all(isinstance(r[c], int) and r[c] >= 0 for c in COUNTS)
            assert r["clients_engaged"] <= r["referrals_received"]
            assert r["cases_closed_positive"] <= r["cases_closed"]
        header, *texts = list(xlsx_records(path, path.name, "Return"))
        assert header[1] == CONTRACT.column_names
        assert [t[1] for t in texts] == [
            [str(v.date()) if isinstance(v, datetime) else str(v) for v in r.values()] for r in rows
        ]


def test_areas_follow_each_service_breakdown(sample):
    areas: dict[tuple, set[str]] = defaultdict(set)
    for _, rows in sample["returns"]:
        for r in rows:
            areas[r["service_code"], r["financial_year"], r["financial_quarter"]].add(
                r["local_authority_code"]
            )
    county = {c for c, a in AREAS.items() if a["area_type"] == "police_force_area"}
    for (code, _, _), found in areas.items():
        service = SERVICES[code]
        if service["return_breakdown"] == "county_wide":
            assert found == county
        else:
            expected = {
                la
                for la, division in DIVISIONS.items()
                if service["coverage"] in (division, "Lancashire")
            }
            assert found == expected, code


def test_returns_arrive_weeks_after_their_quarter(sample):
    for path, rows in sample["returns"]:
        m = NAME.match(path.name)
        quarter = Quarter(int(m["year"]), int(m["quarter"]))
        own = [r for r in rows if r["financial_quarter"] == quarter.label]
        assert own and all(r["financial_year"] == quarter.financial_year for r in own)
        submitted = {r["submitted_date"].date() for r in rows}
        assert len(submitted) == 1
        lag = (submitted.pop() - quarter.end).days
        assert 1 <= lag <= 84


def test_some_returns_restate_the_quarter_before_with_late_records(sample):
    seen: dict[tuple, list[dict]] = defaultdict(list)
    restating = 0
    for path, rows in sample["returns"]:
        m = NAME.match(path.name)
        quarter = Quarter(int(m["year"]), int(m["quarter"]))
        others = [r for r in rows if r["financial_quarter"] != quarter.label]
        previous = quarter.previous()
        assert all(
            (r["financial_year"], r["financial_quarter"])
            == (previous.financial_year, previous.label)
            for r in others
        )
        restating += bool(others)
        for r in rows:
            key = (r["service_code"], r["financial_year"], r["financial_quarter"])
            seen[key + (r["local_authority_code"],)].append(r)
    assert 0 < restating < len(sample["returns"]) / 2
    for versions in seen.values():
        if len(versions) == 2:  # first return, then its restatement: only ever more
            first, later = versions
            assert all(later[c] >= first[c] for c in COUNTS)


def test_default_volumes_are_realistic(sample):
    totals: Counter = Counter()
    for _, rows in sample["returns"]:
        for r in rows:
            if (r["financial_year"], r["financial_quarter"]) == ("2023/24", "Q3"):
                totals[SERVICES[r["service_code"]]["service_type"]] += r["referrals_received"]
    assert 900 <= totals["IDVA"] <= 1500  # about 1,200 referrals a quarter county-wide
    assert 300 <= totals["ISVA"] <= 600
    assert 20 <= totals["Drive"] <= 80


def test_same_arguments_write_byte_identical_workbooks(tmp_path):
    folders = []
    for name in ("a", "b"):
        landing = tmp_path / name
        generate(landing, start=date(2024, 7, 1), end=date(2024, 9, 30), rows=2000,
                 sources=[ServicesSource])  # fmt: skip
        folders.append(CONTRACT.landing_dir(landing))
    first = {p.name: p.read_bytes() for p in folders[0].iterdir()}
    assert len(first) == len(SERVICES) - 1  # one workbook per provider (one runs two services)
    assert first == {p.name: p.read_bytes() for p in folders[1].iterdir()}


def test_write_xlsx_does_not_depend_on_the_clock(tmp_path, monkeypatch):
    sheets = [("Return", [["a", "b"], [1, date(2025, 1, 2)]])]
    when = datetime(2025, 1, 3, 9, 0)
    write_xlsx(tmp_path / "one.xlsx", sheets, author="x", when=when)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # 2033: another zip timestamp
    write_xlsx(tmp_path / "two.xlsx", sheets, author="x", when=when)
    assert (tmp_path / "one.xlsx").read_bytes() == (tmp_path / "two.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "two.xlsx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_every_seed_service_type_has_a_profile(tmp_path):
    from vawg_devtools.sample.engine import make_context

    ctx, _ = make_context(tmp_path, start=START, end=START)
    source = ServicesSource(ctx)
    assert {s.code for s in source.services} == set(SERVICES)
    assert all(abs(s.area_weights.sum() - 1) < 1e-9 for s in source.services)
    assert timedelta(days=source.profile.lag_max_days) < timedelta(days=90)  # see on_day
