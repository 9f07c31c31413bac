"""The reports app, sent raw requests straight through ASGI (issue 20).

A test client normalises a URL before the app sees it (``/reports/../outside.html`` arrives as
``/outside.html``), so a traversal case sent through it passes with the containment check
removed. Here each request's path goes into the ASGI scope exactly as a server would hand it on,
and the first test shows the case can fail: with a naive containment the same request serves
the file outside the folder.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi import HTTPException

from vawg_warehouse.outputs import airflow_ui


def _get(app, raw_path: str) -> tuple[int, bytes]:
    """GET ``raw_path`` as an ASGI server passes it: percent-decoded, dot segments kept."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("latin-1"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []

    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays: the app's disconnect watch waits
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def call() -> None:
        await app(scope, receive, send)

    try:
        asyncio.run(call())
    except Exception:  # an error the app did not handle is the server's 500
        return 500, b""
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    (root / "runs").mkdir(parents=True)
    (root / "index.html").write_text("<html>runs</html>")
    (tmp_path / "outside.html").write_text("outside")
    return root


def _naive(root: Path, relative: str) -> Path:
    """What the app would do with no containment check."""
    path = root / relative
    if not path.is_file():
        raise HTTPException(status_code=404)
    return path


def test_a_raw_dot_dot_path_reaches_the_app_and_is_refused(reports, monkeypatch) -> None:
    app = airflow_ui.create_app(reports_dir=lambda: reports)
    assert _get(app, "/reports/index.html") == (200, b"<html>runs</html>")
    for raw in ("/reports/../outside.html", "/reports/runs/../../outside.html"):
        assert _get(app, raw)[0] == 404, raw
    # The same request with the containment check taken out serves the outside file: the case
    # above can fail, unlike one sent through a client that normalises the path.
    monkeypatch.setattr(airflow_ui, "_inside", _naive)
    naive = airflow_ui.create_app(reports_dir=lambda: reports)
    assert _get(naive, "/reports/../outside.html") == (200, b"outside")


def test_a_null_byte_is_not_found_not_a_server_error(reports) -> None:
    app = airflow_ui.create_app(reports_dir=lambda: reports)
    for raw in ("/reports/index.html%00.png", "/reports/%00", "/reports/runs%00/x.html"):
        assert _get(app, raw)[0] == 404, raw


def test_a_hard_link_to_a_file_outside_the_folder_is_refused(reports, tmp_path) -> None:
    os.link(tmp_path / "outside.html", reports / "runs" / "hard.html")
    app = airflow_ui.create_app(reports_dir=lambda: reports)
    assert _get(app, "/reports/runs/hard.html")[0] == 404
    # a file of the folder itself is still served
    (reports / "runs" / "r1.html").write_text("<html>r1</html>")
    assert _get(app, "/reports/runs/r1.html") == (200, b"<html>r1</html>")
