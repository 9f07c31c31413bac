"""Fixtures for the suite and validator tests: a throwaway database and hand-built landing tables.

The server is the one every test uses (tests/conftest.py: VAWG_WAREHOUSE_URL, else the embedded
server). One database per test session, with a random name, migrated by the real migrations and
dropped at the end.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from tests.expectations import cases_cps_funding as cps_funding_cases
from tests.expectations import cases_public
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.warehouse import ConnectionInfo

# Run-time parameters every test uses, so that the date rules are deterministic.
PARAMETERS = {"extract_date": "2025-03-02", "as_of": "2025-03-03T06:00:00Z"}

CLEAN_ROWS: dict[str, list[dict[str, str | None]]] = {
    "force_crimes": [
        {
            "crime_reference": f"LC-2025-000000{i}",
            "recorded_date": "2025-03-02" if i % 2 else "2025-02-27",
            "offence_date": None if i == 3 else "2025-02-26",
            "ho_offence_code": ["19C", "8Q", "105A", "8L"][i % 4],
            "domestic_abuse_flag": "Y" if i % 2 else "N",
            "local_authority_code": ["E06000008", "E07000117", "E07000128"][i % 3],
            "victim_pseudonym": f"{i:064x}",
            "victim_age_band": ["18-24", "25-34", "65+", "Unknown"][i % 4],
            "victim_sex": ["F", "F", "M", "U"][i % 4],
            "suspect_pseudonym": None if i % 2 else f"{i + 100:064x}",
            "extracted_at": "2025-03-03T01:15:00Z",
        }
        for i in range(1, 6)
    ],
    "force_outcomes": [
        {
            "crime_reference": f"LC-2024-00001{i:02d}",
            "outcome_sequence": str(1 + i % 2),
            "outcome_code": ["0", "1", "1A", "16", "22"][i % 5],
            "outcome_date": "2025-03-02" if i % 2 else "2025-01-15",
            "extracted_at": "2025-03-03T01:15:00.250+00:00",
        }
        for i in range(1, 6)
    ],
    "force_marac_cases": [
        {
            "case_reference": f"MRC-2025-{i:06d}",
            "date_heard": "2025-03-02" if i % 2 else "2025-02-27",
            "date_referred": "2025-02-20",
            "victim_pseudonym": f"{i:064x}",
            "perpetrator_pseudonym": None if i == 3 else f"{i + 100:064x}",
            "referring_agency": ["police", "idva", "health", "childrens_services", "other"][i % 5],
            "local_authority_code": ["E06000008", "E07000117", "E07000128"][i % 3],
            "risk_basis": ["Visible high risk", "Professional judgement", "Potential escalation"][
                i % 3
            ],
            "extracted_at": "2025-03-03T01:15:00Z",
        }
        for i in range(1, 6)
    ],
    "force_protective_orders": [
        {
            "order_reference": f"PO-2025-{i:06d}",
            "event_sequence": str(1 + i % 2),
            "order_type": ["DVPN", "DVPO", "SPO", "RO", "NMO"][i % 5],
            "event_type": ["notice_issued", "applied", "granted", "breached", "refused"][i % 5],
            "event_date": "2025-03-02" if i % 2 else "2025-01-15",
            "crime_reference": None if i == 4 else f"LC-2025-{i:07d}",
            "local_authority_code": ["E06000008", "E07000117", "E07000128"][i % 3],
            "victim_pseudonym": None if i == 2 else f"{i:064x}",
            "perpetrator_pseudonym": f"{i + 100:064x}",
            "extracted_at": "2025-03-03T01:15:00Z",
        }
        for i in range(1, 6)
    ],
    "force_victims_code": [
        {
            "record_id": f"VC-2025-{i:07d}-{[1, 4, 7, 8, 12][i - 1]:02d}",
            "crime_reference": f"LC-2025-{i:07d}",
            "victim_pseudonym": f"{i:064x}",
            "right_number": str([1, 4, 7, 8, 12][i - 1]),
            # the last: triggered, no status recorded yet
            "status": ["met", "not_met", "not_applicable", "met", None][i - 1],
            "date_due": "2025-02-27" if i % 2 else "2025-03-10",
            "date_completed": [None, "2025-02-26", "2025-03-01", None, "2025-03-02", None][i],
            "recorded_by_unit": ["Response", "Victim Care Unit", "Witness Care Unit", "CID", "PSD"][
                i - 1
            ],
            "extracted_at": "2025-03-03T01:15:00Z",
        }
        for i in range(1, 6)
    ],
    "services_quarterly_returns": [
        {
            "service_code": ["IDVA-WEST", "IDVA-EAST", "ISVA-LANCS", "SARC-LANCS", "DRIVE-LANCS"][
                i - 1
            ],
            "financial_year": "2024/25",
            "financial_quarter": "Q2" if i == 4 else "Q3",
            "local_authority_code": ["E06000009", "E06000008", "E07000123", "E23000003"][
                min(i, 4) - 1
            ],
            "referrals_received": ["40", "35", "28", "60", "0"][i - 1],
            "clients_engaged": ["30", "20", "25", "55", "0"][i - 1],
            "cases_closed": ["33", "18", "20", "50", "4"][i - 1],
            "cases_closed_positive": ["25", "12", "15", "41", "2"][i - 1],
            "submitted_date": "2025-02-10",
        }
        for i in range(1, 6)
    ],
}

CLEAN_ROWS.update(cps_funding_cases.CLEAN_ROWS)
CLEAN_ROWS.update(cases_public.CLEAN_ROWS)


@pytest.fixture(scope="session")
def _gx_database() -> Iterator[ConnectionInfo]:
    """A new database for this test session, with the audit tables; dropped at the end."""
    from tests.conftest import _server, create_database, drop_database
    from vawg_warehouse.migrations import migrate
    from vawg_warehouse.validate.validator import close_validators

    info = create_database(_server(), prefix="vawg_gx")
    try:
        with psycopg.connect(info.url) as conn:
            migrate(conn)
        yield info
    finally:
        close_validators()  # GX's pooled connections
        drop_database(info)


LandingFactory = Callable[..., tuple[int, str]]


@pytest.fixture
def landing_table(_gx_database: ConnectionInfo) -> LandingFactory:
    """Build a landing table by hand, as the loader would: every contract column text.

    ``landing_table(dataset, rows, malformed=(), columns=None)`` registers a load batch and
    creates ``landing.<dataset>__b<batch_id>`` holding ``rows`` (dicts by stored column name;
    missing keys are null) at file lines 2, 3, ...; returns (batch_id, "landing.<table>").
    """

    def build(
        dataset: str,
        rows: list[dict[str, str | None]],
        *,
        malformed: tuple[int, ...] = (),
        columns: list[str] | None = None,
    ) -> tuple[int, str]:
        columns = columns if columns is not None else load_contract(dataset).stored_names
        with psycopg.connect(_gx_database.url) as conn:
            (batch_id,) = conn.execute(
                "insert into audit.load_batch (dataset, file_name, file_sha256, file_size_bytes)"
                " values (%s, %s, %s, 0) returning batch_id",
                (dataset, f"test/{dataset}.csv", secrets.token_hex(32)),
            ).fetchone()
            table = sql.Identifier("landing", f"{dataset}__b{batch_id}")
            definition = [sql.SQL("{} text").format(sql.Identifier(c)) for c in columns]
            definition += [sql.SQL("_row_number bigint not null, _malformed boolean not null")]
            conn.execute(
                sql.SQL("create unlogged table {} ({})").format(
                    table, sql.SQL(", ").join(definition)
                )
            )
            names = [*columns, "_row_number", "_malformed"]
            insert = sql.SQL("insert into {} ({}) values ({})").format(
                table,
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join([sql.Placeholder()] * len(names)),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    insert,
                    [
                        [*(row.get(c) for c in columns), line, line in malformed]
                        for line, row in enumerate(rows, start=2)
                    ],
                )
        return batch_id, f"landing.{dataset}__b{batch_id}"

    return build


def clean_rows(dataset: str) -> list[dict[str, str | None]]:
    return [dict(row) for row in CLEAN_ROWS[dataset]]
