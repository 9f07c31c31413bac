"""Load a registered batch: the file streamed into a landing table with COPY.

``load_batch``: the file is streamed, person identifiers are replaced by keyed HMACs on the way,
and the rows are COPYed as text into a (logged: crash-safe) table ``landing.<dataset>__b<id>``
together with their line number. Memory stays flat: the file is never held whole. A CSV file
whose every line is one row takes the columnar path (columnar.py: pyarrow blocks, each distinct
identifier hashed once, COPY BINARY); any other CSV file is read row by row (readers.py), which
is the reference. The file read is the archived copy that was checksummed (archive.py).
Validation (``vawg_warehouse.validate``) then runs in SQL on that table.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import psycopg
from psycopg import sql

from vawg_warehouse.audit import Batch, transition
from vawg_warehouse.ingest.batches import LoadError, LoadResult, file_sha256
from vawg_warehouse.ingest.contracts import Contract
from vawg_warehouse.ingest.privacy import OUTSIDE_ALPHABET, Pseudonymiser, in_alphabet
from vawg_warehouse.ingest.readers import Records, csv_records
from vawg_warehouse.run_context import RunContext

log = logging.getLogger(__name__)


COPY_CHUNK_BYTES = 1 << 20  # send COPY data in 1 MiB pieces


MALFORMED_LINES_KEPT = 20  # line numbers of rows with the wrong field count kept in the event


def _landing_columns(contract: Contract) -> list[str]:
    return [*contract.stored_names, "_row_number", "_malformed"]


def _create_landing_table(conn: psycopg.Connection, batch: Batch) -> sql.Identifier:
    table = sql.Identifier("landing", batch.landing_table)
    columns: list[sql.Composable] = [
        sql.SQL("{} text").format(sql.Identifier(n)) for n in batch.contract.stored_names
    ]
    columns += [sql.SQL("_row_number bigint not null"), sql.SQL("_malformed boolean not null")]
    conn.execute(sql.SQL("drop table if exists {}").format(table))
    conn.execute(sql.SQL("create table {} ({})").format(table, sql.SQL(", ").join(columns)))
    return table


def _header_mapping(
    contract: Contract, header: list[str], file_name: str, line: int = 1
) -> list[int]:
    """For each contract column, its index in the file's header (order may differ).

    The error names only the contract's own column names and counts: the file's first line may
    be a data row (a file sent without its header), so its cells are never quoted.
    """
    cleaned = [h.strip() for h in header]
    expected = contract.file_headers
    optional = {c.file_header for c in contract.columns if c.optional_in_file}
    missing = [c for c in expected if c not in cleaned and c not in optional]
    unexpected = sum(1 for h in cleaned if h not in expected)
    duplicated = sorted({h for h in cleaned if h in expected and cleaned.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"{len(missing)} of the contract's columns missing: {missing}")
    if unexpected:
        problems.append(f"{unexpected} column(s) the contract does not name")
    if duplicated:
        problems.append(f"repeated column(s) {duplicated}")
    if problems:
        if missing and len(missing) == len(expected) - len(optional):
            problems.append("is the header row missing?")
        raise LoadError(
            file_name, "; ".join(problems), line=line, rule="header matches the contract"
        )
    # A column the file may leave out and did: None (read as empty).
    return [cleaned.index(c) if c in cleaned else None for c in expected]


def copy_records(
    copy: psycopg.Copy,
    records: Records,
    contract: Contract,
    pseudonymise: Pseudonymiser,
    file_name: str,
) -> LoadResult:
    """Check the header, pseudonymise identifiers, write rows to an open COPY in 1 MiB pieces.

    A row with the wrong number of fields cannot be read by column name: a field missing or
    added shifts every value after it, so an identifier could sit in a column stored in clear.
    Such a row keeps its line number and ``_malformed`` set, with every column empty: none of
    its values is stored (the archived file has them). Validation sets it aside by that flag.
    An identifier with a character outside its contract's alphabet is stored as
    ``OUTSIDE_ALPHABET``, not pseudonymised (validate/contract_rules.py sets its row aside).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = malformed = 0
    malformed_lines: list[int] = []
    first = next(records, None)
    if first is None:
        raise LoadError(
            file_name, "the file is empty (no header)", line=1, rule="header matches the contract"
        )
    header_line, header = first
    positions = _header_mapping(contract, header, file_name, header_line)
    width = len(header)
    hashed = [contract.column_names.index(c.name) for c in contract.pseudonymised]
    allowed = {
        contract.column_names.index(c.name): in_alphabet(c.alphabet)
        for c in contract.pseudonymised
        if c.alphabet
    }
    for line, record in records:
        rows += 1
        if len(record) != width:
            # Excel rows may stop early at empty trailing cells: that is not malformed.
            if len(record) < width and contract.file_format.get("type") == "xlsx":
                record = record + [""] * (width - len(record))
            else:
                malformed += 1
                if len(malformed_lines) < MALFORMED_LINES_KEPT:
                    malformed_lines.append(line)
                record = None
        if record is None:
            writer.writerow([""] * len(positions) + [line, "t"])
        else:
            values = ["" if i is None else record[i] for i in positions]
            for i in hashed:
                # outside its contract's alphabet: a mark, and the row is set aside
                ok = i not in allowed or allowed[i](values[i])
                values[i] = pseudonymise(values[i]) if ok else OUTSIDE_ALPHABET
            writer.writerow([*values, line, "f"])
        if buffer.tell() >= COPY_CHUNK_BYTES:
            copy.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        copy.write(buffer.getvalue())
    return LoadResult(
        batch_id=0, rows_read=rows, malformed_rows=malformed, malformed_lines=malformed_lines
    )


