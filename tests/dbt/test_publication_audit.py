"""The publication audit on crafted marts: suppressed cells that two published equations together
give away, found by integer programming, then protected by the build step.

The fixed point (macro suppress_cells) looks at one equation at a time; these marts hold the
patterns it cannot see:

* Burnley, domestic abuse, October 2024: outcome 1 = 20, 1A = 1, 8 (community resolution) = 1,
  every other positive type 0. Positive outcomes (22) and charge/summons (21) are published, the
  other positive types are published as 0, so community resolution = 22 - 21 = 1.
* the same pattern in every named local authority in November and December 2024 (domestic abuse)
  and in five of them for rape in October: with Burnley, 34 community resolution cells of 1 to 4.
* zero publishing: two local authorities issued one notice each, every other one none (published
  as 0); a hidden count is then at least 1, so both are 1.

The module builds the publication tables on these marts (state "before": the fixed point alone),
runs the build step (publication_audit.secure: state "after"), then turns the interval
suppression off in the seed table and runs the step again, which must fail naming cells.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from tests.conftest import migrated_for_module
from tests.dbt.crafted_marts import CODES, LAS, TYPES, insert, invoke, write_crime_marts
from vawg_warehouse.dbt_run import publication_audit as pa
from vawg_warehouse.dbt_run import publication_check

pytestmark = pytest.mark.slow  # three dbt runs and two rebuilds: the full suite runs it

BURNLEY = "E07000117"
NAMED = LAS[:-1]  # the fourteen local authorities ('-1' is the unknown one)
OCT, NOV, DEC = date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)
ORDERS = ["E06000008", "E06000009"]  # one DVPN notice each, every other authority none
OTHER_POSITIVE = [c for c, t in TYPES.items() if t["is_positive"] and c not in ("1", "1A", "8")]
SUPPRESSION = ["int_published_crime_cells_suppressed", "int_published_table_cells_suppressed"]
# bi views over the publication tables (each reads one, nothing else)
BI_VIEWS = ["bi_reporting_monthly", "bi_outcomes_by_type_monthly"]
PUBLICATION = [
    "pub_mart_reporting_monthly",
    "pub_mart_positive_outcomes_monthly",
    "pub_mart_outcomes_by_type_monthly",
    "pub_mart_protective_orders_monthly",
]


def _plenty() -> dict[str, int]:
    row = dict.fromkeys(CODES, 0)
    row.update({"0": 25, "1": 15, "8": 6, "14": 9, "15": 7, "16": 30, "18": 11})
    return row


def _pattern(one_a: int, community: int) -> dict[str, int]:
    row = _plenty()
    row.update({"1": 20, "1A": one_a, "8": community})
    return row


def _crafted() -> dict[tuple[date, str, str], dict[str, int]]:
    """(month, category, local authority) -> {outcome code: crimes}; every other cell plenty."""
    counts = {
        (month, category, la): _plenty()
        for month in (OCT, NOV, DEC)
        for category in ("domestic_abuse", "rape")
        for la in LAS
    }
    counts[(OCT, "domestic_abuse", BURNLEY)] = _pattern(1, 1)
    for k, la in enumerate(NAMED):
        counts[(NOV, "domestic_abuse", la)] = _pattern(1 + k % 4, 1 + (k + 1) % 4)
        counts[(DEC, "domestic_abuse", la)] = _pattern(1 + (k + 2) % 4, 1 + k % 4)
    for k, la in enumerate(NAMED[:5]):
        counts[(OCT, "rape", la)] = _pattern(2, 1 + k % 4)
    return counts


CRAFTED = _crafted()
PINNED = [key for key, row in CRAFTED.items() if 0 < row["8"] < 5]


def _write_orders(conn: psycopg.Connection) -> None:
    rows = []
    for la in LAS:
        rows.append({
            "month_start_date": OCT,
            "local_authority_code": la,
            "local_authority_name": la,
            "order_type": "DVPN",
            "order_type_name": "Domestic violence protection notice",
            "financial_year": "2024/25",
            "is_complete_period": True,
            "is_pilot_only": False,
            "notices_issued": 1 if la in ORDERS else 0,
            "applications": 0,
            "orders_granted": 0,
            "orders_refused": 0,
            "applications_withdrawn": 0,
            "breaches": 0,
            "notices_converted": 0,
        })  # fmt: skip
    insert(conn, "mart_protective_orders_monthly", rows)


def _published(conn: psycopg.Connection) -> dict[str, list[dict]]:
    conn.row_factory = psycopg.rows.dict_row
    return {t: conn.execute(f"select * from publication.{t}").fetchall() for t in PUBLICATION}


def _worked_out(tables: dict[str, list[dict]]) -> dict[tuple, int]:
    """Independently of the audit: community resolution = positive - charge/summons - the other
    positive types, for every row where all of them are published."""
    columns = ("month_start_date", "reporting_category", "local_authority_code", "outcome_code")
    types = {tuple(r[c] for c in columns): r for r in tables["pub_mart_outcomes_by_type_monthly"]}
    found = {}
    for r in tables["pub_mart_positive_outcomes_monthly"]:
        key = (r["month_start_date"], r["reporting_category"], r["local_authority_code"])
        others = [types[(*key, code)]["crime_count"] for code in OTHER_POSITIVE]
        parts = [r["positive_count"], r["charge_summons_count"], *others]
        if None not in parts and types[(*key, "8")]["crime_count"] is None:
            found[key] = r["positive_count"] - r["charge_summons_count"] - sum(others)
    return found


@pytest.fixture(scope="module")
def states(server, tmp_path_factory):
    """The audit and the tables before the build step, after it, and the step with interval
    suppression off (its error)."""
    with migrated_for_module(server, tmp_path_factory) as migrated:
        invoke("seed")
        invoke("run", "--select", *(f"+{m}" for m in PUBLICATION))
        with psycopg.connect(migrated.url, autocommit=True) as conn:
            write_crime_marts(conn, CRAFTED)
            _write_orders(conn)
        invoke("run", "--select", *SUPPRESSION, *PUBLICATION, *BI_VIEWS)
        out = {}
        with psycopg.connect(migrated.url) as conn:
            system, params = pa.load(conn)
            out["before"] = (system, pa.audit(system, pa._built(system), params))
            out["before_tables"] = _published(conn)
        with psycopg.connect(migrated.url, autocommit=True) as conn:
            conn.execute(
                "update reference.publication_parameters set parameter_value = 'on' "
                "where parameter = 'interval_suppression'"
            )
        publication_check.secure(fail=True)
        with psycopg.connect(migrated.url) as conn:
            out["bi_views_after"] = [
                conn.execute("select to_regclass(%s) is not null", (f"bi.{v[3:]}",)).fetchone()[0]
                for v in BI_VIEWS
            ]
            system, params = pa.load(conn)
            out["after"] = (system, pa.audit(system, pa._built(system), params))
            out["after_tables"] = _published(conn)
            conn.row_factory = psycopg.rows.dict_row
            out["ledger"] = conn.execute(
                "select * from audit.publication_audit order by audit_id"
            ).fetchall()
        with psycopg.connect(migrated.url, autocommit=True) as conn:
            conn.execute(
                "update reference.publication_parameters set parameter_value = 'off' "
                "where parameter = 'interval_suppression'"
            )
        with pytest.raises(pa.PublicationAuditError) as failed:
            publication_check.secure(fail=True)
        out["off_error"] = str(failed.value)
        yield out


def _cell(system: pa.System, month: date, category: str, la: str, code: str) -> int:
    name = f"int_published_crime_cells_suppressed|{month}|{category}|type|{la}|{code}"
    return system.index[name]


def test_fixed_point_alone_gives_community_resolution_away(states):
    """Before: the 34 crafted cells are worked out from the published tables (independently of
    the audit), and the audit finds each of them recovered exactly."""
    worked_out = _worked_out(states["before_tables"])
    assert {k: worked_out.get(k) for k in PINNED} == {k: CRAFTED[k]["8"] for k in PINNED}
    assert len(PINNED) == 34
    system, result = states["before"]
    recovered = {system.names[i] for i in result.recovered}
    for month, category, la in PINNED:
        assert system.names[_cell(system, month, category, la, "8")] in recovered


def test_burnley_protected_after_the_build_step(states):
    """After: positive outcomes - charge/summons no longer gives Burnley's community resolution,
    and its interval is at least the protection interval wide."""
    assert _worked_out(states["after_tables"]) == {}
    system, result = states["after"]
    burnley = _cell(system, OCT, "domestic_abuse", BURNLEY, "8")
    assert system.built[burnley]
    interval = result.intervals.get(burnley)
    assert interval is None or interval.width >= 5  # None: witnesses already lie 5 apart


def test_nothing_recoverable_after_the_build_step(states):
    system, result = states["after"]
    assert result.suppressed > states["before"][1].suppressed
    assert result.unprotected == [] and result.recovered == []
    decisions = [r for r in states["ledger"] if r["is_decision"]]
    assert len(decisions) == 1 and decisions[0]["added_cells"] > 0
    assert states["ledger"][-1]["unprotected_cells"] == 0


def test_the_rebuild_keeps_the_bi_views_over_the_publication_tables(states):
    """The build step rebuilds the publication tables with the cells it adds; a table rebuilt
    drops the views that read it, so the bi views are rebuilt with them."""
    assert states["bi_views_after"] == [True, True]


def test_zero_publishing_pins_two_ones(states):
    """Every 0 published: the two hidden notices (force total 2) are each at least 1, so both
    are 1; without that rule they could be 0 to 2."""
    system, before = states["before"]
    cells = [
        system.index[
            f"int_published_table_cells_suppressed|pub_mart_protective_orders_monthly|{OCT}|DVPN"
            f"|notices_issued|{OCT}|{la}|DVPN"
        ]
        for la in ORDERS
    ]
    assert all(i in before.recovered for i in cells)
    without = pa.audit(system, pa._built(system), pa.Parameters(zeros_published=False))
    assert not set(cells) & set(without.unprotected)
    after_system, after = states["after"]
    assert not {after_system.names[i] for i in after.unprotected} & {system.names[i] for i in cells}


def test_interval_suppression_off_fails_naming_cells_only(states):
    message = states["off_error"]
    assert f"{OCT}|domestic_abuse|type|{BURNLEY}|8" in message
    assert "can be narrowed below the protection interval (5)" in message
