"""Suites and their run-time parameters.

Each dataset has one suite, readable JSON reviewed like code:
``expectations/expectations/<dataset>.json``.
Every expectation carries GX's own ``severity`` (``critical``: the batch is quarantined;
``warning``: it is published and the failure flagged) and a short human name in ``meta.rule``.

Allowed-value lists are never copied into the suites: run-time suite parameters carry them, from the
dbt seed CSVs (``allowed_values: seed <name>`` in the contract) or the contract's own lists. The
other parameters are ``extract_date`` (the file's date), ``as_of`` (when the validation runs) and
the volume bounds from recent files of the same series.

No Great Expectations here: reading a suite and its parameters costs no GX import.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vawg_warehouse.config import get_settings
from vawg_warehouse.forces import FORCE_SEEDS, home_force_code, of_home_force
from vawg_warehouse.ingest.contracts import Contract

if TYPE_CHECKING:
    import psycopg


log = logging.getLogger(__name__)


SEVERITIES = ("critical", "warning")


ROW_NUMBER_COLUMN = "_row_number"


DEFAULT_SCHEMA = "landing"


QUERY_RULE = "unexpected_rows_expectation"


# Volume against recent batches (a warning rule in every suite): a file's row count should lie
# between VOLUME_LOW and VOLUME_HIGH times the median of the last VOLUME_WINDOW published files
# of its series (see recent_volumes); with fewer than VOLUME_MIN_HISTORY there is no bound yet.
VOLUME_MIN_PARAMETER = "recent_volume_min"


VOLUME_MAX_PARAMETER = "recent_volume_max"


VOLUME_WINDOW = 28


VOLUME_MIN_HISTORY = 5


VOLUME_LOW, VOLUME_HIGH = 0.25, 4.0


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$")


_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


class QualityError(RuntimeError):
    """A batch could not be validated (as opposed to: it was validated and failed)."""


def suites_dir() -> Path:
    return get_settings().expectations_dir / "expectations"


def seeds_dir() -> Path:
    return get_settings().dbt_project_dir / "seeds" / "reference"


def suite_path(dataset: str, directory: Path | None = None) -> Path:
    return (directory or suites_dir()) / f"{dataset}.json"


@dataclass(frozen=True)
class SuiteFile:
    """A suite file as reviewed: its parsed JSON and the sha256 of its bytes."""

    path: Path
    sha256: str
    definition: dict[str, Any]

    @property
    def name(self) -> str:
        return self.definition["name"]

    @property
    def expectations(self) -> list[dict[str, Any]]:
        return self.definition["expectations"]


def read_suite(dataset: str, directory: Path | None = None) -> SuiteFile:
    path = suite_path(dataset, directory)
    if not path.exists():
        raise QualityError(f"no expectation suite for dataset {dataset!r} (looked for {path})")
    raw = path.read_bytes()
    definition = json.loads(raw)
    definition["expectations"] = definition.get("expectations", []) + _from_contract(dataset)
    for index, expectation in enumerate(definition.get("expectations", [])):
        severity = expectation.get("severity")
        rule = (expectation.get("meta") or {}).get("rule")
        if severity not in SEVERITIES or not rule:
            raise QualityError(
                f"{path.name}: expectation {index} ({expectation.get('type')}) needs a severity "
                f"({' or '.join(SEVERITIES)}) and a meta.rule"
            )
    return SuiteFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), definition=definition)


def _from_contract(dataset: str) -> list[dict[str, Any]]:
    """The rules the dataset's contract makes (date bounds, identifier alphabets:
    contract_rules.py), after the file's own."""
    from vawg_warehouse.ingest.contracts import load_contract
    from vawg_warehouse.validate.contract_rules import contract_expectations

    try:
        contract = load_contract(dataset)
    except KeyError:
        return []
    return contract_expectations(contract)


def allowed_value_parameter(column_name: str, allowed: tuple[str, ...] | str) -> str:
    """The suite parameter that carries a column's allowed values."""
    if isinstance(allowed, str):
        return f"seed_{_seed_name(allowed)}"
    return f"contract_{column_name}"


def _seed_name(allowed: str) -> str:
    kind, _, name = allowed.partition(" ")
    if kind != "seed" or not name:
        raise ValueError(f"allowed_values must be a list or 'seed <name>', got {allowed!r}")
    return name.strip()


def read_seed_values(seed: str, column: str, directory: Path | None = None) -> list[str]:
    """A dbt seed's key column: the one named like the contract's column, else the first. A seed
    that holds several forces' rows (forces.FORCE_SEEDS) gives the home force's only
    (vawg_warehouse.forces: the setting VAWG_HOME_FORCE)."""
    path = (directory or seeds_dir()) / f"{seed}.csv"
    stat = path.stat()
    force = home_force_code()
    return list(_read_seed_values(path, column, force, stat.st_mtime_ns, stat.st_size))


