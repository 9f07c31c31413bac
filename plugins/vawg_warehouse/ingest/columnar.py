"""The loader's fast path for CSV files: pyarrow parses blocks of lines, identifiers are hashed once
per distinct value, and Arrow assembles each block as COPY BINARY rows.

The row-by-row path (``load.csv_records`` + ``load.copy_records``) is the reference: this path
must land exactly what it would, or give way to it. It only takes files where every line is one
row, so that a row's line number is the line count (the header is line 1): each block of whole
lines is parsed on its own and must give exactly as many rows as it has lines. Anything else -
blank lines, a quoted field holding a line break, a lone carriage return, a row with the wrong
number of fields, bytes that are not UTF-8, a header that is not one plain line - raises
``NotColumnar`` with a fixed reason (never the parser's message: it quotes the row), and the
caller loads that file row by row instead, where each of those has its exact handling and error.

Memory stays flat: one block of about ``BLOCK_BYTES`` (plus the longest line) at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

BLOCK_BYTES = 2 << 20  # about 2 MiB of lines per block: CPU is flat from 1 to 4 MiB, memory grows
_BOM = b"\xef\xbb\xbf"
# Printable ASCII without lower-case letters, no space at either end: str.strip() and
# str.upper() leave such a value as it is (checked against them in tests/unit/test_columnar.py).
_ALREADY_NORMAL = r"^[!-`{-~](?:[ -`{-~]*[!-`{-~])?$"


class NotColumnar(Exception):
    """This file must be read row by row; ``reason`` is fixed text, never a cell value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_header(stream: BinaryIO) -> list[str]:
    """The header cells of the file's first line (BOM removed); the stream is left after it."""
    first = stream.readline(1 << 20)
    if first.startswith(_BOM):
        first = first[len(_BOM) :]
    if not first.endswith(b"\n"):
        raise NotColumnar("the header is not one whole line")
    if first.count(b'"') % 2 or b"\r" in first[:-2] or b"\x00" in first:
        raise NotColumnar("the header is not one plain line")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        raise NotColumnar("the header is not UTF-8") from None
    cells = next(csv.reader([text.rstrip("\r\n")]), [])
    if not any(c.strip() for c in cells):
        raise NotColumnar("the first line is blank")
    return cells


def blocks(stream: BinaryIO, block_bytes: int = BLOCK_BYTES):
    """Whole lines of the stream, about ``block_bytes`` at a time (the last may lack a newline)."""
    rest = b""
    while True:
        block = stream.read(block_bytes)
        if not block:
            if rest:
                yield rest
            return
        data = rest + block if rest else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data  # a line longer than a block: read on until it ends
            continue
        rest = data[cut:]
        yield data[:cut] if rest else data


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no header extension
COPY_TRAILER = b"\xff\xff"  # field count -1: end of data
# After the contract's columns each row carries its line number (bigint) and ``false``
# (_malformed, boolean): in COPY binary, length 8 + big-endian int64, then length 1 + byte 0.
_TAIL = np.dtype(
    [("number_length", ">i4"), ("number", ">i8"), ("flag_length", ">i4"), ("flag", "u1")]
)


