"""The publication audit's programs: the smallest and largest whole value of each suppressed
cell consistent with everything published (publication_audit.py decides what to do with them).

The suppressed cells fall into parts, joined by the equations they share; parts are independent
problems. One linear program per part and objective costs more in SciPy's set-up than in HiGHS,
so the parts are solved side by side: one program holds every part still at work, each in its
own rows and columns, with an objective for each; a sum of independent objectives is least when
each is, so one solve answers every part at once. A part whose answer is not whole is decided
by an integer program of its own (``scipy.optimize.milp``).

For each part: the published values are one whole solution, the first witness; then programs
that push every cell not yet wide enough up or down at random (each moves many cells to the
ends of their ranges), while one still proves cells; then each cell left has its own bounds:
the lower is the floor when a witness reaches it, else a program; the upper a program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vawg_warehouse.dbt_run.publication_cells import Interval, PublicationAuditError, System

WHOLE = 1e-6  # how far from a whole number a solution may be and still be whole


@dataclass
class _Part:
    cells: list[int]
    matrix: Any  # scipy sparse CSR, equations x cells
    rhs: np.ndarray
    floor: float
    needed: np.ndarray
    seen_low: np.ndarray
    seen_high: np.ndarray
    intervals: dict[int, Interval] = field(default_factory=dict)
    unprotected: list[int] = field(default_factory=list)
    idle: int = 0  # random programs in a row that proved nothing
    queue: list[int] = field(default_factory=list)  # cells left for their own programs
    lower: float | None = None  # the first of queue's lower bound, once known

    def open_cells(self) -> np.ndarray:
        return np.flatnonzero(self.seen_high - self.seen_low < self.needed)

    def keep(self, whole: np.ndarray) -> None:
        np.minimum(self.seen_low, whole, out=self.seen_low)
        np.maximum(self.seen_high, whole, out=self.seen_high)


def _part(system: System, cells: list[int], equations: list[str], required: list[float]) -> _Part:
    from scipy.sparse import coo_array

    position = {cell: k for k, cell in enumerate(cells)}
    rows, columns, data = [], [], []
    rhs = np.zeros(len(equations))
    for row, equation in enumerate(equations):
        known = 0
        for i, coefficient in system.equations[equation]:
            if i in position:
                rows.append(row)
                columns.append(position[i])
                data.append(coefficient)
            else:
                known += coefficient * (system.values[i] or 0)
        rhs[row] = system.rhs(equation) - known
    matrix = coo_array((data, (rows, columns)), shape=(len(equations), len(cells))).tocsr()
    # A hidden count is at least 1 when every 0 is published; a part holding a suppressed 0
    # (secondary suppression's way to widen such cells) breaks that rule: there it is >= 0.
    floor = 1.0 if system.zeros_published else 0.0
    if any(system.values[i] == 0 for i in cells):
        floor = 0.0
    truth = np.array([float(system.values[i] or 0) for i in cells])
    return _Part(
        cells=cells,
        matrix=matrix,
        rhs=rhs,
        floor=floor,
        needed=np.array([required[i] for i in cells], dtype=float),
        seen_low=truth.copy(),
        seen_high=truth.copy(),
    )


class _Solver:
    """Programs over several parts at once; counts them."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.programs = 0

    def minimise(
        self, parts: list[_Part], objectives: list[np.ndarray], exact: bool = True
    ) -> list[np.ndarray | None]:
        """Each part's whole solution that minimises its objective (None: unbounded or, when
        not ``exact``, an answer that is not whole, which proves nothing: no integer program
        for a witness)."""
        from scipy.optimize import linprog
        from scipy.sparse import block_diag

        self.programs += 1
        lower = np.concatenate([np.full(len(p.cells), p.floor) for p in parts])
        result = linprog(
            np.concatenate(objectives),
            A_eq=block_diag([p.matrix for p in parts], format="csr"),
            b_eq=np.concatenate([p.rhs for p in parts]),
            bounds=np.column_stack([lower, np.full(len(lower), np.inf)]),
            method="highs",
        )
        if result.status != 0 and len(parts) > 1:  # which part? each on its own
            return [
                self.minimise([p], [c], exact)[0] for p, c in zip(parts, objectives, strict=True)
            ]
        if result.status == 3:
            return [None]
        if result.status != 0:
            raise PublicationAuditError(
                f"the published equations of {self.system.names[parts[0].cells[0]]} have no "
                f"solution ({result.message}): the equations do not hold on the exact data"
            )
        answers: list[np.ndarray | None] = []
        start = 0
        for part, objective in zip(parts, objectives, strict=True):
            x = result.x[start : start + len(part.cells)]
            start += len(part.cells)
            whole = np.round(x)
            if np.abs(x - whole).max(initial=0) > WHOLE:
                answers.append(self._whole(part, objective) if exact else None)
            else:
                answers.append(whole)
        return answers

    def _whole(self, part: _Part, objective: np.ndarray) -> np.ndarray:
        from scipy.optimize import Bounds, LinearConstraint, milp

        self.programs += 1
        n = len(part.cells)
        result = milp(
            objective,
            integrality=np.ones(n),
            bounds=Bounds(np.full(n, part.floor), np.full(n, np.inf)),
            constraints=LinearConstraint(part.matrix, part.rhs, part.rhs),
        )
        if result.status != 0 or result.x is None:
            raise PublicationAuditError(
                f"no whole solution for the part of {self.system.names[part.cells[0]]} "
                f"({result.message})"
            )
        return np.round(result.x)


