"""Writing landing files: contract file names, atomic replace, fast date and code formatting."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from vawg_warehouse.ingest.contracts import Contract

DATE_PLACEHOLDER = "????-??-??"
CHUNK_ROWS = 50_000  # rows formatted and written at a time
_SPECIAL = (",", '"', "\n", "\r")
EXTRACT_TIME = "01:15:00"  # the nightly extract runs at 01:15 UTC the day after


def landing_file(contract: Contract, landing_dir: Path, day: date) -> Path:
    """``<landing_dir>/<landing_path>/<pattern with the date>``, e.g. .../crimes_2025-03-01.csv."""
    if DATE_PLACEHOLDER not in contract.file_pattern:
        raise ValueError(f"{contract.dataset}: file_pattern has no {DATE_PLACEHOLDER} to fill")
    name = contract.file_pattern.replace(DATE_PLACEHOLDER, day.isoformat())
    return contract.landing_dir(landing_dir) / name


def extracted_at(day: date) -> str:
    """When the extract of ``day`` ran: the next day at 01:15 UTC, ISO 8601."""
    return f"{(day + timedelta(days=1)).isoformat()}T{EXTRACT_TIME}Z"


def write_lines(path: Path, header: Sequence[str], chunks: Iterable[str]) -> None:
    """Like ``write_csv`` for text already formatted as CSV lines (see ``format_lines``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            fh.write(",".join(plain(h) for h in header) + "\n")
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def plain(text: str) -> str:
    """``text`` itself, after checking it needs no CSV quoting (no comma, quote or newline)."""
    if any(c in text for c in _SPECIAL):
        raise ValueError(f"{text!r} would need CSV quoting")
    return text


Field = str | tuple  # a constant, or (printf-style spec, values[, values ...])


def format_lines(fields: Sequence[Field], n: int, chunk: int = CHUNK_ROWS) -> Iterator[str]:
    """CSV lines for ``n`` rows, ``chunk`` rows per string, from one printf template.

    A field is either constant text (e.g. the file's date) or ``(spec, values, ...)``: a
    printf-style spec such as ``"P%09d"`` with one list of values per conversion. Much faster
    than ``csv.writer`` because nothing is checked per value, so the values MUST need no quoting:
    constants are checked here, label tables with ``plain_labels``, and the rest are numbers or
    strings the generators build themselves.
    """
    pieces: list[str] = []
    columns: list = []
    for field in fields:
        if isinstance(field, str):
            pieces.append(plain(field).replace("%", "%%"))
        else:
            pieces.append(field[0])
            columns.extend(field[1:])
    template = ",".join(pieces) + "\n"
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        if columns:
            rows = zip(*(c[start:stop] for c in columns), strict=True)
            yield "".join([template % row for row in rows])
        else:
            yield template * (stop - start)


def plain_labels(labels: Sequence[str]) -> np.ndarray:
    """``lookup(labels)`` after checking that no label needs CSV quoting."""
    return lookup([plain(label) for label in labels])


class DateStrings:
    """ISO strings for date ordinals in [first, last], by array lookup; -1 gives ""."""

    def __init__(self, first: date, last: date):
        self.base = first.toordinal() - 1
        self.last = last.toordinal()
        self.table = np.array(
            [""] + [date.fromordinal(o).isoformat() for o in range(self.base + 1, self.last + 1)],
            dtype=object,
        )

    def __call__(self, ordinals: np.ndarray) -> np.ndarray:
        ordinals = np.asarray(ordinals, dtype=np.int64)
        index = np.where(ordinals < 0, 0, ordinals - self.base)
        if index.size and (index.min() < 0 or index.max() >= len(self.table)):
            raise ValueError("a date is outside the formatting table")
        return self.table[index]


def lookup(labels: Sequence[str]) -> np.ndarray:
    """An object array of labels, so ``lookup(labels)[codes]`` formats an index array quickly."""
    return np.array(list(labels), dtype=object)
