"""A second force's demo end to end: `vawg demo --force cumbria`, the command a newcomer runs,
from the same project (seed forces), on a warehouse database and VAWG_HOME of its own.

The sample generator writes Cumbria's files at Cumbria's size, the real DAG run (`airflow dags
test`) loads, validates with Great Expectations, builds every dbt group with its data tests and
writes the scorecard; the demo then makes the BI login and queries bi as it. The marts, the BI
views, the publication tables and the scorecard page hold Cumbria's local authorities only and
name Cumbria, never Lancashire. Lancashire's own tests run on the default force.
"""

from __future__ import annotations

import os
from datetime import date

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEST_KEY, create_database, drop_database, drop_login
from tests.integration.conftest import vawg
from vawg_devtools import demo_bi
from vawg_warehouse.warehouse import ConnectionInfo

# The demo's BI login is one role of the server: with test_demo_bi's group, never beside it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sample_warehouse")]

CUMBRIA = {"E06000063": "Cumberland", "E06000064": "Westmorland and Furness"}
CUMBRIA_AREA = "E23000002"
UNKNOWN = "-1"
LANCASHIRE_NAMES = ("Lancashire", "Preston", "Blackpool", "Burnley", "Wyre")
# A quarter and a half (a whole quarter of services' and CPS's returns), small volumes
START, END, ROWS = date(2025, 4, 1), date(2025, 8, 15), 3_000


@pytest.fixture(scope="module")
def cumbria(server: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("cumbria_home")
    database = create_database(server, prefix="vawg_cumbria")
    env = {k: v for k, v in os.environ.items() if k != "VAWG_HOME_FORCE"}
    env.update(
        VAWG_HOME=str(home),
        VAWG_WAREHOUSE_URL=database.url,
        VAWG_PSEUDONYM_KEY=TEST_KEY,
    )
    for key in ("VAWG_LANDING_DIR", "VAWG_ARCHIVE_DIR", "VAWG_REPORTS_DIR"):
        env.pop(key, None)
    try:
        demo = vawg(
            env, "demo", "--force", "cumbria", "--start", START.isoformat(),
            "--end", END.isoformat(), "--rows", str(ROWS),
        )  # fmt: skip
        yield {"db": database, "home": home, "env": env, "demo": demo}
    finally:
        drop_login(
            server, ConnectionInfo(database.host, database.port, demo_bi.LOGIN, "", database.dbname)
        )
        drop_database(database)


def test_the_demo_succeeds_for_the_second_force_and_says_so(cumbria) -> None:
    demo = cumbria["demo"]
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Cumbria's sample extracts" in demo.stdout
    assert "A query on bi, as that login" in demo.stdout and "last nightly run:" in demo.stdout
    assert (cumbria["home"] / "home_force").read_text().strip() == "cumbria"
    # the status it ends with: the sample's population estimates were loaded, so no ONS source
    # is flagged stale (never loaded)
    freshness = demo.stdout.split("source freshness (last check):\n", 1)[1].split("\n\n", 1)[0]
    ons = [line for line in freshness.splitlines() if line.strip().startswith("ons.")]
    assert len(ons) == 2 and not [line for line in ons if "STALE" in line], freshness
    with psycopg.connect(cumbria["db"].url) as conn:
        (state,) = conn.execute("select state from audit.run_outcome").fetchone()
        tests = conn.execute(
            "select status, count(*) from audit.dbt_result where resource_type = 'test' group by 1"
        ).fetchall()
    assert state == "success"
    # every data test ran in the DAG's groups and none failed: none assumes Lancashire's
    # divisions, areas or names
    assert dict(tests).get("pass", 0) > 100, tests
    assert set(dict(tests)) <= {"pass", "warn"}, tests


def _columns(conn, column: str) -> list[tuple[str, str]]:
    """Every (schema, relation) of the marts, BI views and publication tables with ``column``."""
    return conn.execute(
        "select table_schema, table_name from information_schema.columns "
        "where column_name = %s and table_schema in ('marts', 'bi', 'publication') "
        "order by 1, 2",
        (column,),
    ).fetchall()


def _distinct(conn, schema: str, table: str, column: str) -> set:
    query = sql.SQL("select distinct {} from {}.{}").format(
        sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table)
    )
    return {r[0] for r in conn.execute(query)}


def test_marts_hold_the_second_forces_local_authorities_only(cumbria) -> None:
    with psycopg.connect(cumbria["db"].url) as conn:
        geography = conn.execute(
            "select local_authority_code, local_authority_name, police_force_area_code "
            "from marts.dim_geography where local_authority_code <> '-1'"
        ).fetchall()
        assert {(c, n) for c, n, _ in geography} == set(CUMBRIA.items())
        assert {a for _, _, a in geography} == {CUMBRIA_AREA}

        relations = _columns(conn, "local_authority_code")
        assert len(relations) > 5, relations  # the facts, measure marts, BI and publication
        crimes = _distinct(conn, "marts", "mart_reporting_monthly", "local_authority_code")
        assert set(CUMBRIA) <= crimes, crimes  # both authorities have crimes
        for schema, table in relations:
            found = _distinct(conn, schema, table, "local_authority_code") - {None, UNKNOWN}
            assert found <= set(CUMBRIA), (schema, table, found)
        for schema, table in _columns(conn, "local_authority_name"):
            found = _distinct(conn, schema, table, "local_authority_name")
            assert not found & set(LANCASHIRE_NAMES), (schema, table, found)

        services = conn.execute(
            "select area_code from marts.dim_service_area where area_code <> '-1'"
        ).fetchall()
        assert {r[0] for r in services} == {*CUMBRIA, CUMBRIA_AREA}
        returns = conn.execute(
            "select distinct s.service_code from marts.fct_service_return r "
            "join marts.dim_service s using (service_key)"
        ).fetchall()
        assert returns and all(r[0].endswith("-CUMBRIA") for r in returns), returns

        cps = conn.execute("select distinct area_name from marts.mart_cps_outcomes_quarterly")
        assert {r[0] for r in cps} == {"Cumbria"}

        peers = conn.execute(
            "select distinct area_name, area_order from marts.mart_peer_comparison_yearly "
            "where area_level = 'force'"
        ).fetchall()
        if peers:  # the Home Office tables of the sample's window
            home = {name for name, order in peers if order == 1}
            members = {name for name, order in peers if order == 2}
            assert home == {"Cumbria"}
            assert members <= {"Dyfed-Powys", "Lincolnshire", "North Yorkshire", "Wiltshire"}
            assert "Lancashire" not in members

        force = conn.execute(
            "select distinct area_name from bi.measure_headlines where area_level = 'force'"
        ).fetchall()
        assert force == [("Cumbria",)]


def test_the_scorecard_names_the_second_force(cumbria) -> None:
    """The page the DAG's scorecard task wrote, as the Police and Crime Panel gets it."""
    page = cumbria["home"] / "reports" / "scorecard" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert 'data-force="Cumbria"' in html
    assert all(name in html for name in CUMBRIA.values())
    for name in LANCASHIRE_NAMES:
        assert name not in html, name
