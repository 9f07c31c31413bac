"""The embedded server records its port, so every command finds it without VAWG_EMBEDDED_PORT,
and a VAWG_EMBEDDED_PORT that disagrees with the running server is an error at once, saying so."""

from __future__ import annotations

import socket

import pytest

from vawg_warehouse.config import get_settings
from vawg_warehouse.warehouse import EmbeddedServer, WarehouseError, connect, ensure_warehouse


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_every_command_finds_the_embedded_server_on_the_port_it_recorded(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("VAWG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    port = _free_port()
    monkeypatch.setenv("VAWG_EMBEDDED_PORT", str(port))
    server = EmbeddedServer(get_settings())
    try:
        ensure_warehouse()
        monkeypatch.delenv("VAWG_EMBEDDED_PORT")  # forgotten in the next shell
        assert get_settings().embedded_port == port
        with connect() as conn:
            assert conn.execute("show port").fetchone() == (str(port),)
        monkeypatch.setenv("VAWG_EMBEDDED_PORT", str(_free_port()))  # a wrong one
        with pytest.raises(WarehouseError, match=f"runs on port {port}, but VAWG_EMBEDDED_PORT"):
            ensure_warehouse()
    finally:
        monkeypatch.setenv("VAWG_EMBEDDED_PORT", str(port))
        server.down()
