"""Extract and load: landing files become audited load batches, streamed into PostgreSQL with COPY.

The life of a file (``audit.load_batch.status``)::

    registered --load--> loaded --validate--> validated --publish--> published
                           |                      \\--(critical rule failed)--> quarantined
                           \\--(unreadable: header, encoding)--> quarantined
    any step can end in   failed   (an error of ours or of the database: the step is retried)
    quarantined --(a corrected file of the same name is published)--> superseded
    quarantined --(an operator releases it, with a reason)--> published

Row-level quarantine (datasets whose contract allows it): when only some rows break critical
rules, and no more than the contract's share, those rows are set aside and the rest validated.

* ``register``: each file whose sha256 is not yet published or quarantined becomes a batch.
* ``load_batch``: the file is streamed, person identifiers are replaced by keyed HMACs on the way,
  and the rows are COPYed as text into a (logged: crash-safe) table ``landing.<dataset>__b<id>``
  together with their line number. Memory stays flat: the file is never held whole. A CSV file
  whose every line is one row takes the columnar path (columnar.py: pyarrow blocks, each distinct
  identifier hashed once, COPY BINARY); any other CSV file is read row by row (csv module), which
  is the reference. The file read is the archived copy that was checksummed (archive.py).
* validation (quality.py) runs in SQL on that table;
* ``publish_batch`` casts the rows into the typed raw table in one transaction and drops the
  landing table; ``quarantine_batch`` moves the landing table to the ``quarantine`` schema instead.

Every step is idempotent for its batch: re-running it replaces what a failed attempt left.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from vawg_warehouse import columnar
from vawg_warehouse.contracts import Contract, all_contracts, load_contract
from vawg_warehouse.privacy import Pseudonymiser

log = logging.getLogger(__name__)

COPY_CHUNK_BYTES = 1 << 20  # send COPY data in 1 MiB pieces
MALFORMED_LINES_KEPT = 20  # line numbers of rows with the wrong field count kept in the event
_READ_BLOCK = 1 << 20


class LoadError(RuntimeError):
    """A file cannot be read as its contract says: names the file, the line and the rule."""

    def __init__(self, file_name: str, message: str, line: int | None = None, rule: str = ""):
        self.file_name = file_name
        self.line = line
        self.rule = rule
        where = f"{file_name}, line {line}" if line else file_name
        super().__init__(f"{where}: {message}" + (f" (rule: {rule})" if rule else ""))


@dataclass(frozen=True)
class LandingFile:
    dataset: str
    relative_path: str
    path: Path
    size_bytes: int

    def sha256(self) -> str:
        return file_sha256(self.path)


@dataclass(frozen=True)
class Batch:
    batch_id: int
    dataset: str
    file_name: str
    file_sha256: str
    status: str

    @property
    def contract(self) -> Contract:
        return load_contract(self.dataset)

    @property
    def landing_table(self) -> str:
        return f"{self.dataset}__b{self.batch_id}"


@dataclass
class RunContext:
    """Who asked: stamped on every batch and event (small, serialisable, no personal data)."""

    dag_id: str | None = None
    dag_run_id: str | None = None
    logical_date: date | None = None


@dataclass
class LoadResult:
    batch_id: int
    rows_read: int
    malformed_rows: int = 0
    notes: list[str] = field(default_factory=list)
    malformed_lines: list[int] = field(default_factory=list)  # the first few


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Discover and register
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A landing entry that is never read: what it is or what it is called (never its content)."""

    dataset: str
    file_name: str  # escaped: control characters as \n, \x01 ...
    rule: str
    message: str


_ODD_CHARACTERS = set("\"'`\\") | {chr(c) for c in range(32)} | {"\x7f"}


