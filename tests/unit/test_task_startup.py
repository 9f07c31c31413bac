"""A task's start-up (issue 19): every task of the nightly imports vawg_warehouse.orchestration
in a fresh process, so that import holds only what every task needs. numpy (about 1 s to import
on this machine, most of the import) came in for all of them through the loader's columnar path,
which only the load task uses; the libraries of one kind of task are imported by that task (dbt by
the dbt tasks, Great Expectations by validate). A structural check, no timing (timings are in
`vawg bench --only nightly`)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import HANG_GUARD_SECONDS

HEAVY = ("numpy", "pandas", "pyarrow", "great_expectations", "dbt", "sqlalchemy", "openpyxl")


def test_what_every_task_imports_leaves_the_heavy_libraries_to_the_tasks_that_use_them() -> None:
    probe = (
        "import json, sys\n"
        "import vawg_warehouse.orchestration, vawg_warehouse.notify\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
