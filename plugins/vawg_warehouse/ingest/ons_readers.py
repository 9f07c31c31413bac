"""Readers for ONS population estimates as ONS and Nomis publish them, into long rows.

Both publications are wide tables below lines of titles and notes, so they are read into the
long rows their contracts name (one row per area, sex, age column and year), header first, as
the loader's other readers give them (``(line or sheet row, values)``):

* **The mid-year estimates workbook** (``MYE2 - Persons``, ``MYE2 - Females``, ``MYE2 - Males``
  sheets; .xlsx, and .xls with xlrd): each sheet has a title (``... mid-2023``) and notes above
  a header row that starts ``Code, Name``, then ``Geography`` (``Geography1`` in older
  releases), ``All ages`` and one column per single year of age ``0`` ... ``89`` and ``90+``
  (``90`` in some releases). The reference year is read from the titles above the header, else
  from the file name (``...mid2021...``, ``mye22...``). Sheets other than MYE2 are ignored; a
  workbook with none of the MYE2 sheets cannot be read.
* **A Nomis CSV download**: a title line, ``ONS Crown Copyright Reserved [from Nomis on ...]``,
  lines ``"Label :","value"`` (``Date``, ``Sex``, ``Age`` ...), a blank line, the table's header
  (area, ``mnemonic``, then a column per measure: ``All Ages``, ``Aged 16+`` ..., or per date),
  its rows, a blank line and footnotes; a download of several selections repeats that block.
  Rows are read from each block's header to the next blank line; the block's ``Date`` and
  ``Sex`` lines say what its columns hold (a column headed by a year is that year).

Errors name the file, the row and the rule, never a cell's value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from vawg_warehouse.ingest.batches import LoadError
from vawg_warehouse.ingest.readers import (
    Records,
    _cell_text,
    csv_records,
    not_readable,
    open_workbook,
)

# The MYE2 sheets read and the sex each holds (as the contract's `sex` column writes it).
MYE2_SHEETS = {"MYE2 - Persons": "persons", "MYE2 - Females": "females", "MYE2 - Males": "males"}
MYE2_HEADER = ["reference_year", "sex", "area_code", "area_name", "geography", "age", "population"]
NOMIS_HEADER = ["reference_year", "sex", "area_name", "area_code", "measure", "population"]

XLSX_OR_XLS = "file is an .xlsx or .xls workbook"

_MID_YEAR = re.compile(r"mid-?\s?((?:19|20)[0-9]{2})", re.IGNORECASE)
_MYE_SHORT = re.compile(r"mye((?:[0-9]{2}))(?![0-9])", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")


def reference_year(texts: list[str], file_name: str) -> str | None:
    """The estimates' reference year: 'mid-YYYY' in a title above the table, else in the file
    name ('mid2021', 'mid-2021', or 'mye22' for mid-2022)."""
    for text in texts:
        found = _MID_YEAR.search(text)
        if found:
            return found.group(1)
    stem = Path(file_name).name
    found = _MID_YEAR.search(stem)
    if found:
        return found.group(1)
    found = _MYE_SHORT.search(stem)
    if found:
        return f"20{found.group(1)}"
    return None


# --------------------------------------------------------------------------------------------
# Workbooks
# --------------------------------------------------------------------------------------------


def sheets(path: Path, file_name: str) -> Iterator[tuple[str, Iterator[list[str]]]]:
    """(sheet name, rows as text cells) of each sheet of an .xlsx or .xls workbook."""
    if path.suffix.lower() == ".xls" or path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0":
        yield from _xls_sheets(path, file_name)
        return
    with open_workbook(path, file_name, XLSX_OR_XLS) as workbook:
        for name in workbook.sheetnames:
            sheet = workbook[name]
            yield name, ([_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))


def _xls_sheets(path: Path, file_name: str) -> Iterator[tuple[str, Iterator[list[str]]]]:
    try:
        import xlrd
    except ImportError:  # pragma: no cover - xlrd is a dependency; said plainly if missing
        raise LoadError(
            file_name,
            "an .xls workbook needs the xlrd package (or save the workbook as .xlsx)",
            rule=XLSX_OR_XLS,
        ) from None
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a bad file, said plainly
        raise not_readable(file_name, exc, "an Excel workbook", XLSX_OR_XLS) from None
    try:
        for name in book.sheet_names():
            sheet = book.sheet_by_name(name)
            yield (
                name,
                (
                    [_cell_text(c.value) if c.ctype != xlrd.XL_CELL_EMPTY else "" for c in row]
                    for row in sheet.get_rows()
                ),
            )
    finally:
        book.release_resources()


def _is_mye2_header(cells: list[str]) -> bool:
    return len(cells) > 4 and [c.strip().lower() for c in cells[:2]] == ["code", "name"]


def mye2_records(path: Path, file_name: str) -> Records:
    """The MYE2 sheets of a mid-year estimates workbook as long rows (MYE2_HEADER first); a
    row's number is ``sheet position * 1,000,000 + its row in the sheet``, so every line of the
    file has its own number and the sheet row can be read back from it."""
    yield 1, list(MYE2_HEADER)
    found = 0
    for position, (sheet_name, rows) in enumerate(sheets(path, file_name), start=1):
        sex = MYE2_SHEETS.get(sheet_name.strip())
        if sex is None:
            continue
        found += 1
        titles: list[str] = []
        columns: list[str] | None = None
        year: str | None = None
        for number, cells in enumerate(rows, start=1):
            if columns is None:
                if _is_mye2_header(cells):
                    columns = [c.strip() for c in cells]
                    year = reference_year(titles, file_name)
                    if year is None:
                        raise LoadError(
                            file_name,
                            f"sheet {sheet_name!r}: the reference year is in neither the titles "
                            "above the table (mid-YYYY) nor the file name",
                            line=number,
                            rule="the estimates' reference year is known",
                        )
                else:
                    titles.extend(c for c in cells if c)
                continue
            if not any(cells[:2]):
                continue  # a blank row, or notes below the table
            code, name = cells[0], cells[1] if len(cells) > 1 else ""
            geography = cells[2] if len(cells) > 2 else ""
            row_id = position * 1_000_000 + number
            for index in range(3, len(columns)):
                heading = columns[index]
                if not heading:
                    continue
                value = cells[index] if index < len(cells) else ""
                yield row_id, [year, sex, code, name, geography, heading, value]
        if columns is None:
            raise LoadError(
                file_name,
                f"sheet {sheet_name!r}: no header row starting 'Code, Name'",
                rule="each MYE2 sheet has its table's header",
            )
    if not found:
        raise LoadError(
            file_name,
            f"none of the sheets {sorted(MYE2_SHEETS)}",
            rule="workbook has an MYE2 sheet",
        )


# --------------------------------------------------------------------------------------------
# Nomis
# --------------------------------------------------------------------------------------------

_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*$")


def nomis_records(path: Path, file_name: str) -> Records:
    """A Nomis CSV download as long rows (NOMIS_HEADER first), one per area and data column of
    each block; the block's labelled lines give the year and sex."""
    yield 1, list(NOMIS_HEADER)
    labels: dict[str, str] = {}
    columns: list[str] | None = None
    tables = 0
    with path.open(newline="", encoding="utf-8-sig", errors="strict") as source:
        for number, cells in _lines(source, file_name):
            if not any(c.strip() for c in cells):
                if columns is not None:
                    columns, labels = None, {}  # the block ends; footnotes may follow
                continue
            if columns is None:
                label = _LABEL.match(cells[0]) if len(cells) >= 2 else None
                if label:
                    labels[label.group(1).strip().lower()] = cells[1].strip()
                elif len(cells) > 2 and cells[1].strip().lower() == "mnemonic":
                    columns = [c.strip() for c in cells]
                    tables += 1
                continue
            if len(cells) < 2 or not cells[1].strip():
                continue  # a footnote line straight after the table
            year = _YEAR.search(labels.get("date", ""))
            sex = labels.get("sex") or labels.get("gender") or "Total"
            for index in range(2, len(columns)):
                heading = columns[index]
                in_heading = _YEAR.search(heading)
                if in_heading and not re.search(r"[Aa]ge", heading):
                    row_year, measure = in_heading.group(1), labels.get("age", "All Ages")
                else:
                    row_year, measure = (year.group(1) if year else ""), heading
                value = cells[index] if index < len(cells) else ""
                yield number, [row_year, sex, cells[0].strip(), cells[1].strip(), measure, value]
    if not tables:
        raise LoadError(
            file_name,
            "no table header (a row whose second column is 'mnemonic')",
            rule="a Nomis download has its table's header",
        )


def _lines(source, file_name: str) -> Iterator[tuple[int, list[str]]]:
    """Every line with its number, blank ones included (they end a Nomis block)."""
    reader = csv.reader(source)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except UnicodeDecodeError:
        raise LoadError(
            file_name, "not valid UTF-8 (save the file as UTF-8)", rule="file is UTF-8 text"
        ) from None
    except csv.Error:
        raise LoadError(
            file_name, "not readable as CSV", line=reader.line_num, rule="file is CSV"
        ) from None


READERS = {"ons_mye_workbook": mye2_records, "nomis_csv": nomis_records}

__all__ = ["READERS", "mye2_records", "nomis_records", "reference_year", "csv_records"]
