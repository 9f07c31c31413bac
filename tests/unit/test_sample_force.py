"""The sample generator for a home force other than Lancashire (seed forces, VAWG_HOME_FORCE):
its local authorities, its police.uk files, its services and CPS area, at its size."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from vawg_devtools.sample import DEFAULT_PROFILE, generate
from vawg_warehouse.forces import UnknownForceError, home_force
from vawg_warehouse.ingest.landing_files import read_seed

START, END = date(2024, 7, 1), date(2024, 9, 30)  # three whole months
CUMBRIA_LAS = {"E06000063", "E06000064"}


def _rows(paths) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(paths):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    return rows


@pytest.fixture(scope="module")
def cumbria(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("cumbria")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAWG_HOME_FORCE", "cumbria")
        generate(landing, start=START, end=END)
    return landing


def test_the_force_comes_from_seed_forces(monkeypatch: pytest.MonkeyPatch) -> None:
    assert home_force().name == "Lancashire"  # the default
    monkeypatch.setenv("VAWG_HOME_FORCE", "cumbria")
    force = home_force()
    assert (force.code, force.name, force.police_force_area_code) == (
        "cumbria",
        "Cumbria",
        "E23000002",
    )
    with pytest.raises(UnknownForceError, match="known forces are .*cumbria.*lancashire"):
        home_force("atlantis")


def test_crimes_are_in_the_forces_authorities_at_its_size(cumbria: Path) -> None:
    crimes = _rows((cumbria / "force" / "crimes").glob("*.csv"))
    assert {r["local_authority_code"] for r in crimes} == CUMBRIA_LAS
    for folder in ("marac", "orders"):
        rows = _rows((cumbria / "force" / folder).glob("*.csv"))
        assert rows and {r["local_authority_code"] for r in rows} <= CUMBRIA_LAS, folder
    # realistic volume in proportion to population: Lancashire's profile times Cumbria's
    # population (seed population_mid_year) over the profile's
    people = sum(
        int(r["persons"])
        for r in read_seed("population_mid_year")
        if r["local_authority_code"] in CUMBRIA_LAS
    )
    expected = DEFAULT_PROFILE.crimes_per_month * people / DEFAULT_PROFILE.reference_population * 3
    assert 0.85 * expected < len(crimes) < 1.15 * expected, (len(crimes), expected)
    assert len(crimes) < 0.5 * DEFAULT_PROFILE.crimes_per_month * 3  # not Lancashire's volume


def test_public_services_and_cps_files_are_the_forces(cumbria: Path) -> None:
    street = sorted((cumbria / "policeuk").rglob("*-street.csv"))
    assert street and all(p.name.endswith("-cumbria-street.csv") for p in street)
    rows = _rows(street)
    assert {r["Reported by"] for r in rows} == {"Cumbria Constabulary"}
    names = {r["LSOA name"].rsplit(" ", 1)[0] for r in rows if r["LSOA name"]}
    assert "Carlisle" in names and "Preston" not in names
    returns = sorted(p.name for p in (cumbria / "services" / "returns").iterdir())
    assert returns and all(name.startswith("cumbria-") for name in returns), returns
    cps = _rows((cumbria / "cps" / "quarterly").glob("*.csv"))
    areas = {r["area_name"] for r in cps}
    assert "Cumbria" in areas and "Lancashire" not in areas, areas
