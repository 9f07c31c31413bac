"""Run-time files are the service account's only (issue 20): the run logs (every QUARANTINED
line is in them), Airflow's metadata database and the local UI's admin password file. Folders
0700, files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
import sys
from datetime import date

from vawg_warehouse import local_airflow, run_log
from vawg_warehouse.airflow_env import airflow_environment
from vawg_warehouse.config import get_settings
from vawg_warehouse.local_ui import PASSWORDS_FILE


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_airflow_home_its_database_and_the_admin_password_file_are_owner_only(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("VAWG_HOME", str(tmp_path / "home"))
    settings = get_settings()
    old = os.umask(0o022)
    try:
        settings.airflow_home.mkdir(parents=True)
        (settings.airflow_home / "airflow.db").write_text("")
        (settings.airflow_home / PASSWORDS_FILE).write_text('{"vawg": "pw"}')
        airflow_environment(settings)
    finally:
        os.umask(old)
    assert _mode(settings.airflow_home) == 0o700
    assert _mode(settings.home / "tmp") == 0o700
    assert _mode(settings.airflow_home / "airflow.db") == 0o600
    assert _mode(settings.airflow_home / PASSWORDS_FILE) == 0o600


def test_a_run_log_and_its_folder_are_owner_only(tmp_path, monkeypatch) -> None:
    log_dir = tmp_path / "logs"
    old = os.umask(0o022)
    try:
        with run_log.date_lock(log_dir, "vawg_nightly", date(2025, 1, 1)):
            pass
        log_path = log_dir / "run.log"
        code, _ = local_airflow._stream_airflow(
            [sys.executable, "-c", "print('QUARANTINED batch 1')"], dict(os.environ), log_path
        )
    finally:
        os.umask(old)
    assert code == 0 and "QUARANTINED" in log_path.read_text()
    assert _mode(log_dir) == 0o700
    assert _mode(log_path) == 0o600
    for lock in log_dir.glob(".*.lock"):
        assert _mode(lock) == 0o600
