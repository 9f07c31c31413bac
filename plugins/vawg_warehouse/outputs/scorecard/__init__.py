"""The measures scorecard for the Police and Crime Panel: one self-contained HTML page and its PDF.

After each nightly run (the DAG's ``scorecard`` task) and on demand (``vawg scorecard``), one panel
per plan measure (scorecard.yml): its force-wide trend with statistical-process-control limits,
the latest complete value, the change on the same period a year earlier with its significance
test, Lancashire beside its most similar forces and England and Wales where public data allows,
the measure's polarity and a graded status with its reasons against the expectation the
configuration sets. Incomplete periods are drawn hollow and never graded; a force-wide figure
below the publication threshold, and every suppressed cell of the local authority tables (read
from the publication tables as published), shows "[c]".

The page has no script and fetches nothing: charts are SVG (matplotlib) inlined as data: URIs.
Every figure carries its raw value in a ``data-value`` attribute, so a test can read the page
in a browser and compare it with the warehouse. Files are written owner-only, like the run
reports (``<reports dir>/scorecard/``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from vawg_warehouse.outputs.scorecard import charts, data, stats
from vawg_warehouse.outputs.scorecard.config import Config, Measure, load_config
from vawg_warehouse.private_files import FILE_MODE, write_private

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SUPPRESSED = "[c]"


def scorecard_dir(reports_dir: Path) -> Path:
    return reports_dir / "scorecard"


# --------------------------------------------------------------------------------------------
# Formatting (one place: the page, the charts' axes and the reasons all use it)
# --------------------------------------------------------------------------------------------


def formatter(kind: str):
    if kind == "proportion":
        return lambda v: "" if v is None else f"{v:.1f}%"
    if kind == "money":
        return lambda v: "" if v is None else f"£{v:,.0f}"
    return lambda v: "" if v is None else f"{v:,.0f}"


def format_cell(value: float | None, fmt: str) -> str:
    if value is None:
        return "-"
    if fmt == "count":
        return f"{value:,.0f}"
    if fmt == "percent":
        return f"{value:.1f}%"
    if fmt == "fraction_percent":
        return f"{100 * value:.1f}%"
    if fmt == "money":
        return f"£{value:,.0f}"
    return f"{value:,.2f}"


def _display(point: data.Point | None, kind: str) -> float | None:
    """A point's figure in the unit it is shown and judged in (proportions as percentages)."""
    if point is None or point.value is None:
        return None
    return 100.0 * point.value if kind == "proportion" else point.value


# --------------------------------------------------------------------------------------------
# One panel per measure
# --------------------------------------------------------------------------------------------


@dataclass
class Panel:
    measure: Measure
    error: str | None = None
    latest: data.Point | None = None
    latest_label: str = ""
    latest_text: str = ""
    latest_value: float | None = None  # as shown (percent for a proportion)
    previous: data.Point | None = None
    previous_label: str = ""
    previous_text: str = ""
    change: stats.ChangeTest | None = None
    change_text: str = ""
    limits: stats.ControlLimits | None = None
    signals: list[stats.Signal] = field(default_factory=list)
    spc_note: str = ""
    status: stats.Status | None = None
    trend_uri: str | None = None
    incomplete_labels: list[str] = field(default_factory=list)
    suppressed_labels: list[str] = field(default_factory=list)
    completeness_source: str = ""
    as_of: date | None = None
    table: data.LocalAuthorityTable | None = None
    table_text: list[list[str]] = field(default_factory=list)
    peers: list[data.PeerRow] = field(default_factory=list)
    peers_uri: str | None = None
    peers_year: str = ""

    @property
    def status_key(self) -> str:
        return self.status.status if self.status else "insufficient_data"

    def summary(self) -> dict:
        return {
            "measure": self.measure.id,
            "period": self.latest.period.isoformat() if self.latest else None,
            "value": self.latest_value,
            "status": self.status_key,
            "error": self.error,
        }


def _year_earlier(period: date, grain: str) -> date:
    return date(period.year - 1, period.month, period.day)


def _limits_for(
    measure: Measure, complete: list[data.Point], cfg: Config
) -> tuple[stats.ControlLimits | None, str]:
    usable = [p for p in complete if p.value is not None and not p.suppressed]
    if len(usable) < cfg.min_periods:
        return None, (
            f"{len(usable)} complete period(s): control limits need {cfg.min_periods}, "
            "so none are drawn"
        )
    baseline = min(cfg.baseline_periods, len(usable))
    if measure.kind == "proportion":
        limits = stats.p_limits(
            [p.numerator for p in usable], [p.denominator for p in usable], baseline
        )
        chart = "p-chart (binomial limits for each period's own denominator)"
    else:
        limits = stats.xmr_limits([_display(p, measure.kind) for p in usable], baseline)
        chart = "XmR chart (mean +/- 2.66 x mean moving range)"
    if limits is None:
        return None, "no control limits (no variation to measure)"
    return limits, f"{chart}, centre line and limits from the first {baseline} complete periods"


