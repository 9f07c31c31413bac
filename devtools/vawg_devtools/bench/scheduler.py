"""The nightly under the real scheduler (`vawg airflow up`: api-server, scheduler with the
LocalExecutor, dag-processor, triggerer; PostgreSQL metadata), measured as an operator sees it:
trigger through the REST API to the run's success, wall time; the peak of the resident memory of
Airflow's processes (the four components, their workers and task processes) and the warehouse's
PostgreSQL server together, sampled twice a second; and each task's start-up: from the moment
Airflow started the task instance to the first line its own code logged, plus, for a dbt task, the
time it took to have the project's manifest (read, or parsed by the first of them).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

DAG_ID = "vawg_nightly"
_MANIFEST = re.compile(
    r"dbt (?:manifest read \(parsed by an earlier task\)|project parsed) in ([\d.]+) s"
)


@dataclass
class SchedulerRun:
    seconds: float
    state: str
    peak_rss_mb: float
    startup_s: dict[str, float] = field(default_factory=dict)  # task id -> start-up
    manifest_s: dict[str, float] = field(default_factory=dict)  # dbt task id -> manifest

    def startup_note(self) -> str:
        if not self.startup_s:
            return "per-task start-up not found in the task logs"
        values = sorted(self.startup_s.values())
        slowest = max(self.startup_s, key=self.startup_s.__getitem__)
        dbt = {k: v for k, v in self.startup_s.items() if "dbt" in k}
        text = (
            f"per-task start-up (task instance started -> its own first log line, + the dbt "
            f"manifest for dbt tasks) median {statistics.median(values):.2f} s, max "
            f"{values[-1]:.2f} s ({slowest}), {sum(v < 2 for v in values)}/{len(values)} tasks "
            f"under 2 s"
        )
        if dbt:
            text += f"; dbt tasks max {max(dbt.values()):.2f} s"
        if self.manifest_s:
            text += "; manifest " + ", ".join(
                f"{k.split('.')[-1]} {v:.1f} s" for k, v in sorted(self.manifest_s.items())
            )
        return text


def _process_tree_rss_kb(roots: set[int], groups: set[int]) -> int:
    """RSS of every process whose group is in ``groups`` or that descends from ``roots``."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    pgid: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid], pgid[pid] = int(fields[1]), int(fields[2])
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        rss[pid] = int(found.group(1)) if found else 0
    total = 0
    for pid in rss:
        node, seen = pid, 0
        counted = pgid[pid] in groups
        while not counted and node > 1 and seen < 64:
            counted = node in roots
            node, seen = parents.get(node, 0), seen + 1
        total += rss[pid] if counted else 0
    return total


def _postmaster_pid(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"postgres") and str(port).encode() in cmdline:
            return int(entry.name)
    return None


class _Sampler(threading.Thread):
    def __init__(self, roots: set[int], groups: set[int]):
        super().__init__(daemon=True)
        self.roots, self.groups, self.peak_kb = roots, groups, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, _process_tree_rss_kb(self.roots, self.groups))
            self.done.wait(0.5)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def task_startups(log_root: Path, task_instances: list[dict]) -> tuple[dict, dict]:
    """Each task's start-up from its log: first line of its own code minus the task instance's
    start, + the dbt manifest's time for a dbt task."""
    startup, manifest = {}, {}
    for ti in task_instances:
        if not ti.get("start_date") or ti["task_id"] == "wait_for_turn":
            continue
        pattern = f"dag_id={DAG_ID}/run_id={ti['dag_run_id']}/task_id={ti['task_id']}/attempt=*.log"
        logs = sorted(log_root.glob(pattern))
        if not logs:
            continue
        events = []
        for line in logs[-1].read_text(errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        parsed = [
            i for i, e in enumerate(events) if e.get("event") == "Worker startup parse complete"
        ]
        own = [
            e
            for e in events[(parsed[0] + 1 if parsed else 0) :]
            if not str(e.get("event", "")).startswith("::")
        ]
        if not own:
            continue
        seconds = (_moment(own[0]["timestamp"]) - _moment(ti["start_date"])).total_seconds()
        for event in own:
            if found := _MANIFEST.search(str(event.get("event", ""))):
                manifest[ti["task_id"]] = float(found.group(1))
                seconds += float(found.group(1))
                break
        startup[ti["task_id"]] = max(0.0, seconds)
    return startup, manifest


def run_under_scheduler(
    env: dict[str, str], home: Path, logical_date: date, log: Path
) -> SchedulerRun:
    """Start the stack on ``env``'s warehouse, trigger the nightly for ``logical_date``, wait,
    measure, stop the stack."""
    from vawg_warehouse import airflow_stack
    from vawg_warehouse.airflow_api import AirflowApi
    from vawg_warehouse.config import get_settings
    from vawg_warehouse.warehouse import ConnectionInfo

    command = [sys.executable, "-m", "vawg_warehouse.cli", "airflow"]
    with log.open("w") as out:
        started = subprocess.run([*command, "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    if started.returncode != 0:
        raise RuntimeError(f"`vawg airflow up` failed: see {log}")
    saved = dict(os.environ)
    os.environ.update({k: env[k] for k in ("VAWG_HOME", "VAWG_WAREHOUSE_URL") if k in env})
    try:
        settings = get_settings()
        port = int(env.get(airflow_stack.PORT_ENV) or airflow_stack.DEFAULT_PORT)
        groups = {c.pid for c in airflow_stack.components(settings) if c.pid}
        warehouse_port = ConnectionInfo.from_url(env["VAWG_WAREHOUSE_URL"]).port
        postmaster = _postmaster_pid(warehouse_port)
        api = AirflowApi(f"http://127.0.0.1:{port}", "vawg", airflow_stack.password(settings) or "")
        api.wait_for_dag(DAG_ID)
        sampler = _Sampler({postmaster} if postmaster else set(), groups)
        sampler.start()
        began = time.perf_counter()
        run_id = api.trigger(DAG_ID, logical_date)
        api.unpause(DAG_ID)
        finished = api.wait_for_run(DAG_ID, run_id, poll=1.0)
        seconds = time.perf_counter() - began
        sampler.done.set()
        sampler.join()
        tis = [{**ti, "dag_run_id": run_id} for ti in api.task_instances(DAG_ID, run_id)]
        startup, manifest = task_startups(home / "airflow_stack" / "logs" / "tasks", tis)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        with log.open("a") as out:
            subprocess.run([*command, "down"], env=env, stdout=out, stderr=subprocess.STDOUT)
    return SchedulerRun(seconds, finished["state"], sampler.peak_kb / 1024, startup, manifest)