def _escaped(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii")


def _odd_name(relative: str) -> str | None:
    """Why a landing path's name is refused, or None when it is plain."""
    if any(c in _ODD_CHARACTERS for c in relative):
        return "control characters, quotes or backslashes in the name"
    if ".." in relative:
        return "'..' in the name"
    return None


def survey(
    landing_root: Path, contracts: Iterable[Contract] | None = None
) -> tuple[list[LandingFile], list[Refusal]]:
    """The files of each dataset's landing folder (oldest name first), and what is refused there.

    A symbolic link is never followed, whatever it points at (a file, a folder, outside the
    landing folder or not), and a name with control characters, quotes, backslashes or '..' is
    never read: both are refused and named (escaped), so that nothing is ignored silently.
    """
    found: list[LandingFile] = []
    refused: list[Refusal] = []
    for contract in contracts or all_contracts():
        folder = contract.landing_dir(landing_root)
        if folder.is_symlink():
            refused.append(
                Refusal(
                    contract.dataset,
                    _escaped(contract.landing_path),
                    "no symbolic links in the landing folder",
                    "the dataset's landing folder is a symbolic link: not followed",
                )
            )
            continue
        if not folder.is_dir():
            continue
        for path in sorted(_walk(folder, contract.recursive)):
            relative = path.relative_to(landing_root).as_posix()
            if path.is_symlink():
                refused.append(
                    Refusal(
                        contract.dataset,
                        _escaped(relative),
                        "no symbolic links in the landing folder",
                        "a symbolic link: not followed; drop the file itself",
                    )
                )
                continue
            odd = _odd_name(relative)
            if odd:
                refused.append(
                    Refusal(
                        contract.dataset,
                        _escaped(relative),
                        "plain file names only",
                        f"{odd}: not read; rename the file",
                    )
                )
                continue
            if path.is_file() and contract.matches(relative):
                found.append(LandingFile(contract.dataset, relative, path, path.stat().st_size))
    return found, refused


def _walk(folder: Path, recursive: bool) -> Iterator[Path]:
    """Entries of a folder (and, when recursive, of its real sub-folders: links are not entered);
    symbolic links are yielded, never followed."""
    for entry in folder.iterdir():
        if recursive and entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry, recursive)
        elif not entry.is_dir() or entry.is_symlink():
            yield entry


def discover(landing_root: Path, contracts: Iterable[Contract] | None = None) -> list[LandingFile]:
    """The files in the landing folder that belong to a dataset, oldest name first (what
    ``survey`` finds, without its refusals)."""
    return survey(landing_root, contracts)[0]


def unrecognised_files(
    landing_root: Path, contracts: Iterable[Contract] | None = None
) -> list[str]:
    """Every file in the landing folder (any depth) that no contract takes, as a path relative to
    the landing folder (escaped), sorted: a file dropped in the wrong folder or under a name no
    contract expects is named, never ignored without a word. Hidden files (a leading dot) are
    left out; symbolic links are not followed (``survey`` refuses them in a dataset's folder)."""
    contracts = list(contracts or all_contracts())
    if not landing_root.is_dir():
        return []
    unknown = []
    for path in _walk(landing_root, recursive=True):
        relative = path.relative_to(landing_root).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        if not any(contract.matches(relative) for contract in contracts):
            unknown.append(_escaped(relative))
    return sorted(unknown)


def record_refusals(conn: psycopg.Connection, refusals: Iterable[Refusal], ctx: RunContext) -> int:
    """Keep each refusal in audit.refused_file (once per name and rule) and log it; returns how
    many were new."""
    new = 0
    for refusal in refusals:
        with conn.transaction():
            new += conn.execute(
                "insert into audit.refused_file (dataset, file_name, rule, message, dag_run_id) "
                "values (%s, %s, %s, %s, %s) on conflict do nothing",
                (refusal.dataset, refusal.file_name, refusal.rule, refusal.message, ctx.dag_run_id),
            ).rowcount
        log.warning("REFUSED %s: %s (rule: %s)", refusal.file_name, refusal.message, refusal.rule)
    return new


def _event(conn: psycopg.Connection, batch_id: int, status: str, ctx: RunContext, **detail) -> None:
    conn.execute(
        "insert into audit.load_batch_event (batch_id, status, detail, dag_run_id) "
        "values (%s, %s, %s, %s)",
        (batch_id, status, Jsonb(detail), ctx.dag_run_id),
    )


