"""CPS quarterly data summaries: one release file per quarter, about three months after it ends.

A release (``cps/quarterly/cps_<YYYY>Q<n>.csv``, <YYYY> the year its financial year starts) holds
its own quarter and restates the three before it, in the long format of the contract: one row per
quarter x area x case category x measure. Areas, case categories and measures come from the seeds
(``cps_areas``, ``cps_case_categories``, ``cps_measures``); what each measure means (charged, other
legal decision, administrative finalisation, completed prosecution, conviction) is read from the
seed's flags, so the figures always add up the way the mart reads them.

Volumes follow the force's crimes: the suspects the CPS charges in a quarter are drawn around the
charges the force profile implies for the category's crimes (DA-flagged crimes, rapes, stalking 8Q,
harassment 8L/8M), times the run's scale; the other figures follow from the charge rate,
administrative finalisations, completed prosecutions and the conviction rate (``CpsProfile``: all
assumptions, docs/measures.md). The CPS Area (North West) is the reporting area (Lancashire)
plus the other forces' figures. A quarter's figures are drawn from a stream of their own and only
grow a little from one release to the next (more is recorded), so every release of a run agrees
with the one before. The files hold counts of suspects and defendants only: no person appears in
them (so none of the shared people pool).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.force import CrimeBatch
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import write_csv

CPS = "cps_quarterly_outcomes"
DA_GROUP = "da"  # outcome groups of the force profile (profile.GROUPS)
RAPE_GROUP = "rape"
NON_DA_GROUP_OF_CONDUCT = "stalking_harassment"


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class CategoryRule:
    """Which force crimes a CPS case category follows: the DA flag, rape, or offence codes."""

    selection: str  # "domestic_abuse_flag", "rape" or "offence_codes"
    offence_codes: tuple[str, ...] = ()
    first_financial_year: int | None = None  # figures published from this year on (None: always)


@dataclass(frozen=True)
class CpsProfile:
    """Assumptions for synthetic CPS figures (docs/measures.md; none is official)."""

    publication_lag_days: int  # from the quarter's last day to the release
    quarters_restated: int  # earlier quarters a release restates
    suspects_per_force_charge: float  # a suspect charged with several crimes counts once
    categories: Mapping[str, CategoryRule]  # CPS case category -> the crimes it follows
    subsets: Mapping[str, tuple[str, float]]  # category -> (the category it is part of, share)
    charge_rate: Mapping[str, float]  # charged / legal decisions, per category
    non_charge_weights: Mapping[str, float]  # legal decisions other than charge, per measure
    admin_finalised_share: float  # administrative finalisations / all pre-charge decisions
    completed_per_charge: float  # completed prosecutions per suspect charged
    conviction_rate: Mapping[str, float]  # convictions / completed prosecutions, per category
    other_forces_factor: float  # the rest of the CPS Area's volume / the reporting area's
    revision_share: float  # each later release adds about this share to a quarter's figures


# fmt: off
DEFAULT_CPS_PROFILE = CpsProfile(
    publication_lag_days=105,  # e.g. Q1 (Apr-Jun) published in mid-October
    quarters_restated=3,
    suspects_per_force_charge=0.6,
    categories=_frozen({
        "domestic_abuse": CategoryRule("domestic_abuse_flag"),
        "rape": CategoryRule("rape"),
        "stalking": CategoryRule("offence_codes", ("8Q",), first_financial_year=2024),
        "harassment": CategoryRule("offence_codes", ("8L", "8M"), first_financial_year=2024),
    }),
    subsets=_frozen({"adult_rape": ("rape", 0.62)}),
    charge_rate=_frozen({
        "domestic_abuse": 0.77, "rape": 0.72, "stalking": 0.74, "harassment": 0.76,
    }),
    non_charge_weights=_frozen({"no_further_action": 0.9, "other_legal_decision": 0.1}),
    admin_finalised_share=0.12,
    completed_per_charge=0.95,
    conviction_rate=_frozen({
        "domestic_abuse": 0.77, "rape": 0.64, "stalking": 0.80, "harassment": 0.82,
    }),
    # Cumbria and Greater Manchester beside Lancashire (about 0.5M + 2.9M people to 1.5M)
    other_forces_factor=2.3,
    revision_share=0.02,
)
# fmt: on


@dataclass(frozen=True)
class Quarter:
    """A financial quarter: financial year starting ``year`` (April), quarter 1-4."""

    year: int
    number: int

    @classmethod
    def containing(cls, day: date) -> Quarter:
        months = (day.year * 12 + day.month - 1) - 3  # shift April to January
        return cls(months // 12, (months % 12) // 3 + 1)

    @property
    def start(self) -> date:
        months = self.year * 12 + 3 + (self.number - 1) * 3
        return date(months // 12, months % 12 + 1, 1)

    @property
    def end(self) -> date:
        return (self + 1).start - timedelta(days=1)

    def __add__(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __sub__(self, other: Quarter) -> int:
        return (self.year * 4 + self.number) - (other.year * 4 + other.number)

    @property
    def financial_year(self) -> str:
        """As the CPS writes it: 2024-25."""
        return f"{self.year}-{(self.year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"Q{self.number}"

    @property
    def file_name(self) -> str:
        return f"cps_{self.year}Q{self.number}.csv"


@dataclass(frozen=True)
class Measures:
    """The seed's measures grouped by what they count (from cps_measures' flags)."""

    charged: tuple[str, ...]
    non_charge: tuple[str, ...]  # legal decisions other than a charge
    admin: tuple[str, ...]
    completed: tuple[str, ...]
    convictions: tuple[str, ...]
    order: tuple[str, ...]  # every measure written, in the seed's order

    @classmethod
    def from_seed(cls) -> Measures:
        rows = sorted(read_seed("cps_measures"), key=lambda r: int(r["sort_order"]))

        def flagged(flag: str, exclude: str | None = None) -> tuple[str, ...]:
            return tuple(
                r["measure"]
                for r in rows
                if _true(r[flag]) and (exclude is None or not _true(r[exclude]))
            )

        charged = flagged("is_charged")
        non_charge = flagged("is_legal_decision", exclude="is_charged")
        admin = flagged("is_administrative_finalisation")
        completed = flagged("is_completed_prosecution")
        convictions = flagged("is_conviction")
        written = set(charged + non_charge + admin + completed + convictions)
        order = tuple(r["measure"] for r in rows if r["measure"] in written)
        return cls(charged, non_charge, admin, completed, convictions, order)


def _true(text: str) -> bool:
    return text.strip().lower() in ("true", "t", "1", "y", "yes")


def _split(rng: np.random.Generator, total: int, names: tuple[str, ...], weights) -> dict:
    if not names:
        return {}
    w = np.array([weights.get(n, 1.0) for n in names], dtype=float)
    return dict(zip(names, rng.multinomial(total, w / w.sum()).tolist(), strict=True))


class CpsFigures:
    """Draws a quarter's figures per area and category, release by release (no files)."""

    def __init__(self, ctx: SampleContext, profile: CpsProfile = DEFAULT_CPS_PROFILE):
        self.ctx, self.profile = ctx, profile
        self.measures = Measures.from_seed()
        categories = sorted(read_seed("cps_case_categories"), key=lambda r: int(r["sort_order"]))
        known = [r["case_category"] for r in categories]
        for name in [*profile.categories, *profile.subsets]:
            if name not in known:
                raise KeyError(f"CPS case category {name!r} is not in seed cps_case_categories")
        for parent, _ in profile.subsets.values():
            if parent not in profile.categories:
                raise KeyError(f"subset of {parent!r}, which has no CategoryRule")
        # categories written: those the profile can draw, in the seed's order
        self.categories = tuple(c for c in known if c in profile.categories or c in profile.subsets)
        areas = sorted(read_seed("cps_areas"), key=lambda r: int(r["sort_order"]))
        # the reporting area: the home force's police force area (seed forces)
        pfa = self.ctx.reference.force.police_force_area_code
        reporting = [r for r in areas if r["police_force_area_code"] == pfa]
        if len(reporting) != 1:
            raise ValueError(f"seed cps_areas must have one area of police force area {pfa}")
        self.reporting_area = reporting[0]["area_name"]
        self.cps_area = reporting[0]["cps_area_name"]
        if self.cps_area not in {r["area_name"] for r in areas}:
            raise KeyError(f"CPS Area {self.cps_area!r} has no row of its own in seed cps_areas")
        self.expected_charged = self._expected_quarterly_charges()

    # ------------------------------------------------------------------ volumes
    def _expected_quarterly_charges(self) -> dict[str, float]:
        """Suspects charged a quarter per category, from the force profile's crimes and outcomes."""
        ref, p = self.ctx.reference, self.ctx.profile
        charge_codes = {
            r["outcome_code"]
            for r in read_seed("ho_outcome_types")
            if _true(r["is_charge_summons"])
        }

        def charge_share(group: str) -> float:
            weights = p.outcomes[group].final_weights
            return sum(w for c, w in weights.items() if c in charge_codes) / sum(weights.values())

        def group_of(code: str, da: bool) -> str:
            i = ref.offence_index(code)
            if ref.is_rape[i]:
                return RAPE_GROUP
            if da:
                return DA_GROUP
            return "other_sexual" if ref.is_other_sexual[i] else NON_DA_GROUP_OF_CONDUCT

        monthly = self._monthly_crimes_by_code()
        expected = {}
        for name, rule in self.profile.categories.items():
            for code in rule.offence_codes:
                ref.offence_index(code)  # a KeyError names a code missing from the seed
            total = 0.0
            for (code, da), volume in monthly.items():
                i = ref.offence_index(code)
                if rule.selection == "domestic_abuse_flag":
                    chosen = da
                elif rule.selection == "rape":
                    chosen = bool(ref.is_rape[i])
                elif rule.selection == "offence_codes":
                    chosen = code in rule.offence_codes
                else:
                    raise ValueError(f"unknown selection {rule.selection!r} for {name!r}")
                if chosen:
                    group = group_of(code, da)
                    total += volume * p.suspect_identified[group] * charge_share(group)
            expected[name] = 3 * total * self.profile.suspects_per_force_charge * self.ctx.scale
        return expected

    def _monthly_crimes_by_code(self) -> dict[tuple[str, bool], float]:
        """The force profile's crimes a month by (offence code, DA flag), as its generator mixes
        them (subgroup volumes shared out by code weights)."""
        ref, p = self.ctx.reference, self.ctx.profile
        out: dict[tuple[str, bool], float] = {}
        for da, volumes, weights in (
            (True, p.da_monthly_by_subgroup, p.da_code_weights),
            (False, p.non_da_monthly_by_subgroup, p.non_da_code_weights),
        ):
            for subgroup, volume in volumes.items():
                members = [
                    c
                    for c, s in zip(ref.offence_codes, ref.offence_subgroups, strict=True)
                    if s == subgroup
                ]
                w = np.array([weights.get(c, p.unlisted_code_weight) for c in members], dtype=float)
                if da:  # as the force generator: DA needs a victim aged 16+
                    w *= [
                        0.0 if (r := p.victim_rules.get(c)) and r.max_age is not None else 1.0
                        for c in members
                    ]
                for code, share in zip(members, w / w.sum(), strict=True):
                    out[(code, da)] = out.get((code, da), 0.0) + volume * share
        return out

    # ------------------------------------------------------------------ draws
    def _draw(self, rng: np.random.Generator, category: str, charged_mean: float) -> dict[str, int]:
        p, m = self.profile, self.measures
        rate = p.charge_rate[category]
        charged = int(rng.poisson(charged_mean))
        other = int(rng.poisson(charged_mean * (1 - rate) / rate))
        decisions_mean = charged_mean / rate
        admin = int(
            rng.poisson(decisions_mean * p.admin_finalised_share / (1 - p.admin_finalised_share))
        )
        completed = int(rng.poisson(charged_mean * p.completed_per_charge))
        convictions = int(rng.binomial(completed, p.conviction_rate[category]))
        figures = {}
        figures.update(_split(rng, charged, m.charged, {}))
        figures.update(_split(rng, other, m.non_charge, p.non_charge_weights))
        figures.update(_split(rng, admin, m.admin, {}))
        figures.update(_split(rng, completed, m.completed, {}))
        figures.update(_split(rng, convictions, m.convictions, {}))
        return figures

    def _subset(self, rng: np.random.Generator, whole: dict[str, int], share: float) -> dict:
        """A part of a category's figures (e.g. adult rape of rape): never more than the whole,
        and convictions never more than the part's completed prosecutions."""
        m = self.measures
        part = {k: int(rng.binomial(v, share)) for k, v in whole.items()}
        completed = sum(whole[k] for k in m.completed)
        convictions = sum(whole[k] for k in m.convictions)
        part_completed = sum(part[k] for k in m.completed)
        if m.convictions:
            drawn = (
                int(rng.hypergeometric(convictions, completed - convictions, part_completed))
                if part_completed and completed
                else 0
            )
            part.update(_split(rng, drawn, m.convictions, {}))
        return part

    def quarter(self, quarter: Quarter, revision: int) -> dict[str, dict[str, dict[str, int]]]:
        """area -> category -> measure -> volume, as published ``revision`` releases after the
        quarter's first (0 = its own release). Each revision adds a small draw to the last."""
        totals: dict[str, dict[str, dict[str, int]]] = {}
        for step in range(revision + 1):
            rng = self.ctx.rng(f"cps:{quarter.year}Q{quarter.number}:{step}")
            factor = 1.0 if step == 0 else self.profile.revision_share
            draws: dict[str, dict[str, dict[str, int]]] = {}
            for name, rule in self.profile.categories.items():
                if rule.first_financial_year and quarter.year < rule.first_financial_year:
                    continue
                mean = self.expected_charged[name] * factor
                reporting = self._draw(rng, name, mean)
                others = self._draw(rng, name, mean * self.profile.other_forces_factor)
                draws.setdefault(self.reporting_area, {})[name] = reporting
                draws.setdefault(self.cps_area, {})[name] = {
                    k: reporting[k] + others[k] for k in reporting
                }
                for subset, (parent, share) in self.profile.subsets.items():
                    if parent != name:
                        continue
                    part = self._subset(rng, reporting, share)
                    rest = self._subset(rng, others, share)
                    draws[self.reporting_area][subset] = part
                    draws[self.cps_area][subset] = {k: part[k] + rest[k] for k in part}
            for area, categories in draws.items():
                for category, figures in categories.items():
                    into = totals.setdefault(area, {}).setdefault(category, {})
                    for measure, volume in figures.items():
                        into[measure] = into.get(measure, 0) + volume
        return totals


