"""Commissioned services' quarterly returns: Excel workbooks (``services_quarterly_returns``).

Each provider of the seed ``services`` sends one workbook per financial quarter,
``<provider_code>_<YYYY>Q<n>.xlsx`` (YYYY: the first year of the financial year), some weeks
after the quarter ends (two to twelve, most within six), holding a row per service it runs and
area: per local authority the service covers, or one county-wide row (E23000003) for services
that report county-wide (seed column ``return_breakdown``). Some workbooks also restate the
previous quarter with late-recorded referrals and closures (the warehouse keeps the latest).

The figures are aggregate counts, so they are not drawn from the day's crimes: referrals follow a
quarterly rate per service type, shared out by population, times the run's scale; engagement,
closures and positive outcomes are drawn from them (never more engaged than referred, never more
positive than closed). Everything here is an ASSUMPTION for synthetic data
(``ServicesProfile``), not an official figure. A quarter's arrival date depends only on the seed,
the provider and the quarter, its figures also on the run's scale; the same arguments write the
same workbooks byte for byte (workbook properties and zip timestamps are fixed, not the clock's).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.force import CrimeBatch
from vawg_warehouse.forces import read_home_seed
from vawg_warehouse.ingest.contracts import load_contract

RETURNS = "services_quarterly_returns"
COUNTY_WIDE = "county_wide"  # seed services.return_breakdown
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: every entry gets it


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class ServiceTypeProfile:
    """How one type of service's quarter goes, county-wide, at realistic volume."""

    referrals_per_quarter: float  # for the whole county (a service covering part: its share)
    engaged_share: float  # of the quarter's referrals
    closed_per_engaged: float  # closures in the quarter per engaged referral
    positive_share: float  # of closures


# fmt: off
@dataclass(frozen=True)
class ServicesProfile:
    types: Mapping[str, ServiceTypeProfile] = field(default_factory=lambda: _frozen({
        "IDVA": ServiceTypeProfile(1200, 0.68, 0.95, 0.78),
        "ISVA": ServiceTypeProfile(450, 0.80, 0.90, 0.72),
        "SARC": ServiceTypeProfile(180, 0.85, 1.00, 0.60),
        "counselling": ServiceTypeProfile(220, 0.62, 0.85, 0.66),
        "Drive": ServiceTypeProfile(45, 0.55, 0.80, 0.48),
    }))
    share_spread: float = 0.04  # a service's engaged and positive shares vary by this (sd)
    lag_min_days: int = 14  # a return arrives this long after its quarter ends, at the earliest
    lag_gamma: tuple[float, float] = (2.0, 9.0)  # plus a gamma(shape, scale) number of days
    lag_max_days: int = 84
    completed_before_days: int = 3  # the return is completed up to this long before it is sent
    restate_share: float = 0.15  # workbooks that also restate the previous quarter
    late_referrals_mean: float = 1.5  # per row restated
# fmt: on


DEFAULT_SERVICES_PROFILE = ServicesProfile()


@dataclass(frozen=True)
class Quarter:
    """A financial quarter: ``year`` is the first year of the financial year (April-March)."""

    year: int
    number: int  # 1 = April-June

    @classmethod
    def of(cls, day: date) -> Quarter:
        year = day.year if day.month >= 4 else day.year - 1
        return cls(year, (day.month - 4) % 12 // 3 + 1)

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.number - 1)
        return date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    @property
    def financial_year(self) -> str:
        return f"{self.year}/{(self.year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"Q{self.number}"

    @property
    def file_tag(self) -> str:
        return f"{self.year}Q{self.number}"


@dataclass(frozen=True)
class Service:
    code: str
    service_type: str
    provider_code: str
    provider_name: str
    county_wide: bool
    areas: tuple[str, ...]  # area codes it reports (one, E23000003, when county-wide)
    area_weights: np.ndarray  # population share of each area within the service's coverage
    coverage_share: float  # the coverage's share of the county's population


def load_services(ctx: SampleContext) -> list[Service]:
    """The seed's services with the areas they report, weighted by population."""
    ref = ctx.reference
    whole_force = ref.force.name  # seed services.coverage of a service of the whole force area
    divisions = {
        r["local_authority_code"]: r["division_name"] for r in read_home_seed("local_authorities")
    }
    county = next(
        r["area_code"]
        for r in read_home_seed("service_areas")
        if r["area_type"] != "local_authority"
    )
    population = dict(zip(ref.la_codes, ref.la_population.tolist(), strict=True))
    total = sum(population.values())
    services = []
    for row in read_home_seed("services"):
        coverage = row["coverage"]
        las = [c for c in ref.la_codes if coverage == whole_force or divisions[c] == coverage]
        if not las:
            raise ValueError(f"seed services: {row['service_code']} covers no local authority")
        weights = np.array([population[c] for c in las])
        county_wide = row["return_breakdown"] == COUNTY_WIDE
        services.append(
            Service(
                code=row["service_code"],
                service_type=row["service_type"],
                provider_code=row["provider_code"],
                provider_name=row["provider_name"],
                county_wide=county_wide,
                areas=(county,) if county_wide else tuple(las),
                area_weights=np.ones(1) if county_wide else weights / weights.sum(),
                coverage_share=float(weights.sum() / total),
            )
        )
    return services


