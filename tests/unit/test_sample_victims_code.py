"""The Victims' Code records generator: real files in tmp_path, checked against the crimes files,
the contract and the seeds."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from vawg_devtools.sample import generate
from vawg_devtools.sample.reference import read_seed
from vawg_devtools.sample.victims_code import (
    DEFAULT_VICTIMS_CODE_PROFILE,
    PendingRecords,
    VictimsCodeSource,
)
from vawg_warehouse.ingest.contracts import load_contract

START, END = date(2024, 1, 1), date(2024, 3, 31)
CONTRACT = load_contract("force_victims_code")
CRIMES = load_contract("force_crimes")
OUTCOMES = load_contract("force_outcomes")
RIGHTS = {int(r["right_number"]) for r in read_seed("victims_code_rights")}
CHARGE_CODES = {
    r["outcome_code"] for r in read_seed("ho_outcome_types") if r["is_charge_summons"] == "true"
}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_dataset(landing: Path, contract) -> list[tuple[date, list[str], list[dict[str, str]]]]:
    out = []
    for path in sorted(contract.landing_dir(landing).iterdir()):
        assert contract.matches(path.relative_to(landing).as_posix()), path.name
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [dict(zip(header, r, strict=True)) for r in reader]
        out.append((date.fromisoformat(path.stem[-10:]), header, rows))
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    summary = generate(landing, start=START, end=END, rows=9000, sources=[VictimsCodeSource])
    files = read_dataset(landing, CONTRACT)
    crimes = {r["crime_reference"]: r for _, _, rows in read_dataset(landing, CRIMES) for r in rows}
    outcomes = defaultdict(set)
    for _, _, rows in read_dataset(landing, OUTCOMES):
        for r in rows:
            outcomes[r["crime_reference"]].add(r["outcome_code"])
    return {
        "landing": landing,
        "summary": summary,
        "files": files,
        "records": [(day, r) for day, _, rows in files for r in rows],
        "crimes": crimes,
        "outcomes": outcomes,
    }


def test_one_file_per_day_with_the_contract_header(sample):
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    assert [d for d, _, _ in sample["files"]] == days
    assert all(header == CONTRACT.column_names for _, header, _ in sample["files"])
    summary = sample["summary"].dataset("force_victims_code")
    assert (summary.files, summary.rows) == (len(days), len(sample["records"]))


def test_every_value_is_allowed_by_the_contract_and_the_seeds(sample):
    # "" (no status yet) as well: the contract's status is optional
    statuses = {*next(c for c in CONTRACT.columns if c.name == "status").allowed_values, ""}
    for day, r in sample["records"]:
        assert re.fullmatch(r"VC-\d{4}-\d{7}-\d{2}", r["record_id"]), r
        assert int(r["right_number"]) in RIGHTS and r["status"] in statuses
        assert DATE.match(r["date_due"]) and (
            r["date_completed"] == "" or DATE.match(r["date_completed"])
        )
        assert r["recorded_by_unit"].strip() and re.fullmatch(r"P\d{9}", r["victim_id"])
        assert r["extracted_at"] == f"{day + timedelta(days=1)}T01:15:00Z"


def test_records_belong_to_the_force_crimes_and_their_victims(sample):
    crimes = sample["crimes"]
    for _, r in sample["records"]:
        crime = crimes[r["crime_reference"]]  # every record's crime is in the crimes files
        assert r["victim_id"] == crime["victim_id"]  # the same person, so the same pseudonym
        assert r["record_id"] == f"VC-{r['crime_reference'][3:]}-{int(r['right_number']):02d}"
        assert r["date_due"] >= crime["recorded_date"]
    covered = {r["crime_reference"] for _, r in sample["records"]}
    assert len(covered) > 0.95 * len(crimes)  # nearly every crime has records


def test_statuses_and_dates_agree(sample):
    for day, r in sample["records"]:
        due, done = r["date_due"], r["date_completed"]
        assert done <= day.isoformat()  # nothing completed after the file's day
        if r["status"] == "met":
            assert done and done <= due
        elif r["status"] == "not_met":
            assert done == "" or done > due
            assert day.isoformat() > due  # recorded as not met only once it fell due
        else:  # not applicable, or no status recorded yet
            assert done == ""


def test_a_record_opens_without_a_status_and_is_restated_only_as_met_after_a_review(sample):
    seen: dict[str, list[tuple[date, dict]]] = defaultdict(list)
    for day, r in sample["records"]:
        seen[r["record_id"]].append((day, r))
    per_file = Counter((day, r["record_id"]) for day, r in sample["records"])
    assert max(per_file.values()) == 1  # the row key is unique within a file
    statuses = Counter(tuple(r["status"] for _, r in v) for v in seen.values())
    allowed = {
        ("",),  # triggered, no status recorded by the run's end
        ("met",), ("not_met",), ("not_applicable",),  # recorded the day it was triggered
        ("", "met"), ("", "not_met"), ("", "not_applicable"),
        ("not_met", "met"), ("", "not_met", "met"),  # a review found it was delivered
    }  # fmt: skip
    assert set(statuses) <= allowed, set(statuses) - allowed
    assert statuses["",] and statuses["", "not_met", "met"] + statuses["not_met", "met"]
    for v in seen.values():
        if v[-1][1]["status"] == "met" and len(v) > 1 and v[-2][1]["status"] == "not_met":
            assert v[-1][0] >= v[-2][0] + timedelta(days=7)
        if v[0][1]["status"] == "" and len(v) > 1:
            assert v[0][0] < v[1][0]  # opened before its status was recorded


def test_trial_rights_apply_only_when_someone_was_charged(sample):
    outcomes = sample["outcomes"]
    for _, r in sample["records"]:
        if r["right_number"] in ("8", "10", "11"):
            charged = bool(outcomes[r["crime_reference"]] & CHARGE_CODES)
            assert outcomes[r["crime_reference"]]  # decided when the outcome came
            if r["status"] != "not_applicable":
                assert charged, r


def test_compliance_is_realistic_by_right(sample):
    latest = {r["record_id"]: r for _, r in sample["records"]}  # files in date order
    counts = Counter((int(r["right_number"]), r["status"]) for r in latest.values())
    rate = {
        n: counts[n, "met"] / (counts[n, "met"] + counts[n, "not_met"])
        for n in RIGHTS
        if counts[n, "met"] + counts[n, "not_met"] >= 200
    }
    assert {1, 2, 3, 4, 5, 6, 7, 9} <= set(rate)
    assert all(0.6 <= v <= 0.97 for v in rate.values()), rate
    assert rate[7] < rate[1] - 0.15  # the Victim Personal Statement lags, as in surveys
    overall = sum(counts[n, "met"] for n in RIGHTS) / sum(
        counts[n, s] for n in RIGHTS for s in ("met", "not_met")
    )
    assert 0.75 <= overall <= 0.92
    assert counts[12, "not_applicable"] > 20 * counts[12, "met"]  # few victims complain


def test_about_twelve_records_per_crime(sample):
    records = {r["record_id"] for _, r in sample["records"]}
    per_crime = len(records) / len(sample["crimes"])
    assert 8 <= per_crime <= 12.5  # fewer near the end: outcomes and reviews not yet due


def test_same_arguments_write_byte_identical_files(tmp_path):
    contents = []
    for name in ("a", "b"):
        landing = tmp_path / name
        generate(landing, start=START, end=START + timedelta(days=20), rows=600,
                 sources=[VictimsCodeSource])  # fmt: skip
        folder = CONTRACT.landing_dir(landing)
        contents.append({p.name: p.read_bytes() for p in folder.iterdir()})
    assert contents[0] == contents[1] and len(contents[0]) == 21


def test_profile_rights_must_be_in_the_seed(tmp_path):
    from dataclasses import replace

    from vawg_devtools.sample.engine import make_context

    ctx, _ = make_context(tmp_path, start=START, end=START)
    rights = dict(DEFAULT_VICTIMS_CODE_PROFILE.rights)
    rights[13] = rights[1]
    with pytest.raises(KeyError, match="13"):
        VictimsCodeSource(ctx, replace(DEFAULT_VICTIMS_CODE_PROFILE, rights=rights))


def test_pending_records_come_out_on_their_day_sorted_by_crime_then_right():
    pending = PendingRecords(max_runs=2)
    for i in range(4):  # more runs than max_runs: merged on the way
        n = 6
        pending.push(
            {
                "day": np.array([10, 12, 10, 11, 12, 10]) + i % 2,
                "key": np.arange(n) + 100 * i,
                "right": np.arange(n)[::-1],
            }
        )
    assert len(pending) == 24
    assert pending.pop(9) is None
    got = pending.pop(10)
    assert list(got["key"]) == [0, 2, 5, 200, 202, 205]
    assert len(pending) == 18
    with pytest.raises(RuntimeError, match="left behind"):
        pending.pop(12)
