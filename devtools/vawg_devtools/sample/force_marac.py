"""Cases heard at MARAC: one file per MARAC meeting day (``force_marac_cases``).

Victims are the force's domestic-abuse victims: a new case takes the victim (and the suspect, as
perpetrator) of a DA-flagged crime recorded in the weeks before the meeting, mostly women; a
re-referral hears again a victim this run already heard, with the same perpetrator as a rule.
Re-referrals are a little over a third of the cases heard; most come within 12 months of the
victim's last referral, some later (those are not repeats by the SafeLives definition), so
about a third of the cases are repeats once the run has a year of history. The file has no
repeat flag: the warehouse works repeats out from the history of cases. Volume: about 40 cases a
year per 10,000 women aged 16 and over (SafeLives benchmark, docs/measures.md), from the
population seed, times the run's scale. The first meetings of a run hear fewer cases: only
crimes of the run can be referred.

Everything here is an ASSUMPTION for synthetic data (``MaracProfile``), not an official figure.
Codes come from the seeds (referring agencies) and the contract (risk bases).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from math import ceil
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.continuation import last_sequences
from vawg_devtools.sample.force import CrimeBatch
from vawg_devtools.sample.output import extracted_at, landing_file
from vawg_devtools.sample.recent_crimes import RecentCrimes
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import write_csv

MARAC = "force_marac_cases"
REFERENCE_PREFIX = "MRC"
SEQUENCE_MAX = 999_999  # MRC-<year>-<6 digits>
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class MaracProfile:
    cases_per_10000_women: float = 40.0  # a year, per 10,000 women aged 16+ (SafeLives, C)
    # cases that re-refer a victim heard before; ~80% of them within 12 months of the last
    # referral (history_days), so about a third of cases are repeats (docs/measures.md, U)
    rereferral_share: float = 0.37
    repeat_min_gap_days: int = 14  # a victim is heard again at least this long after
    history_days: int = 450  # how far back a re-referral reaches (beyond 12 months: no repeat)
    meeting_weekdays: tuple[int, ...] = (1, 3)  # Tuesday, Thursday (Monday = 0)
    crime_max_age_days: int = 42  # a new case comes from a DA crime of the last six weeks
    referral_lag_max_days: int = 14  # crime recorded -> referral
    hearing_lead_days: tuple[int, int] = (3, 21)  # referral -> meeting, at least / at most
    male_victim_weight: float = 0.08  # relative to a female victim (MARAC victims ~95% women)
    same_perpetrator_share: float = 0.8  # of re-referrals (the rest: another DA suspect)
    agency_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "police": 62,
                "idva": 11,
                "health": 7,
                "childrens_services": 6,
                "housing": 3,
                "probation": 2,
                "other": 9,
            }
        )  # fmt: skip
    )
    unlisted_agency_weight: float = 1.0  # an agency added to the seed appears without edits here
    risk_basis_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "Visible high risk": 62,
                "Professional judgement": 28,
                "Potential escalation": 10,
            }
        )  # fmt: skip
    )


DEFAULT_MARAC_PROFILE = MaracProfile()


class _HeardCases:
    """A ring of the cases this run heard: who, against whom, where, when."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.victim = np.full(capacity, -1, dtype=np.int64)
        self.perpetrator = np.full(capacity, -1, dtype=np.int64)
        self.local_authority = np.zeros(capacity, dtype=np.int16)
        self.heard = np.zeros(capacity, dtype=np.int32)
        self.size = 0
        self._next = 0

    def add(self, victim, perpetrator, local_authority, heard: int) -> None:
        n = len(victim)
        if n == 0:
            return
        keep = slice(max(0, n - self.capacity), n)
        pos = (self._next + np.arange(keep.stop - keep.start)) % self.capacity
        self.victim[pos] = victim[keep]
        self.perpetrator[pos] = perpetrator[keep]
        self.local_authority[pos] = local_authority[keep]
        self.heard[pos] = heard
        self._next = int((self._next + pos.size) % self.capacity)
        self.size = min(self.capacity, self.size + pos.size)

    def positions(self, first_day: int, last_day: int) -> np.ndarray:
        heard = self.heard[: self.size]
        return np.flatnonzero((heard >= first_day) & (heard <= last_day))


