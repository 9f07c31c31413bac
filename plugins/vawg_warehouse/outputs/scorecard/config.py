"""The scorecard's configuration (scorecard.yml beside this file): the plan's measures, their
polarity and where their figures are (the view bi.measure_headlines). Which series stand for a
measure and what is expected of them are dbt seed measure_headline_series, read with the
figures; nothing in the configuration is code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_PATH = Path(__file__).resolve().parent / "scorecard.yml"
POLARITIES = ("higher_is_better", "lower_is_better", "neutral")
_RELATION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class ScorecardConfigError(ValueError):
    """scorecard.yml is not what the scorecard can use: names the measure and the key."""


@dataclass(frozen=True)
class Measure:
    id: str
    number: int
    title: str
    plan_wording: str
    family: str
    polarity: str
    polarity_note: str
    peer_mart: str | None
    peer_categories: tuple[str, ...]
    peer_note: str


@dataclass(frozen=True)
class Config:
    title: str
    subtitle: str
    headlines: str
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
    _require(bool(raw.get("id")), where, "id is required")
    polarity = raw.get("polarity")
    _require(polarity in POLARITIES, where, f"polarity must be one of {POLARITIES}")
    peers = raw.get("peers") or {}
    if peers.get("mart") is not None:
        _require(bool(_RELATION.match(peers["mart"])), where, "peers.mart must be schema.table")
    return Measure(
        id=raw["id"],
        number=int(raw["number"]),
        title=raw["title"],
        plan_wording=raw.get("plan_wording", raw["title"]),
        family=raw["family"],
        polarity=polarity,
        polarity_note=" ".join(str(raw.get("polarity_note", "")).split()),
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
    headlines = raw.get("headlines", "bi.measure_headlines")
    _require(bool(_RELATION.match(headlines)), "headlines", "must be schema.view")
    return Config(
        title=raw["title"],
        subtitle=raw.get("subtitle", ""),
        headlines=headlines,
        significance_level=float(raw.get("significance_level", 0.05)),
        baseline_periods=int(spc.get("baseline_periods", 24)),
        min_periods=int(spc.get("min_periods", 12)),
        run_length=int(spc.get("run_length", 7)),
        trend_length=int(spc.get("trend_length", 6)),
        trend_periods=int(raw.get("trend_periods", 36)),
        measures=measures,
        path=path,
    )
