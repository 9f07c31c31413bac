"""Victims' Code compliance records: one file per day (``force_victims_code``).

Every crime the force generator records gets one record per right of the Code (seed
``victims_code_rights``) for its victim, the same pseudonymous person as in the crimes file. A
right is triggered by the crime's recording (e.g. referral to support services, due within two
days) or by its outcome (e.g. information about the trial, only when someone is charged); it is
met (delivered by its due date), not met (delivered late or never) or not applicable. A record is
first written, with no status, on the day its right is triggered (the crime's recording or its
outcome), then again on the day its status is recorded: when the right was delivered, some days
after it fell due undelivered, or when it was found not to apply; a few not-met records are
restated as met later, after a review (the latest file wins). A status that would be recorded
after the run's end is never written, as in a real extract: the record stays without one.

Compliance is realistic, not uniform: 60-95% by right (lower for the Victim Personal Statement,
compensation and the offender after conviction), shifted per local authority.
Everything here is an ASSUMPTION for synthetic data (``VictimsCodeProfile``), not an official
figure. Right numbers come from the seed, outcome groups from ``ho_outcome_types``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.force import REFERENCE_PREFIX, SEQUENCE_BASE, CrimeBatch
from vawg_devtools.sample.output import (
    DateStrings,
    Field,
    extracted_at,
    format_lines,
    landing_file,
    plain_labels,
    write_lines,
)
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract

VICTIMS_CODE = "force_victims_code"
RECORD_PREFIX = "VC"
STATUSES = ("met", "not_met", "not_applicable")  # the contract's allowed values
MET, NOT_MET, NOT_APPLICABLE, NO_STATUS = range(4)  # NO_STATUS: written as an empty field
NO_DATE = -1
RECORD_FIELDS = ("day", "key", "victim", "right", "status", "due", "completed", "unit")


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class RightProfile:
    """When one right falls due, when it applies, and how often it is met."""

    anchor: str  # "recorded": counted from the crime's recording; "outcome": from its outcome
    applies: str  # "all"; "chance": a share of victims; "charged": a share of charged crimes
    due_days: int  # the Code's timescale from the anchor
    met_share: float  # of applicable records, before the local authority's shift
    units: Mapping[str, float]  # unit recording the status -> weight
    applicable_share: float = 1.0  # for "chance" and "charged"
    lead_days: int = 0  # a met right is delivered up to this many days before it is due


def _units(**weights: float) -> Mapping[str, float]:
    return _frozen({name.replace("_", " "): w for name, w in weights.items()})


# fmt: off
def _default_rights() -> Mapping[int, RightProfile]:
    return _frozen({
        1: RightProfile("recorded", "all", 0, 0.95,
                        _units(Response=6, CID=2, Public_Protection_Unit=2)),
        2: RightProfile("recorded", "all", 0, 0.93, _units(Response=7, Crime_Recording_Unit=3)),
        3: RightProfile("recorded", "all", 5, 0.86,
                        _units(Response=5, CID=2, Victim_Care_Unit=3), lead_days=5),
        # the victims who decline a referral: not applicable
        4: RightProfile("recorded", "chance", 2, 0.82, _units(Victim_Care_Unit=7, Response=3),
                        applicable_share=0.88, lead_days=2),
        5: RightProfile("recorded", "all", 10, 0.72, _units(Victim_Care_Unit=6, CID=4),
                        lead_days=10),
        6: RightProfile("recorded", "all", 28, 0.78,
                        _units(CID=5, Public_Protection_Unit=4, Response=1), lead_days=21),
        # no statement taken: not applicable
        7: RightProfile("recorded", "chance", 7, 0.62,
                        _units(CID=5, Public_Protection_Unit=3, Response=2),
                        applicable_share=0.9, lead_days=7),
        8: RightProfile("outcome", "charged", 5, 0.88, _units(Witness_Care_Unit=1), lead_days=3),
        9: RightProfile("outcome", "all", 5, 0.80,
                        _units(Witness_Care_Unit=4, CID=3, Public_Protection_Unit=3), lead_days=4),
        # victims called as witnesses
        10: RightProfile("outcome", "charged", 28, 0.90, _units(Witness_Care_Unit=1),
                         applicable_share=0.6, lead_days=20),
        # Victim Contact Scheme cases (a custodial sentence of 12 months or more)
        11: RightProfile("outcome", "charged", 40, 0.74,
                         _units(Public_Protection_Unit=6, Witness_Care_Unit=4),
                         applicable_share=0.3, lead_days=30),
        # the victims who complained
        12: RightProfile("recorded", "chance", 60, 0.70,
                         _units(Victim_Care_Unit=8, Professional_Standards=2),
                         applicable_share=0.03, lead_days=40),
    })
# fmt: on


@dataclass(frozen=True)
class VictimsCodeProfile:
    rights: Mapping[int, RightProfile] = field(default_factory=_default_rights)
    la_spread: float = 0.25  # standard deviation of a local authority's shift (log-odds)
    late_share: float = 0.4  # of not-met rights: delivered late (after the due date)
    late_max_days: int = 30
    review_max_days: int = 14  # a not-met or not-applicable status is recorded within this
    record_max_days: int = 3  # a delivered right is recorded within this many days
    restated_share: float = 0.05  # of not-met records: restated as met after a review
    restated_days: tuple[int, int] = (7, 60)  # after the first record


DEFAULT_VICTIMS_CODE_PROFILE = VictimsCodeProfile()


class PendingRecords:
    """Records waiting for the day their status is recorded (each push a run sorted by day)."""

    def __init__(self, max_runs: int = 64):
        self.max_runs = max_runs
        self._runs: list[tuple[dict[str, np.ndarray], list[int]]] = []

    def __len__(self) -> int:
        return sum(len(r["day"]) - c[0] for r, c in self._runs)

    def push(self, columns: dict[str, np.ndarray]) -> None:
        if len(columns["day"]) == 0:
            return
        order = np.argsort(columns["day"], kind="stable")
        self._runs.append(({k: v[order] for k, v in columns.items()}, [0]))
        if len(self._runs) > self.max_runs:
            names = list(self._runs[0][0])
            merged = {k: np.concatenate([r[k][c[0] :] for r, c in self._runs]) for k in names}
            self._runs = []
            self.push(merged)

    def pop(self, day: int) -> dict[str, np.ndarray] | None:
        """The records whose status is recorded on ``day``, sorted by crime then right."""
        taken = []
        for run, cursor in self._runs:
            days, start = run["day"], cursor[0]
            if start < len(days) and days[start] < day:
                raise RuntimeError("a Victims' Code record was left behind before its day")
            stop = start + int(np.searchsorted(days[start:], day, side="right"))
            if stop > start:
                taken.append({k: v[start:stop] for k, v in run.items()})
                cursor[0] = stop
        self._runs = [(r, c) for r, c in self._runs if c[0] < len(r["day"])]
        if not taken:
            return None
        out = {k: np.concatenate([t[k] for t in taken]) for k in taken[0]}
        order = np.lexsort((out["right"], out["key"]))
        return {k: v[order] for k, v in out.items()}


class VictimsCodeSource:
    """Draws each day's crimes' Victims' Code records and writes the day's file."""

    def __init__(
        self, ctx: SampleContext, profile: VictimsCodeProfile = DEFAULT_VICTIMS_CODE_PROFILE
    ):
        self.ctx = ctx
        self.profile = profile
        self.contract = load_contract(VICTIMS_CODE)
        self.rng = ctx.rng("victims-code")
        rights = [int(r["right_number"]) for r in read_seed("victims_code_rights")]
        unknown = sorted(set(profile.rights) - set(rights))
        if unknown:
            raise KeyError(f"profile rights {unknown} are not in seed victims_code_rights")
        self.rights = [r for r in rights if r in profile.rights]  # a right without a profile: none
        allowed = next(c for c in self.contract.columns if c.name == "status").allowed_values
        if tuple(allowed) != STATUSES:
            raise ValueError(f"{VICTIMS_CODE}.status allows {allowed}, not {STATUSES}")
        outcomes = {r["outcome_code"]: r for r in read_seed("ho_outcome_types")}
        self.is_charge = np.array(
            [
                outcomes[c]["is_charge_summons"].strip().lower() == "true"
                for c in ctx.reference.outcome_codes
            ]
        )
        # a local authority's shift of every right's log-odds of being met
        n_la = len(ctx.reference.la_codes)
        self.la_shift = ctx.rng("victims-code-areas").normal(0, profile.la_spread, n_la)
        self.unit_names = sorted({u for r in profile.rights.values() for u in r.units})
        self.unit_labels = plain_labels(self.unit_names)
        self.status_labels = plain_labels([*STATUSES, ""])
        longest = max(r.due_days + r.lead_days for r in profile.rights.values())
        self.dates = DateStrings(ctx.start, ctx.end + timedelta(days=longest + 1))
        self.end = ctx.end.toordinal()
        self.pending = PendingRecords()
        self.rows = self.files = 0

    # ------------------------------------------------------------------ drawing
    def draw(self, batch: CrimeBatch) -> dict[str, np.ndarray]:
        """Every record of ``batch``'s crimes, and restatements, with the day each is written."""
        rng, p = self.rng, self.profile
        n = len(batch)
        rec = batch.day.toordinal()
        parts: list[dict[str, np.ndarray]] = []
        charged = self.is_charge[batch.final_outcome] if n else np.zeros(0, dtype=bool)
        for right in self.rights:
            rp = p.rights[right]
            anchor = (
                np.full(n, rec, dtype=np.int64)
                if rp.anchor == "recorded"
                else batch.final_outcome_date.astype(np.int64)
            )
            applies = np.ones(n, dtype=bool)
            if rp.applies == "charged":
                applies = charged.copy()
            if rp.applies in ("chance", "charged"):
                applies &= rng.random(n) < rp.applicable_share
            due = anchor + rp.due_days
            logit = np.log(rp.met_share / (1 - rp.met_share)) + self.la_shift[batch.local_authority]
            met = applies & (rng.random(n) < 1 / (1 + np.exp(-logit)))
            late = applies & ~met & (rng.random(n) < p.late_share)
            status = np.where(applies, np.where(met, MET, NOT_MET), NOT_APPLICABLE)

            early = rng.integers(0, rp.lead_days + 1, size=n)
            done_on_time = np.maximum(anchor, due - early)
            done_late = due + rng.integers(1, p.late_max_days + 1, size=n)
            completed = np.where(met, done_on_time, np.where(late, done_late, NO_DATE))
            review = rng.integers(1, p.review_max_days + 1, size=n)
            written = np.where(
                met,
                completed + rng.integers(0, p.record_max_days + 1, size=n),
                np.where(
                    applies,
                    np.maximum(due + review, completed),
                    anchor + review - 1,  # found not to apply when the anchor event happened
                ),
            )
            weights = np.array([rp.units.get(u, 0.0) for u in self.unit_names])
            unit = rng.choice(len(self.unit_names), size=n, p=weights / weights.sum())
            record = {
                "day": written,
                "key": batch.key,
                "victim": batch.victim,
                "right": np.full(n, right, dtype=np.int64),
                "status": status,
                "due": due,
                "completed": completed,
                "unit": unit,
            }
            parts.append(record)
            # the record exists from the day its right is triggered, with no status until one
            # is recorded (a right still open at the run's end stays so)
            # (a trial right of a crime nobody was charged for is never triggered)
            opened = (written > anchor) & (applies if rp.applies == "charged" else True)
            parts.append(
                {
                    **{k: v[opened] for k, v in record.items()},
                    "day": anchor[opened],
                    "status": np.full(int(opened.sum()), NO_STATUS),
                    "completed": np.full(int(opened.sum()), NO_DATE),
                }
            )
            # a review finds a not-met right was delivered after all: restated as met
            restate = (status == NOT_MET) & (rng.random(n) < p.restated_share)
            low, high = p.restated_days
            later = written + rng.integers(low, high + 1, size=n)
            parts.append(
                {
                    **{k: v[restate] for k, v in record.items()},
                    "day": later[restate],
                    "status": np.full(int(restate.sum()), MET),
                    "completed": done_on_time[restate],
                }
            )
        if not parts:
            return {k: np.zeros(0, dtype=np.int64) for k in RECORD_FIELDS}
        return {k: np.concatenate([part[k] for part in parts]) for k in RECORD_FIELDS}

    # ------------------------------------------------------------------ one day
    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        records = self.draw(crimes)
        keep = records["day"] <= self.end
        self.pending.push({k: v[keep] for k, v in records.items()})
        self.write(day, self.pending.pop(day.toordinal()))

    def write(self, day: date, records: dict[str, np.ndarray] | None) -> None:
        if records is None:
            records = {k: np.zeros(0, dtype=np.int64) for k in RECORD_FIELDS}
        n = len(records["day"])
        years, sequences = np.divmod(records["key"], SEQUENCE_BASE)
        years, sequences, rights = years.tolist(), sequences.tolist(), records["right"].tolist()
        fields: dict[str, Field] = {
            "record_id": (f"{RECORD_PREFIX}-%d-%07d-%02d", years, sequences, rights),
            "crime_reference": (f"{REFERENCE_PREFIX}-%d-%07d", years, sequences),
            "victim_id": ("P%09d", self.ctx.people.id_numbers(records["victim"]).tolist()),
            "right_number": ("%d", rights),
            "status": ("%s", self.status_labels[records["status"]].tolist()),
            "date_due": ("%s", self.dates(records["due"]).tolist()),
            "date_completed": ("%s", self.dates(records["completed"]).tolist()),
            "recorded_by_unit": ("%s", self.unit_labels[records["unit"]].tolist()),
            "extracted_at": extracted_at(day),
        }
        if set(fields) != set(self.contract.column_names):
            raise RuntimeError(f"{VICTIMS_CODE}: columns differ from the contract")
        write_lines(
            landing_file(self.contract, self.ctx.landing_dir, day),
            self.contract.column_names,
            format_lines([fields[c] for c in self.contract.column_names], n),
        )
        self.rows += n
        self.files += 1

    def summaries(self) -> list[DatasetSummary]:
        folder = self.contract.landing_dir(self.ctx.landing_dir)
        return [DatasetSummary(VICTIMS_CODE, folder, self.files, self.rows)]
