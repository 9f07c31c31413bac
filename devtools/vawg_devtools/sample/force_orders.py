"""Protective order events: one file per day (``force_protective_orders``).

Each day, for each ``OrderScheme`` (DVPN -> DVPO, stalking protection orders, sexual harm
prevention and sexual risk orders, restraining and non-molestation orders) a Poisson number of
new order cases starts. A case takes its people from a crime the force generator recorded: the
victim is the protected person, the suspect the person the order is made against (a DVPN
follows a DA crime of the same day; the others draw from the weeks or months before). Its whole
event history is drawn at once (notice issued, applied, the court's decision, sometimes a
breach) and each event waits in ``pending`` until its day, when it is written to that day's
file; events after the run's end are never kept. Lancashire is not a DAPN/DAPO pilot force, so
no scheme produces them (an order type no scheme names never appears).

Volumes are ASSUMPTIONS for synthetic data (``OrdersProfile``): about 160 DVPOs a year, i.e.
~2.7% of ~6,000 a year nationally (docs/measures.md), few stalking protection and sexual risk
orders, more restraining and non-molestation orders; all times the run's scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from math import ceil
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.force import CrimeBatch, format_references
from vawg_devtools.sample.output import extracted_at, landing_file
from vawg_devtools.sample.recent_crimes import RecentCrimes
from vawg_devtools.sample.reference import category_codes, read_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import write_csv

ORDERS = "force_protective_orders"
REFERENCE_PREFIX = "PO"
SEQUENCE_MAX = 999_999  # PO-<year>-<6 digits>
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
# The contract's event types (checked against it when a source starts).
NOTICE, APPLIED, GRANTED, REFUSED, WITHDRAWN, BREACHED = (
    "notice_issued",
    "applied",
    "granted",
    "refused",
    "withdrawn",
    "breached",
)
DECISIONS = (GRANTED, REFUSED, WITHDRAWN)
KINDS = ("da", "stalking", "sexual")  # which crimes a scheme draws its people from


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class OrderScheme:
    """How one kind of order case unfolds (every order type a seed order_types code)."""

    order_type: str  # the full order
    cases_per_year: float  # new cases a year in Lancashire at scale 1.0
    crime_kind: str  # one of KINDS: DA-flagged crimes, stalking (8Q), sexual offences
    notice_type: str | None = None  # a police notice comes first (DVPN before the DVPO)
    notice_only_share: float = 0.0  # notices not followed by an application
    interim_type: str | None = None  # an interim order asked for with the application
    interim_share: float = 0.0
    interim_granted_share: float = 0.9
    court_made_share: float = 0.0  # made by a court of its own motion: granted, no application
    decision_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen({GRANTED: 90, REFUSED: 5, WITHDRAWN: 5})
    )
    application_days: tuple[int, int] = (0, 0)  # notice -> application
    decision_days: tuple[int, int] = (0, 1)  # application -> decision
    interim_decision_days: tuple[int, int] = (0, 2)
    breach_share: float = 0.0  # of granted orders
    breach_days: tuple[int, int] = (1, 365)  # after the grant
    crime_linked_share: float = 1.0  # cases that name the crime they arise from
    unnamed_victim_share: float = 0.0  # when no crime is named: the order protects the public
    same_day: bool = False  # people from the day's own crimes (else the last lookback_days)
    lookback_days: int = 120


@dataclass(frozen=True)
class OrdersProfile:
    schemes: tuple[OrderScheme, ...]


# fmt: off
DEFAULT_ORDERS_PROFILE = OrdersProfile(schemes=(
    # DVPN then DVPO: the magistrates hear the application within 48 hours; the order lasts
    # 14-28 days. ~170 notices -> ~165 applications -> ~155 DVPOs a year (~2.7% of ~6,000).
    OrderScheme(
        "DVPO", 170, "da", notice_type="DVPN", notice_only_share=0.03,
        decision_weights=_frozen({GRANTED: 94, REFUSED: 4, WITHDRAWN: 2}),
        application_days=(0, 1), decision_days=(0, 1), breach_share=0.2, breach_days=(1, 28),
        crime_linked_share=0.92, same_day=True,
    ),
    OrderScheme(
        "SPO", 14, "stalking", interim_type="ISPO", interim_share=0.5,
        decision_weights=_frozen({GRANTED: 85, REFUSED: 5, WITHDRAWN: 10}),
        decision_days=(14, 56), breach_share=0.15, breach_days=(7, 365), lookback_days=180,
    ),
    OrderScheme(
        "SHPO", 130, "sexual", interim_type="ISHPO", interim_share=0.3, court_made_share=0.8,
        decision_weights=_frozen({GRANTED: 88, REFUSED: 7, WITHDRAWN: 5}),
        decision_days=(14, 60), breach_share=0.04, breach_days=(30, 720), lookback_days=240,
    ),
    OrderScheme(
        "SRO", 8, "sexual", interim_type="ISRO", interim_share=0.5,
        decision_weights=_frozen({GRANTED: 75, REFUSED: 15, WITHDRAWN: 10}),
        decision_days=(14, 60), breach_share=0.05, breach_days=(30, 720),
        crime_linked_share=0.3, unnamed_victim_share=0.6, lookback_days=240,
    ),
    OrderScheme(
        "RO", 350, "da", court_made_share=1.0, breach_share=0.12, breach_days=(7, 365),
        lookback_days=180,
    ),
    OrderScheme(
        "RO", 100, "stalking", court_made_share=1.0, breach_share=0.12, breach_days=(7, 365),
        lookback_days=180,
    ),
    OrderScheme(
        "NMO", 300, "da", court_made_share=1.0, breach_share=0.1, breach_days=(7, 365),
        crime_linked_share=0.0, lookback_days=90,
    ),
))
# fmt: on


@dataclass(frozen=True)
class _Event:
    day: int  # ordinal
    order_key: int  # year * 10**6 + sequence
    sequence: int
    order_type: str
    event_type: str
    crime_key: int  # -1: no crime named
    local_authority: int
    victim: int  # -1: nobody named
    perpetrator: int


class ProtectiveOrderSource:
    """Draws order cases day by day and writes ``orders_<day>.csv`` with the day's events."""

    def __init__(self, ctx: SampleContext, profile: OrdersProfile = DEFAULT_ORDERS_PROFILE):
        self.ctx, self.profile = ctx, profile
        self.rng = ctx.rng("orders")
        self.contract = load_contract(ORDERS)
        events = next(c for c in self.contract.columns if c.name == "event_type").allowed_values
        missing = {NOTICE, APPLIED, *DECISIONS, BREACHED} - set(events or ())
        if missing:
            raise ValueError(f"{ORDERS}.event_type no longer allows {sorted(missing)}")
        known = {r["order_type"] for r in read_seed("order_types")}
        for scheme in profile.schemes:
            types = {scheme.order_type, scheme.notice_type, scheme.interim_type} - {None}
            if types - known:
                raise KeyError(f"OrderScheme: {sorted(types - known)} not in seed order_types")
            if scheme.crime_kind not in KINDS:
                raise KeyError(f"OrderScheme.crime_kind {scheme.crime_kind!r} not in {KINDS}")
            if set(scheme.decision_weights) - set(DECISIONS):
                raise KeyError(f"OrderScheme.decision_weights: only {DECISIONS}")
        ref = ctx.reference
        stalking = category_codes().get("stalking", frozenset())
        self.is_stalking = np.array([c in stalking for c in ref.offence_codes])
        self.is_sexual = ref.is_rape | ref.is_other_sexual
        self.female = ref.sexes.index("F")

        daily = ctx.profile.crimes_per_month / DAYS_PER_MONTH * ctx.scale
        lookback = max(s.lookback_days for s in profile.schemes) + 1
        share = {"da": ctx.profile.da_share, "stalking": 0.1, "sexual": 0.2}  # generous bounds
        self.rings = {
            kind: RecentCrimes(max(16, ceil(daily * share[kind] * lookback))) for kind in KINDS
        }
        self.pending: dict[int, list[_Event]] = {}
        self.end = ctx.end.toordinal()
        self.sequence: dict[int, int] = {}
        self.rows = self.files = 0

    # ------------------------------------------------------------------ each day
    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        with_suspect = crimes.suspect >= 0
        masks = {
            "da": crimes.is_da,
            "stalking": self.is_stalking[crimes.offence],
            "sexual": self.is_sexual[crimes.offence],
        }
        for kind, mask in masks.items():
            self.rings[kind].add(crimes, np.flatnonzero(mask & with_suspect), self.female)
        today = day.toordinal()
        for scheme in self.profile.schemes:
            n = int(self.rng.poisson(scheme.cases_per_year / DAYS_PER_YEAR * self.ctx.scale))
            if n:
                self._start_cases(scheme, today, n)
        self._write(day, self.pending.pop(today, []))

    def _start_cases(self, scheme: OrderScheme, today: int, n: int) -> None:
        rng = self.rng
        ring = self.rings[scheme.crime_kind]
        first = today if scheme.same_day else today - scheme.lookback_days
        candidates = ring.positions(first_day=first, last_day=today, needs_suspect=True)
        if candidates.size == 0:
            return
        for at in candidates[rng.integers(0, candidates.size, n)].tolist():
            linked = rng.random() < scheme.crime_linked_share
            named = linked or rng.random() >= scheme.unnamed_victim_share
            people = (
                int(ring.key[at]) if linked else -1,
                int(ring.local_authority[at]),
                int(ring.victim[at]) if named else -1,
                int(ring.suspect[at]),
            )
            self._schedule(self._history(scheme, today), today, people)

    def _history(self, scheme: OrderScheme, today: int) -> list[tuple[int, str, str]]:
        """(day, order type, event type) of one case, in the order they happen."""
        rng = self.rng

        def after(start: int, days: tuple[int, int]) -> int:
            return start + int(rng.integers(days[0], days[1] + 1))

        def breach(order_type: str, granted_on: int, until: int | None = None) -> list:
            """Sometimes a breach: within breach_days of the grant, or before ``until``."""
            if rng.random() >= scheme.breach_share:
                return []
            low, high = scheme.breach_days if until is None else (1, max(1, until - granted_on))
            return [(granted_on + int(rng.integers(low, high + 1)), order_type, BREACHED)]

        full = scheme.order_type
        if rng.random() < scheme.court_made_share:
            return [(today, full, GRANTED), *breach(full, today)]
        events: list[tuple[int, str, str]] = []
        applied = today
        if scheme.notice_type is not None:
            events.append((today, scheme.notice_type, NOTICE))
            if rng.random() < scheme.notice_only_share:
                return events
            applied = after(today, scheme.application_days)
        interim = scheme.interim_type is not None and rng.random() < scheme.interim_share
        if interim:
            events.append((applied, scheme.interim_type, APPLIED))
        events.append((applied, full, APPLIED))
        decided = after(applied, scheme.decision_days)
        decisions = list(scheme.decision_weights)
        weights = np.array([scheme.decision_weights[d] for d in decisions], dtype=float)
        decision = decisions[int(rng.choice(len(decisions), p=weights / weights.sum()))]
        if interim:
            interim_on = min(after(applied, scheme.interim_decision_days), decided)
            interim_granted = rng.random() < scheme.interim_granted_share
            outcome = GRANTED if interim_granted else REFUSED
            events.append((interim_on, scheme.interim_type, outcome))
            if interim_granted and decision != GRANTED:
                events += breach(scheme.interim_type, interim_on, until=decided)
        events.append((decided, full, decision))
        if decision == GRANTED:
            events += breach(full, decided)
        return events

    def _schedule(self, events: list[tuple[int, str, str]], today: int, people: tuple) -> None:
        """Number the case's events (by day, then as drawn) and keep those up to the run's end."""
        year = date.fromordinal(today).year
        sequence = self.sequence.get(year, 0) + 1
        if sequence > SEQUENCE_MAX:
            raise ValueError(f"more than {SEQUENCE_MAX:,} protective-order cases in {year}")
        self.sequence[year] = sequence
        order_key = year * (SEQUENCE_MAX + 1) + sequence
        ordered = sorted(enumerate(events), key=lambda item: (item[1][0], item[0]))
        for number, (_, (day, order_type, event_type)) in enumerate(ordered, start=1):
            if day > self.end:
                continue
            event = _Event(day, order_key, number, order_type, event_type, *people)
            self.pending.setdefault(day, []).append(event)

    # ------------------------------------------------------------------ files
    def _write(self, day: date, events: list[_Event]) -> None:
        people, ref = self.ctx.people, self.ctx.reference
        events.sort(key=lambda e: (e.order_key, e.sequence))
        n = len(events)
        crime_keys = np.array([e.crime_key for e in events], dtype=np.int64)
        crime_refs = format_references(np.maximum(crime_keys, 0))
        columns = {
            "order_reference": [
                f"{REFERENCE_PREFIX}-{e.order_key // (SEQUENCE_MAX + 1)}-"
                f"{e.order_key % (SEQUENCE_MAX + 1):06d}"
                for e in events
            ],
            "event_sequence": [str(e.sequence) for e in events],
            "order_type": [e.order_type for e in events],
            "event_type": [e.event_type for e in events],
            "event_date": [day.isoformat()] * n,
            "crime_reference": [
                r if k >= 0 else "" for r, k in zip(crime_refs, crime_keys.tolist(), strict=True)
            ],
            "local_authority_code": [ref.la_codes[e.local_authority] for e in events],
            "victim_id": people.format_ids(np.array([e.victim for e in events], dtype=np.int64)),
            "perpetrator_id": people.format_ids(
                np.array([e.perpetrator for e in events], dtype=np.int64)
            ),
            "extracted_at": [extracted_at(day)] * n,
        }
        names = self.contract.column_names
        if set(names) != set(columns):
            raise RuntimeError(f"{ORDERS}: columns differ from the contract")
        write_csv(
            landing_file(self.contract, self.ctx.landing_dir, day),
            names,
            zip(*(columns[c] for c in names), strict=True),
        )
        self.rows += n
        self.files += 1

    def summaries(self) -> list[DatasetSummary]:
        folder = self.contract.landing_dir(self.ctx.landing_dir)
        return [DatasetSummary(ORDERS, folder, self.files, self.rows)]
