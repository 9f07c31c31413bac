"""End to end: the real vawg_nightly DAG, run through Airflow by `vawg run`, on generated files.

One throwaway database and one VAWG_HOME (Airflow's SQLite metadata, landing folder) for the
module. The mart's figures are compared with counts computed here, in Python, straight from the
generated CSV files and the reference seeds: no SQL and no dbt in the expected side.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.integration.conftest import RUN_DATE, query, seed_rows, vawg
from vawg_devtools.sample import write_bad_crimes_file
from vawg_warehouse.dbt_run.transform import GROUPS
from vawg_warehouse.ingest.contracts import load_contract
from vawg_warehouse.ingest.landing import discover
from vawg_warehouse.outputs.reports import run_page_path, safe_name

# Re-runs the DAG and adds a bad file: after every read-only test of the shared run.
pytestmark = [pytest.mark.integration, pytest.mark.changes_shared_fixture]

BAD_DAY = date(2025, 2, 1)


def _data_rows(path: Path, dataset: str) -> int:
    """Rows the loader reads from a file, counted from the file alone: lines of a CSV below its
    header, non-empty rows of the contract's worksheet; the population estimates' published
    layouts are read long, one row per area and figure (an MYE2 sheet's `All ages` and single
    years, a Nomis table's columns after `mnemonic`), below their titles and notes."""
    if dataset == "public_ons_mid_year_estimates":
        from openpyxl import load_workbook

        total = 0
        for sheet in load_workbook(path, read_only=True).worksheets:
            if not sheet.title.startswith("MYE2"):
                continue  # the cover sheet
            rows = [r for r in sheet.iter_rows(values_only=True) if any(r)]
            top = next(i for i, r in enumerate(rows) if r[0] == "Code")
            total += (len(rows) - top - 1) * (len(rows[top]) - rows[top].index("All ages"))
        return total
    if dataset == "public_nomis_population_estimates":
        total, figures = 0, 0
        with path.open(newline="") as fh:
            for row in csv.reader(fh):
                if "mnemonic" in row:
                    figures = len(row) - row.index("mnemonic") - 1
                elif not any(row):
                    figures = 0  # a table ends at a blank line; titles and footnotes around it
                else:
                    total += figures
        return total
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True)[load_contract(dataset).file_format["sheet"]]
        return sum(1 for row in sheet.iter_rows(values_only=True) if any(row)) - 1
    with path.open(newline="") as fh:
        return sum(1 for row in csv.reader(fh) if row) - 1


