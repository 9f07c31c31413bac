"""The publication audit: can any suppressed cell be worked out from what is published?

Schema ``publication`` publishes counts with small numbers suppressed (dbt macro
``suppress_cells``, docs/measures.md "Publication"). Its cells are tied by equations: the local
authorities of a force figure (the force totals are published: margins), a total and its parts
within a row, the same figure in two tables. The suppression models write each cell with the
equations it belongs to and its coefficient in each (``equations``, ``coefficients``), so this
module reads the very equations the suppression used, for every published table at once:

* ``intermediate.int_published_crime_cells_suppressed``: measures 1 and 2 (recorded cohort);
* ``intermediate.int_published_table_cells_suppressed``: the other publication tables.

Each equation says ``sum(coefficient * cell) = right-hand side``; the right-hand side is public
(a force total, or 0 for a total and its parts). For each suppressed cell the audit finds the
smallest and the largest value consistent with everything published, given that counts are
whole and not negative and, when seed ``publication_parameters`` publishes every 0, that a
hidden count is at least 1 (publication_bounds.py: linear and integer programs, HiGHS through
SciPy, every part of the equations among suppressed cells side by side in one program). A cell
is **protected** when ``upper - lower >= required``, where ``required`` is the seed's
``protection_interval``, or the smallest public total the cell adds into when that is smaller
(a cell of a force total of 2 can be no less certain than 0 to 2), or what hiding its whole
component would give it (:func:`caps`); it is **recovered** when ``upper == lower``.

:func:`protect` is secondary suppression to that standard: the primary cells, the fixed point
the SQL runs (an equation with one suppressed cell hides its smallest other cell), then, while
the audit finds an unprotected cell, the partner that gives it the room it lacks at least cost
(under "0 is always published" a hidden 1 gives none), more each round it stays unprotected,
and the fixed point again. :func:`secure` is the build step (the force group, after its dbt
build): when the cells it settles on differ from what is built, it records them in
``audit.publication_cell_added`` (which the suppression models read) and rebuilds every model
downstream of them; then it audits what is built and fails, naming the cells (month, area,
column: never a value), unless every suppressed cell is protected.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable

from vawg_warehouse.dbt_run import publication_bounds
from vawg_warehouse.dbt_run.publication_cells import (
    AuditResult,
    Interval,
    Parameters,
    PublicationAuditError,
    System,
)

log = logging.getLogger(__name__)

SUPPRESSION_MODELS = (
    "int_published_crime_cells_suppressed",
    "int_published_table_cells_suppressed",
)
# What the dbt rebuild after new added cells selects: the audit's cells and every model
# downstream of them: the two suppression models, every publication table and the bi views over
# them (a table rebuilt drops the views that read it, so they are built again too).
REBUILD_SELECTION = ("stg_audit__publication_added_cells+",)
MAX_ROUNDS = 50
# The round of a still unprotected cell in which every cell of its equations is hidden (before,
# the best cell of each equation; after, its whole component).
EVERY_CELL = 5


# --- the audit -------------------------------------------------------------------------------


def _parts(system: System, suppressed: set[int]) -> list[tuple[list[int], list[str]]]:
    """Connected parts of the suppressed cells, joined by the equations they share, with every
    equation that holds one of them."""
    parent = {i: i for i in suppressed}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    touching: dict[str, list[int]] = {}
    for equation, terms in system.equations.items():
        hidden = [i for i, _ in terms if i in suppressed]
        if not hidden:
            continue
        touching[equation] = hidden
        root = find(hidden[0])
        for i in hidden[1:]:
            other = find(i)
            if other != root:
                parent[other] = root
    cells: dict[int, list[int]] = defaultdict(list)
    for i in suppressed:
        cells[find(i)].append(i)
    equations: dict[int, list[str]] = defaultdict(list)
    for equation, hidden in touching.items():
        equations[find(hidden[0])].append(equation)
    return [(sorted(cells[root]), equations[root]) for root in cells]


def caps(system: System, cells: list[int], params: Parameters) -> dict[int, float]:
    """Each cell's width were every cell of its component suppressed (a 0 among them, so every
    count whole and at least 0; at least 1 where the component has no 0 and every 0 is
    published): the most any suppression could protect it, given the public totals. Only
    widths below the protection interval are exact (the others are that interval)."""
    system.zeros_published = params.zeros_published
    components: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in cells:
        components[system.keys[i][:2]].append(i)
    parts = []
    for members in components.values():
        whole = [i for i in system.component_cells(members[0]) if system.values[i] is not None]
        parts.append((whole, system.component_equations(members[0])))
    required = [0.0] * len(system.names)
    for i in cells:
        required[i] = params.protection_interval
    answers, _ = publication_bounds.solve(system, parts, required)
    found = {}
    for intervals, _ in answers:
        found.update(intervals)
    return {i: found[i].width if i in found else float(params.protection_interval) for i in cells}


def audit(
    system: System, suppressed: set[int], params: Parameters, cache: dict | None = None
) -> AuditResult:
    """Every suppressed cell's interval given everything published; which are unprotected.
    ``cache`` keeps each part's answer between calls (a part is the same problem while its
    suppressed cells are the same)."""
    started = time.monotonic()
    intervals: dict[int, Interval] = {}
    unprotected: list[int] = []
    parts = _parts(system, suppressed)
    system.zeros_published = params.zeros_published
    required = system.required_widths(params.protection_interval)
    todo = []
    for cells, equations in parts:
        found = None if cache is None else cache.get(tuple(cells))
        if found is None:
            todo.append((cells, equations))
            continue
        # The part's intervals stand; which are too narrow depends on the required widths
        # (a cell protected by witnesses stays so: required widths only shrink).
        intervals.update(found)
        unprotected.extend(i for i, interval in found.items() if interval.width < required[i])
    answers, programs = publication_bounds.solve(system, todo, required)
    for (cells, _), (found, bad) in zip(todo, answers, strict=True):
        if cache is not None:
            cache[tuple(cells)] = found
        intervals.update(found)
        unprotected.extend(bad)
    unprotected.sort(key=lambda i: system.names[i])
    recovered = [i for i in unprotected if intervals[i].width == 0]
    return AuditResult(
        suppressed=len(suppressed),
        intervals=intervals,
        unprotected=unprotected,
        recovered=recovered,
        problems=len(parts),
        programs=programs,
        seconds=time.monotonic() - started,
    )


def audit_as_far_as_possible(
    system: System, suppressed: set[int], params: Parameters
) -> AuditResult:
    """The audit, where a cell narrower than the protection interval is held only to the width
    hiding its whole component would give it (:func:`caps`), as secondary suppression held it."""
    cache: dict = {}
    result = audit(system, suppressed, params, cache)
    fresh = [i for i in result.unprotected if i not in system.caps]
    if not fresh:
        return result
    system.caps.update(caps(system, fresh, params))
    again = audit(system, suppressed, params, cache)
    again.programs += result.programs
    again.seconds += result.seconds
    return again


# --- secondary suppression -------------------------------------------------------------------


def _candidate(system: System, equation: str, suppressed: set[int]) -> int | None:
    """The equation's cell secondary suppression hides next (None: every cell is hidden)."""
    options = [
        i
        for i, _ in system.equations[equation]
        if i not in suppressed and system.values[i] is not None
    ]
    return min(options, key=system.order) if options else None


