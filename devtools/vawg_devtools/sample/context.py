"""What every source generator of a run shares: dates, seed, reference data, profile, people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from vawg_devtools.sample.people import PersonPool
from vawg_devtools.sample.profile import SampleProfile
from vawg_devtools.sample.reference import ReferenceData
from vawg_devtools.sample.sampling import rng_stream

if TYPE_CHECKING:
    from vawg_devtools.sample.force import CrimeBatch


@dataclass(frozen=True)
class DatasetSummary:
    dataset: str
    folder: Path
    files: int
    rows: int


@dataclass
class SampleContext:
    landing_dir: Path
    start: date
    end: date
    seed: int
    reference: ReferenceData
    profile: SampleProfile
    people: PersonPool
    scale: float  # expected crimes per day / the profile's realistic rate (Lancashire's)
    size: float = 1.0  # the home force's population / the profile's reference_population

    @property
    def realism(self) -> float:
        """Expected crimes per day / the home force's own realistic rate (1.0 = realistic): for
        a volume the force's population already sizes (e.g. MARAC cases per 10,000 women)."""
        return self.scale / self.size

    def rng(self, name: str) -> np.random.Generator:
        """This run's random stream for ``name`` (one per generator or part of one)."""
        return rng_stream(self.seed, name)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self):
        for i in range(self.days):
            yield i, self.start + timedelta(days=i)


class DaySource(Protocol):
    """A generator of another source's files that follows the force's crimes day by day.

    ``generate`` builds one per factory in ``SOURCE_FACTORIES`` (or its ``sources`` argument)
    with the run's ``SampleContext``, hands it every day's ``CrimeBatch`` after the force files
    of that day are written, and collects ``summaries()`` at the end. It should write its own
    files day by day, atomically (``output.write_csv``), drawing from ``context.rng("<name>")``
    and from ``context.people`` so its victims are the force's victims.
    """

    def on_day(self, day: date, crimes: CrimeBatch) -> None: ...

    def summaries(self) -> list[DatasetSummary]: ...


SourceFactory = Callable[[SampleContext], DaySource]
