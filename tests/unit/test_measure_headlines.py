"""bi.measure_headlines: one set of figures for the scorecard, Metabase and Power BI.

Force-wide rows are the exact totals of the measure marts (so a BI user gets the figure the
Panel sees, not a sum that leaves suppressed cells out), local-authority rows the published
cells; the scorecard reads the view, and what it shows is what the BI login reads. The scorecard
says what the plan measures: additional Government funding for measure 6, every plan category
for measures 1 and 2, police orders apart from court orders for measure 5, no grade without an
agreed expectation, and plain words above the footnotes.
"""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest

from tests.unit.test_scorecard import _Dom, assert_headlines_shown, headline_rows
from vawg_warehouse.outputs import scorecard
from vawg_warehouse.outputs.scorecard.config import load_config

pytestmark = pytest.mark.xdist_group("sample_warehouse")


@pytest.fixture
def page(on_sample_warehouse, tmp_path) -> tuple[str, _Dom]:
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        scorecard.build(conn, tmp_path / "card", pdf=False)
    html = (tmp_path / "card" / "index.html").read_text()
    dom = _Dom()
    dom.feed(html)
    return html, dom


def _force(conn, measure_id: str, series_id: str) -> dict:
    rows = conn.execute(
        "select period_start_date, numerator, denominator, is_suppressed, value "
        "from bi.measure_headlines where area_level = 'force' and measure_id = %s "
        "and series_id = %s",
        (measure_id, series_id),
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_each_scorecard_headline_equals_bi_measure_headlines_read_as_the_bi_login(
    on_sample_warehouse, page, make_login
) -> None:
    _, dom = page
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    expected = headline_rows(bi_login.url)
    assert sorted(expected) == sorted(m.id for m in load_config().measures)
    assert_headlines_shown(dom, expected)
    with psycopg.connect(bi_login.url) as conn:  # the BI login reads bi only
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from marts.mart_marac_repeat_monthly")


def test_force_rows_are_the_marts_exact_totals_and_local_authority_rows_the_published_cells(
    on_sample_warehouse,
) -> None:
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        threshold = int(
            conn.execute(
                "select parameter_value from reference.publication_parameters "
                "where parameter = 'suppression_threshold'"
            ).fetchone()[0]
        )
        marac = _force(conn, "marac_repeat", "all_cases")
        exact = conn.execute(
            "select month_start_date, sum(repeat_cases), sum(cases_heard) "
            "from marts.mart_marac_repeat_monthly group by 1"
        ).fetchall()
        assert len(marac) == len(exact)
        for month, repeats, heard in exact:
            numerator, denominator, suppressed, value = marac[month]
            assert suppressed == (0 < repeats < threshold or 0 < heard < threshold), month
            if not suppressed:
                assert (numerator, denominator) == (repeats, heard), month
                assert float(value) == round(100.0 * repeats / heard, 1), month

        # BI used to add up the published cells only: the force figure is the exact one.
        published = dict(
            conn.execute(
                "select month_start_date, sum(repeat_cases) "
                "from publication.pub_mart_marac_repeat_monthly group by 1"
            ).fetchall()
        )
        differs = [m for m, row in marac.items() if m in published and row[0] != published[m]]
        assert differs, "the sample has months whose suppressed cells the old BI sum left out"

        # Local authorities: the publication table's cells as published, each count on its own
        # (a published count of repeats beside a suppressed count of cases heard stays shown),
        # and the rate only where both are published.
        cells = conn.execute(
            "select p.month_start_date, p.local_authority_code, p.repeat_cases, p.cases_heard, "
            "p.repeat_cases_is_suppressed, p.cases_heard_is_suppressed, h.numerator, "
            "h.denominator, h.numerator_is_suppressed, h.denominator_is_suppressed, "
            "h.is_suppressed, h.value from publication.pub_mart_marac_repeat_monthly as p "
            "join bi.measure_headlines as h on h.measure_id = 'marac_repeat' "
            "and h.area_code = p.local_authority_code "
            "and h.period_start_date = p.month_start_date"
        ).fetchall()
        assert cells
        for (
            month,
            code,
            repeats,
            heard,
            repeats_hidden,
            heard_hidden,
            shown,
            shown_heard,
            shown_hidden,
            shown_heard_hidden,
            rate_hidden,
            rate,
        ) in cells:
            key = (month, code)
            assert (shown_hidden, shown_heard_hidden) == (repeats_hidden, heard_hidden), key
            assert (shown is None) if repeats_hidden else (shown == repeats), key
            assert (shown_heard is None) if heard_hidden else (shown_heard == heard), key
            assert rate_hidden == (repeats_hidden or heard_hidden), key
            assert (rate is None) == (rate_hidden or not heard), key
        assert any(c[5] and not c[4] for c in cells), (
            "the sample has a published count of repeats beside a suppressed count of cases"
        )

        # Measure 5: police orders apart from court orders, both adding up to all orders.
        police = _force(conn, "protective_orders", "police_orders")
        court = _force(conn, "protective_orders", "court_orders")
        for month, granted, court_granted in conn.execute(
            "select month_start_date, sum(orders_granted) filter (where order_category <> "
            "'order'), sum(orders_granted) filter (where order_category = 'order') "
            "from marts.mart_protective_orders_monthly group by 1"
        ):
            if not police[month][2]:
                assert police[month][0] == granted, month
            if not court[month][2]:
                assert court[month][0] == court_granted, month

        # Measure 6: additional Government funding, all Government funding beside it.
        funding = _force(conn, "funding", "additional_government")
        total = _force(conn, "funding", "government_total")
        for year, additional, awarded in conn.execute(
            "select make_date(financial_year_start_year, 4, 1), "
            "sum(additional_amount_awarded), sum(amount_awarded) "
            "from marts.mart_funding_secured_yearly where is_government_funding group by 1"
        ):
            assert funding[year][0] == (additional or 0), year
            assert total[year][0] == awarded, year
            assert funding[year][0] < total[year][0], year


FORBIDDEN = ("XmR", "p = ", "special cause", "mart", "is_complete_period", "PLACEHOLDER")


def test_the_scorecard_tells_the_panel_what_the_plan_measures_in_plain_words(
    on_sample_warehouse, page
) -> None:
    html, dom = page
    body = html[: html.index('<section id="method"')]
    text = re.sub(r"<[^>]+>", " ", re.sub(r'(src|alt)="[^"]*"', "", body))
    for word in FORBIDDEN:
        assert word not in text, word
    footnotes = html[html.index('<section id="method"') :]
    assert "XmR" in footnotes and "Fisher" in footnotes  # the method, as a footnote

    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        graded = dict(
            conn.execute(
                "select measure_id, is_graded from reference.measure_headline_series "
                "where is_headline"
            ).fetchall()
        )
        no_history = {
            (m, p)
            for m, p in conn.execute(
                "select measure_id, period_start_date from bi.measure_headlines "
                "where area_level = 'force' and is_headline and not has_full_history"
            )
        }
        graded_rows = conn.execute(
            "select value, status from bi.measure_headlines where measure_id = 'marac_repeat' "
            "and area_level = 'force' and is_complete_period and not is_suppressed"
        ).fetchall()
        for value, status in graded_rows:
            inside = 28 <= float(value) <= 40
            assert status == ("meets" if inside else "misses") + " the expectation", value
        additional = conn.execute(
            "select sum(additional_amount_awarded) from marts.mart_funding_secured_yearly "
            "where is_government_funding and financial_year_start_year = 2024"
        ).fetchone()[0]

    # No status without an agreed expectation; measure 3 graded against its range.
    badges = {
        e["attrs"]["data-measure"]: e["attrs"]["data-status"]
        for e in dom.find("span", class_="badge")
    }
    assert not graded["funding"] and graded["marac_repeat"]
    for measure_id, status in badges.items():
        if graded[measure_id]:
            assert status in ("on_track", "watch", "concern", "insufficient_data"), measure_id
        else:
            assert status in ("not_graded", "insufficient_data"), measure_id
    marac_latest = dom.find("b", class_="latest-value", **{"data-measure": "marac_repeat"})[0]
    if marac_latest["attrs"]["data-suppressed"] == "false":
        assert badges["marac_repeat"] in ("on_track", "watch", "concern")
    assert graded_rows, "measure 3 is graded against its range in bi.measure_headlines"
    assert "Not graded: no target agreed" in html

    # Measure 6 is additional Government funding (2024/25, the latest complete year).
    shown = {e["attrs"]["data-measure"]: e for e in dom.find("b", class_="latest-value")}
    assert shown["funding"]["attrs"]["data-period"] == "2024-04-01"
    assert float(shown["funding"]["attrs"]["data-value"]) == float(additional)

    # Every plan category of measures 1 and 2; police orders apart from court orders.
    def categories(measure_id: str) -> list[str]:
        table = next(
            t
            for t in dom.find("table", class_="categories")
            if t["attrs"]["data-measure"] == measure_id
        )
        start = dom.elements.index(table)
        rows = []
        for e in dom.elements[start + 1 :]:
            if e["tag"] == "table":
                break
            if e["tag"] == "tr" and "data-series" in e["attrs"]:
                rows.append(e["attrs"]["data-series"])
        return rows

    assert categories("reporting") == ["domestic_abuse", "sexual_offences", "rape"]
    assert categories("positive_outcomes") == ["domestic_abuse", "rape", "stalking"]
    assert categories("protective_orders") == ["police_orders", "court_orders"]
    assert categories("funding") == ["additional_government", "government_total"]

    # The local authority table of measure 5 ends with the force row: the headline.
    total = next(
        e for e in dom.find("tr", class_="total") if e["attrs"]["data-total"] == "protective_orders"
    )
    assert shown["protective_orders"]["text"].strip() in total["text"]

    # A year earlier that lacks the history its figure needs is not compared.
    checked = []
    for measure_id, element in shown.items():
        period = element["attrs"]["data-period"]
        year, month, day = (int(x) for x in period.split("-"))
        if (measure_id, date(year - 1, month, day)) in no_history:
            panel = next(
                e
                for e in dom.find("section", class_="panel")
                if e["attrs"].get("data-measure") == measure_id
            )
            checked.append(measure_id)
            words = panel["text"]
            assert "not compared" in words or "latest figure is suppressed" in words, measure_id
    assert "positive_outcomes" in checked  # Aug 2025 against an Aug 2024 without history
    assert any(m == "marac_repeat" for m, _ in no_history)


def test_every_measure_rate_is_a_percentage(on_sample_warehouse) -> None:
    """Victims' Code compliance and order conversion are percentages (_pct) like every other
    rate of the measures, not fractions."""
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        compliance = conn.execute(
            "select count(*), count(*) filter (where compliance_rate_pct "
            "<> round(100.0 * met_count / applicable_count, 1)) "
            "from marts.mart_victims_code_compliance_monthly where applicable_count > 0"
        ).fetchone()
        conversion = conn.execute(
            "select count(*), count(*) filter (where conversion_rate_pct "
            "<> round(100.0 * notices_converted / notices_issued, 1)) "
            "from marts.mart_protective_orders_monthly where notices_issued > 0"
        ).fetchone()
        fractions = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('marts', 'publication') "
            "and column_name in ('compliance_rate', 'conversion_rate')"
        ).fetchall()
    assert compliance[0] > 0 and compliance[1] == 0
    assert conversion[0] > 0 and conversion[1] == 0
    assert not fractions