def fixed_point(system: System, suppressed: set[int]) -> set[int]:
    """The SQL's rule (macro suppress_cells): while an equation has exactly one suppressed cell,
    hide its smallest other cell (non-zero first); all such equations of a round at once."""
    suppressed = set(suppressed)
    while True:
        added = set()
        for equation, terms in system.equations.items():
            if sum(1 for i, _ in terms if i in suppressed) == 1:
                cell = _candidate(system, equation, suppressed)
                if cell is not None:
                    added.add(cell)
        if not added:
            return suppressed
        suppressed |= added


def _complement(
    system: System,
    equation: str,
    suppressed: set[int],
    deficit: float,
    floor: float,
    room: list[float],
) -> int | None:
    """The cell of an equation that secondary suppression hides to widen a cell's interval by
    ``deficit`` (None: every cell is hidden). Hiding a cell of value v gives the equation
    ``v - floor`` of room: under "0 is always published" (floor 1) a hidden 1 gives none. So:
    the smallest cell that gives enough room; else a 0 (hiding one lets every hidden count of
    its part be 0), the one whose own totals leave it most room (``room``: a 0 whose force
    total is 0 stays 0 hidden or not); else the cell that gives the most."""
    options = [
        i
        for i, _ in system.equations[equation]
        if i not in suppressed and system.values[i] is not None
    ]
    if not options:
        return None
    enough = [i for i in options if (system.values[i] or 0) - floor >= deficit]
    if enough:
        return min(enough, key=system.order)
    zeros = [i for i in options if system.values[i] == 0 and room[i] > 0]
    if floor > 0 and zeros:
        return min(zeros, key=lambda i: (-room[i], system.names[i]))
    return max(options, key=lambda i: (system.values[i] or 0, room[i], system.names[i]))


