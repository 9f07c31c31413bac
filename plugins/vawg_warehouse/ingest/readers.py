"""Readers of source files: rows of a CSV or XLSX file as (line number, values), header first."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path

from vawg_warehouse.ingest.batches import LoadError

Records = Iterator[tuple[int, list[str]]]  # (line or sheet row number, values); header first


# A field may be long (free text): up to 16 MiB is read, so the row meets the contract's rules
# (a pattern, a code list) instead of the file failing as a whole. Process-wide: csv keeps one.
FIELD_SIZE_LIMIT = 16 << 20


csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))


def csv_records(source: io.TextIOBase, file_name: str) -> Records:
    """The rows of a CSV file with their line numbers (blank lines skipped).

    A row's number is the line it starts on (a quoted field may hold line breaks). Errors name
    the line and the rule, never the text: csv's own messages may quote the row.
    """
    reader = csv.reader(_without_nul(source, file_name))
    start = 1
    try:
        for record in reader:
            if record:
                yield start, record
            start = reader.line_num + 1
    except UnicodeDecodeError:
        raise LoadError(
            file_name,
            "not valid UTF-8 (save the file as UTF-8)",
            line=_first_bad_utf8_line(source),
            rule="file is UTF-8 text",
        ) from None
    except csv.Error as exc:
        del exc  # its message may quote the row
        raise LoadError(
            file_name,
            "not readable as CSV: quoting, or a field too long",
            line=reader.line_num,
            rule="file is CSV",
        ) from None


def _without_nul(source: Iterable[str], file_name: str) -> Iterator[str]:
    """The lines of a text file, refusing a NUL character (a binary file, or a broken export:
    PostgreSQL text cannot hold one and csv reads it as data)."""
    for number, line in enumerate(source, start=1):
        if "\x00" in line:
            raise LoadError(
                file_name, "a NUL byte (is this a text file?)", line=number, rule="file is CSV"
            )
        yield line


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV would hold: ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def not_readable(file_name: str, exc: BaseException, kind: str, rule: str) -> LoadError:
    """The error for a file that cannot be opened as ``kind``: the error's class, never its
    message (which may quote the file's content)."""
    return LoadError(
        file_name,
        f"not readable as {kind} ({type(exc).__name__}: truncated, damaged, "
        "password-protected or another format)",
        rule=rule,
    )


@contextlib.contextmanager
def open_workbook(
    path: Path, file_name: str, rule: str = "file is an .xlsx workbook", *, formulas: bool = False
) -> Iterator:
    """An .xlsx workbook opened read-only (streamed) and closed after; any failure to open it is
    a LoadError naming the file and ``rule``. Cached values are read, or the formulas when
    ``formulas`` is true."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=not formulas)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a bad file, said plainly
        raise not_readable(file_name, exc, "an Excel workbook", rule) from None
    try:
        yield workbook
    finally:
        workbook.close()


def sheet_name(workbook, sheet: str | None, file_name: str) -> str:
    """The worksheet a contract names (the first when it names none); a LoadError when the
    workbook has no such sheet."""
    if sheet is None:
        return workbook.sheetnames[0]
    if sheet not in workbook.sheetnames:
        raise LoadError(
            file_name,
            f"no worksheet named {sheet!r} (the workbook has "
            f"{len(workbook.sheetnames)} other sheet(s))",
            rule="workbook has the contract's worksheet",
        )
    return sheet


def xlsx_records(path: Path, file_name: str, sheet: str | None = None) -> Records:
    """The rows of one worksheet, streamed (openpyxl read-only mode), with their row numbers."""
    with open_workbook(path, file_name) as workbook:
        worksheet = workbook[sheet_name(workbook, sheet, file_name)]
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(v) for v in row]
            while values and values[-1] == "":
                values.pop()
            if values:
                yield number, values


def _first_bad_utf8_line(source: io.TextIOBase) -> int | None:
    """The line holding the first byte that is not UTF-8 (text readers decode in blocks)."""
    name = getattr(source, "name", None)
    if not name:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(name, "rb") as fh:
        for raw_line in fh:
            try:
                decoder.decode(raw_line)
            except UnicodeDecodeError:
                return line
            line += 1
    return None
