"""``generate``: the run of every sample source generator over a date range, day by day."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext, SourceFactory
from vawg_devtools.sample.cps import CpsSource
from vawg_devtools.sample.force import ForceSource
from vawg_devtools.sample.force_marac import MaracSource
from vawg_devtools.sample.force_orders import ProtectiveOrderSource
from vawg_devtools.sample.funding import FundingSource
from vawg_devtools.sample.ons import OnsSource
from vawg_devtools.sample.people import PersonPool
from vawg_devtools.sample.profile import DEFAULT_PROFILE, SampleProfile
from vawg_devtools.sample.public import PublicSource
from vawg_devtools.sample.reference import load_reference
from vawg_devtools.sample.sampling import rng_stream
from vawg_devtools.sample.services import ServicesSource
from vawg_devtools.sample.victims_code import VictimsCodeSource

DEFAULT_SEED = 20240401
DAYS_PER_MONTH = 365.25 / 12

# Generators of other sources that follow the force's crimes (MARAC cases, protective orders,
# Victims' Code records, service referrals ...): add each one's factory here. See DaySource.
SOURCE_FACTORIES: tuple[SourceFactory, ...] = (
    MaracSource,
    ProtectiveOrderSource,
    VictimsCodeSource,
    ServicesSource,
    CpsSource,
    FundingSource,
    PublicSource,
    OnsSource,
)


@dataclass(frozen=True)
class SampleSummary:
    landing_dir: Path
    start: date
    end: date
    seed: int
    datasets: tuple[DatasetSummary, ...]

    def dataset(self, name: str) -> DatasetSummary:
        for d in self.datasets:
            if d.dataset == name:
                return d
        raise KeyError(name)

    @property
    def files(self) -> int:
        return sum(d.files for d in self.datasets)

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.datasets)

    def __str__(self) -> str:
        lines = [f"sample data {self.start} to {self.end} (seed {self.seed}) in {self.landing_dir}"]
        lines += [
            f"  {d.dataset:<20} {d.files:>6,} files {d.rows:>12,} rows  {d.folder}"
            for d in self.datasets
        ]
        return "\n".join(lines)


def daily_counts(
    start: date,
    end: date,
    rows: int | None,
    profile: SampleProfile,
    rng: np.random.Generator,
    size: float = 1.0,
) -> np.ndarray:
    """Crimes recorded on each day: ``rows`` in all (or the profile's realistic volume times
    ``size``, the force's population over the profile's, with Poisson noise), shared out by
    weekday and month factors."""
    days = (end - start).days + 1
    factors = np.array([
        profile.weekday_factors[d.weekday()] * profile.month_factors[d.month - 1]
        for d in (start + timedelta(days=i) for i in range(days))
    ])  # fmt: skip
    if rows is None:
        total = int(rng.poisson(profile.crimes_per_month * size / DAYS_PER_MONTH * factors.sum()))
    else:
        total = int(rows)
    return rng.multinomial(total, factors / factors.sum())


def make_context(
    landing_dir: Path,
    *,
    start: date,
    end: date,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
    profile: SampleProfile = DEFAULT_PROFILE,
) -> tuple[SampleContext, np.ndarray]:
    """A run's shared context and its crimes per day (what ``generate`` starts from)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if rows is not None and rows < 0:
        raise ValueError("rows must be zero or more")
    reference = load_reference()
    size = float(reference.la_population.sum()) / profile.reference_population
    counts = daily_counts(start, end, rows, profile, rng_stream(seed, "calendar"), size)
    realistic_daily = profile.crimes_per_month / DAYS_PER_MONTH
    ctx = SampleContext(
        landing_dir=Path(landing_dir),
        start=start,
        end=end,
        seed=seed,
        reference=reference,
        profile=profile,
        people=PersonPool(seed),
        scale=float(counts.mean()) / realistic_daily,
        size=size,
    )
    return ctx, counts


def generate(
    landing_dir: Path,
    *,
    start: date,
    end: date,
    rows: int | None = None,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
    profile: SampleProfile = DEFAULT_PROFILE,
    sources: Sequence[SourceFactory] | None = None,
) -> SampleSummary:
    """Write synthetic force extracts (and any follower sources) for ``start`` to ``end``.

    One crimes file and one outcomes file per day, in the contracts' folders under
    ``landing_dir``, each written atomically. The force is the home force (seed forces, the
    setting VAWG_HOME_FORCE). ``rows`` is the total number of crime rows (the daily rate is
    scaled to it); by default the force's size: about 3,100 a month in Lancashire, in proportion
    to population elsewhere (about 1,000 in Cumbria). The same
    arguments write byte-identical files. ``progress`` receives a one-line message after each
    day. Each day is drawn, written and dropped: memory holds one day's crimes, the (capped)
    rings of recent victims and the outcome events not yet due, never the whole run.
    """
    ctx, counts = make_context(
        landing_dir, start=start, end=end, rows=rows, seed=seed, profile=profile
    )
    force = ForceSource(ctx, counts)
    followers = [factory(ctx) for factory in (SOURCE_FACTORIES if sources is None else sources)]
    for i, day in ctx.each_day():
        batch = force.write_day(i, day)
        for follower in followers:
            follower.on_day(day, batch)
        if progress is not None:
            progress(
                f"{day}: day {i + 1:,} of {ctx.days:,}, {force.crime_rows:,} crimes, "
                f"{force.outcome_rows:,} outcome events"
            )
    datasets = force.summaries() + [s for f in followers for s in f.summaries()]
    return SampleSummary(ctx.landing_dir, start, end, seed, tuple(datasets))
