"""Corrections that remove, through the loader and dbt on a real database (README, "Corrections").

A day's crimes file is sent, built into the facts and marts, then sent again: one crime left out
(removed), one recoded (8N to 8Q), one cancelled by its status (no crime under the Home Office
Counting Rules). After the incremental build the removed and cancelled crimes have left
fct_recorded_crime and the marts (their outcomes with them), the recode has moved, the first
batch says it was superseded and by which batch, and the run's summary and report say what the
correction withdrew.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform
from vawg_warehouse.outputs import reports

# Several incremental dbt builds (about 3 minutes): in the full suite, not the fast tier.
pytestmark = pytest.mark.slow

CRIMES = "force/crimes/crimes_2025-01-01.csv"
CRIME_HEADER = (
    "crime_reference,recorded_date,offence_date,ho_offence_code,domestic_abuse_flag,"
    "local_authority_code,victim_id,victim_age_band,victim_sex,suspect_id,extracted_at"
)
EXTRACTED = "2025-01-02T01:15:00Z"
STALKING, RAPE, DA_ASSAULT, HARASSMENT = (
    "LC-2025-0000001",
    "LC-2025-0000002",
    "LC-2025-0000003",
    "LC-2025-0000004",
)
MARTS = (
    "+mart_reporting_monthly",
    "+mart_positive_outcomes_monthly",
    "+mart_positive_outcomes_closed_monthly",
)


def crime(reference: str, code: str, da: str, victim: str) -> str:
    return (
        f"{reference},2025-01-01,2024-12-31,{code},{da},E07000123,{victim},25-34,F,"
        f"S{victim[1:]},{EXTRACTED}"
    )


def write(landing: Path, name: str, text: str) -> None:
    path = landing / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def night(run_id: str, day: date) -> list[int]:
    ctx = o.run_context("vawg_nightly", run_id, day)
    ids = o.register_family("force", ctx)
    o.publish_batches(o.validate_batches(o.load_batches(ids, ctx), ctx), ctx)
    return ids


def build(data_tests: bool = False, select: tuple[str, ...] = MARTS) -> None:
    """Build the marts (or ``select``) and what they need (incrementally after the first time);
    their data tests only when asked (the last build), unit tests never
    (tests/dbt/test_unit_tests.py)."""
    skip = ["unit_test"] if data_tests else ["unit_test", "test"]
    success, nodes, _, exception = transform.invoke(
        "build",
        get_settings(),
        ["--indirect-selection", "cautious", "--select", *select, "--exclude-resource-type", *skip],
    )
    failed = [n.node.unique_id for n in nodes if str(n.status) in transform.FAILED_STATUSES]
    assert success and exception is None and not failed, (exception, failed)


def facts(db) -> dict[str, str]:
    with psycopg.connect(db.url) as conn:
        return dict(conn.execute("select crime_id, offence_code from marts.fct_recorded_crime"))


def reporting(db) -> dict[str, int]:
    with psycopg.connect(db.url) as conn:
        rows = conn.execute(
            "select reporting_category, sum(crime_count)::int from marts.mart_reporting_monthly "
            "where month_start_date = '2025-01-01' group by 1"
        ).fetchall()
    return {category: n for category, n in rows if n}


def charged(db) -> dict[str, int]:
    """Positive outcomes of January's cohort, and outcomes assigned in January (closed)."""
    with psycopg.connect(db.url) as conn:
        cohort = conn.execute(
            "select reporting_category, sum(positive_count)::int "
            "from marts.mart_positive_outcomes_monthly where month_start_date = '2025-01-01' "
            "group by 1"
        ).fetchall()
        closed = conn.execute(
            "select sum(positive_count)::int from marts.mart_positive_outcomes_closed_monthly "
            "where month_start_date = '2025-01-01' and reporting_category = 'rape'"
        ).fetchone()[0]
    return {**{c: n for c, n in cohort if n}, "closed rape": closed or 0}


