"""The reports in the Airflow UI: a small FastAPI app the Airflow 3 plugin
(``plugins/vawg_reports_plugin.py``) mounts on the API server at ``/vawg``, and the menu entries
(external views) that open its pages inside the UI.

It serves, read-only, what the nightly run writes to the reports folder: the measures scorecard
(HTML and PDF), the auditor's run reports and their index, each run's Great Expectations Data
Docs and the static dbt docs, so an auditor needs no shell. Every request needs an Airflow login
allowed to see the UI (the dependency the plugin passes in); a path outside the reports folder,
a hidden file or a symbolic link is never served.

This module imports FastAPI, not Airflow: the plugin module injects Airflow's auth dependency.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from vawg_warehouse.config import get_settings

URL_PREFIX = "/vawg"

# Menu entries of the Airflow UI (plugin external_views): each page opens inside the UI.
# Relative hrefs: the UI resolves them against its base URL, so a deployment under a path works.
EXTERNAL_VIEWS = [
    {
        "name": "VAWG scorecard",
        "href": "vawg/reports/scorecard/index.html",
        "url_route": "vawg-scorecard",
        "destination": "nav",
        "category": "VAWG reports",
    },
    {
        "name": "Run reports",
        "href": "vawg/reports/index.html",
        "url_route": "vawg-run-reports",
        "destination": "nav",
        "category": "VAWG reports",
    },
    {
        "name": "Data Docs",
        "href": "vawg/data-docs/",
        "url_route": "vawg-data-docs",
        "destination": "nav",
        "category": "VAWG reports",
    },
    {
        "name": "dbt docs",
        "href": "vawg/reports/dbt_docs/index.html",
        "url_route": "vawg-dbt-docs",
        "destination": "nav",
        "category": "VAWG reports",
    },
]

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}


# Every page this app serves may use its own styles and images and nothing from another site;
# no script runs, except in dbt's docs page (one static page whose script is inline).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
DBT_DOCS_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)


def content_security_policy(path: str) -> str:
    """The policy for a path of this app (dbt's docs page needs its inline script)."""
    return (
        DBT_DOCS_POLICY
        if "/reports/dbt_docs/" in f"/{path.lstrip('/')}"
        else (CONTENT_SECURITY_POLICY)
    )


def _inside(root: Path, relative: str) -> Path:
    """The file ``relative`` names under ``root``, or 404: no '..', no hidden part, no link
    (symbolic or hard: a second name of a file may be a file outside the folder), no NUL."""
    parts = [p for p in relative.split("/") if p]
    if "\x00" in relative or any(p in (".", "..") or p.startswith(".") or "\\" in p for p in parts):
        raise HTTPException(status_code=404)
    path = root
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise HTTPException(status_code=404)
    if path.is_dir():
        path = path / "index.html"
    resolved_root = root.resolve()
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise HTTPException(status_code=404) from None
    if resolved_root not in resolved.parents or not resolved.is_file():
        raise HTTPException(status_code=404)
    if resolved.stat().st_nlink != 1:  # a hard link: the symlink checks cannot see where to
        raise HTTPException(status_code=404)
    if resolved.suffix.lower() not in MEDIA_TYPES:
        raise HTTPException(status_code=404)
    return resolved


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem;max-width:60rem}"
        "li{margin:.2rem 0}.muted{color:#5b6472}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def create_app(
    auth: Callable | None = None, reports_dir: Callable[[], Path] | None = None
) -> FastAPI:
    """The app; ``auth`` is a FastAPI dependency that refuses a request without a login."""
    dependencies = [Depends(auth)] if auth is not None else []
    app = FastAPI(
        title="VAWG warehouse reports",
        dependencies=dependencies,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    def root() -> Path:
        return reports_dir() if reports_dir else get_settings().reports_dir

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = content_security_policy(request.url.path)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        folder = root()
        items = [
            ("reports/scorecard/index.html", "Measures scorecard (Police and Crime Panel)"),
            ("reports/scorecard/scorecard.pdf", "Measures scorecard, PDF"),
            ("reports/index.html", "Run reports (every nightly run, newest first)"),
            ("data-docs/", "Data Docs (Great Expectations validations), by run"),
            ("reports/dbt_docs/index.html", "dbt docs (models, columns, tests, lineage)"),
        ]
        lines = []
        for href, label in items:
            target = folder / href.removeprefix("reports/") if href.startswith("reports/") else None
            missing = target is not None and not target.exists()
            note = " <span class='muted'>(not written yet)</span>" if missing else ""
            lines.append(f"<li><a href='{href}'>{html.escape(label)}</a>{note}</li>")
        return _page("VAWG warehouse reports", f"<ul>{''.join(lines)}</ul>")

    @app.get("/data-docs/", response_class=HTMLResponse)
    def data_docs_index() -> HTMLResponse:
        base = root() / "data_docs"
        runs = []
        if base.is_dir():
            runs = sorted(
                (  # a run's folder holds its page (not GX's old shared static-<version>)
                    p
                    for p in base.iterdir()
                    if p.is_dir() and not p.is_symlink() and (p / "index.html").is_file()
                ),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
        if not runs:
            return _page("Data Docs", "<p>No Data Docs written yet.</p>")
        links = "".join(
            f"<li><a href='../reports/data_docs/{html.escape(p.name)}/index.html'>"
            f"{html.escape(p.name)}</a></li>"
            for p in runs
        )
        return _page("Data Docs, newest run first", f"<ul>{links}</ul>")

    @app.get("/reports/{relative:path}")
    def report_file(relative: str) -> FileResponse:
        path = _inside(root(), relative)
        return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lower()])

    return app
