"""The measures scorecard, read back in headless Chromium: every measure's latest figure on the
page equals the warehouse's, incomplete periods and suppressed cells show as such, and the page
is self-contained (vawg_warehouse.outputs.scorecard, vawg_warehouse.outputs.browser).

Chromium is a Debian package (apt-get install chromium chromium-driver): without it the browser
test is skipped, saying so; it installs nothing itself.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from html.parser import HTMLParser

import psycopg
import pytest
from psycopg import sql

from vawg_warehouse import orchestration
from vawg_warehouse.outputs import browser
from vawg_warehouse.outputs.scorecard import data
from vawg_warehouse.outputs.scorecard.config import load_config

pytestmark = pytest.mark.xdist_group("sample_warehouse")
needs_chromium = pytest.mark.skipif(
    browser.find_chromium() is None,
    reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver); "
    "this test does not install it",
)


class _Dom(HTMLParser):
    """The elements the test reads: every tag's attributes and text, in document order."""

    def __init__(self):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("img", "br", "meta", "link", "input", "hr"):
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, text):
        for element in self._open:
            element["text"] += text

    def find(self, tag=None, **attrs) -> list[dict]:
        return [
            e
            for e in self.elements
            if (tag is None or e["tag"] == tag)
            and all(
                (v in e["attrs"].get(k.rstrip("_"), "").split())
                if k.endswith("_")
                else e["attrs"].get(k) == v
                for k, v in attrs.items()
            )
        ]


def _expected(conn, measure, family_as_of) -> tuple[date, float]:
    """The latest complete period and its force-wide figure, computed here from the mart alone:
    the newest period that ends on or before the data's as-of date."""
    columns = data.columns_of(conn, measure.mart)
    as_of_column = next((c for c in data.AS_OF_COLUMNS if c in columns), None)
    as_of = None
    if as_of_column:
        as_of = conn.execute(
            sql.SQL("select max({}) from {}").format(
                sql.Identifier(as_of_column), sql.Identifier(*measure.mart.split("."))
            )
        ).fetchone()[0]
    as_of = as_of or family_as_of
    where = sql.SQL(" and ").join(
        [sql.SQL("true")]
        + [
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in measure.filter.items()
        ]
    )
    if measure.grain == "financial_year":
        period = sql.SQL("make_date({}, 4, 1)").format(sql.Identifier(measure.period_column))
    else:
        period = sql.Identifier(measure.period_column)
    if measure.kind == "proportion":
        figure = sql.SQL("100.0 * sum({}) / nullif(sum({}), 0)").format(
            sql.Identifier(measure.numerator), sql.Identifier(measure.denominator)
        )
    else:
        figure = sql.SQL("sum({})").format(sql.Identifier(measure.value))
    rows = conn.execute(
        sql.SQL("select {p}, {f} from {t} where {w} group by 1 order by 1").format(
            p=period, f=figure, t=sql.Identifier(*measure.mart.split(".")), w=where
        )
    ).fetchall()

    def end(p: date) -> date:
        if measure.grain == "financial_year":
            return date(p.year + 1, 3, 31)
        return date(p.year, p.month, calendar.monthrange(p.year, p.month)[1])

    complete = [(p, v) for p, v in rows if end(p) <= as_of]
    return complete[-1][0], float(complete[-1][1])


