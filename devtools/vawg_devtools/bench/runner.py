"""``vawg bench``: run the benchmarks that fit the size asked for, print them, write the page.

Sizes (``--rows``, crime rows):
* under 100,000 (CI's smoke test, ``--rows 10000``): the loader on that many rows, validation of
  a small backlog of files, the DAG parse;
* 1,000,000 (the default) adds the nightly run on the demo's warehouse, and validates the
  issue's backlog of 450 files;
* 10,000,000 adds the whole pipeline at that size (load, validate, dbt: peak memory, and the
  dbt build of the marts beside a CREATE TABLE AS of the same aggregates).
``--only NAME`` runs one benchmark. Each writes its workspace under ``$VAWG_HOME/bench``.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vawg_devtools.bench import Figure

SMOKE_ROWS = 100_000
FULL_ROWS = 1_000_000
BIG_ROWS = 10_000_000


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    min_rows: int  # the smallest --rows at which it runs
    size: str  # what its size argument is, from --rows

    def size_for(self, rows: int) -> int:
        if self.size == "files":
            return 450 if rows >= FULL_ROWS else 20
        if self.size == "repeats":
            return 5
        if self.size == "crimes a force":  # the national run: crimes a month of each force
            return 3_000 if rows >= FULL_ROWS else 300
        return rows


BENCHES = (
    Bench("loader", "vawg_devtools.bench.loader", 0, "rows"),
    Bench("validation", "vawg_devtools.bench.validation", 0, "files"),
    Bench("dag_parse", "vawg_devtools.bench.dag_parse", 0, "repeats"),
    Bench("nightly", "vawg_devtools.bench.nightly", FULL_ROWS, "rows"),
    Bench("national", "vawg_devtools.bench.national", FULL_ROWS, "crimes a force"),
    Bench("pipeline", "vawg_devtools.bench.pipeline", BIG_ROWS, "rows"),
)


def selected(rows: int, only: list[str] | None) -> list[Bench]:
    if only:
        unknown = set(only) - {b.name for b in BENCHES}
        if unknown:
            raise ValueError(f"unknown benchmark(s) {sorted(unknown)}: {[b.name for b in BENCHES]}")
        return [b for b in BENCHES if b.name in only]
    return [b for b in BENCHES if rows >= b.min_rows]


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit in ("x", "ratio"):
        return f"{value:.2f}x"
    return f"{value:,.2f} s" if value < 100 else f"{value:,.0f} s"


def ratio_text(figure: Figure) -> str:
    if figure.ratio is None:
        return ""
    return f"{figure.ratio:.2f}x"


def verdict(figure: Figure) -> str:
    return {True: "met", False: "NOT met", None: ""}[figure.met]


def print_figure(figure: Figure) -> None:
    parts = [f"{figure.name}: {fmt(figure.value, figure.unit)}"]
    if figure.floor is not None:
        parts.append(f"floor {fmt(figure.floor, figure.unit)} ({figure.floor_name})")
        parts.append(f"ratio {ratio_text(figure)}")
    parts.append(f"target {figure.target} {verdict(figure)}".rstrip())
    print("[bench] " + " | ".join(parts), flush=True)
    if figure.note:
        print(f"[bench]     {figure.note}", flush=True)


def machine() -> dict[str, str]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB"
    from vawg_warehouse.warehouse import connect, connection_info

    try:
        with connect() as conn:
            server = conn.execute("show server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - a page without the server version is still useful
        server = f"unknown ({type(exc).__name__})"
    info = connection_info()
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "postgresql": f"{server} at {info.host}:{info.port}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "git commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def page(figures: list[Figure], command: str, facts: dict[str, str], seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds:.0f} s.",
        "Every figure is from that run, beside a floor measured in the same run: the ratio is what",
        "carries to another machine. Nothing here is asserted by a test (CI runs the smallest size",
        "as a smoke test).",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in facts.items()],
        "",
        "| what | figure | floor (same run) | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        floor = f"{fmt(f.floor, f.unit)}: {f.floor_name}" if f.floor is not None else ""
        lines.append(
            f"| {f.name} | {fmt(f.value, f.unit)} | {floor} | {ratio_text(f)} | {f.target} "
            f"| {verdict(f)} |"
        )
    notes = [f for f in figures if f.note]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- **{f.name}**: {f.note}" for f in notes]
    return "\n".join(lines) + "\n"


KEPT_MARKER = "<!-- vawg bench keeps what follows: figures timed by other commands -->"


def _kept_section(out: Path) -> str:
    """What the page holds below KEPT_MARKER (the demo and the suite, timed from a fresh clone;
    a pipeline run at another size), carried over when the page is written again."""
    if not out.exists():
        return ""
    text = out.read_text()
    at = text.find(KEPT_MARKER)
    return "" if at < 0 else "\n" + text[at:]


def run(
    rows: int,
    only: list[str] | None = None,
    out: Path | None = None,
    command: str = "vawg bench",
) -> list[Figure]:
    from vawg_warehouse.config import get_settings

    settings = get_settings()
    workspace = settings.home / "bench"
    facts = machine()
    started = time.perf_counter()
    figures: list[Figure] = []
    for bench in selected(rows, only):
        print(f"[bench] {bench.name} ({bench.size} {bench.size_for(rows):,}) ...", flush=True)
        folder = workspace / bench.name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        module = importlib.import_module(bench.module)
        found = module.measure(bench.size_for(rows), folder)
        for figure in found:
            print_figure(figure)
        figures += found
    took = time.perf_counter() - started
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        kept = _kept_section(out)
        out.write_text(page(figures, command, facts, took) + kept)
        print(f"[bench] written to {out}", flush=True)
    return figures
