"""Which datasets each source family delivers: the nightly DAG builds a task group per family.

Constants only (the DAG file imports this at parse time). Each dataset has a contract in
contracts/<dataset>.yml and a suite in expectations/expectations/<dataset>.json; each family's dbt
models carry the dbt tag ``source_<family>`` so the family's marts are rebuilt only after its own
extract succeeded.
"""

from __future__ import annotations

SOURCES: dict[str, tuple[str, ...]] = {
    "force": (
        "force_crimes",
        "force_outcomes",
        "force_marac_cases",
        "force_protective_orders",
        "force_victims_code",
    ),
    "services": ("services_quarterly_returns",),
    "cps": ("cps_quarterly_outcomes",),
    "funding": ("funding_grants",),
    "public": (
        "public_policeuk_street_crimes",
        "public_policeuk_outcomes",
        "public_home_office_recorded_crime",
        "public_ons_mid_year_estimates",
        "public_nomis_population_estimates",
    ),
}

# Datasets whose dbt models are shared (tag ``shared``: the population dimension every family's
# marts divide by): a publication of theirs has the shared group rebuilt, and with it the families.
SHARED_DATASETS: tuple[str, ...] = (
    "public_ons_mid_year_estimates",
    "public_nomis_population_estimates",
)

# The families that deliver those datasets: the shared group waits for their extracts (whatever
# their outcome), so a new estimate is in the population dimension the night it is published.
SHARED_FAMILIES: tuple[str, ...] = tuple(
    family for family, datasets in SOURCES.items() if set(datasets) & set(SHARED_DATASETS)
)