def _alphabets(contract: Contract) -> dict[int, str]:
    """Contract column position -> the alphabet of a pseudonymised column that has one."""
    return {
        contract.column_names.index(c.name): c.alphabet
        for c in contract.pseudonymised
        if c.alphabet
    }


def _copy_csv_sql(table: sql.Composable, columns: sql.Composable) -> sql.Composed:
    return sql.SQL("copy {} ({}) from stdin (format csv)").format(table, columns)


def copy_csv_file(
    conn: psycopg.Connection,
    table: sql.Composable,
    columns: sql.Composable,
    path: Path,
    contract: Contract,
    pseudonymise: Pseudonymiser,
    file_name: str,
) -> LoadResult:
    """COPY a CSV file: the columnar fast path (columnar.py) when every line is one row, else
    (or when it gives way half-way: its rows are undone) the exact row-by-row path."""
    # numpy, imported here: every task imports this module (through orchestration), only the
    # load task needs it, and importing it is most of a task's start-up (about 1 s)
    from vawg_warehouse.ingest import columnar

    hashed = [contract.column_names.index(c.name) for c in contract.pseudonymised]
    try:
        with conn.transaction(), path.open("rb") as stream:
            header = columnar.read_header(stream)
            positions = _header_mapping(contract, header, file_name)
            binary = sql.SQL("copy {} ({}) from stdin (format binary)").format(table, columns)
            with conn.cursor().copy(binary) as copy:
                rows = columnar.copy_columnar(
                    copy.write,
                    stream,
                    len(header),
                    positions,
                    hashed,
                    pseudonymise.many,
                    alphabets=_alphabets(contract),
                )
        return LoadResult(batch_id=0, rows_read=rows)
    except columnar.NotColumnar as exc:
        reason = exc.reason
        log.info("%s: read row by row (%s)", file_name, reason)
    with (
        path.open(newline="", encoding="utf-8-sig") as source,
        conn.cursor().copy(_copy_csv_sql(table, columns)) as copy,
    ):
        records = csv_records(source, file_name)
        result = copy_records(copy, records, contract, pseudonymise, file_name)
    result.notes.append(f"read row by row: {reason}")
    return result


class FileRefused(LoadError):
    """The batch's file cannot be taken in at all (vanished, rewritten): the batch is refused."""


def _refuse(conn: psycopg.Connection, batch: Batch, ctx: RunContext, message: str, rule: str):
    error = FileRefused(batch.file_name, message, rule=rule)
    with conn.transaction():
        transition(
            conn, batch.batch_id, "refused", ctx, error=str(error), rule=rule, message=str(error)
        )
    log.warning("REFUSED batch %d: %s", batch.batch_id, error)
    return error


