"""Which rules of a suite can be checked for many batches in one table, and how.

No GX and no database here: the suite's rules are sorted into kinds (rows, columns, row count,
query), rewritten for a table that holds many batches (a bound that differs by batch becomes a
column; "unique within the file" becomes unique over (``_batch_id``, column)), and a batch that
broke nothing gets, for each expectation, what GX reports for it passing alone. ``together.py``
runs them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from psycopg import sql

from vawg_warehouse.validate.results import expectation_result
from vawg_warehouse.validate.suites import (
    QUERY_RULE,
    SuiteFile,
)

log = logging.getLogger(__name__)


BATCH_COLUMN = "_batch_id"


PARAMETER_COLUMN = "_parameter_{}"


COMBINED = "counts, then row numbers of failures; rows checked with other batches of the run"


ISO_BETWEEN = "expect_column_values_to_be_iso_text_between"


ISO_BETWEEN_COLUMNS = "expect_column_values_to_be_iso_text_between_columns"


UNIQUE = "expect_column_values_to_be_unique"


COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"


NOT_NULL = "expect_column_values_to_not_be_null"


PAIR = "expect_column_pair_values_a_to_be_greater_than_b"


COLUMNS_RULE = "expect_table_columns_to_match_set"


ROW_COUNT_RULE = "expect_table_row_count_to_be_between"


# The expectations this module can combine, with every keyword each may carry. A suite with any
# other type or keyword (mostly, row_condition, strict bounds...) is validated batch by batch.
ROW_RULES: dict[str, frozenset[str]] = {
    NOT_NULL: frozenset({"column"}),
    "expect_column_values_to_match_regex": frozenset({"column", "regex"}),
    "expect_column_values_to_be_in_set": frozenset({"column", "value_set"}),
    ISO_BETWEEN: frozenset({"column", "min_value", "max_value"}),
    PAIR: frozenset({"column_A", "column_B", "or_equal", "ignore_row_if"}),
    UNIQUE: frozenset({"column"}),
}


TABLE_RULES: dict[str, frozenset[str]] = {
    COLUMNS_RULE: frozenset({"column_set", "exact_match"}),
    ROW_COUNT_RULE: frozenset({"min_value", "max_value"}),
    QUERY_RULE: frozenset({"unexpected_rows_query"}),
}


# Which rows GX counts as judged (its "nonnull" count) for a column pair, by ignore_row_if.
PAIR_JUDGED = {
    "either_value_is_missing": "{a} is not null and {b} is not null",
    "both_values_are_missing": "{a} is not null or {b} is not null",
    "neither": "true",
}


@dataclass(frozen=True)
class BatchToValidate:
    """One landing table to validate, with what :func:`quality.run_parameters` needs."""

    batch_id: int
    table: str  # landing.<dataset>__b<batch_id>
    parameters: dict[str, Any] | None = None
    file_name: str | None = None
    run_date: date | None = None


def rule_kinds(file: SuiteFile) -> tuple[str, ...] | None:
    """Each expectation's kind (row, columns, row_count, query), or None if one does not fit."""
    kinds = []
    for e in file.expectations:
        kwargs = e.get("kwargs") or {}
        if e["type"] in ROW_RULES and set(kwargs) <= ROW_RULES[e["type"]]:
            kinds.append("row")
        elif e["type"] == COLUMNS_RULE and set(kwargs) <= TABLE_RULES[COLUMNS_RULE]:
            if kwargs.get("exact_match") is not True:
                return None
            kinds.append("columns")
        elif e["type"] == ROW_COUNT_RULE and set(kwargs) <= TABLE_RULES[ROW_COUNT_RULE]:
            kinds.append("row_count")
        elif e["type"] == QUERY_RULE and set(kwargs) <= TABLE_RULES[QUERY_RULE]:
            if not isinstance(kwargs.get("unexpected_rows_query"), str):
                return None  # a parameterised query: judged with GX, batch by batch
            kinds.append("query")
        else:
            return None
    if kinds.count("columns") != 1:
        return None  # the scratch table is built from the contract's column set
    return tuple(kinds)


