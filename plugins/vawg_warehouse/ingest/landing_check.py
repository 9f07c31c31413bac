"""The landing folder is there and readable, and nothing in it goes unseen.

* A landing folder that is missing or cannot be read (an unmounted share, a wrong
  ``VAWG_LANDING_DIR``) is not a quiet night: :func:`check_landing` raises a
  :class:`~vawg_warehouse.run_outcome.ConfigurationError` naming it, so the run fails at once.
  A dataset's folder that exists but is not a folder or cannot be listed does the same. A
  dataset's folder that does not exist is a source that has sent nothing yet: no error.
* A file in the landing folder that matches no data contract (an ONS workbook dropped in the
  wrong place, a misnamed extract) is :func:`unrecognised`: the run records it in
  ``audit.unrecognised_file`` and the run report and ``vawg status`` list it.

Names are stored escaped (``\\n``, ``\\x01``) and shown HTML-escaped; files are never opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import psycopg

from vawg_warehouse.ingest.contracts import Contract, all_contracts
from vawg_warehouse.run_outcome import ConfigurationError


def _readable_folder(folder: Path, what: str) -> None:
    if not folder.exists():
        raise ConfigurationError(f"{what} {folder} does not exist (is the share mounted?)")
    if not folder.is_dir():
        raise ConfigurationError(f"{what} {folder} is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise ConfigurationError(f"{what} {folder} cannot be read by this account")
    try:
        next(folder.iterdir(), None)
    except OSError as exc:
        raise ConfigurationError(
            f"{what} {folder} cannot be listed ({type(exc).__name__})"
        ) from None


def check_landing(landing_root: Path, contracts: Iterable[Contract] = ()) -> None:
    """Raise ConfigurationError, naming the folder, when the landing folder or one of the given
    datasets' folders that exists cannot be read."""
    _readable_folder(landing_root, "the landing folder (VAWG_LANDING_DIR)")
    for contract in contracts:
        folder = contract.landing_dir(landing_root)
        if folder.is_symlink() or not os.path.lexists(folder):
            continue  # a link is refused and recorded by the survey; a missing folder: no files
        _readable_folder(folder, f"the landing folder of {contract.dataset}")


def _files(folder: Path) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return  # the folder checks above name unreadable dataset folders
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            yield from _files(entry)
        else:
            yield entry


def unrecognised(landing_root: Path, contracts: Iterable[Contract] | None = None) -> list[str]:
    """Every file under the landing folder that no data contract takes, as escaped paths
    relative to it (sorted); none when the folder cannot be read."""
    known = list(contracts) if contracts is not None else all_contracts()
    if not landing_root.is_dir():
        return []
    found = []
    for path in _files(landing_root):
        relative = path.relative_to(landing_root).as_posix()
        if not any(c.matches(relative) for c in known):
            found.append(relative.encode("unicode_escape").decode("ascii"))
    return found


def record_unrecognised(conn: psycopg.Connection, dag_run_id: str | None, names: list[str]) -> None:
    """One row per file and run in audit.unrecognised_file."""
    from vawg_warehouse.audit import append_rows

    with conn.transaction():
        append_rows(
            conn,
            "unrecognised_file",
            [{"dag_run_id": dag_run_id, "file_name": name} for name in dict.fromkeys(names)],
        )


def of_run(conn: psycopg.Connection, dag_run_id: str) -> list[str]:
    if conn.execute("select to_regclass('audit.unrecognised_file')").fetchone()[0] is None:
        return []
    return [
        r[0]
        for r in conn.execute(
            "select file_name from audit.unrecognised_file where dag_run_id = %s "
            "order by file_name",
            (dag_run_id,),
        ).fetchall()
    ]
