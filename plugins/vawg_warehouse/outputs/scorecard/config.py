"""The scorecard's configuration (scorecard.yml beside this file): which series stands for each
plan measure, its polarity and what the Commissioner's office expects of it. Read and checked
here; nothing in it is code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vawg_warehouse.outputs.scorecard.stats import Expectation

CONFIG_PATH = Path(__file__).resolve().parent / "scorecard.yml"
KINDS = ("count", "proportion", "money")
POLARITIES = ("higher_is_better", "lower_is_better", "neutral")
GRAINS = ("month", "financial_year")
FORMATS = ("count", "decimal", "percent", "fraction_percent", "money")
_RELATION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")


class ScorecardConfigError(ValueError):
    """scorecard.yml is not what the scorecard can use: names the measure and the key."""


@dataclass(frozen=True)
class TableColumn:
    column: str
    label: str
    format: str


@dataclass(frozen=True)
class Measure:
    id: str
    number: int
    title: str
    plan_wording: str
    family: str
    mart: str
    publication: str | None
    period_column: str
    grain: str
    filter: dict[str, Any]
    kind: str
    label: str
    value: str | None
    numerator: str | None
    denominator: str | None
    polarity: str
    polarity_note: str
    expectation: Expectation
    local_authorities: tuple[TableColumn, ...]
    local_authority_filter: dict[str, Any]
    peer_mart: str | None
    peer_categories: tuple[str, ...]
    peer_note: str

    @property
    def columns_needed(self) -> list[str]:
        used = [self.period_column, *self.filter]
        used += [c for c in (self.value, self.numerator, self.denominator) if c]
        return used


@dataclass(frozen=True)
class Config:
    title: str
    subtitle: str
    significance_level: float
    baseline_periods: int
    min_periods: int
    run_length: int
    trend_length: int
    trend_periods: int
    measures: tuple[Measure, ...] = field(default_factory=tuple)
    path: Path = CONFIG_PATH


def _require(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise ScorecardConfigError(f"scorecard.yml, {where}: {message}")


def _measure(raw: dict[str, Any], index: int) -> Measure:
    where = f"measure {raw.get('id', index + 1)}"
    series = raw.get("series") or {}
    kind = series.get("kind")
    _require(kind in KINDS, where, f"series.kind must be one of {KINDS}")
    if kind == "proportion":
        _require(
            bool(series.get("numerator") and series.get("denominator")),
            where,
            "a proportion needs series.numerator and series.denominator",
        )
    else:
        _require(bool(series.get("value")), where, f"a {kind} needs series.value")
    polarity = raw.get("polarity")
    _require(polarity in POLARITIES, where, f"polarity must be one of {POLARITIES}")
    grain = raw.get("grain", "month")
    _require(grain in GRAINS, where, f"grain must be one of {GRAINS}")
    for key in ("mart", "publication"):
        relation = raw.get(key)
        if relation is not None:
            _require(bool(_RELATION.match(relation)), where, f"{key} must be schema.table")
    _require(raw.get("mart") is not None, where, "mart is required")
    filters = raw.get("filter") or {}
    columns = [raw.get("period_column"), *filters]
    columns += [series.get(k) for k in ("value", "numerator", "denominator") if series.get(k)]
    for column in columns:
        _require(bool(column and _COLUMN.match(column)), where, f"{column!r} is not a column name")
    exp = raw.get("expectation") or {"kind": "none"}
    expectation = Expectation(
        kind=exp.get("kind", "none"),
        low=exp.get("low"),
        high=exp.get("high"),
        source=" ".join(str(exp.get("source", "")).split()),
    )
    _require(
        expectation.kind in ("none", "at_least", "at_most", "between"),
        where,
        "expectation.kind must be none, at_least, at_most or between",
    )
    if expectation.kind in ("at_least", "between"):
        _require(expectation.low is not None, where, "expectation.low is required")
    if expectation.kind in ("at_most", "between"):
        _require(expectation.high is not None, where, "expectation.high is required")
    table = []
    for item in raw.get("local_authorities") or []:
        _require(item.get("format") in FORMATS, where, f"local_authorities format in {FORMATS}")
        _require(bool(_COLUMN.match(item.get("column", ""))), where, "local_authorities column")
        table.append(TableColumn(item["column"], item["label"], item["format"]))
    table_filter = dict(raw.get("local_authority_filter") or {})
    for column in table_filter:
        _require(bool(_COLUMN.match(column)), where, f"{column!r} is not a column name")
    peers = raw.get("peers") or {}
    return Measure(
        id=raw["id"],
        number=int(raw["number"]),
        title=raw["title"],
        plan_wording=raw.get("plan_wording", raw["title"]),
        family=raw["family"],
        mart=raw["mart"],
        publication=raw.get("publication"),
        period_column=raw["period_column"],
        grain=grain,
        filter=dict(filters),
        kind=kind,
        label=series.get("label", raw["title"]),
        value=series.get("value"),
        numerator=series.get("numerator"),
        denominator=series.get("denominator"),
        polarity=polarity,
        polarity_note=" ".join(str(raw.get("polarity_note", "")).split()),
        expectation=expectation,
        local_authorities=tuple(table),
        local_authority_filter=table_filter,
        peer_mart=peers.get("mart"),
        peer_categories=tuple(peers.get("categories") or ()),
        peer_note=" ".join(str(peers.get("note", "")).split()),
    )


def load_config(path: Path | None = None) -> Config:
    path = path or CONFIG_PATH
    raw = yaml.safe_load(path.read_text())
    spc = raw.get("spc") or {}
    measures = tuple(_measure(m, i) for i, m in enumerate(raw.get("measures") or []))
    ids = [m.id for m in measures]
    _require(len(ids) == len(set(ids)), "measures", "every measure needs its own id")
    return Config(
        title=raw["title"],
        subtitle=raw.get("subtitle", ""),
        significance_level=float(raw.get("significance_level", 0.05)),
        baseline_periods=int(spc.get("baseline_periods", 24)),
        min_periods=int(spc.get("min_periods", 12)),
        run_length=int(spc.get("run_length", 7)),
        trend_length=int(spc.get("trend_length", 6)),
        trend_periods=int(raw.get("trend_periods", 36)),
        measures=measures,
        path=path,
    )
