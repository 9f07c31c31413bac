"""The landing folder: survey it, refuse what cannot be taken in, register each new file as a batch.

``register``: each file whose sha256 is not yet published or quarantined becomes a batch, its
bytes archived first (``archive.py``); a file refused by name or place is recorded as such.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from vawg_warehouse.audit import Batch, append_rows, record_event
from vawg_warehouse.ingest.batches import LandingFile
from vawg_warehouse.ingest.contracts import Contract, all_contracts
from vawg_warehouse.run_context import RunContext

log = logging.getLogger(__name__)


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
            new += len(
                append_rows(
                    conn,
                    "refused_file",
                    [
                        {
                            "dataset": refusal.dataset,
                            "file_name": refusal.file_name,
                            "rule": refusal.rule,
                            "message": refusal.message,
                            "dag_run_id": ctx.dag_run_id,
                        }
                    ],
                )
            )
        log.warning("REFUSED %s: %s (rule: %s)", refusal.file_name, refusal.message, refusal.rule)
    return new


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
            from vawg_warehouse.ingest.archive import archive_file

            archive_path = archive_file(landing_file.path, sha, archive_root)
        release = _release(landing_file)
        extra = {}
        if release:
            extra = {
                "source_release": release.source,
                "source_release_date": release.released and release.released.isoformat(),
            }
        with conn.transaction():
            # audit.register_batch (migration 020): a batch id only for a file not yet taken in,
            # with its 'registered' event
            batch_id, status, registered_name, is_new = conn.execute(
                "select * from audit.register_batch(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    landing_file.dataset,
                    landing_file.relative_path,
                    sha,
                    landing_file.size_bytes,
                    ctx.dag_id,
                    ctx.dag_run_id,
                    ctx.logical_date,
                    archive_path,
                    release.released if release else None,
                    release.source if release else None,
                    Jsonb(
                        {
                            "file_name": landing_file.relative_path,
                            "archive_path": archive_path,
                            **extra,
                        }
                    ),
                ),
            ).fetchone()
            if not is_new:
                if archive_path is not None:
                    _record_archive_path(conn, batch_id, archive_path, ctx)
                if registered_name != landing_file.relative_path:
                    _record_duplicate(conn, batch_id, landing_file.relative_path, ctx)
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


def _release(landing_file: LandingFile):
    """The police.uk release of a file whose contract records one (releases.py), else None."""
    from vawg_warehouse.ingest.contracts import load_contract

    contract = load_contract(landing_file.dataset)
    if not contract.records_release:
        return None
    from vawg_warehouse.ingest.releases import ManifestError, Release, release_of

    depth = landing_file.relative_path.count("/") + 1
    root = landing_file.path.parents[depth - 1]
    try:
        return release_of(root, contract.landing_path, landing_file.relative_path)
    except ManifestError as exc:
        log.warning("%s: release manifest not read (%s): ranked as no release", root, exc)
        return Release(None, f"unknown (manifest not read: {exc})")


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
        record_event(conn, batch_id, "duplicate_file", ctx, file_name=other_name)
        log.warning(
            "%s is byte for byte the file of batch %d: not loaded again", other_name, batch_id
        )


def _record_archive_path(
    conn: psycopg.Connection, batch_id: int, archive_path: str, ctx: RunContext
) -> None:
    """Give a batch registered before the archive existed its archive path (once)."""
    conn.execute(  # with its 'archived' event, when it had none
        "select audit.set_archive_path(%s, %s, %s)", (batch_id, archive_path, ctx.dag_run_id)
    )
