"""The measures scorecard, read back in headless Chromium: every measure's latest figure on the
page equals the warehouse's, incomplete periods and suppressed cells show as such, and the page
is self-contained (vawg_warehouse.outputs.scorecard, vawg_warehouse.outputs.browser).

Chromium is a Debian package (apt-get install chromium chromium-driver): without it the browser
test is skipped, saying so; it installs nothing itself.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import psycopg
import pytest

from vawg_warehouse import orchestration
from vawg_warehouse.outputs import browser
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


def headline_rows(url: str) -> dict[str, dict]:
    """The force-wide headline row of each measure's latest complete period with full history,
    from bi.measure_headlines as the login ``url`` reads it."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            select distinct on (measure_id)
                measure_id, period_start_date, value, numerator, denominator, is_suppressed,
                value_kind
            from bi.measure_headlines
            where area_level = 'force' and is_headline and is_complete_period
                and has_full_history
            order by measure_id, period_start_date desc
            """
        ).fetchall()
    names = ("period", "value", "numerator", "denominator", "suppressed", "kind")
    return {r[0]: dict(zip(names, r[1:], strict=True)) for r in rows}


def assert_headlines_shown(dom: _Dom, expected: dict[str, dict]) -> None:
    """Each measure's latest figure on the page is the view's, in value, period and words."""
    shown = {e["attrs"]["data-measure"]: e for e in dom.find("b", class_="latest-value")}
    assert sorted(shown) == sorted(expected)
    for measure_id, row in expected.items():
        element = shown[measure_id]
        assert element["attrs"]["data-period"] == row["period"].isoformat(), measure_id
        text = element["text"].strip()
        if row["suppressed"]:
            assert element["attrs"]["data-suppressed"] == "true", measure_id
            assert text == "[c]", measure_id
            continue
        assert element["attrs"]["data-suppressed"] == "false", measure_id
        value = float(row["value"])
        assert float(element["attrs"]["data-value"]) == pytest.approx(value), measure_id
        if row["denominator"] is not None:
            assert float(element["attrs"]["data-numerator"]) == float(row["numerator"])
            assert float(element["attrs"]["data-denominator"]) == float(row["denominator"])
        if row["kind"] == "proportion":
            assert text == f"{value:.1f}%", measure_id
        elif row["kind"] == "money":
            assert text == f"£{value:,.0f}", measure_id
        else:
            assert text == f"{value:,.0f}", measure_id


@needs_chromium
def test_the_scorecard_in_chromium_shows_each_measures_latest_figure_from_the_warehouse(
    on_sample_warehouse, tmp_path, make_login
) -> None:
    result = orchestration.build_scorecard("test-run", out_dir=tmp_path / "card", png=True)
    page = tmp_path / "card" / "index.html"
    dom = _Dom()
    dom.feed(browser.dump_dom(page))
    cfg = load_config()
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    assert_headlines_shown(dom, headline_rows(bi_login.url))
    for measure in cfg.measures:  # a status with its reasons
        reasons = dom.find("ul", **{"data-reasons": measure.id})
        assert reasons and reasons[0]["text"].strip(), measure.id

    # The page names the force of the warehouse's seed.
    assert dom.find("p", **{"data-force": "Lancashire"})

    statuses = [e["attrs"]["data-status"] for e in dom.find("span", class_="badge")]
    assert len(statuses) == len(cfg.measures)
    assert set(statuses) <= {"on_track", "watch", "concern", "not_graded", "insufficient_data"}

    # The sample's data ends mid-month: that month is drawn and labelled incomplete, not judged.
    end = on_sample_warehouse.end
    incomplete = date(end.year, end.month, 1).strftime("%b %Y")
    labels = [e["attrs"]["data-incomplete"] for e in dom.find("span", class_="incomplete")]
    assert any(incomplete in label for label in labels), labels

    # Suppressed cells of the publication tables show [c], where the publication has them.
    shown = {e["attrs"]["data-measure"]: e for e in dom.find("b", class_="latest-value")}
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
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
    # every attribute apart from the one before it (a value's closing quote, then a space)
    assert not re.search(r'"data-[a-z-]+="', html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    images = dom.find("img")
    assert len(images) >= len(cfg.measures)
    assert all(i["attrs"]["src"].startswith("data:image/svg+xml;base64,") for i in images)
    # PDF and screenshot
    assert result["pdf"] and (tmp_path / "card" / "scorecard.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "card" / "scorecard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (page.stat().st_mode & 0o777) == 0o600  # owner-only, like the run reports


def test_a_measure_without_rows_in_the_view_shows_why_and_the_others_still_render(
    on_sample_warehouse, tmp_path
) -> None:
    """A measure the view has no figures for costs that panel only."""
    import dataclasses

    from vawg_warehouse.outputs import scorecard

    cfg = load_config()
    broken = dataclasses.replace(cfg.measures[0], id="no_such_measure")
    cfg = dataclasses.replace(cfg, measures=(broken, *cfg.measures[1:]))
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        result = scorecard.build(conn, tmp_path, pdf=False, config=cfg)
    html = (tmp_path / "index.html").read_text()
    assert "has no headline rows for measure no_such_measure" in html
    assert result.panels[0].status_key == "insufficient_data"
    assert all(p.latest is not None for p in result.panels[1:])


def test_the_page_names_the_force_the_warehouse_is_for_never_a_fixed_one() -> None:
    """The force comes from the view's force-wide rows (seed local_authorities): a warehouse
    for another force gets a page that names that force and not Lancashire."""
    from datetime import UTC, datetime

    from vawg_warehouse.outputs import scorecard
    from vawg_warehouse.outputs.scorecard import data, stats

    cfg = load_config()
    panels = [
        scorecard.Panel(m, error="no figures", status=stats.Status("insufficient_data", ["-"]))
        for m in cfg.measures
    ]
    rule = data.SuppressionRule(5, False)
    html = scorecard.render(panels, cfg, {}, rule, datetime.now(UTC), None, force="Cumbria")
    assert "Lancashire" not in html and "{force}" not in html
    assert 'data-force="Cumbria"' in html
    assert "Police and Crime Plan 2024-2029, Cumbria." in html
    assert "exact totals for Cumbria" in html
