"""The Commissioner's grant register: a full snapshot at each month end.

Each snapshot (``funding/grants/grant_register_<date>.csv``) lists every grant of the register as
it stood that day: bids (applied, then awarded or declined), allocations (awarded without a bid)
and the money received so far (instalments through the year). So a later snapshot restates every
earlier row, with its status moved on. Funders and schemes come from the seeds ``funders`` and
``funding_schemes`` (whether a scheme is bid for is the seed's ``is_competitive``); how many grants
a scheme brings a year, their size, the success rate of bids and the payment instalments are
assumptions in ``FundingProfile`` (none is an official figure).

Each financial year's grants are drawn from a stream of their own, so every snapshot of a run
tells the same story and a grant's reference (GR-<year>-<nnn>) is stable from one snapshot to the
next. Money does not scale with the number of crime rows. The register names organisations and
services only: no person appears in it (so none of the shared people pool).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.force import CrimeBatch
from vawg_devtools.sample.output import landing_file
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import write_csv

FUNDING = "funding_grants"
PENCE = 100


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class SchemeProfile:
    """How one scheme's grants look (pounds; days)."""

    grants_a_year: tuple[int, int]  # fewest and most grants (bids or allocations) a year
    amount: tuple[float, float]  # bid for, or allocated, in pounds
    success_rate: float = 1.0  # bids only
    award_share: tuple[float, float] = (1.0, 1.0)  # awarded / bid for, when a bid succeeds
    instalments: int = 4  # payments spread over the year, one at the start of each period
    purposes: tuple[str, ...] = ("Victim services",)


@dataclass(frozen=True)
class FundingProfile:
    schemes: Mapping[str, SchemeProfile]  # by scheme name (seed funding_schemes)
    default_scheme: SchemeProfile  # a scheme of the seed that is not listed above
    years_kept: int  # earlier financial years the register keeps
    bid_lead_days: tuple[int, int]  # a bid is made this many days before its year starts
    decision_days: tuple[int, int]  # a bid is decided this many days after it is made
    allocation_notice_days: tuple[int, int]  # an allocation is notified this many days from the
    # start of its year (negative: before)
    payment_lag_days: tuple[int, int] = field(default=(10, 40))  # after an instalment is due


# fmt: off
DEFAULT_FUNDING_PROFILE = FundingProfile(
    schemes=_frozen({
        "Police and Crime Commissioner victims' services grant": SchemeProfile(
            (1, 1), (2_200_000, 2_600_000), instalments=4,
            purposes=("Commissioned victim support services",),
        ),
        "Independent sexual and domestic violence advisers fund": SchemeProfile(
            (1, 1), (800_000, 1_100_000), instalments=2,
            purposes=("Independent domestic violence advisers (IDVAs)",
                      "Independent sexual violence advisers (ISVAs)"),
        ),
        "Rape and sexual abuse support fund": SchemeProfile(
            (0, 1), (60_000, 150_000), success_rate=0.6, award_share=(0.8, 1.0), instalments=2,
            purposes=("Specialist counselling for survivors of sexual violence",),
        ),
        "Domestic Abuse Safe Accommodation": SchemeProfile(
            (1, 1), (150_000, 300_000), instalments=1,
            purposes=("Support in refuges and other safe accommodation",),
        ),
        "Domestic abuse perpetrator interventions fund": SchemeProfile(
            (1, 2), (150_000, 600_000), success_rate=0.55, award_share=(0.7, 1.0), instalments=4,
            purposes=("Perpetrator behaviour change programme",
                      "Stalking perpetrator intervention"),
        ),
        "Safer Streets Fund": SchemeProfile(
            (0, 2), (200_000, 750_000), success_rate=0.5, award_share=(0.8, 1.0), instalments=2,
            purposes=("Safer night-time economy for women and girls",
                      "Street lighting and CCTV in public spaces", "Bystander training"),
        ),
        "Sexual assault referral centre commissioning": SchemeProfile(
            (1, 1), (400_000, 550_000), instalments=4,
            purposes=("Sexual assault referral centre services",),
        ),
        "Domestic abuse partnership contribution": SchemeProfile(
            (1, 1), (100_000, 250_000), instalments=1,
            purposes=("Domestic abuse services commissioned with the county council",),
        ),
        "Reaching Communities": SchemeProfile(
            (0, 1), (50_000, 300_000), success_rate=0.35, instalments=1,
            purposes=("Community-led support for women and girls",),
        ),
    }),
    default_scheme=SchemeProfile((0, 1), (50_000, 200_000), success_rate=0.5,
                                 award_share=(0.8, 1.0), instalments=2),
    years_kept=3,
    bid_lead_days=(30, 150),
    decision_days=(30, 100),
    allocation_notice_days=(-60, 30),
)
# fmt: on


@dataclass(frozen=True)
class Grant:
    """A grant's whole history; ``as_of(day)`` gives the register row of a snapshot."""

    reference: str
    financial_year: int  # the year it starts
    funder: str
    scheme: str
    purpose: str
    applied_pence: int | None  # None: an allocation
    date_applied: date | None
    decided: date  # the award (or decline) date; the notice date of an allocation
    awarded_pence: int | None  # None: declined
    payments: tuple[tuple[date, int], ...]  # (date, pence)

    @property
    def first_date(self) -> date:
        return self.date_applied or self.decided

    def as_of(self, day: date) -> dict[str, str]:
        row = {
            "grant_reference": self.reference,
            "funder": self.funder,
            "scheme": self.scheme,
            "purpose": self.purpose,
            "financial_year": f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}",
            "amount_applied": _pounds(self.applied_pence),
            "date_applied": _iso(self.date_applied),
            "amount_awarded": "",
            "amount_received": "",
            "date_awarded": "",
            "date_received": "",
            "register_date": day.isoformat(),
        }
        if self.decided > day:
            return {**row, "status": "applied"}
        if self.awarded_pence is None:
            return {**row, "status": "declined"}
        paid = [(d, p) for d, p in self.payments if d <= day]
        received = sum(p for _, p in paid)
        return {
            **row,
            "status": "received" if received == self.awarded_pence else "awarded",
            "amount_awarded": _pounds(self.awarded_pence),
            "date_awarded": self.decided.isoformat(),
            "amount_received": _pounds(received) if paid else "",
            "date_received": paid[-1][0].isoformat() if paid else "",
        }