def _complements(
    system: System,
    cell: int,
    attempt: int,
    suppressed: set[int],
    memberships: list[list[str]],
    result: AuditResult,
    params: Parameters,
    required: list[float],
) -> set[int]:
    """The cells hidden for an unprotected cell, more each time it is still unprotected: the
    best complement of one of its equations; then the best of each; then every cell of its
    equations; then every cell of its component (which reaches the cell's cap, so the rounds
    end)."""
    if attempt >= EVERY_CELL + 1:
        return {i for i in system.component_cells(cell) if system.values[i] is not None}
    if attempt == EVERY_CELL:
        return {
            i
            for e in memberships[cell]
            for i, _ in system.equations[e]
            if system.values[i] is not None
        }
    interval = result.intervals.get(cell)
    deficit = required[cell] - (interval.width if interval else 0)
    floor = 1.0 if params.zeros_published else 0.0
    options = [
        i
        for e in memberships[cell]
        if (i := _complement(system, e, suppressed, deficit, floor, required)) is not None
    ]
    if not options or attempt > 1:
        return set(options)
    # one equation's: the cell that gives enough room at least cost, else the roomiest
    enough = [i for i in options if (system.values[i] or 0) - floor >= deficit]
    if enough:
        return {min(enough, key=system.order)}
    zeros = [i for i in options if system.values[i] == 0]
    if floor > 0 and zeros:
        return {min(zeros, key=lambda i: (-required[i], system.names[i]))}
    return {max(options, key=lambda i: (system.values[i] or 0, system.names[i]))}


def protect(
    system: System, params: Parameters, start: set[int] | None = None
) -> tuple[set[int], list[AuditResult]]:
    """Secondary suppression until every suppressed cell is protected; returns the cells and
    each round's audit. Each round audits (parts whose cells did not change keep their
    answers), hides complements for each unprotected cell (:func:`_complements`, more each
    round the cell stays unprotected) and runs the fixed point again. A cell still unprotected
    after its first complements has its cap worked out (:func:`caps`): what it needs is never
    more than hiding its whole component gives, the last step, so the rounds end."""
    suppressed = {i for i, p in enumerate(system.primary) if p} if start is None else set(start)
    if not params.secondary:
        return suppressed, [audit(system, suppressed, params)]
    suppressed = fixed_point(system, suppressed)
    rounds: list[AuditResult] = []
    memberships = system.cell_equations()
    cache: dict = {}
    attempts: dict[int, int] = {}
    for _ in range(MAX_ROUNDS):
        result = audit(system, suppressed, params, cache)
        log.info(
            "publication audit round %d: %d suppressed, %d unprotected, %d programs, %.1f s",
            len(rounds) + 1,
            result.suppressed,
            len(result.unprotected),
            result.programs,
            result.seconds,
        )
        rounds.append(result)
        if not result.unprotected or not params.interval_suppression:
            break
        fresh = [i for i in result.unprotected if attempts.get(i) and i not in system.caps]
        # still unprotected: can any suppression protect it as far as required?
        system.caps.update(caps(system, fresh, params))
        required = system.required_widths(params.protection_interval)
        still = [i for i in result.unprotected if result.intervals[i].width < required[i]]
        added: set[int] = set()
        for cell in still:
            attempts[cell] = attempts.get(cell, 0) + 1
            added |= _complements(
                system,
                cell,
                attempts[cell],
                suppressed | added,
                memberships,
                result,
                params,
                required,
            )
        added -= suppressed
        if not added:
            if fresh:
                continue  # the caps alone may have settled them: audit again
            break
        suppressed = fixed_point(system, suppressed | added)
    return suppressed, rounds


# --- the warehouse ---------------------------------------------------------------------------


def load(conn) -> tuple[System, Parameters]:
    """Every suppression model's cells and equations, and the seed's parameters."""
    params = Parameters.from_rows(
        conn.execute(
            "select parameter, parameter_value from reference.publication_parameters"
        ).fetchall()
    )
    system = System()
    for model in SUPPRESSION_MODELS:
        rows = conn.execute(
            f"select component, cell, cell_value, is_primary, is_suppressed, equations, "
            f"coefficients, is_added from intermediate.{model} order by component, cell"
        )
        for (
            component,
            cell,
            value,
            is_primary,
            is_suppressed,
            equations,
            coefficients,
            added,
        ) in rows:
            system.any_added = system.any_added or bool(added)
            prefix = f"{model}|{component}"
            system.add_cell(
                f"{prefix}|{cell}",
                value,
                is_primary,
                is_suppressed,
                [f"{prefix}|{e}" for e in equations or ()],
                coefficients or (),
                key=(model, component, cell),
            )
    return system, params


