"""Whole files only: a landing file is registered once its sender has finished writing it.

A file copied into the landing folder while a run surveys it would be taken with the rows
written so far, its cut last line set aside as a malformed row, and the whole file would come
back the next night as another batch. Two ways to know a file is whole, chosen by settings
(config.py):

* the settle interval (``VAWG_SETTLE_SECONDS``, default 2): a file whose modification time is
  at least that old is whole; a younger one is looked at again after the interval and taken
  only if its size and modification time did not change (else it waits for the next run);
* a marker (``VAWG_DONE_MARKER``, e.g. ``.done``), for senders that write one after the file:
  ``crimes_2025-03-01.csv`` is taken only once ``crimes_2025-03-01.csv.done`` exists beside it.
  The marker is never read and never loaded (no contract's pattern matches it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class _Landed(Protocol):
    @property
    def relative_path(self) -> str: ...

    @property
    def path(self) -> Path: ...


@dataclass(frozen=True)
class Settled:
    """The files to take now, and those left for a later run (with why)."""

    whole: list
    waiting: list[tuple[str, str]]  # (relative path, reason)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def whole_files(
    files: Sequence[_Landed],
    settle_seconds: float,
    marker_suffix: str | None = None,
    *,
    now: Callable[[], float] = time.time,
    wait: Callable[[float], object] = time.sleep,
) -> Settled:
    """Split ``files`` into those whole now and those still being written (or unmarked).

    With ``marker_suffix`` a file is whole when its marker exists, whatever its age. Otherwise
    files modified within the last ``settle_seconds`` are watched across one interval (one wait
    for all of them) and kept only if neither their size nor their modification time changed.
    """
    if marker_suffix:
        marked: list = []
        unmarked: list[tuple[str, str]] = []
        for landed in files:
            marker = landed.path.with_name(landed.path.name + marker_suffix)
            if marker.is_file() and not marker.is_symlink():
                marked.append(landed)
            else:
                unmarked.append((landed.relative_path, f"no {marker_suffix} marker yet"))
        return _logged(Settled(marked, unmarked))
    if settle_seconds <= 0:
        return Settled(list(files), [])
    started = now()
    settled: list = []
    young: list[tuple[_Landed, tuple[int, int]]] = []
    for landed in files:
        signature = _signature(landed.path)
        if signature is None:
            continue  # gone since the survey: nothing to take
        age = started - signature[1] / 1e9
        if 0 <= age and age >= settle_seconds:
            settled.append(landed)
        else:  # written within the interval (or dated ahead of this clock)
            young.append((landed, signature))
    waiting: list[tuple[str, str]] = []
    if young:
        wait(settle_seconds)
        for landed, before in young:
            if _signature(landed.path) == before:
                settled.append(landed)
            else:
                waiting.append(
                    (
                        landed.relative_path,
                        f"size or modification time changed within {settle_seconds:g} s",
                    )
                )
    order = {id(f): i for i, f in enumerate(files)}
    settled.sort(key=lambda f: order[id(f)])
    return _logged(Settled(settled, waiting))


def _logged(settled: Settled) -> Settled:
    for name, reason in settled.waiting:
        log.warning("NOT YET %s: %s; left for a later run", name, reason)
    return settled
