"""The measures scorecard for the Police and Crime Panel: one self-contained HTML page and its PDF.

After each nightly run (the DAG's ``scorecard`` task) and on demand (``vawg scorecard``), one panel
per plan measure (scorecard.yml): its force-wide trend with statistical-process-control limits,
the latest complete value, the change on the same period a year earlier with its significance
test, the force beside its most similar forces and England and Wales where public data allows,
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
# The name a page uses when the view names no force (an empty warehouse).
UNKNOWN_FORCE = "the force"


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


def grain_of(kind: str) -> str:
    return "financial_year" if kind == "money" else "month"


# --------------------------------------------------------------------------------------------
# One panel per measure
# --------------------------------------------------------------------------------------------


@dataclass
class CategoryRow:
    """One series of the measure at the latest period, beside the same period a year earlier."""

    series_id: str
    label: str
    is_headline: bool
    latest_text: str
    latest_value: float | None
    previous_text: str
    change_text: str


@dataclass
class Panel:
    measure: Measure
    error: str | None = None
    headline: data.Series | None = None
    kind: str = "count"
    latest: data.Point | None = None
    latest_label: str = ""
    latest_text: str = ""
    latest_value: float | None = None  # as shown (percent for a proportion)
    previous: data.Point | None = None
    previous_label: str = ""
    previous_text: str = ""
    change: stats.ChangeTest | None = None
    change_text: str = ""
    method_note: str = ""
    limits: stats.ControlLimits | None = None
    signals: list[stats.Signal] = field(default_factory=list)
    status: stats.Status | None = None
    trend_uri: str | None = None
    incomplete_labels: list[str] = field(default_factory=list)
    history_labels: list[str] = field(default_factory=list)
    suppressed_labels: list[str] = field(default_factory=list)
    as_of: date | None = None
    categories: list[CategoryRow] = field(default_factory=list)
    table: data.LocalAuthorityTable | None = None
    table_text: list[list[str]] = field(default_factory=list)
    total_text: list[str] = field(default_factory=list)
    peers: list[data.PeerRow] = field(default_factory=list)
    peers_uri: str | None = None
    peers_year: str = ""

    @property
    def status_key(self) -> str:
        return self.status.status if self.status else "insufficient_data"

    @property
    def label(self) -> str:
        return self.headline.label if self.headline else self.measure.title

    def summary(self) -> dict:
        return {
            "measure": self.measure.id,
            "period": self.latest.period.isoformat() if self.latest else None,
            "value": self.latest_value,
            "status": self.status_key,
            "error": self.error,
        }


def _year_earlier(period: date) -> date:
    return date(period.year - 1, period.month, period.day)


def _limits_for(
    kind: str, usable: list[data.Point], cfg: Config
) -> tuple[stats.ControlLimits | None, str]:
    usable = [p for p in usable if p.value is not None and not p.suppressed]
    if kind == "money":
        return None, "Sums of money are plotted without control limits."
    if len(usable) < cfg.min_periods:
        return None, (
            f"{len(usable)} complete period(s) with full history: control limits need "
            f"{cfg.min_periods}, so none are drawn."
        )
    baseline = min(cfg.baseline_periods, len(usable))
    if kind == "proportion":
        limits = stats.p_limits(
            [p.numerator for p in usable], [p.denominator for p in usable], baseline
        )
        chart = "p-chart (binomial limits for each period's own denominator)"
    else:
        limits = stats.xmr_limits([p.value for p in usable], baseline)
        chart = "XmR chart (mean +/- 2.66 x mean moving range)"
    if limits is None:
        return None, "No control limits (no variation to measure)."
    return limits, (
        f"{chart}, centre line and limits from the first {baseline} complete periods with "
        "full history."
    )


def _limit_at(limits: stats.ControlLimits, point: data.Point) -> tuple[float | None, float | None]:
    """Lower and upper control limit for one period, in the units shown (per cent for a
    p-chart, whose limits depend on the period's own denominator)."""
    if limits.chart != "p":
        return limits.lower[0], limits.upper[0]
    if not point.denominator:
        return None, None
    se = (limits.centre * (1 - limits.centre) / point.denominator) ** 0.5
    return 100 * max(limits.centre - 3 * se, 0.0), 100 * min(limits.centre + 3 * se, 1.0)


def _point_text(point: data.Point | None, fmt) -> str:
    if point is None:
        return "-"
    if point.suppressed:
        return SUPPRESSED
    return fmt(point.value) if point.value is not None else "-"


def _compare(
    series: data.Series, latest: data.Point, alpha: float
) -> tuple[data.Point | None, stats.ChangeTest | None, str]:
    """The same period a year earlier, the change and its test, in plain words. Only a
    complete period with full history is compared."""
    grain = grain_of(series.kind)
    by_period = {p.period: p for p in series.points}
    previous = by_period.get(_year_earlier(latest.period))
    if latest.suppressed:
        return previous, None, "not shown: the latest figure is suppressed"
    if previous is None:
        return None, None, "no figure for the same period a year earlier"
    label = data.period_label(previous.period, grain)
    if not previous.complete:
        return previous, None, f"not compared: {label} is not complete"
    if not previous.full_history:
        return (
            previous,
            None,
            (f"not compared: the data do not reach far enough back for {label}'s figure"),
        )
    if previous.suppressed:
        return previous, None, "not compared: the figure a year earlier is suppressed"
    change = _change(series.kind, latest, previous, alpha)
    return previous, change, _change_text(series.kind, change)


def build_panel(
    rows: list[dict],
    conn: psycopg.Connection,
    measure: Measure,
    cfg: Config,
) -> Panel:
    panel = Panel(measure)
    try:
        series = data.measure_series(rows, measure, cfg.headlines)
    except data.MeasureDataError as exc:
        panel.error = str(exc)
        panel.status = stats.Status("insufficient_data", [str(exc)])
        return panel
    headline = series[0]
    panel.headline = headline
    panel.kind = headline.kind
    grain = grain_of(headline.kind)
    fmt = formatter(headline.kind)
    panel.as_of = headline.as_of
    shown = headline.points[-cfg.trend_periods :]
    usable = [p for p in shown if p.usable]
    panel.incomplete_labels = [data.period_label(p.period, grain) for p in shown if not p.complete]
    panel.history_labels = [
        data.period_label(p.period, grain) for p in shown if p.complete and not p.full_history
    ]
    panel.suppressed_labels = [
        data.period_label(p.period, grain) for p in shown if p.suppressed and p.usable
    ]
    latest = usable[-1] if usable else None
    panel.latest = latest
    if latest is not None:
        panel.latest_label = data.period_label(latest.period, grain)
        panel.latest_text = _point_text(latest, fmt)
        panel.latest_value = None if latest.suppressed else latest.value
        previous, panel.change, panel.change_text = _compare(
            headline, latest, cfg.significance_level
        )
        panel.previous = previous
        if previous is not None:
            panel.previous_label = data.period_label(previous.period, grain)
            panel.previous_text = _point_text(previous, fmt)
        for one in series:
            one_latest = next((p for p in one.points if p.period == latest.period), None)
            if one_latest is None:
                continue
            one_previous, _, one_change = _compare(one, one_latest, cfg.significance_level)
            one_fmt = formatter(one.kind)
            panel.categories.append(
                CategoryRow(
                    one.series_id,
                    one.label,
                    one.is_headline,
                    _point_text(one_latest, one_fmt),
                    None if one_latest.suppressed else one_latest.value,
                    _point_text(one_previous, one_fmt),
                    one_change,
                )
            )

    limits, limits_note = _limits_for(headline.kind, usable, cfg)
    panel.limits = limits
    if limits is not None and latest is not None and not latest.suppressed:
        points = [p for p in usable if p.value is not None and not p.suppressed]
        lower, upper = [], []
        for p in points:
            lo, hi = _limit_at(limits, p)
            lower.append(lo)
            upper.append(hi)
        centre = 100 * limits.centre if limits.chart == "p" else limits.centre
        aligned = stats.ControlLimits(limits.chart, centre, lower, upper, limits.baseline_periods)
        panel.signals = stats.signals(
            [p.value for p in points], aligned, cfg.run_length, cfg.trend_length
        )
    panel.method_note = " ".join(
        filter(None, [limits_note, _test_note(panel.change, cfg.significance_level)])
    )
    if latest is not None and latest.suppressed:
        panel.status = stats.Status(
            "insufficient_data",
            ["the latest complete figure is below the publication threshold (suppressed)"],
        )
    elif not headline.is_graded:
        panel.status = stats.ungraded(headline.expectation_note, panel.change, panel.signals)
    else:
        expectation = stats.Expectation(
            headline.expectation_kind,
            headline.expectation_low,
            headline.expectation_high,
            headline.expectation_source,
        )
        panel.status = stats.grade(
            panel.latest_value, measure.polarity, expectation, panel.change, panel.signals, fmt
        )
    panel.trend_uri = _trend(headline, shown, limits, latest, panel.previous, fmt)

    if latest is not None:
        panel.table = data.local_authority_table(rows, measure, series, latest.period)
        if panel.table is not None:

            def texts(row: data.LocalAuthorityRow) -> list[str]:
                return [
                    SUPPRESSED if hidden else format_cell(value, f)
                    for (value, hidden), f in zip(row.cells, panel.table.formats, strict=True)
                ]

            panel.table_text = [texts(row) for row in panel.table.rows]
            panel.total_text = texts(panel.table.total) if panel.table.total else []
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
    kind: str, latest: data.Point, previous: data.Point, alpha: float
) -> stats.ChangeTest | None:
    if kind == "count":
        return stats.poisson_change(int(latest.value), int(previous.value), alpha)
    if kind == "proportion":
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