def _crime_rows(landing: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted((landing / "force" / "crimes").glob("crimes_*.csv")):
        with path.open(newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def expected_mart(landing: Path) -> dict[tuple[date, str, str], dict]:
    """The measure 1 mart, computed from the files and the seeds alone."""
    rules = seed_rows("reporting_category_rules")
    by_code: dict[str, set[str]] = {}
    flag_categories = set()
    for rule in rules:
        if rule["selection_rule"] == "offence_code":
            by_code.setdefault(rule["ho_offence_code"], set()).add(rule["reporting_category"])
        else:
            flag_categories.add(rule["reporting_category"])
    categories = {
        c["reporting_category"]: c["population_basis"] for c in seed_rows("reporting_categories")
    }
    population = {
        (p["local_authority_code"], basis): int(p[basis])
        for p in seed_rows("population_mid_year")
        for basis in set(categories.values())
    }
    authorities = [a["local_authority_code"] for a in seed_rows("local_authorities")]

    counts: Counter = Counter()
    crime_rows = _crime_rows(landing)
    # the day before the crimes extract's latest extraction: the last whole day it covers
    as_of = date.fromisoformat(max(r["extracted_at"] for r in crime_rows)[:10]) - timedelta(days=1)
    for row in crime_rows:
        month = date.fromisoformat(row["recorded_date"]).replace(day=1)
        found = set(by_code.get(row["ho_offence_code"], set()))
        if row["domestic_abuse_flag"] == "Y":
            found |= flag_categories
        for category in found:
            counts[(month, row["local_authority_code"], category)] += 1

    months = sorted({k[0] for k in counts})
    grid_months = []
    current = months[0]
    while current <= months[-1]:
        grid_months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    expected = {}
    for month in grid_months:
        last_year = month.replace(year=month.year - 1)
        for la in authorities:
            for category, basis in categories.items():
                count = counts[(month, la, category)]
                pop = population[(la, basis)]
                rate = (Decimal(1000 * count) / Decimal(pop)).quantize(
                    Decimal("0.0001"), rounding=ROUND_HALF_UP
                )
                before = counts[(last_year, la, category)] if last_year >= months[0] else None
                next_month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
                complete = next_month - timedelta(days=1) <= as_of
                expected[(month, la, category)] = {
                    "crime_count": count,
                    "population": pop,
                    "rate_per_1000": rate,
                    "crime_count_same_month_last_year": before,
                    # an incomplete month is never compared with a whole one
                    "change_on_last_year": None
                    if before is None or not complete
                    else count - before,
                    "is_complete_period": complete,
                    "data_as_of_date": as_of,
                }
    return expected


def test_the_dag_run_succeeds_and_reports_what_it_took_in(pipeline) -> None:
    first = pipeline["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "force_crimes" in first.stdout and "published" in first.stdout
    assert "success        transform.dbt_force" in first.stdout


def _run_id(db, logical_date: date) -> str:
    return query(
        db,
        "select dag_run_id from audit.pipeline_run where logical_date = %s "
        "order by pipeline_run_id desc limit 1",
        logical_date,
    )[0][0]


def test_the_run_has_its_dbt_results_report_and_data_docs(pipeline) -> None:
    db, reports_dir = pipeline["db"], pipeline["home"] / "reports"
    run_id = _run_id(db, RUN_DATE)
    # One dbt invocation per group (shared, then each family), each recorded with its task, each
    # a build on this first run; every data test ran exactly once in the groups' builds, and the
    # measure 1 mart was built.
    groups = query(
        db,
        "select group_name, command, success, task_id from audit.dbt_group_build "
        "where dag_run_id = %s order by group_build_id",
        run_id,
    )
    assert sorted(g[0] for g in groups) == sorted(GROUPS)
    assert all(c == "build" and ok and t == f"transform.dbt_{g}" for g, c, ok, t in groups)
    # The force group's task may invoke dbt once more: when the publication audit settled cells
    # to add, it rebuilds the suppression, publication and bi models and their tests
    # (dbt_run/publication_check.py). Every other invocation is a group's one build.
    extra = query(
        db,
        "select task_id from (select task_id, row_number() over (partition by task_id "
        "order by coalesce(started_at, recorded_at)) as nth from audit.dbt_run "
        "where dag_run_id = %s) as runs where nth > 1",
        run_id,
    )
    ((decided,),) = query(
        db, "select count(*) from audit.publication_audit where is_decision and added_cells > 0"
    )
    assert extra in ([], [("transform.dbt_force",)]) and (not extra or decided > 0), extra
    ((invocations, tasks, tests, distinct_tests, built),) = query(
        db,
        "with runs as (select invocation_id, task_id, row_number() over (partition by task_id "
        "order by coalesce(started_at, recorded_at)) as nth from audit.dbt_run "
        "where dag_run_id = %s) "
        "select count(distinct r.invocation_id), count(distinct r.task_id), "
        "count(*) filter (where res.resource_type = 'test'), "
        "count(distinct res.unique_id) filter (where res.resource_type = 'test'), "
        "count(*) filter (where res.unique_id = 'model.vawg.mart_reporting_monthly' "
        "and res.status = 'success') "
        "from runs r join audit.dbt_result res using (invocation_id) where r.nth = 1",
        run_id,
    )
    assert invocations == tasks == len(GROUPS) and built == 1
    assert tests == distinct_tests > 1000  # ~1,200 data tests, each once
    # The report is kept in the warehouse and written under the reports folder, with the index.
    ((status, kept),) = query(
        db,
        "select status, html from audit.run_report where dag_run_id = %s "
        "order by report_id desc limit 1",
        run_id,
    )
    page = run_page_path(reports_dir, run_id)
    assert status in ("ok", "warnings") and page.read_text(encoding="utf-8") == kept
    assert "mart_reporting_monthly" in kept and "force/crimes/" in kept
    assert f"runs/{safe_name(run_id)}.html" in (reports_dir / "index.html").read_text()
    assert (reports_dir / "data_docs" / safe_name(run_id) / "index.html").exists()


def test_mart_equals_counts_computed_from_the_files(pipeline) -> None:
    expected = expected_mart(pipeline["landing"])
    rows = query(
        pipeline["db"],
        "select month_start_date, local_authority_code, reporting_category, crime_count, "
        "population, rate_per_1000, crime_count_same_month_last_year, change_on_last_year, "
        "is_complete_period, data_as_of_date "
        "from marts.mart_reporting_monthly where local_authority_code <> '-1'",
    )
    names = list(next(iter(expected.values())))
    actual = {(r[0], r[1], r[2]): dict(zip(names, r[3:], strict=True)) for r in rows}
    assert len(actual) == len(rows)  # the grain holds
    assert actual == expected
    assert sum(v["crime_count"] for v in expected.values()) > 1000  # the check has substance
    unknown = query(
        pipeline["db"],
        "select coalesce(sum(crime_count), 0) from marts.mart_reporting_monthly "
        "where local_authority_code = '-1'",
    )[0][0]
    assert unknown == 0


def test_every_file_is_a_reconciled_published_batch(pipeline) -> None:
    """One batch per distinct file content (a file whose checksum was taken in is skipped:
    header-only files of quiet days are byte-identical); rows read = loaded + rejected."""
    landing = pipeline["landing"]
    by_content: dict[str, list[tuple[str, int]]] = {}
    files = discover(landing)  # every contract's files, CSV and xlsx
    assert {f.path.suffix for f in files} == {".csv", ".xlsx"}
    for landing_file in files:
        path = landing_file.path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows = _data_rows(path, landing_file.dataset)
        by_content.setdefault(digest, []).append((path.relative_to(landing).as_posix(), rows))
    batches = query(
        pipeline["db"],
        "select file_sha256, file_name, status, rows_read, rows_loaded, rows_rejected "
        "from audit.load_batch",
    )
    assert {b[0] for b in batches} == set(by_content)
    for sha, name, status, read, loaded, rejected in batches:
        assert (name, read) in by_content[sha]
        assert status == "published" and read == loaded + rejected and rejected == 0
    raw = query(pipeline["db"], "select count(*) from raw_force.crimes")[0][0]
    crimes = [n for files in by_content.values() for f, n in files if f.startswith("force/crimes/")]
    assert raw == sum(crimes)  # crime files are never identical (each holds its own crimes)
    runs = query(pipeline["db"], "select count(*), bool_and(success) from audit.validation_run")
    assert runs == [(len(by_content), True)]


def test_no_person_identifier_is_stored_in_clear(pipeline) -> None:
    identifiers = {r["victim_id"] for r in _crime_rows(pipeline["landing"])}
    identifiers |= {r["suspect_id"] for r in _crime_rows(pipeline["landing"]) if r["suspect_id"]}
    stored = query(
        pipeline["db"],
        "select victim_pseudonym from raw_force.crimes union "
        "select suspect_pseudonym from raw_force.crimes where suspect_pseudonym is not null",
    )
    stored_values = {r[0] for r in stored}
    assert stored_values and not (stored_values & identifiers)
    assert all(len(v) == 64 for v in stored_values)


SNAPSHOT_QUERIES = {
    "batches": "select batch_id, dataset, file_name, file_sha256, status, rows_read, "
    "rows_loaded, rows_rejected, published_at from audit.load_batch order by batch_id",
    "raw_crimes": "select md5(string_agg(t::text, '|' order by _batch_id, _row_number)) "
    "from raw_force.crimes t",
    "raw_outcomes": "select md5(string_agg(t::text, '|' order by _batch_id, _row_number)) "
    "from raw_force.outcomes t",
    "fact": "select md5(string_agg(t::text, '|' order by crime_id)) "
    "from marts.fct_recorded_crime t",
    "mart": "select md5(string_agg(t::text, '|' order by month_start_date, "
    "local_authority_code, reporting_category)) from marts.mart_reporting_monthly t",
}


def _snapshot(db) -> dict[str, list[tuple]]:
    return {name: query(db, sql) for name, sql in SNAPSHOT_QUERIES.items()}


def test_a_rerun_takes_in_only_a_new_file_and_quarantines_it_if_bad(pipeline) -> None:
    """One more DAG run of the same logical date, after a late file that breaks critical rules
    arrived: every file taken in before is skipped and no table changes (the run is idempotent);
    the new file is set aside whole (too many bad rows for row-level quarantine) and reported.
    One run proves both: a full DAG run is the slowest thing in the suite."""
    db, landing = pipeline["db"], pipeline["landing"]
    before = _snapshot(db)
    bad = write_bad_crimes_file(landing, BAD_DAY)
    bad_name = Path(bad.path).relative_to(landing).as_posix()

    result = vawg(pipeline["env"], "run", "--date", RUN_DATE.isoformat())
    assert result.returncode == 0, result.stdout[-3000:]
    after = _snapshot(db)
    assert after["batches"][:-1] == before["batches"]  # the earlier batches, untouched
    assert after["batches"][-1][2] == bad_name  # and one new batch: the late file
    assert {k: v for k, v in after.items() if k != "batches"} == {
        k: v for k, v in before.items() if k != "batches"
    }
    summary = [line for line in result.stdout.splitlines() if "rows read" in line]
    assert len(summary) == 1 and "force_crimes" in summary[0] and "quarantined" in summary[0]

    # The run says which file, which rule, which lines.
    assert "QUARANTINED batch" in result.stdout and bad_name in result.stdout
    unknown_code = next(v for v in bad.violations if v.column == "ho_offence_code")
    (rule_line,) = [
        line
        for line in result.stdout.splitlines()
        if "CRITICAL" in line and "ho_offence_code" in line
    ]
    assert re.search(rf"\blines? (\d+, )*{unknown_code.line}\b", rule_line), rule_line

    ((batch_id, status, rows_read, rows_loaded, rows_rejected),) = query(
        db,
        "select batch_id, status, rows_read, rows_loaded, rows_rejected "
        "from audit.load_batch where file_name = %s",
        bad_name,
    )
    assert status == "quarantined" and rows_loaded == 0 and rows_rejected == rows_read > 0
    kept = query(db, f"select count(*) from quarantine.force_crimes__b{batch_id}")[0][0]
    assert kept == rows_read  # nothing lost
    failing = query(
        db,
        "select r.column_name, r.failing_row_numbers from audit.validation_result r "
        "join audit.validation_run v using (validation_run_id) "
        "where v.batch_id = %s and not r.success",
        batch_id,
    )
    failing_lines = {line for _, lines in failing for line in (lines or [])}
    # Every planted violation is found on its line, by some rule (critical or warning).
    assert {v.line for v in bad.violations} <= failing_lines
    assert query(db, "select count(*) from raw_force.crimes where _batch_id = %s", batch_id) == [
        (0,)
    ]
    assert query(db, SNAPSHOT_QUERIES["mart"]) == before["mart"]
    # Nothing was published, so no dbt group was rebuilt: each was tested, every test once.
    run_id = _run_id(db, RUN_DATE)  # the newest run of the date: this one
    groups = query(
        db,
        "select group_name, command, success from audit.dbt_group_build where dag_run_id = %s",
        run_id,
    )
    assert sorted(groups) == sorted((g, "test", True) for g in GROUPS)
    ((models, tests, distinct_tests),) = query(
        db,
        "select count(*) filter (where res.resource_type in ('model', 'seed')), "
        "count(*) filter (where res.resource_type = 'test'), "
        "count(distinct res.unique_id) filter (where res.resource_type = 'test') "
        "from audit.dbt_run r join audit.dbt_result res using (invocation_id) "
        "where r.dag_run_id = %s",
        run_id,
    )
    assert models == 0 and tests == distinct_tests > 1000
    # The run's report names the file and the critical rule it failed.
    page = run_page_path(pipeline["home"] / "reports", run_id).read_text(encoding="utf-8")
    assert bad_name in page and "ho_offence_code is a known Home Office offence code" in page
    assert query(
        db,
        "select status from audit.run_report where dag_run_id = %s order by report_id desc limit 1",
        run_id,
    ) == [("quarantined",)]


def _clear_identifiers(landing: Path) -> set[str]:
    """Every person identifier the force sent in clear, in every file of every force dataset."""
    found: set[str] = set()
    for contract in (load_contract(d) for d in DATASETS_WITH_PEOPLE):
        names = [c.name for c in contract.pseudonymised]
        for path in sorted(contract.landing_dir(landing).rglob("*.csv")):
            with path.open(newline="") as fh:
                found |= {row[n] for row in csv.DictReader(fh) for n in names if row.get(n)}
    return found


DATASETS_WITH_PEOPLE = (
    "force_crimes",
    "force_marac_cases",
    "force_protective_orders",
    "force_victims_code",
)
IDENTIFIER_SHAPE = re.compile(rb"P\d{9}")  # the sample generator's person ids (P + 9 digits)


def test_no_clear_identifier_reaches_the_database_a_report_data_docs_or_a_log(pipeline) -> None:
    """The leak test through Airflow: after both DAG runs (the second with a file set aside
    whole), no identifier the force sent in clear is anywhere but the landing folder and the
    archive: not in any table of any schema (audit, landing, quarantine, raw, marts, ...), not
    in the run reports, Data Docs, dbt docs or scorecard, not in Airflow's metadata database or
    its task logs, not in what `vawg run` printed."""
    identifiers = _clear_identifiers(pipeline["landing"])
    assert len(identifiers) > 1000 and all(
        IDENTIFIER_SHAPE.fullmatch(i.encode()) for i in identifiers
    )

    def leaked(data: bytes) -> set[str]:
        return {m.decode() for m in IDENTIFIER_SHAPE.findall(data)} & identifiers

    # Every table of every schema of the warehouse, as text.
    db_leaks = {}
    tables = query(
        pipeline["db"],
        "select quote_ident(schemaname) || '.' || quote_ident(tablename) from pg_tables "
        "where schemaname not in ('pg_catalog', 'information_schema')",
    )
    assert len(tables) > 50
    for (table,) in tables:
        (text,) = query(
            pipeline["db"], f"select coalesce(string_agg(t::text, chr(10)), '') from {table} t"
        )[0]
        if found := leaked(text.encode()):
            db_leaks[table] = len(found)
    assert not db_leaks, f"clear identifiers in {db_leaks}"

    # Every file under VAWG_HOME but the two places clear files belong.
    home = pipeline["home"]
    allowed = {home / "landing", Path(pipeline["env"].get("VAWG_ARCHIVE_DIR", home / "archive"))}
    scanned, file_leaks = [], {}
    for path in home.rglob("*"):
        if not path.is_file() or any(a in path.parents for a in allowed):
            continue
        scanned.append(path.relative_to(home).as_posix())
        if found := leaked(path.read_bytes()):
            file_leaks[path.relative_to(home).as_posix()] = len(found)
    assert not file_leaks, f"clear identifiers in {file_leaks}"
    # The scan covered what it claims: Airflow's metadata and logs, the reports and Data Docs.
    assert any(p.endswith("airflow.db") for p in scanned)
    assert any(p.startswith("logs/") for p in scanned)
    assert any("/runs/" in f"/{p}" for p in scanned) and any("data_docs" in p for p in scanned)
    first = pipeline["first"]
    assert not leaked((first.stdout + first.stderr).encode())