def register(
    conn: psycopg.Connection,
    files: Iterable[LandingFile],
    ctx: RunContext,
    archive_root: Path | None = None,
) -> list[Batch]:
    """Make a batch of every new file; return the batches that need work (new or unfinished).

    A file whose checksum was already published or quarantined is skipped and nothing is
    written, so a re-run over the same landing folder changes nothing. With ``archive_root``
    each new file is first copied into the immutable archive (archive.py) and the copy's path
    is recorded on its batch (a batch registered before the archive existed gets it on its next
    registration).
    """
    to_process: list[Batch] = []
    skipped = 0
    for landing_file in files:
        sha = landing_file.sha256()
        archive_path = None
        if archive_root is not None:
            from vawg_warehouse.archive import archive_file

            archive_path = archive_file(landing_file.path, sha, archive_root)
        with conn.transaction():
            row = conn.execute(
                """
                insert into audit.load_batch
                    (dataset, file_name, file_sha256, file_size_bytes,
                     dag_id, dag_run_id, logical_date, archive_path)
                values (%s, %s, %s, %s, %s, %s, %s, %s)
                on conflict (dataset, file_sha256) do nothing
                returning batch_id, status
                """,
                (
                    landing_file.dataset,
                    landing_file.relative_path,
                    sha,
                    landing_file.size_bytes,
                    ctx.dag_id,
                    ctx.dag_run_id,
                    ctx.logical_date,
                    archive_path,
                ),
            ).fetchone()
            if row:
                _event(
                    conn,
                    row[0],
                    "registered",
                    ctx,
                    file_name=landing_file.relative_path,
                    archive_path=archive_path,
                )
            else:
                row = conn.execute(
                    "select batch_id, status, file_name from audit.load_batch "
                    "where dataset = %s and file_sha256 = %s",
                    (landing_file.dataset, sha),
                ).fetchone()
                if archive_path is not None:
                    _record_archive_path(conn, row[0], archive_path, ctx)
                if row[2] != landing_file.relative_path:
                    _record_duplicate(conn, row[0], landing_file.relative_path, ctx)
                row = row[:2]
        batch_id, status = row
        if status in ("published", "quarantined", "superseded"):
            skipped += 1
            continue
        to_process.append(
            Batch(batch_id, landing_file.dataset, landing_file.relative_path, sha, status)
        )
    log.info(
        "registered %d batch(es) to process, skipped %d already taken in", len(to_process), skipped
    )
    return to_process


def _record_duplicate(
    conn: psycopg.Connection, batch_id: int, other_name: str, ctx: RunContext
) -> None:
    """The same bytes arrived under another name: not loaded again, but on record (once)."""
    seen = conn.execute(
        "select 1 from audit.load_batch_event where batch_id = %s and status = 'duplicate_file' "
        "and detail ->> 'file_name' = %s",
        (batch_id, other_name),
    ).fetchone()
    if not seen:
        _event(conn, batch_id, "duplicate_file", ctx, file_name=other_name)
        log.warning(
            "%s is byte for byte the file of batch %d: not loaded again", other_name, batch_id
        )


def _record_archive_path(
    conn: psycopg.Connection, batch_id: int, archive_path: str, ctx: RunContext
) -> None:
    """Give a batch registered before the archive existed its archive path (once)."""
    updated = conn.execute(
        "update audit.load_batch set archive_path = %s "
        "where batch_id = %s and archive_path is null",
        (archive_path, batch_id),
    ).rowcount
    if updated:
        _event(conn, batch_id, "archived", ctx, archive_path=archive_path)


def get_batches(
    conn: psycopg.Connection, batch_ids: Iterable[int], status: str | None = None
) -> list[Batch]:
    ids = list(batch_ids)
    if not ids:
        return []
    rows = conn.execute(
        "select batch_id, dataset, file_name, file_sha256, status from audit.load_batch "
        "where batch_id = any(%s) and (%s::text is null or status = %s) order by batch_id",
        (ids, status, status),
    ).fetchall()
    return [Batch(*r) for r in rows]


# --------------------------------------------------------------------------------------------
# Load: stream, pseudonymise, COPY
# --------------------------------------------------------------------------------------------


def _landing_columns(contract: Contract) -> list[str]:
    return [*contract.stored_names, "_row_number", "_malformed"]


