"""Clean rows and one-rule cases of the cps_quarterly_outcomes and funding_grants suites.

Kept apart from test_suites.py (which splices them into its lists) so each source family's cases
read together. The row changed in each case is row BAD (index 2, file line 4); every change breaks
exactly one rule. Rules listed in SPECIAL_RULES need more than a one-row change and are tested in
test_suites_cps_funding.py.
"""

from __future__ import annotations

CLEAN_ROWS: dict[str, list[dict[str, str | None]]] = {
    # Release of Q3 2024-25 published on 27 Feb 2025 (restating earlier quarters of the year).
    "cps_quarterly_outcomes": [
        {
            "financial_year": "2024-25",
            "financial_quarter": ["Q3", "Q2", "Q3", "Q1", "Q3"][i - 1],
            "area_name": ["Lancashire", "North West"][i % 2],
            "case_category": ["domestic_abuse", "rape", "adult_rape", "stalking", "harassment"][
                i - 1
            ],
            "measure": [
                "charged",
                "no_further_action",
                "administrative_finalisation",
                "completed_prosecution",
                "conviction",
            ][i - 1],
            "volume": "0" if i == 4 else str(7 * i),
            "published_date": "2025-02-27",
        }
        for i in range(1, 6)
    ],
    # A register snapshot of 2 Mar 2025: awarded (part received), received allocation, awarded,
    # a bid awaiting a decision, a declined bid.
    "funding_grants": [
        {
            "grant_reference": "GR-2024-001",
            "funder": "Home Office",
            "scheme": "Safer Streets Fund",
            "purpose": "Safer night-time economy: street marshals",
            "financial_year": "2024/25",
            "status": "awarded",
            "amount_applied": "50000",
            "amount_awarded": "45000.50",
            "amount_received": "22500",
            "date_applied": "2024-02-01",
            "date_awarded": "2024-04-10",
            "date_received": "2024-10-01",
            "register_date": "2025-03-02",
        },
        {
            "grant_reference": "GR-2024-002",
            "funder": "Ministry of Justice",
            "scheme": "Police and Crime Commissioner victims' services grant",
            "purpose": "Commissioned victim support services",
            "financial_year": "2024/25",
            "status": "received",
            "amount_applied": None,
            "amount_awarded": "2400000",
            "amount_received": "2400000",
            "date_applied": None,
            "date_awarded": "2024-03-20",
            "date_received": "2025-01-15",
            "register_date": "2025-03-02",
        },
        {
            "grant_reference": "GR-2024-003",
            "funder": "Home Office",
            "scheme": "Domestic abuse perpetrator interventions fund",
            "purpose": "Perpetrator behaviour change programme",
            "financial_year": "2024/25",
            "status": "awarded",
            "amount_applied": "300000",
            "amount_awarded": "250000",
            "amount_received": "125000",
            "date_applied": "2024-01-15",
            "date_awarded": "2024-03-01",
            "date_received": "2024-12-01",
            "register_date": "2025-03-02",
        },
        {
            "grant_reference": "GR-2025-004",
            "funder": "National Lottery Community Fund",
            "scheme": "Reaching Communities",
            "purpose": None,
            "financial_year": "2025/26",
            "status": "applied",
            "amount_applied": "120000",
            "amount_awarded": None,
            "amount_received": None,
            "date_applied": "2025-02-10",
            "date_awarded": None,
            "date_received": None,
            "register_date": "2025-03-02",
        },
        {
            "grant_reference": "GR-2024-005",
            "funder": "Ministry of Justice",
            "scheme": "Rape and sexual abuse support fund",
            "purpose": "Independent sexual violence advisers",
            "financial_year": "2024/25",
            "status": "declined",
            "amount_applied": "80000.25",
            "amount_awarded": None,
            "amount_received": None,
            "date_applied": "2024-01-20",
            "date_awarded": None,
            "date_received": None,
            "register_date": "2025-03-02",
        },
    ],
}

CPS = "cps_quarterly_outcomes"
FUNDING = "funding_grants"

