"""Connection settings and the embedded server (started for real on a spare port)."""

from __future__ import annotations

import socket

import psycopg
import pytest

from vawg_warehouse.config import get_settings
from vawg_warehouse.warehouse import (
    ConnectionInfo,
    EmbeddedServer,
    WarehouseError,
    connection_info,
)


def test_url_parts_and_the_shapes_each_client_wants() -> None:
    info = ConnectionInfo.from_url("postgresql://ana:p%40ss@db.example:6543/vawg")
    assert (info.host, info.port, info.user, info.password, info.dbname) == (
        "db.example",
        6543,
        "ana",
        "p@ss",
        "vawg",
    )
    assert info.sqlalchemy_url.startswith("postgresql+psycopg://ana:p%40ss@db.example:6543/")
    assert info.dbt_env()["VAWG_DB_PASSWORD"] == "p@ss"
    assert "p@ss" not in info.redacted()


def test_a_socket_only_or_foreign_url_is_refused() -> None:
    with pytest.raises(WarehouseError, match="TCP host"):
        ConnectionInfo.from_url("postgresql:///vawg?host=/tmp")
    with pytest.raises(WarehouseError, match="postgresql://"):
        ConnectionInfo.from_url("mysql://x@y/z")


def test_without_a_url_everything_points_at_the_embedded_server(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("VAWG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("VAWG_EMBEDDED_PORT", "55999")
    info = connection_info()
    assert (info.host, info.port, info.dbname) == ("127.0.0.1", 55999, "vawg")
    monkeypatch.setenv("VAWG_WAREHOUSE_URL", "postgresql://u:p@h:1/d")
    assert connection_info().host == "h"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_embedded_server_starts_persists_and_stops(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("VAWG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAWG_EMBEDDED_PORT", str(_free_port()))
    server = EmbeddedServer(get_settings())
    try:
        info = server.up()
        with psycopg.connect(info.url, autocommit=True) as conn:
            conn.execute("create table kept (x int)")
            conn.execute("insert into kept values (42)")
        assert server.down() is True
        assert server.is_running() is False
        server.up()  # the data folder persists across restarts
        with psycopg.connect(info.url) as conn:
            assert conn.execute("select x from kept").fetchone() == (42,)
    finally:
        server.down()
    assert server.down() is False
