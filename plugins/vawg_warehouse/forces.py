"""The home force: which force the warehouse is for, from one configuration.

Seed ``forces`` (dbt_project/seeds/reference/forces.csv) lists the forces the warehouse can be set
up for: the data.police.uk force id (``force_code``), the Home Office name and the ONS police
force area code. The seeds that hold several forces' rows carry a ``force_code`` column
(``local_authorities``, ``service_areas``, ``services``, ``most_similar_groups`` and the four
``*_measure_parameters`` of the plan's measure settings); the warehouse keeps the home force's.
The home force is the setting ``VAWG_HOME_FORCE``, else the force recorded in
``$VAWG_HOME/home_force`` (``vawg demo --force`` writes it: a warehouse holds one force's data),
else ``lancashire``. dbt reads it from the environment (macro ``home_force``; the
dbt runner sets it), the validation suites' lists of allowed values and the sample generator here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vawg_warehouse.config import get_settings
from vawg_warehouse.ingest.landing_files import read_seed

HOME_FORCE_VARIABLE = "VAWG_HOME_FORCE"
DEFAULT_HOME_FORCE = "lancashire"
FORCE_COLUMN = "force_code"  # the column of a seed that holds several forces' rows
# The seeds that hold several forces' rows, each row the force_code's (seeds police_forces and
# forces also have a force_code column: each row's own id, never filtered)
FORCE_SEEDS = frozenset(
    {
        "local_authorities",
        "service_areas",
        "services",
        "most_similar_groups",
        # the plan's measure settings, each force's own
        "outcome_measure_parameters",
        "marac_measure_parameters",
        "victims_code_measure_parameters",
        "funding_measure_parameters",
    }
)
_FORCE_ID = re.compile(r"[a-z][a-z-]*")


class ForceError(ValueError):
    """A force the warehouse cannot be set up for (a clear message, not a traceback)."""


class UnknownForceError(ForceError):
    """The home force is not a force of seed forces."""


@dataclass(frozen=True)
class Force:
    code: str  # data.police.uk force id, e.g. lancashire
    name: str  # as the Home Office tables write it, e.g. Lancashire
    police_force_area_code: str  # ONS, e.g. E23000003
    policeuk_reported_by: str  # police.uk's Reported by, e.g. Lancashire Constabulary


def recorded_force_path(home: Path | None = None) -> Path:
    """Where a warehouse's state folder records the force it holds (``vawg demo --force``)."""
    return (home or get_settings().home) / "home_force"


def recorded_force(home: Path | None = None) -> str | None:
    """The force recorded for the warehouse of ``home`` (VAWG_HOME), or None."""
    path = recorded_force_path(home)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def home_force_code(code: str | None = None) -> str:
    """``code``, else ``VAWG_HOME_FORCE``, else the force recorded in VAWG_HOME, else
    lancashire; a data.police.uk force id."""
    value = code or os.environ.get(HOME_FORCE_VARIABLE) or recorded_force() or DEFAULT_HOME_FORCE
    value = value.strip().lower()
    if not _FORCE_ID.fullmatch(value):
        raise UnknownForceError(
            f"{HOME_FORCE_VARIABLE}={value!r} is not a data.police.uk force id "
            "(lower case letters and hyphens, e.g. lancashire)"
        )
    return value


def all_forces(folder: Path | None = None) -> dict[str, Force]:
    """Every force of seed forces, by force id."""
    return {
        r["force_code"]: Force(
            r["force_code"], r["force_name"], r["police_force_area_code"], r["policeuk_reported_by"]
        )
        for r in read_seed("forces", folder)
    }


def home_force(code: str | None = None, folder: Path | None = None) -> Force:
    """The home force's row of seed forces; an error naming the forces there if it has none."""
    wanted = home_force_code(code)
    forces = all_forces(folder)
    if wanted not in forces:
        raise UnknownForceError(
            f"force {wanted!r} is not in seed forces (dbt_project/seeds/reference/forces.csv): "
            f"known forces are {', '.join(sorted(forces))}; add a row there, and its local "
            "authorities, services and most similar group to their seeds"
        )
    return forces[wanted]


def of_home_force(
    seed: str, rows: Iterable[dict[str, str]], code: str | None = None
) -> list[dict[str, str]]:
    """The rows of ``seed`` that belong to the home force: all of them unless it is one of
    FORCE_SEEDS (the same for every force)."""
    if seed not in FORCE_SEEDS:
        return list(rows)
    wanted = home_force_code(code)
    return [r for r in rows if r[FORCE_COLUMN] == wanted]


def read_home_seed(name: str, folder: Path | None = None) -> list[dict[str, str]]:
    """A reference seed's rows for the home force (``of_home_force``)."""
    return of_home_force(name, read_seed(name, folder))
