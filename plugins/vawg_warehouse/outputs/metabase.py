"""Metabase, set up from code: the warehouse as a BI login, a question per measure and a dashboard.

``vawg metabase`` (and compose's ``metabase-setup`` service) talks to Metabase's documented REST
API and is idempotent: run it again and it changes nothing, run it after this file changed and
it updates what differs. In order:

1. ``GET /api/session/properties``: a new Metabase still has its ``setup-token``; then
   ``POST /api/setup`` creates the first admin (``VAWG_METABASE_ADMIN_EMAIL`` / ``_PASSWORD``).
   Otherwise ``POST /api/session`` logs in as that admin (or ``VAWG_METABASE_API_KEY`` is sent
   as ``x-api-key``). The session id goes in the ``X-Metabase-Session`` header.
2. ``GET /api/database``: the warehouse connection "VAWG warehouse (BI)" is created
   (``POST /api/database``, engine postgres) or updated (``PUT /api/database/:id``) to log in as
   the BI login (a member of vawg_bi_reader, which reads schema bi only) and sync schema bi
   only; then ``POST /api/database/:id/sync_schema``.
3. ``GET /api/collection``: the collection "VAWG measures", created if missing.
4. ``GET /api/collection/:id/items?models=card``: each question below is created
   (``POST /api/card``, a native SQL query on the bi views) or updated (``PUT /api/card/:id``)
   when its definition changed.
5. The dashboard "VAWG measures" (``POST /api/dashboard`` if missing) gets every question, in
   the layout below, with one ``PUT /api/dashboard/:id`` of its ``dashcards`` when the layout
   differs (new cards carry negative ids, as the API asks).

Nothing here was run against a real Metabase on the machine this was written on (no Docker, and
Metabase is a Java jar outside PyPI, npm and Debian): tests/unit/test_metabase.py runs it against
a local HTTP server that answers as the API documents and records every call, and runs every
question's SQL on a real warehouse as a BI login.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "VAWG warehouse (BI)"
COLLECTION_NAME = "VAWG measures"
DASHBOARD_NAME = "VAWG measures"
SITE_NAME = "VAWG warehouse"


class MetabaseError(RuntimeError):
    """Metabase refused a call or is not set up as expected (names the call, not secrets)."""


@dataclass(frozen=True)
class Question:
    name: str
    description: str
    sql: str
    display: str
    visualization_settings: dict[str, Any]
    size: tuple[int, int]  # width, height on Metabase's 24-column grid


def _line(x: str, *y: str) -> dict[str, Any]:
    return {"graph.dimensions": [x], "graph.metrics": list(y), "graph.x_axis.title_text": x}


# Every question reads schema bi only: the measures from bi.measure_headlines, the view the
# scorecard reads too, so Metabase shows the Panel's figures. Force-wide figures are exact (a
# total below the publication threshold is suppressed); only complete periods are shown.


def _headline_sql(measure_id: str, period: str, value: str, series: str = "is_headline") -> str:
    return f"""select period_start_date as "{period}", series_label as "Series",
       value as "{value}", is_suppressed as "Suppressed"
from bi.measure_headlines
where measure_id = '{measure_id}' and area_level = 'force' and {series}
  and is_complete_period
