"""What extractors share with the loader's side of the landing folder: writing a landing file
atomically, and reading the reference seeds (codes, areas, forces) the dbt project keeps.

Used by the police.uk extractor and by the development sample generator (vawg_devtools), which
imports from here, never the other way round.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from vawg_warehouse.config import get_settings

# A cell a spreadsheet would run as a formula (or DDE command) starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def inert_cell(value: object) -> object:
    """A text cell that starts like a formula, prefixed with ' (OWASP's CSV injection advice) so
    Excel or LibreOffice shows it as text; a number (a negative longitude) is left as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file atomically: a hidden temporary name in the same folder, then os.replace.

    A loader globbing the folder never sees half a file (the temporary name does not match any
    contract's pattern), and a re-run replaces the file whole. Every cell goes through
    :func:`inert_cell`: the values come from outside (an API) and the file may be opened in a
    spreadsheet.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([inert_cell(cell) for cell in row] for row in rows)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def seeds_dir() -> Path:
    """The folder of the reference seeds (``dbt_project/seeds/reference``)."""
    return get_settings().dbt_project_dir / "seeds" / "reference"


def read_seed(name: str, folder: Path | None = None) -> list[dict[str, str]]:
    """The rows of a reference seed as dicts of text."""
    path = (folder or seeds_dir()) / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
