"""The force's extracts: recorded crimes and their outcome events, one file of each per day.

For each day, in one vectorised pass (numpy), the generator draws the day's crimes: offence code
(DA-flagged or not), the victim (a recent victim again, or a new person), the victim's age and
sex as the code requires, the offence date (sometimes unknown, sometimes years earlier for sexual
offences), the local authority, the suspect, and the crime's whole outcome history: an optional
outcome 0 event, the final outcome after a log-normal delay, and sometimes a later revision.
Outcome events are kept in ``PendingOutcomes`` until the day they were assigned, then written to
that day's outcomes file; events after the run's end are never kept (the crime is still open).
Memory holds one day's crimes, the rings of recent victims and the pending outcome events only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import ceil

import numpy as np

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.continuation import last_sequences
from vawg_devtools.sample.output import (
    DateStrings,
    extracted_at,
    format_lines,
    landing_file,
    plain_labels,
    write_lines,
)
from vawg_devtools.sample.profile import GROUPS
from vawg_devtools.sample.sampling import TableSampler
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import read_seed

CRIMES = "force_crimes"
OUTCOMES = "force_outcomes"
REFERENCE_PREFIX = "LC"
SEQUENCE_MAX = 9_999_999  # LC-<year>-<7 digits>
SEQUENCE_BASE = 10_000_000  # a crime's key: year * SEQUENCE_BASE + sequence
MAX_AGE_INDEX = 130
MAX_DELAY_DAYS = 20 * 366
RING_CAPACITY_MAX = 500_000  # per ring: bounds memory at very high volumes
DA, RAPE, OTHER_SEXUAL, STALKING_HARASSMENT = range(len(GROUPS))  # the order of GROUPS
NO_SUSPECT = len(GROUPS)  # outcome-sampler row for crimes without an identified suspect
FEMALE, MALE = 0, 1  # internal sex index (the recorded value may also be U)
KINDS = ("da", "other")  # rings of recent victims: DA-flagged crimes, other crimes


def reference_key(year: int | np.ndarray, sequence: int | np.ndarray):
    return year * SEQUENCE_BASE + sequence


def format_references(keys: np.ndarray) -> list[str]:
    """Crime keys (year * 10**7 + sequence) as ``LC-<year>-<7 digits>``."""
    years, sequences = np.divmod(np.asarray(keys, dtype=np.int64), SEQUENCE_BASE)
    return [
        f"{REFERENCE_PREFIX}-{y}-{s:07d}"
        for y, s in zip(years.tolist(), sequences.tolist(), strict=True)
    ]


@dataclass
class CrimeBatch:
    """One day's crimes as arrays (one element per crime), for writing and for other generators.

    Indices point into the run's ``ReferenceData`` (offence_codes, la_codes, sexes, age_bands,
    outcome_codes); people are ``PersonPool`` indices (-1: none); dates are ordinals (-1: unknown).
    """

    day: date
    key: np.ndarray  # year * 10**7 + sequence; see format_references
    offence: np.ndarray
    is_da: np.ndarray
    local_authority: np.ndarray
    victim: np.ndarray
    victim_sex: np.ndarray  # as recorded (index into sexes; U possible)
    victim_birth: np.ndarray
    victim_age_band: np.ndarray
    is_repeat_victim: np.ndarray  # the victim was drawn from a ring of recent victims
    suspect: np.ndarray
    offence_date: np.ndarray
    final_outcome: np.ndarray  # the outcome the crime will get (may lie after the run's end)
    final_outcome_date: np.ndarray

    def __len__(self) -> int:
        return len(self.key)

    def references(self) -> list[str]:
        return format_references(self.key)


class PendingOutcomes:
    """Outcome events waiting for the day they were assigned.

    Each day's new events are one run sorted by date; ``pop(day)`` takes every run's prefix for
    that day. When there are more than ``max_runs`` runs they are merged into one, dropping what
    was already taken, so memory is the pending events (plus at most ``max_runs`` days' worth).
    """

    FIELDS = ("date", "key", "seq", "code")

    def __init__(self, max_runs: int = 64):
        self.max_runs = max_runs
        self._runs: list[list] = []  # [dates, keys, seqs, codes, cursor]

    def __len__(self) -> int:
        return sum(len(r[0]) - r[4] for r in self._runs)

    def push(
        self, dates: np.ndarray, keys: np.ndarray, seqs: np.ndarray, codes: np.ndarray
    ) -> None:
        if len(dates) == 0:
            return
        order = np.argsort(dates, kind="stable")
        self._runs.append([dates[order], keys[order], seqs[order], codes[order], 0])
        if len(self._runs) > self.max_runs:
            self._merge()

    def _merge(self) -> None:
        parts = [[r[i][r[4] :] for r in self._runs] for i in range(4)]
        dates = np.concatenate(parts[0])
        order = np.argsort(dates, kind="stable")
        self._runs = [[dates[order]] + [np.concatenate(p)[order] for p in parts[1:]] + [0]]

    def pop(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, seqs, codes) of the events dated ``day``, sorted by crime then sequence."""
        taken: list[tuple[np.ndarray, ...]] = []
        for run in self._runs:
            dates, start = run[0], run[4]
            if start < len(dates) and dates[start] < day:
                raise RuntimeError("an outcome event was left behind before its day")
            stop = start + int(np.searchsorted(dates[start:], day, side="right"))
            if stop > start:
                taken.append((run[1][start:stop], run[2][start:stop], run[3][start:stop]))
                run[4] = stop
        self._runs = [r for r in self._runs if r[4] < len(r[0])]
        if not taken:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        keys, seqs, codes = (np.concatenate([t[i] for t in taken]) for i in range(3))
        order = np.lexsort((seqs, keys))
        return keys[order], seqs[order], codes[order]


class ForceGenerator:
    """Draws the force's crimes and outcome events day by day (no files: see ``ForceSource``)."""

    def __init__(self, ctx: SampleContext, daily_counts: np.ndarray):
        self.ctx = ctx
        self.rng = ctx.rng("force")
        self.counts = np.asarray(daily_counts, dtype=np.int64)
        if len(self.counts) != ctx.days:
            raise ValueError("daily_counts must have one entry per day from start to end")
        self.end = ctx.end.toordinal()
        self._build_tables()
        self._plan_references()
        self._build_rings()
        self.pending = PendingOutcomes()

    # ------------------------------------------------------------------ set-up
    def _build_tables(self) -> None:
        ref, p = self.ctx.reference, self.ctx.profile
        nc = self.n_codes = len(ref.offence_codes)
        for mapping, what in (
            (p.da_code_weights, "da_code_weights"),
            (p.non_da_code_weights, "non_da_code_weights"),
            (p.victim_rules, "victim_rules"),
            (p.offence_lag_median_by_code, "offence_lag_median_by_code"),
        ):
            unknown = sorted(set(mapping) - set(ref.offence_codes))
            if unknown:
                raise KeyError(f"profile.{what}: {unknown} not in seed ho_offence_codes")
        # an uplift must name an authority of seed local_authorities (any force's: those of
        # other forces than the home force are not drawn)
        known = {r["local_authority_code"] for r in read_seed("local_authorities")}
        unknown_las = sorted(set(p.la_uplift) - known)
        if unknown_las:
            raise KeyError(f"profile.la_uplift: {unknown_las} not in seed local_authorities")
        subgroups = set(ref.offence_subgroups)
        for mapping in (p.da_monthly_by_subgroup, p.non_da_monthly_by_subgroup):
            unknown_subgroups = set(mapping) - subgroups
            if unknown_subgroups:
                raise KeyError(
                    f"subgroups {sorted(unknown_subgroups)} are not in seed ho_offence_codes"
                )

        # victim rules per code
        self.rule_sex = np.full(nc, -1, dtype=np.int8)
        self.rule_min = np.zeros(nc, dtype=np.int16)
        self.rule_max = np.full(nc, MAX_AGE_INDEX, dtype=np.int16)
        for code, rule in p.victim_rules.items():
            i = ref.offence_index(code)
            self.rule_sex[i] = {None: -1, "F": FEMALE, "M": MALE}[rule.sex]
            self.rule_min[i] = rule.min_age
            self.rule_max[i] = MAX_AGE_INDEX if rule.max_age is None else rule.max_age
        self.has_sex_rule = self.rule_sex >= 0
        self.has_age_rule = (self.rule_min > 0) | (self.rule_max < MAX_AGE_INDEX)
        self.restrictive = self.has_sex_rule | self.has_age_rule

        # offence mix: monthly volume per subgroup, shared inside it by code weight
        def mix(volumes, weights, da: bool) -> np.ndarray:
            out = np.zeros(nc)
            for subgroup, volume in volumes.items():
                members = [i for i, s in enumerate(ref.offence_subgroups) if s == subgroup]
                w = np.array(
                    [weights.get(ref.offence_codes[i], p.unlisted_code_weight) for i in members],
                    dtype=float,
                )
                if da:  # the DA flag needs a victim of 16 or over
                    w[self.rule_max[members] < MAX_AGE_INDEX] = 0
                if w.sum() <= 0:
                    raise ValueError(f"no offence code can carry the volume of {subgroup!r}")
                out[members] += volume * w / w.sum()
            return out

        self.monthly_da = mix(p.da_monthly_by_subgroup, p.da_code_weights, da=True)
        self.monthly_other = mix(p.non_da_monthly_by_subgroup, p.non_da_code_weights, da=False)
        self.p_da = self.monthly_da / self.monthly_da.sum()
        self.p_other = self.monthly_other / self.monthly_other.sum()
        self.da_share = self.monthly_da.sum() / (self.monthly_da.sum() + self.monthly_other.sum())

        # groups per code (when not DA-flagged)
        self.code_group = np.where(
            ref.is_rape, RAPE, np.where(ref.is_other_sexual, OTHER_SEXUAL, STALKING_HARASSMENT)
        ).astype(np.int8)

        # victim sex: rows group * nc + code, plus one row per group (no code) at the end
        ng = len(GROUPS)
        sex_w = np.zeros((ng * nc + ng, 2))
        age_w = np.zeros((ng * nc + ng, MAX_AGE_INDEX + 1))
        ages = np.arange(MAX_AGE_INDEX + 1)
        for g, group in enumerate(GROUPS):
            f = p.female_share[group]
            band_w = np.zeros(MAX_AGE_INDEX + 1)
            for band, weight in p.age_mix[group].items():
                if band not in ref.known_age_bands:
                    raise KeyError(f"age band {band!r} is not allowed by the force_crimes contract")
                low, high = ref.age_band_ranges[ref.known_age_bands.index(band)]
                band_w[low : high + 1] += weight / (high - low + 1)
            sex_w[ng * nc + g] = (f, 1 - f)
            age_w[ng * nc + g] = band_w
            for c in range(nc):
                row = g * nc + c
                s = self.rule_sex[c]
                sex_w[row] = (f, 1 - f) if s < 0 else ((1, 0) if s == FEMALE else (0, 1))
                inside = (ages >= self.rule_min[c]) & (ages <= self.rule_max[c])
                inside &= ages <= ref.age_band_ranges[-1][1]
                w = band_w * inside
                age_w[row] = w if w.sum() > 0 else inside.astype(float)
        self.sex_sampler = TableSampler(sex_w)
        self.age_sampler = TableSampler(age_w)
        self.age_to_band = ref.age_to_band()
        self.unknown_band = ref.age_bands.index("Unknown") if "Unknown" in ref.age_bands else -1
        self.sex_index = np.array([ref.sexes.index("F"), ref.sexes.index("M")], dtype=np.int8)
        self.unknown_sex = ref.sexes.index("U") if "U" in ref.sexes else -1

        # local authorities: population times uplift
        uplift = np.array([p.la_uplift.get(c, 1.0) for c in ref.la_codes])
        la_w = ref.la_population * uplift
        self.p_la = la_w / la_w.sum()

        # offence dates
        self.lag_median = np.full(nc, p.offence_lag_median_days)
        for code, days in p.offence_lag_median_by_code.items():
            self.lag_median[ref.offence_index(code)] = days
        self.historic_share = np.array([p.historic_share[g] for g in GROUPS])

        # outcomes
        no = len(ref.outcome_codes)
        self.open_outcome = ref.outcome_index(ref.open_outcome_code)
        out_w = np.zeros((ng + 1, no))
        self.delay_median = np.zeros((ng, no))
        self.delay_sigma = np.zeros(ng)
        self.interim_share = np.zeros(ng)
        for g, group in enumerate(GROUPS):
            op = p.outcomes[group]
            for code, weight in op.final_weights.items():
                out_w[g, ref.outcome_index(code)] = weight
            self.delay_median[g] = op.median_days
            for code, factor in op.delay_factors.items():
                self.delay_median[g, ref.outcome_index(code)] *= factor
            self.delay_sigma[g] = op.sigma
            self.interim_share[g] = op.interim_open_share
        for code, weight in p.no_suspect_outcome_weights.items():
            out_w[NO_SUSPECT, ref.outcome_index(code)] = weight
        if out_w[:, self.open_outcome].any():
            raise ValueError("the open outcome cannot be a final outcome")
        self.outcome_sampler = TableSampler(out_w)
        self.suspect_identified = np.array([p.suspect_identified[g] for g in GROUPS])
        self.revision_share = np.zeros(no)
        self.revision_median = np.ones(no)
        self.revision_sigma = np.ones(no)
        rev_w = np.zeros((no, no))
        for code, rev in p.revisions.items():
            i = ref.outcome_index(code)
            self.revision_share[i] = rev.share
            self.revision_median[i] = rev.median_days
            self.revision_sigma[i] = rev.sigma
            for to, weight in rev.to_weights.items():
                rev_w[i, ref.outcome_index(to)] = weight
        self.revision_sampler = TableSampler(rev_w)

    def _plan_references(self) -> None:
        """Per calendar year, the largest gap that keeps every sequence within 7 digits."""
        years = np.array([d.year for _, d in self.ctx.each_day()])
        self.gap_max: dict[int, int] = {}
        self.last_sequence: dict[int, int] = {}
        # Numbering continues after the crimes already in landing (continuation.py).
        existing = last_sequences(
            load_contract(CRIMES).landing_dir(self.ctx.landing_dir),
            REFERENCE_PREFIX,
            7,
            before=self.ctx.start,
        )
        for year in np.unique(years).tolist():
            total = int(self.counts[years == year].sum())
            room = SEQUENCE_MAX - existing.get(year, 0)
            if total > room:
                raise ValueError(
                    f"{total:,} crimes recorded in {year} cannot be numbered "
                    f"{REFERENCE_PREFIX}-{year}-<7 digits> ({room:,} numbers left): "
                    "spread the rows over a longer date range"
                )
            self.gap_max[year] = max(
                1, min(self.ctx.profile.reference_gap_max, room // max(total, 1))
            )
            self.last_sequence[year] = existing.get(year, 0)

    def _build_rings(self) -> None:
        """Rings of recent victims (by kind and sex), pre-filled with last year's victims.

        Their capacity is about ``repeat_window_days`` of that kind's expected victims, so a
        repeat victim's previous crime is within the window. Pre-filling means the first days of
        a run already have repeat victims, as a real extract would.
        """
        p, people = self.ctx.profile, self.ctx.people
        rng = self.ctx.rng("force-history")
        expected_daily = float(self.counts.mean()) if len(self.counts) else 0.0
        kind_daily = {
            "da": expected_daily * self.da_share,
            "other": expected_daily * (1 - self.da_share),
        }
        start = self.ctx.start.toordinal()
        ng, nc = len(GROUPS), self.n_codes
        self.rings = {}
        for kind in KINDS:
            group = DA if kind == "da" else STALKING_HARASSMENT
            f = p.female_share[GROUPS[group]]
            for sex, share in ((FEMALE, f), (MALE, 1 - f)):
                cap = int(
                    min(
                        RING_CAPACITY_MAX,
                        max(16, ceil(kind_daily[kind] * share * p.repeat_window_days)),
                    )
                )
                ring = people.ring(f"force:{kind}:{'FM'[sex]}", cap)
                victims = people.allocate(cap)
                day = start - rng.integers(1, p.repeat_window_days + 1, size=cap)
                age = self.age_sampler.sample(rng, np.full(cap, ng * nc + group))
                birth = day - (age * 365.25).astype(np.int64) - rng.integers(0, 365, size=cap)
                home = rng.choice(len(self.p_la), size=cap, p=self.p_la)
                has = rng.random(cap) < p.suspect_identified[GROUPS[group]]
                suspects = np.full(cap, -1, dtype=np.int64)
                suspects[has] = people.allocate(int(has.sum()))
                ring.add(victims, suspects, birth, home, day)
                self.rings[kind, sex] = ring

    # ------------------------------------------------------------------ one day
    def day(self, i: int, day: date) -> CrimeBatch:
        """Draw day ``i``'s crimes and schedule their outcome events."""
        rng, p, people = self.rng, self.ctx.profile, self.ctx.people
        n = int(self.counts[i])
        rec = day.toordinal()
        nc = self.n_codes

        n_da = int(rng.binomial(n, self.da_share)) if n else 0
        code = np.concatenate(
            [
                rng.choice(nc, size=n_da, p=self.p_da),
                rng.choice(nc, size=n - n_da, p=self.p_other),
            ]
        ).astype(np.int64)
        da = np.arange(n) < n_da
        vgroup = np.where(da, DA, self.code_group[code])
        ogroup = np.where(self.ctx.reference.is_rape[code], RAPE, vgroup)
        sex = self.sex_sampler.sample(rng, vgroup * nc + code)

        # victims: a recent victim again, or a new person
        kind = np.where(da, 0, 1)
        repeat_share = np.array([p.repeat_share[k] for k in KINDS])
        repeat = (da | ~self.restrictive[code]) & (rng.random(n) < repeat_share[kind])
        victim = np.full(n, -1, dtype=np.int64)
        birth = np.zeros(n, dtype=np.int64)
        home = np.zeros(n, dtype=np.int64)
        previous_suspect = np.full(n, -1, dtype=np.int64)
        for k, kind_name in enumerate(KINDS):
            for s in (FEMALE, MALE):
                rows = np.flatnonzero(repeat & (kind == k) & (sex == s))
                if rows.size == 0:
                    continue
                ring = self.rings[kind_name, s]
                if len(ring) == 0:
                    repeat[rows] = False
                    continue
                at = ring.sample(rng, rows.size)
                victim[rows] = ring.victim[at]
                birth[rows] = ring.birth[at]
                home[rows] = ring.home_la[at]
                previous_suspect[rows] = ring.suspect[at]
        new = np.flatnonzero(~repeat)

        # offence date: same day, days or weeks before, or (sexual offences) years before
        lag = np.floor(rng.lognormal(np.log(self.lag_median[code]), p.offence_lag_sigma, n))
        lag = np.where(rng.random(n) < p.offence_same_day_share, 0, np.minimum(lag, 730))
        low, high = p.historic_years
        historic = rng.random(n) < self.historic_share[vgroup]
        lag = np.where(historic, (rng.uniform(low, high, n) * 365.25), lag).astype(np.int64)

        # new victims: age at the offence as the code and group require, birth date from it
        age_at_offence = self.age_sampler.sample(rng, (vgroup * nc + code)[new])
        birth[new] = (
            rec
            - lag[new]
            - (age_at_offence * 365.25).astype(np.int64)
            - rng.integers(0, 365, size=new.size)
        )
        home[new] = rng.choice(len(self.p_la), size=new.size, p=self.p_la)
        victim[new] = people.allocate(new.size)
        # repeat victims: the offence cannot precede their birth (nor their 16th birthday for DA)
        old = np.flatnonzero(repeat)
        floor_days = np.where(da[old], int(16 * 365.25) + 1, 0)
        lag[old] = np.clip(lag[old], 0, np.maximum(rec - birth[old] - floor_days, 0))
        offence_date = np.where(rng.random(n) < p.offence_date_unknown_share, -1, rec - lag)

        # what the record says about the victim
        age_years = np.clip((rec - birth) // 365.25, 0, len(self.age_to_band) - 1).astype(int)
        band = self.age_to_band[age_years].astype(np.int8)
        if self.unknown_band >= 0:
            unknown = ~self.has_age_rule[code] & (rng.random(n) < p.unknown_age_share)
            band[unknown] = self.unknown_band
        recorded_sex = self.sex_index[sex]
        if self.unknown_sex >= 0:
            unknown = ~self.has_sex_rule[code] & (rng.random(n) < p.unknown_sex_share)
            recorded_sex[unknown] = self.unknown_sex
        away = rng.random(n) >= p.home_la_share
        la = np.where(away, rng.choice(len(self.p_la), size=n, p=self.p_la), home)

        # suspects: the same as last time, a known DA perpetrator, a new person, or none
        suspect = np.full(n, -1, dtype=np.int64)
        same = repeat & (previous_suspect >= 0) & (rng.random(n) < p.same_suspect_share)
        suspect[same] = previous_suspect[same]
        need = ~same & (rng.random(n) < self.suspect_identified[ogroup])
        serial = np.flatnonzero(need & da & (rng.random(n) < p.serial_suspect_share))
        for s in (FEMALE, MALE):
            rows = serial[sex[serial] == s]
            ring = self.rings["da", s]
            if rows.size and len(ring):
                suspect[rows] = ring.suspect[ring.sample(rng, rows.size)]
        fresh = np.flatnonzero(need & (suspect < 0))
        suspect[fresh] = people.allocate(fresh.size)

        # remember this day's victims for repeats
        eligible = da | ~self.restrictive[code]
        for k, kind_name in enumerate(KINDS):
            for s in (FEMALE, MALE):
                rows = np.flatnonzero(eligible & (kind == k) & (sex == s))
                self.rings[kind_name, s].add(
                    victim[rows], suspect[rows], birth[rows], home[rows], rec
                )

        # shuffle DA and other crimes together, then number them
        order = rng.permutation(n)
        code, da, la = code[order], da[order], la[order]
        victim, birth, suspect = victim[order], birth[order], suspect[order]
        recorded_sex, band, offence_date, ogroup, repeat = (
            a[order] for a in (recorded_sex, band, offence_date, ogroup, repeat)
        )
        year = day.year
        gaps = rng.integers(1, self.gap_max[year] + 1, size=n)
        sequence = self.last_sequence[year] + np.cumsum(gaps)
        if n:
            self.last_sequence[year] = int(sequence[-1])
        key = reference_key(year, sequence.astype(np.int64))

        final, final_date = self._schedule_outcomes(key, rec, ogroup, suspect >= 0)
        return CrimeBatch(
            day=day, key=key, offence=code, is_da=da, local_authority=la, victim=victim,
            victim_sex=recorded_sex, victim_birth=birth, victim_age_band=band,
            is_repeat_victim=repeat, suspect=suspect, offence_date=offence_date,
            final_outcome=final, final_outcome_date=final_date,
        )  # fmt: skip

    def _schedule_outcomes(
        self, key: np.ndarray, rec: int, ogroup: np.ndarray, has_suspect: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw each crime's outcome history; keep the events on or before the end date."""
        rng, p = self.rng, self.ctx.profile
        n = len(key)
        final = self.outcome_sampler.sample(rng, np.where(has_suspect, ogroup, NO_SUSPECT))
        median = self.delay_median[ogroup, final]
        d_final = np.floor(rng.lognormal(np.log(median), self.delay_sigma[ogroup]))
        interim = rng.random(n) < self.interim_share[ogroup]
        d_interim = rng.integers(0, p.interim_max_days + 1, size=n)
        d_final = np.minimum(
            np.where(interim, np.maximum(d_final, d_interim + 1), d_final), MAX_DELAY_DAYS
        ).astype(np.int64)
        revise = rng.random(n) < self.revision_share[final]
        revised = self.revision_sampler.sample(rng, final)
        d_revision = (
            d_final
            + 1
            + np.floor(
                rng.lognormal(np.log(self.revision_median[final]), self.revision_sigma[final])
            ).astype(np.int64)
        )

        first_seq = 1 + interim.astype(np.int64)
        dates = np.concatenate([rec + d_interim[interim], rec + d_final, rec + d_revision[revise]])
        keys = np.concatenate([key[interim], key, key[revise]])
        seqs = np.concatenate(
            [np.ones(int(interim.sum()), dtype=np.int64), first_seq, first_seq[revise] + 1]
        )
        codes = np.concatenate(
            [np.full(int(interim.sum()), self.open_outcome), final, revised[revise]]
        )
        keep = dates <= self.end
        self.pending.push(
            dates[keep].astype(np.int32),
            keys[keep],
            seqs[keep].astype(np.int16),
            codes[keep].astype(np.int16),
        )
        return final.astype(np.int16), (rec + d_final).astype(np.int64)

    def outcomes_on(self, day: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, seqs, codes) of the outcome events assigned on ``day``."""
        return self.pending.pop(day.toordinal())


class ForceSource:
    """Writes the force's two daily files from a ``ForceGenerator``."""

    def __init__(self, ctx: SampleContext, daily_counts: np.ndarray):
        self.ctx = ctx
        self.generator = ForceGenerator(ctx, daily_counts)
        ref = ctx.reference
        self.crimes = load_contract(CRIMES)
        self.outcomes = load_contract(OUTCOMES)
        oldest = ctx.start.toordinal() - int((ctx.profile.historic_years[1] + 3) * 366)
        self.dates = DateStrings(date.fromordinal(max(1, oldest)), ctx.end)
        self.offence_labels = plain_labels(ref.offence_codes)
        self.la_labels = plain_labels(ref.la_codes)
        self.sex_labels = plain_labels(ref.sexes)
        self.band_labels = plain_labels(ref.age_bands)
        self.outcome_labels = plain_labels(ref.outcome_codes)
        if set(ref.flags) != {"Y", "N"}:
            raise ValueError(f"force_crimes.domestic_abuse_flag allows {ref.flags}, not Y/N")
        self.flag_labels = plain_labels(["N", "Y"])  # indexed by is_da
        self.crime_rows = self.outcome_rows = self.files = 0

    def write_day(self, i: int, day: date) -> CrimeBatch:
        """Draw day ``i`` and write its crimes file and its outcomes file."""
        batch = self.generator.day(i, day)
        self.write_crimes(batch)
        self.write_outcomes(day)
        return batch

    def crime_columns(self, batch: CrimeBatch) -> dict[str, list[str]]:
        """The crimes file's columns as lists of text (slow path; used for hand-edited files)."""
        n = len(batch)
        people = self.ctx.people
        return {
            "crime_reference": batch.references(),
            "recorded_date": [batch.day.isoformat()] * n,
            "offence_date": self.dates(batch.offence_date).tolist(),
            "ho_offence_code": self.offence_labels[batch.offence].tolist(),
            "domestic_abuse_flag": self.flag_labels[batch.is_da.astype(np.int8)].tolist(),
            "local_authority_code": self.la_labels[batch.local_authority].tolist(),
            "victim_id": people.format_ids(batch.victim),
            "victim_age_band": self.band_labels[batch.victim_age_band].tolist(),
            "victim_sex": self.sex_labels[batch.victim_sex].tolist(),
            "suspect_id": people.format_ids(batch.suspect),
            "extracted_at": [extracted_at(batch.day)] * n,
            "record_status": ["active"] * n,
        }

    def write_crimes(self, batch: CrimeBatch) -> None:
        people = self.ctx.people
        day = batch.day
        fields = {
            "crime_reference": (f"{REFERENCE_PREFIX}-{day.year}-%07d",
                                (batch.key % SEQUENCE_BASE).tolist()),
            "recorded_date": day.isoformat(),
            "offence_date": ("%s", self.dates(batch.offence_date).tolist()),
            "ho_offence_code": ("%s", self.offence_labels[batch.offence].tolist()),
            "domestic_abuse_flag": ("%s", self.flag_labels[batch.is_da.astype(np.int8)].tolist()),
            "local_authority_code": ("%s", self.la_labels[batch.local_authority].tolist()),
            "victim_id": ("P%09d", people.id_numbers(batch.victim).tolist()),
            "victim_age_band": ("%s", self.band_labels[batch.victim_age_band].tolist()),
            "victim_sex": ("%s", self.sex_labels[batch.victim_sex].tolist()),
            "suspect_id": ("%s", people.format_ids(batch.suspect)),
            "extracted_at": extracted_at(day),
            "record_status": "active",  # the sample's crimes all stand
        }  # fmt: skip
        if (batch.victim < 0).any():
            raise RuntimeError("a crime without a victim")
        self._write(self.crimes, day, fields, len(batch))
        self.crime_rows += len(batch)

    def write_outcomes(self, day: date) -> None:
        keys, seqs, codes = self.generator.outcomes_on(day)
        years, sequences = np.divmod(keys, SEQUENCE_BASE)
        fields = {
            "crime_reference": (f"{REFERENCE_PREFIX}-%d-%07d", years.tolist(), sequences.tolist()),
            "outcome_sequence": ("%d", seqs.tolist()),
            "outcome_code": ("%s", self.outcome_labels[codes].tolist()),
            "outcome_date": day.isoformat(),
            "extracted_at": extracted_at(day),
        }
        self._write(self.outcomes, day, fields, len(keys))
        self.outcome_rows += len(keys)

    def _write(self, contract, day: date, fields: dict, n: int) -> None:
        missing = set(contract.column_names) ^ set(fields)
        if missing:
            raise RuntimeError(f"{contract.dataset}: columns differ from the contract: {missing}")
        write_lines(
            landing_file(contract, self.ctx.landing_dir, day),
            contract.column_names,
            format_lines([fields[c] for c in contract.column_names], n),
        )

    def summaries(self) -> list[DatasetSummary]:
        days = self.ctx.days
        return [
            DatasetSummary(
                CRIMES, self.crimes.landing_dir(self.ctx.landing_dir), days, self.crime_rows
            ),
            DatasetSummary(
                OUTCOMES, self.outcomes.landing_dir(self.ctx.landing_dir), days, self.outcome_rows
            ),
        ]