order by period_start_date, series_order"""


QUESTIONS: tuple[Question, ...] = (
    Question(
        "1. Domestic abuse and sexual violence recorded, by month",
        "Measure 1, force-wide: domestic abuse, sexual offences and rape recorded "
        "(bi.measure_headlines, the scorecard's figures).",
        _headline_sql("reporting", "Month", "Crimes recorded", "true"),
        "line",
        {**_line("Month", "Crimes recorded"), "graph.dimensions": ["Month", "Series"]},
        (12, 6),
    ),
    Question(
        "2. Positive outcome rates: domestic abuse, rape and stalking (%)",
        "Measure 2, closed basis, force-wide: outcomes assigned in the month that were a charge "
        "or summons (domestic abuse, rape) or positive (stalking).",
        _headline_sql("positive_outcomes", "Month", "Rate (%)", "true"),
        "line",
        {**_line("Month", "Rate (%)"), "graph.dimensions": ["Month", "Series"]},
        (12, 6),
    ),
    Question(
        "3. MARAC repeat rate (%)",
        "Measure 3, force-wide: repeat cases / cases heard (SafeLives' rule, seed "
        "marac_measure_parameters). Graded against the 28-40% range.",
        _headline_sql("marac_repeat", "Month", "Repeat rate (%)"),
        "line",
        _line("Month", "Repeat rate (%)"),
        (12, 6),
    ),
    Question(
        "4. Victims' Code compliance, all rights (%)",
        "Measure 4, force-wide: applicable rights met / rights applicable.",
        _headline_sql("victims_code", "Month", "Compliance (%)"),
        "line",
        _line("Month", "Compliance (%)"),
        (12, 6),
    ),
    Question(
        "5. Protective orders granted: police and court orders, by month",
        "Measure 5, force-wide: orders granted on police application (the plan's proactive "
        "use) and, apart, orders courts make on a victim's application or at sentence.",
        _headline_sql("protective_orders", "Month", "Orders granted", "true"),
        "bar",
        {
            **_line("Month", "Orders granted"),
            "graph.dimensions": ["Month", "Series"],
        },
        (12, 6),
    ),
    Question(
        "6. Additional Government funding secured, by financial year (GBP)",
        "Measure 6: additional Government funding awarded (seed funders says which funders are "
        "Government), with all Government funding beside it as context. Complete financial "
        "years only.",
        _headline_sql("funding", "Financial year", "Amount awarded (GBP)", "true"),
        "bar",
        {
            **_line("Financial year", "Amount awarded (GBP)"),
            "graph.dimensions": ["Financial year", "Series"],
        },
        (12, 6),
    ),
    Question(
        "The force beside its most similar forces (recorded offences per 1,000)",
        "Context from Home Office open data: the latest financial year published in all four "
        "quarters.",
        """select "Category", "Area", "Rate per 1,000"
from bi.peer_comparison_yearly
where "Quarters published" = 4
  and "Financial year" = (
      select max("Financial year") from bi.peer_comparison_yearly
      where "Quarters published" = 4)
order by "Category", "Area order", "Area\"""",
        "table",
        {},
        (12, 8),
    ),
    Question(
        "Data as of",
        "How recent each source's data is and when its marts were rebuilt (bi.data_as_of).",
        """select * from bi.data_as_of order by "Source family\"""",
        "table",
        {},
        (12, 8),
    ),
)


# Metabase never shows the password it holds: a slow, salted hash of the one it was given is kept
# beside it in the connection's details, so a rotated password is pushed (and an unchanged one
# is not). scrypt, salted with the login it belongs to; the password is random (.env).
PASSWORD_CHECK = "vawg-password-check"


def password_check(login: WarehouseLogin) -> str:
    salt = f"vawg-metabase:{login.user}@{login.host}:{login.port}/{login.dbname}".encode()
    return hashlib.scrypt(login.password.encode(), salt=salt, n=2**14, r=8, p=1).hex()


def ssl_wanted(value: str | None) -> bool:
    """VAWG_METABASE_DB_SSL: on unless set to false/0/no/off (a local server without TLS)."""
    return (value or "true").strip().lower() not in ("false", "0", "no", "off")


@dataclass(frozen=True)
class WarehouseLogin:
    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)
    ssl: bool = True  # the BI connection is encrypted unless turned off (VAWG_METABASE_DB_SSL)

    def details(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "ssl": self.ssl,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "bi",
            PASSWORD_CHECK: password_check(self),
        }


@dataclass
class Outcome:
    actions: list[tuple[str, str, str]] = field(default_factory=list)  # kind, name, what

    def add(self, kind: str, name: str, what: str) -> None:
        self.actions.append((kind, name, what))

    def changed(self) -> list[tuple[str, str, str]]:
        return [a for a in self.actions if a[2] != "unchanged"]

    def lines(self) -> list[str]:
        return [f"{kind} {name!r}: {what}" for kind, name, what in self.actions]


class Client:
    """JSON over HTTP with Metabase's session header; errors name the call, never a body."""

    def __init__(self, url: str, timeout: float = 60):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def call(self, method: str, path: str, body: Any = None, query: dict | None = None) -> Any:
        url = f"{self.url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=self.headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise MetabaseError(f"Metabase refused {method} {path}: HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise MetabaseError(f"Metabase at {self.url} is not reachable: {exc.reason}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")


def _items(answer: Any) -> list[dict]:
    """List endpoints answer a list, or {"data": [...]} (newer versions)."""
    if isinstance(answer, dict):
        return list(answer.get("data") or [])
    return list(answer or [])


