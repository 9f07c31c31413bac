"""The demo ends with what a newcomer does next: the BI login and a query on bi run as it (not a
superuser's query on marts), the scorecard, `vawg status` and the command for Airflow's UI."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import drop_login
from vawg_devtools import demo_bi
from vawg_devtools.demo import demo_ending
from vawg_warehouse.config import get_settings
from vawg_warehouse.warehouse import ConnectionInfo


@pytest.mark.xdist_group("sample_warehouse")
def test_the_demo_ends_with_the_bi_login_a_query_on_bi_status_and_the_ui(
    on_sample_warehouse, server, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    settings = get_settings()
    try:
        demo_ending(settings, time.monotonic())
        printed = capsys.readouterr().out
        login = demo_bi.ensure_login(settings)  # a second time: the same login, same password
        assert login.user == "vawg_bi_demo" and f"psql '{login.url}'" in printed
        assert "from bi.reporting_monthly" in printed and "Month | Local authority code" in printed
        assert "last nightly run:" in printed and "last run per source:" in printed
        assert ".venv/bin/vawg airflow ui" in printed
        assert "marts." not in printed.split("A query on bi")[1].split("vawg status")[0]
        with psycopg.connect(login.url) as conn:  # the BI login reads bi and nothing else
            assert conn.execute("select count(*) from bi.reporting_monthly").fetchone()[0] > 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select 1 from marts.mart_reporting_monthly limit 1")
    finally:
        db = on_sample_warehouse.database
        drop_login(server, ConnectionInfo(db.host, db.port, demo_bi.LOGIN, "", db.dbname))
