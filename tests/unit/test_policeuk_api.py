"""The data.police.uk API extractor against a local HTTP server that answers in the API's
documented JSON (data.police.uk/docs: forces, neighbourhoods, boundary, crimes-street,
crimes-no-location, outcomes-at-location, crimes-street-dates). No network."""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import discover
from vawg_warehouse.ingest.policeuk_api import (
    PoliceUkApi,
    PoliceUkApiError,
    fetch_month,
    latest_month,
)

MONTH = "2025-01"


def _pid(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _crime(crime_id: int, category: str, label: str | None, located: bool = True, **extra):
    location = (
        {
            "latitude": "53.763000",
            "street": {"id": 1000 + crime_id, "name": "On or near Church Street"},
            "longitude": "-2.703000",
        }
        if located
        else None
    )
    return {
        "category": category,
        "location_type": "Force" if located else None,
        "location": location,
        "context": "",
        "outcome_status": extra.get("outcome_status"),
        "persistent_id": _pid(label) if label else "",
        "id": crime_id,
        "location_subtype": "",
        "month": MONTH,
    }


# Two neighbourhoods whose boundaries touch: crime 2 is returned for both.
CRIMES = {
    "N1": [
        _crime(
            1,
            "violent-crime",
            "a",
            outcome_status={"category": "Under investigation", "date": MONTH},
        ),
        _crime(2, "anti-social-behaviour", None),
    ],
    "N2": [
        _crime(2, "anti-social-behaviour", None),
        _crime(
            3, "public-order", "c", outcome_status={"category": "Local resolution", "date": MONTH}
        ),
    ],
}
NO_LOCATION = [_crime(4, "violent-crime", "d", located=False)]
OUTCOME = {
    "category": {"code": "unable-to-prosecute", "name": "Unable to prosecute suspect"},
    "date": MONTH,
    "person_id": None,
    "crime": {**_crime(9, "violent-crime", "z"), "month": "2024-11"},  # an earlier month's crime
}


class Api(BaseHTTPRequestHandler):
    failures_left: dict[str, int] = {}  # path -> how many 429s to answer first
    requests: list[str] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload=None) -> None:
        body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, path: str, params: dict[str, str]):
        if path == "forces/lancashire":
            return {"id": "lancashire", "name": "Lancashire Constabulary"}
        if path == "lancashire/neighbourhoods":
            return [{"id": "N1", "name": "Preston City"}, {"id": "N2", "name": "Fishwick"}]
        if path.startswith("lancashire/") and path.endswith("/boundary"):
            offset = 0.0 if "N1" in path else 0.01
            return [
                {"latitude": f"{53.76 + offset}", "longitude": "-2.71"},
                {"latitude": f"{53.77 + offset}", "longitude": "-2.70"},
                {"latitude": f"{53.76 + offset}", "longitude": "-2.69"},
            ]
        if path == "crimes-street/all-crime":
            neighbourhood = "N1" if params["poly"].startswith("53.76,") else "N2"
            assert params["date"] == MONTH
            return CRIMES[neighbourhood]
        if path == "outcomes-at-location":
            return [OUTCOME]  # the same outcome in both polygons: kept once
        if path == "crimes-no-location":
            assert params == {"category": "all-crime", "force": "lancashire", "date": MONTH}
            return NO_LOCATION
        if path == "crimes-street-dates":
            return [{"date": "2025-02", "stop-and-search": []}, {"date": MONTH}]
        return None

    def _handle(self, params: dict[str, str]) -> None:
        path = urllib.parse.urlparse(self.path).path.removeprefix("/api/")
        type(self).requests.append(f"{self.command} {path}")
        if self.failures_left.get(path):
            self.failures_left[path] -= 1
            return self._send(429, {"error": "rate limited"})
        if path == "crimes-street/too-many":
            return self._send(503)
        payload = self._route(path, params)
        self._send(404 if payload is None else 200, payload)

    def do_GET(self) -> None:
        self._handle(dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query)))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self._handle(dict(urllib.parse.parse_qsl(body)))


