"""Deliberately broken files, for the tests of the loader, the suites and the quarantine report.

Never part of ``generate``. Each helper writes one file in the landing folder, like a real drop,
and says which file lines (header = line 1, first data row = line 2) break which rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from vawg_devtools.sample.engine import make_context
from vawg_devtools.sample.force import CRIMES, ForceSource
from vawg_devtools.sample.output import landing_file
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import write_csv

UNKNOWN_OFFENCE_CODE = "99Z"  # checked not to be in the seed
COUNTY_COUNCIL_CODE = "E10000017"  # Lancashire county council: not one of the 14 LAs


@dataclass(frozen=True)
class Violation:
    line: int  # file line number; the header is line 1
    column: str
    rule: str
    value: str


@dataclass(frozen=True)
class BadFile:
    path: Path
    data_rows: int
    violations: tuple[Violation, ...]

    @property
    def bad_lines(self) -> dict[int, Violation]:
        return {v.line: v for v in self.violations}

    @property
    def good_lines(self) -> list[int]:
        return [line for line in range(2, self.data_rows + 2) if line not in self.bad_lines]


# line -> (column, rule, how to break it). Each broken line breaks exactly one rule.
CRIME_VIOLATIONS: dict[int, tuple[str, str]] = {
    3: ("ho_offence_code", "allowed_values: seed ho_offence_codes"),
    5: ("recorded_date", "recorded_date not after the extract date"),
    7: ("victim_id", "required"),
    9: ("crime_reference", "pattern ^LC-[0-9]{4}-[0-9]{7}$"),
    11: ("offence_date", "offence_date not after recorded_date"),
    13: ("local_authority_code", "allowed_values: seed local_authorities"),
    15: ("domestic_abuse_flag", "allowed_values: Y, N"),
}


def write_bad_crimes_file(
    landing_dir: Path, day: date, *, seed: int = 7, rows: int = 16
) -> BadFile:
    """A force crimes file for ``day`` whose lines in ``CRIME_VIOLATIONS`` each break one rule.

    The other rows are valid, drawn like ``generate``'s. Line 3 has an unknown offence code,
    line 5 a recorded_date three days after the file's date (and after extracted_at), line 7 no
    victim_id, line 9 a malformed crime reference, line 11 an offence date after the recorded
    date, line 13 the county council's code instead of a district's, line 15 a flag of "X".
    """
    if rows < max(CRIME_VIOLATIONS) - 1:
        raise ValueError(f"need at least {max(CRIME_VIOLATIONS) - 1} rows")
    ctx, _ = make_context(Path(landing_dir), start=day, end=day, seed=seed)
    if UNKNOWN_OFFENCE_CODE in ctx.reference.offence_codes:
        raise RuntimeError(f"{UNKNOWN_OFFENCE_CODE} is now in the seed: choose another code")
    source = ForceSource(ctx, np.array([rows]))
    batch = source.generator.day(0, day)
    columns = source.crime_columns(batch)
    later = (day + timedelta(days=3)).isoformat()
    breakers = {
        "ho_offence_code": lambda _: UNKNOWN_OFFENCE_CODE,
        "recorded_date": lambda _: later,
        "victim_id": lambda _: "",
        "crime_reference": lambda v: v.replace("LC-", "LC", 1),
        "offence_date": lambda _: (day + timedelta(days=1)).isoformat(),
        "local_authority_code": lambda _: COUNTY_COUNCIL_CODE,
        "domestic_abuse_flag": lambda _: "X",
    }
    violations = []
    for line, (column, rule) in CRIME_VIOLATIONS.items():
        i = line - 2
        columns[column][i] = breakers[column](columns[column][i])
        violations.append(Violation(line, column, rule, columns[column][i]))
    contract = load_contract(CRIMES)
    path = landing_file(contract, Path(landing_dir), day)
    write_csv(
        path, contract.column_names, zip(*(columns[c] for c in contract.column_names), strict=True)
    )
    return BadFile(path=path, data_rows=rows, violations=tuple(violations))
