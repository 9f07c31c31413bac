"""The grant register generator: month-end snapshots in tmp_path, checked against the contract,
the seeds, the register's lifecycle and each other (a later snapshot restates earlier rows)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from vawg_devtools.sample import generate
from vawg_devtools.sample.funding import FundingSource, financial_year_of
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract

CONTRACT = load_contract("funding_grants")
START, END = date(2024, 1, 1), date(2024, 8, 31)  # 8 month ends, across a financial year end
FUNDERS = {r["funder"]: r for r in read_seed("funders")}
SCHEMES = {r["scheme"]: r for r in read_seed("funding_schemes")}
STATUSES = set(next(c for c in CONTRACT.columns if c.name == "status").allowed_values)
MONEY = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")
ORDER = {"applied": 0, "declined": 1, "awarded": 1, "received": 2}


def read_snapshots(landing: Path) -> dict[date, list[dict[str, str]]]:
    out = {}
    for path in sorted(CONTRACT.landing_dir(landing).iterdir()):
        assert CONTRACT.matches(path.relative_to(landing).as_posix()), path.name
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == CONTRACT.column_names
            out[date.fromisoformat(path.stem.rsplit("_", 1)[1])] = list(reader)
    return out


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> dict[date, list[dict[str, str]]]:
    landing = tmp_path_factory.mktemp("landing")
    summary = generate(landing, start=START, end=END, rows=2000, seed=9, sources=[FundingSource])
    found = read_snapshots(landing)
    assert summary.dataset("funding_grants").files == len(found)
    assert summary.dataset("funding_grants").rows == sum(map(len, found.values()))
    return found


def _money(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def test_one_snapshot_at_each_month_end(snapshots) -> None:
    assert list(snapshots) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
        date(2024, 8, 31),
    ]


def test_rows_follow_the_contract_seeds_and_lifecycle(snapshots) -> None:
    for day, rows in snapshots.items():
        references = [r["grant_reference"] for r in rows]
        assert len(references) == len(set(references))
        for r in rows:
            assert re.fullmatch(r"GR-20[0-9]{2}-[0-9]{3}", r["grant_reference"])
            assert r["register_date"] == day.isoformat()
            assert r["funder"] in FUNDERS and SCHEMES[r["scheme"]]["funder"] == r["funder"]
            assert r["status"] in STATUSES and r["purpose"].strip()
            start, end = r["financial_year"].split("/")
            assert int(end) == (int(start) + 1) % 100
            assert r["grant_reference"][3:7] == start
            for column in ("amount_applied", "amount_awarded", "amount_received"):
                assert not r[column] or MONEY.match(r[column]), (column, r[column])
            dates = [r[c] for c in ("date_applied", "date_awarded", "date_received") if r[c]]
            assert dates and all(d <= r["register_date"] for d in dates)
            competitive = SCHEMES[r["scheme"]]["is_competitive"] == "true"
            assert bool(r["amount_applied"]) == bool(r["date_applied"]) == competitive
            awarded, received = _money(r["amount_awarded"]), _money(r["amount_received"])
            if r["status"] in ("applied", "declined"):
                assert awarded is None and received is None and not r["date_awarded"]
            else:
                assert awarded and r["date_awarded"]
                assert (received is not None) == bool(r["date_received"])
                assert (received or 0) <= awarded
                assert (r["status"] == "received") == (received == awarded)
                if r["date_applied"]:
                    assert r["date_applied"] <= r["date_awarded"]
                if r["date_received"]:
                    assert r["date_awarded"] <= r["date_received"]


def test_a_later_snapshot_restates_every_grant_and_moves_it_on(snapshots) -> None:
    history: dict[str, list[dict[str, str]]] = defaultdict(list)
    for _, rows in sorted(snapshots.items()):
        for r in rows:
            history[r["grant_reference"]].append(r)
    days = sorted(snapshots)
    moved = 0
    for versions in history.values():
        first_day = date.fromisoformat(versions[0]["register_date"])
        year = int(versions[0]["financial_year"][:4])
        # listed in every snapshot from its first, until its year leaves the register
        listed = [d for d in days if d >= first_day and year >= financial_year_of(d) - 3]
        assert [v["register_date"] for v in versions] == [d.isoformat() for d in listed]
        fixed = ("funder", "scheme", "financial_year", "amount_applied", "date_applied")
        assert len({tuple(v[c] for c in fixed) for v in versions}) == 1
        for before, after in zip(versions, versions[1:], strict=False):
            assert ORDER[before["status"]] <= ORDER[after["status"]]
            assert (_money(before["amount_received"]) or 0) <= (
                _money(after["amount_received"]) or 0
            )
            moved += before["status"] != after["status"]
    assert moved >= 3


def test_the_register_keeps_three_earlier_years_and_next_years_bids(snapshots) -> None:
    for day, rows in snapshots.items():
        years = {int(r["financial_year"][:4]) for r in rows}
        current = financial_year_of(day)
        assert min(years) == current - 3 and max(years) <= current + 1


def test_realistic_money(snapshots) -> None:
    """A few million pounds a year from a dozen or so grants; most from Government funders."""
    last = snapshots[max(snapshots)]
    by_year: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in last:
        by_year[r["financial_year"]].append(r)
    for year in ("2021/22", "2022/23", "2023/24"):
        rows = by_year[year]
        awarded = sum(_money(r["amount_awarded"]) or 0 for r in rows)
        government = sum(
            _money(r["amount_awarded"]) or 0
            for r in rows
            if FUNDERS[r["funder"]]["funder_type"] == "government"
        )
        assert 6 <= len(rows) <= 20
        assert 3_000_000 <= awarded <= 8_000_000
        assert government > awarded / 2
    statuses = {r["status"] for r in last}
    assert {"declined", "received", "awarded"} <= statuses


def test_same_arguments_write_the_same_files(tmp_path) -> None:
    args = dict(start=date(2024, 3, 25), end=date(2024, 4, 30), rows=300, seed=3)
    generate(tmp_path / "a", sources=[FundingSource], **args)
    generate(tmp_path / "b", sources=[FundingSource], **args)
    generate(tmp_path / "c", sources=[FundingSource], **{**args, "seed": 4})
    a, b, c = (read_snapshots(tmp_path / x) for x in "abc")
    assert a == b and list(a) == [date(2024, 3, 31), date(2024, 4, 30)] and a != c
