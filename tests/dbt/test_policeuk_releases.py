"""police.uk release precedence by release date, not folder order (releases.py).

The same force and month from a July 2022 custom download and a January 2023 archive, the newer
one registered first (its folder name sorts first): the archive must still win in the mart. And
how a file's release is read: a manifest, a dated folder above the archive's month folder, the
API's folders, or none.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import psycopg
import pytest

from vawg_warehouse import orchestration as o
from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.releases import Release, release_of

STREET = load_contract("public_policeuk_street_crimes")
FORCE = "Lancashire Constabulary"
CRIME_IDS = ["a" * 64, "b" * 64, "c" * 64]
ARCHIVE = "policeuk/archive-2023-01/2022-06/2022-06-lancashire-street.csv"
CUSTOM = "policeuk/custom-download/2022-06/2022-06-lancashire-street.csv"


def street(path: Path, outcome: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        [crime_id, "2022-06", FORCE, FORCE, "-2.703", "53.763", "On or near Church Street",
         "E01025305", "Preston 012B", "Violence and sexual offences", outcome, ""]
        for crime_id in CRIME_IDS
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([STREET.file_headers, *rows])


def test_a_release_is_read_from_a_manifest_a_dated_folder_or_the_api(tmp_path: Path) -> None:
    def of(relative: str) -> Release:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return release_of(tmp_path, "policeuk", relative)

    # the archive unzipped into a folder named after it; its own month folder is passed over
    assert of(ARCHIVE) == Release(date(2023, 1, 1), "folder archive-2023-01")
    assert of("policeuk/2023-01/2023-01/2023-01-lancashire-street.csv").released == date(2023, 1, 1)
    assert of("policeuk/zips/2025-04-17/2025-01/2025-01-cumbria-street.csv").released == date(
        2025, 4, 17
    )
    # unzipped straight into policeuk/: the month folder is not a release
    assert of("policeuk/2022-06/2022-06-lancashire-street.csv") == Release(None, "unknown")
    # a manifest beats the folder names, the nearest one first
    (tmp_path / "policeuk/custom-download").mkdir(parents=True, exist_ok=True)
    (tmp_path / "policeuk/custom-download/release.yml").write_text("released: 2022-07-18\n")
    assert of(CUSTOM) == Release(date(2022, 7, 18), "manifest policeuk/custom-download/release.yml")
    api = of("policeuk/api-2025-01/2025-01-lancashire-street.csv")
    assert api.is_api and api.released is None


@pytest.fixture
def landing(migrated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    return landing


@pytest.mark.slow  # a dbt build: the full suite, not the fast tier (README)
def test_the_newer_release_wins_whatever_order_the_files_were_registered_in(migrated, landing):
    # The January 2023 archive: the month as police.uk published it then.
    street(landing / ARCHIVE, "Investigation complete; no suspect identified")
    # A custom download made in July 2022, with the day it was made in a manifest beside it.
    street(landing / CUSTOM, "Under investigation")
    (landing / "policeuk/custom-download/release.yml").write_text(
        "released: 2022-07-18\nname: custom download, Lancashire, June 2022\n"
    )
    ctx = o.run_context("vawg_nightly", "releases-1", date(2023, 2, 1))
    ids = o.register_files("public_policeuk_street_crimes", ctx)
    o.publish_batches(o.validate_batches(o.load_batches(ids, ctx), ctx), ctx)

    success, nodes, _, exception = transform.invoke(
        "build",
        get_settings(),
        ["--select", "+mart_public_crime_monthly", "--exclude-resource-type", "unit_test", "test"],
    )
    failed = [n.node.unique_id for n in nodes if str(n.status) in transform.FAILED_STATUSES]
    assert success and exception is None and not failed, (exception, failed)

    with psycopg.connect(migrated.url) as conn:
        batches = conn.execute(
            "select file_name, source_release_date, source_release from audit.load_batch "
            "order by batch_id"
        ).fetchall()
        cells = conn.execute(
            "select outcome_category, crime_count from marts.mart_public_crime_monthly "
            "where month_start_date = '2022-06-01'"
        ).fetchall()
    # registered in folder order: the newer archive first, the older download last
    assert batches == [
        (ARCHIVE, date(2023, 1, 1), "folder archive-2023-01"),
        (CUSTOM, date(2022, 7, 18), "manifest policeuk/custom-download/release.yml"),
    ]
    assert cells == [("Investigation complete; no suspect identified", 3)]