def _limit_at(limits: stats.ControlLimits, point: data.Point) -> tuple[float | None, float | None]:
    """Lower and upper control limit for one period, in the units shown (per cent for a
    p-chart, whose limits depend on the period's own denominator)."""
    if limits.chart != "p":
        return limits.lower[0], limits.upper[0]
    if not point.denominator:
        return None, None
    se = (limits.centre * (1 - limits.centre) / point.denominator) ** 0.5
    return 100 * max(limits.centre - 3 * se, 0.0), 100 * min(limits.centre + 3 * se, 1.0)


def build_panel(
    conn: psycopg.Connection,
    measure: Measure,
    cfg: Config,
    family_as_of: data.FamilyAsOf | None,
    rule: data.SuppressionRule,
) -> Panel:
    panel = Panel(measure)
    fmt = formatter(measure.kind)
    try:
        series = data.load_series(conn, measure, family_as_of, rule)
    except data.MeasureDataError as exc:
        panel.error = str(exc)
        panel.status = stats.Status("insufficient_data", [str(exc)])
        return panel
    panel.completeness_source = series.completeness_source
    panel.as_of = series.as_of
    shown = series.points[-cfg.trend_periods :]
    complete = [p for p in shown if p.complete]
    panel.incomplete_labels = [
        data.period_label(p.period, measure.grain) for p in shown if not p.complete
    ]
    panel.suppressed_labels = [
        data.period_label(p.period, measure.grain) for p in shown if p.suppressed and p.complete
    ]
    latest = complete[-1] if complete else None
    panel.latest = latest
    by_period = {p.period: p for p in series.points}
    if latest is not None:
        panel.latest_label = data.period_label(latest.period, measure.grain)
        if latest.suppressed:
            panel.latest_text = SUPPRESSED
        else:
            panel.latest_value = _display(latest, measure.kind)
            panel.latest_text = fmt(panel.latest_value) if panel.latest_value is not None else "-"
        previous = by_period.get(_year_earlier(latest.period, measure.grain))
        panel.previous = previous
        if previous is not None:
            panel.previous_label = data.period_label(previous.period, measure.grain)
            panel.previous_text = (
                SUPPRESSED if previous.suppressed else fmt(_display(previous, measure.kind))
            )
        panel.change = _change(measure, latest, previous, cfg.significance_level)
        panel.change_text = _change_text(measure, panel.change, latest, previous)

    limits, panel.spc_note = _limits_for(measure, complete, cfg)
    panel.limits = limits
    if limits is not None and latest is not None and not latest.suppressed:
        usable = [p for p in complete if p.value is not None and not p.suppressed]
        values = [_display(p, measure.kind) for p in usable]
        lower, upper = [], []
        for p in usable:
            lo, hi = _limit_at(limits, p)
            lower.append(lo)
            upper.append(hi)
        centre = 100 * limits.centre if limits.chart == "p" else limits.centre
        aligned = stats.ControlLimits(limits.chart, centre, lower, upper, limits.baseline_periods)
        panel.signals = stats.signals(values, aligned, cfg.run_length, cfg.trend_length)
    panel.status = stats.grade(
        panel.latest_value,
        measure.polarity,
        measure.expectation,
        panel.change,
        panel.signals,
        fmt,
    )
    if latest is not None and latest.suppressed:
        panel.status = stats.Status(
            "insufficient_data",
            ["the latest complete figure is below the publication threshold (suppressed)"],
        )
    panel.trend_uri = _trend(measure, shown, limits, latest, panel.previous, fmt)

    if latest is not None:
        panel.table = data.local_authority_table(conn, measure, latest.period)
        if panel.table is not None:
            panel.table_text = [
                [
                    SUPPRESSED if hidden else format_cell(value, f)
                    for (value, hidden), f in zip(row.cells, panel.table.formats, strict=True)
                ]
                for row in panel.table.rows
            ]
    try:
        panel.peers = data.peer_rows(conn, measure)
    except data.MeasureDataError as exc:
        panel.peers = []
        panel.peers_year = f"not available: {exc}"
    if panel.peers:
        panel.peers_year = panel.peers[0].financial_year
        groups: dict[str, list[charts.PeerBar]] = {}
        for row in panel.peers:
            groups.setdefault(row.category_label, []).append(
                charts.PeerBar(row.area_name, row.area_level, row.rate_per_1000, row.is_home)
            )
        panel.peers_uri = charts.peer_chart(
            list(groups.items()), "recorded offences per 1,000 residents", f"{measure.id}-peers"
        )
    return panel


def _change(
    measure: Measure, latest: data.Point, previous: data.Point | None, alpha: float
) -> stats.ChangeTest | None:
    if previous is None or latest.suppressed or previous.suppressed:
        return None
    if measure.kind == "count":
        return stats.poisson_change(int(latest.value), int(previous.value), alpha)
    if measure.kind == "proportion":
        return stats.binomial_change(
            int(latest.numerator),
            int(latest.denominator),
            int(previous.numerator),
            int(previous.denominator),
            alpha,
        )
    return stats.untested_change(
        latest.value, previous.value, "a sum of money has no sampling error to test"
    )


