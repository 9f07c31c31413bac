"""The MARAC and protective-order generators: real files in tmp_path, checked against the
contracts, the seeds and the force's crimes files of the same run."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from vawg_devtools.sample import generate
from vawg_devtools.sample.engine import make_context
from vawg_devtools.sample.force_marac import DEFAULT_MARAC_PROFILE, MaracSource
from vawg_devtools.sample.force_orders import (
    DEFAULT_ORDERS_PROFILE,
    OrderScheme,
    ProtectiveOrderSource,
)
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.forces import read_home_seed
from vawg_warehouse.ingest.contracts import load_contract

START, END = date(2023, 1, 1), date(2024, 12, 31)  # a year of history, then a year to measure
MARAC, ORDERS = load_contract("force_marac_cases"), load_contract("force_protective_orders")
LAS = {r["local_authority_code"] for r in read_home_seed("local_authorities")}
AGENCIES = {r["referring_agency"] for r in read_seed("marac_referring_agencies")}
ORDER_TYPES = {r["order_type"]: r for r in read_seed("order_types")}
PERSON_ID = re.compile(r"^P[0-9]{9}$")


def allowed(contract, column: str) -> set[str]:
    return set(next(c for c in contract.columns if c.name == column).allowed_values)


def pattern(contract, column: str) -> re.Pattern:
    return re.compile(next(c.pattern for c in contract.columns if c.name == column))


def read_files(landing: Path, contract) -> list[tuple[date, list[str], list[dict[str, str]]]]:
    out = []
    for path in sorted(contract.landing_dir(landing).iterdir()):
        assert contract.matches(path.relative_to(landing).as_posix()), path.name
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [dict(zip(header, r, strict=True)) for r in reader]
        out.append((date.fromisoformat(path.stem.split("_")[1]), header, rows))
    return out


def months_back(day: date, months: int) -> date:
    """``day`` minus ``months`` calendar months, the day clamped to the month's end."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    # the force files and the two followers read here (not Victims' Code, services ...: 10x more)
    summary = generate(landing, start=START, end=END, sources=[MaracSource, ProtectiveOrderSource])
    crimes = [r for _, _, rows in read_files(landing, load_contract("force_crimes")) for r in rows]
    marac = read_files(landing, MARAC)
    orders = read_files(landing, ORDERS)
    return {
        "landing": landing,
        "summary": summary,
        "crimes": crimes,
        "marac_files": marac,
        "marac": [r for _, _, rows in marac for r in rows],
        "order_files": orders,
        "orders": [r for _, _, rows in orders for r in rows],
    }


# --------------------------------------------------------------------------------------------
# MARAC
# --------------------------------------------------------------------------------------------


def test_marac_files_are_meeting_days_with_the_contract_header(sample):
    files = sample["marac_files"]
    assert files and all(header == MARAC.column_names for _, header, _ in files)
    assert {d.weekday() for d, _, _ in files} == set(DEFAULT_MARAC_PROFILE.meeting_weekdays)
    meeting_days = [
        START + timedelta(days=i)
        for i in range((END - START).days + 1)
        if (START + timedelta(days=i)).weekday() in DEFAULT_MARAC_PROFILE.meeting_weekdays
    ]
    assert [d for d, _, _ in files] == meeting_days
    summary = sample["summary"].dataset("force_marac_cases")
    assert (summary.files, summary.rows) == (len(files), len(sample["marac"]))


def test_marac_values_follow_the_contract_and_the_seeds(sample):
    rows = sample["marac"]
    reference = pattern(MARAC, "case_reference")
    assert all(reference.match(r["case_reference"]) for r in rows)
    assert len({r["case_reference"] for r in rows}) == len(rows)  # unique across the run
    assert {r["referring_agency"] for r in rows} == AGENCIES
    assert {r["local_authority_code"] for r in rows} == LAS
    assert {r["risk_basis"] for r in rows} == allowed(MARAC, "risk_basis")
    assert all(PERSON_ID.match(r["victim_id"]) for r in rows)
    assert all(PERSON_ID.match(r["perpetrator_id"]) or r["perpetrator_id"] == "" for r in rows)
    for day, _, file_rows in sample["marac_files"]:
        stamp = f"{day + timedelta(days=1)}T01:15:00Z"
        for r in file_rows:
            assert r["date_heard"] == day.isoformat() and r["extracted_at"] == stamp
            assert START <= date.fromisoformat(r["date_referred"]) <= day


