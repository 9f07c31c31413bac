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
  and the rows are COPYed as text into an UNLOGGED table ``landing.<dataset>__b<id>`` together with
  their line number. Memory stays flat: the file is never held whole.
* validation (quality.py) runs in SQL on that table;
* ``publish_batch`` casts the rows into the typed raw table in one transaction and drops the
  landing table; ``quarantine_batch`` moves the landing table to the ``quarantine`` schema instead.

Every step is idempotent for its batch: re-running it replaces what a failed attempt left.
"""

from __future__ import annotations

import codecs
import contextlib
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

from vawg_warehouse.contracts import Contract, all_contracts, load_contract
from vawg_warehouse.privacy import Pseudonymiser

log = logging.getLogger(__name__)

COPY_CHUNK_BYTES = 1 << 20  # send COPY data in 1 MiB pieces
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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Discover and register
# --------------------------------------------------------------------------------------------


def discover(landing_root: Path, contracts: Iterable[Contract] | None = None) -> list[LandingFile]:
    """The files in the landing folder that belong to a dataset, oldest name first."""
    found: list[LandingFile] = []
    for contract in contracts or all_contracts():
        folder = contract.landing_dir(landing_root)
        if not folder.is_dir():
            continue
        paths = folder.rglob("*") if contract.recursive else folder.iterdir()
        for path in sorted(paths):
            relative = path.relative_to(landing_root).as_posix()
            if path.is_file() and contract.matches(relative):
                found.append(LandingFile(contract.dataset, relative, path, path.stat().st_size))
    return found


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
                    "select batch_id, status from audit.load_batch "
                    "where dataset = %s and file_sha256 = %s",
                    (landing_file.dataset, sha),
                ).fetchone()
                if archive_path is not None:
                    _record_archive_path(conn, row[0], archive_path, ctx)
        batch_id, status = row
        if status in ("published", "quarantined"):
            skipped += 1
            continue
        to_process.append(
            Batch(batch_id, landing_file.dataset, landing_file.relative_path, sha, status)
        )
    log.info(
        "registered %d batch(es) to process, skipped %d already taken in", len(to_process), skipped
    )
    return to_process


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
    conn.execute(
        sql.SQL("create unlogged table {} ({})").format(table, sql.SQL(", ").join(columns))
    )
    return table


def _header_mapping(
    contract: Contract, header: list[str], file_name: str, line: int = 1
) -> list[int]:
    """For each contract column, its index in the file's header (order may differ)."""
    cleaned = [h.strip() for h in header]
    expected = contract.file_headers
    missing = [c for c in expected if c not in cleaned]
    unexpected = [h for h in cleaned if h not in expected]
    duplicated = sorted({h for h in cleaned if cleaned.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {missing}")
    if unexpected:
        problems.append(f"unexpected column(s) {unexpected}")
    if duplicated:
        problems.append(f"repeated column(s) {duplicated}")
    if problems:
        raise LoadError(
            file_name, "; ".join(problems), line=line, rule="header matches the contract"
        )
    return [cleaned.index(c) for c in expected]


Records = Iterator[tuple[int, list[str]]]  # (line or sheet row number, values); header first


def csv_records(source: io.TextIOBase, file_name: str) -> Records:
    """The rows of a CSV file with their line numbers (blank lines skipped)."""
    reader = csv.reader(source)
    try:
        for record in reader:
            if record:
                yield reader.line_num, record
    except UnicodeDecodeError as exc:
        raise LoadError(
            file_name,
            f"not valid UTF-8 ({exc.reason})",
            line=_first_bad_utf8_line(source),
            rule="file is UTF-8 text",
        ) from None
    except csv.Error as exc:
        raise LoadError(
            file_name, f"not readable as CSV ({exc})", line=reader.line_num, rule="file is CSV"
        ) from None


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
            f"not readable as an Excel workbook ({exc})",
            rule="file is an .xlsx workbook",
        ) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise LoadError(
                file_name,
                f"no worksheet named {sheet!r} (found {workbook.sheetnames})",
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

    A row with the wrong number of fields is kept (padded or cut) and flagged ``_malformed`` so
    that validation names it; nothing is dropped here.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = malformed = 0
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
        is_malformed = len(record) != width
        if is_malformed:
            # Excel rows may stop early at empty trailing cells: that is not malformed.
            short_but_blank = len(record) < width and contract.file_format.get("type") == "xlsx"
            if not short_but_blank:
                malformed += 1
            else:
                is_malformed = False
            record = (record + [""] * width)[:width]
        values = [record[i] for i in positions]
        for i in hashed:
            values[i] = pseudonymise(values[i])
        values.append(line)
        values.append("t" if is_malformed else "f")
        writer.writerow(values)
        if buffer.tell() >= COPY_CHUNK_BYTES:
            copy.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        copy.write(buffer.getvalue())
    return LoadResult(batch_id=0, rows_read=rows, malformed_rows=malformed)


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


def load_batch(
    conn: psycopg.Connection,
    batch: Batch,
    landing_root: Path,
    pseudonymise: Pseudonymiser,
    ctx: RunContext,
) -> LoadResult:
    """Stream one file into its landing table. A file that cannot be read is quarantined whole."""
    path = landing_root / batch.file_name
    if not path.exists():
        raise LoadError(batch.file_name, "the file is no longer in the landing folder")
    if file_sha256(path) != batch.file_sha256:
        raise LoadError(
            batch.file_name,
            "the file changed after it was registered: "
            "a source must not rewrite a dropped file; drop a new one",
        )
    contract = batch.contract
    try:
        with conn.transaction():
            table = _create_landing_table(conn, batch)
            columns = sql.SQL(", ").join(map(sql.Identifier, _landing_columns(contract)))
            copy_sql = sql.SQL("copy {} ({}) from stdin (format csv)").format(table, columns)
            with contextlib.ExitStack() as stack:
                if contract.file_format.get("type") == "xlsx":
                    records = xlsx_records(path, batch.file_name, contract.file_format.get("sheet"))
                else:
                    source = stack.enter_context(path.open(newline="", encoding="utf-8-sig"))
                    records = csv_records(source, batch.file_name)
                copy = stack.enter_context(conn.cursor().copy(copy_sql))
                result = copy_records(copy, records, contract, pseudonymise, batch.file_name)
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
    log.info("loaded batch %d (%s): %d rows", batch.batch_id, batch.file_name, result.rows_read)
    return result


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


def _insert_into_raw(conn: psycopg.Connection, batch: Batch, source: sql.Identifier) -> int:
    """Cast the rows of ``source`` (a landing or quarantine table) into the raw table."""
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
        sql.SQL("insert into {raw} ({targets}) select {selects} from {source}").format(
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