def _create_landing_table(conn: psycopg.Connection, batch: Batch) -> sql.Composed:
    table = sql.Identifier("landing", batch.landing_table)
    columns = [sql.SQL("{} text").format(sql.Identifier(n)) for n in batch.contract.stored_names]
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
    missing = [c for c in expected if c not in cleaned]
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
        if missing and len(missing) == len(expected):
            problems.append("is the header row missing?")
        raise LoadError(
            file_name, "; ".join(problems), line=line, rule="header matches the contract"
        )
    return [cleaned.index(c) for c in expected]


Records = Iterator[tuple[int, list[str]]]  # (line or sheet row number, values); header first


# A field may be long (free text): up to 16 MiB is read, so the row meets the contract's rules
# (a pattern, a code list) instead of the file failing as a whole. Process-wide: csv keeps one.
FIELD_SIZE_LIMIT = 16 << 20
csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))


def csv_records(source: io.TextIOBase, file_name: str) -> Records:
    """The rows of a CSV file with their line numbers (blank lines skipped).

    A row's number is the line it starts on (a quoted field may hold line breaks). Errors name
    the line and the rule, never the text: csv's own messages may quote the row.
    """
    reader = csv.reader(_without_nul(source, file_name))
    start = 1
    try:
        for record in reader:
            if record:
                yield start, record
            start = reader.line_num + 1
    except UnicodeDecodeError:
        raise LoadError(
            file_name,
            "not valid UTF-8 (save the file as UTF-8)",
            line=_first_bad_utf8_line(source),
            rule="file is UTF-8 text",
        ) from None
    except csv.Error as exc:
        del exc  # its message may quote the row
        raise LoadError(
            file_name,
            "not readable as CSV: quoting, or a field too long",
            line=reader.line_num,
            rule="file is CSV",
        ) from None


def _without_nul(source: Iterable[str], file_name: str) -> Iterator[str]:
    """The lines of a text file, refusing a NUL character (a binary file, or a broken export:
    PostgreSQL text cannot hold one and csv reads it as data)."""
    for number, line in enumerate(source, start=1):
        if "\x00" in line:
            raise LoadError(
                file_name, "a NUL byte (is this a text file?)", line=number, rule="file is CSV"
            )
        yield line


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV would hold: ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def xlsx_records(path: Path, file_name: str, sheet: str | None = None) -> Records:
    """The rows of one worksheet, streamed (openpyxl read-only mode), with their row numbers."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a bad file, said plainly
        raise LoadError(
            file_name,
            f"not readable as an Excel workbook ({type(exc).__name__})",
            rule="file is an .xlsx workbook",
        ) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise LoadError(
                file_name,
                f"no worksheet named {sheet!r} (the workbook has "
                f"{len(workbook.sheetnames)} other sheet(s))",
                rule="workbook has the contract's worksheet",
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(v) for v in row]
            while values and values[-1] == "":
                values.pop()
            if values:
                yield number, values
    finally:
        workbook.close()


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
            values = [record[i] for i in positions]
            for i in hashed:
                values[i] = pseudonymise(values[i])
            values.append(line)
            values.append("f")
            writer.writerow(values)
        if buffer.tell() >= COPY_CHUNK_BYTES:
            copy.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        copy.write(buffer.getvalue())
    return LoadResult(
        batch_id=0, rows_read=rows, malformed_rows=malformed, malformed_lines=malformed_lines
    )


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
    hashed = [contract.column_names.index(c.name) for c in contract.pseudonymised]
    try:
        with conn.transaction(), path.open("rb") as stream:
            header = columnar.read_header(stream)
            positions = _header_mapping(contract, header, file_name)
            binary = sql.SQL("copy {} ({}) from stdin (format binary)").format(table, columns)
            with conn.cursor().copy(binary) as copy:
                rows = columnar.copy_columnar(
                    copy.write, stream, len(header), positions, hashed, pseudonymise.many
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


def _first_bad_utf8_line(source: io.TextIOBase) -> int | None:
    """The line holding the first byte that is not UTF-8 (text readers decode in blocks)."""
    name = getattr(source, "name", None)
    if not name:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(name, "rb") as fh:
        for raw_line in fh:
            try:
                decoder.decode(raw_line)
            except UnicodeDecodeError:
                return line
            line += 1
    return None


class FileRefused(LoadError):
    """The batch's file cannot be taken in at all (vanished, rewritten): the batch is refused."""


