"""Sheets of a published spreadsheet (.ods, .xlsx, .xls) as rows of text, and a long table spread
over several sheets as one table.

Publishers put long tables in spreadsheets: the Home Office's police recorded crime open data
tables by police force area come as an OpenDocument spreadsheet with one sheet per range of
financial years, each sheet the same long table (Financial Year, Financial Quarter, Force Name,
Offence Description, ... Number of Offences), sometimes below a title or notes. The loader reads
such a file as it is published, without an export to CSV: :func:`long_table_records` finds each
sheet whose header row holds the contract's headers and gives their rows as one table, header
first, as the CSV reader does. Sheets without the header (a cover sheet, notes, contents) are
skipped; a workbook with none is a LoadError.

OpenDocument is read from the file's ``content.xml``, streamed (``iterparse``, each row freed
once read), with no extra package: a cell's value is its ``office:value`` (numbers), its date or
boolean value, else its text; repeated cells and rows (``number-columns-repeated``,
``number-rows-repeated``) are expanded, except the empty runs that pad a sheet to its last column
and row. .xlsx is read by openpyxl (read-only) and .xls by xlrd, as the ONS readers do.

Errors name the file, the sheet and the row, never a cell's value.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import iterparse

from vawg_warehouse.ingest.batches import LoadError
from vawg_warehouse.ingest.readers import Records, _cell_text, not_readable

WORKBOOK_SUFFIXES = (".ods", ".xlsx", ".xls")
SPREADSHEET = "file is an .ods, .xlsx or .xls spreadsheet"

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_SHEET = f"{{{_TABLE}}}table"
_ROW = f"{{{_TABLE}}}table-row"
_CELLS = (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell")
_PARAGRAPH = f"{{{_TEXT}}}p"
_SPACE = f"{{{_TEXT}}}s"
_TAB = f"{{{_TEXT}}}tab"
_LINE_BREAK = f"{{{_TEXT}}}line-break"

# A run of repeated, non-empty rows or cells larger than this is not a table a publisher meant.
MAX_REPEAT = 100_000

SheetRow = tuple[str, int, list[str]]  # (sheet name, row number in the sheet, cells as text)


def _paragraph_text(element) -> str:
    """The text of a text:p, with its text:s (spaces), tabs and line breaks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == _SPACE:
            parts.append(" " * int(child.get(f"{{{_TEXT}}}c", "1")))
        elif child.tag == _TAB:
            parts.append("\t")
        elif child.tag == _LINE_BREAK:
            parts.append("\n")
        else:
            parts.append(_paragraph_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _ods_cell(cell) -> str:
    kind = cell.get(f"{{{_OFFICE}}}value-type")
    if kind in ("float", "percentage", "currency"):
        value = cell.get(f"{{{_OFFICE}}}value")
        if value is not None:
            return _cell_text(float(value)) if "." in value or "e" in value.lower() else value
    elif kind == "date":
        value = cell.get(f"{{{_OFFICE}}}date-value", "")
        return value[:10] if value.endswith("T00:00:00") or len(value) == 10 else value
    elif kind == "boolean":
        return cell.get(f"{{{_OFFICE}}}boolean-value", "")
    return "\n".join(_paragraph_text(p) for p in cell if p.tag == _PARAGRAPH).strip()


def _repeat(element, attribute: str) -> int:
    return int(element.get(f"{{{_TABLE}}}{attribute}", "1"))


def ods_rows(path: Path, file_name: str) -> Iterator[SheetRow]:
    """Every non-empty row of every sheet of an OpenDocument spreadsheet, streamed."""
    try:
        archive = zipfile.ZipFile(path)
        content = archive.open("content.xml")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise not_readable(file_name, exc, "an OpenDocument spreadsheet", SPREADSHEET) from None
    sheet, number = "", 0
    try:
        with archive, content:
            for event, element in iterparse(content, events=("start", "end")):
                if event == "start":
                    if element.tag == _SHEET:
                        sheet, number = element.get(f"{{{_TABLE}}}name", ""), 0
                    continue
                if element.tag != _ROW:
                    continue
                cells: list[str] = []
                empty_run = 0  # empty cells not yet written: only if a value follows
                for cell in element:
                    if cell.tag not in _CELLS:
                        continue
                    text, times = _ods_cell(cell), _repeat(cell, "number-columns-repeated")
                    if not text:
                        empty_run += times
                        continue
                    if times > MAX_REPEAT:
                        raise LoadError(
                            file_name,
                            f"sheet {sheet!r}, row {number + 1}: a value repeated {times} times",
                            line=number + 1,
                            rule=SPREADSHEET,
                        )
                    cells.extend([""] * empty_run + [text] * times)
                    empty_run = 0
                rows = _repeat(element, "number-rows-repeated")
                element.clear()
                if not cells:
                    number += rows  # empty rows: counted, never expanded
                    continue
                if rows > MAX_REPEAT:
                    raise LoadError(
                        file_name,
                        f"sheet {sheet!r}, row {number + 1}: a row repeated {rows} times",
                        line=number + 1,
                        rule=SPREADSHEET,
                    )
                for _ in range(rows):
                    number += 1
                    yield sheet, number, list(cells)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser's message may quote a cell: never shown
        raise LoadError(
            file_name,
            f"sheet {sheet!r} breaks off after row {number} ({type(exc).__name__}): the "
            "spreadsheet is truncated or damaged",
            line=number + 1,
            rule=SPREADSHEET,
        ) from None


def workbook_rows(path: Path, file_name: str) -> Iterator[SheetRow]:
    """Every row of every sheet of an .ods, .xlsx or .xls file."""
    if path.suffix.lower() == ".ods":
        yield from ods_rows(path, file_name)
        return
    from vawg_warehouse.ingest.ons_readers import sheets  # .xlsx (openpyxl) and .xls (xlrd)

    for name, rows in sheets(path, file_name):
        for number, cells in enumerate(rows, start=1):
            if any(cells):
                yield name, number, cells


def long_table_records(path: Path, file_name: str, headers: list[str]) -> Records:
    """One long table from every sheet whose header row holds all of ``headers`` (the
    contract's file headers): that header first (the first such sheet's), then the rows of each
    such sheet in its order, numbered ``sheet position * 1,000,000 + row`` so the sheet row can
    be read back. Rows above a sheet's header (titles, notes) and sheets without the header are
    skipped."""
    wanted = {h.strip().lower() for h in headers}
    first: list[str] | None = None
    order: list[int | None] = []
    sheet, position, found = None, 0, 0
    for name, number, cells in workbook_rows(path, file_name):
        if name != sheet:
            sheet, position, order = name, position + 1, []
        if not order:
            cleaned = [c.strip() for c in cells]
            if not wanted <= {c.lower() for c in cleaned}:
                continue  # a title, a note, or a sheet that is not the table
            found += 1
            if first is None:
                first = [c for c in cleaned if c]
                yield position * 1_000_000 + number, list(first)
            lowered = [c.lower() for c in cleaned]
            order = [lowered.index(h.lower()) if h.lower() in lowered else None for h in first]
            continue
        yield (
            position * 1_000_000 + number,
            ["" if i is None or i >= len(cells) else cells[i] for i in order],
        )
    if not found:
        raise LoadError(
            file_name,
            f"no sheet has a header row with the columns {sorted(headers)}",
            rule="a sheet holds the table's header",
        )
