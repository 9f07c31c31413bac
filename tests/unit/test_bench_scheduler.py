"""`vawg bench`'s figure of the nightly under the real scheduler: a task's start-up read from
its Airflow log (vawg_devtools.bench.scheduler.task_startups)."""

from __future__ import annotations

import json

from vawg_devtools.bench.scheduler import SchedulerRun, task_startups

RUN = "manual__2026-12-07T02:00:00+00:00"


def write_log(root, task_id: str, events: list[tuple[str, str]]) -> None:
    folder = root / "dag_id=vawg_nightly" / f"run_id={RUN}" / f"task_id={task_id}"
    folder.mkdir(parents=True)
    lines = [json.dumps({"timestamp": t, "event": e}) for t, e in events]
    (folder / "attempt=1.log").write_text("\n".join(lines) + "\n")


def test_start_up_runs_from_the_task_instances_start_to_its_own_first_line(tmp_path) -> None:
    write_log(
        tmp_path,
        "extract_force.load",
        [
            ("2026-12-07T02:00:01.000Z", "::group::Pre Execute"),
            ("2026-12-07T02:00:01.500Z", "Worker startup parse complete"),
            ("2026-12-07T02:00:01.600Z", "::endgroup::"),
            ("2026-12-07T02:00:01.800Z", "loading batch 3"),
        ],
    )
    write_log(
        tmp_path,
        "transform.dbt_force",
        [
            ("2026-12-07T02:00:02.000Z", "Worker startup parse complete"),
            ("2026-12-07T02:00:02.400Z", "dbt manifest read (parsed by an earlier task) in 0.3 s"),
        ],
    )
    tis = [
        {
            "task_id": "extract_force.load",
            "dag_run_id": RUN,
            "start_date": "2026-12-07T02:00:00.9Z",
        },
        {"task_id": "transform.dbt_force", "dag_run_id": RUN, "start_date": "2026-12-07T02:00:01Z"},
        {"task_id": "wait_for_turn", "dag_run_id": RUN, "start_date": "2026-12-07T02:00:00Z"},
    ]
    startup, manifest = task_startups(tmp_path, tis)
    assert round(startup["extract_force.load"], 3) == 0.9
    assert round(startup["transform.dbt_force"], 3) == 1.4 + 0.3
    assert manifest == {"transform.dbt_force": 0.3}
    note = SchedulerRun(100.0, "success", 900.0, startup, manifest).startup_note()
    assert "max 1.70 s (transform.dbt_force)" in note and "2/2 tasks under 2 s" in note