@pytest.fixture
def api() -> Iterator[PoliceUkApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Api.requests = []
    Api.failures_left = {"lancashire/neighbourhoods": 2}  # answered 429 twice, then the list
    waits: list[float] = []
    client = PoliceUkApi(
        base_url=f"http://127.0.0.1:{server.server_address[1]}/api",
        timeout_seconds=5,
        backoff_seconds=0.5,
        sleep=waits.append,
    )
    client.waits = waits  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        server.shutdown()
        server.server_close()


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_a_month_is_written_as_archive_files_the_loader_finds(api, tmp_path: Path) -> None:
    result = fetch_month("lancashire", MONTH, tmp_path, api)
    assert (result.street_rows, result.outcome_rows) == (4, 1)
    header, street = _read(result.street_path)
    assert header == load_contract("public_policeuk_street_crimes").file_headers
    by_type = {(r["Crime ID"], r["Crime type"]): r for r in street}
    assert set(by_type) == {
        (_pid("a"), "Violence and sexual offences"),
        ("", "Anti-social behaviour"),  # on both boundaries, kept once; no Crime ID
        (_pid("c"), "Public order"),
        (_pid("d"), "Violence and sexual offences"),
    }
    assert {r["Reported by"] for r in street} == {"Lancashire Constabulary"}
    assert by_type[(_pid("c"), "Public order")]["Last outcome category"] == "Local resolution"
    no_location = by_type[(_pid("d"), "Violence and sexual offences")]
    assert (no_location["Location"], no_location["Longitude"], no_location["LSOA code"]) == (
        "No Location",
        "",
        "",
    )
    header, outcomes = _read(result.outcomes_path)
    assert header == load_contract("public_policeuk_outcomes").file_headers
    assert outcomes == [
        {
            "Crime ID": _pid("z"),
            "Month": MONTH,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": "-2.703000",
            "Latitude": "53.763000",
            "Location": "On or near Church Street",
            "LSOA code": "",
            "LSOA name": "",
            "Outcome type": "Unable to prosecute suspect",
        }
    ]
    found = {(f.dataset, f.relative_path) for f in discover(tmp_path)}
    assert found == {
        ("public_policeuk_street_crimes", f"policeuk/api-{MONTH}/{MONTH}-lancashire-street.csv"),
        ("public_policeuk_outcomes", f"policeuk/api-{MONTH}/{MONTH}-lancashire-outcomes.csv"),
    }
    # two 429s on the neighbourhoods list, retried after 0.5 s then 1 s
    assert api.waits == [0.5, 1.0]
    assert Api.requests.count("GET lancashire/neighbourhoods") == 3
    assert Api.requests.count("POST crimes-street/all-crime") == 2  # the poly is POSTed


def test_a_month_already_in_an_archive_is_not_fetched(api, tmp_path: Path) -> None:
    archived = tmp_path / "policeuk" / MONTH / f"{MONTH}-lancashire-street.csv"
    archived.parent.mkdir(parents=True)
    archived.write_text("Crime ID\n")
    result = fetch_month("lancashire", MONTH, tmp_path, api)
    assert result.skipped_reason == "already in the landing folder"
    assert Api.requests == []


def test_latest_month_and_errors_are_plain(api) -> None:
    assert latest_month(api) == "2025-02"
    with pytest.raises(PoliceUkApiError, match="more than 10,000 crimes"):
        api.post("crimes-street/too-many", {"poly": "1,1:2,2:3,3"})
    with pytest.raises(PoliceUkApiError, match="HTTP 404"):
        api.get("forces/nowhere")
    assert api.waits == []  # neither is retried


def test_the_cli_fetches_a_month_into_the_landing_folder(api, tmp_path, monkeypatch, capsys):
    from vawg_warehouse import cli
    from vawg_warehouse.ingest import policeuk_api

    monkeypatch.setenv("VAWG_LANDING_DIR", str(tmp_path))
    monkeypatch.setenv(policeuk_api.API_URL_ENV, api.base_url)
    monkeypatch.setattr(Api, "failures_left", {})  # no retries (their waits would be real)
    assert cli.main(["fetch-policeuk", "--force", "lancashire", "--month", MONTH]) == 0
    assert (tmp_path / "policeuk" / f"api-{MONTH}" / f"{MONTH}-lancashire-street.csv").exists()
    assert "4 crimes" in capsys.readouterr().out
    assert cli.main(["fetch-policeuk", "--force", "lancashire", "--month", MONTH]) == 0
    assert "skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["fetch-policeuk", "--force", "lancashire", "--month", "2025-13"])
