"""Person identifiers outside their contract's alphabet are set aside, not pseudonymised
(issue 20): a Cyrillic look-alike letter in a victim id would hash to a second, unlinkable
pseudonym for what reads as the same person. The row is quarantined with its file, row and rule;
neither the value nor any pseudonym of it is stored."""

from __future__ import annotations

import csv
import hashlib
import hmac
from datetime import date

import psycopg

from tests.conftest import TEST_KEY
from vawg_devtools.sample import generate
from vawg_warehouse import orchestration as o
from vawg_warehouse.ingest import columnar
from vawg_warehouse.ingest.contracts import DEFAULT_ID_ALPHABET, load_contract
from vawg_warehouse.ingest.privacy import OUTSIDE_ALPHABET, Pseudonymiser, in_alphabet

CYRILLIC_ER = "\u0420"  # looks like a Latin P
RULE = "victim_id holds only the characters of its contract's alphabet"


def test_the_default_alphabet_takes_the_publishers_id_formats_and_nothing_else() -> None:
    inside = in_alphabet(DEFAULT_ID_ALPHABET)
    for identifier in ("P000123456", "p000123456 ", "12345/24", "AB-1234.5", "X_1", "", None):
        assert inside(identifier), identifier
    assert inside("\uff30123456")  # full-width: NFKC makes it plain P123456 (same person)
    for identifier in (f"{CYRILLIC_ER}000123456", "P00012345\u0665", "P1\u200b2", "P1\t2", "P1;"):
        assert not inside(identifier), repr(identifier)
    for contract in ("force_crimes", "force_marac_cases", "force_protective_orders"):
        assert all(c.alphabet for c in load_contract(contract).pseudonymised)


def test_an_identifier_outside_its_alphabet_is_set_aside_with_file_row_and_rule(
    migrated, tmp_path, monkeypatch
) -> None:
    landing = tmp_path / "landing"
    monkeypatch.setenv("VAWG_LANDING_DIR", str(landing))
    generate(landing, start=date(2025, 1, 1), end=date(2025, 1, 1), rows=40, seed=11)
    (file,) = (landing / "force" / "crimes").glob("crimes_*.csv")
    with file.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    look_alike = CYRILLIC_ER + rows[0]["victim_id"][1:]
    rows[0]["victim_id"] = look_alike  # line 2
    full_width = "\uff30" + rows[1]["victim_id"][1:]  # full-width P: the same person as P...
    rows[1]["victim_id"] = full_width
    with file.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    ctx = o.run_context("vawg_nightly", "run-alphabet", date(2025, 1, 2))
    ids = o.register_files("force_crimes", ctx)
    passed = o.validate_batches(o.load_batches(ids, ctx), ctx)
    assert o.publish_batches(passed, ctx) == 39

    key = TEST_KEY.encode()
    of_look_alike = hmac.new(key, look_alike.upper().encode(), hashlib.sha256).hexdigest()
    with psycopg.connect(migrated.url) as conn:
        rejected = conn.execute(
            "select b.file_name, r.row_number, r.rule from audit.rejected_row as r "
            "join audit.load_batch as b using (batch_id)"
        ).fetchall()
        published = {
            v for (v,) in conn.execute("select victim_pseudonym from raw_force.crimes").fetchall()
        }
        held = conn.execute(
            f"select victim_pseudonym from quarantine.force_crimes__b{ids[0]}"
        ).fetchall()
    assert rejected == [(f"force/crimes/{file.name}", 2, RULE)]
    assert held == [(OUTSIDE_ALPHABET,)]  # set aside: the mark, never the value nor a hash
    assert look_alike not in published and of_look_alike not in published
    assert Pseudonymiser(key)("P" + full_width[1:]) in published  # the same person as P...


def test_the_row_path_marks_what_the_columnar_path_marks(migrated, tmp_path) -> None:
    from tests.unit.test_columnar import HEADER, land_both_ways, row

    path = tmp_path / "crimes.csv"
    ids = ["P1", f"{CYRILLIC_ER}1", "\uff301", "P;1"]
    path.write_text(
        ",".join(HEADER) + "\n" + "".join(",".join(row(n, v)) + "\n" for n, v in enumerate(ids))
    )
    with psycopg.connect(migrated.url, autocommit=True) as conn:
        fast, exact, notes = land_both_ways(conn, path)
    assert notes == [] and fast == exact
    victims = [r[6] for r in exact]
    assert victims[1] == victims[3] == OUTSIDE_ALPHABET
    assert victims[0] == victims[2] == Pseudonymiser(TEST_KEY.encode())("P1")


def test_the_columnar_path_marks_the_same_values_as_the_row_path() -> None:
    mark = columnar._pseudonymised
    import pyarrow as pa

    values = pa.array(["P1", f"{CYRILLIC_ER}1", None, "p 2", "\uff301"])
    pseudonymise = Pseudonymiser(TEST_KEY.encode())
    got = mark(values, pseudonymise.many, DEFAULT_ID_ALPHABET).to_pylist()
    assert got[1] == OUTSIDE_ALPHABET and got[2] is None
    assert got[0] == got[4] == pseudonymise("P1") and got[3] == pseudonymise("P 2")
    ascii_only = mark(pa.array(["P1", "P;1"]), pseudonymise.many, DEFAULT_ID_ALPHABET)
    assert ascii_only.to_pylist() == [pseudonymise("P1"), OUTSIDE_ALPHABET]
