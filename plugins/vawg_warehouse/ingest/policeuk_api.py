"""Fetch a recent month from the data.police.uk API and write it as archive files for landing.

data.police.uk publishes each month in a downloadable archive some weeks after the API has it.
For a month not yet in an archive, this writes ``YYYY-MM-<force>-street.csv`` and
``YYYY-MM-<force>-outcomes.csv`` in the archive's format under
``$VAWG_LANDING_DIR/policeuk/api-YYYY-MM/``, so the same load path (contract, suite, raw tables,
the latest release of a force's month wins) applies; the archive, when it comes, is a later
release and replaces it.

How a force's month is fetched (API methods, documented at data.police.uk/docs):
``forces/{force}`` (its name, for "Reported by"), ``{force}/neighbourhoods`` and each
``{force}/{id}/boundary``; ``crimes-street/all-crime`` and ``outcomes-at-location`` for each
boundary polygon (POSTed: boundaries are long); ``crimes-no-location`` for the rest. Crimes on a
boundary come back for both neighbourhoods: they are kept once (by the API's crime id), outcomes
once (by crime, outcome and month). A polygon holding more than 10,000 crimes answers 503: that
is reported, never retried. Rate limits (429) and server errors are retried with exponential
back-off.

What the API does not give: LSOA codes and names (those rows fall to the unknown local authority
until the archive replaces them) and outcomes of crimes with no location.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing_files import read_seed, write_csv
from vawg_warehouse.ingest.releases import MANIFEST

log = logging.getLogger(__name__)

API_ROOT = "https://data.police.uk/api"
API_URL_ENV = "VAWG_POLICEUK_API_URL"  # another root (a mirror, a proxy, a test server)
STREET, OUTCOMES = "public_policeuk_street_crimes", "public_policeuk_outcomes"
RETRY_STATUSES = {429, 500, 502, 504}
TOO_MANY_CRIMES = 503  # documented: a custom area with more than 10,000 crimes


class PoliceUkApiError(RuntimeError):
    """The API could not give what was asked (after retries), said plainly."""


@dataclass
class PoliceUkApi:
    """A small client: JSON over HTTPS, retries with exponential back-off."""

    base_url: str = API_ROOT
    timeout_seconds: float = 60
    attempts: int = 5
    backoff_seconds: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @classmethod
    def from_environment(cls) -> PoliceUkApi:
        return cls(base_url=os.environ.get(API_URL_ENV, API_ROOT).rstrip("/"))

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._request(urllib.request.Request(f"{self.base_url}/{path}{query}"))

    def post(self, path: str, form: dict[str, str]) -> Any:
        body = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(f"{self.base_url}/{path}", data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        return self._request(request)

    def _request(self, request: urllib.request.Request) -> Any:
        where = request.full_url.split("?")[0]
        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                if exc.code == TOO_MANY_CRIMES:
                    raise PoliceUkApiError(
                        f"{where}: more than 10,000 crimes in the area (HTTP 503)"
                    ) from None
                if exc.code not in RETRY_STATUSES or attempt == self.attempts:
                    raise PoliceUkApiError(f"{where}: HTTP {exc.code} {exc.reason}") from None
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError) as exc:
                if attempt == self.attempts:
                    raise PoliceUkApiError(f"{where}: {exc}") from None
                reason = str(exc)
            wait = self.backoff_seconds * 2 ** (attempt - 1)
            log.warning("%s: %s, retry %d in %.1f s", where, reason, attempt, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class FetchResult:
    force: str
    month: str
    street_path: Path | None
    outcomes_path: Path | None
    street_rows: int = 0
    outcome_rows: int = 0
    skipped_reason: str | None = None


def archived_months(landing_dir: Path, force: str) -> set[str]:
    """Months of the force that already have a street file anywhere below policeuk/."""
    folder = load_contract(STREET).landing_dir(landing_dir)
    suffix = f"-{force}-street.csv"
    return (
        {p.name[:7] for p in folder.rglob(f"????-??{suffix}") if p.is_file()}
        if folder.is_dir()
        else set()
    )


def latest_month(api: PoliceUkApi) -> str:
    """The latest month the API holds (crimes-street-dates lists newest first)."""
    dates = api.get("crimes-street-dates")
    return max(d["date"] for d in dates)


def _poly(boundary: list[dict[str, str]]) -> str:
    return ":".join(f"{p['latitude']},{p['longitude']}" for p in boundary)


def _location(crime: dict) -> tuple[str, str, str]:
    location = crime.get("location")
    if not location:
        return "", "", "No Location"
    street = (location.get("street") or {}).get("name") or ""
    return location.get("longitude") or "", location.get("latitude") or "", street


FORCE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def check_force_id(force: str) -> str:
    """The force id, or PoliceUkApiError: lowercase letters, digits and single hyphens only (every
    id data.police.uk lists), so it cannot leave the landing folder when it names a file."""
    if not FORCE_ID.fullmatch(force or "") or len(force) > 64:
        raise PoliceUkApiError(
            f"force {force!r} is not a data.police.uk force id (lowercase letters, digits and "
            "hyphens, e.g. lancashire)"
        )
    return force


def fetch_month(
    force: str,
    month: str,
    landing_dir: Path,
    api: PoliceUkApi | None = None,
    *,
    refetch: bool = False,
) -> FetchResult:
    """Write the force's month from the API as archive-format files; skip a month archived.
    ``force`` is a data.police.uk force id (``lancashire``): it names the files, so anything
    else (``../../x``) is refused before the API is asked."""
    check_force_id(force)
    api = api or PoliceUkApi()
    if not refetch and month in archived_months(landing_dir, force):
        return FetchResult(force, month, None, None, skipped_reason="already in the landing folder")
    crime_types = {r["api_category"]: r["crime_type"] for r in read_seed("policeuk_crime_types")}
    name = api.get(f"forces/{force}")["name"]

    crimes: dict[Any, dict] = {}
    outcomes: dict[tuple, dict] = {}
    for neighbourhood in api.get(f"{force}/neighbourhoods"):
        boundary = api.get(f"{force}/{urllib.parse.quote(neighbourhood['id'])}/boundary")
        if not boundary:
            continue
        form = {"poly": _poly(boundary), "date": month}
        for crime in api.post("crimes-street/all-crime", form):
            crimes.setdefault(crime["id"], crime)
        for outcome in api.post("outcomes-at-location", form):
            key = (
                outcome["crime"]["persistent_id"],
                outcome["category"]["code"],
                outcome["date"],
                outcome.get("person_id"),
            )
            outcomes.setdefault(key, outcome)
    no_location = api.get(
        "crimes-no-location", {"category": "all-crime", "force": force, "date": month}
    )
    for crime in no_location:
        crimes.setdefault(crime["id"], crime)

    street_rows = []
    for crime in sorted(crimes.values(), key=lambda c: c["id"]):
        longitude, latitude, location = _location(crime)
        if crime["category"] not in crime_types:
            raise PoliceUkApiError(
                f"crime category {crime['category']!r} is not in seed policeuk_crime_types "
                "(column api_category): add it"
            )
        status = crime.get("outcome_status") or {}
        street_rows.append([
            crime.get("persistent_id") or "",
            crime.get("month") or month,
            name,
            name,
            longitude,
            latitude,
            location,
            "",  # LSOA code: not in the API
            "",  # LSOA name
            crime_types[crime["category"]],
            status.get("category") or "",
            crime.get("context") or "",
        ])  # fmt: skip
    outcome_rows = []
    for outcome in outcomes.values():
        longitude, latitude, location = _location(outcome["crime"])
        outcome_rows.append([
            outcome["crime"]["persistent_id"],
            outcome["date"],
            name,
            name,
            longitude,
            latitude,
            location,
            "",
            "",
            outcome["category"]["name"],
        ])  # fmt: skip
    outcome_rows.sort(key=lambda r: r[0])

    folder = load_contract(STREET).landing_dir(landing_dir) / f"api-{month}"
    if not folder.resolve().is_relative_to(Path(landing_dir).resolve()):
        raise PoliceUkApiError(f"{folder} is outside the landing folder: nothing written")
    street_path = folder / f"{month}-{force}-street.csv"
    outcomes_path = folder / f"{month}-{force}-outcomes.csv"
    write_csv(street_path, load_contract(STREET).file_headers, street_rows)
    write_csv(outcomes_path, load_contract(OUTCOMES).file_headers, outcome_rows)
    # The release these files are (releases.py): the API as it stood the day it was asked.
    (folder / MANIFEST).write_text(
        f"released: {datetime.now(UTC).date().isoformat()}\nname: data.police.uk API\n"
    )
    log.info(
        "%s %s: %d crimes, %d outcomes from the API",
        force,
        month,
        len(street_rows),
        len(outcome_rows),
    )
    return FetchResult(
        force, month, street_path, outcomes_path, len(street_rows), len(outcome_rows)
    )
