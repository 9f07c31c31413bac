"""One dbt parse per run, shared by the groups (vawg_warehouse.dbt_run.transform.parsed_manifest).

Under a real executor every dbt task is a fresh process: each parsed the project again (2-7 s
partially, 100 s in full on a busy machine). The first task's parse is kept as the manifest
itself, owner-only in ``$VAWG_HOME/dbt``, keyed on the project's version, dbt's and the
warehouse; a later task (a fresh process: no manifest in memory) reads it instead of parsing. A
changed project parses again. No database is needed: dbt parse does not connect."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from tests.conftest import ProjectParse
from vawg_warehouse import versions
from vawg_warehouse.dbt_run import runner, transform


@pytest.fixture
def settings(dbt_parse: ProjectParse):
    """The session's one parse (tests/conftest.py: ``transform.parsed_manifest`` in a fresh home)
    is the first task's: its manifest is kept in that home."""
    with dbt_parse.environment() as settings:
        transform._manifests.clear()
        yield settings
        transform._manifests.clear()


def test_a_fresh_process_reads_the_runs_manifest_instead_of_parsing(
    settings, dbt_parse: ProjectParse, monkeypatch
) -> None:
    first = dbt_parse.manifest
    stored = list((settings.home / "dbt").rglob("manifest-*.pickle"))
    assert len(stored) == 1 and stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    transform._manifests.clear()  # as a new task process starts: nothing in memory
    from argparse import Namespace

    from dbt.flags import set_flags

    set_flags(Namespace())  # nor dbt's global flags, which a parse would have set
    parses = []
    real_invoke = runner.invoke

    def counting_invoke(command, *args, **kwargs):
        parses.append(command)
        return real_invoke(command, *args, **kwargs)

    monkeypatch.setattr(runner, "invoke", counting_invoke)
    second = transform.parsed_manifest(settings)
    assert parses == []
    assert set(second.nodes) == set(first.nodes) and len(second.nodes) > 100
    # usable as dbt uses it: every field of the same kind, and refs resolve (dbt 1.11's own
    # pickling shifts its fields: a manifest read that way failed every model with
    # "RefableLookup.find() missing 1 required positional argument")
    for name in (f.name for f in dataclasses.fields(first) if not f.name.startswith("_")):
        assert type(getattr(second, name)) is type(getattr(first, name)), name
    found = second.ref_lookup.find("stg_cps__quarterly_outcomes", None, None, second)
    assert found is not None and found.unique_id == "model.vawg.stg_cps__quarterly_outcomes"
    # dbt_docs writes it as manifest.json (needs dbt's flags: under the real scheduler it failed
    # "'Namespace' object has no attribute 'SEND_ANONYMOUS_USAGE_STATS'")
    second.write(str(settings.home / "manifest.json"))
    assert (settings.home / "manifest.json").stat().st_size > 100_000

    # the project changed: its version differs, so it is parsed again (never a stale manifest)
    transform._manifests.clear()
    current = versions.current(settings)
    monkeypatch.setattr(
        versions,
        "current",
        lambda s=None: dataclasses.replace(current, dbt_project_sha256="f" * 64),
    )
    transform.parsed_manifest(settings)
    assert parses == ["parse"]
