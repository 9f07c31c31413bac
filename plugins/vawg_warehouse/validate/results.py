"""What a validation found: one result per expectation, a report per batch, GX's results read
into them, the message for people and the audit rows (``audit.validation_run`` /
``audit.validation_result``).

Never a cell value: counts, up to MAX_FAILING_ROWS line numbers, and for table-level rules GX's
observed value (row count, column names).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vawg_warehouse.validate.suites import QUERY_RULE, ROW_NUMBER_COLUMN, SuiteFile

if TYPE_CHECKING:
    pass


log = logging.getLogger(__name__)


MAX_FAILING_ROWS = 20


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation of the suite on one batch. Never holds data values."""

    index: int  # position in the suite file
    rule: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    failing_row_numbers: tuple[int, ...] = ()
    observed_value: Any = None  # table-level expectations only (row count, column list)
    # The kwargs as written in the suite file: parameters unresolved, so never a value list.
    kwargs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # set when GX could not evaluate the expectation
    # SQL selecting the _row_number of every failing row (row-level rules that failed, after
    # pass 2); None for table-level rules and when GX gives none. Never stored, never logged.
    failing_rows_query: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    dataset: str
    table: str
    batch_id: int
    suite_name: str
    suite_sha256: str
    gx_version: str
    result_format: str
    parameters: dict[str, str]  # extract_date, as_of (the allowed-value lists are left out)
    results: tuple[ExpectationResult, ...]
    started_at: datetime
    finished_at: datetime
    dag_run_id: str | None = None

    @property
    def failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success]

    @property
    def critical_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failures if r.severity == "critical"]

    @property
    def warning_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failures if r.severity != "critical"]

    @property
    def success(self) -> bool:
        """No critical failure: the batch may be published (warnings are flagged, not blocking)."""
        return not self.critical_failures

    def failed_rules(self) -> list[str]:
        """The rules that failed, critical first (for event details and logs: no data values)."""
        return [r.rule for r in self.critical_failures + self.warning_failures]

    @property
    def all_passed(self) -> bool:
        return not self.failures


def expectation_result(result: Any, file: SuiteFile, index: int) -> ExpectationResult:
    declared = file.expectations[index]
    kwargs = declared.get("kwargs", {})
    body = result.result or {}
    table_level = declared["type"].startswith("expect_table_")
    if declared["type"] == QUERY_RULE:  # observed_value: how many rows the query returned
        body = {
            "unexpected_count": body.get("observed_value"),
            "partial_unexpected_index_list": (body.get("details") or {}).get("unexpected_rows"),
        }
    failing = () if result.success else _row_numbers(body.get("partial_unexpected_index_list"))
    rows_query = None if result.success else body.get("unexpected_index_query")
    unexpected_percent = body.get("unexpected_percent")
    return ExpectationResult(
        index=index,
        rule=declared["meta"]["rule"],
        expectation_type=declared["type"],
        column=kwargs.get("column") or _columns(kwargs),
        severity=declared["severity"],
        success=bool(result.success),
        element_count=body.get("element_count"),
        unexpected_count=body.get("unexpected_count"),
        unexpected_percent=None if unexpected_percent is None else float(unexpected_percent),
        failing_row_numbers=failing,
        observed_value=body.get("observed_value") if table_level else None,
        kwargs=kwargs,
        error=_exception_message(result.exception_info),
        failing_rows_query=rows_query if isinstance(rows_query, str) else None,
    )


def _columns(kwargs: dict[str, Any]) -> str | None:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def _row_numbers(index_list: Any) -> tuple[int, ...]:
    """Line numbers from GX's partial_unexpected_index_list, in either of its two shapes."""
    numbers: list[int] = []
    for entry in index_list or []:
        value = entry.get(ROW_NUMBER_COLUMN) if isinstance(entry, dict) else None
        if isinstance(value, list):
            numbers.extend(int(v) for v in value)
        elif value is not None:
            numbers.append(int(value))
    return tuple(sorted(set(numbers))[:MAX_FAILING_ROWS])


def _exception_message(info: Any) -> str | None:
    """The first line of the first exception GX caught, if any (no traceback, no SQL)."""
    if not isinstance(info, dict):
        return None
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception") and candidate.get("exception_message"):
            first_line = str(candidate["exception_message"]).strip().splitlines()[0]
            return first_line[:300]
    return None


def format_failures(
    report: ValidationReport, file_name: str, rows_set_aside: int | None = None
) -> str:
    """A message for people: the file, then each failing rule with its severity, count and lines.

    ``rows_set_aside``: the rows row-level quarantine took out of the batch, if it did."""
    head = f"{file_name} (batch {report.batch_id}, suite {report.suite_name})"
    if report.all_passed:
        return f"{head}: all {len(report.results)} expectations passed"
    if rows_set_aside:
        verdict = f"{rows_set_aside} row(s) set aside in quarantine, the rest goes on"
    else:
        verdict = "quarantined" if not report.success else "published with warnings"
    lines = [
        f"{head}: {len(report.critical_failures)} critical and "
        f"{len(report.warning_failures)} warning expectation(s) failed; {verdict}"
    ]
    ordered = report.critical_failures + report.warning_failures
    for r in ordered:
        lines.append(f"  {r.severity.upper():8} {r.rule}: {_describe(r)}")
    return "\n".join(lines)


def _describe(r: ExpectationResult) -> str:
    if r.error:
        return f"could not be checked ({r.error})"
    if r.expectation_type == "expect_table_columns_to_match_set":
        expected = set(r.kwargs.get("column_set") or [])
        observed = set(r.observed_value or [])
        parts = []
        if expected - observed:
            parts.append("missing " + ", ".join(sorted(expected - observed)))
        if observed - expected:
            parts.append("unexpected " + ", ".join(sorted(observed - expected)))
        return "; ".join(parts) or f"observed {r.observed_value}"
    if r.unexpected_count is None:
        if r.observed_value is not None:
            return f"observed {json.dumps(r.observed_value)}"
        return "failed"
    count = r.unexpected_count
    text = f"{count} row{'s' if count != 1 else ''}"
    if r.element_count:
        text += f" of {r.element_count}"
    if r.failing_row_numbers:
        lines = ", ".join(str(n) for n in r.failing_row_numbers)
        more = " (first 20)" if count > len(r.failing_row_numbers) else ""
        text += f", line{'s' if len(r.failing_row_numbers) != 1 else ''} {lines}{more}"
    return text
