"""A long task logs a progress line while it works (vawg_warehouse.progress), and `vawg run` shows
those lines on the console."""

from __future__ import annotations

import logging
import threading

from vawg_warehouse import orchestration, progress


def test_a_blocked_step_logs_progress_until_it_ends(caplog) -> None:
    caplog.set_level(logging.INFO, logger="vawg_warehouse.progress")
    beats = threading.Event()
    handler = logging.Handler()
    handler.emit = lambda record: beats.set()  # type: ignore[method-assign]
    logging.getLogger("vawg_warehouse.progress").addHandler(handler)
    try:
        with progress.heartbeat("loading files", every=0.01):
            assert beats.wait(timeout=60)  # the step blocks until a progress line came
    finally:
        logging.getLogger("vawg_warehouse.progress").removeHandler(handler)
    lines = [r.getMessage() for r in caplog.records if r.name == "vawg_warehouse.progress"]
    assert lines and lines[0].startswith("PROGRESS loading files: still working")
    after = len(lines)
    assert not any(t.name.startswith("heartbeat") for t in threading.enumerate())
    assert len([r for r in caplog.records if r.name == "vawg_warehouse.progress"]) == after


def test_the_long_task_functions_beat_every_15_seconds() -> None:
    assert progress.EVERY_SECONDS <= 15
    for function in (
        orchestration.load_batches,
        orchestration.validate_batches,
        orchestration.publish_batches,
        orchestration.transform_group,
        orchestration.build_scorecard,
    ):
        assert getattr(function, "heartbeat", None), function.__name__
