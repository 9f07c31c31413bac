"""dbt in the nightly run: a handful of in-process ``dbt build`` invocations, one per group.

The dbt project is cut into groups by tag (dbt_project.yml says which node has which):

* ``shared``: the reference seeds, the conformed dimensions and the audit staging view;
* one group per source family (``source_force``, ``source_cps`` ...): the family's staging,
  intermediate and fact models, its marts, their lineage and publication models.

No model or test spans two families (tests/dbt/test_project_conventions.py holds the project to
that), so the groups partition every data test: each runs once per run, in its group's
invocation, never twice. A family whose extract failed is never built (its DAG task waits for the
extract), while the other families are.

Each group is **built** (models and seeds rebuilt, then their tests) only when something it reads
changed: the dbt project (code or seeds), rows newly published by its family, or the shared group
rebuilt after it; or when its last build failed. Otherwise only its **data tests** run, on the
tables as they stand. So a night with one day of force files rebuilds the force family alone,
seeds are reloaded only when they changed, and every data test still runs once. Every decision is
a row of ``audit.dbt_group_build`` with its reason; dbt's per-node results reach ``audit.dbt_run``
and ``audit.dbt_result`` through the project's on-run-end hook, as before.

dbt runs in the task's own process (``dbtRunner``): no process per model, and the project is
parsed once per process (partial parsing from a cache in ``$VAWG_HOME/dbt`` makes that about a
second). Unit tests are development checks of the models' logic and run in the test suite, not
on production data (dbt's own advice); ``vawg transform --unit-tests`` runs them too.

The core of the package never imports Airflow: the DAG's tasks and ``vawg transform`` call
:func:`run_group`. dbt itself is imported on first use.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vawg_warehouse import audit, versions
from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.dbt_run import runner
from vawg_warehouse.ingest.datasets import SHARED_DATASETS, SOURCES
from vawg_warehouse.run_context import RunContext
from vawg_warehouse.warehouse import connect, connection_info

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

SHARED = "shared"
GROUPS: tuple[str, ...] = (SHARED, *SOURCES)
FAILED_STATUSES = ("error", "fail", "runtime error")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


class TransformError(RuntimeError):
    """A dbt group did not pass: names the group and the nodes that failed (never row data).
    ``connection_lost``: it failed because the warehouse went away (worth a retry), not on its
    own terms (a data test, a model's error: a retry would fail the same way)."""

    def __init__(self, message: str, connection_lost: bool = False):
        super().__init__(message)
        self.connection_lost = connection_lost


# What PostgreSQL and its clients say when the connection is lost or cannot be made (psycopg2
# under dbt, psycopg 3 here), lowercased.
CONNECTION_LOST_WORDS = (
    "could not connect",
    "connection refused",
    "connection to server",
    "server closed the connection",
    "terminating connection",
    "connection already closed",
    "connection timed out",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "ssl syscall error",
    "failed to connect",
    "no connection to the server",
)


def connection_lost(exception: BaseException | None, nodes: list) -> bool:
    """Whether dbt stopped, or a node failed, because the warehouse could not be reached."""
    texts = [str(exception)] if exception is not None else []
    texts += [
        str(getattr(n, "message", "") or "") for n in nodes if str(n.status) in FAILED_STATUSES
    ]
    return any(word in text.lower() for text in texts for word in CONNECTION_LOST_WORDS)


def selector(group: str) -> str:
    """dbt's selection of a group's nodes."""
    if group == SHARED:
        return "tag:shared"
    if group not in SOURCES:
        raise ValueError(f"unknown dbt group {group!r} (known: {', '.join(GROUPS)})")
    return f"tag:source_{group}"


def indirect_selection(group: str) -> str:
    """Which tests a group's invocation runs: every test of a family's nodes (their other parents
    are shared nodes: "eager"), but only the tests of the shared group whose parents are all
    shared ("cautious"): a test of a family model against a shared dimension runs with the
    family, once."""
    return "cautious" if group == SHARED else "eager"


# --------------------------------------------------------------------------------------------
# Plan: build or only test, and why
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupPlan:
    group: str
    command: str  # "build" or "test"
    reason: str
    dbt_project_sha256: str
    published_through_event_id: int | None


def published_through(conn: psycopg.Connection, group: str) -> int | None:
    """The newest publication event (rows published or released) of the group's datasets (for
    the shared group, of the population estimates its dimension is built from)."""
    datasets = SHARED_DATASETS if group == SHARED else SOURCES[group]
    row = conn.execute(
        """
        select max(e.event_id)
        from audit.load_batch_event as e
        join audit.load_batch as b on b.batch_id = e.batch_id
        where b.dataset = any(%s) and e.status in ('published', 'released')
        """,
        (list(datasets),),
    ).fetchone()
    return row[0]


def plan_group(
    conn: psycopg.Connection, group: str, project_sha256: str, rebuild: bool = False
) -> GroupPlan:
    """Whether the group must be rebuilt tonight, or only tested, with the reason in words."""
    watermark = published_through(conn, group)

    def plan(command: str, reason: str) -> GroupPlan:
        return GroupPlan(group, command, reason, project_sha256, watermark)

    if rebuild:
        return plan("build", "a rebuild was asked for")
    last_attempt = conn.execute(
        "select command, success from audit.dbt_group_build where group_name = %s "
        "order by group_build_id desc limit 1",
        (group,),
    ).fetchone()
    last_build = conn.execute(
        "select group_build_id, dbt_project_sha256, published_through_event_id "
        "from audit.dbt_group_build where group_name = %s and command = 'build' and success "
        "order by group_build_id desc limit 1",
        (group,),
    ).fetchone()
    if last_build is None:
        return plan("build", "never built in this warehouse")
    build_id, built_sha, built_through = last_build
    if last_attempt is not None and not last_attempt[1]:
        return plan("build", f"its last {last_attempt[0]} failed")
    if built_sha != project_sha256:
        return plan("build", "the dbt project (models, macros or seeds) changed")
    if watermark is not None and (built_through is None or watermark > built_through):
        return plan("build", "its sources published new rows")
    if group != SHARED:
        shared_after = conn.execute(
            "select 1 from audit.dbt_group_build where group_name = %s and command = 'build' "
            "and success and group_build_id > %s limit 1",
            (SHARED, build_id),
        ).fetchone()
        if shared_after:
            return plan("build", "the shared reference data was rebuilt after it")
    return plan("test", f"nothing it reads changed since build {build_id}")


# --------------------------------------------------------------------------------------------
# dbt, in process
# --------------------------------------------------------------------------------------------

_manifests: dict[tuple[str, str], Any] = {}
runner.forget_at_exit(_manifests.clear)  # a manifest holds one of dbt's locks (runner.py)


def _cache_dir(settings: Settings) -> Path:
    """This worker's parse cache for one warehouse (dbt's partial parsing is per connection)."""
    info = connection_info(settings)
    key = hashlib.sha256(f"{info.host}:{info.port}/{info.dbname}/{info.user}".encode())
    folder = settings.home / "dbt" / f"parse-{key.hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stored_manifest_path(cache: Path, sha: str) -> Path:
    """The parsed manifest kept for this project version and dbt version (one file each)."""
    from dbt.version import __version__ as dbt_version

    return cache / f"manifest-{sha[:24]}-dbt{dbt_version}.pickle"


def _manifest_fields(manifest: Any) -> dict[str, Any]:
    """The manifest's data fields by name. Not dbt's own pickling: Manifest.__reduce_ex__ (dbt
    1.11) passes its fields by position and skips some, so a manifest pickled that way comes back
    with its lookups in the wrong fields (refs fail to resolve); the lookups are rebuilt."""
    import dataclasses

    return {
        f.name: getattr(manifest, f.name)
        for f in dataclasses.fields(manifest)
        if f.init and not f.name.startswith("_")
    }


def _store_manifest(path: Path, manifest: Any) -> None:
    import pickle

    from vawg_warehouse.private_files import write_private

    for old in path.parent.glob("manifest-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)  # an earlier project version's
    data = pickle.dumps(_manifest_fields(manifest), protocol=pickle.HIGHEST_PROTOCOL)
    write_private(path, data)  # written whole, then renamed: a reader never sees half of it


def _read_stored_manifest(path: Path) -> Any:
    """The manifest a task of this worker parsed and kept, or None (none yet, or unreadable)."""
    import pickle

    from dbt.contracts.graph.manifest import Manifest

    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        fields = pickle.loads(data)  # noqa: S301 - our own owner-only file, keyed on the project
        manifest = Manifest(**fields)
    except Exception:  # noqa: BLE001 - a damaged or foreign file: parse instead
        log.warning("the kept dbt manifest %s could not be read: parsing", path.name)
        return None
    _ensure_dbt_flags()
    return manifest


def _ensure_dbt_flags() -> None:
    """dbt's global flags, as a parse in this process would have left them: writing a manifest
    (dbt docs) reads them outside an invocation. Each invocation sets its own."""
    from argparse import Namespace

    from dbt.flags import get_flags, set_from_args

    if not hasattr(get_flags(), "SEND_ANONYMOUS_USAGE_STATS"):
        set_from_args(Namespace(), None)


def parsed_manifest(settings: Settings) -> Any:
    """dbt's manifest of the project for this warehouse: parsed once per project version and
    kept, so the run's other dbt tasks (each a fresh process under a real executor) read it in
    a fraction of a second instead of parsing again (2-7 s partially, far more in full).

    Kept beside dbt's partial-parse cache, owner-only, keyed on the project's version (models,
    macros, seeds, yml: ``versions``), dbt's version and the warehouse's connection: a cache, never
    a hand-off between tasks (a worker without it parses)."""
    sha = versions.current(settings).dbt_project_sha256
    key = (sha, connection_info(settings).url)
    if key in _manifests:
        return _manifests[key]
    cache = _cache_dir(settings)
    stored = _stored_manifest_path(cache, sha)
    started = time.monotonic()
    manifest = _read_stored_manifest(stored)  # no lock: the file is only ever renamed in whole
    if manifest is not None:
        log.info("dbt manifest read (parsed by an earlier task) in %.1f s", _since(started))
        _manifests.clear()
        _manifests[key] = manifest
        return manifest
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one parse at a time writes this cache
        started = time.monotonic()
        manifest = _read_stored_manifest(stored)  # another task may have parsed meanwhile
        if manifest is not None:
            log.info("dbt manifest read (parsed by an earlier task) in %.1f s", _since(started))
        else:
            result = runner.invoke(
                "parse",
                settings=settings,
                flags=["--quiet"],
                target_path=cache / "target",
                log_path=cache / "logs",
            )
            if not result.success:
                raise TransformError(
                    f"dbt parse failed: {result.exception or 'see the dbt log above'}"
                )
            manifest = result.result
            log.info("dbt project parsed in %.1f s", _since(started))
            _store_manifest(stored, manifest)
    _manifests.clear()  # one project version per process is enough
    _manifests[key] = manifest
    return manifest


def _since(started: float) -> float:
    return time.monotonic() - started


@dataclass
class GroupOutcome:
    group: str
    command: str
    reason: str
    success: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)  # by dbt status
    failed_nodes: list[str] = field(default_factory=list)
    invocation_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        return (
            f"dbt {self.command} of group {self.group} ({self.reason}): "
            f"{counts or 'nothing selected'} in {self.seconds:.1f} s"
        )


def selection_args(group: str, unit_tests: bool = False) -> list[str]:
    """The node selection of a group's invocation (shared with the tests that check that the
    groups partition the project's data tests)."""
    return [
        "--select",
        selector(group),
        "--indirect-selection",
        indirect_selection(group),
        *([] if unit_tests else ["--exclude-resource-type", "unit_test"]),
    ]


def invoke(
    command: str, settings: Settings, args: list[str]
) -> tuple[bool, list[Any], str | None, BaseException | None]:
    """Run one dbt command (e.g. "build", "test", "source freshness") in this process on the
    parsed manifest; returns (success, node results, invocation id, exception). Artefacts go to
    a temporary folder, dropped after; no run_results.json is kept (the on-run-end hook has put
    every result in the audit schema)."""
    from dbt_common.invocation import get_invocation_id

    manifest = parsed_manifest(settings)
    threads = os.environ.get("VAWG_DBT_THREADS", "4")
    with tempfile.TemporaryDirectory(prefix="vawg-dbt-") as tmp:
        result = runner.invoke(
            command,
            ["--threads", threads, "--log-level-file", "none", "--no-write-json", *args],
            settings,
            manifest=manifest,
            target_path=Path(tmp) / "target",
            log_path=Path(tmp) / "logs",
        )
    nodes = list(getattr(result.result, "results", None) or [])
    invocation_id = get_invocation_id() if nodes else None
    return result.success, nodes, invocation_id, result.exception


def run_group(
    group: str,
    ctx: RunContext,
    settings: Settings | None = None,
    rebuild: bool = False,
    unit_tests: bool = False,
    task_id: str | None = None,
) -> GroupOutcome:
    """Build (or only test) one group, record the attempt, and raise if it did not pass."""
    settings = settings or get_settings()
    sha = versions.current(settings).dbt_project_sha256
    with connect(settings) as conn:
        plan = plan_group(conn, group, sha, rebuild=rebuild)
    log.info("dbt group %s: %s (%s)", group, plan.command, plan.reason)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    success, nodes, invocation_id, exception = invoke(
        plan.command, settings, selection_args(group, unit_tests)
    )
    outcome = GroupOutcome(
        group=group,
        command=plan.command,
        reason=plan.reason,
        success=success and exception is None,
        seconds=time.monotonic() - started,
        invocation_id=invocation_id,
    )
    for node in nodes:
        if str(node.node.resource_type) == "operation":
            continue  # the project's hooks: not nodes of the group
        status = str(node.status)
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        if status in FAILED_STATUSES:
            outcome.failed_nodes.append(node.node.unique_id)
    _record(settings, plan, outcome, ctx, started_at, task_id)
    log.info("%s", outcome.summary())
    secure_bi_grants(settings)
    if not outcome.success:
        failed = ", ".join(outcome.failed_nodes[:20]) or f"dbt stopped: {type(exception).__name__}"
        raise TransformError(
            f"dbt {plan.command} of group {group} did not pass: {failed}",
            connection_lost=connection_lost(exception, nodes),
        )
    if group == PUBLICATION_GROUP:
        _secure_publication(settings)
    return outcome


def secure_bi_grants(settings: Settings | None = None) -> None:
    """After a build: the owner takes away from vawg_bi_reader whatever it may not read (a
    relation outside schema bi, another schema, a bi view over a fact or raw table; migration
    021) and the build fails naming each one. dbt runs as vawg_pipeline, which owns what it
    builds and so could grant anything: the check is the owner's, not the pipeline's."""
    with connect(settings or get_settings()) as conn:
        taken = conn.execute("select * from audit.secure_bi_grants()").fetchall()
        conn.commit()
    if taken:
        named = "; ".join(
            f"{relation} ({privilege}: {reason})" for relation, privilege, reason in taken
        )
        log.error("BI READER GRANTS taken away: %s", named)
        raise TransformError(
            f"vawg_bi_reader had been given what BI tools may not read, now taken away: {named}"
        )


# The group that builds schema publication; after it, the publication audit settles and checks
# the suppressed cells (dbt_run/publication_audit.py): it fails the group, naming the cells.
PUBLICATION_GROUP = "force"


def _secure_publication(settings: Settings) -> None:
    from vawg_warehouse.dbt_run import publication_audit

    try:
        publication_audit.secure(settings, rebuild=lambda: rebuild_publication(settings))
    except publication_audit.PublicationAuditError as exc:
        raise TransformError(f"publication audit of group {PUBLICATION_GROUP}: {exc}") from exc


def rebuild_publication(settings: Settings) -> None:
    """The suppression and publication models again, after the audit changed what to suppress."""
    from vawg_warehouse.dbt_run.publication_audit import REBUILD_SELECTION, PublicationAuditError

    ok, nodes, _, exception = invoke(
        "build", settings, ["--select", *REBUILD_SELECTION, "--exclude-resource-type", "unit_test"]
    )
    failed = [n.node.unique_id for n in nodes if str(n.status) in FAILED_STATUSES]
    if not ok or exception is not None or failed:
        raise PublicationAuditError(
            "the rebuild of the publication tables after the audit did not pass: "
            f"{', '.join(failed) or type(exception).__name__}"
        )


def _record(
    settings: Settings,
    plan: GroupPlan,
    outcome: GroupOutcome,
    ctx: RunContext,
    started_at: datetime,
    task_id: str | None,
) -> None:
    with connect(settings) as conn:
        audit.record_group_build(
            conn,
            group=plan.group,
            command=plan.command,
            reason=plan.reason,
            dbt_project_sha256=plan.dbt_project_sha256,
            published_through_event_id=plan.published_through_event_id,
            success=outcome.success,
            node_count=sum(outcome.counts.values()),
            failed_nodes=outcome.failed_nodes,
            dbt_invocation_id=outcome.invocation_id,
            ctx=ctx,
            task_id=task_id,
            started_at=started_at,
        )


def clear_parse_cache(settings: Settings | None = None) -> None:
    """Forget this process's parsed manifest and the worker's partial-parse cache."""
    settings = settings or get_settings()
    _manifests.clear()
    shutil.rmtree(_cache_dir(settings), ignore_errors=True)
