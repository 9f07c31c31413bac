"""The immutable archive: every file taken in, kept byte for byte under its own checksum.

When ``load.register`` makes a load batch of a landing file, the file is copied here as
``<sha256[:2]>/<sha256><suffix>`` (content-addressed: the name *is* the checksum), the copy is
read back and its checksum verified, and it is made read-only. A path that already exists is never
written again: the same content registered twice (a re-sent file, another dataset) shares one copy.
``audit.load_batch.archive_path`` records the path relative to the archive root, so the archive can
move (``VAWG_ARCHIVE_DIR``) without rewriting the audit trail.

The landing folder may be cleared by the sources; the archive is what an auditor recomputes from.
Like the landing folder it must be storage every worker sees (a shared volume) when tasks run on
the Celery or Kubernetes executors. Only the copy is written; the landing file is left as it is.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

_BLOCK = 1 << 20
READ_ONLY = stat.S_IRUSR  # 0o400: the copies hold identifiers in clear; owner only
OWNER_ONLY_DIR = stat.S_IRWXU  # 0o700


class ArchiveError(RuntimeError):
    """The archive could not keep a verified copy of a file (names the file, never its rows)."""


def archive_relative_path(sha256: str, source_name: str) -> str:
    """Where a file of this checksum lives under the archive root, e.g. ``ab/ab12...ef.csv``."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a hex sha256: {sha256!r}")
    return f"{sha256[:2]}/{sha256}{Path(source_name).suffix.lower()}"


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def archive_file(source: Path, sha256: str, archive_root: Path) -> str:
    """Keep a verified, read-only copy of ``source`` (whose checksum is ``sha256``).

    Returns the copy's path relative to ``archive_root``. An existing copy is never rewritten; it
    is only checked to be read-only and of the same size. The new copy is written under a temporary
    name, hashed while copying (the source must still be the file registered), flushed to disk,
    read back and hashed again, made read-only, then linked into place: ``os.link`` fails rather
    than replace a file, so two workers archiving the same content at once cannot clobber each
    other.
    """
    relative = archive_relative_path(sha256, source.name)
    target = archive_root / relative
    _owner_only_folder(archive_root)
    _owner_only_folder(target.parent)
    if target.exists():
        _check_existing(target, source)
        return relative
    temporary = target.parent / f".{sha256}.{secrets.token_hex(4)}.partial"
    try:
        copied = hashlib.sha256()
        with source.open("rb") as src, temporary.open("xb") as dst:
            while block := src.read(_BLOCK):
                copied.update(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        if copied.hexdigest() != sha256:
            raise ArchiveError(
                f"{source.name}: the file changed after its checksum was taken; not archived"
            )
        if _sha256_of(temporary) != sha256:
            raise ArchiveError(f"{source.name}: the archived copy does not match its checksum")
        temporary.chmod(READ_ONLY)
        try:
            os.link(temporary, target)
        except FileExistsError:
            _check_existing(target, source)  # another worker archived the same content first
    finally:
        temporary.unlink(missing_ok=True)
    return relative


def _owner_only_folder(folder: Path) -> None:
    """Make (or tighten) an archive folder: owner only (0700)."""
    folder.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != OWNER_ONLY_DIR:
        folder.chmod(OWNER_ONLY_DIR)


def _check_existing(target: Path, source: Path) -> None:
    info = target.stat()
    if info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise ArchiveError(f"{target}: an archived file is writable; it must be read-only")
    if info.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        target.chmod(READ_ONLY)  # a copy made before copies were owner-only
    if info.st_size != source.stat().st_size:
        raise ArchiveError(
            f"{target}: the archived file's size differs from {source.name} of the same checksum"
        )


def verify_archived(archive_root: Path, relative: str) -> bool:
    """True when the archived file exists and still has the checksum its name states."""
    path = archive_root / relative
    return path.is_file() and _sha256_of(path) == Path(relative).name.split(".")[0]
