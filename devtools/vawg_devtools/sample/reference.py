"""Reference data the generators draw codes from: the dbt seeds and the data contracts.

Nothing here re-types a code list: offence codes, outcome types and local authorities come from
``dbt_project/seeds/reference/*.csv`` (the home force's local authorities: seed forces and the
setting VAWG_HOME_FORCE, vawg_warehouse.forces), and the allowed values of flags, sexes and age
bands from the contracts. A code added to a seed is picked up by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from vawg_warehouse.forces import Force, home_force, home_force_code, of_home_force
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import read_seed, seeds_dir

UNKNOWN_AGE_BAND = "Unknown"
OLDEST_AGE = 95  # upper end of the open band "65+" when ages are drawn


def category_codes(folder: Path | None = None) -> dict[str, frozenset[str]]:
    """reporting category -> its offence codes, from seed reporting_category_rules (the one place
    that says which code counts in which category; the DA rule has no code)."""
    codes: dict[str, set[str]] = {}
    for rule in read_seed("reporting_category_rules", folder):
        if rule["selection_rule"] == "offence_code":
            codes.setdefault(rule["reporting_category"], set()).add(rule["ho_offence_code"])
    return {category: frozenset(c) for category, c in codes.items()}


def _true(text: str) -> bool:
    return text.strip().lower() in ("true", "t", "1", "y", "yes")


def _allowed(dataset: str, column: str) -> tuple[str, ...]:
    for c in load_contract(dataset).columns:
        if c.name == column:
            if not isinstance(c.allowed_values, tuple):
                raise ValueError(f"{dataset}.{column} has no list of allowed values")
            return c.allowed_values
    raise KeyError(f"{dataset} has no column {column!r}")


def _band_range(label: str) -> tuple[int, int]:
    """``"18-24"`` -> (18, 24); ``"65+"`` -> (65, OLDEST_AGE)."""
    if label.endswith("+"):
        return int(label[:-1]), OLDEST_AGE
    low, high = label.split("-")
    return int(low), int(high)


@dataclass(frozen=True)
class ReferenceData:
    """Codes and their attributes, as arrays indexed in seed order."""

    offence_codes: tuple[str, ...]
    offence_subgroups: tuple[str, ...]
    is_rape: np.ndarray  # bool, per offence code: in reporting category rape
    is_other_sexual: np.ndarray  # bool, per offence code: in sexual_offences, not rape
    outcome_codes: tuple[str, ...]  # in the seed's sort_order
    open_outcome_code: str  # the seed's is_open outcome ("0": not yet assigned)
    la_codes: tuple[str, ...]
    la_names: tuple[str, ...]
    la_population: np.ndarray  # persons, latest reference year
    population_year: int
    force: Force  # the home force (seed forces, the setting VAWG_HOME_FORCE)
    age_bands: tuple[str, ...]  # contract order, "Unknown" last
    age_band_ranges: tuple[tuple[int, int], ...]  # for the known bands
    sexes: tuple[str, ...]  # contract order: F, M, U
    flags: tuple[str, ...]  # contract order: Y, N

    def offence_index(self, code: str) -> int:
        try:
            return self.offence_codes.index(code)
        except ValueError:
            raise KeyError(f"offence code {code!r} is not in seed ho_offence_codes") from None

    def outcome_index(self, code: str) -> int:
        try:
            return self.outcome_codes.index(code)
        except ValueError:
            raise KeyError(f"outcome code {code!r} is not in seed ho_outcome_types") from None

    def la_index(self, code: str) -> int:
        try:
            return self.la_codes.index(code)
        except ValueError:
            raise KeyError(f"local authority {code!r} is not in seed local_authorities") from None

    @property
    def known_age_bands(self) -> tuple[str, ...]:
        return tuple(b for b in self.age_bands if b != UNKNOWN_AGE_BAND)

    def age_to_band(self) -> np.ndarray:
        """Lookup array: age in whole years (0..OLDEST_AGE+30) -> index into ``age_bands``."""
        table = np.full(OLDEST_AGE + 31, len(self.age_band_ranges) - 1, dtype=np.int8)
        for i, (low, high) in enumerate(self.age_band_ranges):
            table[low : high + 1] = i
        return table  # ages above the last band's top stay in the last (open) band


@cache
def _load(folder: Path, force_code: str) -> ReferenceData:
    offences = read_seed("ho_offence_codes", folder)
    categories = category_codes(folder)
    rape = categories.get("rape", frozenset())
    other_sexual = categories.get("sexual_offences", frozenset()) - rape
    outcomes = read_seed("ho_outcome_types", folder)
    force = home_force(force_code, folder)
    las = of_home_force("local_authorities", read_seed("local_authorities", folder), force.code)
    if not las:
        raise ValueError(f"seed local_authorities has no local authority of force {force.code}")
    codes = {r["local_authority_code"] for r in las}
    population = [
        r for r in read_seed("population_mid_year", folder) if r["local_authority_code"] in codes
    ]
    if not population:
        raise ValueError(
            f"population_mid_year has no row for the local authorities of {force.code}"
        )
    year = max(int(r["reference_year"]) for r in population)
    persons = {
        r["local_authority_code"]: int(r["persons"])
        for r in population
        if int(r["reference_year"]) == year
    }
    missing = [r["local_authority_code"] for r in las if r["local_authority_code"] not in persons]
    if missing:
        raise ValueError(f"population_mid_year {year} has no row for {missing}")
    bands = _allowed("force_crimes", "victim_age_band")
    known = [b for b in bands if b != UNKNOWN_AGE_BAND]
    return ReferenceData(
        offence_codes=tuple(r["ho_offence_code"] for r in offences),
        offence_subgroups=tuple(r["offence_subgroup"] for r in offences),
        is_rape=np.array([r["ho_offence_code"] in rape for r in offences]),
        is_other_sexual=np.array([r["ho_offence_code"] in other_sexual for r in offences]),
        outcome_codes=tuple(
            r["outcome_code"] for r in sorted(outcomes, key=lambda r: int(r["sort_order"]))
        ),
        open_outcome_code=next(r["outcome_code"] for r in outcomes if _true(r["is_open"])),
        la_codes=tuple(r["local_authority_code"] for r in las),
        la_names=tuple(r["local_authority_name"] for r in las),
        la_population=np.array([persons[r["local_authority_code"]] for r in las], dtype=float),
        population_year=year,
        force=force,
        age_bands=tuple(known) + ((UNKNOWN_AGE_BAND,) if UNKNOWN_AGE_BAND in bands else ()),
        age_band_ranges=tuple(_band_range(b) for b in known),
        sexes=_allowed("force_crimes", "victim_sex"),
        flags=_allowed("force_crimes", "domestic_abuse_flag"),
    )


def load_reference(folder: Path | None = None) -> ReferenceData:
    """Read the reference seeds for the home force (cached per folder and force)."""
    return _load((folder or seeds_dir()).resolve(), home_force_code())
