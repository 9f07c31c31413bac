"""`vawg metabase` against a local server that answers as Metabase's REST API documents and
records every call (tests/metabase_api.py), with a real warehouse behind it: every question's SQL
runs here as a BI login, which reads schema bi only.

No real Metabase runs in this test: the machine it was written on has no Docker engine and
Metabase is a Java jar that is on none of PyPI, npm or Debian. The README says so.
"""

from __future__ import annotations

import dataclasses
import re

import psycopg
import pytest

from tests.metabase_api import FakeMetabase
from vawg_warehouse.outputs import metabase

pytestmark = pytest.mark.xdist_group("sample_warehouse")


def _setup(url: str, login, questions=metabase.QUESTIONS) -> metabase.MetabaseSetup:
    return metabase.MetabaseSetup(
        url,
        "bi-admin@example.org",
        "a-long-admin-password-for-tests",
        metabase.WarehouseLogin(login.host, login.port, login.dbname, login.user, login.password),
        questions=questions,
    )


def test_the_setup_creates_the_connection_questions_and_dashboard_then_changes_nothing(
    on_sample_warehouse, make_login
) -> None:
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    with FakeMetabase() as mb:
        first = _setup(mb.url, bi_login).run()
        writes = [(c.method, re.sub(r"/\d+", "/:id", c.path)) for c in mb.writes()]
        assert writes.count(("POST", "/api/setup")) == 1
        assert writes.count(("POST", "/api/database")) == 1
        assert writes.count(("POST", "/api/collection")) == 1
        assert writes.count(("POST", "/api/card")) == len(metabase.QUESTIONS)
        assert writes.count(("POST", "/api/dashboard")) == 1
        assert writes.count(("PUT", "/api/dashboard/:id")) == 1
        (database,) = mb.state.databases.values()
        details = database["details"]
        assert database["engine"] == "postgres"
        assert details["user"] == bi_login.user and details["dbname"] == bi_login.dbname
        assert details["schema-filters-type"] == "inclusion"
        assert details["schema-filters-patterns"] == "bi"
        assert mb.state.synced == [database["id"]]
        (dashboard,) = mb.state.dashboards.values()
        assert sorted(d["card_id"] for d in dashboard["dashcards"]) == sorted(mb.state.cards)
        assert {a[2] for a in first.actions if a[0] == "question"} == {"created"}

        # Run again (a restarted container): a login, the sync, and nothing written.
        before = len(mb.writes())
        again = _setup(mb.url, bi_login).run()
        assert len(mb.writes()) == before, [c.path for c in mb.writes()[before:]]
        assert not again.changed(), again.changed()
        assert len(mb.state.cards) == len(metabase.QUESTIONS)

        # A question changed in the code: that card alone is updated, in place.
        changed = (
            dataclasses.replace(metabase.QUESTIONS[0], description="Measure 1, reworded."),
            *metabase.QUESTIONS[1:],
        )
        third = _setup(mb.url, bi_login, changed).run()
        assert [a for a in third.changed()] == [("question", metabase.QUESTIONS[0].name, "updated")]
        assert len(mb.state.cards) == len(metabase.QUESTIONS)


def test_every_question_runs_on_the_warehouse_as_a_bi_login_and_reads_schema_bi_only(
    on_sample_warehouse, make_login
) -> None:
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    with psycopg.connect(bi_login.url, autocommit=True) as conn:
        for question in metabase.QUESTIONS:
            relations = set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\.", question.sql, re.I))
            assert relations == {"bi"}, (question.name, relations)
            rows = conn.execute(question.sql).fetchall()
            assert rows, f"{question.name}: no rows on the sample warehouse"
        # the same login cannot read what the bi views are built on
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from publication.pub_mart_reporting_monthly")


def test_the_setup_names_what_is_missing_from_its_environment(monkeypatch) -> None:
    for name in ("VAWG_METABASE_URL", "VAWG_METABASE_DB_PASSWORD", "VAWG_METABASE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        metabase.MetabaseError, match="VAWG_METABASE_URL.*VAWG_METABASE_DB_PASSWORD"
    ):
        metabase.MetabaseSetup.from_environment()


def test_a_refusal_names_the_call_and_never_the_password(on_sample_warehouse, make_login) -> None:
    bi_login = make_login(on_sample_warehouse.database, "vawg_bi_reader")
    with FakeMetabase() as mb:
        _setup(mb.url, bi_login).run()
        wrong = metabase.MetabaseSetup(
            mb.url,
            "bi-admin@example.org",
            "not-the-password",
            metabase.WarehouseLogin("h", 5432, "vawg", "u", "secret-db-password"),
        )
        with pytest.raises(metabase.MetabaseError) as refused:
            wrong.run()
    assert "POST /api/session" in str(refused.value) and "HTTP 401" in str(refused.value)
    assert "not-the-password" not in str(refused.value)