def test_marac_victims_are_the_forces_da_victims(sample):
    first_da: dict[str, date] = {}
    sex: dict[str, str] = {}
    for r in sample["crimes"]:
        if r["domestic_abuse_flag"] == "Y":
            day = date.fromisoformat(r["recorded_date"])
            first_da[r["victim_id"]] = min(day, first_da.get(r["victim_id"], day))
        sex.setdefault(r["victim_id"], r["victim_sex"])
    rows = sample["marac"]
    for r in rows:
        assert first_da[r["victim_id"]] <= date.fromisoformat(r["date_referred"])
    suspects = {r["suspect_id"] for r in sample["crimes"] if r["suspect_id"]}
    assert {r["perpetrator_id"] for r in rows if r["perpetrator_id"]} <= suspects
    female = sum(sex[r["victim_id"]] == "F" for r in rows) / len(rows)
    assert female > 0.9  # MARAC victims are overwhelmingly women


def test_marac_volume_and_repeats_are_realistic(sample):
    """~40 cases a year per 10,000 women aged 16+ (~2,500 for Lancashire); about a third of
    the second year's cases are repeats (SafeLives: within 12 months of the last referral)."""
    population = read_seed("population_mid_year")
    women = sum(int(r["females_16_plus"]) for r in population if r["local_authority_code"] in LAS)
    last: dict[str, date] = {}
    heard = repeats = rereferred_later = 0
    ordered = sorted(
        sample["marac"], key=lambda r: (r["date_referred"], r["date_heard"], r["case_reference"])
    )
    for r in ordered:
        referred = date.fromisoformat(r["date_referred"])
        previous = last.get(r["victim_id"])
        if r["date_heard"] >= "2024-01-01":
            heard += 1
            if previous is not None and previous >= months_back(referred, 12):
                repeats += 1
            rereferred_later += previous is not None and previous < months_back(referred, 12)
        last[r["victim_id"]] = referred
    assert 0.85 * 40 * women / 10_000 < heard < 1.15 * 40 * women / 10_000
    assert 0.25 < repeats / heard < 0.42
    assert rereferred_later > 0  # some come back after more than 12 months: not repeats
    per_victim = Counter(r["victim_id"] for r in sample["marac"])
    assert max(per_victim.values()) >= 3
    same_perpetrator = Counter((r["victim_id"], r["perpetrator_id"]) for r in sample["marac"])
    assert sum(n - 1 for n in same_perpetrator.values()) > 0.6 * sum(
        n - 1 for n in per_victim.values()
    )


def test_marac_profile_codes_must_be_in_the_seed_and_contract(tmp_path):
    ctx, _ = make_context(tmp_path, start=START, end=START)
    bad = dataclasses.replace(DEFAULT_MARAC_PROFILE, agency_weights={"social_services": 1})
    with pytest.raises(KeyError, match="social_services"):
        MaracSource(ctx, bad)
    bad = dataclasses.replace(DEFAULT_MARAC_PROFILE, risk_basis_weights={"DASH 14+": 1})
    with pytest.raises(KeyError, match="DASH"):
        MaracSource(ctx, bad)


# --------------------------------------------------------------------------------------------
# Protective orders
# --------------------------------------------------------------------------------------------


def test_order_files_are_daily_with_the_contract_header(sample):
    files = sample["order_files"]
    assert [d for d, _, _ in files] == [
        START + timedelta(days=i) for i in range((END - START).days + 1)
    ]
    assert all(header == ORDERS.column_names for _, header, _ in files)
    for day, _, rows in files:
        stamp = f"{day + timedelta(days=1)}T01:15:00Z"
        assert all(r["event_date"] == day.isoformat() and r["extracted_at"] == stamp for r in rows)
    summary = sample["summary"].dataset("force_protective_orders")
    assert (summary.files, summary.rows) == (len(files), len(sample["orders"]))


def test_order_values_follow_the_contract_and_the_seeds(sample):
    rows = sample["orders"]
    reference = pattern(ORDERS, "order_reference")
    crime = pattern(ORDERS, "crime_reference")
    assert all(reference.match(r["order_reference"]) for r in rows)
    assert all(crime.match(r["crime_reference"]) or r["crime_reference"] == "" for r in rows)
    assert {r["order_type"] for r in rows} <= set(ORDER_TYPES)
    assert {r["event_type"] for r in rows} == allowed(ORDERS, "event_type")
    assert {r["local_authority_code"] for r in rows} == LAS
    assert all(PERSON_ID.match(r["perpetrator_id"]) for r in rows)
    assert all(PERSON_ID.match(r["victim_id"]) or r["victim_id"] == "" for r in rows)
    keys = [(r["order_reference"], r["event_sequence"]) for r in rows]
    assert len(set(keys)) == len(keys)  # the row key holds across the run
    # Lancashire is not a DAPN/DAPO pilot force: none of the pilot-only instruments
    pilots = {t for t, r in ORDER_TYPES.items() if r["is_pilot_only"] == "true"}
    assert pilots == {"DAPN", "DAPO"} and not pilots & {r["order_type"] for r in rows}