@cache
def _read_seed_values(
    path: Path, column: str, force: str, _mtime_ns: int, _size: int
) -> tuple[str, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if not fields:
            raise QualityError(f"seed {path.name} is empty")
        key = column if column in fields else fields[0]
        rows = of_home_force(path.stem, reader, force)
        values = [row[key].strip() for row in rows if row.get(key, "").strip()]
    if not values:
        where = f" for force {force}" if path.stem in FORCE_SEEDS else ""
        raise QualityError(f"seed {path.name} has no values in column {key!r}{where}")
    return tuple(dict.fromkeys(values))


def extract_date_from_file_name(file_name: str) -> date | None:
    """The extract date in a landing file's name (``crimes_2025-03-02.csv`` -> 2025-03-02)."""
    match = _DATE_IN_NAME.search(Path(file_name).name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def iso_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_date(value: Any, name: str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"{name} must be a date or YYYY-MM-DD, got {value!r}")
    return value


def run_parameters(
    contract: Contract,
    parameters: dict[str, Any] | None = None,
    *,
    file_name: str | None = None,
    run_date: date | None = None,
    seeds: Path | None = None,
) -> dict[str, Any]:
    """Every suite parameter for one validation of ``contract``'s suite.

    ``as_of`` (now, unless given: an aware datetime, or ISO 8601 UTC text) is the moment after
    which nothing in the file may be dated. ``extract_date`` (YYYY-MM-DD), the day the file
    covers, is taken from ``parameters``, else from the date in ``file_name``, else ``run_date``,
    else the date of ``as_of``. Allowed-value lists come from the contract and the seed CSVs.
    Other keys in ``parameters`` pass through.
    """
    given = dict(parameters or {})
    as_of = given.get("as_of") or datetime.now(UTC)
    if isinstance(as_of, datetime):
        as_of = iso_timestamp(as_of)
    if not isinstance(as_of, str) or not (_ISO_TIMESTAMP.match(as_of) or _ISO_DATE.match(as_of)):
        raise ValueError(f"as_of must be an ISO 8601 UTC timestamp or a date, got {as_of!r}")
    from_name = extract_date_from_file_name(file_name) if file_name else None
    extract_date = _iso_date(
        given.get("extract_date") or from_name or run_date or as_of[:10], "extract_date"
    )

    from vawg_warehouse.validate.contract_rules import latest_dates

    resolved: dict[str, Any] = {}
    for column in contract.columns:
        if column.allowed_values is None:
            continue
        name = allowed_value_parameter(column.stored_name, column.allowed_values)
        if isinstance(column.allowed_values, str):
            resolved[name] = read_seed_values(
                _seed_name(column.allowed_values), column.stored_name, seeds
            )
        else:
            resolved[name] = list(column.allowed_values)
    resolved.update(volume_bounds([]))
    resolved.update(given)
    resolved["as_of"] = as_of
    resolved["extract_date"] = extract_date
    # the latest date any date column may hold: the day after the run (a clock a day ahead)
    resolved["latest_date"] = (date.fromisoformat(as_of[:10]) + timedelta(days=1)).isoformat()
    resolved.update(latest_dates(contract, resolved["latest_date"]))  # the contract's bounds
    return resolved


def volume_bounds(recent_rows: list[int]) -> dict[str, int | None]:
    """The volume rule's parameters from the row counts of recent published files.

    Bounds are a quarter of and four times their median, once VOLUME_MIN_HISTORY files are
    known; before that, any count passes (0 to no maximum)."""
    if len(recent_rows) < VOLUME_MIN_HISTORY:
        return {VOLUME_MIN_PARAMETER: 0, VOLUME_MAX_PARAMETER: None}
    middle = statistics.median(recent_rows)
    return {
        VOLUME_MIN_PARAMETER: math.floor(middle * VOLUME_LOW),
        VOLUME_MAX_PARAMETER: math.ceil(middle * VOLUME_HIGH),
    }


def recent_volumes(
    conn: psycopg.Connection, dataset: str, file_name: str, before_batch_id: int
) -> list[int]:
    """Rows read from the last VOLUME_WINDOW published files of the same series before this
    batch. A series is the files whose names differ only in their digits (dates, quarters):
    one provider's quarterly returns are compared with that provider's, not with another's."""
    rows = conn.execute(
        "select rows_read from audit.load_batch where dataset = %s and status = 'published' "
        "and batch_id < %s and rows_read is not null "
        "and regexp_replace(file_name, '[0-9]', '#', 'g') = regexp_replace(%s, '[0-9]', '#', 'g') "
        "order by batch_id desc limit %s",
        (dataset, before_batch_id, file_name, VOLUME_WINDOW),
    ).fetchall()
    return [int(r[0]) for r in rows]


def recent_volumes_for(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, list[int]]:
    """:func:`recent_volumes` of many registered batches in one query (each batch's own dataset
    and file name, as audit.load_batch has them): batch id -> rows read, newest first."""
    if not batch_ids:
        return {}
    rows = conn.execute(
        """
        with run as (
            select batch_id, dataset, regexp_replace(file_name, '[0-9]', '#', 'g') as series
            from audit.load_batch
            where batch_id = any(%(ids)s)
        ),
        history as materialized (
            select h.batch_id, h.dataset, h.rows_read,
                   regexp_replace(h.file_name, '[0-9]', '#', 'g') as series
            from audit.load_batch as h
            where h.status = 'published' and h.rows_read is not null
              and h.dataset in (select run.dataset from run)
        )
        select run.batch_id, array(
            select history.rows_read from history
            where history.dataset = run.dataset and history.series = run.series
              and history.batch_id < run.batch_id
            order by history.batch_id desc
            limit %(window)s
        )
        from run
        """,
        {"ids": list(batch_ids), "window": VOLUME_WINDOW},
    ).fetchall()
    return {int(batch_id): [int(n) for n in recent] for batch_id, recent in rows}


def split_table(table: str) -> tuple[str, str]:
    """``landing.force_crimes__b12`` -> (landing, force_crimes__b12); a bare name is in landing."""
    schema, _, name = table.rpartition(".")
    schema = schema or DEFAULT_SCHEMA
    for part in (schema, name):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"not a plain lower-case table name: {table!r}")
    return schema, name


def fill_batch(query: str, table: str) -> str:
    """A query rule's SQL with its ``{batch}`` placeholder set to the batch's table."""
    return query.replace("{batch}", table)
