"""``vawg bench``: the speed and memory targets of the warehouse, each beside its floor.

Every figure is measured in the run that prints it, next to a floor measured in the same run: the
same work done the plainest way we know (a bare COPY of the same file, one SQL scan, a CREATE
TABLE AS of the same aggregates, the import cost alone). The ratio of the two is what carries
from one machine to another; the seconds are this machine's. Nothing here is asserted by a test:
the smoke test only checks that the smallest size runs and prints.

Each module of this package measures one row of the table (``measure(size, workspace)`` returning
a list of :class:`Figure`); ``runner`` runs them and writes ``docs/benchmarks.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured figure, with the floor it is compared to (both from the same run)."""

    name: str  # the row of the table, e.g. "loader, 1,000,000 crime rows"
    value: float
    unit: str  # "s", "rows/s", "MB"
    target: str  # the target as the issue states it, e.g. ">= 0.5x" or "<= 15 s"
    floor: float | None = None  # the floor's figure, in the same unit
    floor_name: str = ""  # what the floor is, e.g. "bare COPY of the same file"
    met: bool | None = None  # whether the target is met (None: not a pass/fail figure)
    note: str = ""  # how it was measured, or what closes a gap
    detail: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """value / floor (for rows/s, floor / value would be the time ratio: see ``speed``)."""
        if self.floor in (None, 0):
            return None
        return self.value / self.floor