@pytest.fixture
def landing(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_REPORTS_DIR", str(tmp_path / "reports"))
    return landing


def test_a_resent_day_removes_recodes_and_cancels_through_facts_and_marts(migrated, landing):
    write(
        landing,
        CRIMES,
        "\n".join(
            [
                CRIME_HEADER,
                crime(STALKING, "8Q", "N", "P000000001"),
                crime(RAPE, "19C", "N", "P000000002"),
                crime(DA_ASSAULT, "8N", "Y", "P000000003"),
                crime(HARASSMENT, "8L", "N", "P000000004"),
            ]
        )
        + "\n",
    )
    write(
        landing,
        "force/outcomes/outcomes_2025-01-01.csv",
        "crime_reference,outcome_sequence,outcome_code,outcome_date,extracted_at\n"
        f"{RAPE},1,1,2025-01-01,{EXTRACTED}\n",
    )
    (first,) = [b for b in night("run-1", date(2025, 1, 2))][:1]
    build()
    assert facts(migrated) == {
        STALKING: "8Q",
        RAPE: "19C",
        DA_ASSAULT: "8N",
        HARASSMENT: "8L",
    }
    before = reporting(migrated)
    assert before["rape"] == 1 and before["domestic_abuse"] == 1
    assert before["stalking"] == 1 and before["harassment"] == 1
    assert charged(migrated)["rape"] == 1 and charged(migrated)["closed rape"] == 1

    # The day sent again: the rape left out, the DA assault recoded as stalking, the harassment
    # cancelled (no crime), with the record_status column this time.
    write(
        landing,
        CRIMES,
        "\n".join(
            [
                CRIME_HEADER + ",record_status",
                crime(STALKING, "8Q", "N", "P000000001") + ",active",
                crime(DA_ASSAULT, "8Q", "Y", "P000000003") + ",",
                crime(HARASSMENT, "8L", "N", "P000000004") + ",cancelled_no_crime",
            ]
        )
        + "\n",
    )
    (second,) = night("run-2", date(2025, 1, 3))
    build()  # incremental: fct_recorded_crime is not rebuilt from scratch

    assert facts(migrated) == {STALKING: "8Q", DA_ASSAULT: "8Q"}
    after = reporting(migrated)
    assert "rape" not in after and "harassment" not in after
    assert after["stalking"] == 2 and after["domestic_abuse"] == 1
    assert "rape" not in charged(migrated) and charged(migrated)["closed rape"] == 0

    with psycopg.connect(migrated.url) as conn:
        superseded = conn.execute(
            "select status, superseded_by_batch_id from audit.load_batch where batch_id = %s",
            (first,),
        ).fetchone()
        events = conn.execute(
            "select batch_id, status, detail from audit.load_batch_event "
            "where status in ('superseded', 'withdrew') order by event_id"
        ).fetchall()
        withdrawn = conn.execute(
            "select crime_id, withdrawal_reason, withdrawn_by_batch_id "
            "from intermediate.int_crimes_withdrawn order by crime_id"
        ).fetchall()
        page = reports.render_run(reports.gather(conn, "run-2"))
    assert superseded == ("superseded", second)
    assert [(b, s) for b, s, _ in events] == [(first, "superseded"), (second, "withdrew")]
    assert events[0][2]["by_batch_id"] == second
    detail = events[1][2]
    assert (detail["withdrawn_absent"], detail["withdrawn_cancelled"]) == (1, 1)
    assert detail["superseded_batch_ids"] == [first]
    assert withdrawn == [
        (RAPE, "left out of a restated file", second),
        (HARASSMENT, "cancelled", second),
    ]
    line = (
        "1 crime(s) withdrawn (left out of the re-sent file); 1 cancelled by status; "
        f"supersedes batch {first}"
    )
    summary = o.format_summary(o.run_summary("run-2"))
    assert f"  CORRECTION batch {second} {CRIMES}: {line}" in summary
    assert line in page

    # Sent a third time with the rape back: it is reinstated.
    write(
        landing,
        CRIMES,
        "\n".join(
            [
                CRIME_HEADER,
                crime(STALKING, "8Q", "N", "P000000001"),
                crime(RAPE, "19C", "N", "P000000002"),
                crime(DA_ASSAULT, "8Q", "Y", "P000000003"),
            ]
        )
        + "\n",
    )
    night("run-3", date(2025, 1, 4))
    build(data_tests=True)
    assert facts(migrated) == {STALKING: "8Q", RAPE: "19C", DA_ASSAULT: "8Q"}
    assert charged(migrated)["rape"] == 1


VC_HEADER = (
    "record_id,crime_reference,victim_id,right_number,status,date_due,date_completed,"
    "recorded_by_unit,extracted_at"
)


def vc_record(crime_reference: str, right: int, victim: str, extracted: str) -> str:
    number = crime_reference.removeprefix("LC-")
    due = "2025-02-01"
    return f"VC-{number}-{right:02d},{crime_reference},{victim},{right},,{due},,CID,{extracted}"


def victims_code_rows(db) -> dict[str, str]:
    """fct_victims_code_right: record -> the local authority it is counted in."""
    with psycopg.connect(db.url) as conn:
        return dict(
            conn.execute("select record_id, local_authority_code from marts.fct_victims_code_right")
        )


def test_a_victims_code_record_follows_its_crime_and_a_quiet_night_changes_nothing(
    migrated, landing
):
    """fct_victims_code_right is incremental, and takes in a night both the records that came in
    it and the records of crimes restated in it (their local authority is the crime's). Two
    selects of the incremental branch, each checked: a new record for one crime, and another
    crime moved to Burnley by a later file that does not list its record again."""
    preston, burnley = "E07000123", "E07000117"
    write(
        landing,
        CRIMES,
        "\n".join(
            [
                CRIME_HEADER,
                crime(STALKING, "8Q", "N", "P000000001"),
                crime(DA_ASSAULT, "8N", "Y", "P000000003"),
            ]
        )
        + "\n",
    )
    write(
        landing,
        "force/victims_code/victims_code_2025-01-01.csv",
        "\n".join(
            [
                VC_HEADER,
                vc_record(STALKING, 1, "P000000001", EXTRACTED),
                vc_record(DA_ASSAULT, 1, "P000000003", EXTRACTED),
            ]
        )
        + "\n",
    )
    night("run-1", date(2025, 1, 2))
    build(select=("+fct_victims_code_right",))
    first, second = f"VC-{STALKING[3:]}-01", f"VC-{DA_ASSAULT[3:]}-01"
    assert victims_code_rows(migrated) == {first: preston, second: preston}

    # The next day: the DA assault restated in Burnley (its record not sent again), a second
    # right recorded for the stalking victim.
    extracted = "2025-01-03T01:15:00Z"
    moved = crime(DA_ASSAULT, "8N", "Y", "P000000003").replace(preston, burnley)
    write(
        landing,
        "force/crimes/crimes_2025-01-02.csv",
        CRIME_HEADER + "\n" + moved.replace(EXTRACTED, extracted) + "\n",
    )
    write(
        landing,
        "force/victims_code/victims_code_2025-01-02.csv",
        VC_HEADER + "\n" + vc_record(STALKING, 2, "P000000001", extracted) + "\n",
    )
    night("run-2", date(2025, 1, 3))
    build(select=("+fct_victims_code_right",))
    third = f"VC-{STALKING[3:]}-02"
    expected = {first: preston, second: burnley, third: preston}
    assert victims_code_rows(migrated) == expected

    # A night with no new file: the incremental build selects nothing and changes nothing.
    with psycopg.connect(migrated.url) as conn:
        before = conn.execute(
            "select record_id, xmin::text from marts.fct_victims_code_right order by 1"
        ).fetchall()
    build(select=("+fct_victims_code_right",))
    with psycopg.connect(migrated.url) as conn:
        after = conn.execute(
            "select record_id, xmin::text from marts.fct_victims_code_right order by 1"
        ).fetchall()
    assert victims_code_rows(migrated) == expected
    assert after == before  # no row deleted and inserted again
