"""Public open data in its published formats: data.police.uk archive files and Home Office tables.

* data.police.uk: on the last day of each month, ``policeuk/YYYY-MM/YYYY-MM-<force>-street.csv``
  and ``...-outcomes.csv`` as the archive zip unpacks, with the quirks real files have: anti-social
  behaviour without a Crime ID, "No Location" rows (blank coordinates and LSOA), rows in
  neighbouring authorities outside the force area, a Crime ID now and then repeated within a
  month, 2011 and 2021 LSOA codes, and outcomes given in later months to crimes of earlier ones
  (in the outcomes file of the month they were given). On the run's last day the run's first
  month is published again (``policeuk/republished-YYYY-MM/...``) with its crimes' outcomes as
  they stand by then, as police.uk re-publishes months.
* Home Office: a quarter's "police recorded crime open data table" by force area
  (``homeoffice/recorded_crime/prc_pfa_<YYYY>q<n>.csv``) about four months after the quarter
  ends, restating every quarter since the run's first, for every force and national body of seed
  police_forces: counts space-padded now and then, zero sometimes written "-00", and a few
  negative adjustments.

Volumes are modest on purpose (``PublicProfile``: a few hundred rows a month), so the demo and the
nightly integration run grow by seconds; the figures are invented, the formats are not. No person
appears in these files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.cps import Quarter
from vawg_devtools.sample.force import CrimeBatch
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import write_csv

STREET = "public_policeuk_street_crimes"
OUTCOMES = "public_policeuk_outcomes"
HOME_OFFICE = "public_home_office_recorded_crime"
NO_LOCATION = "No Location"


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class PublicProfile:
    """Assumptions for the synthetic public files (formats: docs/measures.md; figures invented)."""

    force_code: str | None = None  # None: the home force's (seed forces)
    force_label: str | None = None  # Reported by; None: the home force's (seed forces)
    street_rows_per_month: int = 400
    crime_type_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "Violence and sexual offences": 0.30,
                "Anti-social behaviour": 0.22,
                "Public order": 0.08,
                "Criminal damage and arson": 0.08,
                "Other theft": 0.07,
                "Shoplifting": 0.07,
                "Vehicle crime": 0.05,
                "Burglary": 0.04,
                "Drugs": 0.03,
                "Other crime": 0.02,
                "Possession of weapons": 0.01,
                "Robbery": 0.01,
                "Theft from the person": 0.01,
                "Bicycle theft": 0.01,
            }
        )
    )
    no_location_share: float = 0.03
    outside_area_share: float = 0.02
    outside_area_names: tuple[str, ...] = ("Wigan", "South Lakeland", "Craven", "Sefton")
    repeated_id_share: float = 0.005
    lsoa_2021_share: float = 0.3
    # months after recording -> share of crimes whose (next) outcome is given then
    outcome_delay_weights: tuple[float, ...] = (0.55, 0.25, 0.12, 0.08)
    outcome_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "Under investigation": 0.10,
                "Unable to prosecute suspect": 0.33,
                "Investigation complete; no suspect identified": 0.30,
                "Awaiting court outcome": 0.08,
                "Local resolution": 0.07,
                "Offender given a caution": 0.03,
                "Further investigation is not in the public interest": 0.04,
                "Action to be taken by another organisation": 0.03,
                "Formal action is not in the public interest": 0.02,
            }
        )
    )
    home_office_lag_days: int = 120
    home_office_codes: Mapping[str, tuple[str, str, str, float]] = field(
        default_factory=lambda: _frozen(
            {
                # code: (description, group, subgroup, offences a year per 1,000 people)
                "19C": ("Rape of a female aged 16 and over", "Sexual offences", "Rape", 0.75),
                "19D": ("Rape of a female aged under 16", "Sexual offences", "Rape", 0.25),
                "19F": ("Rape of a male aged 16 and over", "Sexual offences", "Rape", 0.06),
                "20A": (
                    "Sexual assault on a female aged 13 and over",
                    "Sexual offences",
                    "Other sexual offences",
                    1.1,
                ),
                "8Q": ("Stalking", "Violence against the person", "Stalking and harassment", 1.6),
                "8L": ("Harassment", "Violence against the person", "Stalking and harassment", 2.4),
                "8U": (
                    "Controlling or coercive behaviour",
                    "Violence against the person",
                    "Stalking and harassment",
                    0.8,
                ),
                "28A": ("Burglary - residential", "Burglary", "Domestic burglary", 3.0),
            }
        )
    )
    default_force_population: int = 1_200_000  # forces the seed holds no population for
    national_body_share: float = 0.01  # their counts against an average force's


DEFAULT_PUBLIC_PROFILE = PublicProfile()


def _crime_id(seed: int, month: date, n: int) -> str:
    return hashlib.sha256(f"{seed}:{month}:{n}".encode()).hexdigest()


def _month_after(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class _Crime:
    row: list[str]  # the street row without its last outcome category
    crime_id: str
    outcomes: list[tuple[date, str]]  # (month given, outcome), in order


class PublicSource:
    """Writes the public files on their publication days (a ``DaySource``: see context.py)."""

    def __init__(self, ctx: SampleContext, profile: PublicProfile = DEFAULT_PUBLIC_PROFILE):
        force = ctx.reference.force
        if profile.force_code is None or profile.force_label is None:
            profile = replace(
                profile,
                force_code=profile.force_code or force.code,
                force_label=profile.force_label or force.policeuk_reported_by,
            )
        self.ctx, self.profile = ctx, profile
        self.rng = ctx.rng("public:policeuk")
        self.contracts = {d: load_contract(d) for d in (STREET, OUTCOMES, HOME_OFFICE)}
        known_types = {r["crime_type"] for r in read_seed("policeuk_crime_types")}
        known_outcomes = {r["outcome_category"] for r in read_seed("policeuk_outcome_categories")}
        for name in profile.crime_type_weights:
            if name not in known_types:
                raise KeyError(f"crime type {name!r} is not in seed policeuk_crime_types")
        for name in profile.outcome_weights:
            if name not in known_outcomes:
                raise KeyError(f"outcome {name!r} is not in seed policeuk_outcome_categories")
        # the home force's names (its authorities'); a name of another force's is outside
        home = set(ctx.reference.la_codes)
        names = read_seed("policeuk_local_authority_names")
        self.la_names = [
            r["lsoa_local_authority_name"] for r in names if r["local_authority_code"] in home
        ]
        inside = set(self.la_names)
        self.outside_names = tuple(n for n in profile.outside_area_names if n not in inside)
        self.forces = read_seed("police_forces")
        # each force's latest estimate of its resident population (seed police_force_populations)
        self.populations: dict[str, int] = {}
        for row in sorted(read_seed("police_force_populations"), key=lambda r: r["reference_year"]):
            if row["population_basis"] == "persons":
                self.populations[row["force_name"]] = int(row["population"])
        self.crimes: dict[date, list[_Crime]] = {}
        self.outcomes_by_month: dict[date, list[list[str]]] = {}
        self.counts = {d: [0, 0] for d in self.contracts}  # files, rows

    # ------------------------------------------------------------------ DaySource
    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        if (day + timedelta(days=1)).day == 1:
            self.publish_month(day.replace(day=1))
        if day == self.ctx.end and len(self.crimes) > 1:
            first = min(self.crimes)
            self.write_street(first, folder=f"republished-{day:%Y-%m}/{first:%Y-%m}")
        quarter = Quarter.containing(day - timedelta(days=self.profile.home_office_lag_days))
        if quarter.end + timedelta(days=self.profile.home_office_lag_days) == day:
            first_quarter = Quarter.containing(self.ctx.start)
            if quarter - first_quarter >= 0:
                self.write_home_office(first_quarter, quarter)

    def summaries(self) -> list[DatasetSummary]:
        return [
            DatasetSummary(d, c.landing_dir(self.ctx.landing_dir), *self.counts[d])
            for d, c in self.contracts.items()
        ]

    # ------------------------------------------------------------------ police.uk
    def _lsoa(self) -> tuple[str, str]:
        p, rng = self.profile, self.rng
        if self.outside_names and rng.random() < p.outside_area_share:
            name = self.outside_names[rng.integers(len(self.outside_names))]
        else:
            name = self.la_names[rng.integers(len(self.la_names))]
        first = 35000 if rng.random() < p.lsoa_2021_share else 5000  # 2021 codes are newer
        code = f"E01{first + int(rng.integers(0, 25000)):06d}"
        label = f"{name} {int(rng.integers(1, 40)):03d}{'ABCDEFGH'[rng.integers(8)]}"
        return code, label

    def _draw_crimes(self, month: date) -> list[_Crime]:
        p, rng = self.profile, self.rng
        n = int(rng.poisson(p.street_rows_per_month))
        types = list(p.crime_type_weights)
        weights = np.array([p.crime_type_weights[t] for t in types])
        drawn = rng.choice(len(types), size=n, p=weights / weights.sum())
        outcomes = list(p.outcome_weights)
        o_weights = np.array([p.outcome_weights[o] for o in outcomes])
        delays = np.array(p.outcome_delay_weights)
        crimes: list[_Crime] = []
        for i, t in enumerate(drawn):
            crime_type = types[t]
            is_asb = crime_type == "Anti-social behaviour"
            if rng.random() < p.no_location_share:
                coordinates, lsoa, location = ("", ""), ("", ""), NO_LOCATION
            else:
                coordinates = (
                    f"{-2.3 - rng.random() * 0.8:.6f}",
                    f"{53.6 + rng.random() * 0.5:.6f}",
                )
                lsoa = self._lsoa()
                location = f"On or near {['High Street', 'Parking Area', 'Supermarket'][i % 3]}"
            crime_id = "" if is_asb else _crime_id(self.ctx.seed, month, i)
            row = [
                crime_id,
                f"{month:%Y-%m}",
                p.force_label,
                p.force_label,
                *coordinates,
                location,
                *lsoa,
                crime_type,
            ]
            given: list[tuple[date, str]] = []
            if not is_asb:
                delay = int(rng.choice(len(delays), p=delays / delays.sum()))
                given.append((_month_after(month, 0), "Under investigation"))
                final = outcomes[int(rng.choice(len(outcomes), p=o_weights / o_weights.sum()))]
                given.append((_month_after(month, delay), final))
            crimes.append(_Crime(row, crime_id, given))
            if not is_asb and rng.random() < p.repeated_id_share:
                crimes.append(_Crime(list(row), crime_id, given))  # the same id twice
        return crimes

    def publish_month(self, month: date) -> None:
        self.crimes[month] = self._draw_crimes(month)
        for crime in self.crimes[month]:
            for given, outcome in crime.outcomes:
                self.outcomes_by_month.setdefault(given, []).append(
                    [crime.crime_id, f"{given:%Y-%m}", *crime.row[2:9], outcome]
                )
        self.write_street(month, folder=f"{month:%Y-%m}")
        # outcomes given this month, to this month's crimes and earlier months'
        rows = self.outcomes_by_month.pop(month, [])
        name = f"{month:%Y-%m}/{month:%Y-%m}-{self.profile.force_code}-outcomes.csv"
        self._write(OUTCOMES, name, rows)

    def write_street(self, month: date, folder: str) -> None:
        """The month's street file as published now: each crime's latest outcome given so far."""
        published = self._last_published_month()
        rows = []
        for crime in self.crimes[month]:
            known = [o for m, o in crime.outcomes if m <= published]
            rows.append([*crime.row, known[-1] if known else "", ""])
        name = f"{folder}/{month:%Y-%m}-{self.profile.force_code}-street.csv"
        self._write(STREET, name, rows)

    def _last_published_month(self) -> date:
        return max(self.crimes)

    # ------------------------------------------------------------------ Home Office
    def write_home_office(self, first: Quarter, last: Quarter) -> None:
        p = self.profile
        rng = self.ctx.rng(f"public:home_office:{last.year}Q{last.number}")
        rows = []
        quarter = first
        while quarter - last <= 0:
            year = f"{quarter.year}/{(quarter.year + 1) % 100:02d}"
            for force in self.forces:
                if force["area_type"] == "country":
                    continue
                population = self.populations.get(force["force_name"], p.default_force_population)
                if force["area_type"] == "national_body":
                    population = int(p.default_force_population * p.national_body_share)
                for code, (description, group, subgroup, rate) in p.home_office_codes.items():
                    # a quarter's figure is drawn from its own stream: every release agrees
                    q_rng = self.ctx.rng(
                        f"public:ho:{quarter.year}Q{quarter.number}:{force['force_name']}:{code}"
                    )
                    value = int(q_rng.poisson(rate * population / 1000 / 4))
                    if q_rng.random() < 0.01:
                        value = -int(q_rng.integers(1, 4))  # an adjustment
                    rows.append([
                        year,
                        str(quarter.number),
                        force["force_name"],
                        description,
                        group,
                        subgroup,
                        code,
                        self._count_text(value, rng),
                    ])  # fmt: skip
            quarter = quarter + 1
        self._write(HOME_OFFICE, f"prc_pfa_{last.year}q{last.number}.csv", rows)

    @staticmethod
    def _count_text(value: int, rng: np.random.Generator) -> str:
        if value == 0 and rng.random() < 0.5:
            return "-00"
        if rng.random() < 0.2:
            return f"{value:>7}"
        return str(value)

    # ------------------------------------------------------------------ files
    def _write(self, dataset: str, relative: str, rows: list[list[str]]) -> None:
        contract = self.contracts[dataset]
        path: Path = contract.landing_dir(self.ctx.landing_dir) / relative
        if not contract.matches(path.relative_to(self.ctx.landing_dir).as_posix()):
            raise RuntimeError(f"{relative} does not match {contract.file_pattern}")
        write_csv(path, contract.file_headers, rows)
        self.counts[dataset][0] += 1
        self.counts[dataset][1] += len(rows)
