"""The BI model a Power BI or Metabase developer can use without hand work: every "Right number"
and "Category code" a view carries is in its dimension, and the date table runs in whole
financial years with a financial month number and no column that clashes with the views'
"Month" (read as the BI login, on the sample warehouse)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

pytestmark = pytest.mark.xdist_group("sample_warehouse")


def _views_with(conn, column: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'bi' and column_name = %s order by 1",
            (column,),
        )
    ]


def test_every_view_relates_to_its_dimensions_and_the_date_table(
    on_sample_warehouse, make_login
) -> None:
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    with psycopg.connect(bi_login.url) as conn:
        rights = {r for (r,) in conn.execute('select "Right number" from bi.victims_code_rights')}
        used = {
            r
            for (r,) in conn.execute(
                'select distinct "Right number" from bi.victims_code_compliance_monthly'
            )
        }
        assert 0 in used and used <= rights  # right 0 (all rights) is in the dimension

        categories = {c for (c,) in conn.execute('select "Category code" from bi.categories')}
        views = [v for v in _views_with(conn, "Category code") if v != "categories"]
        assert {"reporting_monthly", "peer_comparison_yearly"} <= set(views)
        for view in views:
            codes = {c for (c,) in conn.execute(f'select distinct "Category code" from bi.{view}')}
            assert codes <= categories, (view, codes - categories)
        series = {
            s
            for (s,) in conn.execute(
                "select distinct series_id from bi.measure_headlines "
                "where measure_id in ('reporting', 'positive_outcomes')"
            )
        }
        assert series <= categories
        assert "stalking_and_harassment" in categories

        first, last = conn.execute('select min("Date"), max("Date") from bi.date').fetchone()
        assert (first.month, first.day, last.month, last.day) == (4, 1, 3, 31)
        assert last == date(last.year, 3, 31) and first == date(first.year, 4, 1)
        months = dict(
            conn.execute(
                'select distinct "Month name", "Financial month number" from bi.date'
            ).fetchall()
        )
        assert months["April"] == 1 and months["March"] == 12
        assert "Month" not in {
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'bi' and table_name = 'date'"
            )
        }
        days = {d for (d,) in conn.execute('select "Date" from bi.date')}
        for view in [v for v in _views_with(conn, "Month") if v != "date"]:
            months_used = {m for (m,) in conn.execute(f'select distinct "Month" from bi.{view}')}
            assert months_used <= days, view


def test_long_views_are_split_into_figures_and_their_suppression_flags(
    on_sample_warehouse, make_login
) -> None:
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    with psycopg.connect(bi_login.url) as conn:
        columns: dict[str, list[str]] = {}
        for table, column in conn.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'bi' order by table_name, ordinal_position"
        ):
            columns.setdefault(table, []).append(column)
        keys = ["Month", "Local authority code", "Category code"]
        for view in ("positive_outcomes_monthly", "positive_outcomes_closed_monthly"):
            figures, flags = columns[view], columns[f"{view}_suppressed"]
            assert not [c for c in figures if c.endswith(" suppressed")], view
            assert flags[:3] == keys and all(c.endswith(" suppressed") for c in flags[3:])
            assert len(flags) > 15, view
            # one flag row per figure row, by the keys
            joined = conn.execute(
                f'select count(*), count(f."Month") from bi.{view} as v '
                f'left join bi.{view}_suppressed as f using ("Month", '
                f'"Local authority code", "Category code")'
            ).fetchone()
            assert joined[0] == joined[1] > 0, view
        assert max(len(c) for c in columns.values()) <= 35
