"""The scorecard's statistics: control limits, special causes, the change on last year and its test.

Pure functions on plain numbers (no database, no charting), so each is unit-tested on its own.

* **Control limits.** Counts get an XmR (individuals) chart: centre line the mean of the baseline,
  limits at the mean plus or minus 2.66 times the mean moving range (the NHS "Making Data Count"
  convention; it does not assume the counts are Poisson, so over-dispersion does not flag every
  point). Proportions get a p-chart: centre line the pooled proportion of the baseline, limits at
  three binomial standard errors for each period's own denominator.
* **Special causes** on the latest period: outside the limits, a run of ``run_length`` periods on
  one side of the centre line, or ``trend_length`` periods each higher (or lower) than the last.
* **Change on last year.** Counts: the exact conditional test of two Poisson counts (given their
  sum, the latest count is binomial with p = 1/2 when the rates are equal). Proportions: Fisher's
  exact test of the 2x2 table (the exact test of two binomial proportions given the margins).
  A total of money has no sampling distribution: it is reported, not tested.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

XMR_FACTOR = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of two


@dataclass(frozen=True)
class ControlLimits:
    chart: str  # "xmr" or "p"
    centre: float
    lower: list[float | None]  # per period (a p-chart's limits follow each denominator)
    upper: list[float | None]
    baseline_periods: int


@dataclass(frozen=True)
class Signal:
    rule: str  # "outside_limits", "run", "trend"
    direction: str  # "up" or "down"
    description: str


def xmr_limits(values: Sequence[float], baseline: int) -> ControlLimits | None:
    """Individuals chart over the first ``baseline`` values (all if fewer); None with fewer than
    two values, since a moving range needs two."""
    base = [float(v) for v in values[:baseline]]
    if len(base) < 2:
        return None
    centre = sum(base) / len(base)
    moving = [abs(b - a) for a, b in zip(base, base[1:], strict=False)]
    mean_moving_range = sum(moving) / len(moving)
    lower = max(centre - XMR_FACTOR * mean_moving_range, 0.0)
    upper = centre + XMR_FACTOR * mean_moving_range
    n = len(values)
    return ControlLimits("xmr", centre, [lower] * n, [upper] * n, len(base))


def p_limits(
    numerators: Sequence[float], denominators: Sequence[float], baseline: int
) -> ControlLimits | None:
    """p-chart: pooled proportion of the first ``baseline`` periods, limits for each period's own
    denominator (none where the denominator is 0); None without any denominator in the baseline."""
    num = sum(float(x) for x in numerators[:baseline])
    den = sum(float(n) for n in denominators[:baseline])
    if den <= 0:
        return None
    p = num / den
    lower: list[float | None] = []
    upper: list[float | None] = []
    for n in denominators:
        if not n:
            lower.append(None)
            upper.append(None)
            continue
        se = math.sqrt(p * (1 - p) / float(n))
        lower.append(max(p - 3 * se, 0.0))
        upper.append(min(p + 3 * se, 1.0))
    return ControlLimits("p", p, lower, upper, min(baseline, len(numerators)))


def signals(
    values: Sequence[float | None],
    limits: ControlLimits,
    run_length: int = 7,
    trend_length: int = 6,
) -> list[Signal]:
    """Special causes that include the latest value (what a reader of the latest figure needs)."""
    found: list[Signal] = []
    if not values or values[-1] is None:
        return found
    last = float(values[-1])
    lower, upper = limits.lower[-1], limits.upper[-1]
    if upper is not None and last > upper:
        found.append(Signal("outside_limits", "up", "above the upper control limit"))
    elif lower is not None and last < lower:
        found.append(Signal("outside_limits", "down", "below the lower control limit"))

    tail: list[float] = []
    for v in reversed(values):
        if v is None:
            break
        tail.append(float(v))
    tail.reverse()
    if len(tail) >= run_length:
        recent = tail[-run_length:]
        if all(v > limits.centre for v in recent):
            found.append(
                Signal("run", "up", f"{run_length} periods in a row above the centre line")
            )
        elif all(v < limits.centre for v in recent):
            found.append(
                Signal("run", "down", f"{run_length} periods in a row below the centre line")
            )
    if len(tail) >= trend_length:
        recent = tail[-trend_length:]
        steps = list(zip(recent, recent[1:], strict=False))
        if all(b > a for a, b in steps):
            found.append(Signal("trend", "up", f"{trend_length} periods each higher than the last"))
        elif all(b < a for a, b in steps):
            found.append(
                Signal("trend", "down", f"{trend_length} periods each lower than the last")
            )
    return found


@dataclass(frozen=True)
class ChangeTest:
    method: str  # what was tested, in words
    latest: float
    previous: float
    change: float  # latest - previous (counts: count; proportions: percentage points)
    relative_change_pct: float | None
    p_value: float | None
    significant: bool | None  # None: not tested
    direction: str  # "up", "down" or "none"
    note: str = ""


def _direction(change: float) -> str:
    return "up" if change > 0 else "down" if change < 0 else "none"


def poisson_change(latest: int, previous: int, alpha: float = 0.05) -> ChangeTest:
    """Exact conditional test of two Poisson counts over equal exposure (one month each, the same
    population): given n = latest + previous, latest ~ Binomial(n, 1/2) when the rates are equal."""
    from scipy.stats import binomtest

    n = latest + previous
    change = float(latest - previous)
    relative = None if previous == 0 else 100.0 * change / previous
    if n == 0:
        return ChangeTest(
            "exact test of two Poisson counts", latest, previous, 0.0, None, 1.0, False, "none"
        )
    p_value = float(binomtest(latest, n, 0.5, alternative="two-sided").pvalue)
    return ChangeTest(
        "exact test of two Poisson counts",
        float(latest),
        float(previous),
        change,
        relative,
        p_value,
        p_value < alpha,
        _direction(change),
    )


def binomial_change(
    latest_numerator: int,
    latest_denominator: int,
    previous_numerator: int,
    previous_denominator: int,
    alpha: float = 0.05,
) -> ChangeTest | None:
    """Fisher's exact test of two binomial proportions; the change in percentage points. None when
    either period has no denominator (no proportion to compare)."""
    from scipy.stats import fisher_exact

    if latest_denominator <= 0 or previous_denominator <= 0:
        return None
    p1 = latest_numerator / latest_denominator
    p0 = previous_numerator / previous_denominator
    table = [
        [latest_numerator, latest_denominator - latest_numerator],
        [previous_numerator, previous_denominator - previous_numerator],
    ]
    p_value = float(fisher_exact(table, alternative="two-sided").pvalue)
    change = 100.0 * (p1 - p0)
    relative = None if p0 == 0 else 100.0 * (p1 - p0) / p0
    return ChangeTest(
        "Fisher's exact test of two proportions",
        100.0 * p1,
        100.0 * p0,
        change,
        relative,
        p_value,
        p_value < alpha,
        _direction(change),
    )


def untested_change(latest: float, previous: float, reason: str) -> ChangeTest:
    change = latest - previous
    relative = None if previous == 0 else 100.0 * change / previous
    return ChangeTest(
        "not tested", latest, previous, change, relative, None, None, _direction(change), reason
    )


# --------------------------------------------------------------------------------------------
# Status: the measure against the expectation its configuration sets
# --------------------------------------------------------------------------------------------

STATUSES = ("on_track", "watch", "concern", "not_graded", "insufficient_data")
STATUS_LABELS = {
    "on_track": "On track",
    "watch": "Watch",
    "concern": "Concern",
    "not_graded": "Context (not graded)",
    "insufficient_data": "Insufficient data",
}


@dataclass(frozen=True)
class Expectation:
    """What the Commissioner's office expects of the latest value (scorecard.yml)."""

    kind: str = "none"  # none, at_least, at_most, between
    low: float | None = None
    high: float | None = None
    source: str = ""

    def met_by(self, value: float) -> bool | None:
        if self.kind == "at_least":
            return value >= float(self.low)
        if self.kind == "at_most":
            return value <= float(self.high)
        if self.kind == "between":
            return float(self.low) <= value <= float(self.high)
        return None

    def describe(self, fmt) -> str:
        if self.kind == "at_least":
            return f"at least {fmt(self.low)}"
        if self.kind == "at_most":
            return f"at most {fmt(self.high)}"
        if self.kind == "between":
            return f"between {fmt(self.low)} and {fmt(self.high)}"
        return "none set"