def source_file(
    conn: psycopg.Connection,
    batch: Batch,
    landing_root: Path,
    ctx: RunContext,
    archive_root: Path | None = None,
) -> Path:
    """The file to read for a batch: its archived copy (the bytes that were checksummed and kept
    read-only at registration), else the landing file if it still has the registered checksum.
    When neither is there the batch ends ``refused`` (FileRefused is raised)."""
    (archived,) = conn.execute(
        "select archive_path from audit.load_batch where batch_id = %s", (batch.batch_id,)
    ).fetchone()
    if archive_root is not None and archived:
        copy = archive_root / archived
        if copy.is_file() and not copy.is_symlink():
            if file_sha256(copy) == batch.file_sha256:
                return copy
            raise _refuse(
                conn,
                batch,
                ctx,
                "the archived copy no longer has the registered checksum",
                "the archive keeps what was registered",
            )
    path = landing_root / batch.file_name
    if path.is_symlink() or not path.is_file():
        raise _refuse(
            conn,
            batch,
            ctx,
            "the file is no longer in the landing folder and has no archived copy",
            "a registered file stays until it is loaded",
        )
    if file_sha256(path) != batch.file_sha256:
        raise _refuse(
            conn,
            batch,
            ctx,
            "the file changed after it was registered and has no archived copy: "
            "a source must not rewrite a dropped file; drop a new one",
            "a registered file is never rewritten",
        )
    return path


def load_batch(
    conn: psycopg.Connection,
    batch: Batch,
    landing_root: Path,
    pseudonymise: Pseudonymiser,
    ctx: RunContext,
    archive_root: Path | None = None,
) -> LoadResult:
    """Stream one file into its landing table, in one transaction. A file that cannot be read is
    quarantined whole; one that is gone is refused (both raise a LoadError)."""
    path = source_file(conn, batch, landing_root, ctx, archive_root)
    contract = batch.contract
    try:
        with conn.transaction():
            table = _create_landing_table(conn, batch)
            columns = sql.SQL(", ").join(map(sql.Identifier, _landing_columns(contract)))
            file_type = contract.file_format.get("type")
            if _is_published_workbook(contract, path):
                from vawg_warehouse.ingest import spreadsheets

                records = spreadsheets.long_table_records(
                    path, batch.file_name, contract.file_headers
                )
                with conn.cursor().copy(_copy_csv_sql(table, columns)) as copy:
                    result = copy_records(copy, records, contract, pseudonymise, batch.file_name)
            elif file_type == "xlsx" or file_type in _publication_readers():
                if file_type == "xlsx":
                    from vawg_warehouse.ingest import workbook_check  # sheet, cell, rule: no text

                    records = workbook_check.records(path, batch.file_name, contract)
                else:
                    records = _publication_readers()[file_type](path, batch.file_name)
                with conn.cursor().copy(_copy_csv_sql(table, columns)) as copy:
                    result = copy_records(copy, records, contract, pseudonymise, batch.file_name)
            else:
                result = copy_csv_file(
                    conn, table, columns, path, contract, pseudonymise, batch.file_name
                )
            result.batch_id = batch.batch_id
            transition(  # rows_read checked against the landing table
                conn,
                batch.batch_id,
                "loaded",
                ctx,
                rows_read=result.rows_read,
                malformed_rows=result.malformed_rows,
                malformed_lines=result.malformed_lines,
                read_from="archive" if path != landing_root / batch.file_name else "landing",
            )
    except LoadError as exc:
        # Unreadable as a whole: nothing can be published, the file itself is the evidence.
        with conn.transaction():
            transition(
                conn,
                batch.batch_id,
                "quarantined",
                ctx,
                error=str(exc),
                rule=exc.rule,
                line=exc.line,
                message=str(exc),
            )
        log.warning("quarantined %s", exc)
        raise
    if result.malformed_rows:
        log.warning(
            "batch %d (%s): %d row(s) with the wrong number of fields, kept without their "
            "values (first lines %s)",
            batch.batch_id,
            batch.file_name,
            result.malformed_rows,
            result.malformed_lines,
        )
    log.info("loaded batch %d (%s): %d rows", batch.batch_id, batch.file_name, result.rows_read)
    return result


def _is_published_workbook(contract: Contract, path: Path) -> bool:
    """A long table the contract lets come as the publisher's spreadsheet (file_format
    ``workbooks: true``, e.g. the Home Office's .ods) and that came as one."""
    from vawg_warehouse.ingest.spreadsheets import WORKBOOK_SUFFIXES

    return bool(contract.file_format.get("workbooks")) and path.suffix.lower() in WORKBOOK_SUFFIXES


def _publication_readers() -> dict:
    """Readers of publications that are not one plain table (ONS workbooks, Nomis downloads):
    file_format type -> reader giving the contract's long rows (ingest/ons_readers.py)."""
    from vawg_warehouse.ingest.ons_readers import READERS

    return READERS