def _built(system: System) -> set[int]:
    return {i for i, b in enumerate(system.built) if b}


def _record(conn, result: AuditResult, params: Parameters, written: set[int] | None, system):
    """One row of audit.publication_audit (counts only) and, for a decision, its cells."""
    from vawg_warehouse.audit import append_rows

    (audit_id,) = append_rows(
        conn,
        "publication_audit",
        [
            {
                "suppressed_cells": result.suppressed,
                "unprotected_cells": len(result.unprotected),
                "recovered_cells": len(result.recovered),
                "protection_interval": params.protection_interval,
                "problems": result.problems,
                "programs": result.programs,
                "seconds": round(result.seconds, 3),
                "is_decision": written is not None,
                "added_cells": None if written is None else len(written),
            }
        ],
    )
    if written:
        append_rows(
            conn,
            "publication_cell_added",
            [
                dict(zip(("suppression_model", "component", "cell"), system.keys[i], strict=True))
                | {"audit_id": audit_id}
                for i in sorted(written)
            ],
        )
    return audit_id


def secure(
    settings=None, rebuild: Callable[[], None] | None = None, fail: bool | None = None
) -> AuditResult:
    """The build step: settle the cells to suppress, write them and rebuild when they differ
    from what is built, then audit what is built; raises naming the unprotected cells when
    ``fail`` (default: the seed's ``audit_failure`` = fail), else logs them as a warning."""
    from vawg_warehouse.config import get_settings
    from vawg_warehouse.warehouse import connect

    settings = settings or get_settings()
    with connect(settings) as conn:
        system, params = load(conn)
    if not params.interval_suppression:
        # The fixed point alone, as the SQL builds it: only undo an earlier decision's cells.
        if system.any_added:
            with connect(settings) as conn, conn.transaction():
                _record(conn, audit(system, _built(system), params), params, set(), system)
            _rebuild_with(rebuild)
            with connect(settings) as conn:
                system, params = load(conn)
        return _check(settings, system, params, fail)
    started = time.monotonic()
    wanted, rounds = protect(system, params)
    log.info(
        "publication audit: %d cells, %d suppressed after the fixed point, %d unprotected "
        "then; %d suppressed after %d round(s), %d unprotected, %.1f s",
        len(system.names),
        rounds[0].suppressed,
        len(rounds[0].unprotected),
        len(wanted),
        len(rounds),
        len(rounds[-1].unprotected),
        time.monotonic() - started,
    )
    if wanted != _built(system):
        added = {i for i in wanted if not system.primary[i]}
        with connect(settings) as conn, conn.transaction():
            _record(conn, rounds[-1], params, added, system)
        _rebuild_with(rebuild)
        with connect(settings) as conn:
            system, params = load(conn)
    return _check(settings, system, params, fail)


def _check(settings, system: System, params: Parameters, fail: bool | None) -> AuditResult:
    """Audit what is built, record it, and fail or warn naming the unprotected cells."""
    from vawg_warehouse.warehouse import connect

    result = audit_as_far_as_possible(system, _built(system), params)
    with connect(settings) as conn, conn.transaction():
        _record(conn, result, params, None, system)
    log.info(
        "publication audit: %d suppressed cells, %d unprotected (%d recovered exactly), "
        "%d problems, %d programs, %.1f s",
        result.suppressed,
        len(result.unprotected),
        len(result.recovered),
        result.problems,
        result.programs,
        result.seconds,
    )
    if result.unprotected:
        message = (
            f"{len(result.unprotected)} suppressed cell(s) of schema publication can be "
            f"narrowed below the protection interval ({params.protection_interval}), "
            f"{len(result.recovered)} worked out exactly: {result.describe(system)}"
        )
        if params.fail_build if fail is None else fail:
            raise PublicationAuditError(message)
        log.warning("PUBLICATION NOT PROTECTED: %s", message)
    return result


def _rebuild_with(rebuild: Callable[[], None] | None) -> None:
    if rebuild is None:
        raise PublicationAuditError("the cells to suppress changed and no rebuild was given")
    rebuild()
