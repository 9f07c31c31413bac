"""The sample's ONS files (vawg_devtools.sample.ons): a mid-year estimates workbook and a Nomis
download in the publishers' layouts, read by the warehouse's own readers back to the seed's
figures for the home force's authorities, written once into a landing folder."""

from __future__ import annotations

from collections import Counter
from datetime import date

from vawg_devtools.sample import SOURCE_FACTORIES, generate
from vawg_devtools.sample.ons import NOMIS, WORKBOOK, OnsSource
from vawg_devtools.sample.reference import read_seed
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.ons_readers import mye2_records, nomis_records

LANCASHIRE = 14  # authorities of the home force (seed local_authorities)


def _seed(year: str) -> dict[str, dict[str, int]]:
    return {
        r["local_authority_code"]: {k: int(v) for k, v in r.items() if k[:1] in "pf"}
        for r in read_seed("population_mid_year")
        if r["reference_year"] == year
    }


def test_the_files_read_back_to_the_seed_figures(tmp_path) -> None:
    summary = generate(
        tmp_path, start=date(2024, 4, 1), end=date(2024, 4, 3), rows=30, sources=[OnsSource]
    )
    book = load_contract(WORKBOOK).landing_dir(tmp_path) / "mid-year-estimates-mid2021.xlsx"
    nomis = load_contract(NOMIS).landing_dir(tmp_path) / "nomis-population-estimates-2021.csv"
    seed = _seed("2021")

    records = list(mye2_records(book, book.name))
    assert records[0][1] == load_contract(WORKBOOK).file_headers
    rows = [values for _, values in records[1:]]
    assert summary.dataset(WORKBOOK).rows == len(rows) == 3 * LANCASHIRE * 92
    assert {r[0] for r in rows} == {"2021"}  # the year from the sheet titles
    single = Counter()
    for _year, sex, code, _name, _geography, age, population in rows:
        if age != "All ages":
            single[(code, sex, "all")] += int(population)
            if age == "90+" or int(age) >= 16:
                single[(code, sex, "16+")] += int(population)
        else:
            single[(code, sex, "given")] += int(population)
    assert {code for code, _, _ in single} <= set(seed) and len({c for c, _, _ in single}) == 14
    for code, figures in seed.items():
        if (code, "persons", "all") not in single:
            continue  # another force's authority
        assert single[(code, "persons", "all")] == single[(code, "persons", "given")]
        assert single[(code, "persons", "all")] == figures["persons"]
        assert single[(code, "females", "all")] == figures["females"]
        assert single[(code, "persons", "16+")] == figures["persons_16_plus"]
        assert single[(code, "females", "16+")] == figures["females_16_plus"]
        assert single[(code, "males", "all")] == figures["persons"] - figures["females"]

    records = list(nomis_records(nomis, nomis.name))
    assert records[0][1] == load_contract(NOMIS).file_headers
    rows = [values for _, values in records[1:]]
    assert summary.dataset(NOMIS).rows == len(rows) == 2 * 2 * LANCASHIRE
    by_key = {(r[1], r[3], r[4]): int(r[5]) for r in rows}
    for code in {r[3] for r in rows}:
        assert by_key[("Total", code, "All Ages")] == seed[code]["persons"]
        assert by_key[("Female", code, "Aged 16+")] == seed[code]["females_16_plus"]


def test_written_once_and_byte_identical_for_the_same_arguments(tmp_path) -> None:
    args = dict(start=date(2024, 4, 1), end=date(2024, 4, 2), rows=20, sources=[OnsSource])
    generate(tmp_path / "a", **args)
    generate(tmp_path / "b", **args)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    ons = [f for f in files if f.parts[0] == "ons"]
    assert len(ons) == 2
    for f in ons:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    # a later run into the same folder (the next night's files) leaves them as downloaded
    stamps = {f: (tmp_path / "a" / f).stat().st_mtime_ns for f in ons}
    later = generate(tmp_path / "a", start=date(2024, 4, 3), end=date(2024, 4, 3), rows=5,
                     sources=[OnsSource])  # fmt: skip
    assert {f: (tmp_path / "a" / f).stat().st_mtime_ns for f in ons} == stamps
    assert later.dataset(WORKBOOK).files == later.dataset(NOMIS).files == 0


def test_in_the_default_sample(tmp_path) -> None:
    """The default sample (the demo's, the integration run's) drops both files on its first day:
    the nightly builds the shared group after the public extract that publishes them
    (tests/dags/test_dag_integrity.py), so the demo's population estimates are loaded, not
    flagged never loaded."""
    assert OnsSource in SOURCE_FACTORIES
    summary = generate(tmp_path, start=date(2024, 4, 1), end=date(2024, 4, 1), rows=10)
    assert summary.dataset(WORKBOOK).files == summary.dataset(NOMIS).files == 1
    assert len([p for p in (tmp_path / "ons").rglob("*") if p.is_file()]) == 2
