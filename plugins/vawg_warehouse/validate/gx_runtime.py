"""The Great Expectations runtime: GX imported (7-13 s), quietened, and this project's custom
expectations defined and registered.

Importing this module is what costs: only the validator imports it, on first use (never the DAG
file, the CLI's start or a module's import). GX registers an expectation class when the class is
defined, so the classes below exist in any process that validates.

No ``from __future__ import annotations`` here: GX's pydantic models read the field annotations
at class creation.
"""

import logging
import operator

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.compatibility import pydantic
from great_expectations.core import ExpectationSuite
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

logging.getLogger("great_expectations").setLevel(logging.WARNING)

version: str = gx.__version__

__all__ = [
    "ColumnValuesIsoTextBetween",
    "ColumnValuesIsoTextBetweenColumns",
    "ExpectColumnValuesToBeIsoTextBetween",
    "ExpectColumnValuesToBeIsoTextBetweenColumns",
    "ExpectationSuite",
    "ProgressBarsConfig",
    "gx",
    "iso_text_between",
    "version",
]


def iso_text_between(column, min_bound, max_bound):
    """The condition of both ISO rules: each bound a text literal or a column (or None)."""
    within = []
    for bound, is_within in ((min_bound, operator.ge), (max_bound, operator.le)):
        if isinstance(bound, sa.ColumnElement):
            within.append(is_within(sa.func.left(column, sa.func.length(bound)), bound))
        elif bound is not None:
            within.append(is_within(sa.func.left(column, len(bound)), sa.literal(bound)))
    # A value that does not start like a date is the format rule's business, not this one's.
    not_a_date = sa.not_(column.op("~")(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"))
    return sa.or_(not_a_date, sa.and_(*within))


class ColumnValuesIsoTextBetween(ColumnMapMetricProvider):
    """ISO 8601 text compared with ISO 8601 bounds, at the precision of each bound."""

    condition_metric_name = "column_values.iso_text_between"
    condition_value_keys = ("min_value", "max_value")

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, min_value=None, max_value=None, **kwargs):
        return iso_text_between(column, min_value, max_value)


class ColumnValuesIsoTextBetweenColumns(ColumnMapMetricProvider):
    """The same comparison, where a bound may be another column of the row: the batch's own
    parameter, when several batches are validated in one table (together.py)."""

    condition_metric_name = "column_values.iso_text_between_columns"
    condition_value_keys = ("min_value", "max_value", "min_column", "max_column")

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls, column, min_value=None, max_value=None, min_column=None, max_column=None, **kwargs
    ):
        low = sa.column(min_column) if min_column else min_value
        high = sa.column(max_column) if max_column else max_value
        return iso_text_between(column, low, high)


class ExpectColumnValuesToBeIsoTextBetween(ColumnMapExpectation):
    """Expect ISO 8601 dates or timestamps held as text to lie between two ISO 8601 bounds.

    Landing tables hold every column as text, and GX's expect_column_values_to_be_between
    refuses text columns. Well-formed ISO 8601 text sorts in calendar order, so the check is
    a text comparison of the value's first len(bound) characters with the bound (a date bound
    against a timestamp value compares the date part). Values that do not begin YYYY-MM-DD
    are not judged here (the suite's format rule reports them); nulls are ignored.
    Bounds may be suite parameters ({"$PARAMETER": "extract_date"}). SQL engines only.
    """

    min_value: str | SuiteParameterDict | None = None
    max_value: str | SuiteParameterDict | None = None

    map_metric = "column_values.iso_text_between"
    success_keys = ("min_value", "max_value", "mostly")
    args_keys = ("column", "min_value", "max_value")

    @pydantic.root_validator(skip_on_failure=True)
    def _needs_a_bound(cls, values):
        if values.get("min_value") is None and values.get("max_value") is None:
            raise ValueError("min_value and max_value cannot both be None")
        return values


class ExpectColumnValuesToBeIsoTextBetweenColumns(ColumnMapExpectation):
    """Internal, never in a suite file: expect_column_values_to_be_iso_text_between for many
    batches in one table, a bound that differs by batch (extract_date) read from the column
    ``min_column`` / ``max_column`` of each row instead of a suite parameter."""

    min_value: str | SuiteParameterDict | None = None
    max_value: str | SuiteParameterDict | None = None
    min_column: str | None = None
    max_column: str | None = None

    map_metric = "column_values.iso_text_between_columns"
    success_keys = ("min_value", "max_value", "min_column", "max_column", "mostly")
    args_keys = ("column", "min_value", "max_value")
