"""Reading a workbook the way its contract says, or quarantining it with the sheet, cell and rule.

A workbook that cannot be read as its contract says is set aside whole (a LoadError: the batch is
quarantined, the rest of its family goes on, `vawg quarantine list` shows it), never failed and
retried every night. What it names is the file, the sheet, the cell reference and the rule, never
what the cell holds (it may be personal data, and a message travels: audit events, the run report,
logs, alerts):

* a file that does not open (truncated, password-protected: an encrypted workbook is not a zip,
  not an .xlsx at all) or whose sheet breaks off half-way;
* the contract's sheet hidden (a return someone meant to withdraw, or a template's copy);
* a formula with no cached value (the workbook was written by a program, never opened and
  saved in Excel): its value cannot be known without Excel, and an empty cell would be wrong;
* text in a cell of a numeric or date column (``integer``, ``numeric``, ``date``,
  ``timestamp``): PostgreSQL would refuse it at publish, quoting it in its own log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from vawg_warehouse.ingest.batches import LoadError
from vawg_warehouse.ingest.contracts import Contract
from vawg_warehouse.ingest.readers import Records, _cell_text, open_workbook, sheet_name

NUMBER_TYPES = ("integer", "numeric")
DATE_TYPES = ("date", "timestamp")
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}([T ][0-9:.+-Z]*)?\s*$")


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _fits(value: object, column_type: str) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True  # an empty cell: required-ness is the suite's rule
    if column_type in NUMBER_TYPES:
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return column_type == "numeric" or float(value).is_integer()
        return (
            isinstance(value, str)
            and bool(_NUMBER.match(value))
            and (column_type == "numeric" or float(value).is_integer())
        )
    if column_type in DATE_TYPES:
        return isinstance(value, date | datetime) or (
            isinstance(value, str) and bool(_ISO_DATE.match(value))
        )
    return True


def records(path: Path, file_name: str, contract: Contract) -> Records:
    """The rows of the contract's worksheet as text, with their row numbers (header first), each
    cell checked as above; raises LoadError naming the sheet, cell and rule."""
    sheet = contract.file_format.get("sheet")
    with (
        open_workbook(path, file_name) as values_book,
        open_workbook(path, file_name, formulas=True) as formula_book,
    ):
        name = sheet_name(values_book, sheet, file_name)
        if getattr(values_book[name], "sheet_state", "visible") != "visible":
            raise LoadError(
                file_name,
                f"sheet {name!r} is hidden",
                rule="the return is on a visible sheet",
            )
        yield from _checked_rows(values_book[name], formula_book[name], name, file_name, contract)


def _checked_rows(values_sheet, formula_sheet, name: str, file_name: str, contract: Contract):
    types = {c.name: c.type for c in contract.columns}
    checks: dict[int, tuple[str, str]] = {}  # column index -> (column name, type) to check
    number = 0
    rows = zip(
        values_sheet.iter_rows(values_only=True),
        formula_sheet.iter_rows(values_only=True),
        strict=False,
    )
    try:
        for number, (row, formulas) in enumerate(_guarded(rows, name, file_name), start=1):
            for index, written in enumerate(formulas):
                if (
                    isinstance(written, str)
                    and written.startswith("=")
                    and (index >= len(row) or row[index] is None)
                ):
                    raise LoadError(
                        file_name,
                        f"sheet {name!r}, cell {_column_letter(index)}{number}: a formula with "
                        "no saved value (open the workbook in Excel and save it)",
                        line=number,
                        rule="formulas have saved values",
                    )
            values = [_cell_text(v) for v in row]
            while values and values[-1] == "":
                values.pop()
            if not values:
                continue
            if not checks:  # the header: which columns hold numbers or dates
                checks = {
                    i: (h.strip(), types[h.strip()])
                    for i, h in enumerate(values)
                    if h.strip() in types and types[h.strip()] in (*NUMBER_TYPES, *DATE_TYPES)
                }
            else:
                for index, (column, column_type) in checks.items():
                    if index < len(row) and not _fits(row[index], column_type):
                        kind = "a number" if column_type in NUMBER_TYPES else "a date"
                        if column_type == "integer":
                            kind = "a whole number"
                        raise LoadError(
                            file_name,
                            f"sheet {name!r}, cell {_column_letter(index)}{number}: not "
                            f"{kind} in column {column}",
                            line=number,
                            rule=f"{column} is {column_type}",
                        )
            yield number, values
    except LoadError:
        raise


def _guarded(rows: Iterator, name: str, file_name: str) -> Iterator:
    """The rows; a sheet that breaks off (a truncated file, broken XML) is a LoadError naming
    the last row read, never the parser's message (it may quote the cell)."""
    number = 0
    while True:
        try:
            pair = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - the parser's own text may quote a cell
            raise LoadError(
                file_name,
                f"sheet {name!r} breaks off after row {number} ({type(exc).__name__}): "
                "the workbook is truncated or damaged",
                line=number + 1,
                rule="file is an .xlsx workbook",
            ) from None
        number += 1
        yield pair
