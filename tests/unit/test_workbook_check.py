"""A workbook that cannot be read as its contract says is quarantined with its sheet, cell and
rule, never the cell's text, and the rest of its family still loads (ingest/workbook_check.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.unit.test_load_safety import CTX, batch_state
from vawg_warehouse import orchestration as o
from vawg_warehouse.cli import main as vawg
from vawg_warehouse.ingest.contracts import load_contract

SECRET = "Jane Doe told us"  # stands for what a cell may hold: never repeated anywhere

SERVICES = load_contract("services_quarterly_returns")


def _row(**changes) -> list[object]:
    row = {c.name: 1 for c in SERVICES.columns}
    row.update(service_code="IDVA", financial_year="2024/25", financial_quarter="Q1")
    row.update(local_authority_code="E07000123", submitted_date="2024-07-10")
    row.update(changes)
    return [row[c] for c in SERVICES.column_names]


def _workbook(path: Path, rows: list[list[object]], hidden: bool = False) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Return")
    sheet.append(SERVICES.column_names)
    for row in rows:
        sheet.append(row)
    if hidden:
        sheet.sheet_state = "hidden"
    book.save(path)
    return path


def _broken_sheet(path: Path) -> None:
    """A whole zip whose sheet XML breaks off mid-row: the file opens, the sheet does not end."""
    import zipfile

    with zipfile.ZipFile(path) as book:
        parts = {info.filename: book.read(info) for info in book.infolist()}
    sheet = "xl/worksheets/sheet2.xml"  # "Return", after "Notes"
    parts[sheet] = parts[sheet][: int(len(parts[sheet]) * 0.6)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)


@pytest.fixture
def returns(migrated, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    folder = landing / SERVICES.landing_path
    folder.mkdir(parents=True)
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    good = _workbook(folder / "good_2024Q1.xlsx", [_row(), _row(local_authority_code="E07000117")])
    _workbook(folder / "text_2024Q1.xlsx", [_row(), _row(clients_engaged=SECRET)])
    _workbook(folder / "formula_2024Q1.xlsx", [_row(cases_closed="=E2+1")])
    _workbook(folder / "hidden_2024Q1.xlsx", [_row()], hidden=True)
    data = good.read_bytes()
    (folder / "truncated_2024Q1.xlsx").write_bytes(data[: len(data) // 2])
    _broken_sheet(_workbook(folder / "broken_2024Q1.xlsx", [_row()] * 20))
    # An encrypted (password-protected) workbook is an OLE compound file, not a zip.
    (folder / "locked_2024Q1.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with psycopg.connect(migrated.url, autocommit=True) as conn:
        ids = o.register_files(SERVICES.dataset, CTX)
        loaded = o.load_batches(ids, CTX)  # raises nothing: the bad ones are quarantined
        states = {
            name: batch_state(conn, batch_id)
            for batch_id, name in conn.execute(
                "select batch_id, file_name from audit.load_batch"
            ).fetchall()
        }
        events = conn.execute("select detail::text from audit.load_batch_event").fetchall()
    return {"loaded": loaded, "states": states, "events": events}


def _state(returns, stem: str):
    (state,) = [s for name, s in returns["states"].items() if name.endswith(f"/{stem}_2024Q1.xlsx")]
    return state


@pytest.mark.parametrize(
    ("stem", "says"),
    [
        ("text", ["sheet 'Return', cell", "column clients_engaged", "clients_engaged is integer"]),
        ("formula", ["sheet 'Return', cell", "a formula with no saved value"]),
        ("hidden", ["sheet 'Return' is hidden", "the return is on a visible sheet"]),
        ("truncated", ["not readable as an Excel workbook", "file is an .xlsx workbook"]),
        ("broken", ["sheet 'Return' breaks off after row", "file is an .xlsx workbook"]),
        ("locked", ["password-protected", "file is an .xlsx workbook"]),
    ],
)
def test_an_unreadable_workbook_is_quarantined_with_sheet_cell_and_rule(
    returns, stem, says
) -> None:
    status, _, _, _, error = _state(returns, stem)
    assert status == "quarantined"
    for words in says:
        assert words in error
    assert SECRET not in error


def test_the_text_cell_is_named_by_reference_and_never_quoted(returns) -> None:
    column = SERVICES.column_names.index("clients_engaged")
    reference = f"{chr(ord('A') + column)}3"  # row 1 header, row 2 good, row 3 the text
    _, _, _, _, error = _state(returns, "text")
    assert f"cell {reference}:" in error
    assert all(SECRET not in detail for (detail,) in returns["events"])


def test_the_rest_of_the_family_loads_and_the_quarantine_list_shows_them(returns, capsys):
    assert _state(returns, "good")[0] == "loaded" and len(returns["loaded"]) == 1
    assert vawg(["quarantine", "list"]) == 0
    printed = capsys.readouterr().out
    for stem in ("text", "formula", "hidden", "truncated", "broken", "locked"):
        assert f"{stem}_2024Q1.xlsx" in printed
    assert SECRET not in printed
