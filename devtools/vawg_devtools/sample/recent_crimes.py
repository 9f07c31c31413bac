"""A ring of recent crimes that a follower generator draws its people from.

The MARAC and protective-order generators do not invent people: they take the victims (and the
suspects, as perpetrators) of crimes the force generator recorded, so the same pseudonymous
people appear across the sources. Each keeps a fixed-capacity ring of the crimes it may draw
from (e.g. the last six weeks of DA-flagged crimes): memory is bounded by the capacity, never by
the length of the run.
"""

from __future__ import annotations

import numpy as np

from vawg_devtools.sample.force import CrimeBatch


class RecentCrimes:
    """The last ``capacity`` crimes added: crime key, victim, suspect, sex, local authority, day."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.key = np.full(capacity, -1, dtype=np.int64)  # year * 10**7 + sequence (force.py)
        self.victim = np.full(capacity, -1, dtype=np.int64)  # PersonPool index
        self.suspect = np.full(capacity, -1, dtype=np.int64)  # -1: none identified
        self.is_female = np.zeros(capacity, dtype=bool)
        self.local_authority = np.zeros(capacity, dtype=np.int16)  # index into la_codes
        self.day = np.zeros(capacity, dtype=np.int32)  # ordinal of the day recorded
        self.used = np.zeros(capacity, dtype=bool)  # taken by a generator that takes each once
        self.size = 0
        self._next = 0

    def __len__(self) -> int:
        return self.size

    def add(self, batch: CrimeBatch, rows: np.ndarray, female_sex: int) -> None:
        """Add ``batch``'s crimes at positions ``rows`` (``female_sex``: the index of F)."""
        rows = np.asarray(rows, dtype=np.int64)[-self.capacity :]
        n = rows.size
        if n == 0:
            return
        pos = (self._next + np.arange(n)) % self.capacity
        self.key[pos] = batch.key[rows]
        self.victim[pos] = batch.victim[rows]
        self.suspect[pos] = batch.suspect[rows]
        self.is_female[pos] = batch.victim_sex[rows] == female_sex
        self.local_authority[pos] = batch.local_authority[rows]
        self.day[pos] = batch.day.toordinal()
        self.used[pos] = False
        self._next = int((self._next + n) % self.capacity)
        self.size = min(self.capacity, self.size + n)

    def positions(
        self,
        *,
        first_day: int,
        last_day: int,
        needs_suspect: bool = False,
        unused_only: bool = False,
    ) -> np.ndarray:
        """Positions of the crimes recorded from ``first_day`` to ``last_day`` (ordinals)."""
        day = self.day[: self.size]
        keep = (day >= first_day) & (day <= last_day)
        if needs_suspect:
            keep &= self.suspect[: self.size] >= 0
        if unused_only:
            keep &= ~self.used[: self.size]
        return np.flatnonzero(keep)
