"""What the project writes to disk from outside data (issue 20): a CSV cell that a spreadsheet
would run as a formula is neutralised, and a path parameter stays in its folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vawg_warehouse.ingest.landing_files import inert_cell, write_csv
from vawg_warehouse.ingest.policeuk_api import PoliceUkApi, PoliceUkApiError, fetch_month


def test_a_cell_that_starts_a_formula_is_written_inert(tmp_path: Path) -> None:
    cells = [
        '=HYPERLINK("http://x","click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
    ]
    kept = ["-2.703", "-1", "+44", "On or near Main Street", "", 7]
    path = tmp_path / "x.csv"
    write_csv(path, ["a"], [[c] for c in cells + kept])
    with path.open(newline="") as fh:
        values = [row[0] for row in csv.reader(fh)][1:]
    for written, given in zip(values[: len(cells)], cells, strict=True):
        assert written == "'" + given, (written, given)
    assert inert_cell("\r=1+1") == "'\r=1+1"  # (a bare CR cannot be read back from this CSV)
    # numbers (police.uk longitudes are negative) and ordinary text are as given
    assert values[len(cells) :] == ["-2.703", "-1", "+44", "On or near Main Street", "", "7"]


class _NoCalls(PoliceUkApi):
    def get(self, path, params=None):
        raise AssertionError(f"the API was asked {path} for a force that is not an id")


@pytest.mark.parametrize("force", ["../../x", "..", "a/b", "lancashire/../../x", "", "Lanc\x00"])
def test_a_force_that_is_not_an_id_is_refused_before_anything_is_written(
    tmp_path: Path, force: str
) -> None:
    with pytest.raises(PoliceUkApiError, match="force"):
        fetch_month(force, "2025-01", tmp_path / "landing", _NoCalls())
    assert not (tmp_path / "landing").exists()
    assert not list(tmp_path.parent.glob("x*"))


def test_the_cli_refuses_a_force_that_is_a_path(tmp_path, monkeypatch) -> None:
    from vawg_warehouse import cli

    monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path))
    with pytest.raises(SystemExit):
        cli.main(["fetch-policeuk", "--force", "../../x", "--month", "2025-01"])
