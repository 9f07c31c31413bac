"""A second force end to end: Cumbria's warehouse from the same project (seed forces,
VAWG_HOME_FORCE=cumbria), without Airflow.

The sample generator writes Cumbria's files, the real loader takes them in, Great Expectations
validates the last weeks' batches and every non-daily one for real (the local authorities allowed
are Cumbria's), dbt builds every model and the scorecard is rendered. The marts, the BI views,
the publication tables and the scorecard hold Cumbria's local authorities only and name Cumbria,
never Lancashire. Lancashire's own tests run on the default force.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from psycopg import sql

from tests import sample_warehouse as sample
from tests.conftest import drop_database
from vawg_warehouse.warehouse import ConnectionInfo

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("second_force")]

CUMBRIA = {"E06000063": "Cumberland", "E06000064": "Westmorland and Furness"}
CUMBRIA_AREA = "E23000002"
UNKNOWN = "-1"
LANCASHIRE_NAMES = ("Lancashire", "Preston", "Blackpool", "Burnley", "Wyre")


@pytest.fixture(scope="module")
def cumbria(server: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory):
    built = sample.build(
        server,
        tmp_path_factory.mktemp("cumbria"),
        force="cumbria",
        rows=5_000,
        prefix="vawg_cumbria",
        validate_since=sample.END - timedelta(days=13),
    )
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in built.environment().items():
                patch.setenv(key, value)
            yield built
    finally:
        drop_database(built.database)


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
    with psycopg.connect(cumbria.database.url) as conn:
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


def test_the_data_tests_pass_for_the_second_force(cumbria) -> None:
    """dbt's data tests (the sample build skips them) hold on the second force's warehouse: no
    test assumes Lancashire's divisions, areas or names."""
    from vawg_warehouse import orchestration as o
    from vawg_warehouse.dbt_run import transform

    ok, nodes, _, exc = transform.invoke(
        "test", o.get_settings(), ["--exclude-resource-type", "unit_test"]
    )
    failed = [n.node.unique_id for n in nodes if str(n.status) in ("fail", "error")]
    assert nodes and ok and exc is None and not failed, (exc, failed)


def test_the_scorecard_names_the_second_force(cumbria, tmp_path) -> None:
    from vawg_warehouse import orchestration

    result = orchestration.build_scorecard("cumbria-run", out_dir=tmp_path / "card", png=False)
    html = (tmp_path / "card" / "index.html").read_text(encoding="utf-8")
    assert result["html"]
    assert 'data-force="Cumbria"' in html
    assert all(name in html for name in CUMBRIA.values())
    for name in LANCASHIRE_NAMES:
        assert name not in html, name
