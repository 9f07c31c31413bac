"""Data contracts: the documented shape of every file a source system drops.

A contract (``contracts/<dataset>.yml``) names the columns, their types, which are required,
their allowed values or pattern, which identify a row, and which are person identifiers to be
pseudonymised at the edge. The loader, the sample generator, the suites' tests and the docs read it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"

# How each contract type is cast from text when a validated batch is published.
SQL_TYPES = {
    "text": "text",
    "date": "date",
    "timestamp": "timestamptz",
    "integer": "integer",
    "numeric": "numeric",
    "flag": "boolean",
}

# The characters a person identifier may hold, as a regular expression character class, when
# its contract names none (``alphabet``). Checked after the identifier is normalised as it is
# hashed (privacy.normal_id: Unicode NFKC, trimmed, upper-cased): letters A-Z, digits and the
# separators forces' and services' reference formats use (P000123456, 12345/24, AB-1234.5).
# An identifier with any other character (a Cyrillic look-alike letter, a control character)
# is not pseudonymised: its row is set aside (ingest/load.py, validate/contract_rules.py).
DEFAULT_ID_ALPHABET = "[A-Z0-9 ./_-]"


# A date column's latest bound: the run (the day after it, a clock a day ahead) or N years
# after the run (a due date, an order's end), written "run" or "run + N years".
_LATEST = re.compile(r"^run(?: \+ ([1-9][0-9]?) years?)?$")


@dataclass(frozen=True)
class DateBounds:
    """The plausible range of a date column (``bounds`` in the contract): a row outside it is
    set aside, never counted in a period it does not belong to."""

    earliest: str  # YYYY-MM-DD
    latest: str  # "run" or "run + N years"

    @property
    def years_after_run(self) -> int:
        match = _LATEST.match(self.latest)
        assert match
        return int(match.group(1) or 0)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    description: str
    pseudonymise: str | None = None  # the stored column's name when this is a person identifier
    allowed_values: tuple[str, ...] | str | None = None  # a list, or "seed <name>"
    # What a value outside allowed_values costs: critical (the batch, or its rows, set aside) or
    # warning (published and flagged: a public source's new wording must not cost a month).
    allowed_values_severity: str = "critical"
    pattern: str | None = None
    header: str | None = None  # the column's heading in the file, when not ``name``
    optional_in_file: bool = False  # a file may leave the column out (read as empty)
    alphabet: str | None = None  # a person identifier's characters (a regex character class)
    bounds: DateBounds | None = None  # a date column's plausible range

    @property
    def file_header(self) -> str:
        """The column's heading in the file (published formats use their own, e.g. "Crime ID")."""
        return self.header or self.name

    @property
    def stored_name(self) -> str:
        """The column's name in the warehouse (pseudonymised identifiers are renamed)."""
        return self.pseudonymise or self.name

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Contract:
    dataset: str
    source_system: str
    title: str
    landing_path: str
    file_pattern: str  # the first of file_patterns
    raw_table: str
    row_key: tuple[str, ...]
    columns: tuple[Column, ...]
    file_format: dict
    # Row-level quarantine: the largest share of a batch's rows that may be set aside while the
    # rest is published; None when the dataset allows none (the batch is kept or set aside whole).
    row_quarantine_max_share: float | None = None
    recursive: bool = False  # files may sit in any sub-folder of landing_path
    # Corrections (corrections.py): a re-sent file of the same name restates the whole of what
    # it covers ("file"), and rows whose status_column value the statuses seed marks withdrawn
    # are cancelled. None: a later file only restates the rows it holds.
    restates: str | None = None
    # The police.uk release each file came from is recorded on its batch (releases.py).
    records_release: bool = False
    status_column: str | None = None
    statuses_seed: str | None = None
    # Every name pattern the dataset's files may have (file_pattern may be a list in the yml:
    # a publication that comes as CSV or as the publisher's spreadsheet).
    file_patterns: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def file_headers(self) -> list[str]:
        """The headings a file must have, in contract order (``column_names`` unless renamed)."""
        return [c.file_header for c in self.columns]

    @property
    def stored_names(self) -> list[str]:
        return [c.stored_name for c in self.columns]

    @property
    def pseudonymised(self) -> list[Column]:
        return [c for c in self.columns if c.pseudonymise]

    def matches(self, relative_path: str) -> bool:
        """Whether a landing file (path relative to the landing dir) belongs to this dataset."""
        folder, _, name = relative_path.rpartition("/")
        in_folder = folder == self.landing_path or (
            self.recursive and folder.startswith(self.landing_path + "/")
        )
        return in_folder and any(fnmatch.fnmatchcase(name, p) for p in self.file_patterns)

    def landing_dir(self, landing_root: Path) -> Path:
        return landing_root / self.landing_path


