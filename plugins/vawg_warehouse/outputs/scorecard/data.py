"""What the scorecard reads from the warehouse: every figure from the view bi.measure_headlines
(the one Metabase and Power BI read, so the figures agree), the publication threshold, the peer
comparison and the data's as-of.

bi.measure_headlines has one row per measure x series x period x area: force-wide rows are the
exact figures (suppressed only below the publication threshold), local-authority rows the
publication tables' cells as published. A measure with no row there becomes a clear error for
that panel only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg
from psycopg import sql

from vawg_warehouse.outputs.scorecard.config import Measure

HEADLINE_COLUMNS = (
    "measure_id",
    "series_id",
    "series_label",
    "series_order",
    "value_kind",
    "is_headline",
    "area_level",
    "area_code",
    "area_name",
    "period_start_date",
    "value",
    "numerator",
    "denominator",
    "is_suppressed",
    "numerator_is_suppressed",
    "denominator_is_suppressed",
    "is_complete_period",
    "has_full_history",
    "data_as_of_date",
    "expectation_kind",
    "expectation_low",
    "expectation_high",
    "is_graded",
    "expectation",
    "expectation_note",
    "expectation_source",
    "status",
)


class MeasureDataError(RuntimeError):
    """A measure's figures cannot be read (names the view and what is missing)."""


@dataclass
class Point:
    period: date
    value: float | None  # as shown: a count, a percentage, pounds; None when suppressed
    numerator: float | None = None
    denominator: float | None = None
    complete: bool = True
    suppressed: bool = False
    full_history: bool = True

    @property
    def usable(self) -> bool:
        """Complete, with the history its figure needs: the only periods compared or charted
        against control limits."""
        return self.complete and self.full_history


@dataclass
class Series:
    """One series of a measure (bi.measure_headlines), force-wide, oldest period first."""

    measure_id: str
    series_id: str
    label: str
    order: int
    kind: str  # count, proportion or money
    is_headline: bool
    expectation_kind: str
    expectation_low: float | None
    expectation_high: float | None
    is_graded: bool
    expectation: str
    expectation_note: str
    expectation_source: str
    points: list[Point] = field(default_factory=list)
    as_of: date | None = None
    statuses: dict[date, str] = field(default_factory=dict)


@dataclass
class LocalAuthorityRow:
    code: str
    name: str
    cells: list[tuple[float | None, bool]]  # (value, suppressed) per column


@dataclass
class LocalAuthorityTable:
    period: date
    headers: list[str]
    formats: list[str]
    rows: list[LocalAuthorityRow] = field(default_factory=list)
    total: LocalAuthorityRow | None = None


@dataclass
class PeerRow:
    category: str
    category_label: str
    financial_year: str
    area_name: str
    area_level: str
    rate_per_1000: float | None
    offence_count: int | None
    is_home: bool


@dataclass(frozen=True)
class SuppressionRule:
    threshold: int
    suppress_zero: bool

    def hides(self, count: float | None) -> bool:
        if count is None:
            return False
        return count < self.threshold and (count > 0 or self.suppress_zero)


@dataclass(frozen=True)
class FamilyAsOf:
    family: str
    complete_to: date | None
    marts_rebuilt_at: datetime | None
    last_run_finished_at: datetime | None


def period_end(period: date, grain: str) -> date:
    if grain == "financial_year":
        return date(period.year + 1, 3, 31)
    return date(period.year, period.month, calendar.monthrange(period.year, period.month)[1])


def period_label(period: date, grain: str) -> str:
    if grain == "financial_year":
        return f"{period.year}/{(period.year + 1) % 100:02d}"
    return period.strftime("%b %Y")


def _split(relation: str) -> tuple[str, str]:
    schema, _, table = relation.partition(".")
    return schema, table


def columns_of(conn: psycopg.Connection, relation: str) -> list[str]:
    schema, table = _split(relation)
    rows = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    ).fetchall()
    return [name for (name,) in rows]


def _ident(relation: str) -> sql.Composable:
    return sql.Identifier(*_split(relation))


def suppression_rule(conn: psycopg.Connection) -> SuppressionRule:
    """The publication threshold (seed publication_parameters); 5 and zero published if the seed
    is not there (the seed's own defaults)."""
    if conn.execute("select to_regclass('reference.publication_parameters')").fetchone()[0] is None:
        return SuppressionRule(5, False)
    values: dict[str, str] = dict(
        conn.execute("select parameter, parameter_value from reference.publication_parameters")
    )
    return SuppressionRule(
        int(values.get("suppression_threshold", 5)),
        str(values.get("suppress_zero_counts", "false")).lower() == "true",
    )


def families_as_of(conn: psycopg.Connection) -> dict[str, FamilyAsOf]:
    """bi.data_as_of, per source family; empty when the BI layer is not built yet."""
    if conn.execute("select to_regclass('bi.data_as_of')").fetchone()[0] is None:
        return {}
    rows = conn.execute(
        'select "Source family", "Data complete to", "Marts rebuilt at", '
        '"Last nightly run finished at" from bi.data_as_of'
    ).fetchall()
    return {r[0]: FamilyAsOf(*r) for r in rows}


def _float(value) -> float | None:
    return None if value is None else float(value)


def read_headlines(conn: psycopg.Connection, relation: str) -> list[dict]:
    """Every row of bi.measure_headlines, as dicts (a few thousand rows)."""
    columns = columns_of(conn, relation)
    if not columns:
        raise MeasureDataError(f"{relation} does not exist (has dbt built it?)")
    missing = [c for c in HEADLINE_COLUMNS if c not in columns]
    if missing:
        raise MeasureDataError(f"{relation} has no column {', '.join(missing)}")
    query = sql.SQL(
        "select {} from {} order by measure_id, series_order, period_start_date"
    ).format(sql.SQL(", ").join(sql.Identifier(c) for c in HEADLINE_COLUMNS), _ident(relation))
    return [dict(zip(HEADLINE_COLUMNS, row, strict=True)) for row in conn.execute(query)]