@needs_chromium
def test_the_scorecard_in_chromium_shows_each_measures_latest_figure_from_the_warehouse(
    on_sample_warehouse, tmp_path
) -> None:
    result = orchestration.build_scorecard("test-run", out_dir=tmp_path / "card", png=True)
    page = tmp_path / "card" / "index.html"
    dom = _Dom()
    dom.feed(browser.dump_dom(page))
    cfg = load_config()

    shown = {e["attrs"]["data-measure"]: e for e in dom.find("b", class_="latest-value")}
    assert sorted(shown) == sorted(m.id for m in cfg.measures)
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        as_of = dict(conn.execute('select "Source family", "Data complete to" from bi.data_as_of'))
        for measure in cfg.measures:
            period, value = _expected(conn, measure, as_of[measure.family])
            element = shown[measure.id]
            assert element["attrs"]["data-period"] == period.isoformat(), measure.id
            assert element["attrs"]["data-suppressed"] == "false", measure.id
            assert float(element["attrs"]["data-value"]) == pytest.approx(value), measure.id
            text = element["text"].strip()
            if measure.kind == "proportion":
                assert text == f"{value:.1f}%", measure.id
            elif measure.kind == "money":
                assert text == f"£{value:,.0f}", measure.id
            else:
                assert text == f"{value:,.0f}", measure.id
            # a status with its reasons
            reasons = dom.find("ul", **{"data-reasons": measure.id})
            assert reasons and reasons[0]["text"].strip(), measure.id

    statuses = [e["attrs"]["data-status"] for e in dom.find("span", class_="badge")]
    assert len(statuses) == len(cfg.measures)
    assert set(statuses) <= {"on_track", "watch", "concern", "not_graded", "insufficient_data"}

    # The sample's data ends mid-month: that month is drawn and labelled incomplete, not judged.
    end = on_sample_warehouse.end
    incomplete = date(end.year, end.month, 1).strftime("%b %Y")
    labels = [e["attrs"]["data-incomplete"] for e in dom.find("span", class_="incomplete")]
    assert any(incomplete in label for label in labels), labels
    assert all(
        shown[m.id]["attrs"]["data-period"] < date(end.year, end.month, 1).isoformat()
        for m in cfg.measures
        if m.grain == "month"
    )

    # Suppressed cells of the publication tables show [c], where the publication has them.
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        marac = next(m for m in cfg.measures if m.id == "marac_repeat")
        period = shown["marac_repeat"]["attrs"]["data-period"]
        hidden = conn.execute(
            "select local_authority_name from publication.pub_mart_marac_repeat_monthly "
            "where month_start_date = %s and repeat_cases_is_suppressed order by 1",
            (period,),
        ).fetchall()
        published = conn.execute(
            "select local_authority_name, repeat_cases "
            "from publication.pub_mart_marac_repeat_monthly "
            "where month_start_date = %s and not repeat_cases_is_suppressed order by 1",
            (period,),
        ).fetchall()
    assert marac.local_authorities[1].column == "repeat_cases"
    table = next(
        e
        for e in dom.find("table", class_="local-authorities")
        if e["attrs"]["data-measure"] == "marac_repeat"
    )
    index = dom.elements.index(table)
    rows = []
    for e in dom.elements[index + 1 :]:
        if e["tag"] == "table":
            break
        if e["tag"] == "tr":
            rows.append(e["text"])
    for (name,) in hidden:
        assert any(name in r and "[c]" in r for r in rows), name
    for name, count in published:
        assert any(name in r and f"{count:,}" in r for r in rows), name
    assert hidden, "the sample has suppressed MARAC cells in the latest month"

    # Self-contained: no script, nothing fetched from elsewhere, charts inlined.
    html = page.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    images = dom.find("img")
    assert len(images) >= len(cfg.measures)
    assert all(i["attrs"]["src"].startswith("data:image/svg+xml;base64,") for i in images)
    # PDF and screenshot
    assert result["pdf"] and (tmp_path / "card" / "scorecard.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "card" / "scorecard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (page.stat().st_mode & 0o777) == 0o600  # owner-only, like the run reports


def test_a_measure_whose_table_lacks_a_column_shows_why_and_the_others_still_render(
    on_sample_warehouse, tmp_path
) -> None:
    """Columns are read defensively: a mart without a configured column costs that panel only."""
    import dataclasses

    from vawg_warehouse.outputs import scorecard

    cfg = load_config()
    broken = dataclasses.replace(cfg.measures[0], numerator=None, value="no_such_column")
    cfg = dataclasses.replace(cfg, measures=(broken, *cfg.measures[1:]))
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        result = scorecard.build(conn, tmp_path, pdf=False, config=cfg)
    html = (tmp_path / "index.html").read_text()
    assert "has no column no_such_column" in html
    assert result.panels[0].status_key == "insufficient_data"
    assert all(p.latest_value is not None for p in result.panels[1:])
