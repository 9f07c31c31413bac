"""The BI connection `vawg metabase` gives Metabase (issue 20): SSL on unless turned off for a
local server, and a rotated password pushed to Metabase (which never shows the one it holds).
Against the recording stand-in of Metabase's API (tests/metabase_api.py); no question is made,
so no warehouse is needed."""

from __future__ import annotations

from tests.metabase_api import FakeMetabase
from vawg_warehouse.outputs import metabase


def _setup(url: str, password: str, ssl: bool | None = None) -> metabase.MetabaseSetup:
    login = (
        metabase.WarehouseLogin("db", 5432, "vawg", "vawg_metabase", password)
        if ssl is None
        else metabase.WarehouseLogin("db", 5432, "vawg", "vawg_metabase", password, ssl=ssl)
    )
    return metabase.MetabaseSetup(
        url, "bi-admin@example.org", "a-long-admin-password-for-tests", login, questions=()
    )


def test_the_connection_uses_ssl_unless_turned_off(monkeypatch) -> None:
    with FakeMetabase() as mb:
        _setup(mb.url, "first-password-0123456789").run()
        (database,) = mb.state.databases.values()
        assert database["details"]["ssl"] is True
    monkeypatch.delenv("VAWG_METABASE_DB_SSL", raising=False)
    for name, value in (
        ("VAWG_METABASE_URL", "http://mb"),
        ("VAWG_METABASE_DB_HOST", "db"),
        ("VAWG_METABASE_DB_NAME", "vawg"),
        ("VAWG_METABASE_DB_USER", "vawg_metabase"),
        ("VAWG_METABASE_DB_PASSWORD", "pw-0123456789abcdef"),
        ("VAWG_METABASE_API_KEY", "key"),
    ):
        monkeypatch.setenv(name, value)
    assert metabase.MetabaseSetup.from_environment().warehouse.details()["ssl"] is True
    monkeypatch.setenv("VAWG_METABASE_DB_SSL", "false")  # a local server without TLS
    assert metabase.MetabaseSetup.from_environment().warehouse.details()["ssl"] is False


def test_a_rotated_password_is_pushed_and_an_unchanged_one_is_not(monkeypatch) -> None:
    with FakeMetabase() as mb:
        _setup(mb.url, "first-password-0123456789").run()
        (database_id,) = mb.state.databases
        before = len(mb.writes())
        _setup(mb.url, "first-password-0123456789").run()
        assert [c.path for c in mb.writes()[before:]] == []  # nothing changed, nothing written
        _setup(mb.url, "rotated-password-9876543210").run()
        pushed = [c for c in mb.writes()[before:] if c.path == f"/api/database/{database_id}"]
        assert len(pushed) == 1
        assert mb.state.databases[database_id]["details"]["password"] == (
            "rotated-password-9876543210"
        )
        # the password itself is never kept anywhere but in the password field
        details = mb.state.databases[database_id]["details"]
        assert all("rotated" not in str(v) for k, v in details.items() if k != "password")
