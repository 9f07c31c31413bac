"""What the scorecard reads from the warehouse: each measure's force-wide series (totals of its
mart's rows), which periods are complete, the publication table's local authorities for the
latest complete period, the peer comparison, the publication threshold and the data's as-of.

Columns are read defensively: a mart or publication table is asked which columns it has, a
completeness flag or an as-of date on the rows is used when the table carries one, and a column
the configuration names but the table lacks becomes a clear error for that panel only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg
from psycopg import sql

from vawg_warehouse.outputs.scorecard.config import Measure

# A column on a mart row that says whether its period is complete (the first one found is used).
COMPLETENESS_COLUMNS = ("is_complete", "is_period_complete", "is_complete_period")
# A column on a mart row that says how far the data behind the row goes.
AS_OF_COLUMNS = ("data_as_of_date", "outcomes_as_of_date", "as_of_date")


class MeasureDataError(RuntimeError):
    """A measure's table cannot give what the configuration asks for (names table and column)."""


@dataclass
class Point:
    period: date
    value: float | None  # count or money; a proportion's numerator / denominator (0-1)
    numerator: float | None = None
    denominator: float | None = None
    complete: bool = True
    suppressed: bool = False


@dataclass
class Series:
    points: list[Point]
    completeness_source: str  # in words: which column or date decided completeness
    as_of: date | None


@dataclass
class LocalAuthorityRow:
    code: str
    name: str
    cells: list[tuple[float | None, bool]]  # (value, suppressed) per configured column


@dataclass
class LocalAuthorityTable:
    relation: str
    period: date
    headers: list[str]
    formats: list[str]
    filters: dict = field(default_factory=dict)
    rows: list[LocalAuthorityRow] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)


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


def _where(filters: dict) -> tuple[sql.Composable, list]:
    if not filters:
        return sql.SQL("true"), []
    parts = [sql.SQL("{} = %s").format(sql.Identifier(column)) for column in filters]
    return sql.SQL(" and ").join(parts), list(filters.values())


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


def load_series(
    conn: psycopg.Connection,
    measure: Measure,
    family_as_of: FamilyAsOf | None,
    rule: SuppressionRule,
) -> Series:
    columns = columns_of(conn, measure.mart)
    if not columns:
        raise MeasureDataError(f"{measure.mart} does not exist (has dbt built it?)")
    missing = [c for c in measure.columns_needed if c not in columns]
    if missing:
        raise MeasureDataError(f"{measure.mart} has no column {', '.join(missing)}")
    flag = next((c for c in COMPLETENESS_COLUMNS if c in columns), None)
    as_of_column = next((c for c in AS_OF_COLUMNS if c in columns), None)

    if measure.grain == "financial_year":
        period = sql.SQL("make_date(cast({} as integer), 4, 1)").format(
            sql.Identifier(measure.period_column)
        )
    else:
        period = sql.SQL("cast({} as date)").format(sql.Identifier(measure.period_column))
    if measure.kind == "proportion":
        figures = sql.SQL("sum({}), sum({})").format(
            sql.Identifier(measure.numerator), sql.Identifier(measure.denominator)
        )
    else:
        figures = sql.SQL("sum({}), null").format(sql.Identifier(measure.value))
    extra = sql.SQL(", {}").format(
        sql.SQL("bool_and({})").format(sql.Identifier(flag)) if flag else sql.SQL("null")
    ) + sql.SQL(", {}").format(
        sql.SQL("max({})").format(sql.Identifier(as_of_column)) if as_of_column else sql.SQL("null")
    )
    where, params = _where(measure.filter)
    query = sql.SQL(
        "select {period} as period, {figures}{extra} from {mart} where {where} "
        "group by 1 order by 1"
    ).format(period=period, figures=figures, extra=extra, mart=_ident(measure.mart), where=where)
    rows = conn.execute(query, params).fetchall()

    row_as_of = max((r[4] for r in rows if r[4] is not None), default=None)
    if flag:
        source = f"the mart's {flag} column"
    elif row_as_of is not None:
        source = f"the mart's {as_of_column} ({row_as_of.isoformat()})"
    elif family_as_of and family_as_of.complete_to:
        source = f"the {measure.family} data's newest extract ({family_as_of.complete_to})"
    else:
        source = "unknown (no as-of date): every period treated as complete"
    as_of = row_as_of or (family_as_of.complete_to if family_as_of else None)

    points = []
    for period_start, first, second, complete_flag, _ in rows:
        if flag:
            complete = bool(complete_flag)
        elif as_of is not None:
            complete = period_end(period_start, measure.grain) <= as_of
        else:
            complete = True
        if measure.kind == "proportion":
            numerator = float(first or 0)
            denominator = float(second or 0)
            value = numerator / denominator if denominator else None
            suppressed = rule.hides(numerator) or rule.hides(denominator)
            points.append(Point(period_start, value, numerator, denominator, complete, suppressed))
        else:
            value = float(first or 0)
            suppressed = measure.kind == "count" and rule.hides(value)
            points.append(Point(period_start, value, None, None, complete, suppressed))
    return Series(points, source, as_of)


def local_authority_table(
    conn: psycopg.Connection, measure: Measure, period: date
) -> LocalAuthorityTable | None:
    """The publication table's rows for one period, as published: a suppressed cell stays
    suppressed (shown "[c]"). None when the measure has no publication table."""
    if not measure.publication or not measure.local_authorities:
        return None
    columns = columns_of(conn, measure.publication)
    filters = {**measure.filter, **measure.local_authority_filter}
    table = LocalAuthorityTable(
        measure.publication,
        period,
        [c.label for c in measure.local_authorities],
        [c.format for c in measure.local_authorities],
        filters=filters,
    )
    if not columns:
        table.missing_columns = [measure.publication]
        return table
    needed = ["local_authority_code", "local_authority_name", measure.period_column]
    needed += list(filters)
    table.missing_columns = [c for c in needed if c not in columns]
    table.missing_columns += [
        c.column for c in measure.local_authorities if c.column not in columns
    ]
    if table.missing_columns:
        return table
    selected: list[sql.Composable] = []
    for c in measure.local_authorities:
        selected.append(sql.Identifier(c.column))
        flag = f"{c.column}_is_suppressed"
        selected.append(sql.Identifier(flag) if flag in columns else sql.SQL("false"))
    where, params = _where(filters)
    query = sql.SQL(
        "select local_authority_code, local_authority_name, {cells} from {pub} "
        "where {period} = %s and {where} order by local_authority_code = '-1', "
        "local_authority_name"
    ).format(
        cells=sql.SQL(", ").join(selected),
        pub=_ident(measure.publication),
        period=sql.Identifier(measure.period_column),
        where=where,
    )
    for row in conn.execute(query, [period, *params]).fetchall():
        cells = [
            (None if row[i] is None else float(row[i]), bool(row[i + 1]))
            for i in range(2, len(row), 2)
        ]
        table.rows.append(LocalAuthorityRow(row[0], row[1], cells))
    return table


def peer_rows(conn: psycopg.Connection, measure: Measure) -> list[PeerRow]:
    """Lancashire, its most similar forces, the group and England and Wales for the latest
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
