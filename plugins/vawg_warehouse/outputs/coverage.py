"""How far each source family's data reach (bi.data_as_of), and whether that is out of date.

Freshness is judged on coverage, the last day the data describe, not on when a file was loaded:
a family whose data end more than ``VAWG_STALE_AFTER_DAYS`` days (default 45) before the day
asked about is stale, however recently its files arrived. The scorecard's header and
``vawg status`` both say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import psycopg

STALE_AFTER_DAYS_ENV = "VAWG_STALE_AFTER_DAYS"
DEFAULT_STALE_AFTER_DAYS = 45


def stale_after_days() -> int:
    """The setting (environment ``VAWG_STALE_AFTER_DAYS``), a whole number of days."""
    raw = os.environ.get(STALE_AFTER_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_STALE_AFTER_DAYS
    try:
        days = int(raw)
    except ValueError as exc:
        raise ValueError(f"{STALE_AFTER_DAYS_ENV} must be a whole number of days") from exc
    if days < 0:
        raise ValueError(f"{STALE_AFTER_DAYS_ENV} must not be negative")
    return days


@dataclass(frozen=True)
class Coverage:
    family: str
    complete_to: date | None  # the least recent of the family's datasets' newest extracts
    days_behind: int | None  # from complete_to to the day judged
    is_stale: bool

    def describe(self) -> str:
        if self.complete_to is None:
            return f"{self.family}: data not dated"
        text = f"{self.family}: data to {self.complete_to.isoformat()}"
        if self.is_stale:
            text += f", {self.days_behind} days before today: OUT OF DATE"
        return text


def judge(family: str, complete_to: date | None, today: date, after_days: int) -> Coverage:
    if complete_to is None:
        return Coverage(family, None, None, True)
    behind = (today - complete_to).days
    return Coverage(family, complete_to, behind, behind > after_days)


def coverage(
    conn: psycopg.Connection, today: date, after_days: int | None = None
) -> list[Coverage]:
    """Each family of bi.data_as_of judged on ``today``; empty when the view is not built."""
    if conn.execute("select to_regclass('bi.data_as_of')").fetchone()[0] is None:
        return []
    days = stale_after_days() if after_days is None else after_days
    rows = conn.execute(
        'select "Source family", "Data complete to" from bi.data_as_of order by 1'
    ).fetchall()
    return [judge(family, complete_to, today, days) for family, complete_to in rows]
