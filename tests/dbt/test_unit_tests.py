"""dbt's unit tests (the measures' rules on crafted rows: completeness, history, rolling year,
Victims' Code lag, funding additionality, suppression across tables, ...) run here, in the full
suite. The nightly run leaves them out (dbt's advice: they test code, not data), so without this
module they would run nowhere.

dbt compiles a unit test against its parents' relations, so the project is first built empty
(``--empty``: every model with its columns and no rows), then the unit tests run alone.
"""

from __future__ import annotations

import pytest

from vawg_warehouse.config import get_settings
from vawg_warehouse.dbt_run import transform

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_passes(migrated) -> None:
    settings = get_settings()
    built, nodes, _, error = transform.invoke(
        "build",
        settings,
        ["--empty", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
    )
    assert built and error is None, error
    assert len(nodes) > 100
    passed, nodes, _, error = transform.invoke("test", settings, ["--select", "test_type:unit"])
    units = [n for n in nodes if n.node.unique_id.startswith("unit_test.")]
    failed = [n.node.unique_id for n in units if str(n.status) != "pass"]
    assert error is None and not failed, (error, failed)
    every = transform.parsed_manifest(settings).unit_tests
    assert passed and len(every) >= 30 and len(units) == len(every)
