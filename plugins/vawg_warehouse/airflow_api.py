"""A small client of Airflow 3's REST API (``/api/v2``), for the stack ``vawg airflow up`` starts:
log in, unpause, trigger a run or a backfill, wait for it, read its task instances. Used by the
tests and ``vawg bench`` to run the nightly through the real scheduler, as an operator would.
Only the standard library: the stack's api-server is on the loopback."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from typing import Any

FINISHED = ("success", "failed")


class AirflowApiError(RuntimeError):
    pass


@dataclass
class AirflowApi:
    base_url: str
    username: str
    password: str
    token: str | None = None
    timeout: float = 30.0

    def _request(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.login()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode(errors="replace")
            raise AirflowApiError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc
        return json.loads(raw) if raw else None

    def login(self) -> str:
        if self.token is None:
            answer = self._request(
                "POST",
                "/auth/token",
                {"username": self.username, "password": self.password},
                auth=False,
            )
            self.token = answer["access_token"]
        return self.token

    def dag(self, dag_id: str) -> dict | None:
        try:
            return self._request("GET", f"/api/v2/dags/{dag_id}")
        except AirflowApiError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise

    def wait_for_dag(self, dag_id: str, timeout: float = 300.0) -> dict:
        """Wait until the dag-processor has parsed and stored the DAG."""
        deadline = time.monotonic() + timeout
        while (found := self.dag(dag_id)) is None:
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{dag_id} not parsed after {timeout:.0f} s")
            time.sleep(2)
        return found

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, logical_date: date, conf: dict | None = None) -> str:
        """A manual run for ``logical_date`` (midnight UTC); returns its run id."""
        answer = self._request(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            {"logical_date": f"{logical_date.isoformat()}T00:00:00Z", "conf": conf or {}},
        )
        return answer["dag_run_id"]

    def backfill(
        self, dag_id: str, start: date, end: date, max_active_runs: int = 10
    ) -> dict[str, Any]:
        """A backfill of the days ``start`` to ``end`` (both whole, included) as the UI or
        ``airflow backfill create`` makes it; ``max_active_runs`` is the backfill's own."""
        return self._request(
            "POST",
            "/api/v2/backfills",
            {
                "dag_id": dag_id,
                "from_date": f"{start.isoformat()}T00:00:00Z",
                "to_date": f"{end.isoformat()}T23:59:59Z",
                "max_active_runs": max_active_runs,
                "run_backwards": False,
                "reprocess_behavior": "none",
                "dag_run_conf": {},
            },
        )

    def runs(self, dag_id: str) -> list[dict]:
        answer = self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=id")
        return answer["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict:
        quoted = urllib.parse.quote(run_id, safe="")
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout: float = 3600.0, poll: float = 2.0
    ) -> dict:
        """Wait until the run has finished (success or failed); returns it."""
        deadline = time.monotonic() + timeout
        while (found := self.run(dag_id, run_id))["state"] not in FINISHED:
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{run_id} still {found['state']} after {timeout:.0f} s")
            time.sleep(poll)
        return found

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        quoted = urllib.parse.quote(run_id, safe="")
        answer = self._request(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=200"
        )
        return answer["task_instances"]
