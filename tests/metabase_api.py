"""A small HTTP server that answers like Metabase's REST API, for the endpoints `vawg metabase`
uses, and records every call. Written from Metabase's API reference (metabase.com/docs/latest/api:
session, setup, database, collection, card, dashboard): the shapes of requests it checks and of
the answers it gives are the documented ones. It is not Metabase: it runs no query and syncs no
schema. The warehouse side of the tests stays real (tests/unit/test_metabase.py).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Call:
    method: str
    path: str
    body: Any
    query: dict[str, list[str]]


@dataclass
class State:
    setup_token: str = field(default_factory=lambda: secrets.token_hex(16))
    admin: dict | None = None
    sessions: set[str] = field(default_factory=set)
    databases: dict[int, dict] = field(default_factory=dict)
    collections: dict[int, dict] = field(default_factory=dict)
    cards: dict[int, dict] = field(default_factory=dict)
    dashboards: dict[int, dict] = field(default_factory=dict)
    synced: list[int] = field(default_factory=list)
    next_id: int = 1
    calls: list[Call] = field(default_factory=list)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class _Handler(BaseHTTPRequestHandler):
    state: State
    lock: threading.Lock

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _authorised(self) -> bool:
        return self.headers.get("X-Metabase-Session") in self.state.sessions

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        body = self._body() if method in ("POST", "PUT") else None
        with self.lock:
            self.state.calls.append(Call(method, url.path, body, parse_qs(url.query)))
            status, answer = self._route(method, url.path.rstrip("/"), body, parse_qs(url.query))
        self._answer(status, answer)

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    # -----------------------------------------------------------------------------------

    def _route(self, method: str, path: str, body: Any, query: dict) -> tuple[int, Any]:
        s = self.state
        parts = path.split("/")[2:]  # after /api
        if path == "/api/health":
            return 200, {"status": "ok"}
        if path == "/api/session/properties" and method == "GET":
            return 200, {
                "setup-token": None if s.admin else s.setup_token,
                "has-user-setup": s.admin is not None,
                "version": {"tag": "v0.5x-test-double"},
            }
        if path == "/api/setup" and method == "POST":
            if s.admin is not None or body.get("token") != s.setup_token:
                return 403, {"message": "Token does not match the setup token."}
            user = body.get("user") or {}
            if not user.get("email") or not user.get("password") or not user.get("site_name"):
                return 400, {"errors": {"user": "email, password and site_name are required"}}
            s.admin = user
            session = secrets.token_hex(8)
            s.sessions.add(session)
            return 200, {"id": session}
        if path == "/api/session" and method == "POST":
            if (
                not s.admin
                or body.get("username") != s.admin["email"]
                or (body.get("password") != s.admin["password"])
            ):
                return 401, {"errors": {"password": "did not match stored password"}}
            session = secrets.token_hex(8)
            s.sessions.add(session)
            return 200, {"id": session}
        if not self._authorised():
            return 401, "Unauthenticated"

        if parts[:1] == ["database"]:
            return self._database(method, parts, body)
        if parts[:1] == ["collection"]:
            return self._collection(method, parts, body, query)
        if parts[:1] == ["card"]:
            return self._card(method, parts, body)
        if parts[:1] == ["dashboard"]:
            return self._dashboard(method, parts, body)
        return 404, "API endpoint does not exist."

    def _database(self, method, parts, body):
        s = self.state
        if len(parts) == 1 and method == "GET":
            listed = [
                {**d, "details": {**d["details"], "password": "**MetabasePass**"}}
                for d in s.databases.values()
            ]
            return 200, {"data": listed, "total": len(listed)}
        if len(parts) == 1 and method == "POST":
            if not body.get("name") or not body.get("engine") or not body.get("details"):
                return 400, {"errors": {"name": "name, engine and details are required"}}
            database = {
                "id": s.new_id(),
                "name": body["name"],
                "engine": body["engine"],
                "details": body["details"],
            }
            s.databases[database["id"]] = database
            return 200, database
        database_id = int(parts[1])
        if database_id not in s.databases:
            return 404, "Not found."
        if len(parts) == 2 and method == "PUT":
            s.databases[database_id].update(
                {k: body[k] for k in ("name", "engine", "details") if k in body}
            )
            return 200, s.databases[database_id]
        if parts[2:] == ["sync_schema"] and method == "POST":
            s.synced.append(database_id)
            return 200, {"status": "ok"}
        return 404, "API endpoint does not exist."

    def _collection(self, method, parts, body, query):
        s = self.state
        if len(parts) == 1 and method == "GET":
            root = {"id": "root", "name": "Our analytics", "can_write": True}
            return 200, [root, *s.collections.values()]
        if len(parts) == 1 and method == "POST":
            if not body.get("name"):
                return 400, {"errors": {"name": "value must be a non-blank string."}}
            collection = {
                "id": s.new_id(),
                "name": body["name"],
                "archived": False,
                "description": body.get("description"),
                "parent_id": body.get("parent_id"),
            }
            s.collections[collection["id"]] = collection
            return 200, collection
        if len(parts) == 3 and parts[2] == "items" and method == "GET":
            collection_id = int(parts[1])
            models = set(query.get("models") or ["card", "dashboard"])
            items = []
            if "card" in models:
                items += [
                    {"id": c["id"], "name": c["name"], "model": "card"}
                    for c in s.cards.values()
                    if c["collection_id"] == collection_id
                ]
            if "dashboard" in models:
                items += [
                    {"id": d["id"], "name": d["name"], "model": "dashboard"}
                    for d in s.dashboards.values()
                    if d["collection_id"] == collection_id
                ]
            return 200, {"data": items, "total": len(items), "models": sorted(models)}
        return 404, "API endpoint does not exist."

    def _card(self, method, parts, body):
        s = self.state
        if len(parts) == 1 and method == "POST":
            query = body.get("dataset_query") or {}
            if (
                not body.get("name")
                or body.get("display") is None
                or ("visualization_settings" not in body)
            ):
                return 400, {"errors": {"name": "name, display, visualization_settings"}}
            if query.get("type") != "native" or query.get("database") not in s.databases:
                return 400, {"errors": {"dataset_query": "a native query on a known database"}}
            card = {"id": s.new_id(), **body}
            s.cards[card["id"]] = card
            return 200, card
        card_id = int(parts[1])
        if card_id not in s.cards:
            return 404, "Not found."
        if method == "GET":
            return 200, s.cards[card_id]
        if method == "PUT":
            s.cards[card_id].update(body)
            return 200, s.cards[card_id]
        return 404, "API endpoint does not exist."

    def _dashboard(self, method, parts, body):
        s = self.state
        if len(parts) == 1 and method == "POST":
            if not body.get("name"):
                return 400, {"errors": {"name": "value must be a non-blank string."}}
            dashboard = {
                "id": s.new_id(),
                "name": body["name"],
                "description": body.get("description"),
                "collection_id": body.get("collection_id"),
                "dashcards": [],
            }
            s.dashboards[dashboard["id"]] = dashboard
            return 200, dashboard
        dashboard_id = int(parts[1])
        if dashboard_id not in s.dashboards:
            return 404, "Not found."
        dashboard = s.dashboards[dashboard_id]
        if method == "GET":
            return 200, dashboard
        if method == "PUT":
            if "dashcards" in body:
                # The documented semantics: the array is the whole desired state; a negative
                # id is a new dashcard, a positive one an existing dashcard to keep or move.
                existing = {d["id"] for d in dashboard["dashcards"]}
                kept = []
                for d in body["dashcards"]:
                    if d["id"] > 0 and d["id"] not in existing:
                        return 400, {"message": "dashcard id does not belong to the dashboard"}
                    if d.get("card_id") not in s.cards:
                        return 400, {"message": "card does not exist"}
                    kept.append({**d, "id": d["id"] if d["id"] > 0 else s.new_id()})
                dashboard["dashcards"] = kept
            dashboard.update({k: v for k, v in body.items() if k != "dashcards"})
            return 200, dashboard
        return 404, "API endpoint does not exist."


class FakeMetabase:
    """``with FakeMetabase() as mb: ... mb.url ... mb.state.calls``"""

    def __init__(self):
        self.state = State()
        handler = type("Handler", (_Handler,), {"state": self.state, "lock": threading.Lock()})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeMetabase:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def writes(self) -> list[Call]:
        return [
            c
            for c in self.state.calls
            if c.method in ("POST", "PUT") and not c.path.endswith(("/sync_schema", "/api/session"))
        ]
