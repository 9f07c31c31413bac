"""The publication audit's integer programs and secondary suppression on small crafted systems
(no database): cells, their values, and the equations that tie them."""

from __future__ import annotations

import csv
from pathlib import Path

from vawg_warehouse.dbt_run import publication_audit as pa

PARAMS = pa.Parameters(threshold=5, protection_interval=5, zeros_published=True)


def _burnley() -> tuple[pa.System, dict[str, int]]:
    """One local authority's positive outcome types, with positive = sum of the types and
    charge/summons = 1 + 1A (within the row: total -1, parts 1, public figure 0), and each cell's
    force total across two local authorities (coefficients 1)."""
    system = pa.System()
    row = {"1": 20, "1A": 1, "3": 0, "8": 1}
    other = {"1": 15, "1A": 0, "3": 0, "8": 6}
    cells = {}
    for la, counts in (("burnley", row), ("pendle", other)):
        positive = sum(counts.values())
        charge = counts["1"] + counts["1A"]
        for name, value, equations, coefficients in (
            ("positive", positive, [f"positive|{la}", "across|positive"], [-1, 1]),
            ("charge", charge, [f"charge|{la}", "across|charge"], [-1, 1]),
            *(
                (
                    code,
                    n,
                    [f"positive|{la}", f"across|{code}"]
                    + ([f"charge|{la}"] if code in ("1", "1A") else []),
                    [1, 1] + ([1] if code in ("1", "1A") else []),
                )
                for code, n in counts.items()
            ),
        ):
            cells[f"{la}|{name}"] = system.add_cell(
                f"{la}|{name}", value, 0 < value < 5, False, equations, coefficients
            )
    return system, cells


def test_the_fixed_point_leaves_community_resolution_worked_out() -> None:
    system, cells = _burnley()
    hidden = pa.fixed_point(system, {i for i, p in enumerate(system.primary) if p})
    # 1A (1) and 8 (1) are primary; 1A is lone in charge = 1 + 1A, so 1 is hidden; positive and
    # charge stay published, and 8 = positive - charge - 3 (published 0).
    assert cells["burnley|1"] in hidden
    assert cells["burnley|positive"] not in hidden and cells["burnley|charge"] not in hidden
    result = pa.audit(system, hidden, PARAMS)
    assert cells["burnley|8"] in result.recovered
    assert result.intervals[cells["burnley|8"]].lower == 1


def test_protect_hides_more_until_every_interval_is_wide_enough() -> None:
    system, cells = _burnley()
    hidden, rounds = pa.protect(system, PARAMS)
    assert len(rounds) > 1 and rounds[-1].unprotected == []
    assert rounds[0].unprotected  # the fixed point's round
    final = pa.audit(system, hidden, PARAMS)
    assert final.unprotected == [] and cells["burnley|8"] in hidden


def test_a_hidden_count_is_at_least_one_when_every_zero_is_published() -> None:
    """x + y = 2 (a force total) with both hidden: 1 and 1 when 0 is always published, 0 to 2
    when it is not."""
    system = pa.System()
    x = system.add_cell("x", 1, True, True, ["total"], [1])
    y = system.add_cell("y", 1, True, True, ["total"], [1])
    system.add_cell("z", 0, False, False, ["total"], [1])
    pinned = pa.audit(system, {x, y}, PARAMS)
    assert sorted(pinned.recovered) == [x, y]
    free = pa.audit(system, {x, y}, pa.Parameters(zeros_published=False))
    assert free.unprotected == [] and free.intervals.get(x, pa.Interval(x, 0, 2)).width == 2


def test_the_required_width_is_never_more_than_the_force_total() -> None:
    system = pa.System()
    x = system.add_cell("x", 1, True, True, ["total"], [1])
    y = system.add_cell("y", 2, True, True, ["total"], [1])
    assert system.required_widths(5)[x] == 3
    assert pa.audit(system, {x, y}, pa.Parameters(zeros_published=False)).unprotected == []


def test_parameters_from_the_seed_rows() -> None:
    params = pa.Parameters.from_rows(
        [
            ("suppression_threshold", "5"),
            ("suppress_zero_counts", "false"),
            ("secondary_suppression", "next_smallest"),
            ("protection_interval", "4"),
            ("interval_suppression", "off"),
        ]
    )
    assert params == pa.Parameters(5, 4, True, True, False, False)
    assert pa.Parameters.from_rows([("audit_failure", "fail")]).fail_build
    assert pa.Parameters.from_rows([]).protection_interval == 5


def _rectangle(grid: list[list[int]], copies: int = 1) -> pa.System:
    """Local authorities (rows) x outcome types (columns) with each row's total: within a row,
    total = the sum of its types (-1 and 1s); across the rows, each column and the totals add
    up to their force figure (1s). ``copies``: that many independent months of it."""
    system = pa.System()
    for month in range(copies):
        for la, row in enumerate(grid):
            total = sum(row)
            within = f"{month}|within|{la}"
            system.add_cell(
                f"{month}|total|{la}",
                total,
                0 < total < 5,
                False,
                [f"{month}|across|total", within],
                [1, -1],
                key=("m", str(month), f"total|{la}"),
            )
            for t, value in enumerate(row):
                system.add_cell(
                    f"{month}|t{t}|{la}",
                    value,
                    0 < value < 5,
                    False,
                    [f"{month}|across|t{t}", within],
                    [1, 1],
                    key=("m", str(month), f"t{t}|{la}"),
                )
    return system


def test_protection_is_what_hiding_everything_gives_when_no_zero_is_left_to_hide() -> None:
    """Outcome types 3 and 2 (force total 5) in two local authorities: hidden, each is at least
    1 (every 0 is published, and this table has none to hide), so 1 to 4 at the most, whatever
    else is hidden: required is that width (3), not 5, and secondary suppression stops."""
    system = _rectangle([[8, 3], [6, 2]])
    hidden, rounds = pa.protect(system, PARAMS)
    assert rounds[-1].unprotected == []
    final = pa.audit(system, hidden, PARAMS)
    assert final.unprotected == [] and final.recovered == []
    three = system.index["0|t1|0"]
    assert three in hidden and system.required_widths(5)[three] == 3


def test_independent_parts_are_solved_side_by_side() -> None:
    """Twelve months of the same table cost the programs of one month: one program answers
    every part at once."""
    grid = [[8, 3, 0], [6, 2, 9], [7, 11, 0]]
    one = pa.audit(_rectangle(grid), {1, 2, 5, 6}, PARAMS)
    system = _rectangle(grid, copies=12)
    cells = {i + 12 * m for m in range(12) for i in (1, 2, 5, 6)}
    twelve = pa.audit(system, cells, PARAMS)
    assert twelve.problems == 12 * one.problems
    assert twelve.programs == one.programs
    assert len(twelve.unprotected) == 12 * len(one.unprotected)


def test_the_shipped_seed_suppresses_to_the_interval_and_fails_the_build() -> None:
    """Seed publication_parameters as shipped: secondary suppression to the protection interval
    on, and an unprotected cell fails the build."""
    seed = (
        Path(__file__).resolve().parents[2]
        / "dbt_project/seeds/reference/publication_parameters.csv"
    )
    with seed.open(newline="") as fh:
        rows = [(r["parameter"], r["parameter_value"]) for r in csv.DictReader(fh)]
    params = pa.Parameters.from_rows(rows)
    assert params.interval_suppression and params.fail_build
    assert params.zeros_published and params.protection_interval == 5