@dataclass
class Status:
    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def grade(
    latest: float | None,
    polarity: str,
    expectation: Expectation,
    change: ChangeTest | None,
    latest_signals: Sequence[Signal],
    fmt,
) -> Status:
    """The graded status and its reasons, from the latest complete value.

    ``polarity`` is ``higher_is_better``, ``lower_is_better`` or ``neutral`` (a rise can be good
    or bad news, e.g. more reports of domestic abuse). Deterioration is a significant change on
    last year, or a special cause on the latest period, in the direction the polarity calls
    worse. Concern: the expectation is missed and the measure is deteriorating. Watch: one of
    the two. On track: neither. A neutral measure is graded only against its expectation.
    """
    if latest is None:
        return Status("insufficient_data", ["no complete period published yet"])
    reasons: list[str] = []
    met = expectation.met_by(latest)
    if met is True:
        reasons.append(f"meets the expectation ({expectation.describe(fmt)})")
    elif met is False:
        reasons.append(
            f"misses the expectation ({expectation.describe(fmt)}): latest {fmt(latest)}"
        )

    bad = {"higher_is_better": "down", "lower_is_better": "up"}.get(polarity)
    worse: list[str] = []
    better: list[str] = []
    if change is not None and change.significant:
        words = f"a significant {'rise' if change.direction == 'up' else 'fall'} on last year " + (
            f"(p = {change.p_value:.3f})"
        )
        (worse if change.direction == bad else better if bad else worse).append(words)
    for signal in latest_signals:
        (worse if signal.direction == bad else better if bad else worse).append(
            f"special cause: {signal.description}"
        )

    if bad is None:  # neutral: changes are information, not grades
        reasons += [f"{w} (neither good nor bad in itself)" for w in worse]
        if change is not None and change.significant is None:
            reasons.append(f"the change on last year is not tested ({change.note})")
        if met is False:
            return Status("watch", reasons)
        if not reasons:
            reasons.append("no significant change and no special cause")
        return Status("not_graded", reasons)

    reasons += [f"deteriorating: {w}" for w in worse]
    reasons += [f"improving: {b}" for b in better]
    if change is not None and change.significant is None:
        reasons.append(f"the change on last year is not tested ({change.note})")
    if not worse and not better:
        tested = change is not None and change.significant is not None
        reasons.append(
            "no significant change on last year and no special cause"
            if tested
            else "no special cause"
        )
    if met is False and worse:
        return Status("concern", reasons)
    if met is False or worse:
        return Status("watch", reasons)
    return Status("on_track", reasons)