def _refuse(conn: psycopg.Connection, batch: Batch, ctx: RunContext, message: str, rule: str):
    error = FileRefused(batch.file_name, message, rule=rule)
    with conn.transaction():
        conn.execute(
            "update audit.load_batch set status = 'refused', error_message = %s "
            "where batch_id = %s",
            (str(error), batch.batch_id),
        )
        _event(conn, batch.batch_id, "refused", ctx, rule=rule, message=str(error))
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
            if file_type == "xlsx" or file_type in _publication_readers():
                records = (
                    xlsx_records(path, batch.file_name, contract.file_format.get("sheet"))
                    if file_type == "xlsx"
                    else _publication_readers()[file_type](path, batch.file_name)
                )
                with conn.cursor().copy(_copy_csv_sql(table, columns)) as copy:
                    result = copy_records(copy, records, contract, pseudonymise, batch.file_name)
            else:
                result = copy_csv_file(
                    conn, table, columns, path, contract, pseudonymise, batch.file_name
                )
            result.batch_id = batch.batch_id
            conn.execute(
                "update audit.load_batch set status = 'loaded', rows_read = %s, "
                "loaded_at = clock_timestamp(), error_message = null where batch_id = %s",
                (result.rows_read, batch.batch_id),
            )
            _event(
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
            conn.execute(
                "update audit.load_batch set status = 'quarantined', rows_loaded = 0, "
                "error_message = %s, validated_at = clock_timestamp() where batch_id = %s",
                (str(exc), batch.batch_id),
            )
            _event(
                conn,
                batch.batch_id,
                "quarantined",
                ctx,
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


def _publication_readers() -> dict:
    """Readers of publications that are not one plain table (ONS workbooks, Nomis downloads):
    file_format type -> reader giving the contract's long rows (vawg_warehouse/ons_readers.py)."""
    from vawg_warehouse.ons_readers import READERS

    return READERS


def describe_error(exc: BaseException) -> str:
    """An error as it may be stored or logged: the database's messages may quote a value (a failed
    cast says which text it could not read), so they are named by class, state and column only."""
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        column = f", column {diag.column_name}" if diag.column_name else ""
        table = f", table {diag.table_name}" if diag.table_name else ""
        return f"database error {type(exc).__name__} (SQLSTATE {exc.sqlstate}{table}{column})"
    if isinstance(exc, UnicodeError):  # its text holds the bytes it could not read
        return type(exc).__name__
    return f"{type(exc).__name__}: {str(exc)[:500]}"


# --------------------------------------------------------------------------------------------
# After validation: publish or quarantine
# --------------------------------------------------------------------------------------------


def _cast(column_name: str, contract_type: str) -> sql.Composable:
    ident = sql.Identifier(column_name)
    if contract_type == "flag":
        return sql.SQL("case {c} when 'Y' then true when 'N' then false end").format(c=ident)
    if contract_type == "text":
        return ident
    from vawg_warehouse.contracts import SQL_TYPES

    return sql.SQL("cast(nullif(btrim({c}), '') as {t})").format(
        c=ident, t=sql.SQL(SQL_TYPES[contract_type])
    )


def mark_validated(conn: psycopg.Connection, batch: Batch, ctx: RunContext, **detail) -> None:
    with conn.transaction():
        conn.execute(
            "update audit.load_batch set status = 'validated', validated_at = clock_timestamp() "
            "where batch_id = %s",
            (batch.batch_id,),
        )
        _event(conn, batch.batch_id, "validated", ctx, **detail)


def mark_validated_many(
    conn: psycopg.Connection, batches: list[Batch], ctx: RunContext, details: list[dict]
) -> None:
    """:func:`mark_validated` of many batches (``details``: each one's event detail), in one
    transaction and three round trips."""
    if not batches:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "update audit.load_batch set status = 'validated', validated_at = clock_timestamp() "
            "where batch_id = any(%s)",
            ([b.batch_id for b in batches],),
        )
        cur.executemany(
            "insert into audit.load_batch_event (batch_id, status, detail, dag_run_id) "
            "values (%s, 'validated', %s, %s)",
            [
                (b.batch_id, Jsonb(detail), ctx.dag_run_id)
                for b, detail in zip(batches, details, strict=True)
            ],
        )


class PublishMismatch(RuntimeError):
    """Publishing did not insert the rows it should have: the batch's transaction is undone."""


def _insert_into_raw(conn: psycopg.Connection, batch: Batch, source: sql.Identifier) -> int:
    """Cast the rows of ``source`` (a landing or quarantine table) into the raw table. A row
    flagged ``_malformed`` (wrong field count, values not kept) is never inserted."""
    contract = batch.contract
    schema, table = contract.raw_table.split(".")
    targets = [*contract.stored_names, "_batch_id", "_row_number", "_published_at"]
    selects = [_cast(c.stored_name, c.type) for c in contract.columns]
    selects += [
        sql.Literal(batch.batch_id),
        sql.Identifier("_row_number"),
        sql.SQL("clock_timestamp()"),
    ]
    return conn.execute(
        sql.SQL(
            "insert into {raw} ({targets}) select {selects} from {source} where not _malformed"
        ).format(
            raw=sql.Identifier(schema, table),
            targets=sql.SQL(", ").join(map(sql.Identifier, targets)),
            selects=sql.SQL(", ").join(selects),
            source=source,
        )
    ).rowcount


def publish_batch(conn: psycopg.Connection, batch: Batch, ctx: RunContext) -> int:
    """Cast the validated rows into the raw table, in one transaction; returns rows published.

    Rows set aside by row-level quarantine are not in the landing table any more: they count as
    rejected (rows_read = rows_loaded + rows_rejected). Earlier batches of a file of the same
    name that were quarantined, whole or in part, are marked as corrected by this one.
    """
    contract = batch.contract
    landing = sql.Identifier("landing", batch.landing_table)
    schema, table = contract.raw_table.split(".")
    raw = sql.Identifier(schema, table)
    with conn.transaction():
        conn.execute(sql.SQL("delete from {} where _batch_id = %s").format(raw), (batch.batch_id,))
        published = _insert_into_raw(conn, batch, landing)
        rows_read, set_aside = conn.execute(
            "select rows_read, coalesce(rows_rejected, 0) from audit.load_batch "
            "where batch_id = %s",
            (batch.batch_id,),
        ).fetchone()
        if rows_read is None or published != rows_read - set_aside:
            # e.g. a landing table emptied by a crash, or rows flagged malformed still in it
            raise PublishMismatch(
                f"batch {batch.batch_id} ({batch.file_name}): {published} row(s) would be "
                f"published but {rows_read} were read and {set_aside} set aside; nothing published"
            )
        conn.execute(sql.SQL("drop table {}").format(landing))
        conn.execute(
            "update audit.load_batch set status = 'published', rows_loaded = %s, "
            "rows_rejected = rows_read - %s, published_at = clock_timestamp() "
            "where batch_id = %s",
            (published, published, batch.batch_id),
        )
        _event(conn, batch.batch_id, "published", ctx, rows_loaded=published)
        _supersede_earlier(conn, batch, ctx)
    log.info("published batch %d: %d rows into %s", batch.batch_id, published, contract.raw_table)
    return published


def _supersede_earlier(conn: psycopg.Connection, batch: Batch, ctx: RunContext) -> None:
    """A corrected file (same dataset and name, new content) releases what its forerunners left
    in quarantine: a batch quarantined whole becomes ``superseded``; a published batch with rows
    set aside keeps its status. Both point at the correcting batch, with an event each."""
    earlier = conn.execute(
        """
        update audit.load_batch
        set status = case when status = 'quarantined' then 'superseded' else status end,
            superseded_by_batch_id = %(batch)s
        where dataset = %(dataset)s and file_name = %(file)s and batch_id < %(batch)s
          and superseded_by_batch_id is null
          and (status = 'quarantined' or (status = 'published' and rows_rejected > 0))
        returning batch_id, status
        """,
        {"batch": batch.batch_id, "dataset": batch.dataset, "file": batch.file_name},
    ).fetchall()
    for batch_id, status in earlier:
        _event(
            conn,
            batch_id,
            "superseded" if status == "superseded" else "corrected",
            ctx,
            by_batch_id=batch.batch_id,
        )
        log.info("batch %d corrected by batch %d (%s)", batch_id, batch.batch_id, batch.file_name)


@dataclass(frozen=True)
class RowRejection:
    """A critical rule that rows of a batch broke, and the SQL that selects those rows."""

    rule: str
    expectation_type: str
    rows_query: str


def quarantine_rows(
    conn: psycopg.Connection,
    batch: Batch,
    ctx: RunContext,
    rejections: list[RowRejection],
    validation_run_id: int,
    max_share: float,
) -> int | None:
    """Row-level quarantine: set aside the rows that broke critical rules, keep the rest.

    Every (row, rule) pair goes to audit.rejected_row; the rows themselves move, as loaded, from
    the landing table to ``quarantine.<dataset>__b<id>``. All in one transaction, and only if the
    rows set aside are at most ``max_share`` of the batch: otherwise nothing changes and None is
    returned (the caller quarantines the batch whole). Returns the number of rows set aside.
    """
    landing = sql.Identifier("landing", batch.landing_table)
    held = sql.Identifier("quarantine", batch.landing_table)
    try:
        with conn.transaction():
            for rejection in rejections:
                rows_query = sql.SQL(
                    rejection.rows_query.strip().rstrip(";")
                )  # GX's or the suite's SQL
                conn.execute(
                    sql.SQL(
                        "insert into audit.rejected_row "
                        "(batch_id, row_number, rule, expectation_type, validation_run_id) "
                        "select distinct {batch}, failing._row_number, {rule}, {kind}, {run} "
                        "from ({query}) as failing on conflict do nothing"
                    ).format(
                        batch=sql.Literal(batch.batch_id),
                        rule=sql.Literal(rejection.rule),
                        kind=sql.Literal(rejection.expectation_type),
                        run=sql.Literal(validation_run_id),
                        query=rows_query,
                    )
                )
            rows_read, rejected = conn.execute(
                "select b.rows_read, (select count(distinct r.row_number) from audit.rejected_row "
                "as r where r.batch_id = b.batch_id) from audit.load_batch as b "
                "where b.batch_id = %s",
                (batch.batch_id,),
            ).fetchone()
            if rejected == 0 or rejected > max_share * rows_read:
                raise _TooManyRejected(rejected, rows_read)
            conn.execute(sql.SQL("drop table if exists {}").format(held))
            conn.execute(
                sql.SQL(
                    "create table {held} as select * from {landing} where _row_number in "
                    "(select row_number from audit.rejected_row where batch_id = %s)"
                ).format(held=held, landing=landing),
                (batch.batch_id,),
            )
            conn.execute(
                sql.SQL(
                    "delete from {landing} where _row_number in (select _row_number from {held})"
                ).format(landing=landing, held=held)
            )
            conn.execute(
                "update audit.load_batch set rows_rejected = %s where batch_id = %s",
                (rejected, batch.batch_id),
            )
            _event(
                conn,
                batch.batch_id,
                "rows_quarantined",
                ctx,
                rows=rejected,
                rules=sorted({r.rule for r in rejections}),
            )
    except _TooManyRejected as exc:
        log.warning(
            "batch %d (%s): %d of %d rows broke critical rules, more than row-level quarantine "
            "allows (%.0f%%): the whole batch is set aside",
            batch.batch_id,
            batch.file_name,
            exc.rejected,
            exc.rows_read,
            100 * max_share,
        )
        return None
    log.warning(
        "batch %d (%s): %d row(s) set aside in quarantine, the rest goes on",
        batch.batch_id,
        batch.file_name,
        rejected,
    )
    return rejected


class _TooManyRejected(Exception):
    def __init__(self, rejected: int, rows_read: int) -> None:
        self.rejected, self.rows_read = rejected, rows_read


def release_quarantined(
    conn: psycopg.Connection, batch_id: int, reason: str, released_by: str, ctx: RunContext
) -> int:
    """Publish what a batch has in quarantine, as it is, on an operator's word; returns rows.

    For a rule that was wrong rather than the data (a volume check on a busy day, a code the
    reference data lacked). The release, its reason and who gave it are kept as an event; the
    rows keep their batch and line, so lineage still leads to the file. A file that could not be
    read at all has no rows to release.
    """
    if not reason.strip():
        raise ValueError("a release needs a reason")
    (batch,) = get_batches(conn, [batch_id]) or [None]
    if batch is None:
        raise LookupError(f"no load batch {batch_id}")
    held = sql.Identifier("quarantine", batch.landing_table)
    exists = conn.execute(
        "select to_regclass(%s) is not null", (f"quarantine.{batch.landing_table}",)
    ).fetchone()[0]
    if batch.status not in ("quarantined", "published") or not exists:
        raise ValueError(
            f"batch {batch_id} ({batch.file_name}) has nothing in quarantine to release "
            f"(status {batch.status})"
        )
    (superseded_by,) = conn.execute(
        "select superseded_by_batch_id from audit.load_batch where batch_id = %s", (batch_id,)
    ).fetchone()
    if superseded_by is not None:
        raise ValueError(
            f"batch {batch_id} ({batch.file_name}) was corrected by batch {superseded_by}: "
            "its held rows are out of date and are not released"
        )
    (malformed,) = conn.execute(
        sql.SQL("select count(*) from {} where _malformed").format(held)
    ).fetchone()
    if malformed:
        raise ValueError(
            f"batch {batch_id} ({batch.file_name}) holds {malformed} row(s) with the wrong "
            "number of fields (their values were not kept): a release cannot publish them; "
            "correct the file and drop it again"
        )
    with conn.transaction():
        try:
            with conn.transaction():
                released = _insert_into_raw(conn, batch, held)
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            # Named by class and column only: the database's message may quote the value.
            column = f", column {exc.diag.column_name}" if exc.diag.column_name else ""
            raise ValueError(
                f"batch {batch_id} ({batch.file_name}): the quarantined rows cannot be published "
                f"as they are ({type(exc).__name__}{column}): correct the file instead"
            ) from None
        conn.execute(
            sql.SQL("alter table {} rename to {}").format(
                held, sql.Identifier(f"{batch.landing_table}__released")
            )
        )
        conn.execute(
            "update audit.load_batch set status = 'published', "
            "rows_loaded = coalesce(rows_loaded, 0) + %(n)s, "
            "rows_rejected = rows_rejected - %(n)s, "
            "rows_quarantined_published = rows_quarantined_published + %(n)s, "
            "published_at = coalesce(published_at, clock_timestamp()) where batch_id = %(batch)s",
            {"n": released, "batch": batch_id},
        )
        _event(conn, batch_id, "released", ctx, rows=released, reason=reason, by=released_by)
    log.warning("batch %d: %d quarantined row(s) released by %s", batch_id, released, released_by)
    return released


def quarantine_batch(
    conn: psycopg.Connection, batch: Batch, ctx: RunContext, reason: str, **detail
) -> None:
    """Keep the batch's rows, as loaded, in the quarantine schema; never publish them."""
    landing = sql.Identifier("landing", batch.landing_table)
    with conn.transaction():
        conn.execute(
            sql.SQL("drop table if exists {}").format(
                sql.Identifier("quarantine", batch.landing_table)
            )
        )
        conn.execute(sql.SQL("alter table {} set schema quarantine").format(landing))
        conn.execute(
            "update audit.load_batch set status = 'quarantined', rows_loaded = 0, "
            "rows_rejected = rows_read, error_message = %s, validated_at = clock_timestamp() "
            "where batch_id = %s",
            (reason, batch.batch_id),
        )
        _event(conn, batch.batch_id, "quarantined", ctx, reason=reason, **detail)
    log.warning("quarantined batch %d (%s): %s", batch.batch_id, batch.file_name, reason)


def mark_failed(conn: psycopg.Connection, batch_id: int, ctx: RunContext, error: str) -> None:
    """Record an error of ours or of the database (the step is retried by the scheduler)."""
    with conn.transaction():
        conn.execute(
            "update audit.load_batch set status = 'failed', error_message = %s "
            "where batch_id = %s and status not in ('published', 'quarantined')",
            (error[:2000], batch_id),
        )
        _event(conn, batch_id, "failed", ctx, error=error[:2000])
