"""The run's people: one seeded pool of victims and suspects that every source generator shares.

A person is an integer index (allocated in order, so a run is reproducible) shown to the outside
as a force person identifier ``P`` + 9 digits through a seeded bijection, so identifiers look
arbitrary but never collide. Victims and suspects come from the same index space and never share
an index.

``RecentPeople`` rings remember the last victims of a kind (e.g. DA victims who are female) with
their suspect, date of birth and home local authority: the force generator draws repeat victims
from them, and a later generator (MARAC cases, protective orders, Victims' Code records, service
referrals) can draw the same people from them, or use the ``CrimeBatch`` it is handed each day.
Memory is bounded by the rings' capacity, never by the run's size.
"""

from __future__ import annotations

import numpy as np

from vawg_devtools.sample.sampling import rng_stream

PERSON_ID_SPACE = 10**9  # "P" + 9 digits


class RecentPeople:
    """A fixed-capacity ring of recent (victim, suspect, birth date, home LA, crime date) rows."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.victim = np.full(capacity, -1, dtype=np.int64)
        self.suspect = np.full(capacity, -1, dtype=np.int64)
        self.birth = np.zeros(capacity, dtype=np.int32)  # date ordinal
        self.home_la = np.zeros(capacity, dtype=np.int16)  # index into ReferenceData.la_codes
        self.day = np.zeros(capacity, dtype=np.int32)  # ordinal of the crime that added the row
        self.size = 0
        self._next = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        victim: np.ndarray,
        suspect: np.ndarray,
        birth: np.ndarray,
        home_la: np.ndarray,
        day: int | np.ndarray,
    ) -> None:
        n = len(victim)
        if n == 0:
            return
        day = np.broadcast_to(np.asarray(day, dtype=np.int32), (n,))
        keep = slice(max(0, n - self.capacity), n)  # more rows than capacity: the last ones win
        k = keep.stop - keep.start
        pos = (self._next + np.arange(k)) % self.capacity
        self.victim[pos] = victim[keep]
        self.suspect[pos] = suspect[keep]
        self.birth[pos] = birth[keep]
        self.home_la[pos] = home_la[keep]
        self.day[pos] = day[keep]
        self._next = int((self._next + k) % self.capacity)
        self.size = min(self.capacity, self.size + k)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Positions of ``n`` rows drawn uniformly with replacement (the ring must not be empty)."""
        if self.size == 0:
            raise ValueError("the ring is empty")
        return rng.integers(0, self.size, size=n)


class PersonPool:
    """Allocates people and formats their identifiers; holds the named rings of recent victims."""

    def __init__(self, seed: int):
        rng = rng_stream(seed, "person-ids")
        a = int(rng.integers(PERSON_ID_SPACE // 10, PERSON_ID_SPACE))
        while a % 2 == 0 or a % 5 == 0:  # coprime with 10**9, so index -> id is a bijection
            a += 1
        self._a = a
        self._b = int(rng.integers(0, PERSON_ID_SPACE))
        self.allocated = 0
        self.rings: dict[str, RecentPeople] = {}

    def allocate(self, n: int) -> np.ndarray:
        """Indices of ``n`` new people."""
        if self.allocated + n > PERSON_ID_SPACE:
            raise OverflowError("more than 10**9 people: the identifier space is exhausted")
        out = np.arange(self.allocated, self.allocated + n, dtype=np.int64)
        self.allocated += n
        return out

    def id_numbers(self, index: np.ndarray) -> np.ndarray:
        """The 9-digit number of each person (-1 where the index is -1, i.e. nobody)."""
        index = np.asarray(index, dtype=np.int64)
        numbers = (self._a * index + self._b) % PERSON_ID_SPACE
        return np.where(index >= 0, numbers, -1)

    def format_ids(self, index: np.ndarray) -> list[str]:
        """Force person identifiers, ``P`` + 9 digits; an empty string for -1 (nobody)."""
        return [f"P{v:09d}" if v >= 0 else "" for v in self.id_numbers(index).tolist()]

    def ring(self, name: str, capacity: int) -> RecentPeople:
        """The named ring of recent victims, created with ``capacity`` on first use."""
        if name not in self.rings:
            self.rings[name] = RecentPeople(capacity)
        return self.rings[name]
