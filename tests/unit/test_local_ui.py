"""`vawg airflow ui` starts Airflow's api-server on the local runs' metadata and prints the URL and
a login that works (a real api-server on a loopback port, stopped at the end)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

pytestmark = pytest.mark.slow  # an Airflow api-server start: a minute on a busy machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_vawg_airflow_ui_prints_a_url_and_a_login_that_works(tmp_path, database) -> None:
    port = _free_port()
    env = {**os.environ, "VAWG_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "vawg_warehouse.cli", "airflow", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line)
            if "login: user" in line or "error:" in line:
                break
        text = "".join(printed)
        assert f"Airflow UI: http://127.0.0.1:{port}" in text, text[-3000:]
        user, password = re.search(r"login: user (\S+), password (\S+)", text).groups()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/auth/token",
            data=json.dumps({"username": user, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            assert response.status in (200, 201)
            assert json.loads(response.read())["access_token"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