def write_xlsx(
    path: Path,
    sheets: Sequence[tuple[str, Sequence[Sequence[object]]]],
    *,
    author: str,
    when: datetime,
) -> None:
    """Write a workbook atomically, byte-identical for the same arguments.

    openpyxl stamps the save time in the document properties and the zip entries: both are
    fixed here (the properties to ``when``, every entry to 1980-01-01), so the file's checksum
    depends on its content only.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(list(row))
    props = workbook.properties
    props.creator = props.lastModifiedBy = author
    props.created = props.modified = when
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(workbook, archive).save()  # writes every part, then closes the archive
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(fixed.getvalue())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ServicesSource:
    """Writes each provider's quarterly return on the day it arrives."""

    def __init__(self, ctx: SampleContext, profile: ServicesProfile = DEFAULT_SERVICES_PROFILE):
        self.ctx = ctx
        self.profile = profile
        self.contract = load_contract(RETURNS)
        self.sheet = self.contract.file_format.get("sheet", "Return")
        self.services = load_services(ctx)
        unknown = sorted({s.service_type for s in self.services} - set(profile.types))
        if unknown:
            raise KeyError(f"seed services: no profile for service types {unknown}")
        self.providers: dict[str, list[Service]] = {}
        for service in self.services:
            self.providers.setdefault(service.provider_code, []).append(service)
        self.shares = {s.code: self._shares(s) for s in self.services}
        self.rows = self.files = 0

    def _shares(self, service: Service) -> tuple[float, float]:
        """The service's own engaged and positive shares (its type's, varied per service)."""
        kind = self.profile.types[service.service_type]
        jitter = self.ctx.rng(f"services-profile:{service.code}").normal(
            0, self.profile.share_spread, 2
        )
        engaged, positive = np.clip([kind.engaged_share, kind.positive_share] + jitter, 0.05, 0.98)
        return float(engaged), float(positive)

    # ------------------------------------------------------------------ what a return holds
    def figures(self, service: Service, quarter: Quarter) -> np.ndarray:
        """(referrals, engaged, closed, positive) per area of ``service`` for ``quarter``."""
        rng = self.ctx.rng(f"services:{service.code}:{quarter.file_tag}")
        kind = self.profile.types[service.service_type]
        engaged_share, positive_share = self.shares[service.code]
        county_mean = kind.referrals_per_quarter * service.coverage_share * self.ctx.scale
        mean = county_mean * service.area_weights
        referrals = rng.poisson(mean)
        engaged = rng.binomial(referrals, engaged_share)
        closed = rng.poisson(mean * engaged_share * kind.closed_per_engaged)
        positive = rng.binomial(closed, positive_share)
        return np.column_stack([referrals, engaged, closed, positive])

    def revised(self, service: Service, quarter: Quarter, restated_in: Quarter) -> np.ndarray:
        """``quarter``'s figures as restated in the return for ``restated_in`` (late records)."""
        base = self.figures(service, quarter)
        rng = self.ctx.rng(f"services-revision:{service.code}:{restated_in.file_tag}")
        engaged_share, positive_share = self.shares[service.code]
        late = rng.poisson(self.profile.late_referrals_mean, len(base))
        late_closed = rng.poisson(self.profile.late_referrals_mean / 2, len(base))
        return base + np.column_stack(
            [
                late,
                rng.binomial(late, engaged_share),
                late_closed,
                rng.binomial(late_closed, positive_share),
            ]
        )

    def arrival(self, provider: str, quarter: Quarter) -> tuple[date, date, bool]:
        """(day the return arrives, day it was completed, whether it restates the last quarter)."""
        p = self.profile
        rng = self.ctx.rng(f"services-arrival:{provider}:{quarter.file_tag}")
        lag = min(p.lag_max_days, p.lag_min_days + int(rng.gamma(*p.lag_gamma)))
        arrives = quarter.end + timedelta(days=lag)
        completed = max(
            quarter.end + timedelta(days=1),
            arrives - timedelta(days=int(rng.integers(0, p.completed_before_days + 1))),
        )
        return arrives, completed, bool(rng.random() < p.restate_share)

    def rows_for(
        self, services: list[Service], quarter: Quarter, completed: date, restates: bool
    ) -> list[list[object]]:
        rows: list[list[object]] = []
        for service in services:
            parts = [(quarter, self.figures(service, quarter))]
            if restates:
                parts.insert(
                    0, (quarter.previous(), self.revised(service, quarter.previous(), quarter))
                )
            for q, figures in parts:
                for area, counts in zip(service.areas, figures.tolist(), strict=True):
                    rows.append([service.code, q.financial_year, q.label, area, *counts, completed])
        return rows

    # ------------------------------------------------------------------ one day
    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        # A return arrives at most lag_max_days (< a quarter) after its quarter: only the
        # quarter before today's can arrive today.
        quarter = Quarter.of(day).previous()
        for provider, services in self.providers.items():
            arrives, completed, restates = self.arrival(provider, quarter)
            if arrives == day:
                self.write(provider, services, quarter, completed, restates)

    def write(
        self,
        provider: str,
        services: list[Service],
        quarter: Quarter,
        completed: date,
        restates: bool,
    ) -> None:
        rows = self.rows_for(services, quarter, completed, restates)
        name = services[0].provider_name
        notes = [
            ["Quarterly monitoring return"],
            ["Provider", name],
            ["Financial year", quarter.financial_year],
            ["Quarter", quarter.label],
            ["Definitions", "engagement and positive outcome as in the commissioning schedule"],
        ]
        path = (
            self.contract.landing_dir(self.ctx.landing_dir) / f"{provider}_{quarter.file_tag}.xlsx"
        )
        write_xlsx(
            path,
            [(self.sheet, [self.contract.column_names, *rows]), ("Notes", notes)],
            author=name,
            when=datetime.combine(completed, time(9, 0)),
        )
        self.rows += len(rows)
        self.files += 1

    def summaries(self) -> list[DatasetSummary]:
        folder = self.contract.landing_dir(self.ctx.landing_dir)
        return [DatasetSummary(RETURNS, folder, self.files, self.rows)]
