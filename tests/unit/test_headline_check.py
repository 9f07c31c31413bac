"""`python -m vawg_devtools.headline_check`: each scorecard headline beside bi.measure_headlines
(read as the demo's BI login) and the figure summed straight from the marts.

On the sample warehouse the three readings agree for all six measures and the command exits 0;
a page that shows another figure, or another period, than the view is a disagreeing row and
exit 1, so the check the README gives for the demo can fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from vawg_devtools import headline_check
from vawg_warehouse.outputs import scorecard
from vawg_warehouse.outputs.scorecard.config import load_config

pytestmark = pytest.mark.xdist_group("sample_warehouse")

MEASURES = {m.id for m in load_config().measures}  # the plan's six, as the scorecard has them


@pytest.fixture
def page(on_sample_warehouse, tmp_path) -> Path:
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        scorecard.build(conn, tmp_path / "card", pdf=False)
    return tmp_path / "card" / "index.html"


def test_the_three_readings_agree_on_the_sample_warehouse(page, capsys) -> None:
    rows = headline_check.compare(page)
    assert {row["measure"] for row in rows} == MEASURES and len(MEASURES) == 6
    assert all(headline_check._agrees(row) for row in rows), rows
    shown = [row for row in rows if not row["suppressed"]]
    assert shown, "every headline suppressed: nothing compared"
    for row in shown:  # the marts' own sums, not the view read twice
        assert row["marts"] is not None and row["mart_counts"][0] is not None, row
    assert headline_check.main(["--page", str(page)]) == 0
    out = capsys.readouterr().out
    assert "6 headline(s), 0 disagreeing" in out
    assert out.count("| yes |") == 6


def test_a_page_showing_another_figure_or_period_disagrees(page, capsys) -> None:
    rows = {row["measure"]: row for row in headline_check.compare(page)}
    shown = next(m for m, row in sorted(rows.items()) if not row["suppressed"])
    html = page.read_text(encoding="utf-8")
    tag = re.search(rf'<b [^>]*data-measure="{shown}"[^>]*>', html)
    assert tag is not None and 'class="latest-value' in tag.group(0)
    value = re.search(r'data-value="([^"]+)"', tag.group(0)).group(1)
    wrong_value = tag.group(0).replace(f'data-value="{value}"', 'data-value="999999.5"')
    page.write_text(html.replace(tag.group(0), wrong_value), encoding="utf-8")
    assert headline_check.main(["--page", str(page)]) == 1
    out = capsys.readouterr().out
    assert "6 headline(s), 1 disagreeing" in out
    assert re.search(rf"\| {shown} \|.*\| NO \|", out)

    period = rows[shown]["period"].isoformat()
    wrong_period = tag.group(0).replace(f'data-period="{period}"', 'data-period="1999-01-01"')
    assert wrong_period != tag.group(0)
    page.write_text(html.replace(tag.group(0), wrong_period), encoding="utf-8")
    assert headline_check.main(["--page", str(page)]) == 1
    assert "1 disagreeing" in capsys.readouterr().out


def test_no_figure_agrees_only_with_a_page_that_shows_none() -> None:
    """A period with nothing to measure (say no Victims' Code right due yet: 0 of 0) has no
    figure in the view or the marts; the page agrees by showing none, not a number."""
    from datetime import date
    from decimal import Decimal

    row = {
        "measure": "victims_code",
        "period": date(2024, 12, 1),
        "page_period": "2024-12-01",
        "page": None,
        "view": None,
        "view_counts": (0, 0),
        "marts": None,
        "mart_counts": (0, 0),
        "suppressed": False,
    }
    assert headline_check._agrees(row)
    assert not headline_check._agrees({**row, "page": "0.0"})
    assert not headline_check._agrees({**row, "mart_counts": (0, 3)})
    # a figure on one side only is a disagreement to report, not an error in the check
    assert not headline_check._agrees({**row, "marts": Decimal("12.5"), "mart_counts": (1, 8)})
    assert not headline_check._agrees({**row, "view": Decimal("12.5"), "page": "12.5"})
    assert not headline_check._agrees(
        {**row, "page": "12.5", "marts": Decimal("12.5"), "mart_counts": (1, 8)}
    )  # the view without a figure: this raised TypeError (Decimal(None)) before
