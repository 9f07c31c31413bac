"""The parameters of the synthetic data: every proportion, mix and delay in one place.

These are ASSUMPTIONS for synthetic data, chosen to be of the right order for Lancashire
(docs: docs/measures.md), a force of ``reference_population`` people; another home force's
volumes are these times its population over that (seed population_mid_year: the sum of its local
authorities' latest estimates): about 2,000 domestic-abuse-flagged crimes a month, rape on the order
of 150 a month, a few hundred other sexual offences, several hundred stalking and harassment
crimes; low charge rates (DA about 11%, rape about 5%); outcome 16 the largest for DA; outcomes
weeks to months after recording (rape median about 100 days). None of it is an official figure.

Codes are keys into the reference seeds (checked when a generator starts: a key that is not in
its seed is an error). Codes a mix does not list share ``unlisted_code_weight`` inside their
Home Office subgroup, so a code added to the seed appears in the data without editing this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class VictimRule:
    """What an offence code says about its victim (e.g. 19C: female, 16 or over)."""

    sex: str | None = None  # "F" or "M"; None = any
    min_age: int = 0
    max_age: int | None = None  # inclusive; None = no upper limit

    @property
    def is_restrictive(self) -> bool:
        return self.sex is not None or self.min_age > 0 or self.max_age is not None


@dataclass(frozen=True)
class OutcomeProfile:
    """How crimes of one group are finalised."""

    final_weights: Mapping[str, float]  # outcome code -> weight, when a suspect is identified
    median_days: float  # median days from recording to the final outcome
    sigma: float  # log-normal spread of that delay
    interim_open_share: float  # share of crimes that first get an explicit outcome 0 event
    delay_factors: Mapping[str, float] = field(default_factory=dict)  # per final code


@dataclass(frozen=True)
class Revision:
    """A final outcome that is sometimes changed later (e.g. 15 then 1 when evidence turns up)."""

    share: float
    to_weights: Mapping[str, float]
    median_days: float  # after the outcome it revises
    sigma: float = 0.8


# Victim groups (age and sex mixes) and outcome groups. A crime's victim group is "da" when it is
# DA-flagged, otherwise it follows seed reporting_category_rules (rape; other sexual offences); its
# outcome group is "rape" for any rape, otherwise the same.
GROUPS = ("da", "rape", "other_sexual", "stalking_harassment")


@dataclass(frozen=True)
class SampleProfile:
    # ---- volumes: crimes a month across the county, by HO subgroup (seed offence_subgroup)
    da_monthly_by_subgroup: Mapping[str, float]
    non_da_monthly_by_subgroup: Mapping[str, float]
    # ---- offence mix inside a subgroup: code -> relative weight (unlisted codes: see above).
    # DA-flagged crimes never take a code whose victim rule has an upper age (the DA Act applies
    # to people aged 16 and over).
    da_code_weights: Mapping[str, float]
    non_da_code_weights: Mapping[str, float]
    unlisted_code_weight: float
    victim_rules: Mapping[str, VictimRule]
    # ---- calendar: Monday..Sunday and January..December multipliers of the daily rate
    weekday_factors: tuple[float, ...]
    month_factors: tuple[float, ...]
    # ---- place: volume proportional to population, times an uplift per LA code
    la_uplift: Mapping[str, float]  # LAs of another force than the home force are ignored
    home_la_share: float  # share of a victim's crimes recorded in their home LA
    # ---- victims
    female_share: Mapping[str, float]  # per victim group, when the offence code does not fix sex
    age_mix: Mapping[str, Mapping[str, float]]  # per victim group: age band -> weight
    unknown_sex_share: float  # recorded as U (only for codes that do not fix sex)
    unknown_age_share: float  # recorded as "Unknown" (only for codes without an age rule)
    repeat_share: Mapping[str, float]  # "da" / "other": share of crimes against a recent victim
    repeat_window_days: int  # how far back a repeat victim's previous crime can be
    # ---- suspects
    suspect_identified: Mapping[str, float]  # per outcome group
    same_suspect_share: float  # a repeat DA victim's crime by the same suspect as before
    serial_suspect_share: float  # a new victim's suspect already known from another DA crime
    # ---- offence date
    offence_date_unknown_share: float
    offence_same_day_share: float
    offence_lag_median_days: float
    offence_lag_sigma: float
    offence_lag_median_by_code: Mapping[str, float]  # courses of conduct start long before
    historic_share: Mapping[str, float]  # per victim group: offence years before recording
    historic_years: tuple[int, int]
    # ---- outcomes
    outcomes: Mapping[str, OutcomeProfile]  # per outcome group
    no_suspect_outcome_weights: Mapping[str, float]
    revisions: Mapping[str, Revision]  # final outcome code -> how it is sometimes changed
    interim_max_days: int  # an outcome 0 event comes 0..this many days after recording
    # ---- crime references: the force's counter is shared with all other crime, so the VAWG
    # extract sees gaps of 1..reference_gap_max (reduced automatically at very high volumes)
    reference_gap_max: int
    # ---- size: the volumes above are for a force of this many people (Lancashire, mid-2021:
    # seed population_mid_year); a home force's realistic volume is scaled by its population
    reference_population: float = 1_531_911

    @property
    def crimes_per_month(self) -> float:
        return sum(self.da_monthly_by_subgroup.values()) + sum(
            self.non_da_monthly_by_subgroup.values()
        )

    @property
    def da_share(self) -> float:
        return sum(self.da_monthly_by_subgroup.values()) / self.crimes_per_month


# fmt: off
DEFAULT_PROFILE = SampleProfile(
    # ~2,000 DA-flagged + ~1,100 other VAWG crimes = ~3,100 rows a month.
    da_monthly_by_subgroup=_frozen({
        "Violence without injury": 780,
        "Violence with injury": 470,
        "Stalking and harassment": 650,
        "Rape": 60,
        "Other sexual offences": 40,
    }),
    non_da_monthly_by_subgroup=_frozen({
        "Rape": 95,
        "Other sexual offences": 300,
        "Stalking and harassment": 700,
    }),
    da_code_weights=_frozen({
        "105A": 96, "3B": 4,
        "8N": 99, "8K": 0.5,
        "8U": 190, "8L": 200, "8Q": 150, "8R": 100, "8M": 5,
        "19C": 92, "19F": 4,
        "20A": 60, "22A": 15, "88E": 10, "17A": 4, "88C": 2,
    }),
    non_da_code_weights=_frozen({
        "19C": 58, "19D": 12, "19E": 7, "19F": 5, "19G": 4, "19H": 3,
        "20A": 150, "20B": 25, "17A": 12, "17B": 6, "21": 12, "22A": 6, "22B": 20, "23": 3,
        "71": 6, "73": 4, "88A": 6, "88C": 3, "88E": 40,
        "8L": 270, "8Q": 140, "8R": 220, "8M": 70,
        "8U": 0,  # controlling or coercive behaviour is domestic abuse by definition
    }),
    unlisted_code_weight=1.0,
    victim_rules=_frozen({
        "19C": VictimRule("F", 16), "19D": VictimRule("F", 13, 15), "19E": VictimRule("F", 3, 12),
        "19F": VictimRule("M", 16), "19G": VictimRule("M", 13, 15), "19H": VictimRule("M", 3, 12),
        "17A": VictimRule("M", 13), "17B": VictimRule("M", 3, 12),
        "20A": VictimRule("F", 13), "20B": VictimRule("F", 3, 12),
        "21": VictimRule(None, 3, 12), "22B": VictimRule(None, 13, 15),
        "71": VictimRule(None, 10, 17), "73": VictimRule(None, 13, 17),
        "88A": VictimRule(None, 10, 15), "70": VictimRule(None, 16), "72": VictimRule(None, 16),
    }),
    weekday_factors=(1.08, 1.00, 0.98, 0.97, 0.98, 0.97, 1.02),
    month_factors=(1.02, 0.92, 0.97, 0.97, 1.02, 1.04, 1.07, 1.05, 1.00, 0.99, 0.96, 1.00),
    la_uplift=_frozen({
        "E06000009": 1.45,  # Blackpool
        "E06000008": 1.15,  # Blackburn with Darwen
        "E07000117": 1.30,  # Burnley
        "E07000123": 1.20,  # Preston
        "E07000124": 0.65,  # Ribble Valley
    }),
    home_la_share=0.9,
    female_share=_frozen({
        "da": 0.74, "rape": 0.88, "other_sexual": 0.82, "stalking_harassment": 0.66,
    }),
    age_mix=_frozen({
        "da": _frozen({"16-17": 2, "18-24": 16, "25-34": 32, "35-44": 25,
                       "45-54": 15, "55-64": 6, "65+": 4}),
        "rape": _frozen({"0-15": 35, "16-17": 9, "18-24": 22, "25-34": 16, "35-44": 10,
                         "45-54": 5, "55-64": 2, "65+": 1}),
        "other_sexual": _frozen({"0-15": 38, "16-17": 8, "18-24": 20, "25-34": 13,
                                 "35-44": 9, "45-54": 6, "55-64": 3.5, "65+": 2.5}),
        "stalking_harassment": _frozen({"0-15": 6, "16-17": 4, "18-24": 17, "25-34": 24,
                                        "35-44": 20, "45-54": 15, "55-64": 9, "65+": 5}),
    }),
    unknown_sex_share=0.004,
    unknown_age_share=0.012,
    repeat_share=_frozen({"da": 0.33, "other": 0.06}),
    repeat_window_days=365,
    suspect_identified=_frozen({
        "da": 0.96, "rape": 0.82, "other_sexual": 0.65, "stalking_harassment": 0.80,
    }),
    same_suspect_share=0.85,
    serial_suspect_share=0.06,
    offence_date_unknown_share=0.02,
    offence_same_day_share=0.45,
    offence_lag_median_days=2.0,
    offence_lag_sigma=1.2,
    offence_lag_median_by_code=_frozen({"8U": 120, "8Q": 45, "8L": 21, "8R": 5}),
    historic_share=_frozen({
        "da": 0.01, "rape": 0.25, "other_sexual": 0.15, "stalking_harassment": 0.0,
    }),
    historic_years=(1, 30),
    outcomes=_frozen({
        "da": OutcomeProfile(
            final_weights=_frozen({
                "1": 10.5, "1A": 0.3, "2": 0.1, "3": 1.8, "5": 0.1, "8": 1.2, "9": 0.4,
                "10": 1.5, "11": 0.1, "12": 0.1, "13": 0.2, "15": 18, "16": 58, "17": 1.2,
                "20": 1.5, "21": 3.5, "22": 0.4,
            }),
            median_days=30, sigma=1.0, interim_open_share=0.2,
            delay_factors=_frozen({"1": 0.4, "16": 0.8, "15": 1.6}),
        ),
        "rape": OutcomeProfile(
            final_weights=_frozen({
                "1": 6, "1A": 0.3, "3": 0.2, "5": 0.2, "9": 0.5, "10": 1.0, "11": 1.2,
                "12": 0.3, "13": 0.5, "15": 32, "16": 42, "17": 0.1, "20": 2.5, "21": 5,
                "22": 0.2,
            }),
            median_days=100, sigma=0.9, interim_open_share=0.4,
            delay_factors=_frozen({"1": 1.8, "16": 0.8}),
        ),
        "other_sexual": OutcomeProfile(
            final_weights=_frozen({
                "1": 11, "1A": 0.3, "2": 1.0, "3": 2.0, "5": 0.1, "8": 1.5, "9": 0.6,
                "10": 2.5, "11": 4.0, "12": 0.3, "13": 0.4, "15": 25, "16": 33, "17": 0.3,
                "20": 2.0, "21": 5, "22": 1.5,
            }),
            median_days=70, sigma=1.0, interim_open_share=0.3,
            delay_factors=_frozen({"1": 1.5}),
        ),
        "stalking_harassment": OutcomeProfile(
            final_weights=_frozen({
                "1": 9, "1A": 0.3, "2": 0.3, "3": 2.5, "4": 0.1, "6": 0.1, "8": 4.5, "9": 0.3,
                "10": 3.0, "11": 0.3, "12": 0.1, "13": 0.2, "15": 20, "16": 45, "17": 2.0,
                "20": 2.5, "21": 4, "22": 1.0,
            }),
            median_days=40, sigma=1.0, interim_open_share=0.2,
        ),
    }),
    no_suspect_outcome_weights=_frozen({"14": 25, "18": 65, "20": 2, "21": 6, "10": 2}),
    revisions=_frozen({
        "15": Revision(0.07, _frozen({"1": 1.0}), median_days=90),
        "1": Revision(0.05, _frozen({"1A": 1.0}), median_days=30),
        "18": Revision(0.03, _frozen({"1": 0.4, "16": 0.6}), median_days=120),
        "16": Revision(0.015, _frozen({"1": 1.0}), median_days=150),
    }),
    interim_max_days=14,
    reference_gap_max=6,
)
# fmt: on
