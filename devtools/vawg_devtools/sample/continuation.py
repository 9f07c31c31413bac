"""Continue the numbering of what a landing folder already holds.

``vawg sample --start D --end D`` after the demo writes the next day of a force that has been
sending files for months: its new crimes, MARAC cases and protective-order cases must be numbered
after the last ones already in landing, never from 1 again (a re-used crime reference would
restate an earlier crime). The last sequence per year is read from the files' references.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

_READ_BLOCK = 1 << 20


_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def last_sequences(folder: Path, prefix: str, digits: int, before: date) -> dict[int, int]:
    """The highest ``<prefix>-<year>-<digits digits>`` sequence per year in the CSV files of
    ``folder`` dated (by their name) before ``before``, the run's first day (none when it holds
    none). Files of the run's days or later are left out: a range written again (the demo twice)
    gets the same numbers, so the same arguments still write the same bytes. Reads the files in
    blocks: memory stays flat."""
    pattern = re.compile(
        rb"(?<![A-Za-z0-9])" + re.escape(prefix.encode()) + rb"-(\d{4})-(\d{%d})(?!\d)" % digits
    )
    last: dict[int, int] = {}
    if not folder.is_dir():
        return last
    for path in sorted(folder.glob("*.csv")):
        if path.is_symlink() or not path.is_file():
            continue
        named = _FILE_DATE.search(path.name)
        if named is None or named[1] >= before.isoformat():
            continue
        with path.open("rb") as fh:
            tail = b""
            while block := fh.read(_READ_BLOCK):
                text = tail + block
                cut = text.rfind(b"\n") + 1  # scan whole lines; keep the rest for later
                for match in pattern.finditer(text, 0, cut):
                    year, sequence = int(match[1]), int(match[2])
                    if sequence > last.get(year, 0):
                        last[year] = sequence
                tail = text[cut:]
            for match in pattern.finditer(tail):
                year, sequence = int(match[1]), int(match[2])
                if sequence > last.get(year, 0):
                    last[year] = sequence
    return last