def _change_text(kind: str, change: stats.ChangeTest | None) -> str:
    """The change in plain words; the test's name and p-value go in the footnote."""
    if change is None:
        return "not compared (no denominator)"
    if kind == "proportion":
        moved = f"{change.change:+.1f} percentage points"
    elif kind == "money":
        moved = f"{'+' if change.change >= 0 else '-'}£{abs(change.change):,.0f}"
    else:
        moved = f"{change.change:+,.0f}"
    if change.relative_change_pct is not None:
        moved += f" ({change.relative_change_pct:+.1f}%)"
    if change.p_value is None:
        return f"{moved}; {change.note}"
    if change.significant:
        return f"{moved}; larger than chance alone would explain"
    return f"{moved}; within what chance alone often produces"


def _test_note(change: stats.ChangeTest | None, alpha: float) -> str:
    if change is None or change.p_value is None:
        return ""
    return (
        f"Change on a year earlier: {change.method}, p = {change.p_value:.3f} "
        f"(significant below {alpha})."
    )


def _trend(series: data.Series, shown, limits, latest, previous, fmt) -> str | None:
    if not shown:
        return None
    grain = grain_of(series.kind)
    points = []
    for p in shown:
        value = None if p.suppressed else p.value
        outside = False
        if limits is not None and value is not None and p.usable:
            lo, hi = _limit_at(limits, p)
            outside = (hi is not None and value > hi) or (lo is not None and value < lo)
        points.append(
            charts.TrendPoint(
                label=data.period_label(p.period, grain),
                value=value,
                complete=p.usable,
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
    y_label = {"proportion": "per cent", "money": "GBP", "count": "count"}[series.kind]
    return charts.trend_chart(points, display_limits, y_label, fmt, series.measure_id)


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
    env.filters["for_force"] = lambda text, force: text.replace("{force}", force)
    env.globals["panel_fmt"] = {kind: formatter(kind) for kind in ("count", "proportion", "money")}
    return env


def render(
    panels: list[Panel],
    cfg: Config,
    as_of: dict[str, data.FamilyAsOf],
    rule: data.SuppressionRule,
    generated_at: datetime,
    run_id: str | None,
    outcome=None,
    refreshed=None,
    force: str = UNKNOWN_FORCE,
) -> str:
    from vawg_warehouse.outputs import coverage

    days = coverage.stale_after_days()
    covered = {
        f.family: coverage.judge(f.family, f.complete_to, generated_at.date(), days)
        for f in as_of.values()
    }
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
            coverage=covered,
            stale_after_days=days,
            stale=[c for c in covered.values() if c.is_stale],
            outcome=outcome,
            refreshed=refreshed,
            suppressed=SUPPRESSED,
            force=force,
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
    force = UNKNOWN_FORCE
    try:
        rows = data.read_headlines(conn, cfg.headlines)
        force = next((r["area_name"] for r in rows if r["area_level"] == "force"), force)
    except data.MeasureDataError as exc:
        log.warning("scorecard: %s", exc)
        panels = [
            Panel(m, error=str(exc), status=stats.Status("insufficient_data", [str(exc)]))
            for m in cfg.measures
        ]
    else:
        panels = [build_panel(rows, conn, m, cfg) for m in cfg.measures]
    from vawg_warehouse import run_outcome

    # The run it follows (or, built by hand, the newest run): a run that failed or left files
    # unfinished did not refresh the data, and the header says so and since when.
    outcome = run_outcome.of_run(conn, run_id) if run_id else run_outcome.latest(conn)
    if outcome is not None and outcome.state == run_outcome.SUCCESS:
        outcome = None
    refreshed = run_outcome.last_refresh(conn) if outcome is not None else None
    generated_at = datetime.now(UTC)
    html = render(panels, cfg, as_of, rule, generated_at, run_id, outcome, refreshed, force)
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
