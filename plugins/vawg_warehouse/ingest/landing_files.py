"""What extractors share with the loader's side of the landing folder: writing a landing file
atomically, and reading the reference seeds (codes, areas, forces) the dbt project keeps.

Used by the police.uk extractor and by the development sample generator (vawg_devtools), which
imports from here, never the other way round.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from vawg_warehouse.config import get_settings


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file atomically: a hidden temporary name in the same folder, then os.replace.

    A loader globbing the folder never sees half a file (the temporary name does not match any
    contract's pattern), and a re-run replaces the file whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
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