class CpsSource:
    """Writes a CPS release on its publication day (a ``DaySource``: see sample/context.py)."""

    def __init__(self, ctx: SampleContext, profile: CpsProfile = DEFAULT_CPS_PROFILE):
        self.ctx, self.profile = ctx, profile
        self.contract = load_contract(CPS)
        self.figures = CpsFigures(ctx, profile)
        self.files = self.rows = 0

    def release_on(self, day: date) -> Quarter | None:
        """The quarter whose release is published on ``day``, if any."""
        quarter = Quarter.containing(day - timedelta(days=self.profile.publication_lag_days))
        if quarter.end + timedelta(days=self.profile.publication_lag_days) == day:
            return quarter
        return None

    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        release = self.release_on(day)
        if release is not None:
            self.write_release(release, day)

    def release_rows(self, release: Quarter, published: date) -> list[list[str]]:
        rows = []
        for back in range(self.profile.quarters_restated, -1, -1):
            quarter = release + (-back)
            figures = self.figures.quarter(quarter, revision=back)
            for area in (self.figures.cps_area, self.figures.reporting_area):
                for category in self.figures.categories:
                    if category not in figures.get(area, {}):
                        continue
                    for measure in self.figures.measures.order:
                        rows.append([
                            quarter.financial_year,
                            quarter.label,
                            area,
                            category,
                            measure,
                            str(figures[area][category][measure]),
                            published.isoformat(),
                        ])  # fmt: skip
        return rows

    def write_release(self, release: Quarter, published: date) -> None:
        rows = self.release_rows(release, published)
        path = self.contract.landing_dir(self.ctx.landing_dir) / release.file_name
        if not self.contract.matches(path.relative_to(self.ctx.landing_dir).as_posix()):
            raise RuntimeError(f"{path.name} does not match {self.contract.file_pattern}")
        write_csv(path, self.contract.column_names, rows)
        self.files += 1
        self.rows += len(rows)

    def summaries(self) -> list[DatasetSummary]:
        folder = self.contract.landing_dir(self.ctx.landing_dir)
        return [DatasetSummary(CPS, folder, self.files, self.rows)]