class MetabaseSetup:
    def __init__(
        self,
        url: str,
        admin_email: str,
        admin_password: str,
        warehouse: WarehouseLogin,
        api_key: str | None = None,
        questions: tuple[Question, ...] = QUESTIONS,
    ):
        self.client = Client(url)
        self.admin_email = admin_email
        self.admin_password = admin_password
        self.warehouse = warehouse
        self.api_key = api_key
        self.questions = questions

    @classmethod
    def from_environment(cls) -> MetabaseSetup:
        env = os.environ
        needed = [
            "VAWG_METABASE_URL",
            "VAWG_METABASE_DB_HOST",
            "VAWG_METABASE_DB_NAME",
            "VAWG_METABASE_DB_USER",
            "VAWG_METABASE_DB_PASSWORD",
        ]
        if not env.get("VAWG_METABASE_API_KEY"):
            needed += ["VAWG_METABASE_ADMIN_EMAIL", "VAWG_METABASE_ADMIN_PASSWORD"]
        missing = [n for n in needed if not env.get(n)]
        if missing:
            raise MetabaseError(f"set {', '.join(missing)} (README, 'Metabase')")
        return cls(
            env["VAWG_METABASE_URL"],
            env.get("VAWG_METABASE_ADMIN_EMAIL", ""),
            env.get("VAWG_METABASE_ADMIN_PASSWORD", ""),
            WarehouseLogin(
                env["VAWG_METABASE_DB_HOST"],
                int(env.get("VAWG_METABASE_DB_PORT") or 5432),
                env["VAWG_METABASE_DB_NAME"],
                env["VAWG_METABASE_DB_USER"],
                env["VAWG_METABASE_DB_PASSWORD"],
                ssl=ssl_wanted(env.get("VAWG_METABASE_DB_SSL")),
            ),
            api_key=env.get("VAWG_METABASE_API_KEY") or None,
        )

    # ---------------------------------------------------------------------------------------

    def run(self) -> Outcome:
        outcome = Outcome()
        self.authenticate(outcome)
        database_id = self.ensure_database(outcome)
        collection_id = self.ensure_collection(outcome)
        card_ids = [
            self.ensure_card(q, database_id, collection_id, outcome) for q in self.questions
        ]
        self.ensure_dashboard(card_ids, collection_id, outcome)
        return outcome

    def authenticate(self, outcome: Outcome) -> None:
        if self.api_key:
            self.client.headers["x-api-key"] = self.api_key
            outcome.add("session", "api key", "unchanged")
            return
        properties = self.client.call("GET", "/api/session/properties") or {}
        token = properties.get("setup-token")
        if token and not properties.get("has-user-setup"):
            answer = self.client.call(
                "POST",
                "/api/setup",
                {
                    "token": token,
                    "user": {
                        "email": self.admin_email,
                        "password": self.admin_password,
                        "first_name": "VAWG",
                        "last_name": "Administrator",
                        "site_name": SITE_NAME,
                    },
                    "prefs": {"site_name": SITE_NAME, "allow_tracking": False},
                },
            )
            outcome.add("admin", self.admin_email, "created (first set-up)")
        else:
            answer = self.client.call(
                "POST",
                "/api/session",
                {"username": self.admin_email, "password": self.admin_password},
            )
            outcome.add("session", self.admin_email, "unchanged")
        session = (answer or {}).get("id")
        if not session:
            raise MetabaseError("Metabase gave no session id")
        self.client.headers["X-Metabase-Session"] = session

    def ensure_database(self, outcome: Outcome) -> int:
        wanted = self.warehouse.details()
        found = next(
            (
                d
                for d in _items(self.client.call("GET", "/api/database"))
                if d.get("name") == DATABASE_NAME
            ),
            None,
        )
        if found is None:
            created = self.client.call(
                "POST",
                "/api/database",
                {
                    "name": DATABASE_NAME,
                    "engine": "postgres",
                    "details": wanted,
                    "is_full_sync": True,
                },
            )
            database_id = created["id"]
            outcome.add("database", DATABASE_NAME, "created")
        else:
            database_id = found["id"]
            current = found.get("details") or {}
            # Metabase never returns the password: compare everything else, the password's
            # check included (a rotated password changes it, and is pushed).
            differs = [k for k in wanted if k != "password" and current.get(k) != wanted[k]]
            differs = ["password" if k == PASSWORD_CHECK else k for k in differs]
            if differs or found.get("engine") != "postgres":
                self.client.call(
                    "PUT",
                    f"/api/database/{database_id}",
                    {"name": DATABASE_NAME, "engine": "postgres", "details": wanted},
                )
                outcome.add("database", DATABASE_NAME, f"updated ({', '.join(differs)})")
            else:
                outcome.add("database", DATABASE_NAME, "unchanged")
        self.client.call("POST", f"/api/database/{database_id}/sync_schema")
        return database_id

    def ensure_collection(self, outcome: Outcome) -> int:
        for collection in _items(self.client.call("GET", "/api/collection")):
            if collection.get("name") == COLLECTION_NAME and not collection.get("archived"):
                outcome.add("collection", COLLECTION_NAME, "unchanged")
                return collection["id"]
        created = self.client.call(
            "POST",
            "/api/collection",
            {
                "name": COLLECTION_NAME,
                "description": "The plan's VAWG measures, from the warehouse's bi views.",
                "color": "#509EE3",
                "parent_id": None,
            },
        )
        outcome.add("collection", COLLECTION_NAME, "created")
        return created["id"]

    def _collection_items(self, collection_id: int, model: str) -> dict[str, dict]:
        answer = self.client.call(
            "GET", f"/api/collection/{collection_id}/items", query={"models": model}
        )
        return {i["name"]: i for i in _items(answer) if i.get("model", model) == model}

    def _card_body(self, q: Question, database_id: int, collection_id: int) -> dict:
        return {
            "name": q.name,
            "description": q.description,
            "display": q.display,
            "visualization_settings": q.visualization_settings,
            "collection_id": collection_id,
            "dataset_query": {
                "type": "native",
                "database": database_id,
                "native": {"query": q.sql, "template-tags": {}},
            },
        }

    def ensure_card(
        self, q: Question, database_id: int, collection_id: int, outcome: Outcome
    ) -> int:
        body = self._card_body(q, database_id, collection_id)
        existing = self._collection_items(collection_id, "card").get(q.name)
        if existing is None:
            created = self.client.call("POST", "/api/card", body)
            outcome.add("question", q.name, "created")
            return created["id"]
        card_id = existing["id"]
        current = self.client.call("GET", f"/api/card/{card_id}") or {}
        query = current.get("dataset_query") or {}
        same = (
            current.get("description") == q.description
            and current.get("display") == q.display
            and (current.get("visualization_settings") or {}) == q.visualization_settings
            and query.get("database") == database_id
            and (query.get("native") or {}).get("query") == q.sql
        )
        if same:
            outcome.add("question", q.name, "unchanged")
        else:
            self.client.call("PUT", f"/api/card/{card_id}", body)
            outcome.add("question", q.name, "updated")
        return card_id

    def ensure_dashboard(self, card_ids: list[int], collection_id: int, outcome: Outcome) -> int:
        existing = self._collection_items(collection_id, "dashboard").get(DASHBOARD_NAME)
        if existing is None:
            created = self.client.call(
                "POST",
                "/api/dashboard",
                {
                    "name": DASHBOARD_NAME,
                    "description": "The Police and Crime Plan's VAWG measures, as published.",
                    "collection_id": collection_id,
                },
            )
            dashboard_id = created["id"]
            outcome.add("dashboard", DASHBOARD_NAME, "created")
        else:
            dashboard_id = existing["id"]
        layout = []
        row = col = 0
        tallest = 0
        for card_id, q in zip(card_ids, self.questions, strict=True):
            width, height = q.size
            if col + width > 24:
                row, col, tallest = row + tallest, 0, 0
            layout.append(
                {"card_id": card_id, "row": row, "col": col, "size_x": width, "size_y": height}
            )
            col += width
            tallest = max(tallest, height)
        current = (self.client.call("GET", f"/api/dashboard/{dashboard_id}") or {}).get(
            "dashcards"
        ) or []
        keys = ("card_id", "row", "col", "size_x", "size_y")
        now = sorted(tuple(d.get(k) for k in keys) for d in current)
        if now == sorted(tuple(d[k] for k in keys) for d in layout):
            if existing is not None:
                outcome.add("dashboard", DASHBOARD_NAME, "unchanged")
            return dashboard_id
        by_card = {d.get("card_id"): d.get("id") for d in current}
        dashcards: list[dict[str, Any]] = [
            {
                **d,
                "id": by_card.get(d["card_id"]) or -(i + 1),
                "parameter_mappings": [],
                "visualization_settings": {},
            }
            for i, d in enumerate(layout)
        ]
        self.client.call("PUT", f"/api/dashboard/{dashboard_id}", {"dashcards": dashcards})
        if existing is not None:
            outcome.add("dashboard", DASHBOARD_NAME, "updated (layout)")
        return dashboard_id
