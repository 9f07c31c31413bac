"""dbt docs as one static page (``dbt docs generate --static``), for the Airflow UI and auditors.

The page embeds the manifest (every model, column, test, source and exposure with its
description) and the catalog (the relations as they stand in the warehouse, column types, no
row counts or values). It is generated in process on the manifest the run has already parsed
(no second parse, no compile of ~1,400 nodes) and written owner-only like the run reports.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from vawg_warehouse.config import Settings, get_settings
from vawg_warehouse.private_files import write_private

log = logging.getLogger(__name__)


class DocsError(RuntimeError):
    """dbt could not generate its docs."""


def docs_dir(reports_dir: Path) -> Path:
    return reports_dir / "dbt_docs"


def generate(settings: Settings | None = None, out_dir: Path | None = None) -> Path:
    from vawg_warehouse.dbt_run import runner, transform

    settings = settings or get_settings()
    out_dir = out_dir or docs_dir(settings.reports_dir)
    manifest = transform.parsed_manifest(settings)
    with tempfile.TemporaryDirectory(prefix="vawg-dbt-docs-") as tmp:
        target = Path(tmp) / "target"
        target.mkdir()
        manifest.write(str(target / "manifest.json"))
        result = runner.invoke(
            "docs generate",
            ["--no-compile", "--static", "--log-level-file", "none"],
            settings,
            manifest=manifest,
            target_path=target,
            log_path=Path(tmp) / "logs",
        )
        page = target / "static_index.html"
        if not result.success or not page.exists():
            raise DocsError(f"dbt docs generate failed: {result.exception or 'see the log'}")
        written = write_private(out_dir / "index.html", page.read_bytes())
    return written
