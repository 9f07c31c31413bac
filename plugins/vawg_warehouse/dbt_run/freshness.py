"""dbt source freshness in the nightly run: is each source still sending data?

The sources' ymls declare ``loaded_at_field: _published_at`` and ``warn_after`` (how long a
source may stay silent: two days for the force's daily extracts, months for quarterly tables).
The DAG's ``source_freshness`` task runs ``dbt source freshness`` in process, through
:func:`vawg_warehouse.dbt_run.transform.invoke` on the parsed manifest, and records one row
per source table in ``audit.source_freshness``. A stale source is a warning in the log and in
``vawg status`` (someone should ask the sender), never a failed run: the data that did arrive
is still loaded and published. Only dbt failing to run the check at all fails the task.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

from vawg_warehouse.audit import append_rows
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.run_context import RunContext
from vawg_warehouse.warehouse import connect

log = logging.getLogger(__name__)

STALE = ("warn", "error")


class FreshnessCheckError(RuntimeError):
    """dbt could not run the freshness check at all (not: a source is stale)."""


@dataclass
class SourceFreshness:
    source_name: str
    table_name: str
    status: str
    max_loaded_at: datetime | None
    snapshotted_at: datetime | None
    age_seconds: float | None
    warn_after: str | None
    error_after: str | None

    @property
    def name(self) -> str:
        return f"{self.source_name}.{self.table_name}"


@dataclass
class FreshnessSummary:
    checked: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    invocation_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _after(freshness, key: str) -> str | None:
    rule = getattr(freshness, key, None) if freshness is not None else None
    if rule is None or getattr(rule, "count", None) is None:
        return None
    period = getattr(rule.period, "value", rule.period)
    return f"{rule.count} {period}"


def _result(node_result) -> SourceFreshness:
    node = node_result.node
    status = str(getattr(node_result.status, "value", node_result.status))
    freshness = getattr(node, "freshness", None)
    newest = getattr(node_result, "max_loaded_at", None)
    if newest is not None and newest.year == 1:  # dbt's stand-in when the table has no row
        newest = None
    return SourceFreshness(
        source_name=node.source_name,
        table_name=node.name,
        status=status,
        max_loaded_at=newest,
        snapshotted_at=getattr(node_result, "snapshotted_at", None),
        age_seconds=getattr(node_result, "age", None),
        warn_after=_after(freshness, "warn_after"),
        error_after=_after(freshness, "error_after"),
    )


def check_sources(
    ctx: RunContext, settings: Settings | None = None, task_id: str | None = None
) -> FreshnessSummary:
    """Run ``dbt source freshness`` over every source that declares freshness; record each
    result; log a warning per stale source. Returns a small summary for XCom."""
    from vawg_warehouse.dbt_run import transform

    settings = settings or get_settings()
    success, nodes, invocation_id, exception = transform.invoke("source freshness", settings, [])
    results = [
        _result(n)
        for n in nodes
        if str(getattr(getattr(n, "node", None), "resource_type", "")) == "source"
    ]
    if exception is not None and not results:
        raise FreshnessCheckError(
            f"dbt source freshness did not run: {type(exception).__name__}: {exception}"
        )
    summary = FreshnessSummary(checked=len(results), invocation_id=invocation_id)
    for r in results:
        summary.by_status[r.status] = summary.by_status.get(r.status, 0) + 1
    with connect(settings) as conn, conn.transaction():
        append_rows(
            conn,
            "source_freshness",
            [
                {
                    "source_name": r.source_name,
                    "table_name": r.table_name,
                    "status": r.status,
                    "max_loaded_at": r.max_loaded_at,
                    "snapshotted_at": r.snapshotted_at,
                    "age_seconds": r.age_seconds,
                    "warn_after": r.warn_after,
                    "error_after": r.error_after,
                    "dbt_invocation_id": invocation_id,
                    "dag_id": ctx.dag_id,
                    "dag_run_id": ctx.dag_run_id,
                }
                for r in results
            ],
        )
    for r in results:
        if r.status in STALE or r.status == "runtime error":
            summary.stale.append(r.name)
            last = r.max_loaded_at.isoformat() if r.max_loaded_at else "never"
            log.warning(
                "SOURCE STALE %s: %s (newest row published %s; warn after %s)",
                r.name,
                r.status,
                last,
                r.warn_after or "-",
            )
    log.info(
        "dbt source freshness: %d source table(s): %s (dbt %s)",
        summary.checked,
        ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items())) or "none",
        "passed" if success else "reported stale sources",
    )
    return summary