def measure_series(rows: list[dict], measure: Measure, relation: str) -> list[Series]:
    """A measure's series, force-wide, headline first then in the seed's order."""
    series: dict[str, Series] = {}
    for row in rows:
        if row["measure_id"] != measure.id or row["area_level"] != "force":
            continue
        one = series.get(row["series_id"])
        if one is None:
            one = series[row["series_id"]] = Series(
                measure_id=measure.id,
                series_id=row["series_id"],
                label=row["series_label"],
                order=row["series_order"],
                kind=row["value_kind"],
                is_headline=bool(row["is_headline"]),
                expectation_kind=row["expectation_kind"],
                expectation_low=_float(row["expectation_low"]),
                expectation_high=_float(row["expectation_high"]),
                is_graded=bool(row["is_graded"]),
                expectation=row["expectation"],
                expectation_note=row["expectation_note"] or "",
                expectation_source=row["expectation_source"] or "",
            )
        one.points.append(
            Point(
                period=row["period_start_date"],
                value=_float(row["value"]),
                numerator=_float(row["numerator"]),
                denominator=_float(row["denominator"]),
                complete=bool(row["is_complete_period"]),
                suppressed=bool(row["is_suppressed"]),
                full_history=bool(row["has_full_history"]),
            )
        )
        one.statuses[row["period_start_date"]] = row["status"]
        if row["data_as_of_date"] is not None:
            one.as_of = max(filter(None, (one.as_of, row["data_as_of_date"])))
    ordered = sorted(series.values(), key=lambda s: (not s.is_headline, s.order))
    if not ordered or not ordered[0].is_headline:
        raise MeasureDataError(f"{relation} has no headline rows for measure {measure.id}")
    return ordered


def local_authority_table(
    rows: list[dict], measure: Measure, series: list[Series], period: date
) -> LocalAuthorityTable | None:
    """The local authorities' figures for one period as published ("[c]" where suppressed),
    with the force-wide figure as the last row, so the table adds up to the headline. A
    proportion shows the headline series' numerator, denominator and rate; counts show every
    series of the measure side by side. None for money (force-wide only)."""
    headline = series[0]
    if headline.kind == "money":
        return None
    if headline.kind == "proportion":
        columns = [
            (headline.series_id, "denominator", "Of which counted", "count"),
            (headline.series_id, "numerator", "Count", "count"),
            (headline.series_id, "value", "Rate (%)", "percent"),
        ]
    else:
        columns = [(s.series_id, "value", s.label, "count") for s in series]
    cells: dict[tuple[str, str], dict[str, dict]] = {}
    names: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row["measure_id"] != measure.id or row["period_start_date"] != period:
            continue
        cells.setdefault((row["area_level"], row["area_code"]), {})[row["series_id"]] = row
        names[row["area_code"]] = (row["area_level"], row["area_name"])
    table = LocalAuthorityTable(period, [c[2] for c in columns], [c[3] for c in columns])

    def _row(key: tuple[str, str]) -> LocalAuthorityRow:
        by_series = cells[key]
        out: list[tuple[float | None, bool]] = []
        for series_id, column, _, _ in columns:
            row = by_series.get(series_id)
            if row is None:
                out.append((None, False))
            else:
                # Each count as published: a published count beside a suppressed one stays.
                flag = "is_suppressed" if column == "value" else f"{column}_is_suppressed"
                out.append((_float(row[column]), bool(row[flag])))
        return LocalAuthorityRow(key[1], names[key[1]][1], out)

    locals_ = sorted(
        (k for k in cells if k[0] == "local_authority"),
        key=lambda k: (k[1] == "-1", names[k[1]][1]),
    )
    table.rows = [_row(k) for k in locals_]
    force = [k for k in cells if k[0] == "force"]
    table.total = _row(force[0]) if force else None
    return table


def peer_rows(conn: psycopg.Connection, measure: Measure) -> list[PeerRow]:
    """The home force, its most similar forces, the group and England and Wales for the latest
    financial year published in all four quarters, per configured category."""
    if not measure.peer_mart or not measure.peer_categories:
        return []
    columns = columns_of(conn, measure.peer_mart)
    needed = (
        "financial_year",
        "area_name",
        "area_level",
        "area_order",
        "reporting_category",
        "category_label",
        "quarters_published",
        "offence_count",
        "rate_per_1000",
    )
    missing = [c for c in needed if c not in columns]
    if missing:
        raise MeasureDataError(f"{measure.peer_mart} has no column {', '.join(missing)}")
    query = sql.SQL(
        """
        with complete_years as (
            select reporting_category, max(financial_year) as financial_year
            from {peer}
            where reporting_category = any(%s) and quarters_published = 4
              and area_level = 'force' and area_order = 1
            group by reporting_category
        )
        select p.reporting_category, p.category_label, p.financial_year, p.area_name,
               p.area_level, p.rate_per_1000, p.offence_count, p.area_order = 1
        from {peer} as p
        join complete_years as y using (reporting_category, financial_year)
        where p.quarters_published = 4
        order by array_position(%s::text[], p.reporting_category), p.area_order, p.area_name
        """
    ).format(peer=_ident(measure.peer_mart))
    categories = list(measure.peer_categories)
    return [
        PeerRow(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else float(r[5]), r[6], r[7])
        for r in conn.execute(query, (categories, categories)).fetchall()
    ]
