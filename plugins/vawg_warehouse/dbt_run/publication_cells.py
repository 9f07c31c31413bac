"""The publication audit's data: its parameters (seed publication_parameters), the system of
published cells and the equations that tie them, a cell's interval and an audit's result.
publication_audit.py solves; this module only holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


class PublicationAuditError(RuntimeError):
    """Suppressed cells that can be narrowed below the protection interval (names only), or
    published equations that do not hold."""


@dataclass(frozen=True)
class Parameters:
    threshold: int = 5
    protection_interval: int = 5
    zeros_published: bool = True
    secondary: bool = True
    interval_suppression: bool = True
    fail_build: bool = False

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str | None]]) -> Parameters:
        """From seed publication_parameters (parameter, parameter_value)."""
        values = {name: value for name, value in rows}
        threshold = int(values.get("suppression_threshold") or 5)
        interval = values.get("protection_interval")
        return cls(
            threshold=threshold,
            protection_interval=int(interval) if interval else threshold,
            zeros_published=(values.get("suppress_zero_counts") or "true").lower() == "false",
            secondary=(values.get("secondary_suppression") or "next_smallest") != "none",
            interval_suppression=(values.get("interval_suppression") or "on") != "off",
            fail_build=(values.get("audit_failure") or "warn") == "fail",
        )


@dataclass
class System:
    """Every published cell and the equations that tie them (one suppression model's rows)."""

    names: list[str] = field(default_factory=list)  # model|component|cell
    keys: list[tuple[str, ...]] = field(default_factory=list)  # (model, component, cell)
    values: list[int | None] = field(default_factory=list)
    primary: list[bool] = field(default_factory=list)
    built: list[bool] = field(default_factory=list)  # suppressed as built
    equations: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)
    zeros_published: bool = True
    any_added: bool = False  # built with cells an audit decision added
    caps: dict[int, float] = field(default_factory=dict)  # cell -> its width, all else hidden

    def add_cell(
        self,
        name: str,
        value: int | None,
        is_primary: bool,
        is_suppressed: bool,
        equations: Iterable[str] = (),
        coefficients: Iterable[int] = (),
        key: tuple[str, ...] | None = None,
    ) -> int:
        i = len(self.names)
        self.index[name] = i
        self.names.append(name)
        self.keys.append(key or (name,))
        self.values.append(value)
        self.primary.append(bool(is_primary))
        self.built.append(bool(is_suppressed))
        for equation, coefficient in zip(equations, coefficients, strict=True):
            self.equations.setdefault(equation, []).append((i, int(coefficient)))
        return i

    def rhs(self, equation: str) -> int:
        """The equation's public right-hand side, from the exact values."""
        return sum(c * (self.values[i] or 0) for i, c in self.equations[equation])

    def order(self, i: int) -> tuple:
        """Secondary suppression's preference (as the SQL's): non-zero, smallest, then name."""
        value = self.values[i]
        return (value is None, value == 0, value if value is not None else 0, self.names[i])

    def required_widths(self, width: int) -> list[float]:
        """The width each cell's interval must reach: the protection interval, or less where no
        suppression could reach it: the smallest public total the cell adds into (an equation
        whose coefficients are all 1: a cell of a force total of 2 is never less certain than 0
        to 2) and, once worked out (publication_audit.caps), the cell's width were every cell
        of its component hidden (at least 1 each where the component has no 0 to hide)."""
        required: list[float] = [width] * len(self.names)
        for equation, terms in self.equations.items():
            if all(c == 1 for _, c in terms):
                total = self.rhs(equation)
                for i, _ in terms:
                    required[i] = min(required[i], total)
        for i, cap in self.caps.items():
            required[i] = min(required[i], cap)
        return required

    def component_cells(self, i: int) -> list[int]:
        """Every cell of cell i's component (its model and component)."""
        if not hasattr(self, "_components"):
            groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for k, key in enumerate(self.keys):
                groups[key[:2]].append(k)
            self._components = groups
        return self._components[self.keys[i][:2]]

    def component_equations(self, i: int) -> list[str]:
        """Every equation of cell i's component (equations never cross components)."""
        if not hasattr(self, "_component_equations"):
            groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
            for equation, terms in self.equations.items():
                groups[self.keys[terms[0][0]][:2]].append(equation)
            self._component_equations = groups
        return self._component_equations[self.keys[i][:2]]

    def cell_equations(self) -> list[list[str]]:
        memberships: list[list[str]] = [[] for _ in self.names]
        for equation, terms in self.equations.items():
            for i, _ in terms:
                memberships[i].append(equation)
        return memberships


@dataclass
class Interval:
    cell: int
    lower: float
    upper: float

    @property
    def width(self) -> float:
        return self.upper - self.lower


@dataclass
class AuditResult:
    suppressed: int
    intervals: dict[int, Interval]  # only cells solved exactly (the others are protected)
    unprotected: list[int]
    recovered: list[int]
    problems: int
    programs: int
    seconds: float

    def describe(self, system: System, limit: int = 20) -> str:
        names = [system.names[i] for i in self.unprotected[:limit]]
        more = len(self.unprotected) - len(names)
        return "; ".join(names) + (f"; and {more} more" if more > 0 else "")
