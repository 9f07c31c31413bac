"""Clean rows and one-rule cases of the public open data suites (data.police.uk, Home Office).

Spliced into test_suites.py's lists like cases_cps_funding. The row changed in each case is row
BAD (index 2, file line 4); every change breaks exactly one rule. The clean rows hold the quirks
real files have (an anti-social behaviour row with no Crime ID, "No Location" and "No location"
rows, a repeated Crime ID, 2011 and 2021 LSOA codes, space-padded counts, "-00", a negative
adjustment): none is an error. The row-key rule of the Home Office table is tested in
test_suites_public.py.
"""

from __future__ import annotations

import hashlib

STREET, OUTCOMES = "public_policeuk_street_crimes", "public_policeuk_outcomes"
HOME_OFFICE = "public_home_office_recorded_crime"
MYE = "public_ons_mid_year_estimates"
NOMIS = "public_nomis_population_estimates"
LANCS = "Lancashire Constabulary"


def _hex(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def _located(i: int) -> dict[str, str | None]:
    if i in (1, 4):  # "No Location", and "No location" as some files write it
        return {
            "longitude": None,
            "latitude": None,
            "location": "No Location" if i == 4 else "No location",
            "lsoa_code": None,
            "lsoa_name": None,
        }
    return {
        "longitude": "-2.703185",
        "latitude": "53.762" + str(i),
        "location": "On or near Church Street",
        "lsoa_code": ["E01025305", "E01035001"][i % 2],  # a 2011 and a 2021 code
        "lsoa_name": ["Preston 012B", "Preston 020F", "Wigan 012C"][i % 3],
    }


CLEAN_ROWS: dict[str, list[dict[str, str | None]]] = {
    STREET: [
        {
            "crime_id": None if i == 5 else _hex(min(i, 2)),  # rows 1-2 share an id; 5 is ASB
            "month": "2025-01",
            "reported_by": LANCS,
            "falls_within": LANCS,
            **_located(i),
            "crime_type": "Anti-social behaviour" if i == 5 else "Violence and sexual offences",
            "last_outcome_category": None if i == 5 else "Unable to prosecute suspect",
            "context": None,
        }
        for i in range(1, 6)
    ],
    OUTCOMES: [
        {
            "crime_id": _hex(i),
            "month": "2025-02",
            "reported_by": LANCS,
            "falls_within": LANCS,
            **_located(i),
            "outcome_type": ["Under investigation", "Suspect charged", "Local resolution"][i % 3],
        }
        for i in range(1, 6)
    ],
    HOME_OFFICE: [
        {
            "financial_year": "2023/24",
            "financial_quarter": str(1 + i % 4),
            "force_name": ["Lancashire", "Kent", "British Transport Police"][i % 3],
            "offence_description": "Rape of a female aged 16 and over",
            "offence_group": "Sexual offences",
            "offence_subgroup": "Rape",
            "offence_code": ["19C", "8Q", "105A", "19D", "28A"][i - 1],
            "number_of_offences": ["   12", "-00", "-3", "0", "7"][i - 1],
        }
        for i in range(1, 6)
    ],
    # Long rows of an MYE2 sheet: "All ages", single years, "90+" and "90" as releases head them.
    MYE: [
        {
            "reference_year": "2023",
            "sex": ["persons", "females", "persons", "males", "persons"][i - 1],
            "area_code": ["E06000008", "E06000008", "K04000001", "E07000123", "E07000123"][i - 1],
            "area_name": ["Blackburn with Darwen"] * 2 + ["ENGLAND AND WALES"] + ["Preston"] * 2,
            "geography": [None, "Unitary Authority", "Country", "Non-metropolitan District", ""][
                i - 1
            ]
            or None,
            "age": ["All ages", "0", "All ages", "90+", "90"][i - 1],
            "population": ["154922", "812", "59641829", "703", "0"][i - 1],
        }
        for i in range(1, 6)
    ],
    NOMIS: [
        {
            "reference_year": "2024",
            "sex": ["Total", "Total", "Female", "Female", "Male"][i - 1],
            "area_name": ["Blackpool", "Blackpool", "Blackpool", "Preston", "Preston"][i - 1],
            "area_code": ["E06000009", "E06000009", "E06000009", "E07000123", "E07000123"][i - 1],
            "measure": ["All Ages", "Aged 16+", "All Ages", "All Ages", "Aged 16+"][i - 1],
            "population": ["141100", "116360", "71407", "73959", "59704"][i - 1],
        }
        for i in range(1, 6)
    ],
}


def _present(dataset: str, columns: list[str]) -> list[tuple[str, str, dict]]:
    return [(dataset, f"{c} is present", {c: None}) for c in columns]


def _shared(dataset: str) -> list[tuple[str, str, dict]]:
    """Rules the street and outcomes suites share (the month and the location columns)."""
    return [
        (dataset, "every row has as many fields as the header", {}),
        (dataset, "month is YYYY-MM", {"month": "2025-13"}),
        (dataset, "every row has the same month", {"month": "2025-03"}),  # later than the rest
        (dataset, "reported_by is not blank", {"reported_by": "  "}),
        (dataset, "falls_within is not blank", {"falls_within": ""}),
        (dataset, "longitude, when given, is a decimal number", {"longitude": "2.7W"}),
        (dataset, "latitude, when given, is a decimal number", {"latitude": "53,76"}),
    ]


def _shared_warnings(dataset: str) -> list[tuple[str, str, dict]]:
    return [
        (
            dataset,
            "location is 'On or near ...' or 'No Location' (any case of the l)",
            {"location": "Church St"},
        ),
        (dataset, "lsoa_code, when given, is an ONS LSOA code", {"lsoa_code": "E0102530"}),
        (dataset, "lsoa_name, when given, is a name and a code", {"lsoa_name": "Preston"}),
        (dataset, "longitude and latitude are both given or both blank", {"latitude": None}),
    ]


CRITICAL_CASES: list[tuple[str, str, dict]] = [
    *_present(STREET, ["month", "reported_by", "falls_within", "crime_type"]),
    *_shared(STREET),
    (STREET, "crime_id, when given, is 64 hex characters", {"crime_id": "ABC123"}),
    (
        STREET,
        "crime_type is one of the police.uk crime types",
        {"crime_type": "Violent crime"},
    ),
    *_present(OUTCOMES, ["crime_id", "month", "reported_by", "falls_within", "outcome_type"]),
    *_shared(OUTCOMES),
    (OUTCOMES, "crime_id is 64 hex characters", {"crime_id": "0" * 63}),
    (HOME_OFFICE, "every row has as many fields as the header", {}),
    *_present(
        HOME_OFFICE,
        [
            "financial_year",
            "financial_quarter",
            "force_name",
            "offence_description",
            "offence_code",
            "number_of_offences",
        ],
    ),
    (HOME_OFFICE, "financial_year is YYYY/YY", {"financial_year": "2023-24"}),
    (HOME_OFFICE, "financial_quarter is 1 to 4", {"financial_quarter": "Q1"}),
    (HOME_OFFICE, "offence_description is not blank", {"offence_description": " "}),
    (HOME_OFFICE, "offence_code is not blank", {"offence_code": "   "}),
    (HOME_OFFICE, "number_of_offences is a whole number", {"number_of_offences": "12.5"}),
    (MYE, "every row has as many fields as the header", {}),
    *_present(MYE, ["reference_year", "sex", "area_code", "area_name", "age"]),
    (MYE, "reference_year is a year", {"reference_year": "mid-2023"}),
    (MYE, "sex is persons, females or males", {"sex": "Females"}),
    (MYE, "area_name is not blank", {"area_name": " "}),
    (NOMIS, "every row has as many fields as the header", {}),
    *_present(NOMIS, ["reference_year", "sex", "area_name", "area_code", "measure"]),
    (NOMIS, "reference_year is a year", {"reference_year": "June 2024"}),
    (NOMIS, "area_name is not blank", {"area_name": ""}),
    (NOMIS, "measure is not blank", {"measure": " "}),
]

WARNING_CASES: list[tuple[str, str, dict]] = [
    *_shared_warnings(STREET),
    (STREET, "context is at most 255 characters", {"context": "x" * 300}),
    # An outcome wording the seed lacks costs no month: a warning, the file is published.
    (
        STREET,
        "last_outcome_category, when given, is a police.uk outcome",
        {"last_outcome_category": "Charged"},
    ),
    *_shared_warnings(OUTCOMES),
    (OUTCOMES, "outcome_type is a police.uk outcome", {"outcome_type": "Charged"}),
    (HOME_OFFICE, "offence_group, when given, is not blank", {"offence_group": " "}),
    (HOME_OFFICE, "offence_subgroup, when given, is not blank", {"offence_subgroup": ""}),
    # A name the seed lacks is set apart with the other bodies, never a lost file.
    (
        HOME_OFFICE,
        "force_name is a force or body in seed police_forces",
        {"force_name": "Lancashire Constabulary"},
    ),
    (HOME_OFFICE, "offence_code is a Home Office offence code", {"offence_code": "19C*"}),
    # A heading, a code or a figure ONS or Nomis write otherwise costs no file.
    (MYE, "area_code is an ONS code", {"area_code": "E6000008"}),
    (MYE, "geography, when given, is not blank", {"geography": " "}),
    (MYE, "age is All ages or a single year of age", {"age": "90 and over"}),
    (MYE, "population, when given, is a whole number", {"population": ":"}),
    (NOMIS, "sex is a Nomis wording of total, male or female", {"sex": "Women"}),
    (NOMIS, "area_code is an ONS code", {"area_code": "2013265927"}),
    (NOMIS, "population, when given, is a whole number", {"population": "!"}),
]

REPEATED_KEY_RULES: list[tuple[str, str]] = [
    (HOME_OFFICE, "each quarter, force and offence appears once in the file"),
    (MYE, "each year, sheet, area and age appears once in the file"),
    (NOMIS, "each year, sex, area and measure appears once in the file"),
]
SPECIAL_RULES: set[str] = {rule for _, rule in REPEATED_KEY_RULES}
