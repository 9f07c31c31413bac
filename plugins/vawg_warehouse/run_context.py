"""Who asked for a run: the small context stamped on every batch, event and dbt build."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class RunContext:
    """Who asked: stamped on every batch and event (small, serialisable, no personal data)."""

    dag_id: str | None = None
    dag_run_id: str | None = None
    logical_date: date | None = None
