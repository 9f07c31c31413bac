"""One run at a time (vawg_warehouse.run_turn): the gate's decision from Airflow's states. The
gate under the real scheduler, with a backfill of two dates, is in
tests/integration/test_real_scheduler.py."""

from __future__ import annotations

import logging

import pytest

from vawg_warehouse.run_turn import POKE_ENV, may_start, poke_seconds


def states(gate: str | None, last: str | None = None) -> dict[str, str | None]:
    return {"wait_for_turn": gate, "record_outcome": last}


def test_a_backfills_later_date_waits_for_the_date_before_it() -> None:
    task_states = {"b1": states("success"), "b2": states(None), "b3": states(None)}
    ok, why = may_start("b2", ("b1", "running"), task_states, {"b1": "running"})
    assert not ok and "b1" in why
    # b1 done: b2's turn, while b3 still waits for b2
    task_states["b1"] = states("success", "success")
    assert may_start("b2", ("b1", "success"), task_states, {"b1": "success"})[0]
    task_states["b2"] = states("success")
    assert not may_start("b3", ("b2", "running"), task_states, {"b2": "running"})[0]


def test_a_failed_night_does_not_block_the_next() -> None:
    task_states = {"n1": states("success", "success")}
    assert may_start("n2", ("n1", "failed"), task_states, {"n1": "failed"})[0]


def test_a_backfill_of_past_dates_waits_for_a_night_that_is_running() -> None:
    # the backfill's first date follows a long-finished run, but tonight's run holds the turn
    task_states = {"tonight": states("success", None), "old": states("success", "success")}
    ok, why = may_start("b1", ("old", "success"), task_states, {"tonight": "running"})
    assert not ok and "tonight" in why


def test_a_run_marked_failed_by_hand_no_longer_holds_the_turn() -> None:
    task_states = {"stuck": states("success", None)}
    assert may_start("b1", None, task_states, {"stuck": "failed"})[0]


def test_a_national_run_holds_the_turn_until_its_watcher_has_ended() -> None:
    """vawg_national's runs end with the watcher (after every force's night; skipped when none
    failed), not record_outcome, which is a mapped task there."""
    from vawg_warehouse.national import LAST_TASK

    assert LAST_TASK == "watcher"
    going = {"n1": {"wait_for_turn": "success", "watcher": None}, "b1": {}}
    ok, why = may_start("b1", None, going, {"n1": "running"}, LAST_TASK)
    assert not ok and "n1" in why
    for ended in ("skipped", "success", "failed", "upstream_failed"):
        done = {"n1": {"wait_for_turn": "success", "watcher": ended}, "b1": {}}
        assert may_start("b1", None, done, {"n1": "running"}, LAST_TASK)[0], ended
    # read with the nightly's last task, the same states would hold the turn for ever
    assert not may_start("b1", None, done, {"n1": "running"})[0]


def test_the_first_run_ever_goes_at_once() -> None:
    assert may_start("first", None, {"first": states(None)}, {}) == (True, "no other run is going")


def test_a_queued_run_before_it_is_not_waited_for() -> None:
    """Tonight's scheduled run holds the DAG's one active non-backfill slot, so an earlier
    manual run stays queued; a backfill date after that manual run must not wait for it (the
    scheduled run waits for the backfill, the manual run for the scheduled one: for ever)."""
    task_states = {"manual": {}, "tonight": states(None), "b1": states(None)}
    assert may_start("b1", ("manual", "queued"), task_states, {})[0]


@pytest.mark.parametrize("raw", ["", "abc", "0", "601", "2.5", "-5", "5", "29"])
def test_the_gates_poke_interval_is_30_s_unless_set_to_whole_seconds_from_30_to_600(
    raw, monkeypatch, caplog
) -> None:
    """Under 30 s the next look can be due before the scheduler has handled the last one's end,
    which Airflow fails the try for (run_turn.MIN_POKE_SECONDS): a warning and 30."""
    monkeypatch.setenv(POKE_ENV, raw)
    with caplog.at_level(logging.WARNING, logger="vawg_warehouse.run_turn"):
        assert poke_seconds() == 30
    assert (POKE_ENV in caplog.text) == bool(raw)  # a bad value is named, never an import error
    for good in ("30", "45", "600"):
        monkeypatch.setenv(POKE_ENV, good)
        assert poke_seconds() == int(good)