def solve(
    system: System, parts: list[tuple[list[int], list[str]]], required: list[float], seed: int = 0
) -> tuple[list[tuple[dict[int, Interval], list[int]]], int]:
    """Each part's (exact intervals, unprotected cells), in the order given, and the programs
    run. ``intervals`` holds only cells whose bounds were solved (the others are protected by
    witnesses); a cell is unprotected when ``upper - lower`` is less than ``required``."""
    solver = _Solver(system)
    built = [_part(system, cells, equations, required) for cells, equations in parts]
    for part in built:
        if len(part.cells) == 1 and part.matrix.shape[0]:  # alone in an equation: subtraction
            value = part.seen_low[0]
            part.intervals[part.cells[0]] = Interval(part.cells[0], value, value)
            if part.needed[0] > 0:
                part.unprotected.append(part.cells[0])
            part.idle = 2

    # Many cells at once: each open cell pushed up or down (random signs and weights, seeded:
    # the same every run), while a program still proves some of the part's cells.
    rng = np.random.default_rng(seed)
    while True:
        active = [p for p in built if p.idle < 2 and len(p.open_cells())]
        if not active:
            break
        objectives = []
        for part in active:
            objective = np.zeros(len(part.cells))
            left = part.open_cells()
            objective[left] = rng.choice([-1.0, 1.0], len(left)) * (0.5 + rng.random(len(left)))
            objectives.append(objective)
        before = [len(p.open_cells()) for p in active]
        answers = solver.minimise(active, objectives, exact=False)
        for part, whole, count in zip(active, answers, before, strict=True):
            if whole is not None:
                part.keep(whole)
            part.idle = part.idle + 1 if len(part.open_cells()) == count else 0

    # Then each cell left on its own: its lower bound (unless a witness is at the floor), then
    # its upper bound, one cell of every part per program.
    for part in built:
        if not part.unprotected:
            part.queue = [int(k) for k in part.open_cells()]
    while True:
        work: list[tuple[_Part, int, float]] = []
        for part in built:
            step = _next_step(part)
            if step is not None:
                work.append((part, *step))
        if not work:
            break
        objectives = []
        for part, k, sign in work:
            objective = np.zeros(len(part.cells))
            objective[k] = sign
            objectives.append(objective)
        answers = solver.minimise([p for p, _, _ in work], objectives)
        for (part, k, sign), whole in zip(work, answers, strict=True):
            _take(part, k, sign, whole)
    return [(p.intervals, p.unprotected) for p in built], solver.programs


def _next_step(part: _Part) -> tuple[int, float] | None:
    """The part's next program: (cell position, +1 for its lower bound or -1 for its upper)."""
    while part.queue:
        k = part.queue[0]
        if part.seen_high[k] - part.seen_low[k] >= part.needed[k]:
            part.queue.pop(0)
            part.lower = None
            continue
        if part.lower is None:
            if part.seen_low[k] <= part.floor:
                part.lower = part.floor
            else:
                return k, 1.0
        return k, -1.0
    return None


def _take(part: _Part, k: int, sign: float, whole: np.ndarray | None) -> None:
    if whole is not None:
        part.keep(whole)
    if sign > 0:
        part.lower = part.floor if whole is None else float(whole[k])
        return
    upper = np.inf if whole is None else float(whole[k])
    lower = part.floor if part.lower is None else part.lower
    part.queue.pop(0)
    part.lower = None
    if part.seen_high[k] - part.seen_low[k] >= part.needed[k]:
        return  # its upper bound's solution was witness enough
    cell = part.cells[k]
    part.intervals[cell] = Interval(cell, lower, upper)
    if upper - lower < part.needed[k]:
        part.unprotected.append(cell)
