"""Owner-only files: the one writer of every page, report, docs site and key the package keeps.

Run reports, Data Docs, the scorecard and dbt docs name files, batches and runs, and the demo
pseudonym key is a secret: each is for the service account only (a web server or auditor reads
them as that account). A file is written to a temporary file beside it, created 0600 (a leftover
temporary file from a crash is removed first, so its mode is never inherited), then renamed over
the target: readers never see half a file, and a target that was there before, whatever its
mode, is replaced by a 0600 file. Folders are made 0700.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) and make it owner-only (0700). A folder of another
    account (a shared mount point) is left as it is: what is written inside is still 0600."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        folder.chmod(FOLDER_MODE)
    except PermissionError:
        pass
    return folder


def make_private(tree: Path) -> None:
    """Every folder under ``tree`` (itself included) 0700 and every file 0600; symbolic links
    are not followed (a Data Docs site links to the shared static folder, made private itself)."""
    tree.chmod(FOLDER_MODE)
    for root, folders, files in os.walk(tree):
        for name in folders:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(FOLDER_MODE)
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(FILE_MODE)


def write_private(path: Path, content: str | bytes, *, replace: bool = True) -> Path:
    """Write ``content`` (text as UTF-8) to ``path``, owner-only (0600), atomically.

    ``replace=False``: create the file only if there is none (FileExistsError otherwise), for a
    file that must be made once (a key), still never seen half-written."""
    private_folder(path.parent)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # a leftover keeps its mode: start afresh
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        if replace:
            partial.replace(path)
        else:
            os.link(partial, path)  # fails if the file exists: the first writer wins
    finally:
        partial.unlink(missing_ok=True)
    return path