def _change_text(measure, change, latest, previous) -> str:
    if latest.suppressed:
        return "not shown: the latest figure is suppressed"
    if previous is None:
        return "no figure for the same period a year earlier"
    if previous.suppressed:
        return "not compared: the figure a year earlier is suppressed"
    if change is None:
        return "not compared (no denominator)"
    if measure.kind == "proportion":
        moved = f"{change.change:+.1f} percentage points"
    elif measure.kind == "money":
        moved = f"{'+' if change.change >= 0 else '-'}£{abs(change.change):,.0f}"
    else:
        moved = f"{change.change:+,.0f}"
    if change.relative_change_pct is not None:
        moved += f" ({change.relative_change_pct:+.1f}%)"
    if change.p_value is None:
        return f"{moved}; {change.note}"
    verdict = "statistically significant" if change.significant else "not statistically significant"
    return f"{moved}; {verdict} ({change.method}, p = {change.p_value:.3f})"


def _trend(measure, shown, limits, latest, previous, fmt) -> str | None:
    if not shown:
        return None
    points = []
    for p in shown:
        value = None if p.suppressed else _display(p, measure.kind)
        outside = False
        if limits is not None and value is not None and p.complete:
            lo, hi = _limit_at(limits, p)
            outside = (hi is not None and value > hi) or (lo is not None and value < lo)
        points.append(
            charts.TrendPoint(
                label=data.period_label(p.period, measure.grain),
                value=value,
                complete=p.complete,
                outside_limits=outside,
                highlighted=latest is not None and p.period == latest.period,
                compared=previous is not None and p.period == previous.period,
            )
        )
    display_limits = None
    if limits is not None:
        lower, upper = [], []
        for p in shown:
            lo, hi = _limit_at(limits, p)
            lower.append(lo)
            upper.append(hi)
        centre = 100 * limits.centre if limits.chart == "p" else limits.centre
        display_limits = stats.ControlLimits(
            limits.chart, centre, lower, upper, limits.baseline_periods
        )
    y_label = {"proportion": "per cent", "money": "GBP", "count": "count"}[measure.kind]
    return charts.trend_chart(points, display_limits, y_label, fmt, measure.id)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


@dataclass
class ScorecardResult:
    html: Path
    pdf: Path | None
    png: Path | None
    panels: list[Panel]
    pdf_skipped: str | None = None

    def as_dict(self) -> dict:
        return {
            "html": str(self.html),
            "pdf": str(self.pdf) if self.pdf else None,
            "pdf_skipped": self.pdf_skipped,
            "measures": [p.summary() for p in self.panels],
        }


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["status_labels"] = stats.STATUS_LABELS
    env.globals["panel_fmt"] = {kind: formatter(kind) for kind in ("count", "proportion", "money")}
    return env


def render(
    panels: list[Panel],
    cfg: Config,
    as_of: dict[str, data.FamilyAsOf],
    rule: data.SuppressionRule,
    generated_at: datetime,
    run_id: str | None,
) -> str:
    return (
        _environment()
        .get_template("scorecard.html.j2")
        .render(
            cfg=cfg,
            panels=panels,
            as_of=sorted(as_of.values(), key=lambda a: a.family),
            rule=rule,
            generated_at=generated_at,
            run_id=run_id,
            suppressed=SUPPRESSED,
        )
    )


def build(
    conn: psycopg.Connection,
    out_dir: Path,
    *,
    run_id: str | None = None,
    pdf: bool = True,
    png: bool = False,
    config: Config | None = None,
) -> ScorecardResult:
    """Read the warehouse, write ``out_dir/index.html`` and (Chromium permitting) its PDF."""
    from vawg_warehouse.outputs import browser

    cfg = config or load_config()
    rule = data.suppression_rule(conn)
    as_of = data.families_as_of(conn)
    panels = [build_panel(conn, m, cfg, as_of.get(m.family), rule) for m in cfg.measures]
    html = render(panels, cfg, as_of, rule, datetime.now(UTC), run_id)
    page = out_dir / "index.html"
    write_private(page, html)
    result = ScorecardResult(page, None, None, panels)
    if pdf or png:
        if browser.find_chromium() is None:
            result.pdf_skipped = "Chromium is not installed (apt-get install chromium)"
            log.warning("scorecard PDF not written: %s", result.pdf_skipped)
            return result
        if pdf:
            result.pdf = browser.print_to_pdf(page, out_dir / "scorecard.pdf")
            result.pdf.chmod(FILE_MODE)
        if png:
            result.png = browser.screenshot(page, out_dir / "scorecard.png")
            result.png.chmod(FILE_MODE)
    return result
