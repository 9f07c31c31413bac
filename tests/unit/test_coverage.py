"""Data as of: quarter-dated files dated to their quarter's end, each family complete only as
far as its least recent dataset (the dates the marts give their figures), and staleness judged
on what the data cover, on the scorecard and in ``vawg status``
(vawg_warehouse.outputs.coverage)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import psycopg
import pytest

from vawg_warehouse import status
from vawg_warehouse.outputs import coverage, scorecard


def test_staleness_is_judged_on_the_day_the_data_reach(monkeypatch) -> None:
    today = date(2026, 12, 6)
    assert not coverage.judge("force", date(2026, 11, 30), today, 45).is_stale
    late = coverage.judge("force", date(2025, 9, 30), today, 45)
    assert late.is_stale and late.days_behind == 432 and "OUT OF DATE" in late.describe()
    assert coverage.judge("cps", None, today, 45).is_stale  # not dated: not known to be fresh
    monkeypatch.delenv(coverage.STALE_AFTER_DAYS_ENV, raising=False)
    assert coverage.stale_after_days() == 45
    monkeypatch.setenv(coverage.STALE_AFTER_DAYS_ENV, "90")
    assert coverage.stale_after_days() == 90
    monkeypatch.setenv(coverage.STALE_AFTER_DAYS_ENV, "soon")
    with pytest.raises(ValueError, match="whole number of days"):
        coverage.stale_after_days()


@pytest.mark.xdist_group("sample_warehouse")
def test_each_familys_coverage_is_the_date_its_marts_give_their_figures(
    on_sample_warehouse,
) -> None:
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        as_of = dict(conn.execute('select "Source family", "Data complete to" from bi.data_as_of'))
        marts = dict(
            conn.execute(
                """
                select 'cps', max(data_as_of_date) from marts.mart_cps_outcomes_quarterly
                union all
                select 'services', max(data_as_of_date) from marts.mart_victim_services_quarterly
                union all
                select 'funding', max(data_as_of_date) from marts.mart_funding_secured_yearly
                union all
                select 'force', min(data_as_of_date) from (
                    select max(data_as_of_date) as data_as_of_date
                    from marts.mart_marac_repeat_monthly
                    union all select max(data_as_of_date) from marts.mart_reporting_monthly
                    union all
                    select max(data_as_of_date) from marts.mart_victims_code_compliance_monthly
                    union all select max(data_as_of_date) from marts.mart_protective_orders_monthly
                    union all
                    select max(data_as_of_date) from marts.mart_positive_outcomes_closed_monthly
                ) as force_marts
                """
            )
        )
        published_files = conn.execute(
            "select dataset_name, file_name from staging.stg_audit__load_batches "
            "where batch_status = 'published'"
        ).fetchall()
        newest_cps = conn.execute(
            "select max(file_name) from staging.stg_audit__load_batches "
            "where dataset_name = 'cps_quarterly_outcomes' and batch_status = 'published'"
        ).fetchone()[0]
    published = {dataset for dataset, _ in published_files}
    policeuk_months = [
        date(int(m[1]), int(m[2]), 1)
        for d, name in published_files
        if d.startswith("public_policeuk")
        and (m := re.search(r"(\d{4})-(\d{2})-[a-z-]+\.csv$", name))
    ]
    home_office_quarters = [
        (int(m[1]), int(m[2]))
        for d, name in published_files
        if d == "public_home_office_recorded_crime" and (m := re.search(r"(\d{4})q([1-4])", name))
    ]
    # the sample's newest CPS file is cps_2024Q4.csv: financial year 2024/25, quarter 4
    assert newest_cps.endswith("cps_2024Q4.csv")
    assert as_of["cps"] == date(2025, 3, 31)
    for family in ("cps", "services", "funding", "force"):
        assert as_of[family] is not None, family
        assert as_of[family] == marts[family], family
    # public: the older of police.uk's newest month and the Home Office's newest financial
    # quarter (population estimates, a reference year's denominators, never date it: the dbt
    # unit test of bi_data_as_of)
    assert {"public_policeuk_street_crimes", "public_home_office_recorded_crime"} <= published
    month = max(policeuk_months)
    month_end = date(month.year + month.month // 12, month.month % 12 + 1, 1) - timedelta(days=1)
    year, quarter = max(home_office_quarters)
    after = 4 + 3 * quarter  # the month after financial quarter n (April-June is n = 1)
    quarter_end = date(year + (after - 1) // 12, (after - 1) % 12 + 1, 1) - timedelta(days=1)
    assert as_of["public"] == min(month_end, quarter_end)


@pytest.mark.xdist_group("sample_warehouse")
def test_the_scorecard_and_vawg_status_warn_when_the_data_are_out_of_date(
    on_sample_warehouse, tmp_path, monkeypatch
) -> None:
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        monkeypatch.setenv(coverage.STALE_AFTER_DAYS_ENV, "45")
        scorecard.build(conn, tmp_path / "old", pdf=False)
        lines = status.format_status(status.collect(conn))
        monkeypatch.setenv(coverage.STALE_AFTER_DAYS_ENV, "100000")
        scorecard.build(conn, tmp_path / "fresh", pdf=False)
    # the sample's data end in 2025: more than 45 days before any day this test runs
    stale = (tmp_path / "old" / "index.html").read_text()
    assert 'id="stale-warning"' in stale and 'data-stale="true"' in stale
    assert 'data-family="cps" data-complete-to="2025-03-31"' in stale  # not "not dated"
    fresh = (tmp_path / "fresh" / "index.html").read_text()
    assert 'id="stale-warning"' not in fresh and 'data-stale="true"' not in fresh
    text = "\n".join(lines)
    assert "data coverage (out of date after 45 days):" in text
    assert "cps: data to 2025-03-31" in text and "OUT OF DATE" in text