def countable(file: SuiteFile, kinds: Sequence[str], params: dict[str, Any]) -> bool:
    """Whether the row-count rules' bounds are whole numbers (or none), as GX compares them."""
    return all(
        resolve(e["kwargs"].get(k), params) is None
        or type(resolve(e["kwargs"].get(k), params)) is int
        for e, kind in zip(file.expectations, kinds, strict=True)
        if kind == "row_count"
        for k in ("min_value", "max_value")
    )


def column_set(file: SuiteFile) -> set[str]:
    (rule,) = [e for e in file.expectations if e["type"] == COLUMNS_RULE]
    return set(rule["kwargs"]["column_set"])


def parameter_name(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        return value["$PARAMETER"]
    return None


def parameters_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        name = parameter_name(value)
        return {name} if name else set().union(*(parameters_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(parameters_in(v) for v in value))
    return set()


def parameter_columns(file: SuiteFile, kinds: Sequence[str], params: dict[int, dict]) -> set[str]:
    """Parameters that differ between the batches and bound an ISO rule: they become columns."""
    varying = varying_parameters(params)
    found = set()
    for e, kind in zip(file.expectations, kinds, strict=True):
        if kind == "row" and e["type"] == ISO_BETWEEN:
            for bound in ("min_value", "max_value"):
                name = parameter_name(e["kwargs"].get(bound))
                if name in varying and all(isinstance(p.get(name), str) for p in params.values()):
                    found.add(name)
    return found


def varying_parameters(params: dict[int, dict]) -> set[str]:
    """The parameters whose values are not the same for every batch."""
    values = list(params.values())
    keys = set().union(*values)
    return {k for k in keys if any(p.get(k) != values[0].get(k) for p in values)}


def groups(
    file: SuiteFile,
    kinds: Sequence[str],
    batches: list[BatchToValidate],
    params: dict[int, dict],
) -> list[list[BatchToValidate]]:
    """Batches that can share one run: the same value of every parameter a rule on rows reads,
    except the ISO bounds that become columns."""
    if len(batches) < 2:
        return [batches]
    mine = {b.batch_id: params[b.batch_id] for b in batches}
    varying = varying_parameters(mine) - parameter_columns(file, kinds, mine)
    read = set().union(
        *(
            parameters_in(e.get("kwargs"))
            for e, kind in zip(file.expectations, kinds, strict=True)
            if kind == "row"
        )
    )
    keys = sorted(varying & read)
    groups: dict[str, list[BatchToValidate]] = {}
    for b in batches:
        key = json.dumps([mine[b.batch_id].get(k) for k in keys], sort_keys=True, default=str)
        groups.setdefault(key, []).append(b)
    return list(groups.values())


def combined_expectations(
    file: SuiteFile, kinds: Sequence[str], as_columns: set[str]
) -> tuple[list[dict], list[int]]:
    """The suite's rules on rows, written for the scratch table; and their indexes in the file."""
    written, indexes = [], []
    for index, (e, kind) in enumerate(zip(file.expectations, kinds, strict=True)):
        if kind != "row":
            continue
        kwargs = dict(e["kwargs"])
        type_ = e["type"]
        if type_ == UNIQUE:
            type_ = COMPOUND_UNIQUE
            kwargs = {
                "column_list": [BATCH_COLUMN, kwargs["column"]],
                "ignore_row_if": "any_value_is_missing",  # as the column rule ignores nulls
            }
        elif type_ == ISO_BETWEEN:
            for bound in ("min", "max"):
                name = parameter_name(kwargs.get(f"{bound}_value"))
                if name in as_columns:
                    del kwargs[f"{bound}_value"]
                    kwargs[f"{bound}_column"] = PARAMETER_COLUMN.format(name)
            if any(k.endswith("_column") for k in kwargs):
                type_ = ISO_BETWEEN_COLUMNS
        written.append(
            {"type": type_, "kwargs": kwargs, "severity": e["severity"], "meta": e["meta"]}
        )
        indexes.append(index)
    return written, indexes


def judged_key(e: dict) -> str | None:
    """Which count GX divides by for a rule on rows (None: the table's rows, for not-null)."""
    if e["type"] == NOT_NULL:
        return None
    if e["type"] == PAIR:
        kw = e["kwargs"]
        return f"pair:{kw['column_A']}:{kw['column_B']}:{kw.get('ignore_row_if')}"
    return f"column:{e['kwargs']['column']}"


def unexpected_condition(
    e: dict, params: dict[str, Any]
) -> tuple[sql.Composable, list[Any]] | None:
    """SQL true for a row that breaks a rule on rows (as written for the scratch table), with
    its parameters: the condition GX builds for that expectation. None for uniqueness (not a
    condition on one row) and for rules this module does not combine."""
    kw = e["kwargs"]
    column = sql.Identifier(kw["column"]) if "column" in kw else None
    values: list[Any] = []
    if e["type"] == NOT_NULL:
        return sql.SQL("{} is null").format(column), values
    if e["type"] == "expect_column_values_to_match_regex":
        where = sql.SQL("{c} is not null and not ({c} ~ %s)").format(c=column)
        return where, [resolve(kw["regex"], params)]
    if e["type"] == "expect_column_values_to_be_in_set":
        allowed = resolve(kw["value_set"], params)
        if not isinstance(allowed, list) or any(v is None for v in allowed):
            return None
        return sql.SQL("{c} is not null and not ({c} = any(%s))").format(c=column), [allowed]
    if e["type"] in (ISO_BETWEEN, ISO_BETWEEN_COLUMNS):
        within = []
        for bound, compare in (("min", ">="), ("max", "<=")):
            if kw.get(f"{bound}_column"):
                other = sql.Identifier(kw[f"{bound}_column"])
                within.append(sql.SQL("left({c}, length({o})) " + compare + " {o}").format(
                    c=column, o=other
                ))  # fmt: skip
            elif (value := resolve(kw.get(f"{bound}_value"), params)) is not None:
                within.append(sql.SQL("left({c}, %s) " + compare + " %s").format(c=column))
                values += [len(value), value]
        where = sql.SQL("{c} ~ {date} and not ({within})").format(
            c=column,
            date=sql.Literal("^[0-9]{4}-[0-9]{2}-[0-9]{2}"),
            within=sql.SQL(" and ").join(within) if within else sql.SQL("true"),
        )
        return where, values
    if e["type"] == PAIR:
        a, b = sql.Identifier(kw["column_A"]), sql.Identifier(kw["column_B"])
        judged = PAIR_JUDGED[kw.get("ignore_row_if", "both_values_are_missing")]
        greater = ">=" if kw.get("or_equal") else ">"
        where = sql.SQL("(" + judged + ") and not ({a} " + greater + " {b})").format(a=a, b=b)
        return where, values
    return None


def passing_results(
    file: SuiteFile,
    kinds: Sequence[str],
    columns: Sequence[str],
    counted: dict[str, int],
    params: dict[str, Any],
) -> tuple:
    """Each expectation's result on a batch none of whose rules on rows failed, as GX words it
    (the formulas of its map expectations and table metrics), read like GX's own results."""
    n = counted["rows"]
    results = []
    for index, (e, kind) in enumerate(zip(file.expectations, kinds, strict=True)):
        success = True
        if kind == "columns":
            body: dict[str, Any] = {"observed_value": sorted(columns)}
        elif kind == "row_count":
            low, high = (resolve(e["kwargs"].get(k), params) for k in ("min_value", "max_value"))
            success = (low is None or n >= low) and (high is None or n <= high)
            body = {"observed_value": n}
        elif kind == "query":
            body = {"observed_value": 0}
        else:
            key = judged_key(e)
            judged = n if key is None else counted[key]
            body = {
                "element_count": n,
                "unexpected_count": 0,
                "unexpected_percent": 0.0 if n > 0 and judged > 0 else None,
            }
        gx_result = SimpleNamespace(result=body, success=success, exception_info=None)
        results.append(expectation_result(gx_result, file, index))
    return tuple(results)


def resolve(value: Any, params: dict[str, Any]) -> Any:
    name = parameter_name(value)
    return params.get(name) if name else value
