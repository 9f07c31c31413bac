"""The rules a suite takes from its contract rather than from its JSON file.

Two kinds, added after the file's own expectations by ``suites.read_suite``:

* a date column's bounds (``bounds: {earliest, latest}`` in the contract): a value before the
  earliest or after the latest (the day after the run, or N years after it) is critical, so the
  row is set aside (or the file, where rows may not be);
* a person identifier's alphabet (``alphabet`` in the contract, else
  contracts.DEFAULT_ID_ALPHABET): the loader does not pseudonymise an identifier with another
  character but stores :data:`privacy.OUTSIDE_ALPHABET` in its place (never the value, never a
  pseudonym that would make a second, unlinkable person), and this rule sets the row aside.

Both are kinds the many-batches path combines (combine.ROW_RULES).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from vawg_warehouse.ingest.contracts import Column, Contract
from vawg_warehouse.ingest.privacy import OUTSIDE_ALPHABET

# The run's latest date (suites.run_parameters: the day after the run) and, N years on.
LATEST_DATE = "latest_date"


def latest_parameter(years: int) -> str:
    return LATEST_DATE if years == 0 else f"latest_date_plus_{years}_years"


def latest_dates(contract: Contract, latest_date: str) -> dict[str, str]:
    """The parameters the contract's date bounds need, from the run's latest date."""
    day = date.fromisoformat(latest_date)
    found = {}
    for column in contract.columns:
        if column.bounds is not None:
            years = column.bounds.years_after_run
            try:
                later = day.replace(year=day.year + years)
            except ValueError:  # 29 February, in a year without one
                later = day.replace(year=day.year + years, day=28) + timedelta(days=1)
            found[latest_parameter(years)] = later.isoformat()
    return found


def _latest_words(years: int) -> str:
    if years == 0:
        return "the day after the run"
    return "a year after the run" if years == 1 else f"{years} years after the run"


def _bounds_rule(column: Column) -> dict[str, Any]:
    assert column.bounds is not None
    years = column.bounds.years_after_run
    return {
        "type": "expect_column_values_to_be_iso_text_between",
        "kwargs": {
            "column": column.stored_name,
            "min_value": column.bounds.earliest,
            "max_value": {"$PARAMETER": latest_parameter(years)},
        },
        "severity": "critical",
        "meta": {
            "rule": f"{column.name} is between {column.bounds.earliest} and {_latest_words(years)}",
            "from_contract": "bounds",
        },
        "notes": (
            "The contract's bounds: a date outside them is a typing or extract error; the row is "
            "set aside, never counted in a period it does not belong to. Compared as ISO text; "
            "values that are not dates are left to the format rule; empty is left to not-null."
        ),
    }


def _alphabet_rule(column: Column) -> dict[str, Any]:
    return {
        "type": "expect_column_values_to_match_regex",
        # The loader's mark, which starts with "!": a pseudonym is hex, never that (blank is
        # the not-blank rule's).
        "kwargs": {"column": column.stored_name, "regex": f"^([^{OUTSIDE_ALPHABET[0]}]|$)"},
        "severity": "critical",
        "meta": {
            "rule": f"{column.name} holds only the characters of its contract's alphabet",
            "from_contract": "alphabet",
        },
        "notes": (
            f"The contract's alphabet for {column.name}: {column.alphabet}, after Unicode NFKC "
            "normalisation. An identifier with another character (a look-alike letter of another "
            "script) would hash to a second pseudonym for what reads as the same person: the "
            "loader stores a mark instead of its pseudonym, and the row is set aside."
        ),
    }


def contract_expectations(contract: Contract) -> list[dict[str, Any]]:
    """The contract's own rules, in column order: alphabets, then date bounds."""
    rules = [_alphabet_rule(c) for c in contract.columns if c.alphabet]
    rules += [_bounds_rule(c) for c in contract.columns if c.bounds is not None]
    return rules
