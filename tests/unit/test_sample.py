"""The sample data generator: real files in tmp_path, checked against the contracts and seeds."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from vawg_devtools.sample import (
    DEFAULT_PROFILE,
    generate,
    write_bad_crimes_file,
)
from vawg_devtools.sample.engine import make_context
from vawg_devtools.sample.force import ForceGenerator, PendingOutcomes
from vawg_devtools.sample.output import format_lines
from vawg_devtools.sample.reference import category_codes, read_seed
from vawg_devtools.sample.sampling import TableSampler
from vawg_warehouse.forces import read_home_seed
from vawg_warehouse.ingest.contracts import load_contract

START, END = date(2024, 1, 1), date(2024, 6, 30)  # 182 days, about 6 months
MONTHS = 182 / (365.25 / 12)
CRIMES, OUTCOMES = load_contract("force_crimes"), load_contract("force_outcomes")
OFFENCES = {r["ho_offence_code"]: r for r in read_seed("ho_offence_codes")}
RAPE_CODES = category_codes()["rape"]
OUTCOME_CODES = {r["outcome_code"] for r in read_seed("ho_outcome_types")}
LAS = {r["local_authority_code"] for r in read_home_seed("local_authorities")}
POPULATION = {
    r["local_authority_code"]: int(r["persons"]) for r in read_seed("population_mid_year")
}
PERSON_ID = re.compile(r"^P[0-9]{9}$")


def allowed(contract, column: str) -> set[str]:
    return set(next(c for c in contract.columns if c.name == column).allowed_values)


def read_files(landing: Path, contract) -> list[tuple[date, list[str], list[dict[str, str]]]]:
    """(file date, header, rows) for every file of the dataset, in name order."""
    out = []
    for path in sorted(contract.landing_dir(landing).iterdir()):
        assert contract.matches(path.relative_to(landing).as_posix()), path.name
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [dict(zip(header, r, strict=True)) for r in reader]
        out.append((date.fromisoformat(path.stem.split("_")[1]), header, rows))
    return out


def contents(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*.csv")}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    messages: list[str] = []
    summary = generate(landing, start=START, end=END, progress=messages.append)
    crimes = read_files(landing, CRIMES)
    outcomes = read_files(landing, OUTCOMES)
    return {
        "landing": landing,
        "summary": summary,
        "messages": messages,
        "crime_files": crimes,
        "outcome_files": outcomes,
        "crimes": [r for _, _, rows in crimes for r in rows],
        "outcomes": [r for _, _, rows in outcomes for r in rows],
    }


def test_one_file_per_day_per_dataset_with_the_contract_header(sample):
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    for files, contract in ((sample["crime_files"], CRIMES), (sample["outcome_files"], OUTCOMES)):
        assert [d for d, _, _ in files] == days
        assert all(header == contract.column_names for _, header, _ in files)
    # no temporary file is left beside them (followers may write .xlsx workbooks)
    leftovers = [
        p
        for p in sample["landing"].rglob("*")
        if p.is_file() and (p.name.startswith(".") or p.suffix not in (".csv", ".xlsx"))
    ]
    assert leftovers == []


def test_summary_and_progress_match_the_files(sample):
    summary = sample["summary"]
    assert summary.dataset("force_crimes").rows == len(sample["crimes"])
    assert summary.dataset("force_outcomes").rows == len(sample["outcomes"])
    assert summary.dataset("force_crimes").files == len(sample["crime_files"]) == 182
    assert (summary.start, summary.end, summary.landing_dir) == (START, END, sample["landing"])
    assert "force_crimes" in str(summary)
    assert len(sample["messages"]) == 182 and all(isinstance(m, str) for m in sample["messages"])


def test_same_arguments_write_byte_identical_files(tmp_path):
    args = dict(start=date(2024, 3, 1), end=date(2024, 4, 14), rows=800, seed=11)
    generate(tmp_path / "a", **args)
    generate(tmp_path / "b", **args)
    first, second = contents(tmp_path / "a"), contents(tmp_path / "b")
    force_files = [f for f in first if f.parts[:2] in (("force", "crimes"), ("force", "outcomes"))]
    assert len(force_files) == 90 and first == second  # followers (MARAC, orders ...) add more
    # a re-run into the same folder overwrites with the same content
    generate(tmp_path / "a", **args)
    assert contents(tmp_path / "a") == first
    files = [p for p in (tmp_path / "a").rglob("*") if p.is_file()]
    assert all(p.suffix in (".csv", ".xlsx") and not p.name.startswith(".") for p in files)
    # and another seed gives other data
    generate(tmp_path / "c", **{**args, "seed": 12})
    assert contents(tmp_path / "c") != first


def test_every_value_is_allowed_by_the_contract_and_the_seeds(sample):
    crimes, outcomes = sample["crimes"], sample["outcomes"]
    pattern = re.compile(next(c.pattern for c in CRIMES.columns if c.name == "crime_reference"))
    assert {r["ho_offence_code"] for r in crimes} <= set(OFFENCES)
    assert len({r["ho_offence_code"] for r in crimes}) >= 25  # the mix uses (nearly) the whole seed
    assert {r["local_authority_code"] for r in crimes} == LAS
    assert {r["outcome_code"] for r in outcomes} <= OUTCOME_CODES
    for column in ("domestic_abuse_flag", "victim_age_band", "victim_sex"):
        assert {r[column] for r in crimes} <= allowed(CRIMES, column)
    assert all(pattern.match(r["crime_reference"]) for r in crimes)
    assert all(pattern.match(r["crime_reference"]) for r in outcomes)
    assert len({r["crime_reference"] for r in crimes}) == len(crimes)  # unique across the run
    assert all(PERSON_ID.match(r["victim_id"]) for r in crimes)
    assert all(PERSON_ID.match(r["suspect_id"]) or r["suspect_id"] == "" for r in crimes)
    for column in ("crime_reference", "recorded_date", "ho_offence_code", "victim_id"):
        assert all(r[column] for r in crimes), column


def test_crime_dates_and_extract_times(sample):
    historic = 0
    for day, _, rows in sample["crime_files"]:
        stamp = f"{day + timedelta(days=1)}T01:15:00Z"
        for r in rows:
            assert r["recorded_date"] == day.isoformat()
            assert r["crime_reference"].startswith(f"LC-{day.year}-")
            assert r["extracted_at"] == stamp
            if r["offence_date"]:
                offence = date.fromisoformat(r["offence_date"])
                assert offence <= day
                if (day - offence).days > 365 and OFFENCES[r["ho_offence_code"]][
                    "offence_subgroup"
                ] in ("Rape", "Other sexual offences"):
                    historic += 1
    crimes = sample["crimes"]
    empty = sum(1 for r in crimes if not r["offence_date"]) / len(crimes)
    assert 0.005 < empty < 0.05
    assert historic > 50  # non-recent sexual offences are reported years later


def test_outcome_dates_files_and_sequences(sample):
    recorded = {
        r["crime_reference"]: date.fromisoformat(r["recorded_date"]) for r in sample["crimes"]
    }
    events = defaultdict(list)
    for day, _, rows in sample["outcome_files"]:
        for r in rows:
            assert r["outcome_date"] == day.isoformat()  # each event is in its day's file
            assert r["extracted_at"] == f"{day + timedelta(days=1)}T01:15:00Z"
            assert r["crime_reference"] in recorded  # outcomes only for crimes of the extract
            assert START <= recorded[r["crime_reference"]] <= day <= END
            event = (int(r["outcome_sequence"]), day, r["outcome_code"])
            events[r["crime_reference"]].append(event)
    lengths = Counter()
    for history in events.values():
        history.sort()
        assert [s for s, _, _ in history] == list(range(1, len(history) + 1))
        assert [d for _, d, _ in history] == sorted(d for _, d, _ in history)
        assert all(code != "0" for _, _, code in history[1:])  # 0 only ever comes first
        lengths[len(history)] += 1
    assert lengths[2] > 100 and lengths[3] > 0  # e.g. 0 then 16; 15 then 1
    # some crimes are still open at the end: no event yet, or only an outcome 0
    open_crimes = len(recorded) - len(events) + sum(1 for h in events.values() if h[-1][2] == "0")
    assert open_crimes > 0.1 * len(recorded)
    late = [c for c, d in recorded.items() if d > END - timedelta(days=7)]
    assert sum(1 for c in late if c not in events) > 0.5 * len(late)


def test_default_volumes_are_realistic(sample):
    crimes = sample["crimes"]
    per_month = len(crimes) / MONTHS
    assert 3_000 <= per_month <= 3_500
    da = [r for r in crimes if r["domestic_abuse_flag"] == "Y"]
    assert 1_800 <= len(da) / MONTHS <= 2_200  # ~2,000 DA-flagged crimes a month
    assert 0.55 <= len(da) / len(crimes) <= 0.72
    subgroup = Counter(OFFENCES[r["ho_offence_code"]]["offence_subgroup"] for r in crimes)
    assert 100 <= subgroup["Rape"] / MONTHS <= 200
    assert 200 <= subgroup["Other sexual offences"] / MONTHS <= 500
    stalking_harassment = sum(1 for r in crimes if r["ho_offence_code"] in ("8Q", "8L", "8M"))
    assert 300 <= stalking_harassment / MONTHS <= 1_200
    # the DA flag sits mostly on assaults, coercive control, stalking, harassment, threats ...
    da_codes = Counter(r["ho_offence_code"] for r in da)
    assert sum(da_codes[c] for c in ("8N", "105A", "8L", "8Q", "8U", "3B", "8R")) > 0.9 * len(da)
    # ... and sometimes on sexual offences
    assert 0.01 < sum(da_codes[c] for c in da_codes if c in RAPE_CODES) / len(da)
    # 8U (controlling or coercive behaviour) is always domestic abuse
    assert all(r["domestic_abuse_flag"] == "Y" for r in crimes if r["ho_offence_code"] == "8U")


def test_victims_are_mostly_female_for_da_and_sexual_offences(sample):
    crimes = sample["crimes"]

    def female_share(rows):
        return sum(r["victim_sex"] == "F" for r in rows) / len(rows)

    rape = [r for r in crimes if r["ho_offence_code"] in RAPE_CODES]
    assert female_share(rape) > 0.8
    assert female_share([r for r in crimes if r["domestic_abuse_flag"] == "Y"]) > 0.65
    # codes that fix the victim: 19C female 16+, 19F male 16+, 20B female child
    for r in crimes:
        code, sex, band = r["ho_offence_code"], r["victim_sex"], r["victim_age_band"]
        if code in ("19C", "20A", "19D", "19E", "20B"):
            assert sex == "F", r
        if code in ("19F", "19G", "19H", "17A", "17B"):
            assert sex == "M", r
        if r["domestic_abuse_flag"] == "Y":
            assert band != "0-15", r  # the DA definition covers people aged 16 and over
        if code in ("19C", "19F") and r["offence_date"] == r["recorded_date"]:
            assert band not in ("0-15", "Unknown"), r


def test_local_authority_volumes_follow_population(sample):
    counts = Counter(r["local_authority_code"] for r in sample["crimes"])
    rates = {la: counts[la] / POPULATION[la] for la in LAS}
    median = sorted(rates.values())[len(rates) // 2]
    assert all(0.5 * median < rate < 2 * median for rate in rates.values())
    assert rates["E06000009"] > median  # Blackpool above the county's typical rate


def test_about_a_third_of_da_crimes_are_against_a_victim_of_the_last_12_months(tmp_path):
    # the generator itself (no files, for speed) over two years at a low daily rate
    ctx, counts = make_context(
        tmp_path, start=date(2023, 1, 1), end=date(2024, 12, 31), rows=8_000, seed=5
    )
    generator = ForceGenerator(ctx, counts)
    last_seen: dict[int, int] = {}
    crimes = repeats = 0
    for i, day in ctx.each_day():
        batch = generator.day(i, day)
        generator.outcomes_on(day)
        today = day.toordinal()
        for victim in batch.victim[batch.is_da].tolist():
            if day.year == 2024:  # a full year of history before each crime
                crimes += 1
                previous = last_seen.get(victim)
                repeats += previous is not None and today - previous <= 365
            last_seen[victim] = today
    assert 0.25 < repeats / crimes < 0.42
    assert not any(tmp_path.iterdir())


def test_repeat_victims_and_shared_people(sample):
    da = [r for r in sample["crimes"] if r["domestic_abuse_flag"] == "Y"]
    seen: set[str] = set()
    repeats = 0
    for r in da:  # files are read in date order
        repeats += r["victim_id"] in seen
        seen.add(r["victim_id"])
    # inside a 6-month extract many repeat victims' earlier crimes predate the files
    assert 0.05 < repeats / len(da) < 0.45
    per_victim = Counter(r["victim_id"] for r in da)
    assert max(per_victim.values()) >= 3
    victims = {r["victim_id"] for r in sample["crimes"]}
    suspects = {r["suspect_id"] for r in sample["crimes"] if r["suspect_id"]}
    assert victims.isdisjoint(suspects)
    # a victim keeps their sex across crimes (U is a recording gap)
    sexes = defaultdict(set)
    for r in sample["crimes"]:
        if r["victim_sex"] != "U":
            sexes[r["victim_id"]].add(r["victim_sex"])
    assert all(len(s) == 1 for s in sexes.values())
    # repeat DA victims usually name the same suspect again
    pairs = Counter((r["victim_id"], r["suspect_id"]) for r in da if r["suspect_id"])
    assert sum(n - 1 for n in pairs.values()) > 0.5 * repeats
    empty = sum(1 for r in sample["crimes"] if not r["suspect_id"]) / len(sample["crimes"])
    assert 0.03 < empty < 0.3


def test_outcomes_are_realistic_for_domestic_abuse(sample):
    cohort_end = date(2024, 2, 29)  # crimes of Jan-Feb have had four months for outcomes
    da = {
        r["crime_reference"]
        for r in sample["crimes"]
        if r["domestic_abuse_flag"] == "Y" and date.fromisoformat(r["recorded_date"]) <= cohort_end
    }
    latest: dict[str, str] = {}
    for r in sample["outcomes"]:  # in date order, then by sequence
        if r["crime_reference"] in da:
            latest[r["crime_reference"]] = r["outcome_code"]
    finals = Counter(latest.values())
    charged = finals["1"] + finals["1A"]
    assert 0.06 <= charged / len(da) <= 0.16  # DA charge/summons rate roughly 8-15%
    assert finals.most_common(1)[0][0] == "16"
    assert len(latest) > 0.7 * len(da)


def test_rows_target_is_respected(tmp_path):
    for rows, days in ((300, 30), (7_000, 120)):
        landing = tmp_path / str(rows)
        start = date(2025, 1, 1)
        end = start + timedelta(days=days - 1)
        summary = generate(landing, start=start, end=end, rows=rows)
        written = sum(len(r) for _, _, r in read_files(landing, CRIMES))
        assert written == summary.dataset("force_crimes").rows
        assert abs(written - rows) <= 0.02 * rows


def test_too_many_crimes_for_a_year_fail_before_writing(tmp_path):
    with pytest.raises(ValueError, match="7 digits"):
        generate(tmp_path, start=date(2025, 1, 1), end=date(2025, 1, 31), rows=10_000_001)
    assert not any(tmp_path.iterdir())


def test_profile_codes_must_be_in_the_seeds(tmp_path):
    bad = dataclasses.replace(
        DEFAULT_PROFILE, da_code_weights={**DEFAULT_PROFILE.da_code_weights, "XX9": 1.0}
    )
    with pytest.raises(KeyError, match="XX9"):
        generate(tmp_path, start=date(2025, 1, 1), end=date(2025, 1, 2), profile=bad)


def _crime_rule_failures(row: dict[str, str], file_day: date) -> set[str]:
    """The critical rules of force_crimes that a row breaks (names as in bad_data)."""
    failed = set()
    if row["ho_offence_code"] not in OFFENCES:
        failed.add("ho_offence_code")
    if row["recorded_date"] and date.fromisoformat(row["recorded_date"]) > file_day:
        failed.add("recorded_date")
    for column in CRIMES.columns:
        if column.required and not row[column.name] and column.name != "crime_reference":
            failed.add(column.name)
    if not re.match(r"^LC-[0-9]{4}-[0-9]{7}$", row["crime_reference"]):
        failed.add("crime_reference")
    if row["offence_date"] and row["offence_date"] > row["recorded_date"]:
        failed.add("offence_date")
    if row["local_authority_code"] not in LAS:
        failed.add("local_authority_code")
    if row["domestic_abuse_flag"] not in ("Y", "N"):
        failed.add("domestic_abuse_flag")
    return failed


def test_bad_crimes_file_breaks_exactly_the_stated_rows(tmp_path):
    day = date(2025, 3, 1)
    bad = write_bad_crimes_file(tmp_path, day, seed=3)
    assert bad.path == CRIMES.landing_dir(tmp_path) / "crimes_2025-03-01.csv"
    assert CRIMES.matches(bad.path.relative_to(tmp_path).as_posix())
    assert {3, 5, 7} <= set(bad.bad_lines)
    assert bad.bad_lines[3].column == "ho_offence_code"
    assert bad.bad_lines[5].column == "recorded_date"
    assert bad.bad_lines[7].column == "victim_id"
    with bad.path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == CRIMES.column_names
        failures = {}
        for row in reader:
            failures[reader.line_num] = _crime_rule_failures(row, day)
    assert len(failures) == bad.data_rows
    for line, failed in failures.items():
        if line in bad.bad_lines:
            assert failed == {bad.bad_lines[line].column}, (line, failed)
        else:
            assert failed == set(), (line, failed)
    # the recorded date is also after the extract's own timestamp
    with bad.path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[5 - 2]["recorded_date"] > rows[5 - 2]["extracted_at"][:10]


def test_pending_outcomes_hold_only_pending_events():
    pending = PendingOutcomes(max_runs=2)
    for day in range(10):
        dates = np.array([day, day + 1, day + 5], dtype=np.int32)
        keys = np.array([3 * day + 2, 3 * day + 1, 3 * day], dtype=np.int64)
        pending.push(dates, keys, np.ones(3, dtype=np.int16), np.zeros(3, dtype=np.int16))
        keys_today, _, _ = pending.pop(day)
        assert (np.diff(keys_today) >= 0).all()
        expected = {3 * day + 2} | ({3 * day - 2} if day >= 1 else set())
        expected |= {3 * (day - 5)} if day >= 5 else set()
        assert set(keys_today.tolist()) == expected
        assert len(pending) == 2 + (day >= 1) * min(day, 4)  # nothing already written is kept


def test_table_sampler_draws_each_row_with_its_own_weights():
    sampler = TableSampler(np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    rng = np.random.default_rng(0)
    keys = np.repeat([0, 1], 20_000)
    drawn = sampler.sample(rng, keys)
    first, second = drawn[:20_000], drawn[20_000:]
    assert not (first == 1).any() and (second == 1).all()
    assert abs((first == 2).mean() - 0.75) < 0.02


def test_fast_csv_lines_refuse_values_that_need_quoting():
    lines = "".join(format_lines(["a", ("%d", [1, 2]), ("P%09d", [5, 6])], 2))
    assert lines == "a,1,P000000005\na,2,P000000006\n"
    with pytest.raises(ValueError, match="quoting"):
        list(format_lines(["a,b", ("%d", [1])], 1))


def _references(folder: Path, column: str) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as fh:
            found += [row[column] for row in csv.DictReader(fh)]
    return found


def test_a_next_day_continues_the_numbering_of_what_is_in_landing(tmp_path):
    """`vawg sample --start D --end D` after the demo: new references, never re-sent ones."""
    landing = tmp_path / "landing"
    generate(landing, start=date(2024, 1, 1), end=date(2024, 3, 31), rows=3000, seed=7)
    folders = {
        "crime_reference": landing / "force/crimes",
        "case_reference": landing / "force/marac",
        "order_reference": landing / "force/orders",
    }
    before = {column: set(_references(f, column)) for column, f in folders.items()}
    assert all(before.values())
    first_day = (landing / "force/crimes/crimes_2024-01-01.csv").read_bytes()

    generate(landing, start=date(2024, 4, 1), end=date(2024, 4, 30), rows=1000, seed=7)
    new_crimes = _references(landing / "force/crimes", "crime_reference")
    assert len(new_crimes) == len(set(new_crimes))  # no crime reference sent twice
    added = set(new_crimes) - before["crime_reference"]
    assert len(added) == len(new_crimes) - len(before["crime_reference"]) > 0
    last_before = max(r for r in before["crime_reference"] if r.startswith("LC-2024-"))
    assert min(added) > last_before
    for column in ("case_reference", "order_reference"):
        after = _references(folders[column], column)
        # a case's rows share its reference; a new month's cases are new references
        new_cases = {r for r in after} - before[column]
        assert new_cases and min(new_cases) > max(before[column])

    # Writing a range again (the demo twice) still writes the same bytes.
    generate(landing, start=date(2024, 1, 1), end=date(2024, 3, 31), rows=3000, seed=7)
    assert (landing / "force/crimes/crimes_2024-01-01.csv").read_bytes() == first_day
