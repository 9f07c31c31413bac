"""The ``vawg`` command: manage the warehouse, make sample data, run the nightly DAG.

vawg demo [--force NAME]        the whole job on the embedded warehouse, with sample data
vawg warehouse up|down|url|status
vawg migrate                    apply pending schema migrations
vawg sample [--start --end --rows --seed --force NAME]
vawg dbt-parse                  check that the dbt project parses (writes its manifest)
vawg run --date YYYY-MM-DD [--rebuild]   run vawg_nightly for that logical date through Airflow
vawg airflow up|down|status     Airflow's four processes on a PostgreSQL metadata database
vawg transform [--group G] [--rebuild] [--unit-tests]   the dbt groups, without Airflow
vawg quarantine list            what is held in quarantine, and the rules it broke
vawg quarantine release BATCH --reason TEXT   publish a batch's held rows as they are
vawg report [--run ID] [--out DIR]  rebuild the auditor's run reports from the warehouse
vawg trace MART --where col=value [--where ...]   the batches, files and checks behind mart rows
vawg asof --date YYYY-MM-DD [--select MART]       marts rebuilt as the data stood then (asof_*)
vawg fetch-policeuk --force lancashire [--month YYYY-MM]   a month from the data.police.uk API
vawg bench [--rows N] [--only NAME]   speed and memory figures -> docs/benchmarks.md
vawg scorecard [--out DIR] [--png]    the Police and Crime Panel's measures scorecard (HTML, PDF)
vawg status                     the last run per source, row counts, failures, dbt, freshness
vawg status --national [FORCE ...]   the same for each force of the national run, its own warehouse
vawg docs [--out DIR]           dbt docs as one static page (for the Airflow UI)
vawg metabase                   create or update the Metabase questions and dashboard (its API)
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from datetime import date
from pathlib import Path

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.console import Step, say

# --------------------------------------------------------------------------------------------
# warehouse
# --------------------------------------------------------------------------------------------


def cmd_warehouse(args: argparse.Namespace) -> int:
    from vawg_warehouse.warehouse import EmbeddedServer, connection_info, ensure_warehouse

    settings = get_settings()
    if args.action == "url":
        print(connection_info(settings).url)
        return 0
    if not settings.uses_embedded_warehouse:
        if args.action in ("up", "status"):
            ensure_warehouse(settings)
            say(f"external warehouse reachable: {connection_info(settings).redacted()}")
            return 0
        say("VAWG_WAREHOUSE_URL points at an external server: nothing to stop")
        return 0
    server = EmbeddedServer(settings)
    if args.action == "up":
        info = server.up()
        say(f"embedded warehouse up: {info.redacted()} (data in {server.data_dir})")
    elif args.action == "down":
        say("stopped" if server.down() else "was not running")
    else:
        say("running" if server.is_running() else "stopped")
        return 0 if server.is_running() else 3
    return 0


def cmd_check_secrets(_: argparse.Namespace) -> int:
    from vawg_warehouse.secrets_check import PlaceholderSecret, refuse_placeholders

    try:
        refuse_placeholders()
    except PlaceholderSecret as exc:
        say(f"error: {exc}")
        return 1
    say("no placeholder secret in the environment")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from vawg_warehouse.orchestration import prepare_warehouse

    if cmd_check_secrets(args):
        return 1
    applied = prepare_warehouse()
    say(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    return 0


# --------------------------------------------------------------------------------------------
# development tools: sample data, the demo, the benchmarks (vawg_devtools)
# --------------------------------------------------------------------------------------------


def _devtools(module: str):
    """A module of vawg_devtools (the sample generator, the benchmarks, the demo): development
    tools, installed by ``python3 dev.py setup`` (uv's dev group), not with the warehouse."""
    import importlib

    try:
        return importlib.import_module(f"vawg_devtools.{module}")
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "vawg_devtools":
            raise  # something the dev tools import is missing: not the same message
        raise DevToolsMissing(
            "this command needs the development tools (package vawg-devtools, in devtools/ of "
            "the repository); install them with `python3 dev.py setup` (or `uv sync`)"
        ) from None


class DevToolsMissing(RuntimeError):
    """A development command was run where vawg-devtools is not installed."""


def cmd_sample(args: argparse.Namespace) -> int:
    demo = _devtools("demo")
    landing = Path(args.landing_dir).resolve() if args.landing_dir else None
    demo.write_sample(
        args.start, args.end, rows=args.rows, seed=args.seed, landing_dir=landing, force=args.force
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    demo = _devtools("demo")
    return demo.run_demo(args.start, args.end, rows=args.rows, seed=args.seed, force=args.force)


# --------------------------------------------------------------------------------------------
# dbt and Airflow
# --------------------------------------------------------------------------------------------


def dbt_parse(settings: Settings) -> None:
    from vawg_warehouse.dbt_run import runner

    runner.run("parse", [], settings, flags=["--quiet"], check=True)


def cmd_dbt_parse(_: argparse.Namespace) -> int:
    settings = get_settings()
    with Step("dbt parse (checks the project; writes dbt_project/target/manifest.json)"):
        dbt_parse(settings)
    return 0


def cmd_airflow_ui(args: argparse.Namespace) -> int:
    """Airflow's UI on what `vawg run` recorded (vawg_warehouse.local_ui)."""
    from vawg_warehouse import local_ui
    from vawg_warehouse.local_airflow import prepare_airflow

    settings = get_settings()
    return local_ui.serve(prepare_airflow(settings), settings, args.host, args.port, say=say)


def cmd_airflow_stack(args: argparse.Namespace) -> int:
    """Airflow as production runs it: api-server, scheduler, dag-processor, triggerer, and with
    the CeleryExecutor Redis and the workers (vawg_warehouse.airflow_stack)."""
    from vawg_warehouse import airflow_stack

    settings = get_settings()
    if args.airflow_command == "up":
        if args.port:
            os.environ[airflow_stack.PORT_ENV] = str(args.port)
        return airflow_stack.up(settings, say=say)
    if args.airflow_command == "down":
        stopped = airflow_stack.stop(settings)
        say(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        return 0
    found = airflow_stack.components(settings)
    for component in found:
        state = f"running (pid {component.pid})" if component.running else "stopped"
        say(f"{component.name:<14} {state}  log: {component.log}")
    return 0 if all(c.running for c in found) else 3


def cmd_run(args: argparse.Namespace) -> int:
    from vawg_warehouse.local_airflow import run_dag

    return run_dag(args.date, rebuild=args.rebuild)


def cmd_transform(args: argparse.Namespace) -> int:
    """dbt groups without Airflow, as the DAG's transform tasks run them."""
    from vawg_warehouse.dbt_run import transform
    from vawg_warehouse.run_context import RunContext

    settings = get_settings()
    groups = tuple(args.group) if args.group else transform.GROUPS
    ctx = RunContext(dag_id=None, dag_run_id=f"manual:{os.environ.get('USER', 'operator')}")
    try:
        for group in groups:
            with Step(f"dbt group {group}"):
                outcome = transform.run_group(
                    group, ctx, settings, rebuild=args.rebuild, unit_tests=args.unit_tests
                )
            say(outcome.summary())
    except transform.TransformError as exc:
        say(f"error: {exc}")
        return 1
    return 0


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild run pages and the index from the audit schema; reads the warehouse only."""
    from vawg_warehouse.outputs import reports
    from vawg_warehouse.warehouse import connect

    settings = get_settings()
    out = Path(args.out).resolve() if args.out else settings.reports_dir
    with connect(settings) as conn:
        if args.run is None:
            written = reports.report_all(conn, out)
            say(f"{len(written) - 1} run report(s) and the index in {out}")
            return 0
        if args.run not in reports.runs(conn):
            say(f"error: no run {args.run!r} in audit.pipeline_run or audit.run_report")
            return 2
        facts, path = reports.report_run(conn, args.run, out, keep=False)
    say(f"{facts.status}: {path} (index: {out / 'index.html'})")
    return 0


def cmd_scorecard(args: argparse.Namespace) -> int:
    """Rebuild the scorecard from the warehouse (read-only)."""
    from vawg_warehouse import orchestration

    settings = get_settings()
    out = Path(args.out).resolve() if args.out else None
    result = orchestration.build_scorecard(None, settings, out_dir=out, png=args.png)
    for m in result["measures"]:
        value = "-" if m["value"] is None else f"{m['value']:,.4g}"
        say(f"  {m['measure']:<18} {m['period'] or '-':<10} {value:>10}  {m['status']}")
        if m["error"]:
            say(f"    not shown: {m['error']}")
    say(f"scorecard: {result['html']}")
    if result["pdf"]:
        say(f"PDF: {result['pdf']}")
    elif result["pdf_skipped"]:
        say(f"no PDF: {result['pdf_skipped']}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from vawg_warehouse import national, status
    from vawg_warehouse.warehouse import ensure_warehouse

    settings = get_settings()
    if args.national is None:
        print("\n".join(status.status_lines(settings)))
        return 0
    ensure_warehouse(settings)  # the server the forces' databases are on
    print("\n".join(national.status_lines(args.national, settings)))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from vawg_warehouse import orchestration

    out = Path(args.out).resolve() if args.out else None
    with Step("dbt docs generate --static"):
        page = orchestration.build_dbt_docs(get_settings(), out_dir=out)
    say(f"dbt docs: {page}")
    return 0


def cmd_metabase(args: argparse.Namespace) -> int:
    from vawg_warehouse.outputs import metabase

    if cmd_check_secrets(args):
        return 1
    try:
        setup = metabase.MetabaseSetup.from_environment()
        outcome = setup.run()
    except metabase.MetabaseError as exc:
        say(f"error: {exc}")
        return 2
    for line in outcome.lines():
        say(line)
    return 0


# --------------------------------------------------------------------------------------------
# lineage and reproducibility (lineage.py, asof.py)
# --------------------------------------------------------------------------------------------


def cmd_trace(args: argparse.Namespace) -> int:
    import json

    from vawg_warehouse.lineage import TraceError, format_trace, parse_where, trace
    from vawg_warehouse.warehouse import connect

    settings = get_settings()
    try:
        where = parse_where(args.where)
        with connect(settings) as conn:
            result = trace(conn, args.mart, where, settings.archive_dir, row_limit=args.limit)
    except TraceError as exc:
        say(f"error: {exc}")
        return 2
    if args.json:
        print(json.dumps(result.as_dict(), default=str, indent=2))
    else:
        print("\n".join(format_trace(result)))
    return 0 if result.matched_rows else 1


def cmd_asof(args: argparse.Namespace) -> int:
    from vawg_warehouse.dbt_run.asof import AsOfError, build_as_of, published_by

    moment = args.at or args.date
    if moment is None:
        say("error: give --date YYYY-MM-DD or --at TIMESTAMP")
        return 2
    settings = get_settings()
    try:
        with Step(f"dbt build as of {moment} ({published_by(moment)})"):
            build = build_as_of(moment, args.select, settings, run_tests=not args.skip_tests)
    except AsOfError as exc:
        say(f"error: {exc}")
        return 2
    if build.returncode:
        print(build.output[-4000:])
        say(f"the as-of build failed (exit {build.returncode}); logs in {build.target_dir.parent}")
        return build.returncode
    say(f"built {build.selector} into schemas {build.schema_prefix}*: {build.marts_schema}")
    say("the live schemas were not touched; drop the asof_* schemas when done")
    return 0


# --------------------------------------------------------------------------------------------
# public open data
# --------------------------------------------------------------------------------------------


def cmd_fetch_policeuk(args: argparse.Namespace) -> int:
    from vawg_warehouse.ingest.policeuk_api import PoliceUkApi, fetch_month, latest_month

    settings = get_settings()
    api = PoliceUkApi.from_environment()
    month = args.month or latest_month(api)
    with Step(f"data.police.uk API: {args.force} {month} into {settings.landing_dir}"):
        result = fetch_month(args.force, month, settings.landing_dir, api, refetch=args.refetch)
    if result.skipped_reason:
        say(f"{args.force} {month}: skipped ({result.skipped_reason}; --refetch to fetch anyway)")
    else:
        say(f"{result.street_rows:,} crimes -> {result.street_path}")
        say(f"{result.outcome_rows:,} outcomes -> {result.outcomes_path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    runner = _devtools("bench.runner")
    settings = get_settings()
    out = None if args.no_write else Path(args.out or settings.project_root / "docs/benchmarks.md")
    command = "vawg bench" + (f" --rows {args.rows}" if args.rows != runner.FULL_ROWS else "")
    command += "".join(f" --only {name}" for name in args.only or [])
    runner.run(args.rows, args.only, out, command)
    return 0


def _force_id(text: str) -> str:
    from vawg_warehouse.ingest.policeuk_api import PoliceUkApiError, check_force_id

    try:
        return check_force_id(text)
    except PoliceUkApiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _month(text: str) -> str:
    if not re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month (YYYY-MM)")
    return text


# --------------------------------------------------------------------------------------------


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_quarantine(args: argparse.Namespace) -> int:
    from vawg_warehouse.ingest import quarantine_admin

    if args.action == "list":
        held = quarantine_admin.quarantined_batches()
        if not held:
            say("nothing is held in quarantine")
        for b in held:
            batch = "-" if b["batch_id"] is None else b["batch_id"]
            rows = (
                f"{b['rows_held']:>7,} of {b['rows_read']:>9,} rows held"
                if b["rows_held"] is not None and b["rows_read"] is not None
                else f"{'no rows loaded':>27}"
            )
            print(f"batch {batch:>6}  {b['status']:<14} {rows}  {b['file_name']}")
            for rule in b["rules"]:
                print(f"{'':>15}broke: {(rule or 'no reason recorded').splitlines()[0]}")
        return 0
    if args.batch is None or not args.reason:
        say("error: release needs a batch id and --reason")
        return 2
    try:
        released = quarantine_admin.release(args.batch, args.reason, args.by)
    except (ValueError, LookupError) as exc:
        say(f"error: {exc}")
        return 2
    say(f"batch {args.batch}: {released:,} row(s) released into the raw table")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vawg", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="manage the embedded warehouse (or check the external)")
    wh.add_argument("action", choices=["up", "down", "url", "status"])
    wh.set_defaults(func=cmd_warehouse)

    sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(func=cmd_migrate)
    sub.add_parser(
        "check-secrets", help="fail if a variable still holds the example's change-me value"
    ).set_defaults(func=cmd_check_secrets)
    sub.add_parser("dbt-parse", help="write the dbt manifest the DAG reads").set_defaults(
        func=cmd_dbt_parse
    )

    for name, func, helptext in (
        ("sample", cmd_sample, "write synthetic source files into the landing folder"),
        ("demo", cmd_demo, "sample data, embedded warehouse, a real DAG run, then a query"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--start", type=_iso_date, default=None, help="default: 2024-07-01")
        p.add_argument("--end", type=_iso_date, default=None, help="default: 2025-09-30")
        p.add_argument(
            "--rows",
            type=int,
            default=None,
            help="approximate number of crime rows (default: realistic volumes)",
        )
        p.add_argument("--seed", type=int, default=20240401)
        p.add_argument("--force", default=None, help="a force of seed forces (e.g. cumbria)")
        if name == "sample":
            p.add_argument("--landing-dir", default=None)
        p.set_defaults(func=func)

    quarantine = sub.add_parser("quarantine", help="list or release quarantined data")
    quarantine.add_argument("action", choices=["list", "release"])
    quarantine.add_argument("batch", type=int, nargs="?", help="load batch id (release)")
    quarantine.add_argument("--reason", help="why the held rows may be published (release)")
    quarantine.add_argument(
        "--by", default=os.environ.get("USER", "operator"), help="who releases (release)"
    )
    quarantine.set_defaults(func=cmd_quarantine)

    run = sub.add_parser("run", help="run vawg_nightly for a logical date through Airflow")
    run.add_argument("--date", type=_iso_date, required=True)
    run.add_argument("--rebuild", action="store_true", help="rebuild every dbt group")
    run.set_defaults(func=cmd_run)

    airflow = sub.add_parser("airflow", help="Airflow on the local runs' metadata")
    airflow_sub = airflow.add_subparsers(dest="airflow_command", required=True)
    ui = airflow_sub.add_parser("ui", help="start Airflow's UI on the local runs; print URL, login")
    ui.add_argument("--port", type=int, default=8080)
    ui.add_argument("--host", default="127.0.0.1")
    ui.set_defaults(func=cmd_airflow_ui)
    stack_up = airflow_sub.add_parser(
        "up",
        help="start api-server, scheduler, dag-processor, triggerer (LocalExecutor; with "
        "VAWG_AIRFLOW_EXECUTOR=CeleryExecutor also Redis and Celery workers)",
    )
    stack_up.add_argument("--port", type=int, default=None, help="api-server port (8080)")
    stack_up.set_defaults(func=cmd_airflow_stack)
    for action, text in (("down", "stop what `up` started"), ("status", "is each running")):
        airflow_sub.add_parser(action, help=text).set_defaults(func=cmd_airflow_stack)

    tr_ = sub.add_parser("transform", help="build (or test) the dbt groups without Airflow")
    tr_.add_argument(
        "--group", action="append", help="shared or a source family (repeatable; default: all)"
    )
    tr_.add_argument("--rebuild", action="store_true", help="build even if nothing changed")
    tr_.add_argument("--unit-tests", action="store_true", help="run dbt's unit tests too")
    tr_.set_defaults(func=cmd_transform)

    report = sub.add_parser("report", help="rebuild the auditor's run reports from the warehouse")
    report.add_argument("--run", default=None, help="one Airflow run id (default: every run)")
    report.add_argument("--out", default=None, help="folder (default: $VAWG_REPORTS_DIR)")
    report.set_defaults(func=cmd_report)
    tr = sub.add_parser("trace", help="the load batches, files and validations behind mart rows")
    tr.add_argument("mart", help="a measure mart, e.g. mart_reporting_monthly")
    tr.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep mart rows whose column equals the value (as text); repeatable",
    )
    tr.add_argument("--limit", type=int, default=20, help="mart rows to print (default 20)")
    tr.add_argument("--json", action="store_true", help="print JSON instead of text")
    tr.set_defaults(func=cmd_trace)

    asof = sub.add_parser("asof", help="rebuild marts as the data stood at a past date")
    asof.add_argument("--date", type=_iso_date, help="everything published by the end of this day")
    asof.add_argument("--at", help="or an ISO timestamp (UTC unless it has an offset)")
    asof.add_argument(
        "--select", action="append", help="a mart to rebuild (repeatable; default: every measure)"
    )
    asof.add_argument("--skip-tests", action="store_true", help="build without dbt's tests")
    asof.set_defaults(func=cmd_asof)
    bench = sub.add_parser("bench", help="speed and memory figures, each beside its floor")
    bench.add_argument("--rows", type=int, default=1_000_000, help="crime rows (size)")
    bench.add_argument("--only", action="append", help="one benchmark (repeatable)")
    bench.add_argument("--out", help="the page to write (default docs/benchmarks.md)")
    bench.add_argument("--no-write", action="store_true", help="print only")
    bench.set_defaults(func=cmd_bench)
    card = sub.add_parser("scorecard", help="the measures scorecard (HTML and PDF) for the Panel")
    card.add_argument("--out", default=None, help="folder (default: $VAWG_REPORTS_DIR/scorecard)")
    card.add_argument("--png", action="store_true", help="also a PNG screenshot (Chromium)")
    card.set_defaults(func=cmd_scorecard)
    st = sub.add_parser(
        "status", help="the last run per source: files, rows, failures; dbt groups; freshness"
    )
    st.add_argument(
        "--national",
        nargs="*",
        metavar="FORCE",
        help="each force's status from its own warehouse in the national run (these forces, "
        "else VAWG_NATIONAL_FORCES or every force of seed forces)",
    )
    st.set_defaults(func=cmd_status)
    docs = sub.add_parser("docs", help="dbt docs as one static page")
    docs.add_argument("--out", default=None, help="folder (default: $VAWG_REPORTS_DIR/dbt_docs)")
    docs.set_defaults(func=cmd_docs)
    sub.add_parser(
        "metabase", help="create or update the measures' questions and dashboard in Metabase"
    ).set_defaults(func=cmd_metabase)
    fetch = sub.add_parser(
        "fetch-policeuk",
        help="write a month from the data.police.uk API as archive files in the landing folder",
    )
    fetch.add_argument(
        "--force", required=True, type=_force_id, help="data.police.uk force id, e.g. lancashire"
    )
    fetch.add_argument("--month", type=_month, default=None, help="YYYY-MM (default: latest)")
    fetch.add_argument("--refetch", action="store_true", help="even if the month is archived")
    fetch.set_defaults(func=cmd_fetch_policeuk)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear message, not a traceback, for expected failures
        from vawg_warehouse.forces import ForceError
        from vawg_warehouse.ingest.batches import LoadError
        from vawg_warehouse.ingest.policeuk_api import PoliceUkApiError
        from vawg_warehouse.ingest.privacy import PseudonymKeyError
        from vawg_warehouse.migrations import MigrationError
        from vawg_warehouse.warehouse import WarehouseError

        expected = (
            WarehouseError,
            PseudonymKeyError,
            LoadError,
            PoliceUkApiError,
            MigrationError,
            DevToolsMissing,
            ForceError,
        )
        if isinstance(exc, expected):
            say(f"error: {exc}")
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