def test_each_order_case_tells_a_consistent_story(sample):
    cases: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in sample["orders"]:  # files in date order
        cases[r["order_reference"]].append(r)
    crimes = {r["crime_reference"]: r for r in sample["crimes"]}
    for reference, events in cases.items():
        assert [int(e["event_sequence"]) for e in events] == list(range(1, len(events) + 1))
        assert (
            len({(e["victim_id"], e["perpetrator_id"], e["crime_reference"]) for e in events}) == 1
        )
        first = events[0]
        if first["crime_reference"]:
            crime = crimes[first["crime_reference"]]  # the crime is in the force's files
            assert crime["recorded_date"] <= first["event_date"]
            assert (crime["victim_id"], crime["suspect_id"]) == (
                first["victim_id"],
                first["perpetrator_id"],
            )
        granted: set[str] = set()
        for e in events:
            if e["event_type"] == "granted":
                granted.add(e["order_type"])
            if e["event_type"] == "breached":
                assert e["order_type"] in granted, reference  # only a granted order is breached
            if e["event_type"] == "notice_issued":
                assert ORDER_TYPES[e["order_type"]]["order_category"] == "notice"


def test_order_volumes_and_dvpn_conversion_are_realistic(sample):
    year = [r for r in sample["orders"] if r["event_date"] >= "2024-01-01"]
    counts = Counter((r["order_type"], r["event_type"]) for r in year)
    # ~2.7% of ~6,000 DVPOs granted a year nationally
    assert 120 <= counts["DVPO", "granted"] <= 200
    notices = {r["order_reference"] for r in sample["orders"] if r["event_type"] == "notice_issued"}
    converted = {
        r["order_reference"]
        for r in sample["orders"]
        if r["order_type"] == "DVPO" and r["event_type"] == "granted"
    }
    assert 0.8 < len(notices & converted) / len(notices) < 0.98
    assert 0 < counts["SPO", "granted"] + counts["ISPO", "granted"] < 60  # few stalking orders
    assert counts["RO", "granted"] > counts["DVPO", "granted"]
    breaches = sum(n for (_, event), n in counts.items() if event == "breached")
    granted = sum(n for (_, event), n in counts.items() if event == "granted")
    assert 0.05 < breaches / granted < 0.25
    assert all(not r["crime_reference"] for r in year if r["order_type"] == "NMO")


def test_order_profile_types_must_be_in_the_seed(tmp_path):
    ctx, _ = make_context(tmp_path, start=START, end=START)
    bad = dataclasses.replace(
        DEFAULT_ORDERS_PROFILE, schemes=(OrderScheme("XPO", 10, "da", court_made_share=1.0),)
    )
    with pytest.raises(KeyError, match="XPO"):
        ProtectiveOrderSource(ctx, bad)


# --------------------------------------------------------------------------------------------
# Both
# --------------------------------------------------------------------------------------------


def test_followers_are_deterministic_and_leave_the_force_files_alone(tmp_path):
    args = dict(start=date(2024, 3, 1), end=date(2024, 5, 31), rows=2_000, seed=3)
    ours = (MaracSource, ProtectiveOrderSource)
    generate(tmp_path / "a", **args, sources=ours)
    generate(tmp_path / "b", **args, sources=ours)
    generate(tmp_path / "c", **args, sources=())

    def contents(folder: Path, *parts: str) -> dict[str, bytes]:
        return {
            p.name: p.read_bytes() for part in parts for p in (folder / "force" / part).iterdir()
        }

    assert contents(tmp_path / "a", "marac", "orders") == contents(
        tmp_path / "b", "marac", "orders"
    )
    assert contents(tmp_path / "a", "marac") and contents(tmp_path / "a", "orders")
    # the followers draw no new people: the force's files are the same without them
    force = ("crimes", "outcomes")
    assert contents(tmp_path / "a", *force) == contents(tmp_path / "c", *force)
    assert not (tmp_path / "c" / "force" / "marac").exists()
