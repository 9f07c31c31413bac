"""Run as a script by test_task_log.py: one dbt invocation the way Airflow runs a task. The
LocalExecutor's worker (which has multiprocessing imported) forks a child through the Task
SDK's own ``_fork_main``, which clears the atexit hooks registered before the fork and leaves
by ``os._exit``. Prints, as JSON, the child's exit status and what it wrote to stdout and to
stderr (what Airflow's supervisor logs at error level)."""

import json
import multiprocessing.util  # noqa: F401 - as in the LocalExecutor's worker process
import os
import socket

from airflow.sdk.execution_time.supervisor import _fork_main


def _task() -> None:
    from vawg_warehouse.config import get_settings
    from vawg_warehouse.dbt_run import transform

    ok, _, _, exc = transform.invoke("seed", get_settings(), ["--select", "cps_areas"])
    print("dbt ok" if ok else f"dbt failed: {type(exc).__name__}", flush=True)


def _drain(sock: socket.socket) -> str:
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def main() -> None:
    pairs = [socket.socketpair() for _ in range(3)]  # requests, stdout, stderr
    pid = os.fork()
    if pid == 0:
        _fork_main(pairs[0][1], pairs[1][1], pairs[2][1], 0, _task)
    for _, child in pairs:
        child.close()
    stdout = _drain(pairs[1][0])
    stderr = _drain(pairs[2][0])  # EOF once the child and what it started (the tracker) are gone
    _, status = os.waitpid(pid, 0)
    print(
        json.dumps(
            {"status": os.waitstatus_to_exitcode(status), "stdout": stdout, "stderr": stderr}
        )
    )


if __name__ == "__main__":
    main()