def _pounds(pence: int | None) -> str:
    return "" if pence is None else f"{pence // PENCE}.{pence % PENCE:02d}"


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def financial_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _true(text: str) -> bool:
    return text.strip().lower() in ("true", "t", "1", "y", "yes")


class GrantRegister:
    """Draws each financial year's grants, once, from the year's own random stream."""

    def __init__(self, ctx: SampleContext, profile: FundingProfile = DEFAULT_FUNDING_PROFILE):
        self.ctx, self.profile = ctx, profile
        schemes = sorted(read_seed("funding_schemes"), key=lambda r: int(r["sort_order"]))
        unknown = set(profile.schemes) - {r["scheme"] for r in schemes}
        if unknown:
            raise KeyError(f"schemes {sorted(unknown)} are not in seed funding_schemes")
        self.schemes = [(r["scheme"], r["funder"], _true(r["is_competitive"])) for r in schemes]
        self._years: dict[int, list[Grant]] = {}

    def year(self, year: int) -> list[Grant]:
        if year not in self._years:
            self._years[year] = self._draw_year(year)
        return self._years[year]

    def _draw_year(self, year: int) -> list[Grant]:
        p = self.profile
        rng = self.ctx.rng(f"funding:{year}")
        start = date(year, 4, 1)
        drafts = []
        for scheme, funder, competitive in self.schemes:
            s = p.schemes.get(scheme, p.default_scheme)
            for _ in range(int(rng.integers(s.grants_a_year[0], s.grants_a_year[1] + 1))):
                amount = int(round(rng.uniform(*s.amount) / 100) * 100) * PENCE
                purpose = s.purposes[int(rng.integers(len(s.purposes)))]
                if competitive:
                    applied = start - timedelta(days=int(rng.integers(*p.bid_lead_days)))
                    decided = applied + timedelta(days=int(rng.integers(*p.decision_days)))
                    success = bool(rng.random() < s.success_rate)
                    share = rng.uniform(*s.award_share)
                    awarded = int(round(amount * share / PENCE / 100) * 100) * PENCE
                    awarded = awarded if success and awarded > 0 else None
                    applied_pence = amount
                else:
                    applied, applied_pence = None, None
                    low, high = p.allocation_notice_days
                    decided = start + timedelta(days=int(rng.integers(low, high + 1)))
                    awarded = amount
                payments = self._payments(rng, start, decided, awarded, s.instalments)
                drafts.append(
                    (applied or decided, scheme, funder, purpose, applied_pence, applied, decided,
                     awarded, payments)
                )  # fmt: skip
        drafts.sort(key=lambda d: (d[0], d[1]))
        return [
            Grant(f"GR-{year}-{i:03d}", year, funder, scheme, purpose, applied_pence, applied,
                  decided, awarded, payments)
            for i, (_, scheme, funder, purpose, applied_pence, applied, decided, awarded,
                    payments) in enumerate(drafts, start=1)
        ]  # fmt: skip

    def _payments(
        self, rng: np.random.Generator, start: date, decided: date, awarded: int | None, n: int
    ) -> tuple[tuple[date, int], ...]:
        """Instalments at the start of each 12/n months of the year, paid some days after they
        fall due (and never before the award)."""
        if awarded is None:
            return ()
        n = max(1, n)
        base, rest = divmod(awarded, n)
        out = []
        for k in range(n):
            due = max(_add_months(start, k * 12 // n), decided)
            paid = due + timedelta(days=int(rng.integers(*self.profile.payment_lag_days)))
            out.append((paid, base + (rest if k == n - 1 else 0)))
        out.sort()
        return tuple(out)

    def snapshot(self, day: date) -> list[dict[str, str]]:
        """The register as it stood on ``day``: every grant of the kept years already begun."""
        current = financial_year_of(day)
        rows = []
        for year in range(current - self.profile.years_kept, current + 2):
            rows += [g.as_of(day) for g in self.year(year) if g.first_date <= day]
        return rows


class FundingSource:
    """Writes a register snapshot at each month end (a ``DaySource``: see sample/context.py)."""

    def __init__(self, ctx: SampleContext, profile: FundingProfile = DEFAULT_FUNDING_PROFILE):
        self.ctx = ctx
        self.contract = load_contract(FUNDING)
        self.register = GrantRegister(ctx, profile)
        self.files = self.rows = 0

    @staticmethod
    def is_snapshot_day(day: date) -> bool:
        return (day + timedelta(days=1)).day == 1

    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        if self.is_snapshot_day(day):
            self.write_snapshot(day)

    def write_snapshot(self, day: date) -> None:
        rows = self.register.snapshot(day)
        columns = self.contract.column_names
        write_csv(
            landing_file(self.contract, self.ctx.landing_dir, day),
            columns,
            [[row[c] for c in columns] for row in rows],
        )
        self.files += 1
        self.rows += len(rows)

    def summaries(self) -> list[DatasetSummary]:
        folder = self.contract.landing_dir(self.ctx.landing_dir)
        return [DatasetSummary(FUNDING, folder, self.files, self.rows)]