CRITICAL_CASES: list[tuple[str, str, dict]] = [
    (CPS, "every row has as many fields as the header", {}),
    *[
        (CPS, f"{c} is present", {c: None})
        for c in [
            "financial_year",
            "financial_quarter",
            "area_name",
            "case_category",
            "measure",
            "volume",
            "published_date",
        ]
    ],
    (CPS, "financial_year is YYYY-YY", {"financial_year": "2024/25"}),
    (CPS, "financial_year is a year and the next", {"financial_year": "2024-26"}),
    (CPS, "financial_quarter is Q1 to Q4", {"financial_quarter": "Q5"}),
    (CPS, "area_name is a known CPS Area or police force area", {"area_name": "Lancs"}),
    (CPS, "case_category is a known CPS case flag", {"case_category": "hate_crime"}),
    (CPS, "measure is a known CPS measure", {"measure": "charge_rate"}),
    (CPS, "volume is a whole number from 0", {"volume": "-1"}),
    (CPS, "published_date is a real YYYY-MM-DD date", {"published_date": "2025-02-30"}),
    (CPS, "published_date is not in the future", {"published_date": "2025-03-04"}),
    # row BAD is a Q3 2024-25 row: the quarter ends on 31 Dec 2024
    (CPS, "published_date is after the end of the row's quarter", {"published_date": "2024-12-31"}),
    (FUNDING, "every row has as many fields as the header", {}),
    *[
        (FUNDING, f"{c} is present", {c: None})
        for c in [
            "grant_reference",
            "funder",
            "scheme",
            "financial_year",
            "status",
            "register_date",
        ]
    ],
    (FUNDING, "grant_reference is GR-<year>-<3 digits>", {"grant_reference": "GR-24-003"}),
    (FUNDING, "funder is a known funder", {"funder": "Arts Council England"}),
    (FUNDING, "scheme is a known funding scheme", {"scheme": "Safer Streets"}),
    (FUNDING, "financial_year is YYYY/YY", {"financial_year": "2024-25"}),
    (FUNDING, "financial_year is a year and the next", {"financial_year": "2024/26"}),
    (FUNDING, "status is applied, awarded, received or declined", {"status": "pending"}),
    (FUNDING, "amount_applied, when given, is an amount in pounds", {"amount_applied": "£300k"}),
    (FUNDING, "amount_awarded, when given, is an amount in pounds", {"amount_awarded": "250,000"}),
    (FUNDING, "amount_received, when given, is an amount in pounds", {"amount_received": "1.255"}),
    (
        FUNDING,
        "date_applied, when given, is a real YYYY-MM-DD date",
        {"date_applied": "2024-02-30"},
    ),
    (
        FUNDING,
        "date_awarded, when given, is a real YYYY-MM-DD date",
        {"date_awarded": "2024-02-31"},
    ),
    (
        FUNDING,
        "date_received, when given, is a real YYYY-MM-DD date",
        {"date_received": "2024-11-31"},
    ),
    # not shaped YYYY-MM-DD, so the date-range rules leave it to this one
    (FUNDING, "register_date is a real YYYY-MM-DD date", {"register_date": "2025-3-02"}),
    (FUNDING, "register_date is the file's date", {"register_date": "2025-03-01"}),
    (
        FUNDING,
        "date_applied is not after register_date",
        {
            "status": "applied",
            "amount_awarded": None,
            "amount_received": None,
            "date_awarded": None,
            "date_received": None,
            "date_applied": "2025-03-03",
        },
    ),
    (
        FUNDING,
        "date_awarded is not after register_date",
        {"date_awarded": "2025-03-03", "date_received": None, "amount_received": None},
    ),
    (FUNDING, "date_received is not after register_date", {"date_received": "2025-03-03"}),
    (
        FUNDING,
        "an awarded or received grant has an amount and date awarded",
        {"amount_awarded": None},
    ),
    (
        FUNDING,
        "a grant applied for or declined has no amount awarded or received",
        {"status": "declined"},
    ),
    (
        FUNDING,
        "a received grant has an amount and date received",
        {"status": "received", "date_received": None},
    ),
]

WARNING_CASES: list[tuple[str, str, dict]] = [
    (FUNDING, "purpose, when given, is not blank", {"purpose": " "}),
    (FUNDING, "date_applied is not after date_awarded", {"date_applied": "2024-03-02"}),
    (FUNDING, "date_awarded is not after date_received", {"date_received": "2024-02-15"}),
    (FUNDING, "amount_received is not more than amount_awarded", {"amount_received": "260000"}),
]

# Row-key rules (repeated keys fail on both lines) and rules that need the run's parameters
# changed: see test_suites_cps_funding.py.
REPEATED_KEY_RULES: list[tuple[str, str]] = [
    (CPS, "each quarter, area, category and measure appears once in the file"),
    (FUNDING, "grant_reference is unique within the file"),
]
SPECIAL_RULES: set[str] = {rule for _, rule in REPEATED_KEY_RULES} | {
    "register_date is not in the future"
}