def copy_columnar(
    write: Callable[[bytes | memoryview], object],
    stream: BinaryIO,
    width: int,
    positions: list[int | None],
    hashed: list[int],
    pseudonymise_many: Callable[..., tuple[bytes, bytes]],
    first_line: int = 2,
    block_bytes: int = BLOCK_BYTES,
    alphabets: dict[int, str] | None = None,
) -> int:
    """COPY BINARY data of every block of ``stream`` (positioned after the header) to ``write``.

    Each output row holds the contract's columns (``positions``: the file column of each) as
    text, those at ``hashed`` pseudonymised, then the line number and ``false`` (not malformed).
    ``alphabets``: of a hashed column, its contract's alphabet (a regex character class); a
    value with another character is stored as privacy.OUTSIDE_ALPHABET, not pseudonymised.
    Returns the rows written; raises NotColumnar when the file must be read row by row (the
    caller must then abandon the COPY: what was written is incomplete).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    parse = pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    line = first_line
    write(COPY_HEADER)
    for block in blocks(stream, block_bytes):
        lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        if b"\x00" in block:
            raise NotColumnar("a NUL byte")
        if block.count(b"\r") != block.count(b"\r\n"):
            raise NotColumnar("a line ends in a lone carriage return")
        read = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=len(block) + 1)
        try:
            table = pacsv.read_csv(
                pa.py_buffer(block), read_options=read, parse_options=parse, convert_options=convert
            )
        except (pa.ArrowInvalid, pa.ArrowException):
            # The message quotes the row: never pass it on.
            raise NotColumnar("a block is not plain CSV (field count, quoting or UTF-8)") from None
        rows = table.num_rows
        if rows != lines:
            raise NotColumnar("blank lines or line breaks inside quoted fields")
        columns = [
            pa.nulls(rows, pa.string()) if p is None else table.column(p).combine_chunks()
            for p in positions
        ]  # None: a column the file may leave out, and did
        for i in hashed:
            alphabet = (alphabets or {}).get(i)
            columns[i] = _pseudonymised(columns[i], pseudonymise_many, alphabet)
        write(_binary_rows(columns, line))
        line += rows
    write(COPY_TRAILER)
    return line - first_line


def _pseudonymised(column, pseudonymise_many, alphabet: str | None = None):
    """The column with each value replaced by its pseudonym, hashing each distinct value once
    (a value outside ``alphabet`` by privacy.OUTSIDE_ALPHABET instead)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = column.dictionary_encode()
    distinct = encoded.dictionary
    count = len(distinct)
    offsets = np.arange(0, 64 * count + 1, 64, dtype=np.int32)
    if pc.all(pc.match_substring_regex(distinct, _ALREADY_NORMAL)).as_py() is not False:
        # Trimming and upper-casing would change none of them: hash the bytes as they are.
        text, _ = pseudonymise_many(distinct.cast(pa.binary()).to_pylist(), normalised=True)
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(text)]
        pseudonyms = pa.Array.from_buffers(pa.string(), count, buffers)
        if alphabet is not None:  # ASCII without lower case: the alphabet's regex as it is
            inside = pc.match_substring_regex(distinct, f"^{alphabet}*$")
            pseudonyms = _marked(pseudonyms, inside)
        return pseudonyms.take(encoded.indices)
    text, present = pseudonymise_many(distinct.to_pylist())
    valid = np.packbits(np.frombuffer(present, dtype=np.uint8), bitorder="little")
    pseudonyms = pa.Array.from_buffers(
        pa.string(),
        count,
        [pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(text)],
        null_count=present.count(0),
    )
    if alphabet is not None:
        from vawg_warehouse.ingest.privacy import in_alphabet

        check = in_alphabet(alphabet)
        pseudonyms = _marked(pseudonyms, pa.array([check(v) for v in distinct.to_pylist()]))
    return pseudonyms.take(encoded.indices)


def _marked(pseudonyms, inside):
    """``pseudonyms`` with privacy.OUTSIDE_ALPHABET where ``inside`` is false."""
    import pyarrow.compute as pc

    from vawg_warehouse.ingest.privacy import OUTSIDE_ALPHABET

    if pc.all(inside).as_py() is not False:
        return pseudonyms
    return pc.if_else(inside, pseudonyms, OUTSIDE_ALPHABET)


def _fixed(values: np.ndarray, size: int):
    """A numpy array of ``size``-byte records as an Arrow binary array (one value per record)."""
    import pyarrow as pa

    fixed = pa.Array.from_buffers(pa.binary(size), len(values), [None, pa.py_buffer(values)])
    return fixed.cast(pa.binary())


def _lengths(data) -> np.ndarray:
    """Each value's length in bytes as big-endian int32, -1 for a null (COPY BINARY's field
    length). Read from the Arrow buffers with numpy: Arrow's own conversions import pandas."""
    validity, offsets = data.buffers()[:2]
    start = data.offset
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(data) + 1, offset=start * 4)
    lengths = np.diff(bounds).astype(">i4")
    if data.null_count:
        bits = np.unpackbits(
            np.frombuffer(validity, dtype=np.uint8), count=start + len(data), bitorder="little"
        )
        lengths[bits[start:] == 0] = -1
    return lengths


def _binary_rows(columns: list, first_line: int) -> memoryview:
    """The rows of ``columns`` (text) in COPY BINARY layout, assembled by Arrow in one pass."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = len(columns[0])
    parts = [_fixed(np.full(rows, len(columns) + 2, dtype=">i2"), 2)]
    for column in columns:
        data = column.cast(pa.binary())
        parts += [_fixed(_lengths(data), 4), data]
    tail = np.empty(rows, dtype=_TAIL)
    tail["number_length"] = 8
    tail["number"] = np.arange(first_line, first_line + rows, dtype=np.int64)
    tail["flag_length"] = 1
    tail["flag"] = 0
    parts.append(_fixed(tail, _TAIL.itemsize))
    no_separator = pa.Array.from_buffers(
        pa.binary(),
        rows,
        [None, pa.py_buffer(np.zeros(rows + 1, dtype=np.int32)), pa.py_buffer(b"")],
    )
    joined = pc.binary_join_element_wise(
        *parts, no_separator, null_handling="replace", null_replacement=""
    )
    _, offsets, data = joined.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32, count=rows + 1, offset=joined.offset * 4)
    return memoryview(data)[bounds[0] : bounds[-1]]
