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


def test_two_callers_at_once_make_one_login_and_neither_fails(
    database, tmp_path, monkeypatch
) -> None:
    """The login is the server's, its password the home's: a demo and a check (or two test
    workers) asking for it at the same moment must not both try to create either. Run with a
    login and reader role of this test's own, so the suite's shared login is never dropped
    under another test."""
    import threading
    import uuid

    from psycopg import sql

    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setattr(demo_bi, "LOGIN", f"vawg_bi_demo_race_{suffix}")
    monkeypatch.setattr(demo_bi, "BI_READER", f"vawg_bi_reader_race_{suffix}")
    admin = psycopg.connect(database.url, autocommit=True)
    admin.execute(sql.SQL("create role {}").format(sql.Identifier(demo_bi.BI_READER)))
    start, errors, logins = threading.Barrier(4), [], []

    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    settings = get_settings()

    def ask(n: int) -> None:
        start.wait()
        try:
            logins.append(demo_bi.ensure_login(settings))
        except Exception as exc:  # noqa: BLE001 - the failure is what the test reports
            errors.append(exc)

    try:
        callers = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=60)
        assert errors == [] and len(logins) == 4
        # one password, made once, for every caller; no draft of it left beside it
        assert len({login.password for login in logins}) == 1
        assert [p.name for p in (tmp_path / "home" / "secrets").iterdir()] == ["bi_demo.password"]
        member = admin.execute(
            "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member "
            "join pg_roles g on g.oid = m.roleid where r.rolname = %s and g.rolname = %s",
            (demo_bi.LOGIN, demo_bi.BI_READER),
        ).fetchone()
        assert member == (1,)
    finally:
        for role in (demo_bi.LOGIN, demo_bi.BI_READER):
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.close()
