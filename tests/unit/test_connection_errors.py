"""A failed connection says what is wrong: the listener, the role, the password or the database
(vawg_warehouse.connection_errors), on the real server of the tests."""

from __future__ import annotations

import socket

import pytest

from vawg_warehouse.warehouse import ConnectionInfo, WarehouseError, connect


def _refused(monkeypatch, info: ConnectionInfo) -> str:
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", info.url)
    with pytest.raises(WarehouseError) as caught:
        connect(connect_timeout=5).close()
    return str(caught.value)


def test_nothing_listening_says_listener(database, monkeypatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on (bound, then freed)
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    info = ConnectionInfo("127.0.0.1", free, database.user, database.password, database.dbname)
    message = _refused(monkeypatch, info)
    assert "wrong listener" in message and f"127.0.0.1:{free}" in message


def test_a_missing_database_says_database(database, monkeypatch) -> None:
    message = _refused(monkeypatch, database.for_database("no_such_vawg_database"))
    assert "wrong database" in message and "'no_such_vawg_database' does not exist" in message


def test_a_missing_role_says_role_or_password(database, monkeypatch) -> None:
    info = ConnectionInfo(database.host, database.port, "no_such_vawg_role", "x", database.dbname)
    message = _refused(monkeypatch, info)
    # trust: PostgreSQL names the role; password auth: it says only that the password failed
    assert "wrong role" in message or "wrong password" in message
    assert "no_such_vawg_role" in message


def test_a_wrong_password_says_password(database, make_login, monkeypatch) -> None:
    login = make_login(database)
    wrong = ConnectionInfo(login.host, login.port, login.user, "not-the-password", login.dbname)
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", wrong.url)
    try:
        connect(connect_timeout=5).close()
    except WarehouseError as exc:
        assert "wrong password" in str(exc) and "not-the-password" not in str(exc)
        return
    pytest.skip("this server trusts local logins: it never checks a password")
