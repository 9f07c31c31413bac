"""`vawg bench --only national`: each national run beside its floor (the runs themselves, a
Celery stack each, take about 13 minutes: `vawg bench`, not the suite)."""

from __future__ import annotations

from vawg_devtools.bench.national import figures


def _run(seconds: float, state: str = "success") -> dict:
    return {"seconds": seconds, "state": state, "tasks": 21, "workers": {"worker-1": 20}}


def test_a_force_a_worker_and_a_year_each_beside_the_run_without_it() -> None:
    runs = {"A": _run(91.0), "B": _run(174.0), "C": _run(166.0), "D": _run(158.0)}
    found = figures(runs, 3_000)
    assert [(f.value, f.floor) for f in found] == [(174.0, 91.0), (166.0, 174.0), (158.0, 91.0)]
    assert [f.target for f in found] == [
        "cost per extra force (B - A)",
        "cost per extra worker (C - B)",
        "cost per extra year of backlog (D - A)",
    ]
    assert found[0].note.startswith("per extra force +83.0 s; A: success")
    assert found[2].note.startswith("per extra year of backlog +67.0 s")
    assert "3,000 crimes a month" in found[2].name and "13 months" in found[2].name
    assert set(found[1].detail) == {"B", "C"}
    assert all(f.met is None for f in found)  # a cost, not a pass or fail


def test_a_failed_run_marks_every_figure_not_met() -> None:
    runs = {"A": _run(91.0), "B": _run(174.0, "failed"), "C": _run(166.0), "D": _run(158.0)}
    assert [f.met for f in figures(runs, 3_000)] == [False, False, False]
