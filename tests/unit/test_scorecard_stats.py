"""The scorecard's statistics on numbers worked by hand (vawg_warehouse.outputs.scorecard.stats)."""

from __future__ import annotations

import math

import pytest

from vawg_warehouse.outputs.scorecard import stats
from vawg_warehouse.outputs.scorecard.config import load_config


def pct(v: float) -> str:
    return f"{v:.1f}%"


def test_xmr_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges() -> None:
    values = [10, 12, 11, 13, 12, 50]
    limits = stats.xmr_limits(values, baseline=5)
    # baseline 10, 12, 11, 13, 12: mean 11.6; moving ranges 2, 1, 2, 1: mean 1.5
    assert limits.centre == pytest.approx(11.6)
    assert limits.upper[0] == pytest.approx(11.6 + 2.66 * 1.5)
    assert limits.lower[0] == pytest.approx(11.6 - 2.66 * 1.5)
    assert len(limits.upper) == len(values) and limits.baseline_periods == 5
    assert stats.xmr_limits([4], baseline=12) is None


def test_xmr_lower_limit_is_never_below_zero() -> None:
    limits = stats.xmr_limits([0, 9, 0, 9, 0], baseline=5)
    assert limits.lower[0] == 0.0


def test_p_chart_limits_follow_each_periods_denominator() -> None:
    limits = stats.p_limits([10, 20, 30], [100, 200, 300], baseline=3)
    assert limits.centre == pytest.approx(0.1)
    se_100 = math.sqrt(0.1 * 0.9 / 100)
    se_300 = math.sqrt(0.1 * 0.9 / 300)
    assert limits.upper[0] == pytest.approx(0.1 + 3 * se_100)
    assert limits.upper[2] == pytest.approx(0.1 + 3 * se_300)
    assert limits.lower[0] == pytest.approx(max(0.1 - 3 * se_100, 0))
    assert stats.p_limits([0], [0], baseline=1) is None


def test_signals_outside_limits_runs_and_trends_on_the_latest_value() -> None:
    flat = stats.ControlLimits("xmr", 10.0, [5.0] * 8, [15.0] * 8, 8)
    assert [s.rule for s in stats.signals([10, 11, 9, 10, 11, 9, 10, 16], flat)] == [
        "outside_limits"
    ]
    assert stats.signals([10, 11, 9, 10, 11, 9, 10, 16], flat)[0].direction == "up"
    run = stats.signals([9, 11, 11, 12, 11, 12, 11, 12], flat, run_length=7)
    assert [s.rule for s in run] == ["run"] and run[0].direction == "up"
    trend = stats.signals([14, 13, 12, 11, 10, 9], flat, run_length=7, trend_length=6)
    assert [(s.rule, s.direction) for s in trend] == [("trend", "down")]
    assert stats.signals([10, 11, 9, 10], flat) == []


def test_poisson_change_is_the_exact_conditional_binomial_test() -> None:
    from scipy.stats import binomtest

    change = stats.poisson_change(130, 100)
    assert change.change == 30 and change.relative_change_pct == pytest.approx(30.0)
    assert change.p_value == pytest.approx(binomtest(130, 230, 0.5).pvalue)
    assert change.significant is (change.p_value < 0.05)
    # 30% more on small counts is within chance
    small = stats.poisson_change(13, 10)
    assert small.significant is False and small.direction == "up"
    assert stats.poisson_change(0, 0).p_value == 1.0


def test_binomial_change_is_fishers_exact_test_in_percentage_points() -> None:
    from scipy.stats import fisher_exact

    change = stats.binomial_change(30, 200, 15, 200)
    assert change.latest == pytest.approx(15.0) and change.previous == pytest.approx(7.5)
    assert change.change == pytest.approx(7.5)
    assert change.p_value == pytest.approx(fisher_exact([[30, 170], [15, 185]]).pvalue)
    assert change.significant is True
    assert stats.binomial_change(3, 0, 1, 10) is None


def test_money_is_reported_not_tested() -> None:
    change = stats.untested_change(120_000, 100_000, "money")
    assert change.p_value is None and change.significant is None and change.change == 20_000


def test_grading_against_the_expectation_and_the_direction_that_is_worse() -> None:
    at_least_90 = stats.Expectation("at_least", low=90)
    fall = stats.ChangeTest("t", 80, 92, -12, None, 0.001, True, "down")
    rise = stats.ChangeTest("t", 95, 85, 10, None, 0.001, True, "up")
    flat = stats.ChangeTest("t", 91, 90, 1, None, 0.7, False, "up")
    assert stats.grade(80, "higher_is_better", at_least_90, fall, [], pct).status == "concern"
    assert stats.grade(80, "higher_is_better", at_least_90, flat, [], pct).status == "watch"
    watch = stats.grade(91, "higher_is_better", at_least_90, fall, [], pct)
    assert watch.status == "watch" and any("deteriorating" in r for r in watch.reasons)
    on_track = stats.grade(95, "higher_is_better", at_least_90, rise, [], pct)
    assert on_track.status == "on_track" and any("improving" in r for r in on_track.reasons)
    # lower is better: the same rise is the bad direction
    assert stats.grade(95, "lower_is_better", stats.Expectation(), rise, [], pct).status == "watch"
    down = stats.Signal("outside_limits", "down", "below the lower control limit")
    assert stats.grade(91, "higher_is_better", at_least_90, flat, [down], pct).status == "watch"


def test_a_neutral_measure_is_context_unless_it_leaves_its_range() -> None:
    band = stats.Expectation("between", low=28, high=40)
    rise = stats.ChangeTest("t", 45, 30, 15, None, 0.001, True, "up")
    context = stats.grade(33, "neutral", band, rise, [], pct)
    assert context.status == "not_graded"
    assert any("neither good nor bad" in r for r in context.reasons)
    assert stats.grade(45, "neutral", band, rise, [], pct).status == "watch"
    assert stats.grade(None, "neutral", band, None, [], pct).status == "insufficient_data"


def test_the_configuration_names_six_measures_each_with_polarity_and_expectation() -> None:
    cfg = load_config()
    assert [m.number for m in cfg.measures] == [1, 2, 3, 4, 5, 6]
    for m in cfg.measures:
        assert m.polarity in ("higher_is_better", "lower_is_better", "neutral")
        assert m.kind in ("count", "proportion", "money")
        assert m.expectation.kind in ("none", "at_least", "at_most", "between")
        if m.expectation.kind != "none":
            assert m.expectation.source, f"{m.id}: an expectation says where it comes from"


def _documented_columns() -> dict[str, set[str]]:
    import yaml

    from vawg_warehouse.config import get_settings

    columns: dict[str, set[str]] = {}
    for path in (get_settings().dbt_project_dir / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            columns[model["name"]] = {c["name"] for c in model.get("columns") or []}
    return columns


def test_every_column_the_scorecard_reads_is_a_documented_column_of_its_model() -> None:
    """A renamed mart column must fail here, not leave a panel saying "Not shown"."""
    documented = _documented_columns()
    missing = []
    for m in load_config().measures:
        mart = m.mart.split(".")[1]
        missing += [(m.id, mart, c) for c in m.columns_needed if c not in documented[mart]]
        if m.publication:
            publication = m.publication.split(".")[1]
            needed = [c.column for c in m.local_authorities] + list(m.local_authority_filter)
            missing += [(m.id, publication, c) for c in needed if c not in documented[publication]]
    assert not missing
