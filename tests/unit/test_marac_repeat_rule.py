"""Measure 3 counts repeats by SafeLives' rule: a new referral of the same victim AND
perpetrator(s) within 12 months of the last referral (seed marac_measure_parameters, which can
switch back to any re-referral of the victim), and a month has the history its repeats need only
when every case heard in it looks back to no earlier than the extract's first day.

The sample warehouse's mart is compared with the measure recomputed in Python from the sample's
MARAC files (the integration tier's recomputation, tests/integration/test_measure_3_and_5.py).
"""

from __future__ import annotations

import psycopg
import pytest

from tests.integration import test_measure_3_and_5 as recompute

pytestmark = pytest.mark.xdist_group("sample_warehouse")


def test_the_seed_counts_a_repeat_as_safelives_does() -> None:
    parameters = {r["parameter"]: r for r in recompute.seed_rows("marac_measure_parameters")}
    assert parameters["match_perpetrator"]["parameter_value"] == "true"
    assert parameters["match_perpetrator"]["status"] == "C"
    assert "same victim and perpetrator" in parameters["match_perpetrator"]["source"]
    assert parameters["window_months"]["parameter_value"] == "12"


def test_the_marac_mart_equals_the_safelives_rule_recomputed_from_the_files(
    on_sample_warehouse, monkeypatch
) -> None:
    expected = recompute.expected_marac(on_sample_warehouse.landing)
    with psycopg.connect(on_sample_warehouse.database.url) as conn:
        rows = conn.execute(
            "select month_start_date, local_authority_code, cases_heard, repeat_cases, "
            "has_full_history from marts.mart_marac_repeat_monthly "
            "where local_authority_code <> '-1'"
        ).fetchall()
    actual = {(r[0], r[1]): r[2:] for r in rows}
    assert actual == {
        k: (v["cases_heard"], v["repeat_cases"], v["has_full_history"]) for k, v in expected.items()
    }
    # the first day's month and the eleven after it lack history; later months may too, when
    # a case heard in them looks back before the extract's first day
    months = sorted({m for m, _ in actual})
    with_history = [m for m in months if all(v[2] for (mm, _), v in actual.items() if mm == m)]
    assert with_history and with_history[0] >= months[12]

    # The old rule (any re-referral of the victim) counts more repeats on the same files.
    rows_of = recompute.seed_rows

    def any_re_referral(name):
        rows = rows_of(name)
        if name == "marac_measure_parameters":
            for r in rows:
                if r["parameter"] == "match_perpetrator":
                    r["parameter_value"] = "false"
        return rows

    monkeypatch.setattr(recompute, "seed_rows", any_re_referral)
    old = recompute.expected_marac(on_sample_warehouse.landing)
    assert sum(v["repeat_cases"] for v in old.values()) > sum(
        v["repeat_cases"] for v in expected.values()
    )
