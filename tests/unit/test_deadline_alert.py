"""The marts' deadline alert (vawg_warehouse.notify.marts_late, run by the triggerer): it fires
only for the nightly's scheduled run that is really past its due time, never for a backfill or a
manual run of a past date (their logical date is long past: Airflow's deadline is missed the
moment they are queued), and it says the time the DAG was configured with."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import HANG_GUARD_SECONDS
from vawg_warehouse import notify
from vawg_warehouse.airflow_env import with_airflow_environment
from vawg_warehouse.config import get_settings


def context(run_type: str, logical: datetime, deadline: datetime) -> dict:
    """What Airflow 3.3's scheduler hands the callback (models/deadline.py, handle_miss)."""
    return {
        "dag_run": {
            "dag_id": "vawg_nightly",
            "dag_run_id": f"{run_type}__{logical.isoformat()}",
            "run_type": run_type,
            "logical_date": logical.isoformat(),
        },
        "deadline": {"id": "d1", "deadline_time": deadline.isoformat()},
    }


@pytest.fixture
def sent(monkeypatch) -> list:
    alerts: list = []
    monkeypatch.setattr(notify, "send", lambda alert, settings=None: alerts.append(alert) or [])
    return alerts


@pytest.mark.parametrize("run_type", ["backfill", "manual"])
def test_no_alert_for_a_backfill_or_a_manual_run_of_a_past_date(sent, run_type) -> None:
    logical = datetime(2025, 2, 1, 2, 30, tzinfo=UTC)
    asyncio.run(
        notify.marts_late(context(run_type, logical, logical + timedelta(hours=4.5)), "07:00 UTC")
    )
    assert sent == []


def test_a_scheduled_run_past_its_due_time_alerts_with_the_configured_time(sent) -> None:
    logical = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    asyncio.run(
        notify.marts_late(context("scheduled", logical, logical + timedelta(hours=4)), "06:15 UTC")
    )
    assert len(sent) == 1
    assert "06:15 UTC" in sent[0].title and "07:00" not in sent[0].text()


def test_not_before_its_deadline(sent) -> None:
    logical = datetime.now(UTC)
    asyncio.run(
        notify.marts_late(context("scheduled", logical, logical + timedelta(hours=4)), "06:30 UTC")
    )
    assert sent == []


def test_the_dag_hands_its_configured_time_to_the_alert(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path))
    env = {
        **with_airflow_environment(get_settings()),
        "VAWG_DEADLINE_ALERT": "on",
        "VAWG_MARTS_FRESH_BY": "06:15",
    }
    probe = (
        "import json, runpy\n"
        f"dag = runpy.run_path({str(get_settings().dags_dir / 'vawg_nightly.py')!r})['dag']\n"
        "alert = dag.deadline[0] if isinstance(dag.deadline, list) else dag.deadline\n"
        "print(json.dumps({'kwargs': alert.callback.kwargs,"
        " 'hours': alert.interval.total_seconds() / 3600}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"kwargs": {"due": "06:15 UTC"}, "hours": 3.75}
