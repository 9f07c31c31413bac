"""Each scorecard headline beside ``bi.measure_headlines`` and the measure marts, for one warehouse.

    python -m vawg_devtools.headline_check [--page PATH]

Three readings of each measure's latest headline figure (force-wide, the latest complete period
with full history), side by side:

* the page: the figure the scorecard shows (``<b class="latest-value">``, its data attributes);
* the view: ``bi.measure_headlines``, read as the demo's BI login (schema ``bi`` only), as Power
  BI or Metabase would;
* the marts: the same figure summed here straight from the measure marts, by the definitions of
  docs/measures.md, not through the view.

A row whose three readings differ is marked, and the command exits 1. The tests check the same
on the sample warehouse (tests/unit/test_measure_headlines.py); this prints it for the demo's.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import psycopg

from vawg_devtools.demo_bi import ensure_login
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.warehouse import connection_info

# (measure, headline series) -> (numerator, denominator or None) summed from the marts for a
# period (%(period)s), by the definitions of docs/measures.md.
FROM_MARTS = {
    ("reporting", "domestic_abuse"): """
        select sum(crime_count), null from marts.mart_reporting_monthly
        where reporting_category = 'domestic_abuse' and month_start_date = %(period)s""",
    ("positive_outcomes", "domestic_abuse"): """
        select sum(case headline_rate when 'positive' then positive_count
                   else charge_summons_count end),
               sum(assigned_outcome_count)
        from marts.mart_positive_outcomes_closed_monthly
        where reporting_category = 'domestic_abuse' and month_start_date = %(period)s""",
    ("marac_repeat", "all_cases"): """
        select sum(repeat_cases), sum(cases_heard) from marts.mart_marac_repeat_monthly
        where month_start_date = %(period)s""",
    ("victims_code", "all_rights"): """
        select sum(met_count), sum(applicable_count)
        from marts.mart_victims_code_compliance_monthly
        where right_number = 0 and month_start_date = %(period)s""",
    ("protective_orders", "police_orders"): """
        select sum(orders_granted), null from marts.mart_protective_orders_monthly
        where order_category <> 'order' and month_start_date = %(period)s""",
    ("funding", "additional_government"): """
        select sum(additional_amount_awarded), null from marts.mart_funding_secured_yearly
        where is_government_funding
            and make_date(financial_year_start_year, 4, 1) = %(period)s""",
}

VIEW = """
    select distinct on (measure_id)
        measure_id, series_id, period_start_date, value, numerator, denominator, is_suppressed
    from bi.measure_headlines
    where area_level = 'force' and is_headline and is_complete_period and has_full_history
    order by measure_id, period_start_date desc"""


class _Headlines(HTMLParser):
    """The data attributes of each ``<b class="latest-value">`` of the page, by measure."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "b" and "latest-value" in values.get("class", "").split():
            self.found[values["data-measure"]] = values


def page_headlines(page: Path) -> dict[str, dict[str, str]]:
    parser = _Headlines()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def _rate(numerator, denominator) -> Decimal | None:
    if numerator is None:
        return None
    if denominator is None:
        return Decimal(numerator)
    if not denominator:
        return None
    return round(Decimal(100) * Decimal(numerator) / Decimal(denominator), 1)


def _text(value) -> str:
    return "-" if value is None else f"{value}"


def compare(page: Path, settings: Settings | None = None) -> list[dict]:
    """The three readings of each headline, for the warehouse of ``settings`` (default: the
    environment's; a national run's force: ``national.force_settings``)."""
    settings = settings or get_settings()
    with psycopg.connect(ensure_login(settings).url) as bi:
        view = bi.execute(VIEW).fetchall()
    shown = page_headlines(page)
    rows = []
    with psycopg.connect(connection_info(settings).url) as conn:
        for measure, series, period, value, numerator, denominator, suppressed in view:
            sql = FROM_MARTS[(measure, series)]
            mart_num, mart_den = conn.execute(sql, {"period": period}).fetchone()
            on_page = shown.get(measure, {})
            page_value = on_page.get("data-value") or None
            rows.append(
                {
                    "measure": measure,
                    "period": period,
                    "page": "[c]" if on_page.get("data-suppressed") == "true" else page_value,
                    "page_period": on_page.get("data-period"),
                    "view": "[c]" if suppressed else value,
                    "view_counts": (numerator, denominator),
                    "marts": _rate(mart_num, mart_den),
                    "mart_counts": (mart_num, mart_den),
                    "suppressed": suppressed,
                }
            )
    return rows


def _agrees(row: dict) -> bool:
    if row["page_period"] != row["period"].isoformat():
        return False
    if row["suppressed"]:
        return row["page"] == "[c]"
    page, view, marts = (row[k] for k in ("page", "view", "marts"))
    same_counts = tuple(row["view_counts"]) == tuple(row["mart_counts"])
    if view is None or marts is None:  # no figure (e.g. no right due yet): none anywhere
        return view is None and marts is None and page is None and same_counts
    return page is not None and Decimal(page) == Decimal(view) == marts and same_counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_page = get_settings().reports_dir / "scorecard" / "index.html"
    parser.add_argument("--page", type=Path, default=default_page)
    args = parser.parse_args(argv)
    rows = compare(args.page)
    print(
        "| measure | period | scorecard | bi.measure_headlines (BI login) | marts | counts "
        "(view / marts) | agree |"
    )
    print("|---|---|---|---|---|---|---|")
    disagree = 0
    for row in rows:
        ok = _agrees(row)
        disagree += not ok
        period: date = row["period"]
        print(
            f"| {row['measure']} | {period.isoformat()} | {_text(row['page'])} | "
            f"{_text(row['view'])} | {_text(row['marts'])} | "
            f"{'/'.join(_text(v) for v in row['view_counts'])} vs "
            f"{'/'.join(_text(v) for v in row['mart_counts'])} | {'yes' if ok else 'NO'} |"
        )
    print(f"{len(rows)} headline(s), {disagree} disagreeing")
    return 1 if disagree or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
