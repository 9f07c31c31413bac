"""One run of the nightly at a time, whatever started it: the DAG's first task, ``wait_for_turn``,
waits (a sensor in reschedule mode: it holds no worker slot while it waits) until

* the run before it (by logical date), if it is running, has finished, so a backfill's dates run
  in date order, and
* no other run that has already passed this gate is still going, so a backfill of past dates
  started while a night is running waits for that night, and the night for the backfill.

Why not ``max_active_runs=1`` alone: Airflow 3 applies a DAG's ``max_active_runs`` to scheduled
and manual runs only; a backfill's runs are limited by the backfill's own ``max_active_runs``
(default 10), counted apart from the DAG's (``airflow/jobs/scheduler_job_runner.py``), so
``airflow backfill create`` ran three dates at once on the same files. The gate needs no pool and
no lock table: Airflow's own task states say who holds the turn. Two runs that reach the gate in
the same poke can both pass only if neither precedes the other, which backfill runs always do.

Files, not dates, are the unit of work (README, "Backfills"): a run registers every file not yet
taken whatever its logical date, so the first date of a backfill takes what is new and the later
dates find nothing new and re-test the marts. The gate only makes them take turns.

The decision is :func:`may_start` (plain data in, no Airflow: tested on its own); the DAG's task
gathers the states through the Task SDK.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

log = logging.getLogger(__name__)

GATE_TASK = "wait_for_turn"
# How often the gate looks again while it waits (seconds): a waiting run starts at most this long
# after the run before it ends. Never under 30 s: the gate is a sensor in reschedule mode, and when
# it is due again before the scheduler has handled the executor's report of its last poke, Airflow
# 3.3 finds the report of a task it has queued again, takes it for a task changed behind its back
# ("finished with state success, but the task instance's state attribute is queued") and fails the
# try: the run waits out a retry delay, and three such tries fail it. Seen with 5 s on a backfill
# of two dates on the 2-core machine, in each of two runs (README, "Backfills").
POKE_ENV = "VAWG_TURN_POKE_SECONDS"
DEFAULT_POKE_SECONDS = 30
MIN_POKE_SECONDS = 30
MAX_POKE_SECONDS = 600
# The task whose end is the end of a run: the nightly's record_outcome; vawg_national's watcher
# (after every force's night, skipped when none failed; national.LAST_TASK).
LAST_TASK = "record_outcome"
ACTIVE_RUN_STATES = ("queued", "running")
# A task instance in one of these has ended (or will never run): its run no longer holds the turn.
ENDED_TASK_STATES = ("success", "failed", "skipped", "upstream_failed", "removed")


def holders(
    task_states: Mapping[str, Mapping[str, str | None]], me: str, last_task: str = LAST_TASK
) -> list[str]:
    """Runs other than ``me`` that passed the gate and whose ``last_task`` has not ended."""
    found = []
    for run_id, states in task_states.items():
        if run_id == me:
            continue
        if states.get(GATE_TASK) == "success" and states.get(last_task) not in ENDED_TASK_STATES:
            found.append(run_id)
    return sorted(found)


def may_start(
    me: str,
    previous_run: tuple[str, str] | None,
    task_states: Mapping[str, Mapping[str, str | None]],
    run_states: Mapping[str, str],
    last_task: str = LAST_TASK,
) -> tuple[bool, str]:
    """Whether run ``me`` may go on, and why not. ``previous_run``: (run id, state) of the run
    before it by logical date, if any; ``task_states``: run id -> {gate's and ``last_task``'s
    state};
    ``run_states``: the Airflow state of each holder (a run marked failed or success by hand, its
    last task never run, no longer holds the turn)."""
    # Only a running predecessor is waited for: a queued one may be held back by this very run
    # (Airflow lets one scheduled or manual run be active, and this one may be it), and waiting
    # for it would wait for ever. A running run that waits is never waited for by its own
    # predecessors or by a run that passed the gate, so the waits cannot close a circle.
    if previous_run is not None and previous_run[1] == "running":
        return False, f"waiting for the run before it, {previous_run[0]}, to finish"
    busy = [
        run_id
        for run_id in holders(task_states, me, last_task)
        if run_states.get(run_id, "running") in ACTIVE_RUN_STATES
    ]
    if busy:
        return False, f"waiting for {', '.join(busy)}, which is running"
    return True, "no other run is going"


def poke_seconds() -> int:
    """The gate's poke interval: ``VAWG_TURN_POKE_SECONDS`` (30 to 600), else 30. Read when the
    DAG file is parsed, so a bad value is a warning and the default, never an import error; a
    value under 30 is a warning and 30 (MIN_POKE_SECONDS says why)."""
    raw = os.environ.get(POKE_ENV, "").strip()
    if not raw:
        return DEFAULT_POKE_SECONDS
    if raw.isdigit() and 1 <= int(raw) < MIN_POKE_SECONDS:
        log.warning(
            "%s=%s is shorter than %s s, which Airflow's scheduler can take to handle a poke's "
            "end: a shorter wait can fail the gate's try. Using %s",
            POKE_ENV,
            raw,
            MIN_POKE_SECONDS,
            MIN_POKE_SECONDS,
        )
        return MIN_POKE_SECONDS
    if raw.isdigit() and MIN_POKE_SECONDS <= int(raw) <= MAX_POKE_SECONDS:
        return int(raw)
    log.warning(
        "%s=%r is not a whole number of seconds from %s to %s: using %s",
        POKE_ENV,
        raw,
        MIN_POKE_SECONDS,
        MAX_POKE_SECONDS,
        DEFAULT_POKE_SECONDS,
    )
    return DEFAULT_POKE_SECONDS
