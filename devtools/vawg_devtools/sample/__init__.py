"""Synthetic source files for the VAWG warehouse (``vawg sample``).

Writes what the sources would drop in the landing folder, following their data contracts, with
realistic (but invented) volumes and mixes for Lancashire. Layout:

- ``engine``: ``generate()`` and ``SampleSummary``: runs every generator day by day.
- ``force``: the force's crimes and outcome events (``ForceGenerator``, ``ForceSource``).
- ``profile``: every proportion, mix and delay, as one ``SampleProfile`` (assumptions).
- ``people``: the seeded pool of victims and suspects that all generators share.
- ``reference``: codes from the dbt reference seeds and the contracts.
- ``context``, ``sampling``, ``output``: what generators share (run context, random streams,
  vectorised sampling, atomic CSV writing).
- ``bad_data``: deliberately broken files for tests (never written by ``generate``).

A new source (e.g. MARAC cases) goes in its own module as a ``DaySource`` that receives each
day's ``CrimeBatch`` and the run's ``SampleContext``; register its factory in
``engine.SOURCE_FACTORIES``.
"""

from vawg_devtools.sample.bad_data import BadFile, Violation, write_bad_crimes_file
from vawg_devtools.sample.context import DatasetSummary, DaySource, SampleContext
from vawg_devtools.sample.engine import (
    DEFAULT_SEED,
    SOURCE_FACTORIES,
    SampleSummary,
    generate,
    make_context,
)
from vawg_devtools.sample.force import CrimeBatch
from vawg_devtools.sample.profile import DEFAULT_PROFILE, SampleProfile

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_SEED",
    "SOURCE_FACTORIES",
    "BadFile",
    "CrimeBatch",
    "DatasetSummary",
    "DaySource",
    "SampleContext",
    "SampleProfile",
    "SampleSummary",
    "Violation",
    "generate",
    "make_context",
    "write_bad_crimes_file",
]
