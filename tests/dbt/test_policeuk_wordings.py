"""data.police.uk files in the wordings and layouts police.uk has used over the years load whole.

The fixtures (tests/fixtures/policeuk/, README there) are archive files as police.uk writes them:
outcome wordings from before the May 2014 relabelling ("No further action", "Offender
imprisoned" ...), the archive files' own "Offender given penalty notice" beside the API's "Offender
given a penalty notice", "No Location" and "No location", blank and given Context, 2011 and 2021
LSOAs, CRLF and LF, and one wording no seed knows. They go through the orchestration functions
the DAG calls (register, load, validate, publish), then dbt builds mart_public_crime_monthly.

What must hold: no file is set aside (quarantined) for a category; the unknown wording is a
warning naming the file and the rule, and its crimes sit in the outcome group 'other'.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import psycopg
import pytest

from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform

# a dbt build of the public models: the full suite, not the fast tier (README)
pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "policeuk"
# Not a police.uk wording: a stand-in for a new one.
UNKNOWN = "Offender given a conditional caution"


def _build(*selection: str) -> None:
    success, nodes, _, exception = transform.invoke(
        "build", get_settings(), ["--indirect-selection", "cautious", "--select", *selection]
    )
    failed = [n.node.unique_id for n in nodes if str(n.status) in transform.FAILED_STATUSES]
    assert success and exception is None and not failed, (exception, failed)


@pytest.fixture
def loaded(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES, landing / "policeuk", ignore=shutil.ignore_patterns("*.md"))
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    ctx = o.run_context("test", "policeuk-wordings", date(2024, 12, 5))
    ids = o.register_family("public", ctx)
    passed = o.validate_batches(o.load_batches(ids, ctx), ctx)
    o.publish_batches(passed, ctx)
    return migrated, ids, passed


def test_every_fixture_file_is_published_and_the_unknown_wording_is_a_warning(loaded) -> None:
    database, ids, passed = loaded
    assert len(ids) == 6 and sorted(passed) == sorted(ids)
    with psycopg.connect(database.url) as conn:
        statuses = conn.execute(
            "select file_name, status from audit.load_batch order by file_name"
        ).fetchall()
        warned = conn.execute(
            "select b.file_name, r.rule, r.severity, r.unexpected_count "
            "from audit.validation_result r "
            "join audit.validation_run v on v.validation_run_id = r.validation_run_id "
            "join audit.load_batch b on b.batch_id = v.batch_id "
            "where not r.success and r.rule like '%police.uk outcome' order by b.file_name"
        ).fetchall()
    assert {status for _, status in statuses} == {"published"}, statuses
    assert warned == [
        (
            "policeuk/2024-11/2024-11-lancashire-outcomes.csv",
            "outcome_type is a police.uk outcome",
            "warning",
            1,
        ),
        (
            "policeuk/2024-11/2024-11-lancashire-street.csv",
            "last_outcome_category, when given, is a police.uk outcome",
            "warning",
            1,
        ),
    ]


def test_the_mart_groups_every_wording_and_puts_an_unknown_one_in_other(loaded) -> None:
    database, _, _ = loaded
    _build("+mart_public_crime_monthly")
    with psycopg.connect(database.url) as conn:
        rows = conn.execute(
            "select month_start_date, local_authority_code, crime_type, outcome_category, "
            "outcome_group, crime_count from marts.mart_public_crime_monthly"
        ).fetchall()
    groups = {(str(m)[:7], category): group for m, _, _, category, group, _ in rows}
    assert groups[("2014-01", "No further action")] == "no_suspect_identified"
    assert groups[("2014-01", "Offender imprisoned")] == "charged_or_court"
    assert groups[("2014-01", "Offender sentenced as part of another case")] == "charged_or_court"
    assert groups[("2019-03", "Offender given penalty notice")] == "out_of_court"
    assert groups[("2024-11", UNKNOWN)] == "other"
    # Every street row is counted, as police.uk counts them (a repeated Crime ID twice).
    assert sum(r[5] for r in rows) == 4 + 4 + 5
    by_place = {}
    for month, authority, *_, count in rows:
        key = (str(month)[:7], authority)
        by_place[key] = by_place.get(key, 0) + count
    # "No Location" / "No location" and Wigan (outside the force area): the unknown authority.
    assert by_place[("2019-03", "-1")] == 3 and by_place[("2014-01", "-1")] == 1
    # 2021 LSOAs map by the name's authority like 2011 ones.
    assert by_place[("2024-11", "E07000123")] == 3 and by_place[("2024-11", "E07000121")] == 1
