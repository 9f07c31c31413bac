"""The Home Office table as the Home Office publishes it: an OpenDocument spreadsheet (or the same
saved as .xlsx) with a cover and notes, sheets of financial years, titles above a header. It
loads as one table, the same rows as the sheets exported to CSV (ingest/spreadsheets.py).

The spreadsheets are made here from the CSV fixtures in the published layout
(tests/fixtures/homeoffice/), so both paths read the same cells.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import psycopg
import pytest

from tests.conftest import TEST_KEY
from tests.unit.test_load_public import CTX, HOME_OFFICE, _load
from vawg_warehouse.ingest.batches import LoadError
from vawg_warehouse.ingest.landing import discover, register
from vawg_warehouse.ingest.load import load_batch
from vawg_warehouse.ingest.privacy import Pseudonymiser
from vawg_warehouse.ingest.spreadsheets import long_table_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "homeoffice"
YEARS = {"2023-24": "prc-pfa-2023_24.csv", "2024-25": "prc-pfa-2024_25.csv"}
FOLDER = "homeoffice/recorded_crime"


def _sheets() -> dict[str, list[list[str]]]:
    sheets = {}
    for name, file in YEARS.items():
        with (FIXTURES / file).open(newline="", encoding="utf-8-sig") as fh:
            sheets[name] = list(csv.reader(fh))
    return sheets


def _number(text: str) -> bool:
    return text.lstrip("-").isdigit() and text == text.strip() and text != "-00"


def _ods_cell(text: str) -> str:
    if not text:
        return "<table:table-cell/>"
    if _number(text):  # a count the sheet holds as a number
        return f'<table:table-cell office:value-type="float" office:value="{text}"><text:p>{text}</text:p></table:table-cell>'  # noqa: E501
    return f'<table:table-cell office:value-type="string"><text:p>{escape(text)}</text:p></table:table-cell>'  # noqa: E501


def _ods_row(cells: list[str]) -> str:
    # Padding to the sheet's last column, as spreadsheet programs write it.
    pad = '<table:table-cell table:number-columns-repeated="16376"/>'
    return f"<table:table-row>{''.join(map(_ods_cell, cells))}{pad}</table:table-row>"


def write_ods(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """An OpenDocument spreadsheet: a cover sheet, a notes sheet, then each table below a title
    and a blank row, each sheet padded with a million empty rows."""
    tables = [
        ("Cover_sheet", [["Police recorded crime open data tables, police force area"]]),
        ("Notes", [["Note number", "Note text"], ["1", "Counts are provisional."]]),
    ]
    for name, rows in sheets.items():
        tables.append((name, [[f"Police recorded crime, {name}"], [], *rows]))
    body = "".join(
        f"<table:table table:name={quoteattr(name)}>"
        + "".join(_ods_row(r) for r in rows)
        + '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'  # noqa: E501
        + "</table:table>"
        for name, rows in tables
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as ods:
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover_sheet"
    book.active.append(["Police recorded crime open data tables, police force area"])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([f"Police recorded crime, {name}"])
        sheet.append([])
        for row in rows:
            sheet.append([int(c) if _number(c) else c for c in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


@pytest.fixture
def conn(migrated):
    with psycopg.connect(migrated.url) as connection:
        yield connection


def _raw(conn) -> list[tuple]:
    """The raw table's rows with the count as staging reads it (trimmed, no separators)."""
    return sorted(
        conn.execute(
            "select financial_year, financial_quarter, force_name, offence_description, "
            "offence_group, offence_subgroup, offence_code, "
            "cast(nullif(replace(btrim(number_of_offences), ',', ''), '-00') as integer) "
            "from raw_public.home_office_recorded_crime"
        ).fetchall(),
        key=repr,
    )


def _load_each(conn, root: Path) -> None:
    for found in sorted(discover(root), key=lambda f: f.relative_path):
        only = root.parent / f"only_{found.relative_path.replace('/', '_')}"
        (only / FOLDER).mkdir(parents=True)
        (only / found.relative_path).write_bytes((root / found.relative_path).read_bytes())
        _load(conn, only)


@pytest.mark.parametrize("write", [write_ods, write_xlsx], ids=["ods", "xlsx"])
def test_the_published_spreadsheet_loads_the_same_rows_as_its_sheets_exported_to_csv(
    conn, tmp_path, write
) -> None:
    as_csv = tmp_path / "csv"
    for file in YEARS.values():
        (as_csv / FOLDER).mkdir(parents=True, exist_ok=True)
        (as_csv / FOLDER / file).write_bytes((FIXTURES / file).read_bytes())
    _load_each(conn, as_csv)
    expected = _raw(conn)
    conn.execute("truncate raw_public.home_office_recorded_crime")

    suffix = "ods" if write is write_ods else "xlsx"
    spreadsheet = tmp_path / "published"
    write(spreadsheet / FOLDER / f"prc-pfa-mar2013-onwards-tables.{suffix}", _sheets())
    loaded = _load(conn, spreadsheet)
    assert loaded == len(expected) > 500
    assert _raw(conn) == expected


def test_columns_in_another_order_on_a_later_sheet_are_read_by_name(tmp_path) -> None:
    sheets = _sheets()
    first, second = sheets["2023-24"], sheets["2024-25"]
    order = list(reversed(range(len(second[0]))))
    sheets["2024-25"] = [[row[i] for i in order] for row in second]
    path = write_ods(tmp_path / "prc.ods", sheets)
    records = list(long_table_records(path, "prc.ods", HOME_OFFICE.file_headers))
    header = records[0][1]
    assert header == first[0]
    # Cells as text, trimmed (a count's padding is the CSV export's, not the sheet's).
    assert [r for _, r in records[len(first) :]] == [[c.strip() for c in r] for r in second[1:]]
    # The sheet row can be read back from the number: sheet 4 (after cover and notes), row 4
    # (a title, a blank row, the header, then the first row).
    assert records[len(first)][0] == 4_000_004


def test_a_spreadsheet_without_the_table_is_quarantined_by_rule(conn, tmp_path) -> None:
    write_ods(tmp_path / FOLDER / "prc.ods", {"Contents": [["Table", "Description"]]})
    (batch,) = register(conn, discover(tmp_path), CTX)
    with pytest.raises(LoadError, match="no sheet has a header row") as raised:
        load_batch(conn, batch, tmp_path, Pseudonymiser(TEST_KEY.encode()), CTX)
    assert raised.value.rule == "a sheet holds the table's header"
    status = conn.execute(
        "select status from audit.load_batch where batch_id = %s", (batch.batch_id,)
    ).fetchone()
    assert status == ("quarantined",)


def test_a_truncated_spreadsheet_names_the_file_never_a_cell(tmp_path) -> None:
    path = write_ods(tmp_path / "prc.ods", _sheets())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError) as raised:
        list(long_table_records(path, "prc.ods", HOME_OFFICE.file_headers))
    assert "prc.ods" in str(raised.value) and "Lancashire" not in str(raised.value)