def _alphabet(raw: dict) -> str | None:
    """A pseudonymised column's alphabet: the contract's (one character class), else the
    default; None for any other column."""
    if not raw.get("pseudonymise"):
        if raw.get("alphabet"):
            raise ValueError(f"{raw['name']}: alphabet is for person identifiers (pseudonymise)")
        return None
    alphabet = str(raw.get("alphabet") or DEFAULT_ID_ALPHABET)
    if not (alphabet.startswith("[") and alphabet.endswith("]") and "^" not in alphabet[:2]):
        raise ValueError(f"{raw['name']}: alphabet must be one character class, e.g. [A-Z0-9-]")
    re.compile(alphabet)
    return alphabet


def _bounds(raw: dict) -> DateBounds | None:
    """A date column's ``bounds: {earliest: YYYY-MM-DD, latest: run | run + N years}``."""
    given = raw.get("bounds")
    if given is None:
        return None
    if raw["type"] != "date" or not isinstance(given, dict):
        raise ValueError(f"{raw['name']}: bounds are for date columns, as earliest and latest")
    earliest, latest = given.get("earliest"), str(given.get("latest", ""))
    if isinstance(earliest, str):
        earliest = date.fromisoformat(earliest)
    if not isinstance(earliest, date) or not _LATEST.match(latest):
        raise ValueError(
            f"{raw['name']}: bounds need earliest (YYYY-MM-DD) and latest (run, or run + N years)"
        )
    return DateBounds(earliest.isoformat(), latest)


def _column(raw: dict) -> Column:
    allowed = raw.get("allowed_values")
    if isinstance(allowed, list):
        allowed = tuple(str(v) for v in allowed)
    return Column(
        name=raw["name"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        description=" ".join(str(raw.get("description", "")).split()),
        pseudonymise=raw.get("pseudonymise"),
        allowed_values=allowed,
        allowed_values_severity=str(raw.get("allowed_values_severity", "critical")),
        pattern=raw.get("pattern"),
        header=raw.get("header"),
        optional_in_file=raw.get("in_file", "required") == "optional",
        alphabet=_alphabet(raw),
        bounds=_bounds(raw),
    )


@cache
def load_contract(dataset: str) -> Contract:
    path = CONTRACTS_DIR / f"{dataset}.yml"
    if not path.exists():
        raise KeyError(f"no data contract for dataset {dataset!r} (looked for {path.name})")
    raw = yaml.safe_load(path.read_text())
    columns = tuple(_column(c) for c in raw["columns"])
    severities = {c.allowed_values_severity for c in columns} - {"critical", "warning"}
    if severities:
        raise ValueError(f"{path.name}: allowed_values_severity must be critical or warning")
    raw_patterns = raw["file_pattern"]
    patterns = tuple([raw_patterns] if isinstance(raw_patterns, str) else raw_patterns)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"{path.name}: file_pattern must be a pattern or a list of patterns")
    unknown = {c.type for c in columns} - SQL_TYPES.keys()
    if unknown:
        raise ValueError(f"{path.name}: unknown column types {sorted(unknown)}")
    unbounded = [c.name for c in columns if c.type == "date" and c.bounds is None]
    if unbounded:
        raise ValueError(f"{path.name}: date column(s) {unbounded} need bounds (earliest, latest)")
    return Contract(
        dataset=raw["dataset"],
        source_system=raw["source_system"],
        title=raw["title"],
        landing_path=raw["landing_path"],
        file_pattern=patterns[0],
        file_patterns=patterns,
        raw_table=raw["raw_table"],
        row_key=tuple(raw["row_key"]),
        columns=columns,
        file_format=raw.get("file_format", {}),
        row_quarantine_max_share=_row_quarantine(raw.get("row_quarantine"), path.name),
        recursive=bool(raw.get("recursive", False)),
        records_release=bool(raw.get("records_release", False)),
        **_corrections(raw.get("corrections"), path.name),
    )


def _corrections(raw: dict | None, file_name: str) -> dict:
    """The contract's ``corrections`` block: what a re-sent file restates, and the status column
    whose values (a seed's ``is_withdrawn``) cancel a row."""
    if not raw:
        return {}
    if raw.get("restates") not in (None, "file"):
        raise ValueError(f"{file_name}: corrections.restates must be 'file'")
    statuses = raw.get("statuses")
    kind, _, seed = str(statuses or "").partition(" ")
    if statuses and (kind != "seed" or not seed):
        raise ValueError(f"{file_name}: corrections.statuses must be 'seed <name>'")
    return {
        "restates": raw.get("restates"),
        "status_column": raw.get("status_column"),
        "statuses_seed": seed or None,
    }


def _row_quarantine(raw: dict | None, file_name: str) -> float | None:
    """The contract's ``row_quarantine`` block: ``allowed`` and ``max_share`` (0 < share < 1)."""
    if not raw or not raw.get("allowed"):
        return None
    share = float(raw.get("max_share", 0))
    if not 0 < share < 1:
        raise ValueError(f"{file_name}: row_quarantine.max_share must be between 0 and 1")
    return share


def all_contracts() -> list[Contract]:
    return [load_contract(p.stem) for p in sorted(CONTRACTS_DIR.glob("*.yml"))]
