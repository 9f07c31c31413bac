"""As-of recomputation: the measures rebuilt from the data as it stood at a past moment.

Every raw row keeps the time its batch was published (``_published_at``). With the dbt var
``as_of`` the staging models keep only rows published by then (``macros/as_of.sql``), so the
whole project downstream is rebuilt as it stood at that moment: a correction that arrived later
(a re-sent file with changed rows) is not there yet. Such a build goes into schemas of its own,
``asof_<yyyymmdd[hhmmss]>_<schema>`` (e.g. ``asof_20250131_marts``), always as a full refresh, so
the live marts are never touched.

Reference data (seeds) and the code are today's: to reproduce a figure exactly as published, run
this from the code version that ``audit.pipeline_run.code_version`` records for that run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from vawg_warehouse.config import Settings, get_settings

_AS_OF = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?"
)
MEASURES_SELECTOR = "+path:models/marts/measures"


class AsOfError(ValueError):
    """The moment or the selection cannot be used for an as-of build."""


def as_of_text(moment: date | datetime | str) -> str:
    """The dbt var's value: YYYY-MM-DD for a date, ISO 8601 for a timestamp (macros/as_of.sql)."""
    text = moment.strip() if isinstance(moment, str) else moment.isoformat()
    if not _AS_OF.fullmatch(text):
        raise AsOfError(f"as of must be YYYY-MM-DD or an ISO timestamp, got {text!r}")
    return text


def schema_prefix(moment: date | datetime | str) -> str:
    """asof_ and the moment's first 14 digits, e.g. asof_20250131_ (the same rule as the macro)."""
    return "asof_" + re.sub(r"[^0-9]", "", as_of_text(moment))[:14] + "_"


def published_by(moment: date | datetime | str) -> str:
    """In words, which batches an as-of build keeps (for messages)."""
    text = as_of_text(moment)
    if len(text) == 10:
        end = date.fromisoformat(text) + timedelta(days=1)
        return f"batches published before {end.isoformat()} 00:00 UTC"
    return f"batches published at or before {text}"


@dataclass
class AsOfBuild:
    as_of: str
    schema_prefix: str
    selector: str
    target_dir: Path
    returncode: int
    output: str

    @property
    def marts_schema(self) -> str:
        return f"{self.schema_prefix}marts"


def build_as_of(
    moment: date | datetime | str,
    select: list[str] | None = None,
    settings: Settings | None = None,
    run_tests: bool = True,
) -> AsOfBuild:
    """``dbt build --full-refresh`` of the selected marts and all they depend on, as of a moment.

    ``select`` names models (e.g. ``["mart_reporting_monthly"]``); each is built with its parents
    (``+model``). Without it every measure mart is rebuilt. dbt writes its manifest and logs under
    ``$VAWG_HOME/asof/<prefix>/``, never over ``dbt_project/target`` (the DAG reads that one).
    Then the owner's check of what BI tools may read (``audit.secure_bi_grants``, migration
    021) runs as after every nightly build: a privilege it takes away fails the build.
    """
    from vawg_warehouse.dbt_run import runner

    settings = settings or get_settings()
    text = as_of_text(moment)
    for name in select or []:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise AsOfError(f"--select takes model names, got {name!r}")
    selector = " ".join(f"+{name}" for name in select) if select else MEASURES_SELECTOR
    # The facts' relationships tests point at the load batches: build that view too.
    selector += " stg_audit__load_batches"
    prefix = schema_prefix(text)
    work = settings.home / "asof" / prefix.rstrip("_")
    args = [
        "--full-refresh",
        "--vars",
        json.dumps({"as_of": text}),
        "--select",
        *selector.split(),
        # Only the tests all of whose parents are in this build (not those of unselected facts).
        "--indirect-selection",
        "cautious",
    ]
    if not run_tests:
        args += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    result = runner.run(
        "build",
        args,
        settings,
        target_path=work / "target",
        log_path=work / "logs",
        capture_output=True,
        text=True,
        check=False,
    )
    build = AsOfBuild(
        as_of=text,
        schema_prefix=prefix,
        selector=selector,
        target_dir=work / "target",
        returncode=result.returncode,
        output=result.stdout + result.stderr,
    )
    # As after every group's build: the owner takes away from vawg_bi_reader what it may not
    # read (an asof_* table is a copy of the marts, facts included), and the build fails.
    from vawg_warehouse.dbt_run.transform import TransformError, secure_bi_grants

    try:
        secure_bi_grants(settings)
    except TransformError as exc:
        build.returncode = build.returncode or 1
        build.output += f"\n{exc}\n"
    return build