def _weights(
    codes: tuple[str, ...], weights: Mapping[str, float], unlisted: float, what: str
) -> np.ndarray:
    unknown = sorted(set(weights) - set(codes))
    if unknown:
        raise KeyError(f"{what}: {unknown} not allowed (known: {list(codes)})")
    w = np.array([weights.get(c, unlisted) for c in codes], dtype=float)
    if w.sum() <= 0:
        raise ValueError(f"{what}: the weights add up to nothing")
    return w / w.sum()


class MaracSource:
    """Writes ``marac_<day>.csv`` on each meeting day from the force's DA victims."""

    def __init__(self, ctx: SampleContext, profile: MaracProfile = DEFAULT_MARAC_PROFILE):
        self.ctx, self.profile = ctx, profile
        self.rng = ctx.rng("marac")
        self.contract = load_contract(MARAC)
        agencies = sorted(read_seed("marac_referring_agencies"), key=lambda r: int(r["sort_order"]))
        self.agencies = tuple(r["referring_agency"] for r in agencies)
        self.p_agency = _weights(
            self.agencies,
            profile.agency_weights,
            profile.unlisted_agency_weight,
            "MaracProfile.agency_weights",
        )
        risk = next(c for c in self.contract.columns if c.name == "risk_basis").allowed_values
        if not isinstance(risk, tuple):
            raise ValueError(f"{MARAC}.risk_basis needs a list of allowed values")
        self.risk_bases = risk
        self.p_risk = _weights(risk, profile.risk_basis_weights, 0.0, "MaracProfile.risk_basis")

        # the home force's authorities' latest estimates (its size is in them: ctx.realism)
        population = [
            r
            for r in read_seed("population_mid_year")
            if r["local_authority_code"] in ctx.reference.la_codes
        ]
        year = max(int(r["reference_year"]) for r in population)
        latest = [r for r in population if int(r["reference_year"]) == year]
        women = sum(int(r["females_16_plus"]) for r in latest)
        self.daily_cases = (
            profile.cases_per_10000_women / 10_000 * women / DAYS_PER_YEAR * ctx.realism
        )
        da_daily = ctx.profile.crimes_per_month * ctx.profile.da_share / DAYS_PER_MONTH * ctx.scale
        self.crimes = RecentCrimes(max(16, ceil(1.3 * da_daily * (profile.crime_max_age_days + 1))))
        self.heard = _HeardCases(max(16, ceil(1.5 * self.daily_cases * profile.history_days)))
        self.female = ctx.reference.sexes.index("F")
        self.last_meeting = ctx.start.toordinal() - 1
        # Numbering continues after the cases already in landing (continuation.py).
        self.sequence: dict[int, int] = last_sequences(
            self.contract.landing_dir(ctx.landing_dir),
            REFERENCE_PREFIX,
            6,
            before=ctx.start,
        )
        self.rows = self.files = 0

    # ------------------------------------------------------------------ each day
    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        self.crimes.add(crimes, np.flatnonzero(crimes.is_da), self.female)
        if day.weekday() in self.profile.meeting_weekdays:
            self.meeting(day)

    def meeting(self, day: date) -> None:
        """Draw and write the cases heard at the meeting of ``day``."""
        rng, p = self.rng, self.profile
        today = day.toordinal()
        n = int(rng.poisson(self.daily_cases * (today - self.last_meeting)))
        self.last_meeting = today
        lead_min, lead_max = p.hearing_lead_days

        # re-referrals: victims heard before, none of them in the last repeat_min_gap_days
        history = self.heard.positions(today - p.history_days, today - p.repeat_min_gap_days)
        lately = self.heard.victim[self.heard.positions(today - p.repeat_min_gap_days + 1, today)]
        history = history[~np.isin(self.heard.victim[history], lately)]
        n_repeat = int(rng.binomial(n, p.rereferral_share)) if history.size else 0
        drawn = np.unique(self.heard.victim[history[rng.integers(0, history.size, n_repeat)]])
        at = self._latest_hearings(history, drawn)  # once per meeting, from their last case
        victim = self.heard.victim[at]
        perpetrator = self.heard.perpetrator[at].copy()
        local_authority = self.heard.local_authority[at].astype(np.int64)
        # referred after their last hearing, and a few days to three weeks before this one
        referred = np.maximum(
            today - rng.integers(lead_min, lead_max + 1, size=at.size),
            self.heard.heard[at].astype(np.int64) + 1,
        )
        other = rng.random(at.size) >= p.same_perpetrator_share
        suspects = self.crimes.positions(
            first_day=today - p.crime_max_age_days, last_day=today, needs_suspect=True
        )
        if other.any() and suspects.size:
            perpetrator[other] = self.crimes.suspect[
                suspects[rng.integers(0, suspects.size, int(other.sum()))]
            ]

        # new cases: a DA victim of the last weeks, not heard in the last history_days
        candidates = self.crimes.positions(
            first_day=today - p.crime_max_age_days, last_day=today - lead_min, unused_only=True
        )
        recent = self.heard.victim[self.heard.positions(today - p.history_days, today)]
        candidates = candidates[
            ~np.isin(self.crimes.victim[candidates], np.concatenate([recent, victim]))
        ]
        k = min(n - at.size, candidates.size)
        if k > 0:
            w = np.where(self.crimes.is_female[candidates], 1.0, p.male_victim_weight)
            chosen = rng.choice(candidates, size=k, replace=False, p=w / w.sum())
            chosen = chosen[np.unique(self.crimes.victim[chosen], return_index=True)[1]]
            self.crimes.used[chosen] = True
            crime_day = self.crimes.day[chosen].astype(np.int64)
            lag = rng.integers(0, p.referral_lag_max_days + 1, size=chosen.size)
            victim = np.concatenate([victim, self.crimes.victim[chosen]])
            perpetrator = np.concatenate([perpetrator, self.crimes.suspect[chosen]])
            local_authority = np.concatenate(
                [local_authority, self.crimes.local_authority[chosen].astype(np.int64)]
            )
            referred = np.concatenate([referred, np.minimum(crime_day + lag, today - lead_min)])

        order = rng.permutation(victim.size)
        victim, perpetrator, local_authority, referred = (
            a[order] for a in (victim, perpetrator, local_authority, referred)
        )
        agency = rng.choice(len(self.agencies), size=victim.size, p=self.p_agency)
        risk = rng.choice(len(self.risk_bases), size=victim.size, p=self.p_risk)
        self.heard.add(victim, perpetrator, local_authority, today)
        self._write(day, victim, perpetrator, local_authority, referred, agency, risk)

    def _latest_hearings(self, history: np.ndarray, victims: np.ndarray) -> np.ndarray:
        """Position in ``history`` of each of ``victims``' latest hearing (victims sorted)."""
        mine = history[np.isin(self.heard.victim[history], victims)]
        mine = mine[np.lexsort((self.heard.heard[mine], self.heard.victim[mine]))]
        if mine.size == 0:
            return mine
        sorted_victims = self.heard.victim[mine]
        return mine[np.r_[sorted_victims[1:] != sorted_victims[:-1], True]]

    def _references(self, year: int, n: int) -> list[str]:
        first = self.sequence.get(year, 0) + 1
        if first + n - 1 > SEQUENCE_MAX:
            raise ValueError(f"more than {SEQUENCE_MAX:,} MARAC cases heard in {year}")
        self.sequence[year] = first + n - 1
        return [f"{REFERENCE_PREFIX}-{year}-{s:06d}" for s in range(first, first + n)]

    def _write(self, day, victim, perpetrator, local_authority, referred, agency, risk) -> None:
        people, ref = self.ctx.people, self.ctx.reference
        n = victim.size
        columns = {
            "case_reference": self._references(day.year, n),
            "date_heard": [day.isoformat()] * n,
            "date_referred": [date.fromordinal(int(d)).isoformat() for d in referred.tolist()],
            "victim_id": people.format_ids(victim),
            "perpetrator_id": people.format_ids(perpetrator),
            "referring_agency": [self.agencies[i] for i in agency.tolist()],
            "local_authority_code": [ref.la_codes[i] for i in local_authority.tolist()],
            "risk_basis": [self.risk_bases[i] for i in risk.tolist()],
            "extracted_at": [extracted_at(day)] * n,
        }
        names = self.contract.column_names
        if set(names) != set(columns):
            raise RuntimeError(f"{MARAC}: columns differ from the contract")
        write_csv(
            landing_file(self.contract, self.ctx.landing_dir, day),
            names,
            zip(*(columns[c] for c in names), strict=True),
        )
        self.rows += n
        self.files += 1

    def summaries(self) -> list[DatasetSummary]:
        folder = self.contract.landing_dir(self.ctx.landing_dir)
        return [DatasetSummary(MARAC, folder, self.files, self.rows)]
