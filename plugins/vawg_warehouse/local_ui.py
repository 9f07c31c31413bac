"""`vawg airflow ui`: Airflow's UI on the local runs' metadata (what `vawg run` recorded).

``vawg run`` runs the DAG with ``airflow dags test`` against a SQLite metadata database under
``$VAWG_HOME/airflow``; opening it by hand needs every variable of ``airflow_env.py``. This starts
``airflow api-server`` with them, waits until it answers, and prints the URL and the login (one
user, ``vawg``, an admin of this local UI; Airflow's simple auth manager generates its password
once and keeps it in ``$VAWG_HOME/airflow``). It runs in the foreground until Ctrl-C.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from vawg_warehouse.config import Settings

USER = "vawg"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


def ui_environment(env: dict[str, str], settings: Settings, host: str, port: int) -> dict:
    return {
        **env,
        "AIRFLOW__API__BASE_URL": f"http://{host}:{port}",
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            settings.airflow_home / PASSWORDS_FILE
        ),
    }


def password(settings: Settings) -> str | None:
    try:
        return json.loads((settings.airflow_home / PASSWORDS_FILE).read_text()).get(USER)
    except (OSError, ValueError):
        return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback only
            return response.status < 500
    except OSError:
        return False


def serve(
    env: dict[str, str],
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    say=print,
    timeout: float = 300.0,
) -> int:
    """Start the api-server, print where and how to log in, and wait for it to end."""
    log_path = settings.home / "logs" / "airflow-api-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    airflow = Path(sys.executable).parent / "airflow"
    command = [str(airflow if airflow.exists() else "airflow"), "api-server"]
    command += ["--host", host, "--port", str(port)]
    url = f"http://{host}:{port}"
    say(f"starting Airflow's UI on the local runs' metadata ({settings.airflow_home}) ...")
    with log_path.open("a") as log_file:
        process = subprocess.Popen(
            command,
            env=ui_environment(env, settings, host, port),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            umask=0o077,  # the admin password file it generates: the owner's only
        )
        try:
            deadline = time.monotonic() + timeout
            while not _answers(f"{url}/api/v2/monitor/health"):
                if process.poll() is not None:
                    say(f"error: the api-server stopped (exit {process.returncode}): {log_path}")
                    return process.returncode or 1
                if time.monotonic() > deadline:
                    say(f"error: the api-server did not answer in {timeout:.0f} s: {log_path}")
                    process.terminate()
                    return 1
                time.sleep(1)
            say(f"Airflow UI: {url}")
            secret = password(settings) or f"(not found: see {log_path})"
            say(f"login: user {USER}, password {secret}")
            say(f"(log: {log_path}; Ctrl-C stops it)")
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=30)
            return 0
